"""Vertragsverwaltung: search by Kundennummer, the table 'Ihre Verträge' and each row's menu (Infos …).

The table's whole state (Kundennummer, Aktive Verträge, search, sort, page, page size) lives in the URL, so a reload
or a shared link shows the same view.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from nicegui import APIRouter, events, ui

from models import Contract, PortalUser
from pages.components import state_url
from pages.infos import ContractInfoDrawer
from pages.layout import page_heading, portal_page
from pages.server_table import Column, RowAction, ServerTable, event_row
from services import antraege, vertraege
from services.table_query import TablePage, TableRequest

router = APIRouter()

COLUMNS = (
    Column('vertragsnummer', 'Vertragsnummer', on_phone=True),
    Column('firma', 'Firma', on_phone=True),
    Column('strasse', 'Straße'),
    Column('plz', 'Plz.'),
    Column('ort', 'Ort'),
    Column('produktangebot', 'Produktangebot'),
    Column('status', 'Status', on_phone=True),
)
ROW_ACTIONS = (
    RowAction('Infos', 'info', 'infos'), RowAction('Anträge', 'assignment', 'antraege', badge='offen'),
    RowAction('Massenupload', 'upload_file', 'massenupload'),
)
STATUS_CELL = '''
<q-td :props="props">
  <q-badge :color="props.value === 'aktiv' ? 'positive' : (props.value === 'gekündigt' ? 'orange-9' : 'grey-7')"
           :label="props.value" class="text-body2 q-px-sm" />
</q-td>
'''


def contract_row(contract: Contract, open_antraege: int = 0) -> dict[str, object]:
    return {
        'offen': open_antraege,
        'id': contract.id, 'label': contract.vertragsnummer, 'vertragsnummer': contract.vertragsnummer,
        'firma': contract.firma, 'strasse': contract.strasse, 'plz': contract.plz, 'ort': contract.ort,
        'produktangebot': contract.produktangebot.value, 'status': contract.status.value,
    }


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


@portal_page(router, '/vertragsverwaltung', 'Vertragsverwaltung')
async def contracts_page(user: PortalUser, request: Request) -> None:
    params = request.query_params
    state: dict[str, Any] = {
        'kundennummer': params.get('kundennummer', '')[:20],
        'only_active': params.get('aktiv', '1') != '0',
    }
    table_request = TableRequest(
        search=params.get('suche', ''), sort=params.get('sort', ''), descending=params.get('absteigend') == '1',
        page=_int(params.get('seite'), 1), page_size=_int(params.get('anzahl'), 10),
    )
    drawer = ContractInfoDrawer(user, request)

    def remember(table_request: TableRequest) -> None:
        ui.navigate.history.replace(state_url(state['kundennummer'], state['only_active'], table_request))

    open_counts: dict[int, int] = {}

    async def fetch(table_request: TableRequest) -> TablePage[Contract]:
        page = await vertraege.list_contracts(
            user, table_request, kundennummer=state['kundennummer'], only_active=state['only_active']
        )
        open_counts.clear()
        open_counts.update(await antraege.open_counts([contract.id for contract in page.rows]))
        return page

    async def search_customer() -> None:
        state['kundennummer'] = (kundennummer.value or '').strip()[:20]
        await table.update(page=1)

    async def toggle_active(event: events.ValueChangeEventArguments) -> None:
        state['only_active'] = bool(event.value)
        await table.update(page=1)

    async def open_infos(event: events.GenericEventArguments) -> None:
        if row := event_row(event):
            await drawer.open(row['id'])

    def open_antraege(event: events.GenericEventArguments) -> None:
        if row := event_row(event):
            ui.navigate.to(f'/vertragsverwaltung/{row["id"]}/antraege')

    def open_massenupload(event: events.GenericEventArguments) -> None:
        if row := event_row(event):
            ui.navigate.to(f'/vertragsverwaltung/{row["id"]}/massenupload')

    page_heading('Vertragsverwaltung', user.customer.name if user.customer else 'Alle Kunden des Verkehrsunternehmens')
    with ui.card().classes('portal-card w-full'), ui.row().classes('items-center gap-3 w-full'):
        kundennummer = ui.input('Kundennummer', value=state['kundennummer']).props(
            'outlined dense clearable maxlength=20'
        ).classes('w-64')
        ui.button('Suchen', icon='search', on_click=search_customer).props('unelevated no-caps')
        kundennummer.on('keydown.enter', search_customer)
        kundennummer.on('clear', search_customer)

    with ui.card().classes('portal-card w-full gap-2'):
        with ui.row().classes('items-center w-full gap-4'):
            ui.label('Ihre Verträge').classes('text-h6').props('role=heading aria-level=2')
            ui.space()
            ui.checkbox('Aktive Verträge', value=state['only_active'], on_change=toggle_active)
            search = ui.input(placeholder='Suchen …', value=table_request.search).props(
                'outlined dense clearable debounce=350 maxlength=100 aria-label="In Verträgen suchen"'
            ).classes('w-64')
            with search.add_slot('prepend'):
                ui.icon('search')
        table = ServerTable(
            columns=COLUMNS, fetch=fetch, request=table_request, on_change=remember,
            to_row=lambda contract: contract_row(contract, open_counts.get(contract.id, 0)),
            empty_text=vertraege.NOT_FOUND, actions=ROW_ACTIONS,
        )
        table.table.add_slot('body-cell-status', STATUS_CELL)
        table.table.on('infos', open_infos)
        table.table.on('antraege', open_antraege)
        table.table.on('massenupload', open_massenupload)
        search.on_value_change(lambda event: table.update(search=event.value or '', page=1))
    await table.refresh()
