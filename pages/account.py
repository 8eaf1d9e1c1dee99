"""Passwort ändern, from the initials menu."""

from fastapi import Request
from nicegui import APIRouter, ui

from models import PortalUser
from pages.layout import client_address, page_heading, portal_page
from services import users
from services.errors import ValidationError
from services.passwords import MAX_LENGTH, MIN_LENGTH

router = APIRouter()


@portal_page(router, '/passwort', 'Passwort ändern')
async def password_page(user: PortalUser, request: Request) -> None:
    page_heading('Passwort ändern')

    async def save() -> None:
        for field in fields.values():
            field.error = None
        try:
            await users.change_password(
                user, current=fields['current'].value, new=fields['new'].value,
                confirmation=fields['confirmation'].value, client=client_address(request),
            )
        except ValidationError as error:
            for name, message in error.errors.items():
                fields[name].error = message
            return
        for field in fields.values():
            field.value = ''
        ui.notify('Ihr Passwort wurde geändert.', type='positive')

    with ui.card().classes('portal-card w-full').style('max-width: 520px'):
        ui.label(f'Mindestens {MIN_LENGTH} Zeichen; kein verbreitetes Passwort und nicht Ihr Name.').classes('muted')
        props = f'outlined maxlength={MAX_LENGTH}'
        fields = {
            'current': ui.input('Aktuelles Passwort', password=True, password_toggle_button=True)
            .props(f'{props} autocomplete=current-password').classes('w-full'),
            'new': ui.input('Neues Passwort', password=True, password_toggle_button=True)
            .props(f'{props} autocomplete=new-password').classes('w-full'),
            'confirmation': ui.input('Neues Passwort wiederholen', password=True, password_toggle_button=True)
            .props(f'{props} autocomplete=new-password').classes('w-full'),
        }
        ui.button('Passwort speichern', on_click=save).props('unelevated no-caps')
