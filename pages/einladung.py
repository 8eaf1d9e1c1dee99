"""The one-time link of an invitation or a password reset (public, '/einladung/<token>'): set the password, then log
in. An invalid, expired or used link says so in plain German and changes nothing."""

from __future__ import annotations

from fastapi import Request
from nicegui import APIRouter, ui

from models import InvitationPurpose
from pages.components import public_frame
from pages.forms import REFUSED, error_banner, new_password_fields, run_call, run_form
from pages.language import error_text
from pages.layout import PRODUCT_NAME, client_address
from pages.theme import apply_theme
from services import anwender
from services.errors import ServiceError

router = APIRouter()


def _login_link() -> None:
    ui.button('Zur Anmeldung', icon='login', on_click=lambda: ui.navigate.to('/login')).props(
        'unelevated no-caps').classes('w-full')


def _invalid_link(error: ServiceError) -> None:
    """Instead of the form: why the link does not work, and the way to the login."""
    ui.label('Link nicht gültig').classes('text-h5 text-weight-medium').props('role=heading aria-level=1')
    with ui.row().classes('w-full items-center no-wrap gap-2 q-pa-sm rounded-borders bg-red-1 text-negative'):
        ui.icon('link_off', size='sm').props('aria-hidden=true')
        ui.label(error_text(error)).classes('text-body2').props('role=alert')
    ui.label('Haben Sie schon ein Passwort, melden Sie sich einfach an.').classes('text-body2 muted')
    _login_link()


@router.page('/einladung/{token}', title=f'Passwort festlegen – {PRODUCT_NAME}')
async def invitation_page(request: Request, token: str) -> None:
    apply_theme()
    with public_frame(), ui.card().classes('portal-card w-full q-pa-lg gap-3') as card:
        info = await run_call(anwender.check_link(token), _invalid_link)
        if info is REFUSED:
            return

        async def save() -> None:
            button.props('loading')
            try:
                saved = await run_form(fields, anwender.use_link(
                    token, password=fields['password'].value or '', confirmation=fields['confirmation'].value or '',
                    client=client_address(request),
                ), banner=banner)
            finally:
                button.props(remove='loading')
            if saved is REFUSED:
                return
            card.clear()
            with card:
                with ui.row().classes('items-center no-wrap gap-2'):
                    ui.icon('check_circle', color='positive', size='md').props('aria-hidden=true')
                    ui.label('Ihr Passwort ist gespeichert.').classes('text-h5 text-weight-medium').props(
                        'role=heading aria-level=1')
                ui.label(f'Melden Sie sich jetzt mit Ihrer E-Mail-Adresse {info.email} und dem neuen Passwort an.') \
                    .classes('text-body2')
                _login_link()

        invited = info.purpose == InvitationPurpose.EINLADUNG
        ui.label('Willkommen im Firmenportal' if invited else 'Neues Passwort festlegen').classes(
            'text-h5 text-weight-medium').props('role=heading aria-level=1')
        ui.label(
            f'Guten Tag {info.name}, Sie wurden für {info.company} eingeladen. Legen Sie bitte Ihr Passwort fest.'
            if invited else f'Guten Tag {info.name}, legen Sie hier Ihr neues Passwort fest.'
        ).classes('text-body2')
        with ui.grid(columns='auto 1fr').classes('gap-x-4 gap-y-0 text-body2'):
            ui.label('E-Mail-Adresse').classes('muted')
            ui.label(info.email).classes('break-all')
        banner = error_banner()
        # The e-mail address as a hidden username, so password managers store the new password for the right account.
        ui.element('input').props(f'type=email autocomplete=username value="{info.email}" hidden aria-hidden=true')
        fields = new_password_fields('password')
        for field in fields.values():
            field.on('keydown.enter', save)
        button = ui.button('Passwort speichern', on_click=save).props('unelevated no-caps size=lg').classes('w-full')
