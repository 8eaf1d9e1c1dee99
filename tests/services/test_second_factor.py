"""The second factor: set-up, codes accepted once, recovery codes, throttling, staff reset, and the login's steps."""

import time

import pyotp
import pytest

from models import AuditEvent, PortalUser, RecoveryCode, Role, Session
from services import auth, second_factor, sessions
from services.audit import AuditKind
from services.auth import SecondStep
from services.errors import PermissionDenied, ValidationError
from tests.conftest import PASSWORD, not_none


async def enrolled(user: PortalUser) -> tuple[str, list[str]]:
    secret = second_factor.new_secret()
    codes = await second_factor.enrol(user, secret, pyotp.TOTP(secret).now())
    return secret, codes


async def test_set_up_needs_a_right_first_code(admin: PortalUser) -> None:
    secret = second_factor.new_secret()
    with pytest.raises(ValidationError) as refused:
        await second_factor.enrol(admin, secret, '000000' if pyotp.TOTP(secret).now() != '000000' else '111111')
    assert 'nicht richtig' in refused.value.errors['code']
    assert not second_factor.is_enrolled(await PortalUser.get(id=admin.id))
    codes = await second_factor.enrol(admin, secret, pyotp.TOTP(secret).now())
    assert len(codes) == len(set(codes)) == 10
    assert second_factor.is_enrolled(await PortalUser.get(id=admin.id))
    stored = await RecoveryCode.filter(user_id=admin.id).values_list('code_hash', flat=True)
    assert len(stored) == 10 and not set(codes) & set(stored)  # digests only
    assert await AuditEvent.filter(kind=AuditKind.SECOND_FACTOR_ENROLLED).count() == 1


async def test_a_code_is_accepted_once(admin: PortalUser) -> None:
    secret, _ = await enrolled(admin)
    user = await PortalUser.get(id=admin.id)
    totp = pyotp.TOTP(secret)
    next_code = totp.at(time.time() + 30)  # the next step's code (one step of drift is allowed)
    assert await second_factor.verify(user, next_code)
    assert not await second_factor.verify(user, next_code)  # replayed
    assert not await second_factor.verify(user, totp.now())  # an older step after a newer one


async def test_recovery_codes_work_once_in_any_spelling(admin: PortalUser) -> None:
    _, codes = await enrolled(admin)
    user = await PortalUser.get(id=admin.id)
    assert await second_factor.verify(user, codes[0].lower().replace('-', ' '))
    assert not await second_factor.verify(user, codes[0])
    assert await second_factor.remaining_recovery_codes(user) == 9
    assert await AuditEvent.filter(kind=AuditKind.SECOND_FACTOR_RECOVERY_USED).count() == 1


async def test_wrong_codes_lock_the_second_step(admin: PortalUser) -> None:
    secret, _ = await enrolled(admin)
    user = await PortalUser.get(id=admin.id)
    wrong = '123456' if pyotp.TOTP(secret).now() != '123456' else '654321'
    for _ in range(5):
        assert not await second_factor.verify(user, wrong)
    assert await second_factor.locked_until(user) is not None
    result = await auth.complete_second_factor(user, pyotp.TOTP(secret).at(time.time() + 30))
    assert result.token is None and 'Zu viele' in (result.error or '')
    assert await AuditEvent.filter(kind=AuditKind.SECOND_FACTOR_FAILED).count() == 5


async def test_login_with_a_second_factor_starts_no_session_before_the_code(admin: PortalUser) -> None:
    secret, _ = await enrolled(admin)
    first = await auth.login(admin.email, PASSWORD)
    assert first.token is None and first.second_step is SecondStep.CODE
    assert await Session.filter(user_id=admin.id).count() == 0
    assert isinstance(first.user, PortalUser)
    wrong = await auth.complete_second_factor(first.user, '00000x')
    assert wrong.token is None and wrong.error == second_factor.CODE_WRONG
    assert not (await auth.complete_second_factor(first.user, pyotp.TOTP(secret).now())).token  # used by the set-up
    next_code = pyotp.TOTP(secret).at(time.time() + 30)
    done = await auth.complete_second_factor(first.user, next_code)
    assert done.token and not_none(await sessions.user_for_token(done.token)).id == admin.id
    assert await AuditEvent.filter(kind=AuditKind.LOGIN, actor_id=admin.id).count() == 1


async def test_staff_must_set_up_a_second_factor(staff: PortalUser) -> None:
    first = await auth.login(staff.email, PASSWORD)
    assert first.token is None and first.second_step is SecondStep.ENROL
    refused = await auth.start_after_enrolment(staff)
    assert refused.token is None
    await enrolled(staff)
    assert (await auth.start_after_enrolment(staff)).token


async def test_a_deactivation_between_the_steps_counts(admin: PortalUser) -> None:
    secret, _ = await enrolled(admin)
    first = await auth.login(admin.email, PASSWORD)
    await PortalUser.filter(id=admin.id).update(is_active=False)
    assert isinstance(first.user, PortalUser)
    result = await auth.complete_second_factor(first.user, pyotp.TOTP(secret).at(time.time() + 30))
    assert result.token is None and result.error == auth.INACTIVE


async def test_staff_reset_a_second_factor_and_end_the_sessions(admin: PortalUser, staff: PortalUser) -> None:
    await enrolled(admin)
    token = await sessions.start_session(admin)
    with pytest.raises(PermissionDenied):
        await second_factor.reset(await PortalUser.get(id=admin.id), admin.id)
    await second_factor.reset(staff, admin.id, client='10.0.0.9')
    user = await PortalUser.get(id=admin.id)
    assert not second_factor.is_enrolled(user)
    assert await RecoveryCode.filter(user_id=admin.id).count() == 0
    assert await sessions.user_for_token(token) is None
    event = await AuditEvent.get(kind=AuditKind.SECOND_FACTOR_RESET)
    assert event.actor_id == staff.id and event.client == '10.0.0.9'


async def test_the_setting_makes_a_second_factor_mandatory_for_more_roles(
    admin: PortalUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.settings import reset_settings

    assert (await auth.login(admin.email, PASSWORD)).token  # an administrator may, but need not
    monkeypatch.setenv('SECOND_FACTOR_ROLES', Role.ADMIN.value)
    reset_settings()
    assert (await auth.login(admin.email, PASSWORD)).second_step is SecondStep.ENROL
