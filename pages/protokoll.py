"""Protokoll: the audit trail for administrators (their company) and staff (every company), with filters for time,
user and kind, paged in the database."""

from __future__ import annotations

from fastapi import Request
from nicegui import APIRouter, ui

from models import AuditEvent, PortalUser
from pages.components import german_date_input
from pages.forms import run_form
from pages.layout import page_heading, portal_page
from pages.server_table import Column, ServerTable
from services import permissions, protokoll
from services.permissions import Action
from services.protokoll import AuditFilter
from services.table_query import TablePage, TableRequest
from services.validation import format_german_datetime, parse_german_date

router = APIRouter()

COLUMNS = (
    Column('created_at', 'Zeitpunkt', on_phone=True),
    Column('actor_label', 'Anwender', sortable=False),
    Column('kind', 'Ereignis', sortable=False, on_phone=True),
    Column('object', 'Datensatz', sortable=False),
    Column('client', 'Client', sortable=False),
)
STAFF_COLUMNS = (*COLUMNS[:1], Column('kunde', 'Kunde', sortable=False), *COLUMNS[1:])
ALL_KINDS = 'alle'
TIME_CELL = '<q-td :props="props" style="white-space: nowrap">{{ props.value }}</q-td>'


def event_row(event: AuditEvent, kundennummern: dict[int, str]) -> dict[str, object]:
    return {
        'id': event.id, 'label': protokoll.kind_label(event.kind),
        'created_at': format_german_datetime(event.created_at), 'actor_label': event.actor_label or '–',
        'kind': protokoll.kind_label(event.kind), 'object': protokoll.object_label(event, kundennummern) or '–',
        'client': event.client or '–',
        'kunde': kundennummern.get(event.customer_id, '–') if event.customer_id else '–',
    }


def _date_field(label: str) -> ui.input:
    field = german_date_input(label, None, '').props(remove='hint')  # type: ignore[arg-type]
    return field.props('dense clearable hide-bottom-space placeholder="TT.MM.JJJJ"').classes(remove='w-full') \
        .classes('w-40')


@portal_page(router, '/protokoll', 'Protokoll')
async def audit_log_page(user: PortalUser, request: Request) -> None:
    sees_all = permissions.role_may(user, Action.VIEW_ALL_CUSTOMERS)
    page_heading('Protokoll', 'Wer hat wann was geändert – alle Ereignisse aller Kunden' if sees_all
                 else f'Wer hat wann was geändert – {user.customer.name if user.customer else ""}')
    if not permissions.role_may(user, Action.VIEW_AUDIT_LOG):
        with ui.card().classes('portal-card w-full'), ui.row().classes('items-center gap-2 muted'):
            ui.icon('lock', color='primary')
            ui.label('Dazu fehlt Ihnen die Berechtigung. Das Protokoll sehen Administratoren.')
        return
    state: dict[str, AuditFilter] = {'filters': AuditFilter()}
    numbers: dict[int, str] = {}

    async def fetch(table_request: TableRequest) -> TablePage[AuditEvent]:
        page = await protokoll.list_events(user, table_request, state['filters'])
        numbers.clear()
        numbers.update(await protokoll.kundennummern(page.rows))
        return page

    async def apply() -> None:
        since_field.error = until_field.error = None
        since, until = (parse_german_date(field.value or '') for field in (since_field, until_field))
        wrong = [field for field, value in ((since_field, since), (until_field, until))
                 if (field.value or '').strip() and value is None]
        for field in wrong:
            field.error = 'Bitte ein Datum im Format TT.MM.JJJJ.'
        if wrong:
            return
        previous = state['filters']
        state['filters'] = AuditFilter(
            since=since, until=until, user=(person.value or '').strip(),
            kind='' if kind.value == ALL_KINDS else (kind.value or ''),
            kundennummer=(kundennummer.value or '').strip() if kundennummer else '',
        )
        await run_form({'until': until_field}, table.update(page=1),
                       on_refused=lambda error: state.update(filters=previous))

    async def reset() -> None:
        for field in (since_field, until_field, person, *((kundennummer,) if kundennummer else ())):
            field.value = ''
        kind.value = ALL_KINDS
        await apply()

    with ui.card().classes('portal-card w-full gap-2'):
        with ui.row().classes('items-center w-full gap-3'):
            since_field = _date_field('Von')
            until_field = _date_field('Bis')
            person = ui.input('Anwender (E-Mail enthält)').props(
                'outlined dense clearable hide-bottom-space maxlength=100') \
                .classes('w-52')
            kind = ui.select({ALL_KINDS: 'Alle Ereignisse', **protokoll.kind_options()}, value=ALL_KINDS,
                             label='Ereignis').props('outlined dense options-dense').classes('w-56')
            kundennummer = ui.input('Kundennummer').props(
                'outlined dense clearable hide-bottom-space maxlength=20').classes('w-40') if sees_all else None
            ui.button('Filtern', icon='filter_alt', on_click=apply).props('unelevated no-caps')
            ui.button(icon='filter_alt_off', on_click=reset).props(
                'flat round color=primary aria-label="Filter zurücksetzen"').tooltip('Filter zurücksetzen')
        for field in (since_field, until_field, person, *((kundennummer,) if kundennummer else ())):
            field.on('keydown.enter', apply)
        kind.on_value_change(apply)
        table = ServerTable(
            columns=STAFF_COLUMNS if sees_all else COLUMNS, fetch=fetch,
            to_row=lambda event: event_row(event, numbers),
            request=TableRequest(sort='created_at', descending=True), on_change=lambda _: None,
            empty_text='Keine Ereignisse gefunden',
        )
        table.table.add_slot('body-cell-created_at', TIME_CELL)
    await table.refresh()
