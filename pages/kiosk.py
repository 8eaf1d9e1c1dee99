"""The kiosk at the transit office's customer centre: the Self-Service application in a full-screen, touch-first
frame with no way out. After `kiosk_idle_seconds` without a touch a countdown appears, then everything is wiped and
the screen starts over, so nothing of one person remains for the next."""

from __future__ import annotations

import math

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import APIRouter, ui

from models import Antrag
from pages import language
from pages.antragsformular import ApplicationFlow
from pages.components import legal_footer
from pages.language import _
from pages.layout import client_address
from pages.theme import SIDEBAR, apply_theme
from services import clock, devices
from services.settings import get_settings

router = APIRouter()
NEW_DEVICE = 'neues_geraet'
ANNOUNCE_AGAIN = 10  # seconds before the wipe: the countdown is announced when it appears and once more here
TICK_SECONDS = 1.0  # how often the screen looks at services.clock.monotonic (the countdown shows whole seconds)

# 16 px hints and errors need room: Quasar keeps a field's messages in a 20 px absolute box, where two lines of
# 16 px ran into the next field; here they are in the flow and push it down.
KIOSK_CSS = '''
body { overflow-x: hidden; user-select: none; -webkit-user-select: none; }
.kiosk .q-btn, .kiosk-dialog .q-btn { min-height: 56px; min-width: 56px; font-size: 1.15rem; }
.kiosk .q-field__native, .kiosk .q-field__label, .kiosk .q-item, .kiosk .q-checkbox__label,
.kiosk .q-radio__label, .q-menu .q-item { font-size: 1.2rem; }
.kiosk .q-item, .q-menu .q-item { min-height: 56px; }
.kiosk .q-field--outlined .q-field__control { min-height: 64px; }
.kiosk .q-checkbox__inner, .kiosk .q-radio__inner { font-size: 48px; }
.kiosk .q-field__bottom, .kiosk .text-caption, .kiosk .text-body2, .kiosk [role=alert], .kiosk-text,
.kiosk-dialog .text-body2, .kiosk-dialog .nicegui-markdown { font-size: 16px !important; line-height: 1.5; }
.kiosk input, .kiosk textarea { user-select: text; -webkit-user-select: text; }
.kiosk .q-field--with-bottom { padding-bottom: 0; }
.kiosk .q-field__bottom { position: static; transform: none; padding-top: 4px; }
.kiosk-announcement { position: absolute; width: 1px; height: 1px; margin: -1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; }
@media (max-width: 599.98px) {
  .kiosk .q-pa-xl { padding: 12px !important; }
  .kiosk .q-px-xl { padding-left: 12px !important; padding-right: 12px !important; }
  .kiosk .text-h4 { font-size: 1.5rem; line-height: 2rem; }
  .kiosk .text-h6 { font-size: 1.05rem; }
}
'''

# Reports touches and keys (at most once a second), and keeps the browser from leaving the page: no back navigation,
# no context menu, no drag-and-drop of links. The address is plain /kiosk again after the first visit's redirect.
KIOSK_JS = '''
(() => {
  let last = 0;
  const report = () => { const now = Date.now(); if (now - last > 1000) { last = now; emitEvent('kiosk_activity'); } };
  ['pointerdown', 'keydown', 'input', 'touchstart'].forEach(name => document.addEventListener(name, report, true));
  history.replaceState(null, '', location.pathname);
  history.pushState(null, '', location.href);
  window.addEventListener('popstate', () => history.pushState(null, '', location.href));
  document.addEventListener('contextmenu', event => event.preventDefault());
  document.addEventListener('dragstart', event => event.preventDefault());
})();
'''


class Kiosk:
    """The kiosk's screen and its clock (services/clock.py `monotonic`, so tests move time instead of waiting).
    Its language is the kiosk browser's (Accept-Language) until a visitor switches; every reset goes back to it, and
    nothing stores the choice, so the next person starts in the default language."""

    def __init__(self, client: str, device: str, default_language: str, header: ui.element) -> None:
        settings = get_settings()
        self.client = client
        self.device = device
        self.default_language = default_language
        self.header = header
        self.footer: ui.footer | None = None
        self.idle_seconds = settings.kiosk_idle_seconds
        self.countdown_seconds = settings.kiosk_countdown_seconds
        self.done_seconds = settings.kiosk_done_seconds
        self.last_activity = clock.monotonic()
        self.sent_at: float | None = None  # set while only the reference of a sent Antrag is on screen
        self.announced = 0  # the remaining seconds last announced to screen readers
        self.content = ui.column().classes('w-full gap-4')
        with ui.dialog().props('persistent').classes('kiosk-dialog') as self.warning, ui.card().classes(
            'q-pa-xl items-center gap-4'
        ):
            ui.icon('hourglass_bottom', size='64px', color='primary')
            self.question = ui.label().classes('text-h4').props('role=heading aria-level=2')
            # Seen every second, but not read out every second (role=timer is not live): the polite region below
            # speaks when the countdown appears and once more at ANNOUNCE_AGAIN seconds.
            self.countdown = ui.label().classes('text-h6 text-center').props('role=timer aria-live=off')
            self.announcement = ui.label().classes('kiosk-announcement').props('aria-live=polite aria-atomic=true')
            self.go_on = ui.button(icon='touch_app', on_click=self.touched).props('unelevated no-caps size=xl')
        self.start()
        ui.on('kiosk_activity', self.touched)
        ui.timer(TICK_SECONDS, self.tick)

    def start(self) -> None:
        """A clean screen: new elements, so no value, error or state of the previous person survives; the default
        language again."""
        self.show_in(self.default_language)

    def switch_language(self) -> None:
        """The visitor's choice: the screen again, in the other language (nothing typed so far is kept)."""
        self.show_in(language.other_language())

    def show_in(self, chosen: str) -> None:
        language.use(chosen)
        ui.page_title(_('D-Ticket Job – Kundenzentrum'))
        self.draw_header()
        if self.footer is not None:
            if language.current() == 'de':
                self.footer.props.pop('lang', None)
            else:
                self.footer.props['lang'] = 'de'  # the legal texts are German only
            self.footer.update()
        self.question.text = _('Sind Sie noch da?')
        self.go_on.text = _('Weiter ausfüllen')
        self.warning.close()
        self.content.clear()
        with self.content:
            # Wrong codes count for this kiosk (its device cookie) across every visit, and for its address.
            ApplicationFlow(self.client, device=self.device, kiosk=True, on_submitted=self.sent)
        self.sent_at = None
        self.last_activity = clock.monotonic()

    def draw_header(self) -> None:
        self.header.clear()
        with self.header:
            ui.icon('directions_bus', size='48px')
            with ui.column().classes('gap-0 col').style('min-width: 12rem'):
                ui.label(_('D-Ticket Job beantragen')).classes('text-h4 text-weight-medium').props(
                    'role=heading aria-level=1')
                ui.label(_('Mit dem Kundencode Ihres Arbeitgebers – in wenigen Minuten erledigt.')).classes(
                    'text-h6 text-blue-2')
            with ui.row().classes('items-center gap-3'):
                language.kiosk_language_switch(self.switch_language)
                ui.button(_('Neu beginnen'), icon='restart_alt', on_click=self.start).props(
                    'outline no-caps color=white size=lg')

    def sent(self, antrag: Antrag) -> None:
        """Only the reference number and "Fertig" stay: the name, birth date and address the person typed are gone
        from the screen at once, and the reference too after `done_seconds`, touched or not."""
        self.content.clear()
        with self.content, ui.card().classes('portal-card w-full q-pa-xl items-center gap-4 text-center'):
            ui.icon('check_circle', color='positive', size='64px')
            ui.label(_('Vielen Dank! Ihr Antrag ist eingegangen.')).classes('text-h5').props(
                'role=heading aria-level=2')
            ui.label(_('Ihre Antragsnummer: {reference}', reference=antrag.reference)).classes(
                'text-h5 text-weight-bold').mark('reference')
            ui.label(_('Den Stand sehen Sie im Self-Service unter „Meine Abos“ mit Ihrer E-Mail-Adresse und Ihrem '
                       'Passwort.')).classes('kiosk-text')
            ui.label(_('Diese Anzeige wird nach {seconds} Sekunden gelöscht.', seconds=self.done_seconds)).classes(
                'kiosk-text muted')
            ui.button(_('Fertig'), icon='done', on_click=self.start).props('unelevated no-caps size=xl')
        self.sent_at = clock.monotonic()

    def touched(self) -> None:
        self.last_activity = clock.monotonic()
        self.warning.close()

    def tick(self) -> None:
        now = clock.monotonic()
        if self.sent_at is not None:
            if now - self.sent_at >= self.done_seconds:
                self.start()
            return
        idle = now - self.last_activity
        if idle < self.idle_seconds:
            return
        remaining = math.ceil(self.idle_seconds + self.countdown_seconds - idle)
        if remaining <= 0:
            self.start()
            return
        self.countdown.text = _('Ihre Eingaben werden in {seconds} Sekunden gelöscht.', seconds=remaining)
        if not self.warning.value or remaining <= ANNOUNCE_AGAIN < self.announced:
            self.announced = remaining
            self.announcement.text = _('{countdown} Tippen Sie auf „Weiter ausfüllen“, um Ihre Eingaben zu behalten.',
                                       countdown=self.countdown.text)
        self.warning.open()


def _with_device_cookie(request: Request) -> RedirectResponse:
    """The first visit of a kiosk: its long-lived device id (services/devices.py), then the kiosk again."""
    response = RedirectResponse(f'/kiosk?{NEW_DEVICE}=1', status_code=303)
    response.set_cookie(
        devices.KIOSK_COOKIE, devices.new_kiosk_cookie(), max_age=devices.KIOSK_COOKIE_MAX_AGE, path='/kiosk',
        httponly=True, samesite='strict', secure=request.url.scheme == 'https',
    )
    return response


@router.page('/kiosk', title='D-Ticket Job – Kundenzentrum')
async def kiosk_page(request: Request) -> RedirectResponse | None:
    device = devices.kiosk_device(request.cookies.get(devices.KIOSK_COOKIE))
    if device is None and NEW_DEVICE not in request.query_params:
        return _with_device_cookie(request)
    # A browser that refuses the cookie comes back without it: it is then counted per address only.
    # The kiosk's own default: the browser's language, never a cookie a visitor could leave behind.
    default_language = language.from_request(request, remembered=False)
    language.use(default_language)
    apply_theme()
    ui.add_css(KIOSK_CSS)
    ui.context.client.content.classes('p-0 gap-0')
    with ui.column().classes('kiosk w-full min-h-screen gap-0'):
        header = ui.row().classes('w-full items-center q-px-xl q-py-lg text-white').style(f'background: {SIDEBAR}')
        with ui.column().classes('w-full q-pa-xl gap-4').style('max-width: 1000px; margin: 0 auto'):
            kiosk = Kiosk(client_address(request), device or '', default_language, header)
    kiosk.footer = legal_footer(kiosk=True)
    ui.add_body_html(f'<script>{KIOSK_JS}</script>')
    return None
