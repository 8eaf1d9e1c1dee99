"""Input out of range becomes "nicht gefunden" or a German field message, never a database error (issue 11): ids
beyond the database's integers, NUL characters (PostgreSQL refuses them in any text), dates at the end of Python's
range, values longer than their column; and the command line obeys the same contract rules as the web form.
Every database test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

import pytest

from main import build_parser, create_contract_command, euro_cents
from models import Contract, Customer, PortalUser, Produktangebot
from services import anwender, auth, kunden, protokoll, vertraege, verwaltung
from services.errors import NotFound, ValidationError
from services.protokoll import AuditFilter
from services.table_query import TableRequest
from services.validation import MAX_ID, is_email, parse_euro_cents, parse_german_date, parse_id, search_term

NUL = '\x00'


@pytest.mark.parametrize(
    ('value', 'parsed'),
    [
        (1, 1), ('42', 42), (' 7 ', 7), (MAX_ID, MAX_ID), (str(MAX_ID), MAX_ID), (MAX_ID + 1, None),
        ('99999999999', None), (2**63, None), (0, None), (-3, None), ('-3', None), (True, None), (False, None),
        (1.0, None), ('1.0', None), ('1e3', None), ('', None), (None, None), ('١٢', None), ('12\x00', None),
        ([1], None), ({'id': 1}, None),
    ],
)
def test_parse_id_accepts_only_ids_a_database_column_can_hold(value: object, parsed: int | None) -> None:
    assert parse_id(value) == parsed


@pytest.mark.parametrize('text', ['31.12.9999', '9999-12-31', '01.01.0001', '31.12.3000'])
def test_dates_at_the_end_of_pythons_range_are_no_dates(text: str) -> None:
    assert parse_german_date(text) is None


def test_dates_in_range_still_parse() -> None:
    assert parse_german_date('31.12.2999') == date(2999, 12, 31)
    assert parse_german_date('01.01.1800') == date(1800, 1, 1)


def test_nul_and_control_characters_are_no_email_and_no_search() -> None:
    assert not is_email('anna\x00@example.de')
    assert not is_email('anna@exam\x7fple.de')
    assert search_term(f' Kas{NUL}sel\t Nord ', 100) == 'Kassel Nord'
    assert search_term('x' * 50, 20) == 'x' * 20


# --- NUL in searches and lookups -------------------------------------------------------------------------------------


async def test_nul_in_a_search_finds_nothing_instead_of_failing(
    admin: PortalUser, staff: PortalUser, company: Customer
) -> None:
    await vertraege.create_contract(
        customer=company, vertragsnummer='DJ-2026-0001', produktangebot=Produktangebot.RECHNUNG,
        beginn=date(2026, 1, 1), arbeitgeberzuschuss_cent=1575,
    )
    page = await vertraege.list_contracts(admin, TableRequest(search=f'DJ{NUL}-2026'))
    assert [contract.vertragsnummer for contract in page.rows] == ['DJ-2026-0001']
    assert (await vertraege.list_contracts(staff, TableRequest(), kundennummer=f'100234{NUL}')).total == 1
    assert (await anwender.list_users(admin, TableRequest(search=NUL), customer_id=company.id)).total >= 1
    events = await protokoll.list_events(staff, TableRequest(), AuditFilter(user=NUL, kundennummer=NUL, kind=NUL))
    assert events.total >= 0


async def test_nul_in_a_lookup_is_not_found(staff: PortalUser) -> None:
    with pytest.raises(NotFound):
        await anwender.company(staff, f'1{NUL}')
    with pytest.raises(NotFound):
        await verwaltung.find_contract(staff, f'DJ{NUL}')


async def test_nul_in_an_email_is_dropped_like_surrounding_spaces(admin: PortalUser, company: Customer) -> None:
    """normalize_email, the one normalisation of every address, drops control characters: nobody types them, and
    PostgreSQL refused the lookup (and would refuse the row) with one in it."""
    issued = await anwender.invite(admin, name='Eva', email=f' Eva{NUL}@Example.de', role='clerk', base_url='http://x')
    assert issued.user.email == 'eva@example.de'
    customer = await kunden.create_customer(
        kundennummer='300100', name='Muster GmbH', strasse='Königsplatz 1', plz='34117', ort='Kassel',
        email=f'info{NUL}@muster.de',
    )
    assert customer.email == 'info@muster.de'


async def test_nul_in_the_login_is_a_wrong_login(admin: PortalUser) -> None:
    result = await auth.login(f'nobody{NUL}@example.de', 'falsch')
    assert (result.token, result.error) == (None, auth.WRONG_CREDENTIALS)


async def test_an_audit_filter_until_the_last_day_python_knows_is_refused_by_the_parser(staff: PortalUser) -> None:
    """The page parses 'Bis' with parse_german_date, which no longer yields 31.12.9999 (one day later overflowed)."""
    assert parse_german_date('31.12.9999') is None
    page = await protokoll.list_events(staff, TableRequest(), AuditFilter(until=parse_german_date('31.12.2999')))
    assert page.total >= 0


# --- values longer than their column ---------------------------------------------------------------------------------

NEW_CUSTOMER = {
    'kundennummer': '300100', 'name': 'Muster GmbH', 'strasse': 'Königsplatz 1', 'plz': '34117', 'ort': 'Kassel',
    'vertragsnummer': 'DJ-2027-0900', 'produktangebot': Produktangebot.RECHNUNG.value, 'beginn': '01.01.2027',
    'arbeitgeberzuschuss': '15,75', 'admin_name': 'Petra Muster', 'admin_email': 'petra@muster.de',
}


@pytest.mark.parametrize(
    ('field', 'value', 'message'),
    [
        ('vertragsnummer', 'V' * 21, 'Die Eingabe darf höchstens 20 Zeichen lang sein.'),
        ('kundennummer', '9' * 21, 'Die Eingabe darf höchstens 20 Zeichen lang sein.'),
        ('name', 'N' * 201, 'Die Eingabe darf höchstens 200 Zeichen lang sein.'),
        ('admin_name', 'P' * 201, 'Die Eingabe darf höchstens 200 Zeichen lang sein.'),
        ('admin_email', 'p' * 300 + '@muster.de', 'Bitte geben Sie eine gültige E-Mail-Adresse an.'),
    ],
)
async def test_overlong_values_in_the_verwaltung_form_are_field_messages(
    staff: PortalUser, field: str, value: str, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        await verwaltung.create_customer_with_contract(staff, **{**NEW_CUSTOMER, field: value}, base_url='http://x')
    assert refused.value.errors[field] == message
    assert not await Customer.exists()


@pytest.mark.parametrize(('field', 'limit'), [('ansprechpartner', 200), ('telefon', 50)])
async def test_overlong_optional_customer_fields_are_refused_not_cut(db: str, field: str, limit: int) -> None:
    overlong: dict[str, Any] = {field: 'x' * (limit + 1)}
    with pytest.raises(ValidationError) as refused:
        await kunden.create_customer(
            kundennummer='300100', name='Muster GmbH', strasse='Königsplatz 1', plz='34117', ort='Kassel',
            **overlong,
        )
    assert refused.value.errors == {field: f'Die Eingabe darf höchstens {limit} Zeichen lang sein.'}


# --- the command line obeys the contract rules -----------------------------------------------------------------------


def contract_args(zuschuss: str, beginn: str = '01.01.2027') -> argparse.Namespace:
    return build_parser().parse_args([
        'create-contract', '--kundennummer', '100234', '--vertragsnummer', 'DJ-2027-0900', '--beginn', beginn,
        '--zuschuss', zuschuss,
    ])


@pytest.mark.parametrize('zuschuss', ['1,00', '0', '63,01', '100'])
async def test_the_cli_refuses_a_subsidy_the_web_form_refuses(company: Customer, zuschuss: str) -> None:
    with pytest.raises(ValidationError) as refused:
        await create_contract_command(contract_args(zuschuss))
    assert set(refused.value.errors) == {'arbeitgeberzuschuss'}
    assert not await Contract.exists()


async def test_the_cli_creates_a_contract_with_an_allowed_subsidy(company: Customer) -> None:
    assert await create_contract_command(contract_args('15,75')) == 'Vertrag angelegt: DJ-2027-0900'
    contract = await Contract.get(vertragsnummer='DJ-2027-0900')
    assert contract.arbeitgeberzuschuss_cent == 1575


@pytest.mark.parametrize('text', ['1e3', 'inf', 'nan', '-15,75', '15,755', '1.000,00', ''])
def test_the_cli_reads_euros_with_the_one_euro_parser(text: str) -> None:
    assert parse_euro_cents(text) is None
    with pytest.raises(argparse.ArgumentTypeError):
        euro_cents(text)


def test_the_cli_and_the_web_read_the_same_amounts() -> None:
    for text in ('15,75', '15.75', '20', '20,- €', ' 31,5 '):
        assert euro_cents(text) == parse_euro_cents(text)
