"""The second factor at login: TOTP (RFC 6238, the six digits of an authenticator app) or a recovery code.

Mandatory for the roles in SECOND_FACTOR_ROLES (staff always: they see every customer); anyone else may set it up in
their Profil. A code is accepted once: the time step of the last accepted code is kept, and a conditional update
refuses the same or an older step, also when two tabs send it at the same moment. Wrong codes are throttled like
passwords (5 failures lock the account's second step, the lock doubling, services/login_throttle) and audited.
Ten recovery codes are shown once at set-up and stored as SHA-256 digests.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import datetime

import pyotp
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import PortalUser, RecoveryCode
from services import audit, clock, login_throttle, sessions
from services.audit import AuditKind
from services.errors import NotFound, PermissionDenied, ValidationError
from services.login_throttle import EMAIL
from services.permissions import Action, may
from services.settings import get_settings

ISSUER = 'Firmenportal D-Ticket Job'
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'  # 32 signs without 0/O, 1/I: 12 of them carry 60 bits
CODE_WRONG = 'Der Code ist nicht richtig. Bitte geben Sie den aktuellen Code aus Ihrer App ein.'
CODE_MISSING = 'Bitte geben Sie den sechsstelligen Code aus Ihrer Authenticator-App ein.'
NOT_FOUND = 'Der Anwender wurde nicht gefunden.'
RESET_DENIED = 'Nur das Verkehrsunternehmen kann den zweiten Faktor zurücksetzen.'


def required_for(user: PortalUser) -> bool:
    return str(user.role) in get_settings().second_factor_roles


def is_enrolled(user: PortalUser) -> bool:
    return bool(user.totp_secret and user.totp_enabled_at)


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: PortalUser, secret: str) -> str:
    """What the enrolment QR code carries (otpauth://…), read by every common authenticator app."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def _throttle_key(user: PortalUser) -> str:
    return f'2fa:{user.id}'  # beside the e-mail keys of the same scope; an address always has an '@'


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _normalise(code: str) -> str:
    return ''.join(character for character in code.upper() if character.isalnum())[:40]


def _matching_step(secret: str, code: str, at: float) -> int | None:
    """The time step a six-digit code belongs to, allowing one step of clock drift either way."""
    totp = pyotp.TOTP(secret)
    step = int(at // totp.interval)
    for candidate in (step, step - 1, step + 1):
        if secrets.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def _recovery_codes() -> list[str]:
    codes = [''.join(secrets.choice(RECOVERY_ALPHABET) for _ in range(12)) for _ in range(RECOVERY_CODE_COUNT)]
    return [f'{code[:4]}-{code[4:8]}-{code[8:]}' for code in codes]


async def enrol(user: PortalUser, secret: str, code: str, *, client: str = '') -> list[str]:
    """Confirm the set-up with a first code from the app; returns the recovery codes to show once."""
    code = _normalise(code)
    if not code:
        raise ValidationError({'code': CODE_MISSING})
    step = _matching_step(secret, code, time.time())
    if step is None:
        raise ValidationError({'code': CODE_WRONG})
    codes = _recovery_codes()
    now = clock.now()
    async with in_transaction():
        user.totp_secret, user.totp_enabled_at, user.totp_last_step = secret, now, step
        await user.save(update_fields=['totp_secret', 'totp_enabled_at', 'totp_last_step'])
        await RecoveryCode.filter(user_id=user.id).delete()
        await RecoveryCode.bulk_create(
            [RecoveryCode(user_id=user.id, code_hash=_digest(_normalise(value)), created_at=now) for value in codes]
        )
        await audit.record(AuditKind.SECOND_FACTOR_ENROLLED, actor=user, object_type='user', object_id=user.id,
                           client=client)
    return codes


async def locked_until(user: PortalUser) -> datetime | None:
    return await login_throttle.locked_until(EMAIL, _throttle_key(user))


async def verify(user: PortalUser, code: str, *, client: str = '') -> bool:
    """A current TOTP code or an unused recovery code of the user; each accepted once. Failures are counted."""
    code = _normalise(code)
    if code and user.totp_secret:
        if len(code) == 6 and code.isdigit():
            step = _matching_step(user.totp_secret, code, time.time())
            if step is not None and await PortalUser.filter(
                Q(totp_last_step__isnull=True) | Q(totp_last_step__lt=step), id=user.id
            ).update(totp_last_step=step):
                await login_throttle.reset(EMAIL, _throttle_key(user))
                return True
        elif await RecoveryCode.filter(user_id=user.id, code_hash=_digest(code), used_at=None).update(
            used_at=clock.now()
        ):
            await login_throttle.reset(EMAIL, _throttle_key(user))
            await audit.record(AuditKind.SECOND_FACTOR_RECOVERY_USED, actor=user, object_type='user',
                               object_id=user.id, client=client)
            return True
    await audit.record(AuditKind.SECOND_FACTOR_FAILED, actor=user, object_type='user', object_id=user.id,
                       client=client)
    await login_throttle.register_failure(EMAIL, _throttle_key(user))
    return False


async def remaining_recovery_codes(user: PortalUser) -> int:
    return await RecoveryCode.filter(user_id=user.id, used_at=None).count()


async def reset(actor: PortalUser, user_id: int, *, client: str = '') -> PortalUser:
    """Staff reset a person's second factor (lost phone and codes): set up anew at the next login; sessions end."""
    target = await PortalUser.get_or_none(id=user_id)
    if target is None:
        raise NotFound(NOT_FOUND)
    if not may(actor, Action.RESET_SECOND_FACTOR, target.customer_id):
        raise PermissionDenied(RESET_DENIED)
    async with in_transaction():
        target.totp_secret = target.totp_enabled_at = target.totp_last_step = None
        await target.save(update_fields=['totp_secret', 'totp_enabled_at', 'totp_last_step'])
        await RecoveryCode.filter(user_id=target.id).delete()
        await sessions.end_sessions_of_user(target.id, 'second_factor_reset')
        await audit.record(AuditKind.SECOND_FACTOR_RESET, actor=actor, customer_id=target.customer_id,
                           object_type='user', object_id=target.id, details={'email': target.email}, client=client)
    return target
