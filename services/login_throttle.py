"""Throttling of failed attempts: logins per typed e-mail address and per client, Kundencode entries per client.

After `login_max_failures` failures an e-mail address is locked, for a time that doubles with every further lock.
A client (IP address) that fails `client_max_failures` logins within `client_window` is refused until the window
ends, so one machine cannot walk through thousands of addresses; the same holds for wrong Kundencodes
(`code_max_failures`), so the code space cannot be walked either.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from math import ceil

from tortoise.expressions import F

from models import LoginThrottle
from services import clock
from services.settings import get_settings

EMAIL = 'email'
CLIENT = 'client'
CODE_CLIENT = 'code'


def _window(scope: str) -> tuple[int, timedelta] | None:
    """(allowed failures, window) for the per-client scopes; None for the growing per-address lock."""
    settings = get_settings()
    if scope == CLIENT:
        return settings.client_max_failures, settings.client_window
    if scope == CODE_CLIENT:
        return settings.code_max_failures, settings.client_window
    return None


def minutes_until(until: datetime) -> int:
    """Whole minutes left of a lock, at least 1, for the waiting message."""
    return max(1, ceil((until - clock.now()).total_seconds() / 60))


async def locked_until(scope: str, key: str) -> datetime | None:
    row = await LoginThrottle.get_or_none(scope=scope, key=key)
    now = clock.now()
    if row is None or row.locked_until is None or row.locked_until <= now:
        return None
    return row.locked_until


async def register_failure(scope: str, key: str) -> datetime | None:
    """Count one failure; returns the new lock's end when this failure caused a lock."""
    settings = get_settings()
    now = clock.now()
    row, _ = await LoginThrottle.get_or_create(scope=scope, key=key, defaults={'window_start': now})
    window = _window(scope)
    if window and now - row.window_start >= window[1]:
        row.failures, row.window_start = 0, now
        await row.save(update_fields=['failures', 'window_start'])
    await LoginThrottle.filter(id=row.id).update(failures=F('failures') + 1)
    await row.refresh_from_db()
    if scope == EMAIL and row.failures >= settings.login_max_failures:
        duration = min(settings.login_base_lock * 2**row.lock_count, settings.login_max_lock)
        row.locked_until, row.lock_count, row.failures = now + duration, row.lock_count + 1, 0
        await row.save(update_fields=['locked_until', 'lock_count', 'failures'])
        return row.locked_until
    if window and row.failures >= window[0]:
        row.locked_until = row.window_start + window[1]
        await row.save(update_fields=['locked_until'])
        return row.locked_until
    return None


async def reset(scope: str, key: str) -> None:
    await LoginThrottle.filter(scope=scope, key=key).delete()
