"""Profil, from the initials menu: who you are in the portal, and your own latest logins."""

from fastapi import Request
from nicegui import APIRouter, ui

from models import PortalUser
from pages.layout import page_heading, portal_page
from services import audit_log
from services.validation import format_german_datetime

router = APIRouter()


@portal_page(router, '/profil', 'Profil')
async def profile_page(user: PortalUser, request: Request) -> None:
    page_heading('Profil')
    logins = await audit_log.recent_logins(user)
    with ui.row().classes('w-full gap-4 items-start'):
        with ui.card().classes('portal-card q-pa-lg gap-3 col-grow').style('min-width: 300px; max-width: 520px'):
            with ui.row().classes('items-center no-wrap gap-3'):
                ui.avatar(user.initials, color='primary', text_color='white', size='56px').props(
                    'aria-hidden=true')
                with ui.column().classes('gap-0'):
                    ui.label(user.name).classes('text-h6').props('role=heading aria-level=2')
                    ui.label(user.role_label).classes('muted')
            with ui.grid(columns='auto 1fr').classes('w-full gap-x-6 gap-y-1 text-body2'):
                for label, value in (
                    ('Name', user.name), ('E-Mail-Adresse', user.email), ('Rolle', user.role_label),
                    ('Firma', user.customer.name if user.customer else 'Verkehrsunternehmen'),
                    ('Passwort geändert', format_german_datetime(user.password_changed_at) or '–'),
                ):
                    ui.label(label).classes('muted')
                    ui.label(value).classes('break-all')
            ui.button('Passwort ändern', icon='key', on_click=lambda: ui.navigate.to('/passwort')).props(
                'outline no-caps')
        with ui.card().classes('portal-card q-pa-lg gap-2 col-grow').style('min-width: 300px'):
            ui.label('Ihre letzten Anmeldungen').classes('text-h6').props('role=heading aria-level=2')
            if not logins:
                ui.label('Noch keine Anmeldungen.').classes('muted text-body2')
            else:
                ui.table(
                    columns=[{'name': 'time', 'label': 'Zeitpunkt', 'field': 'time', 'align': 'left'},
                             {'name': 'client', 'label': 'Client (IP-Adresse)', 'field': 'client', 'align': 'left'}],
                    rows=[{'id': login.id, 'time': format_german_datetime(login.created_at),
                           'client': login.client or '–'} for login in logins],
                    row_key='id',
                ).props('flat dense hide-bottom').classes('w-full')
            ui.label('Kennen Sie eine Anmeldung nicht? Ändern Sie Ihr Passwort und informieren Sie Ihre '
                     'Administration.').classes('text-caption muted')
