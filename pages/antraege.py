"""Anträge and Abos of one contract (row menu "Anträge"): decide applications, see and end subscriptions, export."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from nicegui import APIRouter, events, ui

from models import Abo, Antrag, AntragStatus, Contract, PortalUser
from pages.forms import REFUSED, chosen_month, confirm, run_action, run_form
from pages.layout import client_address, page_contract, page_heading, portal_page
from pages.server_table import Column, RowAction, ServerTable, event_row, selected_ids
from services import abo_dates, abo_status, abos, antraege, clock, permissions
from services.errors import NotFound, ServiceError, ValidationError
from services.permissions import Action
from services.table_query import TablePage, TableRequest
from services.validation import format_german_date

router = APIRouter()

ANTRAG_COLUMNS = (
    Column('created_at', 'Eingang'), Column('nachname', 'Name', on_phone=True),
    Column('personalnummer', 'Personalnummer'), Column('startmonat', 'Startmonat'),
    Column('deadline', 'genehmigen bis', sortable=False), Column('ticketart', 'Ticketart'),
    Column('status', 'Status', on_phone=True),
)
ABO_COLUMNS = (
    Column('nachname', 'Name', on_phone=True), Column('personalnummer', 'Personalnummer'),
    Column('startmonat', 'Beginn'), Column('endmonat', 'Ende'), Column('status', 'Status', on_phone=True),
    Column('ticketart', 'Ticketart'),
)
STATUS_OPTIONS = {'offen': 'offen', 'genehmigt': 'genehmigt', 'abgelehnt': 'abgelehnt', 'alle': 'alle'}
ABO_STATUS_OPTIONS = {'alle': 'alle', 'künftig': 'künftig (ab …)', 'aktiv': 'aktiv', 'gekündigt': 'gekündigt',
                      'beendet': 'beendet'}


def antrag_row(antrag: Antrag) -> dict[str, object]:
    return {
        'id': antrag.id, 'label': f'{antrag.vorname} {antrag.nachname}',
        'created_at': format_german_date(antrag.created_at.date()), 'nachname': f'{antrag.nachname}, {antrag.vorname}',
        'personalnummer': antrag.personalnummer or '–', 'startmonat': abo_dates.month_label(antrag.startmonat),
        'deadline': _deadline(antrag), 'ticketart': antrag.ticketart.value, 'status': antrag.status.value,
    }


def _deadline(antrag: Antrag) -> str:
    """'genehmigen bis 10.11.2026' of an open Antrag; past it, when its Abo would start if approved today."""
    if antrag.status != AntragStatus.OFFEN:
        return '–'
    deadline = format_german_date(abo_dates.approval_deadline(antrag.startmonat))
    start = abo_dates.approval_start(antrag.startmonat, clock.today())
    return deadline if start == antrag.startmonat else f'{deadline} – verstrichen, Beginn jetzt {start:%m/%Y}'



def abo_row(abo: Abo) -> dict[str, object]:
    return {
        'id': abo.id, 'label': f'{abo.vorname} {abo.nachname}', 'nachname': f'{abo.nachname}, {abo.vorname}',
        'personalnummer': abo.personalnummer or '–', 'startmonat': format_german_date(abo.startmonat),
        'endmonat': format_german_date(abo.endmonat) or '–', 'status': abo_status.label(abo, clock.today()),
        'ticketart': abo.ticketart.value,
    }


@portal_page(router, '/vertragsverwaltung/{contract_id}/antraege', 'Anträge')
async def antraege_page(user: PortalUser, request: Request) -> None:
    contract = await page_contract(user, request, 'Anträge')
    if contract is None:
        return
    client = client_address(request)
    may_decide = permissions.may(user, Action.DECIDE_ANTRAG, contract.customer_id)
    may_end = permissions.may(user, Action.END_ABO, contract.customer_id)
    page_heading(f'Anträge und Abos – Vertrag {contract.vertragsnummer}',
                 f'{contract.firma} · {contract.produktangebot.value}')
    ui.link('← Zurück zur Vertragsverwaltung', '/vertragsverwaltung').classes('text-body2')
    with ui.tabs().classes('text-primary').props('align=left no-caps') as tabs:
        antraege_tab = ui.tab('Anträge', icon='assignment')
        abos_tab = ui.tab('Abos', icon='confirmation_number')
    with ui.tab_panels(tabs, value=abos_tab if request.query_params.get('tab') == 'abos' else antraege_tab).classes(
        'w-full bg-transparent'
    ):
        with ui.tab_panel(antraege_tab).classes('q-pa-none'):
            antraege_table = await _antraege_panel(user, contract, client, may_decide)
        with ui.tab_panel(abos_tab).classes('q-pa-none'):
            abos_table = await _abos_panel(user, contract, client, may_end)

    async def refresh_tables() -> None:
        await antraege_table.refresh()
        await abos_table.refresh()

    tabs.on_value_change(refresh_tables)


async def _antraege_panel(user: PortalUser, contract: Contract, client: str, may_decide: bool) -> ServerTable:
    state = {'status': 'offen'}

    async def fetch(request: TableRequest) -> TablePage[Antrag]:
        return await antraege.list_antraege(user, contract.id, request, status=state['status'])

    async def set_status(event: events.ValueChangeEventArguments) -> None:
        state['status'] = event.value
        await table.update(page=1)

    async def approve_selected() -> None:
        ids = selected_ids(table.table)
        if not ids:
            ui.notify('Bitte wählen Sie zuerst Anträge aus.', type='warning')
            return
        approved, notes = await antraege.approve_many(user, ids, client=client)
        ui.notify(f'{approved} Antrag genehmigt.' if approved == 1 else f'{approved} Anträge genehmigt.',
                  type='positive' if approved else 'warning')
        for note in sorted(set(notes)):
            ui.notify(note, type='warning', multi_line=True, timeout=0, close_button='OK')
        await table.refresh()

    async def open_antrag(event: events.GenericEventArguments) -> None:
        if row := event_row(event):
            await _antrag_dialog(user, row['id'], client, may_decide, table.refresh)

    with ui.card().classes('portal-card w-full gap-2'):
        with ui.row().classes('items-center w-full gap-4'):
            ui.select(STATUS_OPTIONS, value='offen', label='Status', on_change=set_status).props(
                'outlined dense').classes('w-40')
            if may_decide:
                ui.button('Auswahl genehmigen', icon='done_all', on_click=approve_selected).props(
                    'unelevated no-caps')
            ui.space()
            search = ui.input(placeholder='Suchen …').props(
                'outlined dense clearable debounce=350 maxlength=100 aria-label="In Anträgen suchen"').classes('w-64')
        table = ServerTable(
            columns=ANTRAG_COLUMNS, fetch=fetch, to_row=antrag_row, request=TableRequest(), on_change=lambda _: None,
            empty_text='Keine Anträge gefunden', actions=(RowAction('Öffnen', 'open_in_new', 'open'),),
            selectable=may_decide,
        )
        table.table.on('open', open_antrag)
        search.on_value_change(lambda event: table.update(search=event.value or '', page=1))
    await table.refresh()
    return table


async def _antrag_dialog(user: PortalUser, antrag_id: int, client: str, may_decide: bool,
                        refresh: Callable[[], Awaitable[None]]) -> None:
    try:
        antrag = await antraege.get_antrag(user, antrag_id)
    except NotFound as error:
        ui.notify(str(error), type='negative')
        return

    async def decided_elsewhere(error: ServiceError) -> None:
        """A refusal other than a missing reason (decided meanwhile, gone): the dialog closes, the list shows why."""
        if not isinstance(error, ValidationError):
            dialog.close()
            await refresh()

    async def decide(approve: bool) -> None:
        fields = {'reason': reason}
        if approve:
            approval = await run_form(fields, antraege.approve(user, antrag.id, client=client),
                                      on_refused=decided_elsewhere)
            if approval is REFUSED:
                return
            if approval.moved:  # the clerk must see it: no timeout
                ui.notify(approval.message, type='warning', multi_line=True, timeout=0, close_button='OK')
            else:
                ui.notify(approval.message, type='positive')
        else:
            if await run_form(fields, antraege.decide(user, antrag.id, approve=False, reason=reason.value or '',
                                                      client=client), on_refused=decided_elsewhere) is REFUSED:
                return
            ui.notify('Antrag abgelehnt.', type='positive')
        dialog.close()
        await refresh()

    with ui.dialog().on('hide', lambda e: e.sender.delete()) as dialog, ui.card().classes('q-pa-lg gap-2').style(
        'width: min(560px, 95vw)'
    ):
        ui.label(f'Antrag {antrag.reference}').classes('text-h6')
        rows = [
            ('Status', antrag.status.value), ('Eingang', format_german_date(antrag.created_at.date())),
            ('Name', f'{antrag.anrede.value} {antrag.vorname} {antrag.nachname}'),
            ('Geburtsdatum', format_german_date(antrag.geburtsdatum)), ('E-Mail-Adresse', antrag.email),
            ('Anschrift', f'{antrag.strasse}, {antrag.plz} {antrag.ort}'),
            ('Personalnummer', antrag.personalnummer or '–'),
            ('Startmonat', abo_dates.month_label(antrag.startmonat)), ('Ticketart', antrag.ticketart.value),
        ]
        if antrag.status == AntragStatus.OFFEN:
            rows.append(('genehmigen bis', _deadline(antrag)))
        if antrag.decided_at:
            rows.append(('Entschieden', f'{format_german_date(antrag.decided_at.date())} von '
                                        f'{antrag.decided_by.name if antrag.decided_by else "–"}'))
        if antrag.decision_reason:
            rows.append(('Begründung', antrag.decision_reason))
        with ui.grid(columns='auto 1fr').classes('w-full gap-x-6 gap-y-1 text-body2'):
            for label, value in rows:
                ui.label(label).classes('muted')
                ui.label(value).classes('break-words')
        reason = ui.textarea('Grund der Ablehnung (für die Mitarbeiterin / den Mitarbeiter sichtbar)').props(
            'outlined autogrow maxlength=500').classes('w-full')
        reason.visible = may_decide and antrag.status == AntragStatus.OFFEN
        with ui.row().classes('w-full justify-end'):
            ui.button('Schließen', on_click=dialog.close).props('flat no-caps')
            if may_decide and antrag.status == AntragStatus.OFFEN:
                ui.button('Ablehnen', on_click=lambda: decide(False)).props('outline no-caps color=negative')
                ui.button('Genehmigen', on_click=lambda: decide(True)).props('unelevated no-caps color=positive')
    dialog.open()


async def _abos_panel(user: PortalUser, contract: Contract, client: str, may_end: bool) -> ServerTable:
    state: dict[str, str] = {'status': 'alle'}

    async def fetch(request: TableRequest) -> TablePage[Abo]:
        return await abos.list_abos(user, contract.id, request, status=state['status'])

    async def set_status(event: events.ValueChangeEventArguments) -> None:
        state['status'] = event.value
        await table.update(page=1)

    async def download(export_format: str) -> None:
        if export_format == 'csv':
            content = await abos.export_csv(user, contract.id, client=client)
        else:
            content = await abos.export_xlsx(user, contract.id, client=client)
        ui.download.content(content, f'Abos_{contract.vertragsnummer}.{export_format}')

    async def end(event: events.GenericEventArguments) -> None:
        if row := event_row(event):
            await _end_dialog(user, row, client, table.refresh)

    with ui.card().classes('portal-card w-full gap-2'):
        with ui.row().classes('items-center w-full gap-2'):
            ui.select(ABO_STATUS_OPTIONS, value='alle', label='Abo-Status', on_change=set_status).props(
                'outlined dense').classes('w-44').mark('abo-status-filter')
            ui.button('CSV herunterladen', icon='download', on_click=lambda: download('csv')).props('outline no-caps')
            ui.button('Excel herunterladen', icon='download', on_click=lambda: download('xlsx')).props(
                'outline no-caps')
            ui.space()
            search = ui.input(placeholder='Suchen …').props(
                'outlined dense clearable debounce=350 maxlength=100 aria-label="In Abos suchen"').classes('w-64')
        table = ServerTable(
            columns=ABO_COLUMNS, fetch=fetch, to_row=abo_row, request=TableRequest(), on_change=lambda _: None,
            empty_text='Keine Abos gefunden',
            actions=(RowAction('Abo beenden', 'event_busy', 'end'),) if may_end else (),
        )
        table.table.on('end', end)
        search.on_value_change(lambda event: table.update(search=event.value or '', page=1))
    await table.refresh()
    return table


async def _end_dialog(user: PortalUser, row: dict, client: str, refresh: Callable[[], Awaitable[None]]) -> None:
    """"Abo beenden zum …": the months the service allows, the next possible end first (and preselected)."""
    ends = await run_action(abos.end_choices(user, row['id']))
    if ends is REFUSED:
        return

    def choose() -> ui.select:
        return ui.select({end.isoformat(): f'{format_german_date(end)} ({abo_dates.month_label(end)})'
                          for end in ends}, value=ends[0].isoformat() if ends else None,
                         label='Abo beenden zum').props('outlined').classes('w-full').mark('endmonat')

    fields: list[ui.select] = []
    if not await confirm(
        f'Abo von {row.get("label", "")} beenden?',
        'Zum Beispiel, weil die Person das Unternehmen verlässt. Frühestens nach der Stichtagsregel zum Monatsende '
        '(bis zum Stichtag) oder zum Ende des Folgemonats, auch später.',
        'Abo beenden', body=lambda: fields.append(choose()),
    ):
        return
    chosen = chosen_month(fields[0].value)
    abo = await run_action(abos.end_abo(user, row['id'], endmonat=chosen, client=client))
    if abo is not REFUSED:
        ui.notify(f'Das Abo endet am {format_german_date(abo.endmonat)}.', type='positive')
    await refresh()
