"""The Self-Service account's public pages: „Passwort vergessen“ and the mailed one-time links
(/self-service/konto/<token>: confirm the address, claim an imported person's account, set a forgotten password).
Thin: services/employee_accounts.py holds every rule."""

from __future__ import annotations

from fastapi import Request
from nicegui import APIRouter, ui

from models import InvitationPurpose
from pages.forms import (
    REFUSED,
    error_banner,
    forgotten_password_form,
    new_password_fields,
    run_call,
    run_form,
    show_error,
)
from pages.language import _, error_text, tr
from pages.self_service_layout import self_service_frame
from pages.session_cookie import Area, client_address
from services import employee_accounts
from services.errors import ServiceError
from services.i18n import N_
from services.passwords import MIN_LENGTH

router = APIRouter()
MAX_INPUT = 1024
PAGE_WIDTH = 'max-width: 460px'


def _to_login(label: str = N_('Zur Anmeldung')) -> None:
    ui.button(tr(label), icon='login', on_click=lambda: ui.navigate.to(Area.SELF_SERVICE.login_path)).props(
        'unelevated no-caps size=lg').classes('w-full')


@router.page('/self-service/passwort-vergessen', title='Passwort vergessen – Self-Service D-Ticket Job')
async def forgotten_password_page(request: Request) -> None:
    with self_service_frame(N_('Passwort vergessen'), show_login_link=False), ui.card().classes(
        'portal-card w-full q-pa-lg gap-3').style(PAGE_WIDTH):
        forgotten_password_form(
            _('Geben Sie die E-Mail-Adresse aus Ihrem Antrag ein. Wir schicken Ihnen einen Link, mit dem Sie ein '
              'neues Passwort festlegen.'),
            lambda email: employee_accounts.request_password_reset(
                email, base_url=str(request.base_url), client=client_address(request)),
            Area.SELF_SERVICE.login_path, MAX_INPUT)


def _done(card: ui.card, heading: str, text: str) -> None:
    card.clear()
    with card:
        with ui.row().classes('items-center no-wrap gap-2'):
            ui.icon('check_circle', color='positive', size='md').props('aria-hidden=true')
            ui.label(heading).classes('text-h6 text-weight-medium').props('role=heading aria-level=2')
        ui.label(text).classes('text-body2')
        _to_login(N_('Zu Meine Abos'))


def _invalid_link(error: ServiceError) -> None:
    """Instead of the form: why the link does not work, and how to get a new one."""
    ui.label(_('Link nicht gültig')).classes('text-h6 text-weight-medium').props('role=heading aria-level=2')
    ui.label(error_text(error)).classes('text-body2 text-negative').props('role=alert')
    ui.link(_('Neuen Link anfordern (Passwort vergessen)'), '/self-service/passwort-vergessen').classes('text-body2')
    _to_login()


@router.page('/self-service/konto/{token}', title='Ihr Zugang – Self-Service D-Ticket Job')
async def account_link_page(request: Request, token: str) -> None:
    client = client_address(request)
    with self_service_frame(N_('Ihr Zugang'), show_login_link=False), ui.card().classes(
        'portal-card w-full q-pa-lg gap-3').style(PAGE_WIDTH) as card:
        link = await run_call(employee_accounts.check_link(token), _invalid_link)
        if link is REFUSED:
            return
        ui.label(_('E-Mail-Adresse: {email}', email=link.email)).classes('text-body2 break-all')
        banner = error_banner()

        if link.purpose == InvitationPurpose.KONTO_BESTAETIGUNG:
            async def confirm() -> None:
                if await run_form({}, employee_accounts.confirm_email(token, client=client), banner=banner) \
                        is REFUSED:
                    return
                _done(card, _('E-Mail-Adresse bestätigt'),
                      _('Ihr Antrag liegt jetzt Ihrem Arbeitgeber zur Entscheidung vor. Sie erhalten eine E-Mail, '
                        'sobald er entschieden ist.'))

            ui.label(_('Bitte bestätigen Sie, dass dies Ihre E-Mail-Adresse ist. Danach geht Ihr Antrag an Ihren '
                       'Arbeitgeber.')).classes('text-body2')
            ui.button(_('E-Mail-Adresse bestätigen'), on_click=confirm).props('unelevated no-caps size=lg') \
                .classes('w-full')
            return

        async def save() -> None:
            show_error(banner, None)
            done = await run_form(fields, employee_accounts.set_password(
                token, password=fields['password'].value or '', confirmation=fields['confirmation'].value or '',
                client=client))
            if done is not REFUSED:
                _done(card, _('Ihr Passwort ist gespeichert.'),
                      _('Melden Sie sich jetzt mit {email} und dem neuen Passwort an.', email=link.email))

        ui.label(_('Legen Sie Ihr Passwort für den Self-Service fest.') if link.purpose ==
                 InvitationPurpose.KONTO_EINLADUNG else _('Legen Sie hier Ihr neues Passwort fest.')) \
            .classes('text-body2')
        fields = new_password_fields(
            'password', hint=_('Mindestens {count} Zeichen; kein verbreitetes Passwort.', count=MIN_LENGTH))
        for field in fields.values():
            field.on('keydown.enter', save)
        ui.button(_('Passwort speichern'), on_click=save).props('unelevated no-caps size=lg').classes('w-full')
