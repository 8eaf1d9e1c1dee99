"""Passwort ändern, from the initials menu."""

from fastapi import Request
from nicegui import APIRouter, ui

from models import PortalUser
from pages.forms import REFUSED, browser_device, new_password_fields, password_field, run_form
from pages.layout import client_address, page_heading, portal_page
from pages.session_cookie import Area, session_token
from services import anwender
from services.passwords import MAX_LENGTH

router = APIRouter()


@portal_page(router, '/passwort', 'Passwort ändern')
async def password_page(user: PortalUser, request: Request) -> None:
    page_heading('Passwort ändern')
    device = browser_device()

    async def save() -> None:
        if await run_form(fields, anwender.change_password(
            user, current=fields['current'].value, new=fields['new'].value,
            confirmation=fields['confirmation'].value, client=client_address(request), device=device,
            keep_token=session_token(request, Area.PORTAL),
        )) is REFUSED:
            return
        for field in fields.values():
            field.value = ''
        ui.notify('Ihr Passwort wurde geändert.', type='positive')

    with ui.card().classes('portal-card w-full gap-3').style('max-width: 520px'):
        fields = {
            'current': password_field('Aktuelles Passwort', 'current-password', MAX_LENGTH),
            **new_password_fields('new'),
        }
        for field in fields.values():
            field.on('keydown.enter', save)
        ui.button('Passwort speichern', on_click=save).props('unelevated no-caps padding="sm lg"')
