"""Login with E-Mail-Adresse and Passwort, as in the guide."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import APIRouter, app, ui

from pages.forms import error_banner, password_field, show_error
from pages.layout import PRODUCT_NAME, SESSION_KEY, client_address, safe_redirect_target
from pages.theme import SIDEBAR, apply_theme
from services import auth, sessions

MAX_INPUT = 1024

router = APIRouter()


@router.page('/login', title=f'Anmeldung – {PRODUCT_NAME}')
async def login_page(request: Request, redirect_to: str = '/') -> RedirectResponse | None:
    target = safe_redirect_target(redirect_to)
    if await sessions.user_for_token(app.storage.user.get(SESSION_KEY)):
        return RedirectResponse(target, status_code=303)
    apply_theme()

    async def try_login() -> None:
        show_error(error, None)
        button.props('loading')
        try:
            result = await auth.login(
                (email.value or '')[:MAX_INPUT], (password.value or '')[:MAX_INPUT],
                client=client_address(request), user_agent=request.headers.get('user-agent', ''),
            )
        finally:
            button.props(remove='loading')
        if result.token is None:
            show_error(error, result.error or auth.WRONG_CREDENTIALS)
            password.value = ''
            return
        app.storage.user[SESSION_KEY] = result.token
        ui.navigate.to(target)

    ui.context.client.content.classes('p-0 gap-0')
    with ui.row().classes('w-full min-h-screen items-stretch no-wrap gap-0'):
        with ui.column().classes('gt-sm justify-between q-pa-xl text-white').style(
            f'background: linear-gradient(160deg, {SIDEBAR} 0%, #0B4F8A 100%); width: 42%'
        ):
            with ui.row().classes('items-center gap-2'):
                ui.icon('directions_bus', size='40px')
                ui.label('D-Ticket Job').classes('text-h5 text-weight-bold text-white')
            with ui.column().classes('gap-2'):
                ui.label('Das Firmenportal für Ihr Jobticket').classes('text-h4 text-weight-medium').style(
                    'text-wrap: balance'
                )
                ui.label(
                    'Verträge einsehen, Kundencodes für Ihre Mitarbeitenden erzeugen und Anträge bearbeiten – '
                    'alles an einem Ort.'
                ).classes('text-body1 text-blue-1')
            ui.label('Deutschlandticket Job · bundesweit gültig im Nahverkehr').classes('text-caption text-blue-2')
        with ui.column().classes('col items-center justify-center q-pa-lg'), ui.column().classes(
            'w-full gap-4'
        ).style('max-width: 420px'):
            with ui.row().classes('lt-md items-center gap-2 text-primary'):
                ui.icon('directions_bus', size='32px')
                ui.label('D-Ticket Job · Firmenportal').classes('text-h6 text-primary')
            with ui.card().classes('portal-card w-full q-pa-lg gap-3'):
                ui.label('Anmeldung').classes('text-h5 text-weight-medium').props('role=heading aria-level=1')
                ui.label('Bitte melden Sie sich mit Ihren Zugangsdaten an.').classes('muted')
                error = error_banner()
                email = ui.input('E-Mail-Adresse').props(
                    f'outlined autofocus type=email autocomplete=username maxlength={MAX_INPUT}'
                ).classes('w-full')
                password = password_field('Passwort', 'current-password', MAX_INPUT)
                button = ui.button('Anmelden', on_click=try_login).props('unelevated size=lg no-caps').classes(
                    'w-full'
                )
                email.on('keydown.enter', try_login)
                password.on('keydown.enter', try_login)
            ui.label(
                'Probleme bei der Anmeldung? Wenden Sie sich an den Kundenservice Ihres Verkehrsunternehmens.'
            ).classes('text-body2 muted text-center')
    return None
