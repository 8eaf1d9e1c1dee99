"""The portal's notion of 'now' and 'today' (Europe/Berlin), and a steady clock for idle times, in one place so tests
can move time instead of waiting for it."""

import time
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo('Europe/Berlin')


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return now().astimezone(BERLIN).date()


def monotonic() -> float:
    """Seconds of a clock that never jumps (for idle times and countdowns, not for dates)."""
    return time.monotonic()
