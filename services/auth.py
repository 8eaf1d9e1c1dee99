"""Logging in: password check, throttling, session start and the audit trail of every attempt.

Every failure says the same thing and takes the same time whether or not the account exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models import Employee, PortalUser
from services import audit, clock, login_throttle, passwords, sessions
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


@dataclass(frozen=True)
class LoginResult:
    user: PortalUser | Employee | None = None
    token: str | None = None
    error: str | None = None


async def login(
    email: str, password: str, *, client: str = '', user_agent: str = '',
    account_type: type[PortalUser] | type[Employee] = PortalUser,
) -> LoginResult:
    """Portal users and Self-Service employees log in the same way, each against their own accounts."""
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
    user.last_login_at = clock.now()
    update_fields = ['last_login_at']
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = await passwords.hash_password(password)
        update_fields.append('password_hash')
    await user.save(update_fields=update_fields)
    token = await sessions.start_session(user, client=client, user_agent=user_agent)
    await audit.record(
        AuditKind.LOGIN, actor=_actor(user), actor_label=key, object_type=account_type.__name__.lower(),
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
