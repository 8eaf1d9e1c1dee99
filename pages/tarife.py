"""Tarife, for the transit company's staff: the dated Deutschlandticket Job blocks (price, Mindestzuschuss, Rabatt),
a new block from a future month on, and then every contract whose subsidy falls below the new minimum."""

from __future__ import annotations

from fastapi import Request
from nicegui import APIRouter, ui

from models import PortalUser
from pages.components import Table
from pages.forms import REFUSED, chosen_month, month_options, run_form
from pages.layout import client_address, page_heading, portal_page
from services import abo_dates, clock, permissions, tarife, zuschuesse
from services.permissions import Action
from services.tarife import Tariff
from services.validation import format_euro, parse_euro_cents

router = APIRouter()

OFFERED_MONTHS = 36
COLUMNS = [
    {'name': 'gueltig_ab', 'label': 'Gültig ab', 'field': 'gueltig_ab', 'align': 'left'},
    {'name': 'preis', 'label': 'Preis', 'field': 'preis', 'align': 'right'},
    {'name': 'mindestzuschuss', 'label': 'Mindestzuschuss', 'field': 'mindestzuschuss', 'align': 'right'},
    {'name': 'rabatt', 'label': 'Rabatt', 'field': 'rabatt', 'align': 'right'},
    {'name': 'eigenanteil', 'label': 'Eigenanteil höchstens', 'field': 'eigenanteil', 'align': 'right'},
]


def _row(rules: Tariff) -> dict[str, object]:
    return {
        'gueltig_ab': abo_dates.month_label(rules.gueltig_ab), 'preis': format_euro(rules.preis_cent),
        'mindestzuschuss': f'{rules.mindestzuschuss_prozent} % = {format_euro(rules.mindestzuschuss_cent)}',
        'rabatt': f'{rules.rabatt_prozent} % = {format_euro(rules.rabatt_cent)}',
        'eigenanteil': format_euro(rules.eigenanteil_cent(rules.mindestzuschuss_cent)),
    }


def _whole_number(value: object) -> int | None:
    text = str(value or '').strip().removesuffix('%').strip()
    return int(text) if text.isascii() and text.isdecimal() and len(text) <= 3 else None


@portal_page(router, '/tarife', 'Tarife')
async def tariffs_page(user: PortalUser, request: Request) -> None:
    page_heading('Tarife', 'Preis des Deutschlandtickets und Regeln des Jobtickets, jeweils ab einem Monat')
    if not permissions.role_may(user, Action.MANAGE_TARIFFS):
        with ui.card().classes('portal-card w-full'), ui.row().classes('items-center gap-2'):
            ui.icon('lock', color='primary')
            ui.label(permissions.denied_message(Action.MANAGE_TARIFFS)).props('role=alert')
        return
    client = client_address(request)

    @ui.refreshable
    async def blocks() -> None:
        rows = [_row(rules) for rules in reversed((await tarife.current()).blocks)]
        Table(columns=COLUMNS, rows=rows, row_key='gueltig_ab').props('flat dense').classes('w-full')

    async def add() -> None:
        result = await run_form(fields, tarife.add_block(
            user, gueltig_ab=chosen_month(fields['gueltig_ab'].value),
            preis_cent=parse_euro_cents(fields['preis'].value or ''),
            mindestzuschuss_prozent=_whole_number(fields['mindestzuschuss_prozent'].value),
            rabatt_prozent=_whole_number(fields['rabatt_prozent'].value), client=client,
        ))
        if result is REFUSED:
            return
        assert isinstance(result, Tariff)
        ui.notify(f'Tarif ab {abo_dates.month_label(result.gueltig_ab)} hinzugefügt.', type='positive')
        blocks.refresh()
        await _show_below_minimum(user, result, below_box)

    with ui.card().classes('portal-card w-full q-pa-lg gap-2'):
        ui.label('Tarifstufen').classes('text-h6').props('role=heading aria-level=2')
        await blocks()
    with ui.card().classes('portal-card w-full q-pa-lg gap-3'):
        ui.label('Neuer Tarif').classes('text-h6').props('role=heading aria-level=2')
        ui.label('Gilt ab dem 1. des gewählten Monats bis zum nächsten Tarif. Laufende und abgerechnete Monate '
                 'ändern sich nicht.').classes('text-body2 muted')
        with ui.row().classes('w-full items-start gap-3'):
            fields = {
                'gueltig_ab': ui.select(month_options(abo_dates.first_change_month(clock.today()), OFFERED_MONTHS),
                                        label='Gültig ab').props('outlined dense').classes('w-48'),
                'preis': ui.input('Preis (€ monatlich)').props('outlined dense maxlength=12').classes('w-40'),
                'mindestzuschuss_prozent': ui.input('Mindestzuschuss (%)', value='25').props(
                    'outlined dense maxlength=3 inputmode=numeric').classes('w-40'),
                'rabatt_prozent': ui.input('Rabatt (%)', value='5').props(
                    'outlined dense maxlength=3 inputmode=numeric').classes('w-40'),
            }
            ui.button('Tarif hinzufügen', icon='add', on_click=add).props('unelevated no-caps').classes('q-mt-xs')
    below_box = ui.column().classes('w-full')


async def _show_below_minimum(user: PortalUser, rules: Tariff, box: ui.column) -> None:
    count, rows = await zuschuesse.below_minimum(user, rules)
    box.clear()
    with box, ui.card().classes('portal-card w-full q-pa-lg gap-2'):
        ui.label('Verträge unter dem neuen Mindestzuschuss').classes('text-h6').props('role=heading aria-level=2')
        if not count:
            ui.label(f'Alle Verträge erreichen ab {abo_dates.month_label(rules.gueltig_ab)} den Mindestzuschuss von '
                     f'{format_euro(rules.mindestzuschuss_cent)}.').classes('text-body2')
            return
        ui.label(f'{count} Verträge liegen ab {abo_dates.month_label(rules.gueltig_ab)} unter dem Mindestzuschuss '
                 f'von {format_euro(rules.mindestzuschuss_cent)}; ihre Administratoren sehen einen Hinweis im '
                 'Dashboard.').classes('text-body2').props('role=status')
        Table(columns=[
            {'name': 'vertragsnummer', 'label': 'Vertragsnummer', 'field': 'vertragsnummer', 'align': 'left'},
            {'name': 'firma', 'label': 'Firma', 'field': 'firma', 'align': 'left'},
            {'name': 'zuschuss', 'label': 'Zuschuss dann', 'field': 'zuschuss', 'align': 'right'},
        ], rows=[{'vertragsnummer': row.vertragsnummer, 'firma': row.firma, 'zuschuss': format_euro(row.zuschuss_cent)}
                 for row in rows], row_key='vertragsnummer').props('flat dense').classes('w-full')
        if count > len(rows):
            ui.label(f'Die ersten {len(rows)} von {count} Verträgen.').classes('text-body2 muted')
