"""The public Self-Service: apply with the Kundencode (/self-service), log in and manage 'Meine Abos'."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import APIRouter, ui

from models import Abo, Antrag, AntragStatus, Employee
from pages import language
from pages.antragsformular import ApplicationFlow
from pages.forms import REFUSED, browser_device, confirm, error_banner, password_field, run_action, run_form, show_error
from pages.language import _, date_text, euro_text, month_text, tr
from pages.self_service_layout import self_service_frame
from pages.session_cookie import Area, client_address, complete_login, session_token
from pages.session_guard import SessionGuard
from services import abo_status, auth, clock, meine_abos, sessions
from services.i18n import N_
from services.settings import get_settings

router = APIRouter()
router.get('/sprache/{code}', include_in_schema=False)(language.switch_endpoint)  # the Self-Service's switch

MAX_INPUT = 1024
STATUS_COLOURS = {
    AntragStatus.UNBESTAETIGT: 'grey-7',
    AntragStatus.OFFEN: 'orange-9', AntragStatus.GENEHMIGT: 'positive', AntragStatus.ABGELEHNT: 'negative',
}


@router.page('/self-service', title='Self-Service – D-Ticket Job')
async def self_service_page(request: Request, code: str = '') -> None:
    with self_service_frame(N_('D-Ticket Job beantragen')):
        ui.label(_(
            'Mit dem Kundencode Ihres Arbeitgebers beantragen Sie hier Ihr Deutschlandticket Job. Ihr Arbeitgeber '
            'bestätigt den Antrag; danach sehen Sie Ihr Abo unter „Meine Abos“.'
        )).classes('muted readable')
        ApplicationFlow(client_address(request), device=browser_device(), initial_code=code[:40])


@router.page('/self-service/anmelden', title='Anmeldung – Self-Service D-Ticket Job')
async def employee_login_page(request: Request) -> RedirectResponse | None:
    if await sessions.employee_for_token(session_token(request, Area.SELF_SERVICE)):
        return RedirectResponse(Area.SELF_SERVICE.home_path, status_code=303)
    device = browser_device()

    async def try_login() -> None:
        show_error(error, None)
        result = await auth.login(
            (email.value or '')[:MAX_INPUT], (password.value or '')[:MAX_INPUT], client=client_address(request),
            device=device, user_agent=request.headers.get('user-agent', ''), account_type=Employee,
        )
        if result.token is None:
            show_error(error, tr(result.error) if result.error else None)
            password.value = ''
            return
        await complete_login(result.token, Area.SELF_SERVICE, Area.SELF_SERVICE.home_path)

    with self_service_frame(N_('Meine Abos – Anmeldung'), show_login_link=False), ui.card().classes(
        'portal-card w-full q-pa-lg gap-3'
    ).style('max-width: 460px'):
        ui.label(_('Melden Sie sich mit der E-Mail-Adresse und dem Passwort aus Ihrem Antrag an.')).classes('muted')
        error = error_banner()
        email = ui.input(_('E-Mail-Adresse')).props(
            f'outlined type=email autocomplete=username maxlength={MAX_INPUT}').classes('w-full')
        password = password_field(_('Passwort'), 'current-password', MAX_INPUT)
        ui.button(_('Anmelden'), on_click=try_login).props('unelevated no-caps size=lg').classes('w-full')
        email.on('keydown.enter', try_login)
        password.on('keydown.enter', try_login)
        ui.link(_('Passwort vergessen?'), '/self-service/passwort-vergessen').classes('text-body2')
        ui.link(_('Noch kein Antrag? Hier mit dem Kundencode beantragen.'), '/self-service').classes('text-body2')
    return None


@router.page('/self-service/meine-abos', title='Meine Abos – Self-Service D-Ticket Job')
async def my_abos_page(request: Request) -> RedirectResponse | None:
    token = session_token(request, Area.SELF_SERVICE)
    employee = await sessions.employee_for_token(token)
    if employee is None or token is None:
        return RedirectResponse(Area.SELF_SERVICE.login_path, status_code=303)
    guard = SessionGuard(ui.context.client, Area.SELF_SERVICE, token, employee,
                         leave_to=Area.SELF_SERVICE.login_path)
    client = client_address(request)

    async def logout() -> None:
        await guard.sign_out(client)

    @ui.refreshable
    async def overview() -> None:
        abos = await meine_abos.my_abos(employee)
        antraege = await meine_abos.my_applications(employee)
        ui.label(_('Abos')).classes('text-h6').props('role=heading aria-level=2')
        if not abos:
            ui.label(_('Sie haben noch kein Abo. Sobald Ihr Arbeitgeber Ihren Antrag genehmigt, erscheint es hier.')) \
                .classes('muted')
        for abo in abos:
            _abo_card(abo, await meine_abos.monthly_shares(abo), employee, client, overview.refresh)
        ui.label(_('Anträge')).classes('text-h6 q-mt-md').props('role=heading aria-level=2')
        if not antraege:
            ui.label(_('Keine Anträge.')).classes('muted')
        for antrag in antraege:
            _antrag_card(antrag)

    with self_service_frame(N_('Meine Abos'), show_login_link=False, on_logout=logout):
        ui.label(_('Angemeldet als {email}', email=employee.email)).classes('muted')
        await overview()
    return None


def _facts(rows: list[tuple[str, str]]) -> None:
    with ui.grid(columns='auto 1fr').classes('w-full gap-x-6 gap-y-1 text-body2'):
        for label, value in rows:
            ui.label(label).classes('muted')
            ui.label(value).classes('break-words')


def _antrag_card(antrag: Antrag) -> None:
    with ui.card().classes('portal-card w-full q-pa-md gap-2'):
        with ui.row().classes('w-full items-center'):
            ui.label(_('Antrag {reference}', reference=antrag.reference)).classes('text-subtitle1 text-weight-medium')
            ui.space()
            ui.badge(tr(antrag.status.value), color=STATUS_COLOURS[antrag.status]).classes('text-body2 q-px-sm') \
                .mark('antrag-status')
        rows = [
            (_('Arbeitgeber'), antrag.contract.customer.name), (_('Eingang'), date_text(antrag.created_at.date())),
            (_('Startmonat'), month_text(antrag.startmonat)), (_('Ticketart'), tr(antrag.ticketart.value)),
        ]
        if antrag.status == AntragStatus.ABGELEHNT and antrag.decision_reason:
            rows.append((_('Begründung'), antrag.decision_reason))  # the company's own words
        _facts(rows)


def _share_rows(shares: list[meine_abos.MonthlyShare]) -> list[tuple[str, str]]:
    """'Ihr Eigenanteil': this month's amount, then 'ab Januar 2027: …' for each change ahead, with its cause."""
    if not shares:
        return []
    first, *later = shares
    rows = [(_('Ihr Eigenanteil'), _('{share} monatlich (Preis {price}, Zuschuss Ihres Arbeitgebers {subsidy})',
                                     share=euro_text(first.eigenanteil_cent), price=euro_text(first.preis_cent),
                                     subsidy=euro_text(first.zuschuss_cent)))]
    previous = first
    for share in later:
        causes = [text for changed, text in (
            (share.preis_cent != previous.preis_cent, _('neuer Preis {price}', price=euro_text(share.preis_cent))),
            (share.zuschuss_cent != previous.zuschuss_cent,
             _('Zuschuss {subsidy}', subsidy=euro_text(share.zuschuss_cent))),
        ) if changed]
        rows.append((_('ab {month}', month=month_text(share.ab)),
                     _('{share} monatlich ({causes})', share=euro_text(share.eigenanteil_cent),
                       causes=', '.join(causes))))
        previous = share
    return rows


def _abo_card(abo: Abo, shares: list[meine_abos.MonthlyShare], employee: Employee, client: str,
              refresh: Callable[[], Awaitable[None]]) -> None:
    today = clock.today()
    with ui.card().classes('portal-card w-full q-pa-md gap-2'):
        with ui.row().classes('w-full items-center'):
            ui.label(f'D-Ticket Job · {abo.contract.customer.name}').classes('text-subtitle1 text-weight-medium')
            ui.space()
            ui.badge(tr(abo_status.label(abo, today))).classes('text-body2 q-px-sm').mark('abo-status')
        _facts([
            (_('Beginn'), month_text(abo.startmonat)),
            (_('Ende'), date_text(abo.endmonat) if abo.endmonat else _('unbefristet')),
            (_('Ticketart'), tr(abo.ticketart.value)), (_('Anschrift'), f'{abo.strasse}, {abo.plz} {abo.ort}'),
            *(_share_rows(shares) if abo.endmonat is None or abo.endmonat >= today else []),
        ])
        if abo.status.value == 'aktiv':
            with ui.row().classes('gap-2'):
                ui.button(_('Anschrift ändern'), icon='home',
                          on_click=lambda: _address_dialog(abo, employee, client, refresh)).props('outline no-caps')
                ui.button(_('Kündigen'), icon='cancel',
                          on_click=lambda: _cancel_dialog(abo, employee, client, refresh)).props(
                    'outline no-caps color=negative')


def _address_dialog(abo: Abo, employee: Employee, client: str, refresh: Callable[[], Awaitable[None]]) -> None:
    async def save() -> None:
        if await run_form(fields, meine_abos.change_address(
            employee, abo.id, strasse=fields['strasse'].value or '', plz=fields['plz'].value or '',
            ort=fields['ort'].value or '', client=client,
        )) is REFUSED:
            return
        dialog.close()
        ui.notify(_('Ihre Anschrift wurde geändert.'), type='positive')
        refresh()

    with ui.dialog().on('hide', lambda e: e.sender.delete()) as dialog, ui.card().classes('q-pa-md gap-3').style(
        'width: min(460px, 95vw)'
    ):
        ui.label(_('Anschrift ändern')).classes('text-h6')
        fields = {
            'strasse': ui.input(_('Straße und Hausnummer'), value=abo.strasse).props('outlined maxlength=200')
            .classes('w-full'),
            'plz': ui.input(_('PLZ'), value=abo.plz).props('outlined maxlength=5 inputmode=numeric').classes('w-full'),
            'ort': ui.input(_('Ort'), value=abo.ort).props('outlined maxlength=100').classes('w-full'),
        }
        with ui.row().classes('w-full justify-end'):
            ui.button(_('Abbrechen'), on_click=dialog.close).props('flat no-caps')
            ui.button(_('Speichern'), on_click=save).props('unelevated no-caps')
    dialog.open()


async def _cancel_dialog(abo: Abo, employee: Employee, client: str, refresh: Callable[[], Awaitable[None]]) -> None:
    end = meine_abos.cancellation_date(abo)
    if not await confirm(
        _('Abo kündigen?'),
        _('Ihr D-Ticket Job endet dann am {end}. Kündigungen, die bis zum {day}. eines Monats eingehen, gelten zum '
          'Monatsende, spätere zum Ende des Folgemonats.', end=date_text(end), day=get_settings().cutoff_day),
        _('Kündigen'),
    ):
        return
    cancelled = await run_action(meine_abos.cancel_abo(employee, abo.id, client=client))
    if cancelled is REFUSED:
        return
    ui.notify(_('Ihr Abo ist zum {end} gekündigt.', end=date_text(cancelled.endmonat)), type='positive')
    refresh()
