"""Portal users (Anwender): creating them and their passwords. Who may do what: services/permissions.py."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError

from models import Customer, PortalUser, Role
from services import audit, clock, password_check, passwords, permissions, sessions
from services.audit import AuditKind
from services.errors import NotFound, ValidationError
from services.password_check import Purpose
from services.validation import field_length, is_email, normalize_email, require_text


async def create_user(
    *,
    email: str,
    name: str,
    role: Role,
    password: str,
    customer: Customer | None,
    actor: PortalUser | None = None,
    client: str = '',
) -> PortalUser:
    errors: dict[str, str] = {}
    email = normalize_email(email)
    if not is_email(email):
        errors['email'] = 'Bitte geben Sie eine gültige E-Mail-Adresse an.'
    name = require_text(errors, 'name', name, 'einen Namen', field_length(PortalUser, 'name'))
    if permissions.is_company_role(role) == (customer is None):
        errors['role'] = 'Mitarbeitende des Verkehrsunternehmens haben keine Firma, alle anderen genau eine.'
    if problem := passwords.password_problem(password, email=email, name=name):
        errors['password'] = problem
    if errors:
        raise ValidationError(errors)
    password_hash = await passwords.hash_password(password)
    try:
        user = await PortalUser.create(
            email=email, name=name, role=role, customer=customer, password_hash=password_hash,
            password_changed_at=clock.now(),
        )
    except IntegrityError:
        raise ValidationError({'email': 'Diese E-Mail-Adresse ist bereits vergeben.'}) from None
    await audit.record(
        AuditKind.USER_CREATED, actor=actor, actor_label='' if actor else 'Betrieb (Kommandozeile)',
        customer_id=customer.id if customer else None, object_type='user', object_id=user.id,
        details={'email': email, 'role': role.value}, client=client,
    )
    return user


async def change_password(
    user: PortalUser, *, current: str, new: str, confirmation: str, client: str = '', device: str = '',
    keep_token: str | None = None,
) -> None:
    """Passwort ändern: the current password must be right (checked like a login: throttled and audited); every
    other session of the user ends (a thief who knew the old password is out at once), the one of `keep_token`
    (the person's own) stays."""
    errors: dict[str, str] = {}
    check = await password_check.check_password(
        user, current, email=user.email, purpose=Purpose.PASSWORD_CHANGE, client=client, device=device,
    )
    if not check.ok:
        errors['current'] = check.message('Das aktuelle Passwort ist nicht richtig.')
    if problem := passwords.password_problem(new, email=user.email, name=user.name):
        errors['new'] = problem
    elif new == current:
        errors['new'] = 'Das neue Passwort muss sich vom aktuellen unterscheiden.'
    if new != confirmation:
        errors['confirmation'] = passwords.MISMATCH
    if errors:
        raise ValidationError(errors)
    user.password_hash = await passwords.hash_password(new)
    user.password_changed_at = clock.now()
    await user.save(update_fields=['password_hash', 'password_changed_at'])
    await sessions.end_sessions_of_user(user.id, 'password_changed', keep_token=keep_token)
    await audit.record(AuditKind.PASSWORD_CHANGED, actor=user, object_type='user', object_id=user.id, client=client)


async def reset_password(email: str, new: str) -> PortalUser:
    """Operator reset from the command line: sets the password and ends every session of the user."""
    user = await PortalUser.get_or_none(email=normalize_email(email))
    if user is None:
        raise NotFound('Es gibt keinen Anwender mit dieser E-Mail-Adresse.')
    if problem := passwords.password_problem(new, email=user.email, name=user.name):
        raise ValidationError({'password': problem})
    user.password_hash = await passwords.hash_password(new)
    user.password_changed_at = clock.now()
    await user.save(update_fields=['password_hash', 'password_changed_at'])
    await sessions.end_sessions_of_user(user.id, 'password_reset')
    await audit.record(AuditKind.PASSWORD_RESET, actor_label='Betrieb (Kommandozeile)', customer_id=user.customer_id,
                       object_type='user', object_id=user.id)
    return user
