"""Anträge from the Self-Service: every field rule of `check_application` (no database), then `submit_application`
on SQLite and PostgreSQL: the Antrag, the employee account, the audit trail, the duplicate rule, and the separate
login of employees."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

import pytest

from models import (
    Abo,
    AboStatus,
    Anrede,
    Antrag,
    AntragSource,
    AntragStatus,
    AuditEvent,
    Contract,
    ContractStatus,
    Customer,
    Employee,
    Kundencode,
    OutboxMail,
    PortalUser,
    Role,
    Ticketart,
)
from services import abo_dates, antraege, auth, clock, employee_accounts, kundencode, passwords, sessions
from services.antraege import (
    DUPLICATE_MESSAGE,
    MAX_AGE,
    MIN_AGE,
    ApplicationInput,
    check_application,
)
from services.audit import AuditKind
from services.errors import ServiceError, ValidationError
from services.kundencode import ALPHABET, CodeCheck, CodeStatus
from services.table_query import TableRequest
from services.validation import format_german_date
from tests.conftest import PASSWORD, make_user, new_contract, not_none
from tests.support import confirm_by_mail

TODAY = date(2026, 3, 5)  # before the cut-off: the first open start month is April 2026
pytestmark = pytest.mark.today(TODAY)
EMPLOYEE_PASSWORD = 'Herkules-Bergpark-Kaskaden-9'
FIRST_MONTH = abo_dates.first_open_start_month(TODAY)
LAST_MONTH = abo_dates.open_start_months(TODAY)[-1]

VALID = ApplicationInput(
    anrede='Frau', vorname='Lena', nachname='Schäfer', geburtsdatum='14.07.1988', email=' Lena.Schaefer@Example.DE ',
    strasse='Friedrich-Ebert-Straße 12', plz='34117', ort='Kassel', personalnummer='P-4711',
    startmonat=format_german_date(FIRST_MONTH), ticketart='Handyticket',
)
EMAIL = 'lena.schaefer@example.de'


@pytest.fixture
async def code(admin: PortalUser, contract: Contract) -> Kundencode:
    return await kundencode.generate_code(admin, contract.id, date(2026, 12, 31))


@pytest.fixture
async def check(code: Kundencode) -> CodeCheck:
    result = await kundencode.validate(code.code)
    assert result.ok
    return result


async def submit(
    check: CodeCheck, data: ApplicationInput = VALID, *, consent: bool = True, password: str = EMPLOYEE_PASSWORD,
    confirmation: str | None = None, client: str = '192.0.2.10',
) -> Antrag:
    return await antraege.submit_application(
        check, data, consent=consent, password=password,
        password_confirmation=password if confirmation is None else confirmation, client=client,
    )


async def second_check(admin: PortalUser, customer: Customer, number: str = 'V-2026-0002') -> CodeCheck:
    other = await new_contract(customer, number)
    other_code = await kundencode.generate_code(admin, other.id, date(2026, 12, 31))
    return await kundencode.validate(other_code.code)


async def nothing_written() -> bool:
    kinds = [AuditKind.CODE_USED, AuditKind.ANTRAG_SUBMITTED, AuditKind.EMPLOYEE_REGISTERED]
    return (
        await Antrag.all().count() == 0 and await Employee.all().count() == 0
        and await AuditEvent.filter(kind__in=kinds).count() == 0
    )


def years_before(day: date, years: int) -> date:
    return day.replace(year=day.year - years)


# --- every field rule (no database) ---------------------------------------------------------------------------------


def test_the_valid_input_passes_and_is_normalised() -> None:
    data = replace(VALID, anrede=' Frau ', vorname='  Lena ', ort=' Kassel ', plz=' 34117 ', ticketart=' Handyticket ')
    checked, errors = check_application(data, TODAY)
    assert errors == {}
    assert checked is not None
    assert checked.anrede is Anrede.FRAU
    assert checked.ticketart is Ticketart.HANDYTICKET
    assert (checked.vorname, checked.ort, checked.plz) == ('Lena', 'Kassel', '34117')
    assert checked.email == EMAIL
    assert checked.geburtsdatum == date(1988, 7, 14)
    assert checked.startmonat == FIRST_MONTH
    assert checked.person_key == 'lena|schäfer|1988-07-14'


def test_an_empty_form_names_every_required_field() -> None:
    checked, errors = check_application(ApplicationInput(), TODAY)
    assert checked is None
    assert set(errors) == {
        'anrede', 'vorname', 'nachname', 'geburtsdatum', 'email', 'strasse', 'plz', 'ort', 'startmonat', 'ticketart',
    }  # the Personalnummer is optional


LONG = 'x' * 10_000
BIRTHDAY_MESSAGE = f'Das Geburtsdatum ist nicht plausibel (Alter {MIN_AGE} bis {MAX_AGE} Jahre).'
DATE_FORMAT_MESSAGE = 'Bitte geben Sie das Geburtsdatum im Format TT.MM.JJJJ an.'
EMAIL_MESSAGE = 'Bitte geben Sie eine gültige E-Mail-Adresse an.'
PLZ_MESSAGE = 'Die PLZ besteht aus genau 5 Ziffern.'
START_MESSAGE = 'Bitte wählen Sie einen Startmonat.'
NOT_OPEN_MESSAGE = (
    f'Dieser Startmonat ist nicht mehr oder noch nicht wählbar (frühestens {abo_dates.month_label(FIRST_MONTH)}).'
)
ANREDE_MESSAGE = 'Bitte wählen Sie eine Anrede.'
TICKETART_MESSAGE = 'Bitte wählen Sie Chipkarte oder Handyticket.'


@pytest.mark.parametrize(
    ('field', 'value', 'message'),
    [
        ('anrede', '', ANREDE_MESSAGE),
        ('anrede', 'Frau Dr.', ANREDE_MESSAGE),
        ('anrede', 'Mx', ANREDE_MESSAGE),
        ('anrede', LONG, ANREDE_MESSAGE),
        ('vorname', '', 'Bitte geben Sie Ihren Vornamen an.'),
        ('vorname', '   ', 'Bitte geben Sie Ihren Vornamen an.'),
        ('nachname', '', 'Bitte geben Sie Ihren Nachnamen an.'),
        ('strasse', ' ', 'Bitte geben Sie Straße und Hausnummer an.'),
        ('ort', '', 'Bitte geben Sie den Ort an.'),
        ('geburtsdatum', '', DATE_FORMAT_MESSAGE),
        ('geburtsdatum', '31.02.1990', DATE_FORMAT_MESSAGE),
        ('geburtsdatum', '14.07.88', DATE_FORMAT_MESSAGE),
        ('geburtsdatum', '1988/07/14', DATE_FORMAT_MESSAGE),
        ('geburtsdatum', 'gestern', DATE_FORMAT_MESSAGE),
        ('geburtsdatum', LONG, DATE_FORMAT_MESSAGE),
        ('geburtsdatum', format_german_date(years_before(TODAY, MIN_AGE) + timedelta(days=1)), BIRTHDAY_MESSAGE),
        ('geburtsdatum', format_german_date(years_before(TODAY, MAX_AGE + 1)), BIRTHDAY_MESSAGE),
        ('geburtsdatum', format_german_date(TODAY + timedelta(days=1)), BIRTHDAY_MESSAGE),
        ('geburtsdatum', '01.01.1800', BIRTHDAY_MESSAGE),
        ('email', '', EMAIL_MESSAGE),
        ('email', 'lena', EMAIL_MESSAGE),
        ('email', 'lena@', EMAIL_MESSAGE),
        ('email', '@example.de', EMAIL_MESSAGE),
        ('email', 'lena@example', EMAIL_MESSAGE),
        ('email', 'lena schaefer@example.de', EMAIL_MESSAGE),
        ('email', 'lena@@example.de', EMAIL_MESSAGE),
        ('email', 'a' * 65 + '@example.de', EMAIL_MESSAGE),
        ('email', LONG + '@example.de', EMAIL_MESSAGE),
        ('plz', '', PLZ_MESSAGE),
        ('plz', '3411', PLZ_MESSAGE),
        ('plz', '341177', PLZ_MESSAGE),
        ('plz', '34a17', PLZ_MESSAGE),
        ('plz', '34 117', PLZ_MESSAGE),
        ('plz', '1' * 10_000, PLZ_MESSAGE),
        ('startmonat', '', START_MESSAGE),
        ('startmonat', 'April', START_MESSAGE),
        ('startmonat', format_german_date(FIRST_MONTH + timedelta(days=14)), START_MESSAGE),  # not a 1st
        ('startmonat', LONG, START_MESSAGE),
        ('startmonat', format_german_date(TODAY.replace(day=1)), NOT_OPEN_MESSAGE),  # this month: too late
        ('startmonat', format_german_date(abo_dates.first_of_month(TODAY, -12)), NOT_OPEN_MESSAGE),
        ('startmonat', format_german_date(abo_dates.first_of_month(LAST_MONTH, 1)), NOT_OPEN_MESSAGE),  # too early
        ('ticketart', '', TICKETART_MESSAGE),
        ('ticketart', 'Monatskarte', TICKETART_MESSAGE),
        ('ticketart', LONG, TICKETART_MESSAGE),
    ],
)
def test_each_field_rule_has_its_german_message(field: str, value: str, message: str) -> None:
    checked, errors = check_application(replace(VALID, **{field: value}), TODAY)
    assert checked is None
    assert errors == {field: message}


@pytest.mark.parametrize(
    ('field', 'limit'), [('vorname', 100), ('nachname', 100), ('strasse', 200), ('ort', 100), ('personalnummer', 50)]
)
def test_text_length_limits(field: str, limit: int) -> None:
    checked, errors = check_application(replace(VALID, **{field: 'ä' * limit}), TODAY)
    assert errors == {}
    assert checked is not None
    assert len(getattr(checked, field)) == limit
    for too_long in ('ä' * (limit + 1), 'x' * 10_000):
        checked, errors = check_application(replace(VALID, **{field: too_long}), TODAY)
        assert checked is None
        assert list(errors) == [field]
        assert errors[field].endswith(f'darf höchstens {limit} Zeichen lang sein.')


@pytest.mark.parametrize('field', ['anrede', 'ticketart'])
def test_choices_ignore_case_but_nothing_else(field: str) -> None:
    """Spreadsheets of the Massenupload write 'frau' or 'CHIPKARTE'; a different word is still refused."""
    value = getattr(VALID, field)
    for other in (value.lower(), value.upper(), f' {value} '):
        checked, errors = check_application(replace(VALID, **{field: other}), TODAY)
        assert errors == {}
        assert getattr(checked, field).value == value
    assert check_application(replace(VALID, **{field: value + 'x'}), TODAY)[1] == {
        field: ANREDE_MESSAGE if field == 'anrede' else TICKETART_MESSAGE
    }


@pytest.mark.parametrize('anrede', list(Anrede))
def test_every_anrede_is_accepted(anrede: Anrede) -> None:
    checked, errors = check_application(replace(VALID, anrede=anrede.value), TODAY)
    assert errors == {}
    assert checked is not None and checked.anrede is anrede


@pytest.mark.parametrize('ticketart', list(Ticketart))
def test_every_ticketart_is_accepted(ticketart: Ticketart) -> None:
    checked, errors = check_application(replace(VALID, ticketart=ticketart.value), TODAY)
    assert errors == {}
    assert checked is not None and checked.ticketart is ticketart


def test_age_limits_are_inclusive() -> None:
    youngest = years_before(TODAY, MIN_AGE)  # 14th birthday today
    oldest = years_before(TODAY, MAX_AGE + 1) + timedelta(days=1)  # 101st birthday tomorrow
    for birthday in (youngest, oldest):
        checked, errors = check_application(replace(VALID, geburtsdatum=format_german_date(birthday)), TODAY)
        assert errors == {}
        assert checked is not None and checked.geburtsdatum == birthday


def test_iso_dates_from_date_pickers_are_accepted() -> None:
    checked, errors = check_application(
        replace(VALID, geburtsdatum='1988-07-14', startmonat=FIRST_MONTH.isoformat()), TODAY
    )
    assert errors == {}
    assert checked is not None and checked.startmonat == FIRST_MONTH


def test_every_offered_start_month_is_accepted() -> None:
    for month in abo_dates.open_start_months(TODAY):
        checked, errors = check_application(replace(VALID, startmonat=format_german_date(month)), TODAY)
        assert errors == {}
        assert checked is not None and checked.startmonat == month


def test_after_the_cut_off_the_next_month_is_closed() -> None:
    late = TODAY.replace(day=abo_dates.get_settings().cutoff_day + 1)
    first = abo_dates.first_open_start_month(late)
    assert first == abo_dates.first_of_month(FIRST_MONTH, 1)
    assert check_application(VALID, late)[1] == {
        'startmonat': f'Dieser Startmonat ist nicht mehr oder noch nicht wählbar (frühestens '
                      f'{abo_dates.month_label(first)}).'
    }


def test_person_key_ignores_case_and_spacing() -> None:
    birthday = date(1988, 7, 14)
    key = antraege.person_key('Lena Marie', 'Schäfer', birthday)
    assert antraege.person_key('  LENA   marie ', ' SCHÄFER\t', birthday) == key
    assert antraege.person_key('Lena Marie', 'Schäfer', birthday + timedelta(days=1)) != key
    assert antraege.person_key('Lena', 'Marie Schäfer', birthday) != key


@pytest.mark.parametrize('plz', ['٣٤١١٧', '３４１１７'])  # Arabic-Indic and full-width digits
def test_plz_accepts_only_ascii_digits(plz: str) -> None:
    assert check_application(replace(VALID, plz=plz), TODAY)[1] == {'plz': PLZ_MESSAGE}


# --- submitting (database) -------------------------------------------------------------------------------------------


async def test_a_valid_application_creates_antrag_account_and_audit(
    company: Customer, contract: Contract, code: Kundencode, check: CodeCheck
) -> None:
    antrag = await submit(check)
    stored = await Antrag.get(id=antrag.id)
    assert stored.status is AntragStatus.UNBESTAETIGT  # a new account: the address is confirmed first
    assert stored.source is AntragSource.SELF_SERVICE
    assert re.fullmatch(rf'A-{TODAY.year}-[{ALPHABET}]{{6}}', stored.reference)
    assert stored.contract_id == contract.id
    assert stored.code_id == code.id
    assert (stored.vorname, stored.nachname, stored.email) == ('Lena', 'Schäfer', EMAIL)
    assert stored.geburtsdatum == date(1988, 7, 14)
    assert stored.startmonat == FIRST_MONTH
    assert stored.anrede is Anrede.FRAU
    assert stored.ticketart is Ticketart.HANDYTICKET
    assert (stored.strasse, stored.plz, stored.ort, stored.personalnummer) == (
        'Friedrich-Ebert-Straße 12', '34117', 'Kassel', 'P-4711',
    )
    assert stored.person_key == 'lena|schäfer|1988-07-14'

    employee = await Employee.get(email=EMAIL)
    assert stored.employee_id == employee.id
    assert employee.is_active
    assert employee.password_hash.startswith('$argon2id$')
    assert EMPLOYEE_PASSWORD not in employee.password_hash
    assert await passwords.verify_password(employee.password_hash, EMPLOYEE_PASSWORD)

    events = {event.kind: event for event in await AuditEvent.all()}
    for kind in (AuditKind.CODE_USED, AuditKind.ANTRAG_SUBMITTED):
        event = events[kind]
        assert event.customer_id == company.id
        assert (event.object_type, event.object_id) == ('antrag', str(antrag.id))
        assert event.actor_label == EMAIL
        assert event.actor_id is None
        assert event.client == '192.0.2.10'
        assert event.details == {
            'reference': stored.reference, 'kundencode_id': code.id, 'vertragsnummer': contract.vertragsnummer,
        }
    registered = events[AuditKind.EMPLOYEE_REGISTERED]
    assert (registered.object_type, registered.object_id) == ('employee', str(employee.id))
    assert registered.actor_label == EMAIL
    everything = json.dumps([[event.details, event.actor_label] for event in events.values()])
    assert EMPLOYEE_PASSWORD not in everything
    assert employee.password_hash not in everything
    assert code.code not in everything


async def test_the_antrag_reaches_the_company_once_the_address_is_confirmed(
    admin: PortalUser, company: Customer, contract: Contract, check: CodeCheck
) -> None:
    antrag = await submit(check)
    assert (await antraege.list_antraege(admin, contract.id, TableRequest(), status='alle')).total == 0
    (confirmation,) = await OutboxMail.filter(recipient=EMAIL)
    assert (confirmation.kind, confirmation.customer_id) == ('konto_bestaetigung', company.id)
    await confirm_by_mail(EMAIL)
    await antrag.refresh_from_db()
    assert antrag.status is AntragStatus.OFFEN
    assert [row.id for row in (await antraege.list_antraege(admin, contract.id, TableRequest())).rows] == [antrag.id]
    assert (await Employee.get(email=EMAIL)).email_confirmed_at is not None
    assert await OutboxMail.filter(recipient=EMAIL, kind='antrag_eingegangen').count() == 1
    # a confirmed account's next Antrag (its right password) goes to the company at once
    other = await second_check(admin, company)
    second = await submit(other)
    assert second.status is AntragStatus.OFFEN
    assert await OutboxMail.filter(recipient=EMAIL, kind='antrag_eingegangen').count() == 2


async def test_an_unconfirmed_antrag_blocks_a_second_one_only_while_its_link_is_valid(
    check: CodeCheck, monkeypatch: pytest.MonkeyPatch
) -> None:
    await submit(check)
    with pytest.raises(ValidationError):
        await submit(check, SAME_PERSON)
    moment = clock.now() + employee_accounts.CONFIRM_VALIDITY + timedelta(minutes=1)
    monkeypatch.setattr('services.clock.now', lambda: moment)
    assert (await submit(check, SAME_PERSON)).status is AntragStatus.UNBESTAETIGT


async def test_references_differ(admin: PortalUser, company: Customer, check: CodeCheck) -> None:
    first = await submit(check)
    second = await submit(await second_check(admin, company), replace(VALID, vorname='Jonas'))
    assert first.reference != second.reference


@pytest.mark.parametrize(
    'data',
    [
        replace(VALID, plz='3411'),
        replace(VALID, vorname='x' * 10_000),
        replace(VALID, startmonat=format_german_date(TODAY.replace(day=1))),
        replace(VALID, anrede='Dr.'),
        ApplicationInput(),
    ],
    ids=['plz', 'long-vorname', 'closed-month', 'anrede', 'empty'],
)
async def test_invalid_data_writes_nothing(check: CodeCheck, data: ApplicationInput) -> None:
    with pytest.raises(ValidationError) as raised:
        await submit(check, data)
    assert raised.value.errors == check_application(data, TODAY)[1]
    assert await nothing_written()


async def test_consent_is_required(check: CodeCheck) -> None:
    with pytest.raises(ValidationError) as raised:
        await submit(check, consent=False)
    assert raised.value.errors == {
        'consent': 'Bitte bestätigen Sie, dass Sie die Datenschutzhinweise gelesen haben.'
    }
    with pytest.raises(ValidationError) as raised:
        await submit(check, replace(VALID, plz=''), consent=False)
    assert set(raised.value.errors) == {'plz', 'consent'}  # all problems at once
    assert await nothing_written()


MISMATCH_MESSAGE = 'Die Passwörter stimmen nicht überein.'


@pytest.mark.parametrize(
    ('password', 'confirmation', 'errors'),
    [
        ('kurz', 'kurz', {'password': 'Das Passwort muss mindestens 12 Zeichen lang sein.'}),
        ('passwort1234', 'passwort1234', {'password': passwords.password_problem('passwort1234')}),
        ('aaaabbbbcccc', 'aaaabbbbcccc', {'password': passwords.password_problem('aaaabbbbcccc')}),
        ('lena.schaefer-2026!', 'lena.schaefer-2026!', {
            'password': 'Das Passwort darf Ihren Namen oder Ihre E-Mail-Adresse nicht enthalten.'
        }),
        (EMPLOYEE_PASSWORD, EMPLOYEE_PASSWORD + 'x', {'password_confirmation': MISMATCH_MESSAGE}),
        (EMPLOYEE_PASSWORD, '', {'password_confirmation': MISMATCH_MESSAGE}),
        ('kurz', 'anders', {
            'password': 'Das Passwort muss mindestens 12 Zeichen lang sein.',
            'password_confirmation': MISMATCH_MESSAGE,
        }),
    ],
    ids=['short', 'common', 'few-characters', 'contains-email', 'mismatch', 'no-confirmation', 'both'],
)
async def test_weak_or_mismatched_passwords_are_refused(
    check: CodeCheck, password: str, confirmation: str, errors: dict[str, str]
) -> None:
    assert all(errors.values())
    with pytest.raises(ValidationError) as raised:
        await submit(check, password=password, confirmation=confirmation)
    assert raised.value.errors == errors
    assert await nothing_written()


async def test_an_invalid_code_check_is_refused(
    admin: PortalUser, contract: Contract, code: Kundencode, set_today: Callable[[date], None]
) -> None:
    checks = [await kundencode.validate('ABCD'), await kundencode.validate(kundencode.new_code())]
    set_today(code.valid_until + timedelta(days=1))
    checks.append(await kundencode.validate(code.code))
    set_today(TODAY)
    await Contract.filter(id=contract.id).update(status=ContractStatus.GEKUENDIGT)
    checks.append(await kundencode.validate(code.code))
    await Contract.filter(id=contract.id).update(status=ContractStatus.AKTIV)
    await kundencode.revoke_code(admin, contract.id)
    checks.append(await kundencode.validate(code.code))
    assert [result.status for result in checks] == [
        CodeStatus.MALFORMED, CodeStatus.UNKNOWN, CodeStatus.EXPIRED, CodeStatus.CONTRACT_INACTIVE, CodeStatus.REVOKED,
    ]
    for result in checks:
        with pytest.raises(ServiceError) as raised:
            await submit(result)
        assert not isinstance(raised.value, ValidationError)
        current = await kundencode.validate(result.code.code) if result.code else result
        assert str(raised.value) == current.message  # the state at submission counts, not the one at entry
    assert await nothing_written()


@pytest.mark.parametrize('change', ['revoke', 'end_contract', 'expire'])
async def test_a_code_withdrawn_after_entry_is_refused_at_submission(
    admin: PortalUser, contract: Contract, code: Kundencode, check: CodeCheck, change: str,
    set_today: Callable[[date], None],
) -> None:
    """The page keeps the CodeCheck of step 1 while the person fills in the form (possibly for hours, on a kiosk)."""
    day = TODAY
    if change == 'revoke':
        await kundencode.revoke_code(admin, contract.id)
    elif change == 'end_contract':
        await Contract.filter(id=contract.id).update(status=ContractStatus.BEENDET)
    else:
        day = code.valid_until + timedelta(days=1)
        set_today(day)
    assert (await kundencode.validate(code.code)).status is not CodeStatus.VALID
    data = replace(VALID, startmonat=format_german_date(abo_dates.first_open_start_month(day)))
    assert check_application(data, day)[1] == {}
    with pytest.raises(ServiceError):
        await submit(check, data)


# --- the duplicate rule ----------------------------------------------------------------------------------------------


SAME_PERSON = replace(VALID, vorname='  LENA ', nachname='schäfer  ', email='lena.privat@example.de')


async def test_the_same_person_cannot_apply_twice_while_the_first_is_open(check: CodeCheck) -> None:
    first = await submit(check)
    with pytest.raises(ValidationError) as raised:
        await submit(check, SAME_PERSON)
    assert raised.value.errors == {'nachname': DUPLICATE_MESSAGE}
    with pytest.raises(ValidationError):
        await submit(check)  # the very same data, same account
    assert [antrag.id for antrag in await Antrag.all()] == [first.id]
    assert await Employee.all().count() == 1  # the refusal created no second account

    await Antrag.filter(id=first.id).update(status=AntragStatus.ABGELEHNT)
    second = await submit(check, SAME_PERSON)  # a rejected Antrag does not block a new one
    assert second.person_key == first.person_key


async def test_a_different_person_may_apply_under_the_same_contract(check: CodeCheck) -> None:
    await submit(check)
    await submit(check, replace(VALID, geburtsdatum='15.07.1988'))  # same name, other birthday: a different person
    await submit(check, replace(VALID, vorname='Lena Marie'))
    assert await Antrag.all().count() == 3


async def test_the_same_person_may_apply_under_another_contract(
    admin: PortalUser, company: Customer, other_company: Customer, check: CodeCheck
) -> None:
    await submit(check)
    await submit(await second_check(admin, company), SAME_PERSON)
    foreign = await new_contract(other_company, 'V-2026-0100')
    other_admin = await make_user('admin@kaufunger-holzbau.de', Role.ADMIN, other_company)
    other_code = await kundencode.generate_code(other_admin, foreign.id, date(2026, 12, 31))
    await submit(await kundencode.validate(other_code.code), SAME_PERSON)
    assert await Antrag.filter(person_key='lena|schäfer|1988-07-14').count() == 3


async def make_abo(contract: Contract, status: AboStatus, endmonat: date | None = None) -> Abo:
    return await Abo.create(
        contract=contract, vorname='Lena', nachname='Schäfer', geburtsdatum=date(1988, 7, 14),
        strasse='Friedrich-Ebert-Straße 12', plz='34117', ort='Kassel', ticketart=Ticketart.CHIPKARTE,
        startmonat=date(2025, 1, 1), endmonat=endmonat, status=status,
        person_key=antraege.person_key('Lena', 'Schäfer', date(1988, 7, 14)), created_at=clock.now(),
    )


@pytest.mark.parametrize(
    ('status', 'endmonat', 'blocked'),
    [
        (AboStatus.AKTIV, None, True),
        (AboStatus.GEKUENDIGT, abo_dates.last_of_month(TODAY), True),  # still running this month
        (AboStatus.GEKUENDIGT, TODAY, True),  # its last day is today
        (AboStatus.GEKUENDIGT, TODAY - timedelta(days=1), False),  # ended yesterday
        (AboStatus.BEENDET, date(2025, 12, 31), False),
    ],
)
async def test_an_abo_that_has_not_ended_blocks_a_new_application(
    admin: PortalUser, company: Customer, contract: Contract, check: CodeCheck,
    status: AboStatus, endmonat: date | None, blocked: bool,
) -> None:
    await make_abo(contract, status, endmonat)
    if blocked:
        with pytest.raises(ValidationError) as raised:
            await submit(check, SAME_PERSON)
        assert raised.value.errors == {'nachname': DUPLICATE_MESSAGE}
        assert await Antrag.all().count() == 0
        await submit(await second_check(admin, company), SAME_PERSON)  # another contract is fine
    else:
        await submit(check, SAME_PERSON)
    assert await Antrag.all().count() == 1


# --- the employee account --------------------------------------------------------------------------------------------


async def test_an_existing_account_is_reused_with_its_password(
    admin: PortalUser, company: Customer, check: CodeCheck
) -> None:
    first = await submit(check)
    employee = await Employee.get(email=EMAIL)
    other = await second_check(admin, company)
    second = await submit(other, replace(VALID, email='LENA.SCHAEFER@example.de'))
    assert second.employee_id == first.employee_id == employee.id
    assert await Employee.all().count() == 1
    assert await AuditEvent.filter(kind=AuditKind.EMPLOYEE_REGISTERED).count() == 1
    await employee.refresh_from_db()
    assert await passwords.verify_password(employee.password_hash, EMPLOYEE_PASSWORD)


def person(number: int) -> ApplicationInput:
    """Another person (the duplicate rule is per person) with Lena's e-mail address."""
    return replace(VALID, vorname=f'Lena{ALPHABET[number % 32]}{ALPHABET[number // 32]}')


async def test_existing_and_unknown_addresses_get_the_same_answer(
    admin: PortalUser, company: Customer, check: CodeCheck
) -> None:
    """Finding: an existing address with another password got 'es gibt schon ein Konto' — an oracle for accounts.
    Now both are received alike: each waits for the confirmation link mailed to its address (the Antrag of a wrong
    password is attached to no account until the address's owner confirms it)."""
    await submit(check)
    employee = await Employee.get(email=EMAIL)
    hash_before = employee.password_hash
    other = await second_check(admin, company)

    wrong = await submit(other, person(1), password='Ganz-anderes-Passwort-42')
    unknown = await submit(other, replace(person(2), email='neu@example.de'), password='Ganz-anderes-Passwort-42')
    assert type(wrong) is type(unknown) is Antrag
    assert (wrong.status, unknown.status) == (AntragStatus.UNBESTAETIGT, AntragStatus.UNBESTAETIGT)
    assert wrong.employee_id is None  # not attached to someone else's account
    assert unknown.employee_id is not None
    assert (await Employee.get(email=EMAIL)).password_hash == hash_before  # not overwritten
    failed = await AuditEvent.filter(kind=AuditKind.LOGIN_FAILED).get()  # the wrong password, audited
    assert (failed.actor_label, failed.client, failed.details) == (EMAIL, '192.0.2.10', {'purpose': 'application'})


@pytest.mark.parametrize(('password', 'confirmation', 'field'), [
    ('kurz', 'kurz', 'password'), (EMPLOYEE_PASSWORD, 'anders', 'password_confirmation'),
])
async def test_the_same_password_rules_for_every_address(
    admin: PortalUser, company: Customer, check: CodeCheck, password: str, confirmation: str, field: str
) -> None:
    """Finding: the rules for a new password applied to unknown addresses only, so their messages told existing
    addresses apart."""
    await submit(check)
    other = await second_check(admin, company)
    answers = []
    for email in (EMAIL, 'neu@example.de'):
        with pytest.raises(ValidationError) as raised:
            await submit(other, replace(person(1), email=email), password=password, confirmation=confirmation)
        answers.append(raised.value.errors)
    assert answers[0] == answers[1]
    assert list(answers[0]) == [field]


async def test_password_guesses_in_the_application_are_throttled(
    admin: PortalUser, company: Customer, check: CodeCheck
) -> None:
    """Finding: 15 guesses in 5 s, and the right one created an Antrag in the account. Now the guesses count like
    failed logins: after the lock even the right password does not attach the Antrag, and the login is locked too."""
    await submit(check)
    other = await second_check(admin, company)
    for number in range(1, 16):
        await submit(other, person(number), password=f'Falsches-Passwort-{number:02d}')
    right = await submit(other, person(20))
    assert right.employee_id is None
    assert await Antrag.filter(employee__email=EMAIL).count() == 1  # the first one only
    assert await AuditEvent.filter(kind=AuditKind.LOGIN_LOCKED, actor_label=EMAIL).exists()
    assert await AuditEvent.filter(kind=AuditKind.LOGIN_BLOCKED, actor_label=EMAIL).exists()
    login = await auth.login(EMAIL, EMPLOYEE_PASSWORD, account_type=Employee)
    assert login.token is None and 'Zu viele fehlgeschlagene Anmeldeversuche' in (login.error or '')


@pytest.fixture
def hashing_work(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every argon2 operation the application does, whatever its outcome."""
    calls: list[str] = []
    verify, hash_ = passwords.verify_password, passwords.hash_password

    async def counting_verify(password_hash: str | None, password: str) -> bool:
        calls.append('verify')
        return await verify(password_hash, password)

    async def counting_hash(password: str) -> str:
        calls.append('hash')
        return await hash_(password)

    monkeypatch.setattr(passwords, 'verify_password', counting_verify)
    monkeypatch.setattr(passwords, 'hash_password', counting_hash)
    return calls


async def test_every_address_costs_the_same_hashing_work(
    admin: PortalUser, company: Customer, check: CodeCheck, hashing_work: list[str]
) -> None:
    """Timing must not tell addresses apart either: one verification and one hash on every path."""
    await submit(check)
    other = await second_check(admin, company)

    async def work(name: str, data: ApplicationInput, password: str = EMPLOYEE_PASSWORD) -> list[str]:
        hashing_work.clear()
        antrag = await submit(other, data, password=password)
        assert antrag.reference, name
        return sorted(hashing_work)

    assert await work('unknown', replace(person(1), email='neu@example.de')) == ['hash', 'verify']
    assert await work('right password', person(2)) == ['hash', 'verify']
    for number in range(3, 8):
        assert await work('wrong password', person(number), f'Falsches-Passwort-{number:02d}') == ['hash', 'verify']
    assert await AuditEvent.filter(kind=AuditKind.LOGIN_LOCKED).exists()
    assert await work('locked', person(9)) == ['hash', 'verify']


async def test_the_employee_logs_in_to_the_self_service_only(admin: PortalUser, check: CodeCheck) -> None:
    await submit(check)
    employee = await Employee.get(email=EMAIL)
    result = await auth.login(' Lena.Schaefer@example.de', EMPLOYEE_PASSWORD, account_type=Employee)
    assert result.error is None
    assert result.token
    assert isinstance(result.user, Employee) and result.user.id == employee.id
    found = await sessions.employee_for_token(result.token)
    assert found is not None and found.id == employee.id
    assert await sessions.user_for_token(result.token) is None  # no portal session
    login_event = await AuditEvent.filter(kind=AuditKind.LOGIN).get()
    assert (login_event.object_type, login_event.object_id) == ('employee', str(employee.id))

    # The employee account is no portal account, and a portal session is no Self-Service session.
    assert (await auth.login(EMAIL, EMPLOYEE_PASSWORD)).error == auth.WRONG_CREDENTIALS
    portal = await auth.login(admin.email, PASSWORD)
    assert portal.token
    assert await sessions.employee_for_token(portal.token) is None
    portal_user = await sessions.user_for_token(portal.token)
    assert portal_user is not None and portal_user.id == admin.id
    assert (await auth.login(admin.email, PASSWORD, account_type=Employee)).error == auth.WRONG_CREDENTIALS

    await sessions.end_session(result.token)
    assert await sessions.employee_for_token(result.token) is None


async def test_a_portal_users_address_can_also_hold_a_separate_employee_account(
    admin: PortalUser, check: CodeCheck
) -> None:
    await submit(check, replace(VALID, email=admin.email))
    employee = await Employee.get(email=admin.email)
    employee_login = await auth.login(admin.email, EMPLOYEE_PASSWORD, account_type=Employee)
    portal_login = await auth.login(admin.email, PASSWORD)
    assert employee_login.token and portal_login.token
    assert not_none(await sessions.employee_for_token(employee_login.token)).id == employee.id
    assert not_none(await sessions.user_for_token(portal_login.token)).id == admin.id
    assert await sessions.user_for_token(employee_login.token) is None
    assert await sessions.employee_for_token(portal_login.token) is None
    assert (await auth.login(admin.email, PASSWORD, account_type=Employee)).token is None  # passwords not shared


# --- rare paths ------------------------------------------------------------------------------------------------------


async def test_a_reference_drawn_twice_is_refused_and_a_retry_works(
    check: CodeCheck, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await submit(check)
    monkeypatch.setattr(antraege, 'new_reference', lambda today: first.reference)
    jonas = replace(VALID, vorname='Jonas', email='jonas@example.de')
    with pytest.raises(ServiceError, match='konnte nicht gespeichert werden'):
        await submit(check, jonas)
    assert await Antrag.all().count() == 1
    assert await AuditEvent.filter(kind=AuditKind.ANTRAG_SUBMITTED).count() == 1  # rolled back with the Antrag
    monkeypatch.undo()
    monkeypatch.setattr('services.clock.today', lambda: TODAY)
    retried = await submit(check, jonas)  # the account from the failed try is reused
    assert retried.reference != first.reference
    assert await Employee.filter(email='jonas@example.de').count() == 1


@pytest.fixture
def hashing_waits_for_two(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two submissions meet before either hashes its new password, i.e. after both passed the duplicate check and
    the account look-up: the interleaving that two people (or two browser tabs) pressing "Absenden" at once get.
    A fixed version that serialises submissions never lets two meet; the wait then just times out."""
    original = passwords.hash_password
    arrived = 0
    both_here = asyncio.Event()

    async def hash_when_both_arrived(password: str) -> str:
        nonlocal arrived
        arrived += 1
        if arrived >= 2:
            both_here.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(both_here.wait(), 2)
        return await original(password)

    monkeypatch.setattr(passwords, 'hash_password', hash_when_both_arrived)


async def test_concurrent_submissions_of_one_person_create_one_antrag(
    check: CodeCheck, hashing_waits_for_two: None
) -> None:
    results = await asyncio.gather(
        submit(check), submit(check, replace(SAME_PERSON, email='lena.zwei@example.de')), return_exceptions=True,
    )
    assert len([result for result in results if isinstance(result, Antrag)]) == 1, results
    assert await Antrag.all().count() == 1


async def test_concurrent_new_accounts_with_one_email_give_a_german_message(
    admin: PortalUser, company: Customer, check: CodeCheck, hashing_waits_for_two: None
) -> None:
    other = await second_check(admin, company)
    results = await asyncio.gather(
        submit(check), submit(other, replace(VALID, vorname='Jonas')), return_exceptions=True,
    )
    assert len([result for result in results if isinstance(result, Antrag)]) >= 1, results
    assert all(isinstance(result, Antrag | ServiceError) for result in results), results


async def test_an_overlong_email_is_a_field_message_not_a_database_error(check: CodeCheck) -> None:
    """Issue 11: a 300-character address made Tortoise refuse the account lookup, so the form failed silently."""
    with pytest.raises(ValidationError) as refused:
        await submit(check, replace(VALID, email='x' * 300 + '@example.de'))
    assert refused.value.errors['email'] == 'Bitte geben Sie eine gültige E-Mail-Adresse an.'
    assert not await Antrag.exists()


async def test_a_nul_in_the_email_is_dropped_like_surrounding_spaces(check: CodeCheck) -> None:
    """Issue 11: PostgreSQL refused the lookup of an address holding NUL (HTTP 500 / a silent form)."""
    antrag = await submit(check, replace(VALID, email='lena.schaefer\x00@example.de'))
    assert antrag.email == EMAIL
