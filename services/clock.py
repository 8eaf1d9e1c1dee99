"""The portal's notion of 'now' and 'today' (Europe/Berlin), in one place so tests can move time."""

import time
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo('Europe/Berlin')


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return now().astimezone(BERLIN).date()


def monotonic() -> float:
    """Seconds of a steady clock for timeouts (the kiosk's idle reset): tests move it instead of waiting."""
    return time.monotonic()
