"""Logging in: password check, throttling, session start and the audit trail of every attempt.

Every failure says the same thing and takes the same time whether or not the account exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from models import Employee, PortalUser
from services import audit, clock, password_check, passwords, sessions
from services.audit import AuditKind
from services.password_check import Purpose

WRONG_CREDENTIALS = 'E-Mail-Adresse oder Passwort ist falsch.'
MISSING_CREDENTIALS = 'Bitte geben Sie E-Mail-Adresse und Passwort ein.'
INACTIVE = 'Ihr Zugang ist deaktiviert. Bitte wenden Sie sich an Ihre Administration.'
MAX_EMAIL_LENGTH = 254


def normalize_email(email: str) -> str:
    return email.strip().lower()


@dataclass(frozen=True)
class LoginResult:
    user: PortalUser | Employee | None = None
    token: str | None = None
    error: str | None = None


async def login(
    email: str, password: str, *, client: str = '', device: str = '', user_agent: str = '',
    account_type: type[PortalUser] | type[Employee] = PortalUser,
) -> LoginResult:
    """Portal users and Self-Service employees log in the same way, each against their own accounts."""
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
