"""Self-Service accounts (Employee) beyond the application form: the confirmation of the address (before an Antrag
reaches the company), „Passwort vergessen“, and the invitation of people imported by Massenupload to claim their
account. One account per address, whatever the employer: Anträge and Abos under several contracts share the login.

The links are the portal's one-time links (services/anwender.py: only a digest stored, single use, a newer one ends
the older), addressed to `/self-service/konto/<token>`; requests for a reset are throttled like the portal's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from tortoise.transactions import in_transaction

from models import Abo, Antrag, AntragStatus, Customer, Employee, Invitation, InvitationPurpose, Upload
from services import anwender, audit, clock, mail, notifications, passwords, sessions
from services.anwender import FORGOTTEN_ANSWER, FORGOTTEN_LINK_VALIDITY
from services.audit import AuditKind
from services.database import flat_values
from services.errors import NotFound, ValidationError
from services.one_time_links import LINK_UNKNOWN, NewLink, claim_link, issue_link, open_link

LINK_PATH = '/self-service/konto/'
CLAIM_VALIDITY = timedelta(days=14)  # an invitation after an import: people read it when they get round to it
CONFIRM_VALIDITY = timedelta(days=7)
PASSWORD_PURPOSES = (InvitationPurpose.KONTO_EINLADUNG, InvitationPurpose.KONTO_PASSWORT)
INVITE_BATCH = 100  # people per transaction of `invite_imported` on PostgreSQL (readers never wait for a writer)
SELF_SERVICE = 'Self-Service D-Ticket Job'


@dataclass(frozen=True)
class EmployeeLink:
    email: str
    purpose: InvitationPurpose


async def _link(purpose: InvitationPurpose, validity: timedelta, employee: Employee, base_url: str = '') -> NewLink:
    return await issue_link(purpose, validity, path=LINK_PATH, employee=employee, base_url=base_url)


async def send_confirmation(employee: Employee, antrag: Antrag, company: Customer) -> None:
    """Inside the submission's transaction: the link that confirms the address and sends the Antrag on."""
    new = await _link(InvitationPurpose.KONTO_BESTAETIGUNG, CONFIRM_VALIDITY, employee)
    await mail.enqueue('konto_bestaetigung', employee.email, {
        'name': notifications.person_name(antrag), 'reference': antrag.reference, 'company': company.name,
        'link': new.link, 'expires_at': new.expires_at,
    }, customer_id=company.id, object_type='employee', object_id=employee.id, actor_label=employee.email)


async def _invite(employee: Employee, name: str, company: str, customer_id: int | None, base_url: str = '') -> None:
    new = await _link(InvitationPurpose.KONTO_EINLADUNG, CLAIM_VALIDITY, employee, base_url)
    await mail.enqueue('konto_einladung', employee.email, {
        'name': name, 'company': company, 'link': new.link, 'expires_at': new.expires_at, 'email': employee.email,
    }, customer_id=customer_id, object_type='employee', object_id=employee.id, actor_label=employee.email)


async def _release_unconfirmed(employee: Employee) -> int:
    """The address is proven: every Antrag waiting for it goes to its company (and belongs to this account), and the
    employee hears that it arrived. Saved one by one (each Antrag's mail follows its save)."""
    released = 0
    for antrag in await Antrag.filter(status=AntragStatus.UNBESTAETIGT, email=employee.email) \
            .select_related('contract__customer'):
        antrag.status, antrag.employee = AntragStatus.OFFEN, employee
        await antrag.save(update_fields=['status', 'employee_id'])
        await notifications.antrag_received(antrag)
        released += 1
    return released


async def _confirmed(employee: Employee, client: str) -> None:
    if employee.email_confirmed_at is None:
        employee.email_confirmed_at = clock.now()
        await employee.save(update_fields=['email_confirmed_at'])
    released = await _release_unconfirmed(employee)
    await audit.record(AuditKind.EMAIL_CONFIRMED, actor_label=employee.email, object_type='employee',
                       object_id=employee.id, details={'antraege': released}, client=client)


# --- the link page ---------------------------------------------------------------------------------------------------


async def _open(token: str, purposes: tuple[InvitationPurpose, ...]) -> tuple[Invitation, Employee]:
    """The open Self-Service link and its account (a Self-Service purpose always has one)."""
    invitation = await open_link(token, purposes, 'employee')
    if invitation.employee is None:
        raise NotFound(LINK_UNKNOWN)
    return invitation, invitation.employee


async def check_link(token: str) -> EmployeeLink:
    """Whether the Self-Service link can be used (ServiceError with the German reason) and what it is for."""
    invitation, employee = await _open(token, (*PASSWORD_PURPOSES, InvitationPurpose.KONTO_BESTAETIGUNG))
    return EmployeeLink(email=employee.email, purpose=invitation.purpose)


async def confirm_email(token: str, *, client: str = '') -> Employee:
    """Bestätigen: the address is the person's; their waiting Anträge go to the companies."""
    invitation, employee = await _open(token, (InvitationPurpose.KONTO_BESTAETIGUNG,))
    async with in_transaction():
        await claim_link(invitation)
        await _confirmed(employee, client)
    return employee


async def set_password(token: str, *, password: str, confirmation: str, client: str = '') -> Employee:
    """Claim an imported person's account or set a forgotten password. The link came by mail, so the address is
    confirmed too. Every session of the account ends."""
    invitation, employee = await _open(token, PASSWORD_PURPOSES)
    if errors := passwords.new_password_errors(password, confirmation, email=employee.email):
        raise ValidationError(errors)
    password_hash = await passwords.hash_password(password)
    async with in_transaction():
        await claim_link(invitation)
        employee.password_hash = password_hash
        await employee.save(update_fields=['password_hash'])
        ended = await sessions.end_sessions_of_employee(employee.id, 'password_reset')
        await audit.record(AuditKind.EMPLOYEE_LINK_USED, actor_label=employee.email, object_type='employee',
                           object_id=employee.id,
                           details={'purpose': invitation.purpose.value, 'sessions_ended': ended}, client=client)
        await _confirmed(employee, client)
    return employee


# --- Passwort vergessen ----------------------------------------------------------------------------------------------


async def request_password_reset(email: str, *, base_url: str = '', client: str = '') -> str:
    """The Self-Service's „Passwort vergessen“: the portal's answer and throttle; an active account gets a one-hour
    link, an imported account never claimed a fresh invitation. The answer never tells which, or whether any."""
    key = anwender.reset_address(email)
    if not await anwender.reset_request_allowed(key, client):
        return FORGOTTEN_ANSWER
    employee = await Employee.get_or_none(email=key, is_active=True)
    async with in_transaction():
        await audit.record(AuditKind.PASSWORD_RESET_REQUESTED, actor_label=key,
                           object_type='employee' if employee else '', object_id=employee.id if employee else '',
                           client=client)
        if employee is None:
            return FORGOTTEN_ANSWER
        if not employee.password_hash:
            await _invite(employee, '', SELF_SERVICE, None, base_url)
            return FORGOTTEN_ANSWER
        new = await _link(InvitationPurpose.KONTO_PASSWORT, FORGOTTEN_LINK_VALIDITY, employee, base_url)
        await mail.enqueue('passwort_vergessen', employee.email,
                           {'name': '', 'place': SELF_SERVICE, 'link': new.link, 'expires_at': new.expires_at},
                           object_type='employee', object_id=employee.id, actor_label=key, client=client)
    return FORGOTTEN_ANSWER


# --- Massenupload ----------------------------------------------------------------------------------------------------


async def invite_imported(upload_id: int) -> int:
    """After a Massenupload import of new people: every imported person's Antrag and Abo belong to the account of
    their address (one account across employers); an account made here has no password and its person gets an
    invitation to claim it (Meine Abos, address change, Kündigung). People who already have an account just see the
    new Abo there. Returns the number of invitations.

    In batches, each its own transaction, after the import's flip to 'importiert': in the import's final
    transaction the 10,000 people of a maximal file took 32–49 s, and on SQLite every other user's query waited that
    long for the one connection (bench/import_latency.py). A batch links its Anträge, so a run that stopped half-way
    is continued by the next (`invite_pending_imports`) without mailing anyone twice; on PostgreSQL two processes at
    it take different rows (SKIP LOCKED). Each batch starts after the last one's ids: antrag has no index on
    upload_id, and finding the first unlinked Antrag from the start of the table again was a scan per batch (per
    person on SQLite). The upload stays marked while any of its people is unlinked, also one another process holds."""
    invited, batch, after = 0, _invite_batch(), 0
    while True:
        async with in_transaction():
            ids = await flat_values(Antrag.filter(upload_id=upload_id, employee_id=None, id__gt=after).order_by('id')
                                    .limit(batch).select_for_update(skip_locked=True), 'id')
            if not ids:
                if not await Antrag.filter(upload_id=upload_id, employee_id=None).exists():
                    await Upload.filter(id=upload_id).update(invitations_pending=False)
                return invited
            after = ids[-1]
            invited += await _link_accounts(await Antrag.filter(id__in=ids).select_related('contract__customer')
                                            .order_by('id'))


def _invite_batch() -> int:
    """SQLite: one person per transaction. A person is about eight statements, and the process's one connection is
    another user's only way in: at 10,000 people, under load 5–6 on the 2-core machine, another user's page change
    waited p95 339 ms with 25 people a transaction, 247 ms with 10, 109 ms with 5 and 54 ms with one (the import then
    takes 162 s instead of 56 s: the importing administrator waits, nobody else)."""
    return 1 if Antrag._meta.db.capabilities.dialect == 'sqlite' else INVITE_BATCH


async def _link_accounts(antraege: list[Antrag]) -> int:
    emails = sorted({antrag.email for antrag in antraege})
    accounts = {account.email: account for account in await Employee.filter(email__in=emails)}
    invited = 0
    for antrag in antraege:
        account = accounts.get(antrag.email)
        if account is None:
            account = accounts[antrag.email] = await Employee.create(email=antrag.email, password_hash='')
            customer = antrag.contract.customer
            await _invite(account, notifications.person_name(antrag), customer.name, customer.id)
            await audit.record(AuditKind.EMPLOYEE_INVITED, actor_label=account.email, customer_id=customer.id,
                               object_type='employee', object_id=account.id,
                               details={'antrag': antrag.reference})
            invited += 1
        await Antrag.filter(id=antrag.id).update(employee_id=account.id)
        await Abo.filter(antrag_id=antrag.id).update(employee_id=account.id)
    return invited


async def invite_pending_imports() -> int:
    """At start-up (in the background): the invitations of imports whose process stopped before it had invited
    everyone. Returns the number of invitations."""
    invited = 0
    for upload_id in await flat_values(Upload.filter(invitations_pending=True).order_by('id'), 'id'):
        invited += await invite_imported(upload_id)
    return invited

