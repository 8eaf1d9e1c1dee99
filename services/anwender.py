"""Anwender: a company's portal users — list, invite, change the role, deactivate and reactivate, password links.

Who may do what is decided in services/permissions.py; here every function asks it with the record's company, and a
user id of another company is `NotFound` (never a hint that it exists). An invited user has no usable password
until they open the one-time link (services/one_time_links.py) and set one; the same link resets a forgotten password.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import Customer, Invitation, InvitationPurpose, PortalUser, Role
from services import audit, clock, login_throttle, mail, password_check, passwords, permissions, sessions
from services.audit import AuditKind
from services.auth import INACTIVE
from services.errors import NotFound, ServiceError, ValidationError
from services.i18n import N_
from services.login_throttle import CLIENT, EMAIL
from services.one_time_links import LINK_UNKNOWN, claim_link, issue_link, open_link
from services.password_check import Purpose
from services.permissions import Action
from services.table_query import TablePage, TableRequest, fetch_page
from services.validation import (
    field_length,
    is_email,
    normalize_email,
    require_text,
    search_term,
)

log = logging.getLogger(__name__)
INVITATION_VALIDITY = timedelta(hours=72)
PASSWORD_LINK_VALIDITY = timedelta(hours=24)
LINK_PATH = '/einladung/'
# The administrators a company must keep: the company roles that may manage its Anwender.
MANAGERS = permissions.company_roles_that_may(Action.CHANGE_ROLE)
SORTABLE = ('name', 'email', 'role', 'is_active', 'last_login_at')

NOT_FOUND = 'Der Anwender wurde nicht gefunden.'
CUSTOMER_NOT_FOUND = 'Zu dieser Kundennummer gibt es keinen Kunden.'
NO_CUSTOMER_CHOSEN = 'Bitte geben Sie zuerst eine Kundennummer ein.'
LAST_ADMIN = (
    'Der letzte aktive Administrator einer Firma kann nicht deaktiviert oder herabgestuft werden. '
    'Ernennen Sie zuerst einen weiteren Administrator.'
)
OWN_ACCOUNT = 'Ihren eigenen Zugang können Sie nicht deaktivieren.'
EMAIL_TAKEN = 'Diese E-Mail-Adresse ist bereits vergeben.'
ROLE_INVALID = 'Bitte wählen Sie eine Rolle: Administrator, Sachbearbeitung oder Nur lesen.'
DEACTIVATED_NO_LINK = 'Der Zugang ist deaktiviert. Reaktivieren Sie ihn, bevor Sie einen Passwort-Link senden.'


@dataclass(frozen=True)
class IssuedLink:
    """A fresh one-time link: shown once to the person who created it (the token is stored only as a digest)."""

    user: PortalUser
    link: str
    purpose: InvitationPurpose
    expires_at: datetime
    mailed: bool = False  # the mail is in the outbox and SMTP is configured (else the link is only shown)


@dataclass(frozen=True)
class LinkInfo:
    """What the public link page may show before the password is set."""

    name: str
    email: str
    purpose: InvitationPurpose
    company: str


async def _customer(actor: PortalUser, customer_id: int | None = None, kundennummer: str = '') -> Customer:
    """The customer named by id or Kundennummer among those the actor may see; named by neither, a company user's own
    company, while staff must choose one."""
    queryset = permissions.scoped(Customer.all(), actor)
    if customer_id is not None:
        queryset = queryset.filter(id=customer_id)
    elif kundennummer:
        queryset = queryset.filter(kundennummer=kundennummer)
    elif permissions.role_may(actor, Action.VIEW_ALL_CUSTOMERS):
        raise NotFound(NO_CUSTOMER_CHOSEN)
    customer = await queryset.first()
    if customer is None:
        raise NotFound(CUSTOMER_NOT_FOUND)
    return customer


async def company(actor: PortalUser, kundennummer: str = '') -> Customer:
    """The company whose Anwender the actor looks at: staff pick any by Kundennummer, company users have their own
    (another company's Kundennummer finds nothing, exactly like an unknown one)."""
    return await _customer(actor, kundennummer=search_term(kundennummer, field_length(Customer, 'kundennummer')))


async def get_user(actor: PortalUser, user_id: int) -> PortalUser:
    """One company user the actor may see; NotFound for every other id (also for staff accounts)."""
    user = await permissions.scoped(PortalUser.filter(id=user_id, customer_id__isnull=False), actor).first()
    if user is None:
        raise NotFound(NOT_FOUND)
    return user


async def list_users(
    actor: PortalUser, request: TableRequest, *, customer_id: int | None = None
) -> TablePage[PortalUser]:
    """The Anwender table of one company: the actor's own, or for staff the one they chose."""
    customer = await _customer(actor, customer_id)
    permissions.require(actor, Action.LIST_USERS, customer.id)
    return await fetch_page(permissions.scoped(PortalUser.filter(customer_id=customer.id), actor), request, SORTABLE)


# --- creating users and passwords (the operator's command line, "Passwort ändern") ----------------------------------


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


# --- the link of an invitation or password reset --------------------------------------------------------------------


async def _issue(
    user: PortalUser, purpose: InvitationPurpose, actor: PortalUser | None, base_url: str, company_name: str,
) -> IssuedLink:
    """The portal user's link (72 hours for an invitation, 24 for a password link) and its mail, in the outbox of
    the caller's transaction: if the change is rolled back, no link and no mail remain."""
    validity = INVITATION_VALIDITY if purpose == InvitationPurpose.EINLADUNG else PASSWORD_LINK_VALIDITY
    new = await issue_link(purpose, validity, path=LINK_PATH, user=user, actor=actor, base_url=base_url)
    await mail.enqueue(
        'einladung' if purpose == InvitationPurpose.EINLADUNG else 'passwort_link', user.email,
        {'name': user.name, 'inviter': actor.name if actor else '', 'role': user.role_label,
         'company': company_name, 'link': new.link, 'expires_at': new.expires_at, 'email': user.email},
        customer_id=user.customer_id, object_type='user', object_id=user.id, actor=actor,
    )
    return IssuedLink(user=user, link=new.link, purpose=purpose, expires_at=new.expires_at,
                      mailed=mail.delivery_configured())


# --- inviting -------------------------------------------------------------------------------------------------------


def _role(value: Role | str) -> Role | None:
    try:
        role = Role(value)
    except ValueError:
        return None
    return role if role in permissions.COMPANY_ROLES else None


async def invitation_problems(name: str, email: str, role: Role | str = Role.CLERK, prefix: str = '') -> dict[str, str]:
    """German messages for the invitation's fields (keys prefixed, for forms that have other name/email fields)."""
    errors: dict[str, str] = {}
    require_text(errors, f'{prefix}name', name, 'einen Namen', field_length(PortalUser, 'name'))
    email = normalize_email(email)
    if not is_email(email):
        errors[f'{prefix}email'] = 'Bitte geben Sie eine gültige E-Mail-Adresse an.'
    elif await PortalUser.exists(email=email):
        errors[f'{prefix}email'] = EMAIL_TAKEN
    if _role(role) is None:
        errors[f'{prefix}role'] = ROLE_INVALID
    return errors


async def create_invitation(
    actor: PortalUser, customer: Customer, *, name: str, email: str, role: Role | str, base_url: str, client: str,
) -> IssuedLink:
    """The invited user, their link and its mail in the outbox, in one transaction (nested in the caller's, when
    there is one). The caller has checked the permission; use `invite` everywhere else."""
    if errors := await invitation_problems(name, email, role):
        raise ValidationError(errors)
    # The hash of a random secret nobody knows: no password works before the link is used, and a login attempt takes
    # as long as for any other account (an invalid hash would fail at once and tell that the address is invited).
    unusable_hash = await passwords.hash_password(secrets.token_urlsafe(32))
    async with in_transaction():
        try:
            user = await PortalUser.create(
                email=normalize_email(email), name=name.strip(), role=_role(role), customer=customer,
                password_hash=unusable_hash, password_changed_at=None,
            )
        except IntegrityError:
            raise ValidationError({'email': EMAIL_TAKEN}) from None
        issued = await _issue(user, InvitationPurpose.EINLADUNG, actor, base_url, customer.name)
        await audit.record(
            AuditKind.USER_INVITED, actor=actor, customer_id=customer.id, object_type='user', object_id=user.id,
            details={'email': user.email, 'role': user.role.value, 'expires_at': issued.expires_at.isoformat()},
            client=client,
        )
    return issued


async def invite(
    actor: PortalUser, *, name: str, email: str, role: Role | str, base_url: str, customer_id: int | None = None,
    client: str = '',
) -> IssuedLink:
    """Anwender einladen: creates the user without a usable password and a link valid 72 hours, mailed through the
    outbox. The link is returned to be shown once to the person who invites."""
    customer = await _customer(actor, customer_id)
    permissions.require(actor, Action.INVITE_USER, customer.id)
    return await create_invitation(actor, customer, name=name, email=email, role=role, base_url=base_url, client=client)


# --- changing users -------------------------------------------------------------------------------------------------


async def _keep_an_active_admin(target: PortalUser) -> None:
    """Refuse when `target` is the company's last active administrator. Runs inside a transaction: the company row
    is locked first (PostgreSQL), so two administrators demoting each other at once cannot both succeed."""
    await Customer.filter(id=target.customer_id).select_for_update().first()
    current = await PortalUser.get(id=target.id)
    if current.role not in MANAGERS or current.status != 'aktiv':
        return
    others = await PortalUser.filter(
        customer_id=current.customer_id, role__in=list(MANAGERS), is_active=True,
        password_changed_at__isnull=False,
    ).exclude(id=current.id).count()
    if others == 0:
        raise ServiceError(LAST_ADMIN)


async def change_role(actor: PortalUser, user_id: int, role: Role | str, *, client: str = '') -> PortalUser:
    target = await get_user(actor, user_id)
    permissions.require(actor, Action.CHANGE_ROLE, target.customer_id)
    new_role = _role(role)
    if new_role is None:
        raise ValidationError({'role': ROLE_INVALID})
    if new_role == target.role:
        return target
    previous = target.role
    async with in_transaction():
        if previous in MANAGERS:
            await _keep_an_active_admin(target)
        target.role = new_role
        await target.save(update_fields=['role'])
        await sessions.end_sessions_of_user(target.id, 'role_changed')  # open pages go to the login at once
        await audit.record(
            AuditKind.USER_ROLE_CHANGED, actor=actor, customer_id=target.customer_id,
            object_type='user', object_id=target.id,
            details={'email': target.email, 'from': previous.value, 'to': new_role.value}, client=client,
        )
    return target


async def deactivate(actor: PortalUser, user_id: int, *, client: str = '') -> PortalUser:
    """The user can no longer log in; their sessions and open links end at once."""
    target = await get_user(actor, user_id)
    permissions.require(actor, Action.DEACTIVATE_USER, target.customer_id)
    if target.id == actor.id:
        raise ServiceError(OWN_ACCOUNT)
    if not target.is_active:
        return target
    async with in_transaction():
        await _keep_an_active_admin(target)
        target.is_active = False
        await target.save(update_fields=['is_active'])
        ended = await sessions.end_sessions_of_user(target.id, 'deactivated')
        await Invitation.filter(user_id=target.id, used_at=None, revoked_at=None).update(revoked_at=clock.now())
        await audit.record(
            AuditKind.USER_DEACTIVATED, actor=actor, customer_id=target.customer_id,
            object_type='user', object_id=target.id, details={'email': target.email, 'sessions_ended': ended},
            client=client,
        )
    return target


async def reactivate(actor: PortalUser, user_id: int, *, client: str = '') -> PortalUser:
    target = await get_user(actor, user_id)
    permissions.require(actor, Action.REACTIVATE_USER, target.customer_id)
    if target.is_active:
        return target
    target.is_active = True
    await target.save(update_fields=['is_active'])
    await audit.record(
        AuditKind.USER_REACTIVATED, actor=actor, customer_id=target.customer_id,
        object_type='user', object_id=target.id, details={'email': target.email}, client=client,
    )
    return target


async def send_password_link(actor: PortalUser, user_id: int, *, base_url: str, client: str = '') -> IssuedLink:
    """Passwort-Link senden: a one-time link (24 hours) to set a new password; for a user who has not accepted the
    invitation yet, a fresh invitation (72 hours). Earlier open links of the user stop working."""
    target = await get_user(actor, user_id)
    permissions.require(actor, Action.SEND_PASSWORD_LINK, target.customer_id)
    if not target.is_active:
        raise ServiceError(DEACTIVATED_NO_LINK)
    purpose = InvitationPurpose.EINLADUNG if target.password_changed_at is None else InvitationPurpose.PASSWORT
    customer = await Customer.get(id=target.customer_id)
    async with in_transaction():
        issued = await _issue(target, purpose, actor, base_url, customer.name)
        await audit.record(
            AuditKind.PASSWORD_LINK_SENT, actor=actor, customer_id=target.customer_id,
            object_type='user', object_id=target.id,
            details={'email': target.email, 'purpose': purpose.value, 'expires_at': issued.expires_at.isoformat()},
            client=client,
        )
    return issued


# --- Passwort vergessen ---------------------------------------------------------------------------------------------

FORGOTTEN_LINK_VALIDITY = timedelta(hours=1)
FORGOTTEN_ANSWER = N_(
    'Wenn es zu dieser Adresse einen aktiven Zugang gibt, ist eine E-Mail mit einem Link zum Festlegen eines neuen '
    'Passworts unterwegs. Der Link gilt eine Stunde und nur einmal. Prüfen Sie auch den Spam-Ordner.'
)


async def reset_request_allowed(key: str, client: str) -> bool:
    """Count a „Passwort vergessen“ request against the address and the client like a failed login; False while
    either is locked (then nothing is sent, and the answer is the same)."""
    throttle_key = f'reset:{key}'
    if await login_throttle.locked_until(CLIENT, client) or await login_throttle.locked_until(EMAIL, throttle_key):
        return False
    await login_throttle.register_failure(CLIENT, client)
    await login_throttle.register_failure(EMAIL, throttle_key)
    return True


def reset_address(email: str) -> str:
    """The typed address, normalised; a German message at the field when it is no address at all."""
    key = normalize_email(email)[:254]
    if not is_email(key):
        raise ValidationError({'email': 'Bitte geben Sie eine gültige E-Mail-Adresse ein.'})
    return key


async def request_password_reset(email: str, *, base_url: str, client: str = '') -> str:
    """Passwort vergessen: mail a one-hour link to an active portal user. The answer is the same whether or not the
    address has a login; requests count against the address and the client like failed logins, so the form cannot
    flood anyone's mailbox. The link and its mail are written in one transaction (the outbox delivers it)."""
    key = reset_address(email)
    if not await reset_request_allowed(key, client):
        return FORGOTTEN_ANSWER
    user = await PortalUser.get_or_none(email=key, is_active=True, password_changed_at__isnull=False)
    async with in_transaction():
        await audit.record(AuditKind.PASSWORD_RESET_REQUESTED, actor=user, actor_label=key,
                           object_type='user' if user else '', object_id=user.id if user else '', client=client)
        if user is None:
            return FORGOTTEN_ANSWER
        new = await issue_link(InvitationPurpose.PASSWORT, FORGOTTEN_LINK_VALIDITY, path=LINK_PATH, user=user,
                               base_url=base_url)
        await mail.enqueue('passwort_vergessen', user.email,
                           {'name': user.name, 'place': 'Firmenportal D-Ticket Job', 'link': new.link,
                            'expires_at': new.expires_at},
                           customer_id=user.customer_id, object_type='user', object_id=user.id,
                           actor=user, client=client)
    if not mail.delivery_configured():
        log.info('Passwort vergessen für %s: kein SMTP_HOST gesetzt, Link nur im Log: %s', key, new.link)
    return FORGOTTEN_ANSWER


# --- the public link page -------------------------------------------------------------------------------------------


PORTAL_PURPOSES = (InvitationPurpose.EINLADUNG, InvitationPurpose.PASSWORT)


async def _open_invitation(token: str) -> tuple[Invitation, PortalUser]:
    """The open portal link and its user (a portal purpose always has one)."""
    invitation = await open_link(token, PORTAL_PURPOSES, 'user__customer')
    user = invitation.user
    if user is None:
        raise NotFound(LINK_UNKNOWN)
    if not user.is_active:
        raise ServiceError(INACTIVE)
    return invitation, user


async def check_link(token: str) -> LinkInfo:
    """Whether the link can be used (ServiceError with the German reason otherwise) and for whom. Changes nothing."""
    invitation, user = await _open_invitation(token)
    return LinkInfo(name=user.name, email=user.email, purpose=invitation.purpose,
                    company=user.customer.name if user.customer else '')


async def use_link(token: str, *, password: str, confirmation: str, client: str = '') -> PortalUser:
    """Set the password through a one-time link. Used once: a second use, even at the same moment, is refused.
    A bad password leaves the link usable."""
    invitation, user = await _open_invitation(token)
    if errors := passwords.new_password_errors(password, confirmation, email=user.email, name=user.name):
        raise ValidationError(errors)
    password_hash = await passwords.hash_password(password)
    async with in_transaction():
        now = await claim_link(invitation)
        user.password_hash = password_hash
        user.password_changed_at = now
        await user.save(update_fields=['password_hash', 'password_changed_at'])
        ended = await sessions.end_sessions_of_user(user.id, 'password_reset')
        kind = (AuditKind.INVITATION_ACCEPTED if invitation.purpose == InvitationPurpose.EINLADUNG
                else AuditKind.PASSWORD_LINK_USED)
        await audit.record(
            kind, actor=user, object_type='user', object_id=user.id, details={'sessions_ended': ended},
            client=client,
        )
    return user
