"""The one way to check a password someone typed: throttled per account, device and address, and audited.

Logins, "Passwort ändern" and the Self-Service application all come through `check_password`, so no form is a
cheaper way to guess a password than the login.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from models import Employee, PortalUser
from services import audit, login_throttle, passwords
from services.audit import AuditKind
from services.i18n import N_
from services.login_throttle import CLIENT, DEVICE, EMAIL

MAX_KEY_LENGTH = 254


class Purpose(StrEnum):
    """Where the password was typed (in the audit details)."""

    LOGIN = 'login'
    PASSWORD_CHANGE = 'password_change'
    APPLICATION = 'application'


@dataclass(frozen=True)
class PasswordCheck:
    ok: bool
    purpose: Purpose
    locked_until: datetime | None = None  # set when a lock refused the check or this failure caused one
    refused: bool = False  # a lock refused it before any hashing

    def message(self, wrong: str) -> str:
        """The waiting message when locked, else `wrong` (each form words a wrong password its own way)."""
        if self.locked_until is None:
            return wrong
        minutes = login_throttle.minutes_until(self.locked_until)
        if self.purpose is Purpose.LOGIN:
            if minutes == 1:
                return N_('Zu viele fehlgeschlagene Anmeldeversuche. Bitte versuchen Sie es in 1 Minute erneut.')
            return N_('Zu viele fehlgeschlagene Anmeldeversuche. Bitte versuchen Sie es in {minutes} Minuten erneut.',
                      minutes=minutes)
        if minutes == 1:
            return N_('Zu viele fehlgeschlagene Versuche. Bitte versuchen Sie es in 1 Minute erneut.')
        return N_('Zu viele fehlgeschlagene Versuche. Bitte versuchen Sie es in {minutes} Minuten erneut.',
                  minutes=minutes)


def _actor(account: PortalUser | Employee | None) -> PortalUser | None:
    return account if isinstance(account, PortalUser) else None


async def check_password(
    account: PortalUser | Employee | None, password: str, *, email: str, purpose: Purpose, client: str = '',
    device: str = '',
) -> PasswordCheck:
    """True only for the account's right password while none of its account, device and address is locked.

    `email` is the address as typed and normalised (unknown addresses are counted and locked like real ones);
    `account` is None when no account has it, and then the same hashing work is done. A refused check costs no
    hashing, for existing and unknown accounts alike. A right password ends the account's failure count, never
    the device's or the address's (else guessing could be interleaved with one's own logins).
    """
    key = email[:MAX_KEY_LENGTH]
    keys = {CLIENT: client, DEVICE: device, EMAIL: key}
    details = {'purpose': purpose.value}
    if lock := await login_throttle.first_lock(keys):
        scope, until = lock
        await audit.record(AuditKind.LOGIN_BLOCKED, actor=_actor(account), actor_label=key,
                           details={**details, 'scope': scope}, client=client)
        return PasswordCheck(ok=False, purpose=purpose, locked_until=until, refused=True)
    if account is not None and await passwords.verify_password(account.password_hash, password):
        await login_throttle.reset(EMAIL, key)
        return PasswordCheck(ok=True, purpose=purpose)
    if account is None:
        await passwords.verify_password(None, password)
    await audit.record(AuditKind.LOGIN_FAILED, actor=_actor(account), actor_label=key, details=details, client=client)
    locks = await login_throttle.register_failures(keys)
    if locked_until := locks.get(EMAIL):
        await audit.record(AuditKind.LOGIN_LOCKED, actor=_actor(account), actor_label=key, client=client,
                           details={**details, 'locked_until': locked_until.isoformat()})
    return PasswordCheck(ok=False, purpose=purpose, locked_until=max(locks.values(), default=None))
