"""Login with E-Mail-Adresse and Passwort, as in the guide."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import APIRouter, app, ui

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
        error.visible = False
        button.props('loading')
        try:
            result = await auth.login(
                (email.value or '')[:MAX_INPUT], (password.value or '')[:MAX_INPUT],
                client=client_address(request), user_agent=request.headers.get('user-agent', ''),
            )
        finally:
            button.props(remove='loading')
        if result.token is None:
            error.text = result.error or auth.WRONG_CREDENTIALS
            error.visible = True
            password.value = ''
            return
        app.storage.user[SESSION_KEY] = result.token
        ui.navigate.to(target)

    with ui.row().classes('w-full min-h-screen items-stretch no-wrap gap-0'):
        with ui.column().classes('gt-sm justify-between q-pa-xl text-white').style(
            f'background: linear-gradient(160deg, {SIDEBAR} 0%, #0B4F8A 100%); width: 42%'
        ):
            with ui.row().classes('items-center gap-2'):
                ui.icon('directions_bus', size='40px')
                ui.label('D-Ticket Job').classes('text-h5 text-weight-bold')
            with ui.column().classes('gap-2'):
                ui.label('Das Firmenportal für Ihr Jobticket').classes('text-h4 text-weight-medium')
                ui.label(
                    'Verträge einsehen, Kundencodes für Ihre Mitarbeitenden erzeugen und Anträge bearbeiten – '
                    'alles an einem Ort.'
                ).classes('text-body1 text-blue-1')
            ui.label('Deutschlandticket Job · bundesweit gültig im Nahverkehr').classes('text-caption text-blue-2')
        with ui.column().classes('col items-center justify-center q-pa-lg'):
            with ui.card().classes('portal-card w-full q-pa-lg').style('max-width: 420px'):
                ui.label('Anmeldung').classes('text-h5 text-weight-medium').props('role=heading aria-level=1')
                ui.label(PRODUCT_NAME).classes('muted q-mb-md')
                email = ui.input('E-Mail-Adresse').props(
                    f'outlined autofocus type=email autocomplete=username maxlength={MAX_INPUT}'
                ).classes('w-full')
                password = ui.input('Passwort', password=True, password_toggle_button=True).props(
                    f'outlined autocomplete=current-password maxlength={MAX_INPUT}'
                ).classes('w-full')
                error = ui.label().classes('text-negative text-body2').props('role=alert')
                error.visible = False
                button = ui.button('Anmelden', on_click=try_login).props('unelevated size=lg no-caps').classes(
                    'w-full q-mt-sm'
                )
                email.on('keydown.enter', try_login)
                password.on('keydown.enter', try_login)
            ui.label('Probleme bei der Anmeldung? Wenden Sie sich an den Kundenservice Ihres Verkehrsunternehmens.') \
                .classes('text-caption muted q-mt-md text-center')
    return None
