"""Throttles that fit real offices, on SQLite and PostgreSQL: locks per account and per device, per-address limits
a whole office behind one NAT does not reach by typos, every password check throttled and audited ("Passwort
ändern" included), and old throttle rows deleted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models import AuditEvent, Customer, LoginThrottle, PortalUser, Role
from services import anwender, auth, login_throttle
from services.audit import AuditKind
from services.errors import ValidationError
from services.login_throttle import CLIENT, CODE_CLIENT, DEVICE, EMAIL
from services.settings import get_settings
from tests.conftest import PASSWORD, flat, make_user
from tests.support import MovableClock, wait_until

START = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
OFFICE = '203.0.113.7'  # one NAT address for everybody in the office
NEW_PASSWORD = 'Drahtesel-Werkstatt-2026'


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> MovableClock:
    return MovableClock(monkeypatch, START)


async def colleagues(company: Customer, count: int) -> list[PortalUser]:
    return [await make_user(f'kollege{number}@fahrradmanufaktur-kassel.de', Role.CLERK, company)
            for number in range(count)]


# --- one office behind one NAT ---------------------------------------------------------------------------------------


async def test_typos_behind_one_nat_do_not_lock_colleagues_out(admin: PortalUser, company: Customer) -> None:
    """Finding: after 20 failures from the office address, a colleague's right password was refused."""
    typists = await colleagues(company, 4)
    for typist in typists:  # each mistypes until their own account locks
        for _ in range(get_settings().login_max_failures):
            await auth.login(typist.email, 'falsch-falsch-falsch', client=OFFICE)
    assert (await auth.login(typists[0].email, PASSWORD, client=OFFICE)).token is None  # their own lock holds
    assert (await auth.login(admin.email, PASSWORD, client=OFFICE)).token  # the colleague gets in


async def test_a_device_is_locked_after_its_limit_and_only_that_device(admin: PortalUser) -> None:
    limit = get_settings().device_max_failures
    assert limit == 10
    for number in range(limit):  # one browser trying many addresses
        await auth.login(f'person{number}@example.de', 'falsch-falsch-falsch', client=OFFICE, device='browser:a')
    refused = await auth.login(admin.email, PASSWORD, client=OFFICE, device='browser:a')
    assert refused.token is None
    assert 'Zu viele fehlgeschlagene Anmeldeversuche' in (refused.error or '')
    blocked = await AuditEvent.filter(kind=AuditKind.LOGIN_BLOCKED).get()
    assert blocked.details == {'purpose': 'login', 'scope': DEVICE}
    assert (await auth.login(admin.email, PASSWORD, client=OFFICE, device='browser:b')).token


async def test_the_address_limit_stops_a_machine_that_drops_its_cookies(
    admin: PortalUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.settings import reset_settings

    monkeypatch.setenv('CLIENT_MAX_FAILURES', '25')  # the default (200) works alike, only slower
    reset_settings()
    for number in range(25):  # a new device id every time
        await auth.login(f'person{number}@example.de', 'falsch-falsch-falsch', client=OFFICE,
                         device=f'browser:{number}')
    assert (await auth.login(admin.email, PASSWORD, client=OFFICE, device='browser:new')).token is None
    assert (await auth.login(admin.email, PASSWORD, client='198.51.100.1', device='browser:new')).token


async def test_ones_own_right_password_does_not_reset_device_or_address(admin: PortalUser) -> None:
    """Else an attacker could interleave logins to their own account with guesses."""
    for number in range(get_settings().device_max_failures - 1):
        await auth.login(f'person{number}@example.de', 'falsch-falsch-falsch', device='browser:a')
        assert (await auth.login(admin.email, PASSWORD, device='browser:a')).token
    await auth.login('noch.jemand@example.de', 'falsch-falsch-falsch', device='browser:a')
    assert (await auth.login(admin.email, PASSWORD, device='browser:a')).token is None


async def test_empty_keys_are_not_counted(db: str) -> None:
    assert await login_throttle.register_failures({DEVICE: '', CLIENT: ''}) == {}
    assert not await LoginThrottle.all().exists()


# --- Passwort ändern -------------------------------------------------------------------------------------------------


async def change(user: PortalUser, current: str, *, device: str = 'browser:a') -> dict[str, str]:
    try:
        await anwender.change_password(user, current=current, new=NEW_PASSWORD, confirmation=NEW_PASSWORD,
                                    client=OFFICE, device=device)
    except ValidationError as error:
        return error.errors
    return {}


async def test_wrong_current_passwords_are_throttled_and_audited(admin: PortalUser) -> None:
    """Finding: "Passwort ändern" let a session guess the current password without limit or trace."""
    for _ in range(get_settings().login_max_failures - 1):
        assert await change(admin, 'falsch-falsch-falsch') == {'current': 'Das aktuelle Passwort ist nicht richtig.'}
    locked = await change(admin, 'falsch-falsch-falsch')
    assert locked['current'].startswith('Zu viele fehlgeschlagene Versuche. Bitte versuchen Sie es in')
    assert await change(admin, PASSWORD) == locked  # even the right one, while locked
    failed = await AuditEvent.filter(kind=AuditKind.LOGIN_FAILED).order_by('id').first()
    assert failed is not None
    assert (failed.actor_id, failed.client, failed.details) == (
        admin.id, OFFICE, {'purpose': 'password_change'})
    assert await AuditEvent.filter(kind=AuditKind.LOGIN_LOCKED, actor_id=admin.id).exists()
    assert await AuditEvent.filter(kind=AuditKind.LOGIN_BLOCKED, actor_id=admin.id).exists()
    assert not await AuditEvent.filter(kind=AuditKind.PASSWORD_CHANGED).exists()
    # The lock is the account's: the login is locked as well.
    assert (await auth.login(admin.email, PASSWORD, client='198.51.100.1')).token is None


async def test_the_right_current_password_changes_it(admin: PortalUser) -> None:
    assert await change(admin, 'falsch-falsch-falsch') == {'current': 'Das aktuelle Passwort ist nicht richtig.'}
    assert await change(admin, PASSWORD) == {}
    assert not await LoginThrottle.filter(scope=EMAIL).exists()  # the account's count starts afresh
    assert (await auth.login(admin.email, NEW_PASSWORD)).token


# --- old rows are deleted --------------------------------------------------------------------------------------------


async def test_expired_rows_are_deleted_and_live_ones_kept(db: str, clock: MovableClock) -> None:
    """Finding: throttle rows were never deleted."""
    await login_throttle.register_failure(CODE_CLIENT, 'old')
    await login_throttle.register_failure(EMAIL, 'old@example.de')
    for _ in range(get_settings().login_max_failures):
        await login_throttle.register_failure(EMAIL, 'locked@example.de')
    clock.advance(login_throttle.RETENTION + timedelta(minutes=1))
    await login_throttle.register_failure(CODE_CLIENT, 'recent')
    # A lock that ended less than RETENTION ago keeps its row (the next lock doubles from it).
    await LoginThrottle.filter(key='locked@example.de').update(locked_until=clock.current - timedelta(hours=1))

    assert await login_throttle.delete_expired() == 2
    assert sorted(await flat(LoginThrottle.all().values_list('key', flat=True))) == ['locked@example.de', 'recent']
    assert await login_throttle.delete_expired() == 0


async def test_a_run_deletes_at_most_one_batch(db: str, clock: MovableClock) -> None:
    for number in range(7):
        await login_throttle.register_failure(CODE_CLIENT, f'198.51.100.{number}')
    clock.advance(login_throttle.RETENTION + timedelta(seconds=1))
    assert await login_throttle.delete_expired(batch=5) == 5
    assert await LoginThrottle.all().count() == 2
    assert await login_throttle.delete_expired(batch=5) == 2


async def test_an_expired_row_is_deleted_when_it_is_looked_up(db: str, clock: MovableClock) -> None:
    await login_throttle.register_failure(DEVICE, 'browser:a')
    clock.advance(timedelta(hours=1))
    assert await login_throttle.locked_until(DEVICE, 'browser:a') is None
    assert await LoginThrottle.all().exists()  # still within RETENTION: kept
    clock.advance(login_throttle.RETENTION)
    assert await login_throttle.locked_until(DEVICE, 'browser:a') is None
    assert not await LoginThrottle.all().exists()


async def test_the_periodic_task_deletes_and_survives_errors(
    db: str, clock: MovableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    await login_throttle.register_failure(CODE_CLIENT, 'old')
    clock.advance(login_throttle.RETENTION + timedelta(seconds=1))
    runs = 0
    real = login_throttle.delete_expired

    async def flaky(batch: int = login_throttle.CLEANUP_BATCH) -> int:
        nonlocal runs
        runs += 1
        if runs == 1:
            raise ConnectionError('Datenbank kurz weg')
        return await real(batch)

    monkeypatch.setattr(login_throttle, 'delete_expired', flaky)
    task = asyncio.create_task(login_throttle.cleanup_forever(interval_seconds=0))
    try:
        await wait_until(lambda: runs >= 3, 'two cleanups after the failed one', seconds=10)
    finally:
        task.cancel()
    assert runs >= 3
    assert not await LoginThrottle.all().exists()
