"""The month on SQLite and PostgreSQL: tariff blocks in the database, the dated subsidy with the 25 % rule per month,
which Abos belong to a month (start/end months, Kündigung around the cut-off day, leap years), closing a month
(refused before its cut-off, idempotent, immutable, corrections in the next month), tenant scoping of months and
files, and the files read back."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from models import (
    Abo,
    AboStatus,
    BillingLine,
    BillingRun,
    Contract,
    Customer,
    Employee,
    LineKind,
    PortalUser,
    Produktangebot,
    Role,
    SubsidyChange,
    TariffBlock,
    Ticketart,
)
from services import abrechnung, clock, meine_abos, tarife, zuschuesse
from services.antraege import person_key
from services.errors import NotFound, PermissionDenied, ServiceError, ValidationError
from services.vertraege import create_contract
from tests.conftest import make_user

TODAY = date(2026, 6, 14)
pytestmark = pytest.mark.today(TODAY)
MAY, JUNE, JULY = date(2026, 5, 1), date(2026, 6, 1), date(2026, 7, 1)


async def new_contract(customer: Customer, number: str, zuschuss: int = 2000) -> Contract:
    return await create_contract(customer=customer, vertragsnummer=number, produktangebot=Produktangebot.RECHNUNG,
                                 beginn=date(2025, 1, 1), arbeitgeberzuschuss_cent=zuschuss)


@pytest.fixture
async def contract(company: Customer) -> Contract:
    return await new_contract(company, 'DJ-2025-0001')


@pytest.fixture
async def other_contract(other_company: Customer) -> Contract:
    return await new_contract(other_company, 'DJ-2025-0002')


async def make_abo(contract: Contract, nachname: str, startmonat: date, endmonat: date | None = None, *,
                   personalnummer: str = '', employee: Employee | None = None) -> Abo:
    birthday = date(1988, 7, 14)
    return await Abo.create(
        contract=contract, employee=employee, vorname='Lena', nachname=nachname, geburtsdatum=birthday,
        personalnummer=personalnummer, strasse='Königsplatz 1', plz='34117', ort='Kassel',
        ticketart=Ticketart.CHIPKARTE, startmonat=startmonat, endmonat=endmonat,
        status=AboStatus.GEKUENDIGT if endmonat else AboStatus.AKTIV,
        person_key=person_key('Lena', nachname, birthday), created_at=clock.now(),
    )


async def names(actor: PortalUser, contract: Contract, month: date) -> list[str]:
    return [line.nachname for line in (await abrechnung.statement(actor, contract.id, month)).lines]


# --- tariff blocks ----------------------------------------------------------------------------------------------------


async def test_the_file_seeds_only_an_empty_table(db: str) -> None:
    await TariffBlock.create(gueltig_ab=date(2020, 1, 1), preis_cent=4900, mindestzuschuss_prozent=25,
                             rabatt_prozent=5, created_at=clock.now())
    await tarife.seed_if_empty()
    assert await TariffBlock.all().count() == 1
    await TariffBlock.all().delete()
    await tarife.seed_if_empty()
    await tarife.seed_if_empty()
    assert await TariffBlock.all().order_by('gueltig_ab').values_list('gueltig_ab', 'preis_cent') == [
        (date(2025, 1, 1), 5800), (date(2026, 1, 1), 6300)]


async def test_a_new_block_counts_without_a_restart(staff: PortalUser) -> None:
    await tarife.seed_if_empty()
    assert tarife.tariff_on(date(2027, 1, 1)).preis_cent == 6300
    # Another process adds a block: the next read sees it, and the old synchronous API follows.
    await TariffBlock.create(gueltig_ab=date(2027, 1, 1), preis_cent=7000, mindestzuschuss_prozent=25,
                             rabatt_prozent=5, created_at=clock.now())
    assert (await tarife.current()).on(date(2027, 3, 1)).preis_cent == 7000
    assert tarife.tariff_on(date(2027, 3, 1)).preis_cent == 7000
    assert tarife.tariff_on(date(2026, 12, 1)).preis_cent == 6300


@pytest.mark.parametrize(('values', 'field', 'message'), [
    ({'gueltig_ab': date(2026, 6, 1)}, 'gueltig_ab', 'Ein neuer Tarif gilt frühestens ab Juli 2026'),
    ({'gueltig_ab': None}, 'gueltig_ab', 'Bitte wählen Sie den Monat'),
    ({'preis_cent': 0}, 'preis', 'Bitte geben Sie den Monatspreis'),
    ({'mindestzuschuss_prozent': 101}, 'mindestzuschuss_prozent', 'zwischen 0 und 100'),
    ({'rabatt_prozent': 80}, 'rabatt_prozent', 'zusammen dürfen 100 %'),
])
async def test_a_bad_block_is_refused_and_changes_nothing(
    staff: PortalUser, values: dict[str, Any], field: str, message: str
) -> None:
    form: dict[str, Any] = {
        'gueltig_ab': date(2027, 1, 1), 'preis_cent': 7000, 'mindestzuschuss_prozent': 25, 'rabatt_prozent': 5}
    with pytest.raises(ValidationError) as raised:
        await tarife.add_block(staff, **form | values)
    assert message in raised.value.errors[field]
    assert not await TariffBlock.exists()


async def test_only_staff_add_blocks_and_a_month_only_once(staff: PortalUser, admin: PortalUser) -> None:
    form: dict[str, Any] = {
        'gueltig_ab': date(2027, 1, 15), 'preis_cent': 7000, 'mindestzuschuss_prozent': 25, 'rabatt_prozent': 5}
    with pytest.raises(PermissionDenied):
        await tarife.add_block(admin, **form)
    added = await tarife.add_block(staff, **form)
    assert added.gueltig_ab == date(2027, 1, 1)  # always from the 1st
    with pytest.raises(ValidationError) as raised:
        await tarife.add_block(staff, **form)
    assert raised.value.errors == {'gueltig_ab': 'Für Januar 2027 gibt es bereits einen Tarif.'}
    assert await TariffBlock.all().count() == 3  # the file's two, then the new one


async def test_a_new_price_lists_every_contract_below_its_minimum(
    staff: PortalUser, admin: PortalUser, company: Customer, other_company: Customer
) -> None:
    low = await new_contract(company, 'DJ-LOW', zuschuss=1575)
    raised_in_time = await new_contract(company, 'DJ-RAISED', zuschuss=1575)
    await zuschuesse.change_subsidy(admin, raised_in_time.id, ab_monat=date(2027, 1, 1), zuschuss_cent=1750)
    lowered_later = await new_contract(other_company, 'DJ-OTHER', zuschuss=3000)
    await SubsidyChange.create(contract=lowered_later, gueltig_ab=date(2026, 9, 1), zuschuss_cent=1600,
                               created_at=clock.now())
    await new_contract(company, 'DJ-HIGH', zuschuss=2000)
    block = await tarife.add_block(staff, gueltig_ab=date(2027, 1, 1), preis_cent=7000, mindestzuschuss_prozent=25,
                                   rabatt_prozent=5)
    count, rows = await zuschuesse.below_minimum(staff, block)
    assert count == 2
    assert [(row.vertragsnummer, row.zuschuss_cent, row.mindestzuschuss_cent) for row in rows] == [
        ('DJ-LOW', 1575, 1750), ('DJ-OTHER', 1600, 1750)]
    # The company's administrator sees only the own contract, on the Dashboard's list.
    warnings = await zuschuesse.upcoming_shortfalls(admin)
    assert [row.contract_id for row in warnings] == [low.id]
    assert 'ab Januar 2027 unter dem Mindestzuschuss von 17,50 €' in warnings[0].message


# --- the subsidy history ----------------------------------------------------------------------------------------------


async def test_the_subsidy_changes_from_a_future_month_checked_against_that_months_tariff(
    admin: PortalUser, staff: PortalUser, contract: Contract
) -> None:
    await tarife.add_block(staff, gueltig_ab=date(2027, 1, 1), preis_cent=7000, mindestzuschuss_prozent=25,
                           rabatt_prozent=5)
    with pytest.raises(ValidationError) as raised:
        await zuschuesse.change_subsidy(admin, contract.id, ab_monat=date(2027, 1, 1), zuschuss_cent=1749)
    assert raised.value.errors == {'zuschuss': 'Der Arbeitgeberzuschuss ab Januar 2027 beträgt mindestens 17,50 € '
                                               '(25 % des Deutschlandticket-Preises von 70,00 €).'}
    await zuschuesse.change_subsidy(admin, contract.id, ab_monat=date(2026, 12, 1), zuschuss_cent=1575)  # 25 % of 63 €
    with pytest.raises(ValidationError) as raised:
        await zuschuesse.change_subsidy(admin, contract.id, ab_monat=date(2026, 12, 1), zuschuss_cent=1574)
    assert '15,75 €' in raised.value.errors['zuschuss']
    with pytest.raises(ValidationError) as raised:
        await zuschuesse.change_subsidy(admin, contract.id, ab_monat=JUNE, zuschuss_cent=2500)  # the running month
    assert raised.value.errors == {'ab_monat': 'Der Zuschuss lässt sich frühestens ab Juli 2026 ändern.'}
    await zuschuesse.change_subsidy(staff, contract.id, ab_monat=date(2027, 1, 1), zuschuss_cent=2000)
    await zuschuesse.change_subsidy(admin, contract.id, ab_monat=date(2027, 1, 1), zuschuss_cent=2100)  # replaces
    history = await zuschuesse.history(admin, contract.id)
    assert history.entries == [(date(2025, 1, 1), 2000), (date(2026, 12, 1), 1575), (date(2027, 1, 1), 2100)]
    assert history.current_cent == 2000
    assert [history.schedule.on(month) for month in (date(2026, 11, 1), date(2026, 12, 1), date(2027, 5, 1))] == [
        2000, 1575, 2100]
    await contract.refresh_from_db()
    assert contract.arbeitgeberzuschuss_cent == 2000  # the agreed start amount stays; the history derives the rest


async def test_only_administrators_and_staff_change_the_subsidy_of_their_own_contracts(
    company: Customer, contract: Contract, other_contract: Contract, admin: PortalUser
) -> None:
    clerk = await make_user('clerk@fahrradmanufaktur-kassel.de', Role.CLERK, company)
    with pytest.raises(PermissionDenied):
        await zuschuesse.change_subsidy(clerk, contract.id, ab_monat=date(2026, 8, 1), zuschuss_cent=2000)
    with pytest.raises(NotFound):
        await zuschuesse.change_subsidy(admin, other_contract.id, ab_monat=date(2026, 8, 1), zuschuss_cent=2000)
    assert not await SubsidyChange.exists()


# --- which Abos belong to a month -------------------------------------------------------------------------------------


async def test_month_membership_at_the_start_and_end_months(admin: PortalUser, contract: Contract) -> None:
    await make_abo(contract, 'Ab-Juni', JUNE)
    await make_abo(contract, 'Ab-Juli', JULY)
    await make_abo(contract, 'Bis-Mai', date(2026, 1, 1), date(2026, 5, 31))
    await make_abo(contract, 'Bis-Juni', date(2026, 1, 1), date(2026, 6, 30))
    await make_abo(contract, 'Nur-Juni', JUNE, date(2026, 6, 30))
    assert await names(admin, contract, MAY) == ['Bis-Juni', 'Bis-Mai']
    assert await names(admin, contract, JUNE) == ['Ab-Juni', 'Bis-Juni', 'Nur-Juni']
    assert await names(admin, contract, JULY) == ['Ab-Juli', 'Ab-Juni']


@pytest.mark.parametrize(('day', 'last_month'), [(date(2026, 6, 10), JUNE), (date(2026, 6, 11), JULY)])
async def test_a_kuendigung_by_the_cutoff_day_ends_this_month(
    admin: PortalUser, contract: Contract, set_today: Callable[[date], None], day: date, last_month: date
) -> None:
    employee = await Employee.create(email='lena@example.de', password_hash='-')
    abo = await make_abo(contract, 'Kündigt', date(2026, 1, 1), employee=employee)
    set_today(day)
    await meine_abos.cancel_abo(employee, abo.id)
    assert await names(admin, contract, last_month) == ['Kündigt']
    following = date(last_month.year, last_month.month + 1, 1)
    assert await names(admin, contract, following) == []


async def test_leap_year_february(admin: PortalUser, contract: Contract, monkeypatch: pytest.MonkeyPatch) -> None:
    await make_abo(contract, 'Schaltjahr', date(2028, 2, 1), date(2028, 2, 29))
    assert await names(admin, contract, date(2028, 2, 1)) == ['Schaltjahr']
    assert await names(admin, contract, date(2028, 3, 1)) == []
    assert abrechnung.cutoff_date(date(2028, 1, 1)) == date(2028, 2, 10)
    monkeypatch.setenv('CUTOFF_DAY', '31')
    from services.settings import reset_settings

    reset_settings()
    assert abrechnung.cutoff_date(date(2028, 1, 1)) == date(2028, 2, 29)
    assert abrechnung.cutoff_date(date(2027, 1, 1)) == date(2027, 2, 28)
    assert abrechnung.cutoff_date(date(2026, 12, 1)) == date(2027, 1, 31)


async def test_the_figures_per_person_follow_that_months_tariff_and_subsidy(
    admin: PortalUser, staff: PortalUser, contract: Contract, company: Customer
) -> None:
    await make_abo(contract, 'Weber', date(2025, 12, 1), personalnummer='4711')
    low = await new_contract(company, 'DJ-LOW', zuschuss=1575)
    await make_abo(low, 'Klein', date(2025, 12, 1))
    await tarife.add_block(staff, gueltig_ab=date(2027, 1, 1), preis_cent=7000, mindestzuschuss_prozent=25,
                           rabatt_prozent=5)
    await zuschuesse.change_subsidy(admin, contract.id, ab_monat=date(2027, 2, 1), zuschuss_cent=2500)

    async def figures(which: Contract, month: date) -> tuple[int, int, int, int]:
        (line,) = (await abrechnung.statement(admin, which.id, month)).lines
        return line.preis_cent, line.zuschuss_cent, line.rabatt_cent, line.eigenanteil_cent

    assert await figures(contract, date(2025, 12, 1)) == (5800, 2000, 290, 3510)
    assert await figures(contract, date(2026, 12, 1)) == (6300, 2000, 315, 3985)
    assert await figures(contract, date(2027, 1, 1)) == (7000, 2000, 350, 4650)
    assert await figures(contract, date(2027, 2, 1)) == (7000, 2500, 350, 4150)
    assert await figures(low, date(2026, 12, 1)) == (6300, 1575, 315, 4410)  # 44,10 €: the public example
    assert await figures(low, date(2027, 1, 1)) == (7000, 1575, 0, 5425)  # below the new minimum: no discount
    found = await abrechnung.statement(admin, contract.id, date(2027, 2, 1))
    assert (found.totals.personen, found.totals.eigenanteil_cent) == (1, 4150)
    assert not found.closed and 'Vorschau' in found.status_text


# --- closing a month --------------------------------------------------------------------------------------------------


async def test_a_month_closes_only_after_its_cutoff(staff: PortalUser, contract: Contract,
                                                    set_today: Callable[[date], None]) -> None:
    await make_abo(contract, 'Weber', date(2026, 1, 1))
    set_today(date(2026, 6, 10))
    with pytest.raises(ServiceError) as raised:
        await abrechnung.close_month(MAY, actor=staff)
    assert str(raised.value).startswith('Mai 2026 lässt sich erst nach dem Stichtag (10.06.2026) abschließen')
    with pytest.raises(ServiceError):
        await abrechnung.close_month(date(2026, 8, 1), actor=staff)  # a month in the future
    assert not await BillingRun.exists()
    set_today(date(2026, 6, 11))
    closing = await abrechnung.close_month(MAY, actor=staff)
    assert closing.created and closing.run.line_count == 1


async def test_only_staff_close(admin: PortalUser, contract: Contract) -> None:
    with pytest.raises(PermissionDenied):
        await abrechnung.close_month(MAY, actor=admin)
    assert not await BillingRun.exists()


async def test_closing_twice_changes_nothing(staff: PortalUser, admin: PortalUser, contract: Contract) -> None:
    await make_abo(contract, 'Weber', date(2026, 1, 1))
    first = await abrechnung.close_month(MAY, actor=staff)
    lines = await BillingLine.all().order_by('id').values()
    second = await abrechnung.close_month(MAY, actor=staff)
    assert not second.created and second.run.id == first.run.id
    assert await BillingLine.all().order_by('id').values() == lines
    assert await BillingRun.all().count() == 1


async def test_months_close_in_order(staff: PortalUser, contract: Contract, set_today: Callable[[date], None]) -> None:
    set_today(date(2026, 8, 20))
    await abrechnung.close_month(MAY, actor=staff)
    with pytest.raises(ServiceError) as raised:
        await abrechnung.close_month(JULY, actor=staff)
    assert str(raised.value) == 'Bitte schließen Sie zuerst Juni 2026 ab.'
    await abrechnung.close_month(JUNE, actor=staff)
    with pytest.raises(ServiceError):
        await abrechnung.close_month(date(2026, 4, 1), actor=staff)


async def test_a_closed_month_never_changes_and_a_late_change_is_corrected_next_month(
    staff: PortalUser, admin: PortalUser, contract: Contract, set_today: Callable[[date], None]
) -> None:
    weber = await make_abo(contract, 'Weber', date(2026, 1, 1), personalnummer='4711')
    await make_abo(contract, 'Klein', date(2026, 3, 1))
    await abrechnung.close_month(MAY, actor=staff)
    closed = await abrechnung.statement(admin, contract.id, MAY)
    assert closed.closed and [line.nachname for line in closed.lines] == ['Klein', 'Weber']
    # After closing: Weber's Abo is ended back to April (a correction by customer service), renamed, and a late
    # approval brings an Abo that started in May.
    weber.endmonat, weber.status, weber.cancelled_at = date(2026, 4, 30), AboStatus.BEENDET, clock.now()
    weber.nachname, weber.personalnummer = 'Weber-Neu', '9999'
    await weber.save()
    await make_abo(contract, 'Spät', MAY)
    again = await abrechnung.statement(admin, contract.id, MAY)
    assert again.lines == closed.lines and again.totals == closed.totals
    set_today(date(2026, 7, 11))
    await abrechnung.close_month(JUNE, actor=staff)
    june = await abrechnung.statement(admin, contract.id, JUNE)
    regular = [line.nachname for line in june.lines if line.art == LineKind.MONAT]
    corrections = [(line.nachname, line.leistungsmonat, line.eigenanteil_cent, line.zuschuss_cent)
                   for line in june.lines if line.art == LineKind.KORREKTUR]
    assert regular == ['Klein', 'Spät']
    assert sorted(corrections) == [('Spät', MAY, 3985, 2000), ('Weber-Neu', MAY, -3985, -2000)]
    assert june.totals.personen == 2
    assert june.totals.eigenanteil_cent == 2 * 3985
    # Closing the next month finds nothing more to correct.
    set_today(date(2026, 8, 11))
    await abrechnung.close_month(JULY, actor=staff)
    assert all(line.art == LineKind.MONAT for line in (await abrechnung.statement(admin, contract.id, JULY)).lines)


async def test_the_command_line_closes_through_the_same_service(contract: Contract) -> None:
    from main import close_month_command

    await make_abo(contract, 'Weber', date(2026, 1, 1))
    assert await close_month_command(MAY) == 'Mai 2026 abgeschlossen: 1 Zeilen.'
    assert await close_month_command(MAY) == 'Mai 2026 war bereits abgeschlossen (1 Zeilen); nichts geändert.'
    with pytest.raises(ServiceError):
        await close_month_command(JUNE)
    assert abrechnung.parse_month('05.2026') == MAY and abrechnung.parse_month('2026-05') == MAY
    assert abrechnung.parse_month('13.2026') is None and abrechnung.parse_month('Mai') is None


# --- scoping and the files --------------------------------------------------------------------------------------------


async def test_months_and_files_are_scoped_to_the_company(
    company: Customer, admin: PortalUser, staff: PortalUser, contract: Contract, other_contract: Contract
) -> None:
    await make_abo(contract, 'Weber', date(2026, 1, 1))
    await make_abo(other_contract, 'Fremd', date(2026, 1, 1))
    await abrechnung.close_month(MAY, actor=staff)
    for month in (MAY, JUNE):  # closed and open alike
        with pytest.raises(NotFound):
            await abrechnung.statement(admin, other_contract.id, month)
        with pytest.raises(NotFound):
            await abrechnung.month_file(admin, other_contract.id, month, 'lohnabrechnung', 'csv')
        assert await names(admin, contract, month) == ['Weber']
        assert await names(staff, other_contract, month) == ['Fremd']
    readonly = await make_user('lesen@fahrradmanufaktur-kassel.de', Role.READONLY, company)
    with pytest.raises(PermissionDenied):
        await abrechnung.statement(readonly, contract.id, MAY)
    with pytest.raises(PermissionDenied):
        await abrechnung.month_overview(admin, MAY)
    overview = await abrechnung.month_overview(staff, MAY)
    assert [(row.vertragsnummer, row.totals.personen) for row in overview.rows] == [
        ('DJ-2025-0001', 1), ('DJ-2025-0002', 1)]
    assert overview.totals.personen == 2 and overview.totals.zuschuss_cent == 4000
    preview = await abrechnung.month_overview(staff, JUNE)
    assert preview.run is None and preview.totals == overview.totals


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b'\xef\xbb\xbf')
    return list(csv.reader(io.StringIO(content.decode('utf-8-sig')), delimiter=';'))


def read_xlsx(content: bytes) -> list[tuple[object, ...]]:
    return list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))


async def test_statement_and_payroll_files_read_back(admin: PortalUser, staff: PortalUser, contract: Contract) -> None:
    await make_abo(contract, '=HYPERLINK("x")', date(2026, 1, 1), personalnummer='-4711')
    await make_abo(contract, 'Özdemir', date(2026, 5, 1), date(2026, 5, 31), personalnummer='0815')
    await abrechnung.close_month(MAY, actor=staff)

    statement_csv = await abrechnung.month_file(admin, contract.id, MAY, 'abrechnung', 'csv')
    assert statement_csv.file_name == 'Abrechnung_DJ-2025-0001_2026-05.csv'
    rows = read_csv(statement_csv.content)
    assert rows[0] == list(abrechnung.STATEMENT_COLUMNS)
    assert rows[1] == ['01.05.2026', 'Monat', "'-4711", '\'=HYPERLINK("x")', 'Lena', 'Chipkarte', '01.01.2026', '',
                       '63,00', '20,00', '3,15', '39,85']
    assert rows[2][2:4] == ['0815', 'Özdemir'] and rows[2][7] == '31.05.2026'
    assert rows[-1] == ['', 'Summe', '', '', '', '', '', '', '126,00', '40,00', '6,30', '79,70']

    sheet = read_xlsx((await abrechnung.month_file(admin, contract.id, MAY, 'abrechnung', 'xlsx')).content)
    assert sheet[0] == abrechnung.STATEMENT_COLUMNS
    first = sheet[1]
    assert first[0] == datetime(2026, 5, 1) and first[6] == datetime(2026, 1, 1)  # dates, not text
    assert first[2] == "'-4711" and first[3] == '\'=HYPERLINK("x")'
    assert [Decimal(str(value)) for value in first[8:]] == [Decimal('63'), Decimal('20'), Decimal('3.15'),
                                                            Decimal('39.85')]
    assert all(isinstance(value, int | float) for value in first[8:])
    assert sheet[-1][1] == 'Summe' and sheet[-1][11] == pytest.approx(79.70)

    payroll = read_csv((await abrechnung.month_file(admin, contract.id, MAY, 'lohnabrechnung', 'csv')).content)
    assert payroll == [list(abrechnung.PAYROLL_COLUMNS), ["'-4711", '\'=HYPERLINK("x")', 'Lena', '39,85', '20,00', ''],
                       ['0815', 'Özdemir', 'Lena', '39,85', '20,00', '']]
    payroll_xlsx = read_xlsx((await abrechnung.month_file(admin, contract.id, MAY, 'lohnabrechnung', 'xlsx')).content)
    assert payroll_xlsx[2] == ('0815', 'Özdemir', 'Lena', 39.85, 20, None)

    preview = await abrechnung.month_file(admin, contract.id, JUNE, 'abrechnung', 'csv')
    assert preview.file_name.endswith('_Vorschau.csv')
    with pytest.raises(ServiceError):
        await abrechnung.month_file(admin, contract.id, MAY, 'rechnung', 'pdf')
    overview = read_csv((await abrechnung.overview_csv(staff, MAY)).content)
    assert overview[1] == ['DJ-2025-0001', 'Fahrradmanufaktur Kassel GmbH', '2', '126,00', '40,00', '6,30', '79,70']


# --- Meine Abos: the employee's share ---------------------------------------------------------------------------------


async def test_meine_abos_shows_the_share_and_when_it_changes(
    admin: PortalUser, staff: PortalUser, contract: Contract
) -> None:
    employee = await Employee.create(email='lena@example.de', password_hash='-')
    await make_abo(contract, 'Weber', date(2026, 1, 1), employee=employee)
    await tarife.add_block(staff, gueltig_ab=date(2027, 1, 1), preis_cent=7000, mindestzuschuss_prozent=25,
                           rabatt_prozent=5)
    await zuschuesse.change_subsidy(admin, contract.id, ab_monat=date(2026, 10, 1), zuschuss_cent=2500)
    await zuschuesse.change_subsidy(admin, contract.id, ab_monat=date(2027, 3, 1), zuschuss_cent=2500)  # no change
    (abo,) = await meine_abos.my_abos(employee)
    shares = await meine_abos.monthly_shares(abo)
    assert [(share.ab, share.eigenanteil_cent, share.preis_cent, share.zuschuss_cent) for share in shares] == [
        (JUNE, 3985, 6300, 2000), (date(2026, 10, 1), 3485, 6300, 2500), (date(2027, 1, 1), 4150, 7000, 2500)]
    abo.endmonat = date(2026, 12, 31)  # ends before the new price: that change does not concern it
    assert [share.ab for share in await meine_abos.monthly_shares(abo)] == [JUNE, date(2026, 10, 1)]
