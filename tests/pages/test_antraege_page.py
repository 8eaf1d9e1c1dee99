"""Anträge and Abos of a contract through NiceGUI's simulated user, with the demo data: the open count in the
contracts table, the Anträge table, the Antrag dialog (Genehmigen, Ablehnen with a reason), approving a selection,
the Abos tab with 'Abo beenden' and the downloads, the read-only view, and another company's contract in the URL.

Anträge are made through the services (as the Self-Service would), the page is driven through the simulation, and
the outcome is checked in the database. Quasar's slot menus cannot be clicked in the simulation, so row actions are
triggered as the menu would emit them."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, timedelta
from typing import Any, TypeVar, cast

import pytest
from nicegui import ElementFilter, ui
from nicegui.testing import User
from nicegui.testing.user_interaction import UserInteraction
from openpyxl import load_workbook

from models import Abo, AboStatus, Antrag, AntragStatus, AuditEvent, Contract, PortalUser, Role
from services import abo_dates, antraege, kundencode
from services.abos import EXPORT_COLUMNS
from services.antraege import ALREADY_DECIDED, ApplicationInput
from services.audit import AuditKind
from services.validation import format_german_date
from tests.pages.conftest import demo_login, log_in
from tests.support import confirm_by_mail, running, settle, wait_until

pytestmark = pytest.mark.both_databases  # the company's main pages, also on PostgreSQL
TODAY = date(2030, 6, 14)  # after the cut-off day: Anträge start in August 2030
START = abo_dates.first_open_start_month(TODAY)
VERTRAGSNUMMER = 'DJ-2024-0117'
FOREIGN_VERTRAGSNUMMER = 'DJ-2024-0233'
EMPLOYEE_PASSWORD = 'Wilhelmshoehe-Bergpark-88'
REASON_MISSING = 'Bitte geben Sie einen Grund für die Ablehnung an.'
RETRIES = 50  # should_see waits 0.1 s between tries: the dashboard after the login is slow on a busy machine
BOM = b'\xef\xbb\xbf'


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch: pytest.MonkeyPatch) -> date:
    monkeypatch.setattr('services.clock.today', lambda: TODAY)
    return TODAY


# --- helpers --------------------------------------------------------------------------------------------------------


async def demo_contract(vertragsnummer: str = VERTRAGSNUMMER) -> Contract:
    return await Contract.get(vertragsnummer=vertragsnummer)


async def demo_user(role: Role) -> PortalUser:
    return await PortalUser.get(email=demo_login(role).email)


async def make_antraege(*people: tuple[str, str, str], vertragsnummer: str = VERTRAGSNUMMER) -> list[Antrag]:
    """Anträge of (Vorname, Nachname, Personalnummer) under the contract, made through the Self-Service services with
    a fresh Kundencode of the demo administrator (staff for another company's contract)."""
    contract = await demo_contract(vertragsnummer)
    actor = await demo_user(Role.ADMIN if vertragsnummer == VERTRAGSNUMMER else Role.STAFF)
    code = await kundencode.generate_code(actor, contract.id, TODAY + timedelta(days=180), replace_current=True)
    check = await kundencode.validate(code.code)
    made = []
    for index, (vorname, nachname, personalnummer) in enumerate(people):
        antrag = await antraege.submit_application(
            check, ApplicationInput(
                anrede='Frau', vorname=vorname, nachname=nachname, geburtsdatum=f'{index + 1:02d}.03.1990',
                email=f'person{index}.{contract.id}@example.org', strasse='Königstor 12', plz='34117', ort='Kassel',
                personalnummer=personalnummer, startmonat=format_german_date(START), ticketart='Handyticket',
            ), consent=True, password=EMPLOYEE_PASSWORD, password_confirmation=EMPLOYEE_PASSWORD,
        )
        if antrag.status == AntragStatus.UNBESTAETIGT:  # a new account confirms its address; then it is 'offen'
            await confirm_by_mail(antrag.email)
            await antrag.refresh_from_db()
        made.append(antrag)
    return made


E = TypeVar('E', bound=ui.element)
LENA = ('Lena', 'Schäfer', 'P-4711')
JONAS = ('Jonas', 'Becker', 'P-0815')
MIA = ('Mia', 'Adler', '')


def all_of(user: User, kind: type[E], **filters: Any) -> list[E]:
    """Elements of a kind anywhere in the page (also in the hidden tab panel), oldest first."""
    with user:
        return sorted(ElementFilter(kind=kind, local_scope=False, **filters), key=lambda element: element.id)


def table_with(user: User, column: str) -> ui.table:
    """The Anträge table has an 'Eingang' column (created_at), the Abos table an 'Ende' column (endmonat)."""
    (table,) = [table for table in all_of(user, ui.table) if column in [c['name'] for c in table.columns]]
    return table


def antraege_table(user: User) -> ui.table:
    return table_with(user, 'created_at')


def abos_table(user: User) -> ui.table:
    return table_with(user, 'endmonat')


def names(table: ui.table) -> list[str]:
    return [row['nachname'] for row in table.rows]


async def trigger(user: User, table: ui.table, event: str, row: dict) -> set[asyncio.Task]:
    """What the row menu emits when an entry is chosen; waits until the handler has ended or opened a dialog (then
    `settle` with the returned tasks waits for the rest, once the dialog is answered)."""
    before = running()
    dialogs_before = {dialog.id for dialog in open_dialogs(user)}
    UserInteraction(user, {table}, None).trigger(event, row)
    await settle(before, until=lambda: any(dialog.id not in dialogs_before for dialog in open_dialogs(user)))
    return before


async def click(user: User, label: str, within: ui.element | None = None) -> None:
    """Click the visible button with exactly this text (inside `within` if given) and wait for what it started."""
    buttons = {button for button in all_of(user, ui.button, only_visible=True) if button.text == label
               and (within is None or button in within.descendants())}
    assert len(buttons) == 1, f'{len(buttons)} buttons {label!r}'
    before = running()
    UserInteraction(user, buttons, label).click()
    await settle(before)


def visible_buttons(user: User) -> set[str]:
    return {button.text for button in all_of(user, ui.button, only_visible=True)}


def buttons_in(dialog: ui.dialog) -> set[str]:
    return {element.text for element in dialog.descendants() if isinstance(element, ui.button) and element.visible}


def open_dialogs(user: User) -> list[ui.dialog]:
    return [dialog for dialog in all_of(user, ui.dialog) if dialog.value]


def the_dialog(user: User) -> ui.dialog:
    (dialog,) = open_dialogs(user)
    return dialog


def texts_in(dialog: ui.dialog) -> list[str]:
    return [element.text for element in dialog.descendants() if isinstance(element, ui.label)]


def reason_field(dialog: ui.dialog) -> ui.textarea:
    (field,) = [element for element in dialog.descendants() if isinstance(element, ui.textarea)]
    return field


async def open_page(user: User, contract: Contract, role: Role = Role.ADMIN, query: str = '') -> None:
    await log_in(user, role)
    await user.should_see('Willkommen', retries=RETRIES)
    await user.open(f'/vertragsverwaltung/{contract.id}/antraege{query}')
    await user.should_see(f'Anträge und Abos – Vertrag {contract.vertragsnummer}', retries=RETRIES)


async def open_antrag(user: User, antrag: Antrag) -> ui.dialog:
    row = next(row for row in antraege_table(user).rows if row['id'] == antrag.id)
    await trigger(user, antraege_table(user), 'open', row)
    await wait_until(lambda: len(open_dialogs(user)) == 1, 'the Antrag dialog')
    return the_dialog(user)


async def show_abos(user: User) -> None:
    before = running()
    user.find(kind=ui.tab, content='Abos').click()
    await settle(before)


async def choose_status(user: User, status: str) -> None:
    (select,) = [select for select in all_of(user, ui.select) if select.props.get('label') == 'Status']
    before = running()
    with user:
        select.value = status
    await settle(before)


# --- the contracts table --------------------------------------------------------------------------------------------


async def test_the_contracts_row_counts_the_open_antraege(user: User) -> None:
    lena, _, mia = await make_antraege(LENA, JONAS, MIA)
    admin = await demo_user(Role.ADMIN)
    await antraege.decide(admin, lena.id, approve=True)
    await antraege.decide(admin, mia.id, approve=False, reason='Nicht bei uns beschäftigt.')
    await make_antraege(('Martin', 'Fremd', ''), vertragsnummer=FOREIGN_VERTRAGSNUMMER)

    await log_in(user, Role.ADMIN)
    await user.should_see('Willkommen', retries=RETRIES)
    await user.open('/vertragsverwaltung?aktiv=0')
    await user.should_see('Ihre Verträge', retries=RETRIES)
    (table,) = user.find(ui.table).elements
    assert {row['vertragsnummer']: row['offen'] for row in table.rows} == {'DJ-2024-0117': 1, 'DJ-2023-0042': 0}
    template = table.slots['body-cell-aktionen'].template
    assert template is not None and 'props.row.offen' in template  # the badge on the menu

    await trigger(user, table, 'antraege', next(row for row in table.rows if row['offen']))
    await user.should_see(f'Anträge und Abos – Vertrag {VERTRAGSNUMMER}')
    assert names(antraege_table(user)) == ['Becker, Jonas']


async def test_staff_see_the_open_count_of_every_company(user: User) -> None:
    await make_antraege(LENA, JONAS)
    await make_antraege(('Martin', 'Fremd', ''), vertragsnummer=FOREIGN_VERTRAGSNUMMER)
    await log_in(user, Role.STAFF)
    await user.should_see('Willkommen', retries=RETRIES)
    await user.open('/vertragsverwaltung')
    await user.should_see('Ihre Verträge', retries=RETRIES)
    (table,) = user.find(ui.table).elements
    counts = {row['vertragsnummer']: row['offen'] for row in table.rows}
    assert counts[VERTRAGSNUMMER] == 2
    assert counts[FOREIGN_VERTRAGSNUMMER] == 1
    assert sum(counts.values()) == 3


# --- the Anträge table ----------------------------------------------------------------------------------------------


async def test_the_table_lists_the_open_antraege_newest_first(user: User) -> None:
    lena, jonas, mia = await make_antraege(LENA, JONAS, MIA)
    await antraege.decide(await demo_user(Role.ADMIN), jonas.id, approve=True)
    await open_page(user, await demo_contract())
    table = antraege_table(user)
    assert names(table) == ['Adler, Mia', 'Schäfer, Lena']
    row = table.rows[1]
    assert row == {
        'id': lena.id, 'label': 'Lena Schäfer', 'created_at': format_german_date(lena.created_at.date()),
        'nachname': 'Schäfer, Lena', 'personalnummer': 'P-4711', 'startmonat': abo_dates.month_label(START),
        'deadline': '10.07.2030', 'ticketart': 'Handyticket', 'status': 'offen',
    }
    assert table.rows[0]['personalnummer'] == '–'
    assert [column['label'] for column in table.columns] == [
        'Eingang', 'Name', 'Personalnummer', 'Startmonat', 'genehmigen bis', 'Ticketart', 'Status', '',
    ]
    assert table.props['selection'] == 'multiple'
    await user.should_see('angezeigt 1 bis 2 von 2 Einträge')

    await choose_status(user, 'alle')
    assert names(antraege_table(user)) == ['Adler, Mia', 'Becker, Jonas', 'Schäfer, Lena']
    await choose_status(user, 'genehmigt')
    assert names(antraege_table(user)) == ['Becker, Jonas']
    await choose_status(user, 'abgelehnt')
    assert antraege_table(user).rows == []
    await user.should_see('Keine Anträge gefunden')
    assert (await Antrag.get(id=mia.id)).status == AntragStatus.OFFEN


async def test_search_and_sort_in_the_antraege_table(user: User) -> None:
    await make_antraege(LENA, JONAS, MIA)
    await open_page(user, await demo_contract())
    (search,) = [field for field in all_of(user, ui.input) if field.props.get('aria-label') == 'In Anträgen suchen']
    before = running()
    UserInteraction(user, {search}, None).type('P-4711')
    await settle(before)
    await wait_until(lambda: names(antraege_table(user)) == ['Schäfer, Lena'], 'the search result')

    before = running()
    UserInteraction(user, {search}, None).clear()
    await settle(before)
    table = antraege_table(user)
    await trigger(user, table, 'request', {'pagination': {'sortBy': 'nachname', 'descending': False}})
    assert names(antraege_table(user)) == ['Adler, Mia', 'Becker, Jonas', 'Schäfer, Lena']
    assert antraege_table(user).pagination['sortBy'] == 'nachname'


# --- the Antrag dialog ----------------------------------------------------------------------------------------------


async def test_opening_an_antrag_shows_its_data(user: User) -> None:
    (lena,) = await make_antraege(LENA)
    await open_page(user, await demo_contract())
    dialog = await open_antrag(user, lena)
    shown = texts_in(dialog)
    for text in (f'Antrag {lena.reference}', 'offen', 'Frau Lena Schäfer', '01.03.1990', lena.email,
                 'Königstor 12, 34117 Kassel', 'P-4711', abo_dates.month_label(START), 'Handyticket',
                 format_german_date(lena.created_at.date())):
        assert text in shown, text
    assert buttons_in(dialog) == {'Genehmigen', 'Ablehnen', 'Schließen'}
    assert reason_field(dialog).visible

    await click(user, 'Schließen', dialog)
    await wait_until(lambda: not open_dialogs(user), 'the dialog to close')
    assert (await Antrag.get(id=lena.id)).status == AntragStatus.OFFEN


async def test_rejecting_needs_a_reason_then_shows_it(user: User) -> None:
    lena, jonas = await make_antraege(LENA, JONAS)
    await open_page(user, await demo_contract())
    dialog = await open_antrag(user, lena)

    await click(user, 'Ablehnen', dialog)
    assert reason_field(dialog).error == REASON_MISSING
    assert dialog.value  # stays open for the reason
    assert (await Antrag.get(id=lena.id)).status == AntragStatus.OFFEN

    UserInteraction(user, {reason_field(dialog)}, None).type('Frau Schäfer ist nicht mehr bei uns beschäftigt.')
    await click(user, 'Ablehnen', dialog)
    await user.should_see('Antrag abgelehnt.')
    await wait_until(lambda: not open_dialogs(user), 'the dialog to close')
    stored = await Antrag.get(id=lena.id)
    assert stored.status == AntragStatus.ABGELEHNT
    assert stored.decision_reason == 'Frau Schäfer ist nicht mehr bei uns beschäftigt.'
    assert stored.decided_by_id == (await demo_user(Role.ADMIN)).id
    assert not await Abo.exists()
    await wait_until(lambda: names(antraege_table(user)) == ['Becker, Jonas'], 'the refreshed table')

    await choose_status(user, 'abgelehnt')
    dialog = await open_antrag(user, lena)
    shown = texts_in(dialog)
    assert 'abgelehnt' in shown
    assert 'Begründung' in shown
    assert 'Frau Schäfer ist nicht mehr bei uns beschäftigt.' in shown
    assert 'Entschieden' in shown
    assert any(text.endswith(' von Anna Dietrich') for text in shown)  # the date is the real one of the decision
    assert not reason_field(dialog).visible
    assert buttons_in(dialog) == {'Schließen'}
    assert (await Antrag.get(id=jonas.id)).status == AntragStatus.OFFEN


async def test_approving_shows_the_abo_in_the_abos_tab(user: User) -> None:
    lena, _ = await make_antraege(LENA, JONAS)
    await open_page(user, await demo_contract())
    assert abos_table(user).rows == []
    dialog = await open_antrag(user, lena)
    await click(user, 'Genehmigen', dialog)
    await user.should_see('Antrag genehmigt; das Abo ist angelegt.')
    await wait_until(lambda: not open_dialogs(user), 'the dialog to close')
    (abo,) = await Abo.all()
    assert (abo.antrag_id, abo.status, abo.startmonat) == (lena.id, AboStatus.AKTIV, START)
    assert names(antraege_table(user)) == ['Becker, Jonas']

    await show_abos(user)
    table = abos_table(user)
    assert table.rows == [{
        'id': abo.id, 'label': 'Lena Schäfer', 'nachname': 'Schäfer, Lena', 'personalnummer': 'P-4711',
        'startmonat': format_german_date(START), 'endmonat': '–', 'status': 'ab 08/2030', 'ticketart': 'Handyticket',
    }]
    assert [column['label'] for column in table.columns] == [
        'Name', 'Personalnummer', 'Beginn', 'Ende', 'Status', 'Ticketart', '',
    ]


async def test_a_decision_made_meanwhile_by_someone_else_gives_a_clear_message(user: User) -> None:
    (lena,) = await make_antraege(LENA)
    await open_page(user, await demo_contract())
    dialog = await open_antrag(user, lena)
    await antraege.decide(await demo_user(Role.CLERK), lena.id, approve=False, reason='Schon erledigt.')

    await click(user, 'Genehmigen', dialog)
    await user.should_see(ALREADY_DECIDED)
    await wait_until(lambda: not open_dialogs(user), 'the dialog to close')
    assert not await Abo.exists()
    stored = await Antrag.get(id=lena.id)
    assert (stored.status, stored.decision_reason) == (AntragStatus.ABGELEHNT, 'Schon erledigt.')
    assert antraege_table(user).rows == []


async def test_approving_a_selection(user: User) -> None:
    lena, jonas, mia = await make_antraege(LENA, JONAS, MIA)
    await open_page(user, await demo_contract())
    await click(user, 'Auswahl genehmigen')
    await user.should_see('Bitte wählen Sie zuerst Anträge aus.')
    assert not await Abo.exists()

    table = antraege_table(user)
    table.selected = [row for row in table.rows if row['id'] in (lena.id, mia.id)]
    await click(user, 'Auswahl genehmigen')
    await user.should_see('2 Anträge genehmigt.')
    # every Abo here comes from an Antrag
    assert sorted(cast(int, abo.antrag_id) for abo in await Abo.all()) == sorted([lena.id, mia.id])
    assert (await Antrag.get(id=jonas.id)).status == AntragStatus.OFFEN
    await wait_until(lambda: names(antraege_table(user)) == ['Becker, Jonas'], 'the refreshed table')
    assert antraege_table(user).selected == []

    await antraege.decide(await demo_user(Role.CLERK), jonas.id, approve=True)  # meanwhile, elsewhere
    antraege_table(user).selected = list(antraege_table(user).rows)
    await click(user, 'Auswahl genehmigen')
    await user.should_see('0 Anträge genehmigt.')
    await user.should_see(ALREADY_DECIDED)
    assert await Abo.all().count() == 3


@pytest.mark.parametrize('bad_id', [2**63, 2**31, -1, True, '1e3', 1.5, None])
async def test_an_event_with_an_id_out_of_range_does_nothing(user: User, bad_id: object) -> None:
    """Issue 11: the browser sends the row back with the event; an id beyond the database's integers reached the
    query (OverflowError on SQLite, an int32 error on PostgreSQL), in the row menu and in the selection alike."""
    (lena,) = await make_antraege(LENA)
    await open_page(user, await demo_contract())
    table = antraege_table(user)
    await trigger(user, table, 'open', {'id': bad_id, 'label': 'Fremd'})
    assert open_dialogs(user) == []
    table.selected = [{'id': bad_id}]
    await click(user, 'Auswahl genehmigen')
    await user.should_see('Bitte wählen Sie zuerst Anträge aus.')
    assert (await Antrag.get(id=lena.id)).status == AntragStatus.OFFEN


# --- Abos: end and download -----------------------------------------------------------------------------------------


async def approved_abos(*people: tuple[str, str, str]) -> list[Abo]:
    admin = await demo_user(Role.ADMIN)
    made = await make_antraege(*people)
    for antrag in made:
        await antraege.decide(admin, antrag.id, approve=True)
    return [await Abo.get(antrag_id=antrag.id) for antrag in made]


async def test_ending_an_abo_asks_first(user: User) -> None:
    lena, _ = await approved_abos(LENA, JONAS)
    await open_page(user, await demo_contract(), query='?tab=abos')
    table = abos_table(user)
    assert names(table) == ['Becker, Jonas', 'Schäfer, Lena']
    row = next(row for row in table.rows if row['id'] == lena.id)
    started = await trigger(user, table, 'end', row)
    dialog = the_dialog(user)
    assert 'Abo von Lena Schäfer beenden?' in texts_in(dialog)
    await click(user, 'Abbrechen', dialog)
    await settle(started)
    assert (await Abo.get(id=lena.id)).status == AboStatus.AKTIV
    assert not await AuditEvent.filter(kind=AuditKind.ABO_ENDED).exists()

    started = await trigger(user, abos_table(user), 'end', row)
    await click(user, 'Abo beenden', the_dialog(user))
    await settle(started)
    end = abo_dates.cancellation_end(TODAY, START)
    assert end == date(2030, 8, 31)  # not before the end of its first month
    await user.should_see(f'Das Abo endet am {format_german_date(end)}.')
    stored = await Abo.get(id=lena.id)
    assert (stored.status, stored.endmonat) == (AboStatus.GEKUENDIGT, end)
    assert next(r for r in abos_table(user).rows if r['id'] == lena.id)['endmonat'] == format_german_date(end)
    assert await AuditEvent.filter(kind=AuditKind.ABO_ENDED).count() == 1
    assert open_dialogs(user) == []


async def test_the_company_picks_the_month_an_abo_ends(user: User) -> None:
    """Issue 15: "Abo beenden zum …" offers the months the service allows, the next possible end preselected."""
    lena, _ = await approved_abos(LENA, JONAS)
    await open_page(user, await demo_contract(), query='?tab=abos')
    row = next(row for row in abos_table(user).rows if row['id'] == lena.id)
    started = await trigger(user, abos_table(user), 'end', row)
    dialog = the_dialog(user)
    (month,) = [element for element in dialog.descendants() if isinstance(element, ui.select)]
    first = abo_dates.cancellation_end(TODAY, START)
    assert month.props['label'] == 'Abo beenden zum'
    assert month.value == first.isoformat()
    assert isinstance(month.options, dict)
    assert month.options[first.isoformat()] == f'{format_german_date(first)} ({abo_dates.month_label(first)})'
    assert len(month.options) == abo_dates.MAX_END_MONTHS_AHEAD + 1
    later = abo_dates.last_of_month(abo_dates.first_of_month(first, 3))
    month.value = later.isoformat()
    await click(user, 'Abo beenden', dialog)
    await settle(started)
    await user.should_see(f'Das Abo endet am {format_german_date(later)}.')
    stored = await Abo.get(id=lena.id)
    assert (stored.status, stored.endmonat) == (AboStatus.GEKUENDIGT, later)


async def download(user: User, label: str) -> bytes:
    """Click a download button; the simulation records the download (as a response) instead of saving a file."""
    before = len(user.download.http_responses)
    await click(user, label)  # waits for the download task, too
    assert len(user.download.http_responses) == before + 1
    return user.download.http_responses[-1].content


async def test_the_csv_download_has_the_bom_and_the_rows(user: User) -> None:
    await approved_abos(LENA, JONAS)
    contract = await demo_contract()
    await open_page(user, contract, query='?tab=abos')
    content = await download(user, 'CSV herunterladen')
    assert content.startswith(BOM)
    rows = list(csv.reader(io.StringIO(content.decode('utf-8-sig'), newline=''), delimiter=';'))
    beginn = format_german_date(START)
    assert rows == [
        list(EXPORT_COLUMNS),
        ['Becker', 'Jonas', 'P-0815', beginn, '', 'ab 08/2030', 'Handyticket'],  # starts in August
        ['Schäfer', 'Lena', 'P-4711', beginn, '', 'ab 08/2030', 'Handyticket'],
    ]
    (event,) = await AuditEvent.filter(kind=AuditKind.ABOS_EXPORTED)
    assert (event.object_id, event.details) == (str(contract.id), {'format': 'csv', 'zeilen': 2})

    sheet = load_workbook(io.BytesIO(await download(user, 'Excel herunterladen'))).active
    assert [[cell.value or '' for cell in row] for row in sheet.iter_rows()] == rows


# --- who sees what --------------------------------------------------------------------------------------------------


async def test_a_reader_sees_the_antraege_but_cannot_decide(user: User) -> None:
    lena, _ = await make_antraege(LENA, JONAS)
    await approved_abos(MIA)
    await open_page(user, await demo_contract(), Role.READONLY)
    table = antraege_table(user)
    assert names(table) == ['Becker, Jonas', 'Schäfer, Lena']
    assert table.props.get('selection') in (None, 'none')
    assert 'Auswahl genehmigen' not in visible_buttons(user)

    dialog = await open_antrag(user, lena)
    assert 'Frau Lena Schäfer' in texts_in(dialog)
    assert not reason_field(dialog).visible
    assert buttons_in(dialog) == {'Schließen'}
    await click(user, 'Schließen', dialog)

    await show_abos(user)
    assert names(abos_table(user)) == ['Adler, Mia']
    assert 'body-cell-aktionen' not in abos_table(user).slots  # no 'Abo beenden'
    assert {'CSV herunterladen', 'Excel herunterladen'} <= visible_buttons(user)
    assert (await Antrag.get(id=lena.id)).status == AntragStatus.OFFEN


@pytest.mark.parametrize('role', [Role.ADMIN, Role.CLERK])
async def test_admins_and_clerks_may_decide(user: User, role: Role) -> None:
    (lena,) = await make_antraege(LENA)
    await open_page(user, await demo_contract(), role)
    assert 'Auswahl genehmigen' in visible_buttons(user)
    dialog = await open_antrag(user, lena)
    await click(user, 'Genehmigen', dialog)
    await user.should_see('Antrag genehmigt; das Abo ist angelegt.')
    assert (await Antrag.get(id=lena.id)).decided_by_id == (await demo_user(role)).id


@pytest.mark.parametrize('role', [Role.ADMIN, Role.CLERK, Role.READONLY])
async def test_another_companys_contract_in_the_url_is_not_found(user: User, role: Role) -> None:
    await make_antraege(('Martin', 'Fremd', 'F-1'), vertragsnummer=FOREIGN_VERTRAGSNUMMER)
    foreign = await demo_contract(FOREIGN_VERTRAGSNUMMER)
    await log_in(user, role)
    await user.should_see('Willkommen', retries=RETRIES)
    for path in (f'/vertragsverwaltung/{foreign.id}/antraege', '/vertragsverwaltung/987654/antraege',
                 '/vertragsverwaltung/abc/antraege'):
        await user.open(path)
        await user.should_see('Der Vertrag wurde nicht gefunden.')
        await user.should_not_see(FOREIGN_VERTRAGSNUMMER)
        await user.should_not_see('Nordhessische Bauelemente AG')
        assert all_of(user, ui.table) == []


async def test_staff_open_any_companys_antraege(user: User) -> None:
    (fremd,) = await make_antraege(('Martin', 'Fremd', 'F-1'), vertragsnummer=FOREIGN_VERTRAGSNUMMER)
    await open_page(user, await demo_contract(FOREIGN_VERTRAGSNUMMER), Role.STAFF)
    await user.should_see('Nordhessische Bauelemente AG')
    assert names(antraege_table(user)) == ['Fremd, Martin']
    dialog = await open_antrag(user, fremd)
    await click(user, 'Genehmigen', dialog)
    await user.should_see('Antrag genehmigt; das Abo ist angelegt.')
    assert await Abo.filter(antrag_id=fremd.id).count() == 1


async def test_an_antrag_of_another_company_cannot_be_opened_through_the_event(user: User) -> None:
    (fremd,) = await make_antraege(('Martin', 'Fremd', 'F-1'), vertragsnummer=FOREIGN_VERTRAGSNUMMER)
    await make_antraege(LENA)
    await open_page(user, await demo_contract())
    await trigger(user, antraege_table(user), 'open', {'id': fremd.id, 'label': 'Martin Fremd'})
    await user.should_see('Der Antrag wurde nicht gefunden.')
    assert open_dialogs(user) == []
    await user.should_not_see('Martin Fremd')
    await trigger(user, antraege_table(user), 'open', {'id': 'nicht-da'})
    assert open_dialogs(user) == []
