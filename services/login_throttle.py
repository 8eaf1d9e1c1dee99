"""Throttling of failed attempts: password checks per account, per device and per address; Kundencodes per device
and per address. README.md ("Drosselung") explains the numbers.

- Per account (the typed e-mail, so unknown addresses lock exactly like real ones): after `login_max_failures`
  failures within a day the address is locked, for a time that doubles with every further lock (at most an hour).
- Per device (a browser's NiceGUI id, a kiosk's device cookie): a handful of failures within `device_window`.
  One person's typos end here, on their own device, and never reach the address limit.
- Per address (the socket peer, or the client a configured proxy names): limits high enough for a whole office
  behind one NAT, low enough that one machine can neither spray passwords over many accounts nor walk the
  2^75 Kundencode space. Dropping cookies only gets an attacker a new device, never a new address.

A key that is empty (no device id, no address) is not counted. Rows whose window and lock are long over are deleted
by `delete_expired` (a periodic task started with the app) and opportunistically when they are looked up.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

from tortoise import timezone
from tortoise.expressions import F, Q

from models import LoginThrottle
from services import clock
from services.settings import get_settings

EMAIL = 'email'
DEVICE = 'device'
CLIENT = 'client'
CODE_DEVICE = 'code_dev'
CODE_CLIENT = 'code'

# A row is deleted once its window and its lock have been over this long; longer than every window, so that no
# running count or growing lock is forgotten early.
RETENTION = timedelta(days=2)
CLEANUP_BATCH = 5000
CLEANUP_INTERVAL_SECONDS = 600.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    failures: int
    window: timedelta
    growing_lock: bool = False  # per account: locks double; elsewhere the lock lasts until the window ends


def limit(scope: str) -> Limit:
    settings = get_settings()
    return {
        EMAIL: Limit(settings.login_max_failures, timedelta(days=1), growing_lock=True),
        DEVICE: Limit(settings.device_max_failures, settings.device_window),
        CLIENT: Limit(settings.client_max_failures, settings.client_window),
        CODE_DEVICE: Limit(settings.code_max_failures, settings.device_window),
        CODE_CLIENT: Limit(settings.code_client_max_failures, settings.client_window),
    }[scope]


def minutes_until(until: datetime) -> int:
    """Whole minutes left of a lock, at least 1, for the waiting message."""
    return max(1, ceil((until - clock.now()).total_seconds() / 60))


def _expired(now: datetime) -> Q:
    # In the time zone the rows are stored in: SQLite compares the stored text, not instants.
    old = timezone.localtime(now - RETENTION)
    return Q(window_start__lt=old) & (Q(locked_until__isnull=True) | Q(locked_until__lt=old))


async def locked_until(scope: str, key: str) -> datetime | None:
    if not key:
        return None
    row = await LoginThrottle.get_or_none(scope=scope, key=key)
    now = clock.now()
    if row is None:
        return None
    if row.locked_until is None or row.locked_until <= now:
        if max(row.window_start, row.locked_until or row.window_start) < now - RETENTION:
            await row.delete()  # opportunistic: it was read anyway
        return None
    return row.locked_until


async def first_lock(keys: dict[str, str]) -> tuple[str, datetime] | None:
    """The first of these scopes (scope → key) that is locked now, with the lock's end."""
    for scope, key in keys.items():
        if until := await locked_until(scope, key):
            return scope, until
    return None


async def register_failure(scope: str, key: str) -> datetime | None:
    """Count one failure; returns the new lock's end when this failure caused a lock."""
    if not key:
        return None
    rule = limit(scope)
    settings = get_settings()
    now = clock.now()
    row, _ = await LoginThrottle.get_or_create(scope=scope, key=key, defaults={'window_start': now})
    if now - row.window_start >= rule.window:
        row.failures, row.window_start = 0, now
        await row.save(update_fields=['failures', 'window_start'])
    await LoginThrottle.filter(id=row.id).update(failures=F('failures') + 1)
    await row.refresh_from_db()
    if row.failures < rule.failures:
        return None
    if rule.growing_lock:
        duration = min(settings.login_base_lock * 2**row.lock_count, settings.login_max_lock)
        row.locked_until, row.lock_count, row.failures = now + duration, row.lock_count + 1, 0
        await row.save(update_fields=['locked_until', 'lock_count', 'failures'])
    else:
        row.locked_until = row.window_start + rule.window
        await row.save(update_fields=['locked_until'])
    return row.locked_until


async def register_failures(keys: dict[str, str]) -> dict[str, datetime]:
    """Count one failure in each scope; the scopes this failure locked, with the locks' ends."""
    locks = {}
    for scope, key in keys.items():
        if until := await register_failure(scope, key):
            locks[scope] = until
    return locks


async def reset(scope: str, key: str) -> None:
    await LoginThrottle.filter(scope=scope, key=key).delete()


async def delete_expired(batch: int = CLEANUP_BATCH) -> int:
    """Delete at most `batch` rows whose window and lock ended more than RETENTION ago; returns how many.

    Bounded, so one run never holds the (single SQLite) connection for long however many rows piled up.
    """
    ids = await LoginThrottle.filter(_expired(clock.now())).order_by('id').limit(batch).values_list('id', flat=True)
    if not ids:
        return 0
    return await LoginThrottle.filter(id__in=list(ids)).delete()


async def cleanup_forever(interval_seconds: float = CLEANUP_INTERVAL_SECONDS) -> None:
    """The periodic task started with the app: one bounded batch per interval; a failure is logged, not fatal."""
    while True:
        try:
            if deleted := await delete_expired():
                log.info('Drosselung: %d abgelaufene Einträge gelöscht', deleted)
        except Exception:  # a database hiccup must not end the task
            log.exception('Drosselung: Aufräumen fehlgeschlagen')
        await asyncio.sleep(interval_seconds)
