"""The kiosk at the transit office's customer centre: the Self-Service application in a full-screen, touch-first
frame with no way out. After `kiosk_idle_seconds` without a touch a countdown appears, then everything is wiped and
the screen starts over, so nothing of one person remains for the next."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import APIRouter, ui

from pages.application_form import ApplicationFlow
from pages.layout import client_address
from pages.theme import SIDEBAR, apply_theme
from services import clock, devices
from services.settings import get_settings

router = APIRouter()
NEW_DEVICE = 'neues_geraet'

KIOSK_CSS = '''
body { overflow-x: hidden; user-select: none; -webkit-user-select: none; }
.kiosk .q-btn { min-height: 56px; font-size: 1.15rem; }
.kiosk .q-field__native, .kiosk .q-field__label, .kiosk .q-item, .kiosk .q-checkbox__label,
.kiosk .q-radio__label { font-size: 1.2rem; }
.kiosk .q-field--outlined .q-field__control { min-height: 64px; }
.kiosk .q-checkbox__inner, .kiosk .q-radio__inner { font-size: 48px; }
.kiosk input, .kiosk textarea { user-select: text; -webkit-user-select: text; }
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
    def __init__(self, client: str, device: str) -> None:
        settings = get_settings()
        self.client = client
        self.device = device
        self.idle_seconds = settings.kiosk_idle_seconds
        self.countdown_seconds = settings.kiosk_countdown_seconds
        self.last_activity = clock.monotonic()
        self.content = ui.column().classes('w-full gap-4')
        with ui.dialog().props('persistent') as self.warning, ui.card().classes('q-pa-xl items-center gap-4'):
            ui.icon('hourglass_bottom', size='64px', color='primary')
            ui.label('Sind Sie noch da?').classes('text-h4')
            self.countdown = ui.label().classes('text-h6 text-center').props('role=timer aria-live=assertive')
            ui.button('Weiter ausfüllen', icon='touch_app', on_click=self.touched).props('unelevated no-caps size=xl')
        self.start()
        ui.on('kiosk_activity', self.touched)
        ui.timer(1.0, self.tick)

    def start(self) -> None:
        """A clean screen: new elements, so no value, error or state of the previous person survives."""
        self.content.clear()
        with self.content:
            # Wrong codes count for this kiosk (its device cookie) across every visit, and for its address.
            ApplicationFlow(self.client, device=self.device, kiosk=True)
        self.last_activity = clock.monotonic()

    def touched(self) -> None:
        self.last_activity = clock.monotonic()
        self.warning.close()

    def tick(self) -> None:
        idle = clock.monotonic() - self.last_activity
        if idle < self.idle_seconds:
            return
        remaining = int(self.idle_seconds + self.countdown_seconds - idle)
        if remaining <= 0:
            self.warning.close()
            self.start()
            return
        self.countdown.text = f'Ihre Eingaben werden in {remaining} Sekunden gelöscht.'
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
    apply_theme()
    ui.add_css(KIOSK_CSS)
    ui.context.client.content.classes('p-0 gap-0')
    with ui.column().classes('kiosk w-full min-h-screen gap-0'):
        with ui.row().classes('w-full items-center no-wrap q-px-xl q-py-lg text-white').style(
            f'background: {SIDEBAR}'
        ):
            ui.icon('directions_bus', size='48px')
            with ui.column().classes('gap-0'):
                ui.label('D-Ticket Job beantragen').classes('text-h4 text-weight-medium')
                ui.label('Mit dem Kundencode Ihres Arbeitgebers – in wenigen Minuten erledigt.').classes(
                    'text-h6 text-blue-2')
            ui.space()
            restart = ui.button('Neu beginnen', icon='restart_alt').props('outline no-caps color=white size=lg')
        with ui.column().classes('w-full q-pa-xl gap-4').style('max-width: 1000px; margin: 0 auto'):
            kiosk = Kiosk(client_address(request), device or '')
    restart.on_click(kiosk.start)
    ui.add_body_html(f'<script>{KIOSK_JS}</script>')
    return None
