"""Profil, from the initials menu: who you are in the portal, and your own latest logins."""

from fastapi import Request
from nicegui import APIRouter, ui
from nicegui.events import ValueChangeEventArguments

from models import PortalUser
from pages.components import Table, recovery_codes, second_factor_enrolment
from pages.layout import client_address, page_heading, portal_page
from services import mail, protokoll, second_factor
from services.validation import format_german_datetime

router = APIRouter()


@portal_page(router, '/profil', 'Profil')
async def profile_page(user: PortalUser, request: Request) -> None:
    page_heading('Profil')
    logins = await protokoll.recent_logins(user)
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
            await _second_factor_section(user, client_address(request))
            if mail.may_get_digest(user):
                async def toggle(event: ValueChangeEventArguments) -> None:
                    await mail.set_digest(user, bool(event.value))
                    ui.notify('Gespeichert.', type='positive')

                ui.checkbox('Tagesübersicht per E-Mail (neue Anträge und fällige Fristen)', value=user.mail_digest,
                            on_change=toggle)
        with ui.card().classes('portal-card q-pa-lg gap-2 col-grow').style('min-width: 300px'):
            ui.label('Ihre letzten Anmeldungen').classes('text-h6').props('role=heading aria-level=2')
            if not logins:
                ui.label('Noch keine Anmeldungen.').classes('muted text-body2')
            else:
                Table(
                    columns=[{'name': 'time', 'label': 'Zeitpunkt', 'field': 'time', 'align': 'left'},
                             {'name': 'client', 'label': 'Client (IP-Adresse)', 'field': 'client', 'align': 'left'}],
                    rows=[{'id': login.id, 'time': format_german_datetime(login.created_at),
                           'client': login.client or '–'} for login in logins],
                    row_key='id',
                ).props('flat dense hide-bottom').classes('w-full')
            ui.label('Kennen Sie eine Anmeldung nicht? Ändern Sie Ihr Passwort und informieren Sie Ihre '
                     'Administration.').classes('text-caption muted')


async def _second_factor_section(user: PortalUser, client: str) -> None:
    """Zwei-Faktor-Anmeldung: its state, and the set-up for anyone who has none yet."""
    ui.separator()
    ui.label('Zwei-Faktor-Anmeldung').classes('text-subtitle1 text-weight-medium').props('role=heading aria-level=3')
    if second_factor.is_enrolled(user):
        remaining = await second_factor.remaining_recovery_codes(user)
        ui.label(f'Eingerichtet am {format_german_datetime(user.totp_enabled_at)}; {remaining} von '
                 f'{second_factor.RECOVERY_CODE_COUNT} Wiederherstellungscodes übrig.').classes('text-body2')
        ui.label('Telefon verloren? Das Verkehrsunternehmen setzt den zweiten Faktor zurück.').classes(
            'text-caption muted')
        return
    ui.label('Schützen Sie Ihren Zugang zusätzlich mit einem Code aus einer Authenticator-App.').classes(
        'text-body2')

    def open_enrolment() -> None:
        with ui.dialog().on('hide', lambda e: e.sender.delete()) as dialog, ui.card().classes('q-pa-lg gap-3').style(
            'width: min(460px, 95vw)'
        ) as card:
            ui.label('Zweiten Faktor einrichten').classes('text-h6').props('role=heading aria-level=2')

            def enrolled(codes: list[str]) -> None:
                card.clear()
                with card:
                    ui.label('Zweiter Faktor eingerichtet').classes('text-h6').props('role=heading aria-level=2')
                    recovery_codes(codes)
                    ui.button('Fertig', on_click=lambda: ui.navigate.to('/profil')).props('unelevated no-caps')

            second_factor_enrolment(user, client, enrolled)
        dialog.open()

    ui.button('Zweiten Faktor einrichten', icon='phonelink_lock', on_click=open_enrolment).props('outline no-caps')
