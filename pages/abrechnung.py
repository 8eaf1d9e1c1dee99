"""Abrechnung: a contract's month (open months as a preview, closed ones from their snapshot) with its files, and for
staff the closing of a month and the month overview across every customer. The state (contract, month) lives in the
URL, so a reload or a shared link shows the same month."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from nicegui import APIRouter, ui

from models import LineKind, PortalUser, Produktangebot
from pages.components import Table
from pages.forms import REFUSED, chosen_month, confirm, month_options, run_action, run_call
from pages.language import error_text
from pages.layout import client_address, page_heading, portal_page
from pages.server_table import Column, ServerTable
from services import abo_dates, abrechnung, clock, permissions, rechnung_pdf, sepa, vertraege
from services.abrechnung import Statement, Totals
from services.errors import ServiceError
from services.permissions import Action
from services.table_query import TablePage, TableRequest
from services.validation import format_euro, format_german_date, parse_id

router = APIRouter()

MONTHS_BACK = 24
SHOWN_LINES = 500  # more are in the files
LINE_COLUMNS = [
    {'name': name, 'label': label, 'field': name, 'align': 'right' if money else 'left'}
    for name, label, money in (
        ('art', 'Art', False), ('leistungsmonat', 'Monat', False), ('personalnummer', 'Personalnummer', False),
        ('name', 'Name', False), ('ticketart', 'Ticketart', False), ('preis', 'Preis', True),
        ('zuschuss', 'Zuschuss', True), ('rabatt', 'Rabatt', True), ('eigenanteil', 'Eigenanteil', True),
    )
]
OVERVIEW_COLUMNS = tuple(
    Column(name, label, sortable=False, align='right' if money else 'left', on_phone=name in ('vertragsnummer',
                                                                                             'personen'))
    for name, label, money in (
        ('vertragsnummer', 'Vertragsnummer', False), ('firma', 'Firma', False), ('personen', 'Personen', True),
        ('preis', 'Preis', True), ('zuschuss', 'Zuschuss', True), ('rabatt', 'Rabatt', True),
        ('eigenanteil', 'Eigenanteil', True),
    )
)
DOWNLOADS = (('abrechnung', 'csv', 'Abrechnung (CSV)'), ('abrechnung', 'xlsx', 'Abrechnung (Excel)'),
             ('lohnabrechnung', 'csv', 'Lohnabrechnung (CSV)'), ('lohnabrechnung', 'xlsx', 'Lohnabrechnung (Excel)'))


def _money(totals: Totals) -> dict[str, str]:
    return {'preis': format_euro(totals.preis_cent), 'zuschuss': format_euro(totals.zuschuss_cent),
            'rabatt': format_euro(totals.rabatt_cent), 'eigenanteil': format_euro(totals.eigenanteil_cent)}


def _denied(text: str) -> None:
    with ui.card().classes('portal-card w-full'), ui.row().classes('items-center gap-2'):
        ui.icon('lock', color='primary')
        ui.label(text).props('role=alert')


@portal_page(router, '/abrechnung', 'Abrechnung')
async def billing_page(user: PortalUser, request: Request) -> None:
    page_heading('Abrechnung', 'Monatsabrechnung je Vertrag: Teilnehmende, Zuschuss, Eigenanteil und Dateien')
    if not permissions.role_may(user, Action.VIEW_BILLING):
        _denied(permissions.denied_message(Action.VIEW_BILLING))
        return
    client = client_address(request)
    staff = permissions.role_may(user, Action.VIEW_MONTH_OVERVIEW)
    today = clock.today()
    params = request.query_params
    default_month = abo_dates.first_of_month(today, -1)
    state: dict[str, object] = {
        'contract_id': parse_id(params.get('vertrag', '')),
        'month': chosen_month(params.get('monat', '')) or default_month,
    }
    months = month_options(abo_dates.first_of_month(today, -MONTHS_BACK), MONTHS_BACK + 3)

    def remember() -> None:
        month: date = state['month']  # type: ignore[assignment]
        query = {'monat': month.isoformat(), **({'vertrag': state['contract_id']} if state['contract_id'] else {})}
        ui.navigate.history.replace('/abrechnung?' + urlencode(query))

    async def show() -> None:
        state['month'] = chosen_month(month_select.value) or default_month
        if staff:
            found = (await run_action(abrechnung.find_contract(user, vertragsnummer.value or ''))
                     if vertragsnummer.value else None)
            state['contract_id'] = None if found is REFUSED else found
        else:
            state['contract_id'] = contract_select.value
        remember()
        await render()

    with ui.card().classes('portal-card w-full'), ui.row().classes('items-center gap-3 w-full'):
        if staff:
            vertragsnummer = ui.input('Vertragsnummer').props('outlined dense clearable maxlength=20').classes('w-56')
            vertragsnummer.on('keydown.enter', show)
        else:
            choices = dict(await abrechnung.contract_choices(user))
            contract_select = ui.select(choices, label='Vertrag', value=state['contract_id']
                                        if state['contract_id'] in choices else next(iter(choices), None)) \
                .props('outlined dense').classes('w-96')
        month_select = ui.select(months, label='Monat', value=state['month'].isoformat()  # type: ignore[attr-defined]
                                 if state['month'].isoformat() in months else None).props(  # type: ignore[attr-defined]
            'outlined dense').classes('w-48')
        ui.button('Anzeigen', icon='visibility', on_click=show).props('unelevated no-caps')
        if staff:
            ui.space()
            ui.button('Monat abschließen', icon='lock', on_click=lambda: close()).props('outline no-caps')

    statement_box = ui.column().classes('w-full gap-4')
    overview_box = ui.column().classes('w-full gap-4')

    async def render() -> None:
        statement_box.clear()
        if state['contract_id']:
            found = await run_call(abrechnung.statement(user, state['contract_id'], state['month']),  # type: ignore[arg-type]
                                   lambda error: _refusal_in(statement_box, error))
            if found is not REFUSED:
                with statement_box:
                    _statement(user, found, client)
        if staff:
            overview_box.clear()
            with overview_box:
                await _overview(user, state['month'], client)  # type: ignore[arg-type]

    async def close() -> None:
        month = chosen_month(month_select.value)
        if month is None:
            ui.notify('Bitte wählen Sie den Monat.', type='warning')
            return
        if not await confirm(f'{abo_dates.month_label(month)} abschließen?',
                             'Die Abrechnung des Monats wird für alle Verträge festgeschrieben; spätere Änderungen '
                             'erscheinen als Korrektur im nächsten Monat.', 'Abschließen'):
            return
        closing = await run_action(abrechnung.close_month(month, actor=user, client=client))
        if closing is REFUSED:
            return
        ui.notify(f'{abo_dates.month_label(month)} ist abgeschlossen ({closing.run.line_count} Zeilen).'
                  if closing.created else f'{abo_dates.month_label(month)} war bereits abgeschlossen.',
                  type='positive')
        state['month'] = month
        await render()

    if staff and state['contract_id']:
        # A remembered contract that is gone or out of reach is simply forgotten: the page opens without it.
        contract = await run_call(vertraege.get_contract(user, state['contract_id']),  # type: ignore[arg-type]
                                  lambda error: state.update(contract_id=None))
        if contract is not REFUSED:
            vertragsnummer.value = contract.vertragsnummer
    elif not staff:
        state['contract_id'] = contract_select.value
    await render()


def _refusal_in(box: ui.column, error: ServiceError) -> None:
    """The statement's place says why there is none (a notification would leave the place empty)."""
    with box:
        ui.label(error_text(error)).classes('text-negative').props('role=alert')


def _statement(user: PortalUser, found: Statement, client: str) -> None:
    async def download(kind: str, file_format: str) -> None:
        file = await run_action(abrechnung.month_file(user, found.contract.id, found.monat, kind, file_format,
                                                   client=client))
        if file is REFUSED:
            return
        ui.download.content(file.content, file.file_name)

    async def download_invoice() -> None:
        file = await run_action(rechnung_pdf.invoice_file(user, found.contract.id, found.monat, client=client))
        if file is REFUSED:
            return
        ui.download.content(file.content, file.file_name, 'application/pdf')

    with ui.card().classes('portal-card w-full q-pa-lg gap-2'):
        with ui.row().classes('w-full items-center'):
            ui.label(f'{found.contract.vertragsnummer} · {abo_dates.month_label(found.monat)}').classes(
                'text-h6').props('role=heading aria-level=2')
            ui.space()
            ui.badge('abgeschlossen' if found.closed else 'Vorschau',
                     color='positive' if found.closed else 'orange-9').classes('text-body2 q-px-sm').mark('status')
        ui.label(f'{found.contract.firma} – {found.contract.produktangebot.value} – {found.status_text}').classes(
            'text-body2 muted')
        totals = found.totals
        people = f'{totals.personen} {"Person" if totals.personen == 1 else "Personen"}'
        ui.label(f'{people} · Preis {format_euro(totals.preis_cent)} · Arbeitgeberzuschuss '
                 f'{format_euro(totals.zuschuss_cent)} · Rabatt {format_euro(totals.rabatt_cent)} · Eigenanteil '
                 f'{format_euro(totals.eigenanteil_cent)}').classes('text-body1 text-weight-medium').mark('summen')
        with ui.row().classes('gap-2'):
            for kind, file_format, label in DOWNLOADS:
                ui.button(label, icon='download', on_click=lambda kind=kind, file_format=file_format: download(
                    kind, file_format)).props('outline no-caps')
            if found.closed and found.contract.produktangebot == Produktangebot.RECHNUNG and found.lines:
                ui.button('Rechnung (PDF, ZUGFeRD)', icon='receipt_long', on_click=download_invoice).props(
                    'outline no-caps')
        rows = [{
            'id': index, 'art': line.art.value, 'leistungsmonat': abo_dates.month_label(line.leistungsmonat),
            'personalnummer': line.personalnummer, 'name': f'{line.nachname}, {line.vorname}',
            'ticketart': line.ticketart, **_money(Totals(0, line.preis_cent, line.zuschuss_cent, line.rabatt_cent,
                                                         line.eigenanteil_cent)),
        } for index, line in enumerate(found.lines[:SHOWN_LINES])]
        if not rows:
            ui.label('In diesem Monat gibt es keine Abos.').classes('muted')
            return
        Table(columns=LINE_COLUMNS, rows=rows, row_key='id', pagination=25).props('flat dense').classes('w-full')
        if len(found.lines) > SHOWN_LINES:
            ui.label(f'Angezeigt: die ersten {SHOWN_LINES} von {len(found.lines)} Zeilen; alle stehen in den '
                     'Dateien.').classes('text-body2 muted')
        if any(line.art == LineKind.KORREKTUR for line in found.lines):
            ui.label('Korrektur: Änderung eines bereits abgeschlossenen Monats (Differenz).').classes(
                'text-body2 muted')


async def _overview(user: PortalUser, month: date, client: str) -> None:
    """The month's totals and its contracts page by page (the service reads one page: 100,000 contracts would not
    fit a browser table)."""
    overview = await abrechnung.month_overview(user, month)

    async def download() -> None:
        file = await abrechnung.overview_csv(user, month, client=client)
        ui.download.content(file.content, file.file_name)

    async def download_debits() -> None:
        file = await run_action(sepa.direct_debit_file(user, month, client=client))
        if file is REFUSED:
            return
        ui.download.content(file.content, file.file_name, 'application/xml')
        missing = f'; {file.without_mandate} Abos ohne Mandat' if file.without_mandate else ''
        ui.notify(f'{file.debits} Lastschriften über {format_euro(file.total_cent)}{missing}.', type='positive')

    first: list[TablePage[Any]] = [overview.page]

    async def fetch(request: TableRequest) -> TablePage[Any]:
        """The first page came with the totals; every other is one page of the service (no totals again)."""
        if first and first[0].request == request:
            return first.pop()
        first.clear()
        return await abrechnung.overview_page(user, month, request)

    def to_row(row: abrechnung.OverviewRow) -> dict[str, Any]:
        return {'id': row.contract_id, 'vertragsnummer': row.vertragsnummer, 'firma': row.firma,
                'personen': row.totals.personen, **_money(row.totals)}

    with ui.card().classes('portal-card w-full q-pa-lg gap-2'):
        with ui.row().classes('w-full items-center'):
            ui.label(f'Monatsübersicht {abo_dates.month_label(month)}').classes('text-h6').props(
                'role=heading aria-level=2')
            ui.space()
            ui.button('CSV herunterladen', icon='download', on_click=download).props('outline no-caps')
            if overview.run is not None:
                ui.button('Lastschriften (pain.008)', icon='account_balance', on_click=download_debits).props(
                    'outline no-caps')
        ui.label(f'abgeschlossen am {format_german_date(overview.run.closed_at.date())}' if overview.run else
                 f'offen (Vorschau); abschließbar nach dem {abrechnung.cutoff_date(month):%d.%m.%Y}').classes(
            'text-body2 muted').mark('uebersicht-status')
        totals = overview.totals
        ui.label(f'Summe: {totals.personen} {"Person" if totals.personen == 1 else "Personen"} · Preis '
                 f'{format_euro(totals.preis_cent)} · Zuschuss {format_euro(totals.zuschuss_cent)} · Rabatt '
                 f'{format_euro(totals.rabatt_cent)} · Eigenanteil {format_euro(totals.eigenanteil_cent)}').classes(
            'text-body1 text-weight-medium').mark('uebersicht-summe')
        table = ServerTable(columns=OVERVIEW_COLUMNS, fetch=fetch, to_row=to_row, request=overview.page.request,
                            on_change=lambda _: None, empty_text='In diesem Monat gibt es keine Abos.')
        await table.refresh()
