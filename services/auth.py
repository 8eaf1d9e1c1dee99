"""Logging in: password check, throttling, session start and the audit trail of every attempt.

Every failure says the same thing and takes the same time whether or not the account exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from models import Employee, PortalUser
from services import audit, clock, login_throttle, passwords, second_factor, sessions
from services.audit import AuditKind
from services.login_throttle import CLIENT, EMAIL
from services.validation import normalize_email

WRONG_CREDENTIALS = 'E-Mail-Adresse oder Passwort ist falsch.'
MISSING_CREDENTIALS = 'Bitte geben Sie E-Mail-Adresse und Passwort ein.'
INACTIVE = 'Ihr Zugang ist deaktiviert. Bitte wenden Sie sich an Ihre Administration.'
MAX_EMAIL_LENGTH = 254


def _wait_message(until: datetime) -> str:
    minutes = login_throttle.minutes_until(until)
    unit = 'Minute' if minutes == 1 else 'Minuten'
    return f'Zu viele fehlgeschlagene Anmeldeversuche. Bitte versuchen Sie es in {minutes} {unit} erneut.'


class SecondStep(StrEnum):
    """What the login asks after a right password, before any session exists."""

    CODE = 'code'  # the six digits of the authenticator app (or a recovery code)
    ENROL = 'enrol'  # the role requires a second factor that is not set up yet: set it up now


@dataclass(frozen=True)
class LoginResult:
    user: PortalUser | Employee | None = None
    token: str | None = None
    error: str | None = None
    second_step: SecondStep | None = None


async def login(
    email: str, password: str, *, client: str = '', user_agent: str = '',
    account_type: type[PortalUser] | type[Employee] = PortalUser,
) -> LoginResult:
    """Portal users and Self-Service employees log in the same way, each against their own accounts. A portal user
    with a second factor gets `second_step` instead of a session; `complete_second_factor` then starts it."""
    email = normalize_email(email)
    if not email or not password:
        return LoginResult(error=MISSING_CREDENTIALS)
    key = email[:MAX_EMAIL_LENGTH]
    if until := await login_throttle.locked_until(CLIENT, client):
        await audit.record(AuditKind.LOGIN_BLOCKED, actor_label=key, details={'scope': CLIENT}, client=client)
        return LoginResult(error=_wait_message(until))
    if until := await login_throttle.locked_until(EMAIL, key):
        await audit.record(AuditKind.LOGIN_BLOCKED, actor_label=key, details={'scope': EMAIL}, client=client)
        return LoginResult(error=_wait_message(until))

    user = await account_type.get_or_none(email=key) if len(email) <= MAX_EMAIL_LENGTH else None
    if not await passwords.verify_password(user.password_hash if user else None, password) or user is None:
        return await _failed(key, user, client)
    if not user.is_active:
        await audit.record(AuditKind.LOGIN_INACTIVE, actor=_actor(user), actor_label=key, client=client)
        return LoginResult(error=INACTIVE)

    await login_throttle.reset(EMAIL, key)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = await passwords.hash_password(password)
        await user.save(update_fields=['password_hash'])
    if isinstance(user, PortalUser) and (step := _second_step(user)):
        return LoginResult(user=user, second_step=step)
    return await _start(user, client=client, user_agent=user_agent)


def _second_step(user: PortalUser) -> SecondStep | None:
    if second_factor.is_enrolled(user):
        return SecondStep.CODE
    return SecondStep.ENROL if second_factor.required_for(user) else None


async def complete_second_factor(
    user: PortalUser, code: str, *, client: str = '', user_agent: str = ''
) -> LoginResult:
    """The second step of a login whose password was right: a valid code starts the session."""
    user = await PortalUser.get(id=user.id)  # as it is now: deactivated or reset in the meantime counts
    if not user.is_active:
        return LoginResult(error=INACTIVE)
    if until := await second_factor.locked_until(user):
        return LoginResult(error=_wait_message(until))
    if not await second_factor.verify(user, code, client=client):
        if until := await second_factor.locked_until(user):
            return LoginResult(error=_wait_message(until))
        return LoginResult(error=second_factor.CODE_WRONG)
    return await _start(user, client=client, user_agent=user_agent)


async def start_after_enrolment(user: PortalUser, *, client: str = '', user_agent: str = '') -> LoginResult:
    """After a set-up during login (its first code was checked by second_factor.enrol)."""
    user = await PortalUser.get(id=user.id)
    if not user.is_active or not second_factor.is_enrolled(user):
        return LoginResult(error=INACTIVE if not user.is_active else second_factor.CODE_MISSING)
    return await _start(user, client=client, user_agent=user_agent)


async def _start(user: PortalUser | Employee, *, client: str, user_agent: str) -> LoginResult:
    user.last_login_at = clock.now()
    await user.save(update_fields=['last_login_at'])
    token = await sessions.start_session(user, client=client, user_agent=user_agent)
    await audit.record(
        AuditKind.LOGIN, actor=_actor(user), actor_label=user.email, object_type=type(user).__name__.lower(),
        object_id=user.id, client=client,
    )
    return LoginResult(user=user, token=token)


def _actor(account: PortalUser | Employee | None) -> PortalUser | None:
    return account if isinstance(account, PortalUser) else None


async def _failed(key: str, user: PortalUser | Employee | None, client: str) -> LoginResult:
    await audit.record(AuditKind.LOGIN_FAILED, actor=_actor(user), actor_label=key, client=client)
    await login_throttle.register_failure(CLIENT, client)
    if until := await login_throttle.register_failure(EMAIL, key):
        await audit.record(AuditKind.LOGIN_LOCKED, actor=_actor(user), actor_label=key, client=client,
                           details={'locked_until': until.isoformat()})
        return LoginResult(error=_wait_message(until))
    return LoginResult(error=WRONG_CREDENTIALS)
