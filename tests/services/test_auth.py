"""Login: generic failures, throttling per e-mail and per client, inactive users, audit, re-hashing."""

from datetime import timedelta

import pytest

from models import AuditEvent, LoginThrottle, PortalUser
from services import auth, clock, passwords
from services.audit import AuditKind
from tests.conftest import PASSWORD


async def kinds() -> list[str]:
    return [event.kind for event in await AuditEvent.all().order_by('id')]


async def test_login_succeeds_with_any_case_of_the_email(admin: PortalUser) -> None:
    result = await auth.login('  Admin@Fahrradmanufaktur-Kassel.DE ', PASSWORD, client='10.0.0.1')
    assert result.error is None
    assert result.user is not None and result.user.id == admin.id
    assert result.token
    assert AuditKind.LOGIN in await kinds()
    await admin.refresh_from_db()
    assert admin.last_login_at is not None


async def test_every_login_gets_a_new_token(admin: PortalUser) -> None:
    first = await auth.login(admin.email, PASSWORD)
    second = await auth.login(admin.email, PASSWORD)
    assert first.token != second.token


@pytest.mark.parametrize('email', ['admin@fahrradmanufaktur-kassel.de', 'niemand@example.de'])
async def test_wrong_password_and_unknown_account_get_the_same_message(admin: PortalUser, email: str) -> None:
    result = await auth.login(email, 'falsches-Passwort-123')
    assert result.token is None
    assert result.error == auth.WRONG_CREDENTIALS
    assert (await kinds())[-1] == AuditKind.LOGIN_FAILED
    assert await AuditEvent.filter(kind=AuditKind.LOGIN_FAILED, actor_label=email).count() == 1


@pytest.mark.parametrize(('email', 'password'), [('', PASSWORD), ('admin@fahrradmanufaktur-kassel.de', ''), ('', '')])
async def test_empty_fields_are_refused(admin: PortalUser, email: str, password: str) -> None:
    result = await auth.login(email, password)
    assert result.error == auth.MISSING_CREDENTIALS


async def test_huge_input_is_just_a_failure(admin: PortalUser) -> None:
    result = await auth.login('a' * 10_000 + '@example.de', 'b' * 10_000)
    assert result.error == auth.WRONG_CREDENTIALS


@pytest.mark.parametrize('email', ['admin@fahrradmanufaktur-kassel.de', 'unbekannt@example.de'])
async def test_five_failures_lock_any_address_and_the_lock_grows(admin: PortalUser, email: str) -> None:
    for _ in range(4):
        assert (await auth.login(email, 'falsch-falsch-falsch')).error == auth.WRONG_CREDENTIALS
    locked = await auth.login(email, 'falsch-falsch-falsch')
    assert 'Zu viele fehlgeschlagene Anmeldeversuche' in (locked.error or '')
    assert AuditKind.LOGIN_LOCKED in await kinds()
    if email == admin.email:  # even the right password is refused while locked
        assert (await auth.login(email, PASSWORD)).token is None
    first_lock = (await LoginThrottle.get(scope='email', key=email)).locked_until

    await LoginThrottle.filter(scope='email', key=email).update(locked_until=clock.now() - timedelta(seconds=1))
    for _ in range(5):
        await auth.login(email, 'falsch-falsch-falsch')
    second = await LoginThrottle.get(scope='email', key=email)
    assert second.lock_count == 2
    assert second.locked_until is not None and first_lock is not None
    assert second.locked_until - clock.now() > (first_lock - clock.now()) * 1.5


async def test_successful_login_clears_the_counter(admin: PortalUser) -> None:
    for _ in range(4):
        await auth.login(admin.email, 'falsch-falsch-falsch')
    assert (await auth.login(admin.email, PASSWORD)).token
    assert not await LoginThrottle.filter(scope='email', key=admin.email).exists()


async def test_one_client_cannot_try_many_accounts(admin: PortalUser, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.settings import reset_settings

    monkeypatch.setenv('CLIENT_MAX_FAILURES', '30')  # the default (200) works alike, only slower
    reset_settings()
    for number in range(30):
        await auth.login(f'person{number}@example.de', 'falsch-falsch-falsch', client='203.0.113.9')
    blocked = await auth.login(admin.email, PASSWORD, client='203.0.113.9')
    assert blocked.token is None
    assert 'Zu viele' in (blocked.error or '')
    assert (await auth.login(admin.email, PASSWORD, client='198.51.100.1')).token


async def test_inactive_user_cannot_log_in(admin: PortalUser) -> None:
    await PortalUser.filter(id=admin.id).update(is_active=False)
    result = await auth.login(admin.email, PASSWORD)
    assert result.token is None
    assert result.error == auth.INACTIVE
    assert AuditKind.LOGIN_INACTIVE in await kinds()
    assert (await auth.login(admin.email, 'falsch-falsch-falsch')).error == auth.WRONG_CREDENTIALS


async def test_login_rehashes_when_parameters_changed(admin: PortalUser, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.settings import reset_settings

    old_hash = admin.password_hash
    monkeypatch.setenv('ARGON2_TIME_COST', '2')
    reset_settings()
    passwords.reset_hasher()
    assert (await auth.login(admin.email, PASSWORD)).token
    await admin.refresh_from_db()
    assert admin.password_hash != old_hash
    assert ',t=2,' in admin.password_hash
