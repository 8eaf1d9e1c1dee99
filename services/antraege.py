"""Anträge, both sides: an employee's application checked and submitted (Self-Service, kiosk, and the rows of a
Massenupload), and the company's list per contract and its decision (Genehmigen/Ablehnen).

`check_application` holds every field rule and `taken_persons` the duplicate rule, so the Self-Service form and the
Massenupload share one definition of a valid application.

A decision is a conditional update (only while the Antrag is 'offen'), so when two people decide at once exactly
one wins; an approval creates the Abo in the same transaction, so there is never an approved Antrag without its Abo.

Nothing is back-dated: an open Antrag must be approved by its deadline ("genehmigen bis", the cut-off day before its
start month); approved later, the Abo starts in the first month still open that day, and the clerk is told so.

The employee's mail (approved with the Abo's start month, or rejected with the reason) is written in that transaction
too: a decision rolled back sends nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

from tortoise import timezone
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models import (
    Abo,
    AboStatus,
    Anrede,
    Antrag,
    AntragStatus,
    Contract,
    Customer,
    Employee,
    PortalUser,
    Produktangebot,
    Ticketart,
)
from services import (
    abo_dates,
    audit,
    clock,
    employee_accounts,
    kundencode,
    notifications,
    password_check,
    passwords,
    permissions,
    sepa,
)
from services.abos import abo_from
from services.audit import AuditKind
from services.errors import Conflict, NotFound, PermissionDenied, ServiceError, ValidationError
from services.i18n import N_, NC_, Month
from services.kundencode import ALPHABET, CodeCheck
from services.password_check import Purpose
from services.permissions import Action
from services.table_query import TablePage, TableRequest, fetch_page
from services.validation import (
    field_length,
    format_german_date,
    is_email,
    is_plz,
    normalize_email,
    parse_german_date,
    require_text,
)
from services.vertraege import get_contract

MIN_AGE = 14
MAX_AGE = 100
DUPLICATE_MESSAGE = N_('Für diese Person gibt es unter diesem Vertrag bereits einen offenen Antrag oder ein aktives '
                       'Abo.')


@dataclass
class ApplicationInput:
    """What a person typed (or a spreadsheet row held), as text: the rules below turn it into checked data."""

    anrede: str = ''
    vorname: str = ''
    nachname: str = ''
    geburtsdatum: str = ''
    email: str = ''
    strasse: str = ''
    plz: str = ''
    ort: str = ''
    personalnummer: str = ''
    startmonat: str = ''
    ticketart: str = ''
    iban: str = ''  # the SEPA mandate's, for "(SEPA-Lastschrift)" contracts only (services/sepa.py checks both)
    kontoinhaber: str = ''


@dataclass
class CheckedApplication:
    anrede: Anrede
    vorname: str
    nachname: str
    geburtsdatum: date
    email: str
    strasse: str
    plz: str
    ort: str
    personalnummer: str
    startmonat: date
    ticketart: Ticketart
    person_key: str = field(init=False)

    def __post_init__(self) -> None:
        self.person_key = person_key(self.vorname, self.nachname, self.geburtsdatum)


def person_key(vorname: str, nachname: str, geburtsdatum: date) -> str:
    """One person, however their name is capitalised or spaced."""
    return f'{" ".join(vorname.split()).casefold()}|{" ".join(nachname.split()).casefold()}|{geburtsdatum.isoformat()}'


def _age_on(birthday: date, day: date) -> int:
    return day.year - birthday.year - ((day.month, day.day) < (birthday.month, birthday.day))


def check_application(data: ApplicationInput, today: date) -> tuple[CheckedApplication | None, dict[str, str]]:
    """Every field rule, with a German message per faulty field; nothing is written."""
    errors: dict[str, str] = {}
    anrede = next((value for value in Anrede if value.value.casefold() == data.anrede.strip().casefold()), None)
    if anrede is None:
        errors['anrede'] = N_('Bitte wählen Sie eine Anrede.')
    vorname = require_text(errors, 'vorname', data.vorname, N_('Ihren Vornamen'), field_length(Antrag, 'vorname'))
    nachname = require_text(errors, 'nachname', data.nachname, N_('Ihren Nachnamen'), field_length(Antrag, 'nachname'))
    geburtsdatum = parse_german_date(data.geburtsdatum)
    if geburtsdatum is None:
        errors['geburtsdatum'] = N_('Bitte geben Sie das Geburtsdatum im Format TT.MM.JJJJ an.')
    elif not MIN_AGE <= _age_on(geburtsdatum, today) <= MAX_AGE:
        errors['geburtsdatum'] = N_('Das Geburtsdatum ist nicht plausibel (Alter {min} bis {max} Jahre).',
                                     min=MIN_AGE, max=MAX_AGE)
    email = normalize_email(data.email)
    if not is_email(email):
        errors['email'] = N_('Bitte geben Sie eine gültige E-Mail-Adresse an.')
    strasse = require_text(errors, 'strasse', data.strasse, NC_('Bitte geben Sie … an.', 'Straße und Hausnummer'),
                           field_length(Antrag, 'strasse'))
    plz = data.plz.strip()
    if not is_plz(plz):
        errors['plz'] = N_('Die PLZ besteht aus genau 5 Ziffern.')
    ort = require_text(errors, 'ort', data.ort, N_('den Ort'), field_length(Antrag, 'ort'))
    personalnummer = data.personalnummer.strip()
    if len(personalnummer) > (limit := field_length(Antrag, 'personalnummer')):
        errors['personalnummer'] = N_('Die Personalnummer darf höchstens {limit} Zeichen lang sein.', limit=limit)
    startmonat = parse_german_date(data.startmonat)
    if startmonat is None or startmonat.day != 1:
        errors['startmonat'] = N_('Bitte wählen Sie einen Startmonat.')
    elif startmonat not in abo_dates.open_start_months(today):
        errors['startmonat'] = N_('Dieser Startmonat ist nicht mehr oder noch nicht wählbar (frühestens {first}).',
                                  first=Month(abo_dates.first_open_start_month(today)))
    ticketart = next(
        (value for value in Ticketart if value.value.casefold() == data.ticketart.strip().casefold()), None
    )
    if ticketart is None:
        errors['ticketart'] = N_('Bitte wählen Sie Chipkarte oder Handyticket.')
    if errors:
        return None, errors
    assert anrede and geburtsdatum and startmonat and ticketart  # each one unset has an entry in `errors`
    return CheckedApplication(
        anrede=anrede, vorname=vorname, nachname=nachname, geburtsdatum=geburtsdatum, email=email,
        strasse=strasse, plz=plz, ort=ort, personalnummer=personalnummer, startmonat=startmonat,
        ticketart=ticketart,
    ), {}


def running_abo(today: date) -> Q:
    """An Abo that has not ended: active, or cancelled to a day not yet past."""
    return Q(status=AboStatus.AKTIV) | Q(status=AboStatus.GEKUENDIGT, endmonat__gte=today)


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


async def taken_persons(contract_id: int, person_keys: Sequence[str], personalnummern: Sequence[str] = (),
                        today: date | None = None, *, chunk: int = 30_000) -> tuple[set[str], set[str]]:
    """The duplicate rule, for one Self-Service Antrag and for a whole Massenupload file alike: which of these
    persons (`person_key`) and Personalnummern already have an open Antrag or an Abo that has not ended under the
    contract. An Antrag still waiting for its address confirmation counts as open while its link is valid, so an
    upload cannot add the same person beside it. Four queries per `chunk` keys (SQLite allows 32,766 parameters,
    PostgreSQL 32,767)."""
    today = today or clock.today()
    unconfirmed_since = timezone.localtime(clock.now() - employee_accounts.CONFIRM_VALIDITY)
    pending = Q(status=AntragStatus.OFFEN) | Q(status=AntragStatus.UNBESTAETIGT, created_at__gte=unconfirmed_since)
    persons: set[str] = set()
    numbers: set[str] = set()
    for keys in _chunks(sorted(set(person_keys)), chunk):
        persons.update(await Antrag.filter(
            pending, contract_id=contract_id, person_key__in=keys
        ).values_list('person_key', flat=True))  # type: ignore[arg-type]
        persons.update(await Abo.filter(
            running_abo(today), contract_id=contract_id, person_key__in=keys
        ).values_list('person_key', flat=True))  # type: ignore[arg-type]
    for keys in _chunks(sorted(set(filter(None, personalnummern))), chunk):
        numbers.update(await Antrag.filter(
            pending, contract_id=contract_id, personalnummer__in=keys
        ).values_list('personalnummer', flat=True))  # type: ignore[arg-type]
        numbers.update(await Abo.filter(
            running_abo(today), contract_id=contract_id, personalnummer__in=keys
        ).values_list('personalnummer', flat=True))  # type: ignore[arg-type]
    return persons, numbers


async def has_open_application_or_abo(contract_id: int, key: str) -> bool:
    """The duplicate rule for one person (`taken_persons`): an open Antrag, or an Abo that has not ended."""
    persons, _ = await taken_persons(contract_id, [key])
    return key in persons


def new_reference(today: date) -> str:
    """'A-2026-7K3M9Q': short enough to read out on the phone, random so it reveals no counts."""
    return f'A-{today.year}-' + ''.join(secrets.choice(ALPHABET) for _ in range(6))


def _new_password_errors(email: str, password: str, confirmation: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if problem := passwords.password_problem(password, email=email):
        errors['password'] = problem
    if password != confirmation:
        errors['password_confirmation'] = passwords.MISMATCH
    return errors


async def _account_for(email: str, password: str, client: str, device: str) -> tuple[Employee | None, str]:
    """The account the Antrag belongs to, and the hash for a new one; the same work for every address.

    Unknown address: (None, hash), and the caller creates the account. Existing account with its right password:
    (account, ''). Any other case (wrong password, locked, deactivated): (None, ''), and the Antrag goes to the
    employer without an account, like a Massenupload row, so nobody can attach Anträge to someone else's account
    and the answer never tells whether an address has one. Every path verifies once and hashes once (hashing is
    slow, so it happens before the transaction).
    """
    existing = await Employee.get_or_none(email=email)
    if existing is None:
        await passwords.verify_password(None, password)
        return None, await passwords.hash_password(password)
    check = await password_check.check_password(
        existing, password, email=email, purpose=Purpose.APPLICATION, client=client, device=device,
    )
    if check.refused:
        await passwords.verify_password(None, password)  # a refused check did not hash: spend the same time
    await passwords.hash_password(password)
    return (existing, '') if check.ok and existing.is_active else (None, '')


async def submit_application(
    check: CodeCheck,
    data: ApplicationInput,
    *,
    consent: bool,
    password: str,
    password_confirmation: str,
    mandate_consent: bool = False,
    client: str = '',
    device: str = '',
) -> Antrag:
    """The Self-Service Antrag: needs a valid Kundencode, valid data, consent and a password for the account.

    Every address gets the same rules, the same work and the same answer (see `_account_for`): the password is a
    new account's, or an existing account's (checked like a login, throttled and audited).

    The Antrag reaches the company ('offen') at once only from an account with a confirmed address and its right
    password; every other one waits 'unbestätigt' for the link mailed to the address (services/employee_accounts.py),
    so nobody can make Anträge, or an account, in someone else's name.

    The code is checked again here (the form may have been open for hours), and the duplicate rule is checked again
    with the contract row locked, so two submissions of one person at the same moment give one Antrag.

    Under a "(SEPA-Lastschrift)" contract the Antrag carries the SEPA mandate (IBAN, account holder, consent to
    `sepa.mandate_text()`), stored in the same transaction: no Antrag without its mandate, no mandate without it.
    """
    if check.code is None:
        raise ServiceError(check.message)
    check = await kundencode.validate(check.code.code)
    if not check.ok or check.code is None or check.contract is None:
        raise ServiceError(check.message)
    today = clock.today()
    checked, errors = check_application(data, today)
    if not consent:
        errors['consent'] = N_('Bitte bestätigen Sie, dass Sie die Datenschutzhinweise gelesen haben.')
    contract: Contract = check.contract
    mandate = None
    if contract.produktangebot == Produktangebot.SEPA:
        mandate, mandate_errors = sepa.check_mandate(data.iban, data.kontoinhaber, mandate_consent)
        errors.update(mandate_errors)
    # All messages in one round, the password's included, for every address alike.
    errors.update(_new_password_errors(normalize_email(data.email), password, password_confirmation))
    if errors or checked is None:
        raise ValidationError(errors)
    if await has_open_application_or_abo(contract.id, checked.person_key):
        raise ValidationError({'nachname': DUPLICATE_MESSAGE})
    account, new_account_hash = await _account_for(checked.email, password, client, device)
    try:
        async with in_transaction():
            await Contract.filter(id=contract.id).select_for_update().first()
            if await has_open_application_or_abo(contract.id, checked.person_key):
                raise ValidationError({'nachname': DUPLICATE_MESSAGE})
            employee = account
            if new_account_hash:
                employee = await Employee.create(email=checked.email, password_hash=new_account_hash)
                await audit.record(AuditKind.EMPLOYEE_REGISTERED, actor_label=checked.email,
                                   customer_id=contract.customer_id,
                                   object_type='employee', object_id=employee.id, client=client)
            confirmed = employee is not None and employee.email_confirmed_at is not None
            antrag = await Antrag.create(
                reference=new_reference(today), contract=contract, code=check.code, employee=employee,
                created_at=clock.now(),
                status=AntragStatus.OFFEN if confirmed else AntragStatus.UNBESTAETIGT, **vars(checked),
            )
            if mandate is not None:
                await sepa.mandate_for(antrag.id, contract.id, mandate, sepa.mandate_text()).save()
            await _audit_submission(antrag, check, checked.email, client)
            if confirmed:
                await notifications.antrag_received(antrag)
            else:  # a new account, or not this account's password: the mailbox's owner confirms
                owner = employee or await Employee.get(email=checked.email)
                await employee_accounts.send_confirmation(owner, antrag, await Customer.get(id=contract.customer_id))
    except IntegrityError:  # the same e-mail registered a moment ago, or a reference drawn twice: nothing written
        raise ServiceError(N_('Der Antrag konnte nicht gespeichert werden. Bitte senden Sie ihn erneut.')) from None
    return antrag


async def _audit_submission(antrag: Antrag, check: CodeCheck, email: str, client: str) -> None:
    contract = check.contract
    assert contract is not None and check.code is not None
    for kind in (AuditKind.CODE_USED, AuditKind.ANTRAG_SUBMITTED):
        await audit.record(
            kind, actor_label=email, customer_id=contract.customer_id,
            object_type='antrag', object_id=antrag.id,
            details={'reference': antrag.reference, 'kundencode_id': check.code.id,
                     'vertragsnummer': contract.vertragsnummer},
            client=client,
        )


# --- the company's side: the list per contract and the decision --------------------------------------------------

SORTABLE = ('created_at', 'nachname', 'personalnummer', 'startmonat', 'ticketart', 'status')
STATUS_FILTERS = ('offen', 'genehmigt', 'abgelehnt', 'alle')
ALREADY_DECIDED = 'Dieser Antrag wurde bereits entschieden, inzwischen vielleicht von jemand anderem.'
MAX_REASON = 500


def _visible() -> QuerySet[Antrag]:
    """What the company sees: not the Anträge still waiting for the employee's address confirmation."""
    return Antrag.exclude(status=AntragStatus.UNBESTAETIGT)


async def list_antraege(
    actor: PortalUser, contract_id: int, request: TableRequest, *, status: str = 'offen'
) -> TablePage[Antrag]:
    contract = await get_contract(actor, contract_id)
    permissions.require(actor, Action.VIEW_ANTRAEGE, contract.customer_id)
    queryset = permissions.scoped(_visible().filter(contract_id=contract.id), actor)
    if status in (value.value for value in AntragStatus):
        queryset = queryset.filter(status=status)
    if not request.sort:
        request = TableRequest(request.search, 'created_at', True, request.page, request.page_size)
    return await fetch_page(queryset, request, SORTABLE)


async def get_antrag(actor: PortalUser, antrag_id: int) -> Antrag:
    """One Antrag of a contract the actor may see; NotFound for every other id."""
    antrag = await permissions.scoped(_visible().filter(id=antrag_id), actor) \
        .select_related('contract__customer', 'decided_by').first()
    if antrag is None:
        raise NotFound('Der Antrag wurde nicht gefunden.')
    permissions.require(actor, Action.VIEW_ANTRAEGE, antrag.contract.customer_id)
    return antrag


async def open_counts(contract_ids: list[int]) -> dict[int, int]:
    """Open Anträge per contract (for the badges), in one grouped query. The ids are those of a table page that
    `vertraege.list_contracts` has already scoped; only counts leave here."""
    if not contract_ids:
        return {}
    rows = await Antrag.filter(contract_id__in=contract_ids, status=AntragStatus.OFFEN).group_by('contract_id') \
        .annotate(count=Count('id')).values('contract_id', 'count')
    return {row['contract_id']: row['count'] for row in rows}


async def decide(actor: PortalUser, antrag_id: int, *, approve: bool, reason: str = '', client: str = '') -> Antrag:
    antrag = await get_antrag(actor, antrag_id)
    permissions.require(actor, Action.DECIDE_ANTRAG, antrag.contract.customer_id)
    reason = ' '.join(reason.split())
    if not approve and not reason:
        raise ValidationError({'reason': 'Bitte geben Sie einen Grund für die Ablehnung an.'})
    if len(reason) > MAX_REASON:
        raise ValidationError({'reason': f'Der Grund darf höchstens {MAX_REASON} Zeichen lang sein.'})
    status = AntragStatus.GENEHMIGT if approve else AntragStatus.ABGELEHNT
    start = abo_dates.approval_start(antrag.startmonat, clock.today())
    moved = {'startmonat': start.isoformat()} if approve and start != antrag.startmonat else {}
    async with in_transaction():
        antrag.status, antrag.decided_at, antrag.decided_by_id = status, clock.now(), actor.id
        antrag.decision_reason = reason
        changed = await antrag.save_where(['status', 'decided_at', 'decided_by_id', 'decision_reason'],
                                          status=AntragStatus.OFFEN)
        if not changed:
            raise Conflict(ALREADY_DECIDED)
        if approve:
            await notifications.antrag_approved(antrag, await create_abo_from(antrag, start))
        else:
            antrag.decision_reason = reason
            await notifications.antrag_rejected(antrag)
        await audit.record(
            AuditKind.ANTRAG_APPROVED if approve else AuditKind.ANTRAG_REJECTED, actor=actor,
            customer_id=antrag.contract.customer_id, object_type='antrag', object_id=antrag.id,
            details={'reference': antrag.reference, **({'grund': reason} if reason else {}), **moved}, client=client,
        )
    await antrag.refresh_from_db()
    return antrag


async def create_abo_from(antrag: Antrag, startmonat: date | None = None) -> Abo:
    """The Abo of an approved Antrag, from `startmonat` (default: the requested month)."""
    abo = abo_from(antrag, clock.now())
    if startmonat is not None:
        abo.startmonat = startmonat
    await abo.save()
    return abo


@dataclass(frozen=True)
class Approval:
    """An approved Antrag and the start its Abo got: the requested month, or a later one after the deadline."""

    antrag: Antrag
    startmonat: date

    @property
    def moved(self) -> bool:
        return self.startmonat != self.antrag.startmonat

    @property
    def message(self) -> str:
        if not self.moved:
            return 'Antrag genehmigt; das Abo ist angelegt.'
        return (f'Antrag {self.antrag.reference} genehmigt, aber nach der Frist für '
                f'{abo_dates.month_label(self.antrag.startmonat)} (genehmigen bis '
                f'{format_german_date(abo_dates.approval_deadline(self.antrag.startmonat))}): das Abo beginnt erst '
                f'am {format_german_date(self.startmonat)}.')


async def approve(actor: PortalUser, antrag_id: int, *, client: str = '') -> Approval:
    """Genehmigen, with the start month the Abo got (stored on the Abo, which the employee's mail is written from)."""
    antrag = await decide(actor, antrag_id, approve=True, client=client)
    return Approval(antrag, (await Abo.get(antrag_id=antrag.id)).startmonat)


async def approve_many(actor: PortalUser, antrag_ids: list[int], *, client: str = '') -> tuple[int, list[str]]:
    """Genehmigen for a selection: each in its own transaction; returns (approved, messages for the others and for
    each approval whose start moved past its deadline)."""
    approved, notes = 0, []
    for antrag_id in antrag_ids[:500]:
        try:
            approval = await approve(actor, antrag_id, client=client)
            approved += 1
        except (Conflict, NotFound, PermissionDenied) as error:
            notes.append(str(error))
            continue
        if approval.moved:
            notes.append(approval.message)
    return approved, notes
