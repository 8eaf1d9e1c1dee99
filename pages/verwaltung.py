"""Verwaltung, for the transit company's staff only: a new customer with its contract and first administrator in one
form, the status of a contract, and the E-Mail-Versand (the outbox's state)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from nicegui import APIRouter, ui
from nicegui.elements.mixins.value_element import ValueElement

from models import Contract, ContractStatus, PortalUser, Produktangebot
from pages.components import Table, german_date_input, show_link
from pages.forms import REFUSED, confirm, run_action, run_call, run_form
from pages.language import error_text
from pages.layout import client_address, page_heading, portal_page
from services import clock, mail, permissions, verwaltung
from services.errors import ServiceError
from services.permissions import Action
from services.validation import format_euro, format_german_date, format_german_datetime

router = APIRouter()

STATUS_OPTIONS = {status.value: status.value for status in ContractStatus}
PRODUCT_OPTIONS = {product.value: product.value for product in Produktangebot}


def _section(title: str, icon: str) -> None:
    with ui.row().classes('items-center gap-2 q-mt-sm'):
        ui.icon(icon, color='primary')
        ui.label(title).classes('text-subtitle1 text-weight-medium').props('role=heading aria-level=3')


def _input(label: str, max_length: int, width: str = 'w-full', kind: str = '') -> ui.input:
    return ui.input(label).props(f'outlined dense maxlength={max_length} {kind}').classes(width)


@portal_page(router, '/verwaltung', 'Verwaltung')
async def backoffice_page(user: PortalUser, request: Request) -> None:
    page_heading('Verwaltung', 'Kunden anlegen und Verträge pflegen')
    if not permissions.role_may(user, Action.MANAGE_CUSTOMERS):
        with ui.card().classes('portal-card w-full'), ui.row().classes('items-center gap-2'):
            ui.icon('lock', color='primary')
            ui.label('Dazu fehlt Ihnen die Berechtigung.').props('role=alert')
        return
    client = client_address(request)
    _new_customer_card(user, str(request.base_url), client)
    _status_card(user, client)
    await _mail_card(user)


async def _mail_card(user: PortalUser) -> None:
    """E-Mail-Versand: the outbox's counts and the newest mails not delivered (services/mail.py)."""
    overview = await mail.delivery_overview(user)
    with ui.card().classes('portal-card w-full q-pa-lg gap-2'):
        ui.label('E-Mail-Versand').classes('text-h6').props('role=heading aria-level=2')
        if not overview.configured:
            ui.label('Es ist kein E-Mail-Versand eingerichtet (SMTP_HOST): die E-Mails warten.').classes(
                'text-body2 text-negative')
        ui.label(', '.join(f'{status.value}: {count}' for status, count in overview.counts.items())).classes(
            'text-body2').mark('mail-counts')
        Table(
            columns=[{'name': name, 'label': label, 'field': name, 'align': 'left'} for name, label in (
                ('created', 'Erstellt'), ('recipient', 'Empfänger'), ('subject', 'Betreff'), ('status', 'Status'),
                ('attempts', 'Versuche'), ('error', 'Letzter Fehler'))],
            rows=[{'id': row.id, 'created': format_german_datetime(row.created_at), 'recipient': row.recipient,
                   'subject': row.subject, 'status': row.status.value, 'attempts': row.attempts,
                   'error': row.last_error or '–'} for row in overview.recent],
            row_key='id',
        ).props('flat dense hide-bottom no-data-label="Keine offenen oder gescheiterten E-Mails."').classes('w-full')


def _new_customer_card(user: PortalUser, base_url: str, client: str) -> None:
    async def create() -> None:
        button.props('loading')
        try:
            result = await run_form(fields, verwaltung.create_customer_with_contract(
                user, **{name: field.value or '' for name, field in fields.items()}, base_url=base_url,
                client=client,
            ), invalid_notice='Bitte prüfen Sie die markierten Angaben.')
        finally:
            button.props(remove='loading')
        if result is REFUSED:
            return
        for name, field in fields.items():
            if name != 'produktangebot':
                field.value = ''
        result_box.clear()
        with result_box, ui.card().classes('portal-card w-full q-pa-lg gap-3 bg-green-1').props('flat bordered'):
            customer = result.customer
            ui.label(f'{customer.name} ({customer.kundennummer}) ist angelegt, mit Vertrag '
                     f'{result.contract.vertragsnummer}.').classes('text-subtitle1 text-weight-medium')
            show_link(result.invitation, result_box.clear)
            with ui.row().classes('gap-4'):
                query = urlencode({'kundennummer': customer.kundennummer})
                ui.link('Verträge des Kunden', f'/vertragsverwaltung?{query}&aktiv=0').classes('text-body2')
                ui.link('Anwender des Kunden', f'/anwender?{query}').classes('text-body2')
        ui.notify('Kunde, Vertrag und Einladung sind angelegt.', type='positive')

    with ui.card().classes('portal-card w-full q-pa-lg gap-2'):
        ui.label('Neuer Kunde').classes('text-h6').props('role=heading aria-level=2')
        ui.label('Legt Firma, Vertrag und den ersten Administrator in einem Schritt an; der Administrator bekommt '
                 'einen Einladungslink (72 Stunden gültig).').classes('text-body2 muted')
        _section('Firma', 'business')
        with ui.grid().classes('w-full gap-3').style('grid-template-columns: repeat(auto-fill, minmax(220px, 1fr))'):
            fields: dict[str, ValueElement] = {
                'kundennummer': _input('Kundennummer', 20),
                'name': _input('Firmenname', 200),
                'strasse': _input('Straße und Hausnummer', 200),
                'plz': _input('PLZ', 5, kind='inputmode=numeric'),
                'ort': _input('Ort', 100),
                'ansprechpartner': _input('Ansprechpartner (optional)', 200),
                'email': _input('E-Mail der Firma (optional)', 254, kind='type=email'),
                'telefon': _input('Telefon (optional)', 50),
            }
        _section('Vertrag', 'description')
        with ui.grid().classes('w-full gap-3').style('grid-template-columns: repeat(auto-fill, minmax(220px, 1fr))'):
            fields['vertragsnummer'] = _input('Vertragsnummer', 20)
            fields['produktangebot'] = ui.select(PRODUCT_OPTIONS, value=Produktangebot.RECHNUNG.value,
                                                 label='Produktangebot').props('outlined dense')
            fields['beginn'] = german_date_input('Vertragsbeginn', clock.today().replace(day=1), 'TT.MM.JJJJ') \
                .props('dense')
            fields['arbeitgeberzuschuss'] = _input('Arbeitgeberzuschuss (€)', 12, kind='inputmode=decimal')
            fields['arbeitgeberzuschuss'].props('hint="monatlich, mindestens 25 % des Ticketpreises, z. B. 15,75"')
        _section('Erster Administrator', 'admin_panel_settings')
        with ui.grid().classes('w-full gap-3').style('grid-template-columns: repeat(auto-fill, minmax(220px, 1fr))'):
            fields['admin_name'] = _input('Name', 200)
            fields['admin_email'] = _input('E-Mail-Adresse', 254, kind='type=email')
        with ui.row().classes('w-full justify-end q-mt-sm'):
            button = ui.button('Anlegen und einladen', icon='domain_add', on_click=create).props('unelevated no-caps')
        result_box = ui.column().classes('w-full')


def _status_card(user: PortalUser, client: str) -> None:
    state: dict[str, Contract | None] = {'contract': None}

    def not_found(error: ServiceError) -> None:
        """Unknown or out of reach: said at the number that was searched, not as a notification."""
        number.error = error_text(error)

    async def find() -> None:
        number.error = None
        details.clear()
        state['contract'] = None
        contract = await run_call(verwaltung.find_contract(user, number.value or ''), not_found)
        if contract is REFUSED:
            return
        state['contract'] = contract
        show(contract)

    def show(contract: Contract) -> None:
        details.clear()
        with details:
            with ui.grid(columns='auto 1fr').classes('gap-x-6 gap-y-1 text-body2'):
                for label, value in (
                    ('Firma', f'{contract.customer.name} ({contract.customer.kundennummer})'),
                    ('Produktangebot', contract.produktangebot.value),
                    ('Beginn', format_german_date(contract.beginn)),
                    ('Arbeitgeberzuschuss', f'{format_euro(contract.arbeitgeberzuschuss_cent)} monatlich'),
                    ('Status', contract.status.value),
                ):
                    ui.label(label).classes('muted')
                    ui.label(value)
            with ui.row().classes('items-center gap-3'):
                status = ui.select(STATUS_OPTIONS, value=contract.status.value, label='Neuer Status').props(
                    'outlined dense').classes('w-48')
                ui.button('Status ändern', on_click=lambda: change(contract, status.value)).props(
                    'unelevated no-caps')
            ui.label('Ein nicht aktiver Vertrag nimmt keine Anträge an: sein Kundencode funktioniert nicht mehr, '
                     'bis der Vertrag wieder aktiv ist.').classes('text-caption muted')

    async def change(contract: Contract, value: str) -> None:
        if value == contract.status.value:
            ui.notify('Der Vertrag hat diesen Status bereits.', type='info')
            return
        if value != ContractStatus.AKTIV and not await confirm(
            f'Vertrag {contract.vertragsnummer} auf „{value}“ setzen?',
            'Der Kundencode des Vertrags funktioniert danach nicht mehr; Mitarbeitende können keine Anträge mehr '
            'stellen.', 'Status ändern',
        ):
            return
        if await run_action(verwaltung.change_contract_status(user, contract.id, value, client=client)) is REFUSED:
            return
        ui.notify(f'Vertrag {contract.vertragsnummer} ist jetzt „{value}“.', type='positive')
        await find()

    with ui.card().classes('portal-card w-full q-pa-lg gap-3'):
        ui.label('Vertragsstatus ändern').classes('text-h6').props('role=heading aria-level=2')
        with ui.row().classes('items-start gap-3'):
            number = ui.input('Vertragsnummer').props('outlined dense clearable maxlength=20').classes('w-64')
            ui.button('Suchen', icon='search', on_click=find).props('unelevated no-caps').classes('q-mt-xs')
            number.on('keydown.enter', find)
        details = ui.column().classes('w-full gap-3')
