"""Logging in: password check, throttling, session start and the audit trail of every attempt.

Every failure says the same thing and takes the same time whether or not the account exists. A portal user with a
second factor (services/second_factor.py) gets no session for the password alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from models import Employee, PortalUser
from services import audit, clock, login_throttle, password_check, passwords, second_factor, sessions
from services.audit import AuditKind
from services.i18n import N_
from services.password_check import Purpose
from services.validation import normalize_email

WRONG_CREDENTIALS = N_('E-Mail-Adresse oder Passwort ist falsch.')
MISSING_CREDENTIALS = N_('Bitte geben Sie E-Mail-Adresse und Passwort ein.')
INACTIVE = N_('Ihr Zugang ist deaktiviert. Bitte wenden Sie sich an Ihre Administration.')
MAX_EMAIL_LENGTH = 254


def _wait_message(until: datetime) -> str:
    minutes = login_throttle.minutes_until(until)
    if minutes == 1:
        return N_('Zu viele fehlgeschlagene Anmeldeversuche. Bitte versuchen Sie es in 1 Minute erneut.')
    return N_('Zu viele fehlgeschlagene Anmeldeversuche. Bitte versuchen Sie es in {minutes} Minuten erneut.',
              minutes=minutes)


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
    email: str, password: str, *, client: str = '', device: str = '', user_agent: str = '',
    account_type: type[PortalUser] | type[Employee] = PortalUser,
) -> LoginResult:
    """Portal users and Self-Service employees log in the same way, each against their own accounts. A portal user
    with a second factor gets `second_step` instead of a session; `complete_second_factor` then starts it."""
    email = normalize_email(email)
    if not email or not password:
        return LoginResult(error=MISSING_CREDENTIALS)
    key = email[:MAX_EMAIL_LENGTH]
    user = await account_type.get_or_none(email=key) if len(email) <= MAX_EMAIL_LENGTH else None
    check = await password_check.check_password(
        user, password, email=key, purpose=Purpose.LOGIN, client=client, device=device,
    )
    if not check.ok or user is None:
        return LoginResult(error=check.message(WRONG_CREDENTIALS))
    if not user.is_active:
        await audit.record(AuditKind.LOGIN_INACTIVE, actor=_actor(user), actor_label=key, client=client)
        return LoginResult(error=INACTIVE)

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
