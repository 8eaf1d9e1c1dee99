"""Dashboard: the first page after login — tiles, the Abo chart, code warnings and the latest events."""

from __future__ import annotations

import asyncio

from fastapi import Request
from nicegui import APIRouter, events, ui

from models import PortalUser
from pages.components import Table, state_url
from pages.layout import page_heading, portal_page
from services import abo_dates, dashboard, permissions
from services.abo_status import AboState
from services.audit import KIND_LABELS
from services.clock import BERLIN
from services.dashboard import Overview
from services.permissions import Action
from services.table_query import TableRequest
from services.validation import format_german_date

router = APIRouter()


def _tile(label: str, value: int, icon: str, target: str, note: str = '') -> None:
    with ui.card().classes('portal-card col-grow q-pa-md cursor-pointer').style('min-width: 200px').on(
        'click', lambda: ui.navigate.to(target)
    ).on('keydown.enter', lambda: ui.navigate.to(target)).props(
        f'role=link tabindex=0 aria-label="{label}: {value}"'
    ):
        with ui.row().classes('items-center no-wrap gap-3'):
            ui.icon(icon, size='36px', color='primary')
            with ui.column().classes('gap-0'):
                ui.label(str(value)).classes('text-h4 text-weight-bold').style('color: #12263F').mark(label)
                ui.label(label).classes('text-body2 muted')
        if note:
            ui.label(note).classes('text-caption muted q-mt-xs')


def _antraege_target(overview: Overview) -> str:
    ids = overview.open_antraege_contract_ids
    return f'/vertragsverwaltung/{ids[0]}/antraege' if len(ids) == 1 else '/vertragsverwaltung'


def _find_contract(event: events.GenericEventArguments) -> None:
    """A warning's row opens the Vertragsverwaltung searching for its contract (Infos → Code from there)."""
    ui.navigate.to(state_url('', True, TableRequest(search=event.args[1]['vertragsnummer'])))


def _codes_card(overview: Overview) -> None:
    with ui.card().classes('portal-card w-full q-pa-md gap-2'):
        with ui.row().classes('items-center gap-2'):
            ui.icon('vpn_key', color='primary')
            ui.label('Kundencode').classes('text-subtitle1 text-weight-medium')
        if not overview.code_warnings:
            ui.label(f'Alle aktiven Verträge haben einen gültigen Kundencode ({overview.valid_codes}).').classes(
                'text-body2')
            return
        # One table element, not a row of elements per warning: building elements is what holds the event loop.
        Table(
            columns=[{'name': 'hinweis', 'label': 'Hinweis', 'field': 'hinweis', 'align': 'left'}],
            rows=[{'id': warning.contract_id, 'vertragsnummer': warning.vertragsnummer, 'hinweis': warning.message}
                  for warning in overview.code_warnings],
            row_key='id',
        ).props('flat dense hide-header hide-bottom wrap-cells').classes('w-full bg-orange-1 cursor-pointer').on(
            'rowClick', _find_contract).mark('code-warnings')
        if (more := overview.code_warning_count - len(overview.code_warnings)) > 0:
            ui.label(f'… und {more} weitere Verträge ohne gültigen oder mit bald ablaufendem Kundencode.').classes(
                'text-body2 muted')


def _subsidy_card(overview: Overview) -> None:
    """A new price can push a subsidy below the minimum: the company's administrators see it here first."""
    if not overview.subsidy_warnings:
        return
    with ui.card().classes('portal-card w-full q-pa-md gap-2'):
        with ui.row().classes('items-center gap-2'):
            ui.icon('euro', color='primary')
            ui.label('Arbeitgeberzuschuss').classes('text-subtitle1 text-weight-medium')
        for warning in overview.subsidy_warnings:
            with ui.row().classes('items-center no-wrap gap-2 q-pa-sm rounded-borders bg-orange-1 w-full'):
                ui.icon('warning', color='orange-10').props('aria-hidden=true')
                ui.label(warning.message).classes('text-body2').style('color: #7A3E00').mark('zuschuss-warnung')


def _chart(overview: Overview) -> None:
    with ui.card().classes('portal-card w-full q-pa-md'):
        ui.label('Aktive Abos je Monat').classes('text-subtitle1 text-weight-medium')
        months = [abo_dates.month_label(month).replace(' 20', ' ’') for month, _ in overview.abos_per_month]
        counts = [count for _, count in overview.abos_per_month]
        ui.echart({
            'aria': {'enabled': True},
            'grid': {'left': 40, 'right': 16, 'top': 24, 'bottom': 40},
            'tooltip': {'trigger': 'axis'},
            'xAxis': {'type': 'category', 'data': months, 'axisLabel': {'color': '#4A5B70'}},
            'yAxis': {'type': 'value', 'minInterval': 1, 'axisLabel': {'color': '#4A5B70'}},
            'series': [{'type': 'bar', 'name': 'Aktive Abos', 'data': counts, 'itemStyle': {'color': '#0B4F8A'}}],
        }).classes('w-full h-64')


def _events(overview: Overview) -> None:
    with ui.card().classes('portal-card w-full q-pa-md gap-1'):
        ui.label('Letzte Ereignisse').classes('text-subtitle1 text-weight-medium')
        if not overview.recent_events:
            ui.label('Noch keine Ereignisse.').classes('muted text-body2')
        for event in overview.recent_events:
            with ui.row().classes('w-full no-wrap gap-3 text-body2'):
                ui.label(event.created_at.astimezone(BERLIN).strftime('%d.%m.%Y %H:%M')).classes(
                    'muted').style('min-width: 120px')
                ui.label(KIND_LABELS.get(event.kind, event.kind)).classes(  # type: ignore[call-overload]
                    'text-weight-medium')
                ui.label(event.actor_label).classes('muted ellipsis')


@portal_page(router, '/', 'Dashboard')
async def dashboard_page(user: PortalUser, request: Request) -> None:
    """Built in parts with a yield to the event loop between them: each card's elements take milliseconds to create,
    and the whole page at once held the loop (every other user's page) for tens of ms (bench/dashboard.py)."""
    overview = await dashboard.overview(user)
    page_heading(f'Willkommen, {user.name}', user.customer.name if user.customer else 'Verkehrsunternehmen')
    with ui.row().classes('w-full gap-4'):
        _tile('Aktive Verträge', overview.active_contracts, 'description', '/vertragsverwaltung')
        _tile('Aktive Abos', overview.active_abos, 'confirmation_number', '/vertragsverwaltung',
              f'davon {overview.abo_states[AboState.GEKUENDIGT]} gekündigt · '
              f'{overview.abo_states[AboState.KUENFTIG]} künftig')
        _tile('Offene Anträge', overview.open_antraege, 'assignment', _antraege_target(overview))
    await asyncio.sleep(0)
    _codes_card(overview)
    _subsidy_card(overview)
    _chart(overview)
    await asyncio.sleep(0)
    if permissions.role_may(user, Action.VIEW_ALL_CUSTOMERS):
        with ui.card().classes('portal-card w-full q-pa-md gap-1'):
            ui.label('Neueste Kunden').classes('text-subtitle1 text-weight-medium')
            for customer in overview.newest_customers:
                created = format_german_date(customer.created_at.date())
                ui.link(f'{customer.name} ({customer.kundennummer}) – angelegt am {created}',
                        f'/vertragsverwaltung?kundennummer={customer.kundennummer}&aktiv=0').classes('text-body2')
        await asyncio.sleep(0)
    if permissions.role_may(user, Action.VIEW_AUDIT_LOG):
        _events(overview)
