"""Login with E-Mail-Adresse and Passwort, as in the guide; then, where set up or required, the second factor."""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import APIRouter, ui

from models import PortalUser
from pages.components import (
    legal_footer,
    public_frame,
    recovery_codes,
    second_factor_code_input,
    second_factor_enrolment,
)
from pages.forms import (
    browser_device,
    error_banner,
    forgotten_password_form,
    password_field,
    show_error,
)
from pages.layout import PRODUCT_NAME
from pages.session_cookie import Area, client_address, complete_login, safe_redirect_target, session_token
from pages.theme import SIDEBAR, apply_theme
from services import anwender, auth, clock, sessions
from services.auth import SecondStep

MAX_INPUT = 1024
SECOND_STEP_VALIDITY = timedelta(minutes=5)

router = APIRouter()


@router.page('/login', title=f'Anmeldung – {PRODUCT_NAME}')
async def login_page(request: Request, redirect_to: str = '/') -> RedirectResponse | None:
    target = safe_redirect_target(redirect_to)
    if await sessions.user_for_token(session_token(request, Area.PORTAL)):
        return RedirectResponse(target, status_code=303)
    apply_theme()
    client = client_address(request)
    device = browser_device()
    user_agent = request.headers.get('user-agent', '')

    async def try_login() -> None:
        show_error(error, None)
        button.props('loading')
        try:
            result = await auth.login(
                (email.value or '')[:MAX_INPUT], (password.value or '')[:MAX_INPUT], client=client, device=device,
                user_agent=user_agent,
            )
        finally:
            button.props(remove='loading')
        password.value = ''
        if result.token is not None:
            await complete_login(result.token, Area.PORTAL, target)
        elif isinstance(result.user, PortalUser) and result.second_step is not None:
            SecondStepForm(card, result.user, result.second_step, client, user_agent, target)
        else:
            show_error(error, result.error or auth.WRONG_CREDENTIALS)

    ui.context.client.content.classes('p-0 gap-0')
    legal_footer()
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
            with ui.card().classes('portal-card w-full q-pa-lg gap-3') as card:
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
                ui.link('Passwort vergessen?', '/passwort-vergessen').classes('text-body2')
            ui.label(
                'Probleme bei der Anmeldung? Wenden Sie sich an den Kundenservice Ihres Verkehrsunternehmens.'
            ).classes('text-body2 muted text-center')
    return None


class SecondStepForm:
    """The second step in the login card: the app's code, or the set-up of the app when the role requires one.

    The person verified by the password is kept only here, in the server's memory of this page, for
    `SECOND_STEP_VALIDITY`; nothing about it reaches the browser.
    """

    def __init__(self, card: ui.card, user: PortalUser, step: SecondStep, client: str, user_agent: str,
                 target: str) -> None:
        self.card, self.user, self.client, self.user_agent, self.target = card, user, client, user_agent, target
        self.started = clock.now()
        self.card.clear()
        with self.card:
            if step is SecondStep.CODE:
                self._code_form()
            else:
                self._enrolment_form()

    def _expired(self) -> bool:
        if clock.now() - self.started <= SECOND_STEP_VALIDITY:
            return False
        ui.notify('Die Anmeldung hat zu lange gedauert. Bitte melden Sie sich erneut an.', type='warning')
        ui.navigate.to('/login')
        return True

    def _code_form(self) -> None:
        ui.label('Bestätigung').classes('text-h5 text-weight-medium').props('role=heading aria-level=1')
        ui.label('Geben Sie den Code aus Ihrer Authenticator-App ein.').classes('muted')
        error = error_banner()
        code = second_factor_code_input()

        async def confirm() -> None:
            if self._expired():
                return
            show_error(error, None)
            result = await auth.complete_second_factor(
                self.user, code.value or '', client=self.client, user_agent=self.user_agent
            )
            code.value = ''
            if result.token is None:
                show_error(error, result.error)
                return
            await complete_login(result.token, Area.PORTAL, self.target)

        code.on('keydown.enter', confirm)
        ui.button('Bestätigen', on_click=confirm).props('unelevated size=lg no-caps').classes('w-full')
        ui.link('Abbrechen', '/login').classes('text-body2')

    def _enrolment_form(self) -> None:
        ui.label('Zweiten Faktor einrichten').classes('text-h5 text-weight-medium').props(
            'role=heading aria-level=1')
        ui.label('Für Ihre Rolle ist eine Anmeldung mit zweitem Faktor vorgeschrieben.').classes('text-body2')
        second_factor_enrolment(self.user, self.client, self._show_recovery_codes, before=lambda: not self._expired())

    def _show_recovery_codes(self, codes: list[str]) -> None:
        self.card.clear()
        with self.card:
            ui.label('Wiederherstellungscodes').classes('text-h5 text-weight-medium').props(
                'role=heading aria-level=1')
            recovery_codes(codes)

            async def go_on() -> None:
                result = await auth.start_after_enrolment(self.user, client=self.client, user_agent=self.user_agent)
                if result.token is not None:
                    await complete_login(result.token, Area.PORTAL, self.target)

            ui.button('Weiter zum Portal', on_click=go_on).props('unelevated size=lg no-caps').classes('w-full')


@router.page('/passwort-vergessen', title=f'Passwort vergessen – {PRODUCT_NAME}')
async def forgotten_password_page(request: Request) -> None:
    """Ask for a link to set a new password; the same answer for every address (see services/anwender)."""
    apply_theme()
    with public_frame(), ui.card().classes('portal-card w-full q-pa-lg gap-3'):
        ui.label('Passwort vergessen').classes('text-h5 text-weight-medium').props('role=heading aria-level=1')
        forgotten_password_form(
            'Geben Sie die E-Mail-Adresse Ihres Zugangs ein. Wir schicken Ihnen einen Link, mit dem Sie ein '
            'neues Passwort festlegen.',
            lambda email: anwender.request_password_reset(
                email, base_url=str(request.base_url), client=client_address(request)),
            '/login', MAX_INPUT)
