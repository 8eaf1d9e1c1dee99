"""Every action of an open page acts as the account its server-side session says *now*.

A page is built once, but people keep it open for hours; meanwhile the account may be deactivated, demoted, logged
out in another tab, its password changed, or the session may expire. `SessionGuard` therefore stands between the
websocket and the page's event handlers: each event (click, value change, row action) first re-reads the session and
the account, in order, one at a time per page. A valid session refreshes the page's account object in place, so the
handlers, which captured that object, act with the current role; an invalid one drops the event and sends the
browser to the login. The re-read also moves the session's idle clock (services/sessions.TOUCH_INTERVAL).

Pages do nothing per handler: `portal_page` and the Meine Abos page install the guard once. One watcher per process
checks the sessions of all open pages every `WATCH_SECONDS` (a bounded query per 500 pages), sends pages whose session
ended elsewhere to the login within seconds, and warns before the idle timeout with „Angemeldet bleiben“.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from nicegui import Client, background_tasks, ui

from models import Employee, PortalUser
from pages.language import _, date_text
from pages.session_cookie import Area
from services import clock, sessions
from services.clock import BERLIN

WATCH_SECONDS = 3.0
WARN_BEFORE = timedelta(minutes=2)

Account = PortalUser | Employee
Resolver = Callable[[str | None], Awaitable[Any]]

log = logging.getLogger(__name__)
_open_pages: dict[str, SessionGuard] = {}
_watcher: asyncio.Task[None] | None = None


class SessionGuard:
    """Installed once per page on its NiceGUI client; see the module docstring."""

    def __init__(self, client: Client, area: Area, token: str, account: Account, leave_to: str) -> None:
        self.client = client
        self.area = area
        self.token = token
        self.account = account
        self.leave_to = leave_to
        self._resolve: Resolver = sessions.user_for_token if area is Area.PORTAL else sessions.employee_for_token
        self._lock = asyncio.Lock()  # FIFO: events keep their order while each waits for its check
        self._left = False
        self._warning: ui.dialog | None = None
        forward = client.handle_event

        def guarded_event(msg: dict) -> None:
            background_tasks.create(self._handle(forward, msg), name='guarded event')

        client.handle_event = guarded_event  # type: ignore[method-assign]
        _open_pages[client.id] = self
        _ensure_watcher()

    async def _handle(self, forward: Callable[[dict], None], msg: dict) -> None:
        async with self._lock:
            if self._left:
                return
            if await self.still_valid():
                forward(msg)
            else:
                self.leave()

    async def still_valid(self) -> bool:
        """Re-read session and account; on success the page's account object carries the current values."""
        fresh = await self._resolve(self.token)
        if fresh is None or fresh.id != self.account.id:
            return False
        for name in type(fresh)._meta.db_fields:
            setattr(self.account, name, getattr(fresh, name))
        return True

    def leave(self) -> None:
        """The session is gone: no more events from this page; the browser goes to the login (and back after it)."""
        self._left = True
        _open_pages.pop(self.client.id, None)
        if not self.client.is_deleted:
            with self.client:
                ui.navigate.to(self.leave_to)

    async def sign_out(self, client: str) -> None:
        """Abmelden: the session ends on the server at once; /abmelden then clears the cookie in the browser."""
        await sessions.end_session(self.token, client=client)
        self._left = True
        _open_pages.pop(self.client.id, None)
        ui.navigate.to(sign_out_path(self.area))

    def warn(self, idle_deadline: datetime) -> None:
        if self._warning is not None or self.client.is_deleted:
            return
        with self.client, ui.dialog().props('persistent') as dialog, ui.card().classes('q-pa-lg gap-3').style(
            'width: min(460px, 95vw)'
        ):
            ui.label(_('Sie werden gleich abgemeldet')).classes('text-h6').props('role=heading aria-level=2')
            local = idle_deadline.astimezone(BERLIN)  # Meine Abos may be English (pages/language.py)
            ui.label(_(
                'Sie waren eine Weile nicht aktiv. Zu Ihrem Schutz endet die Sitzung um {time} Uhr.',
                time=f'{date_text(local.date())} {local:%H:%M}',
            )).classes('text-body1').props('role=alert')
            with ui.row().classes('w-full justify-end'):
                ui.button(_('Abmelden'), on_click=lambda: self.sign_out(client='')).props('flat no-caps')
                ui.button(_('Angemeldet bleiben'), on_click=self.clear_warning).props('unelevated no-caps')
        self._warning = dialog
        dialog.open()

    def clear_warning(self) -> None:
        """Closing the warning is itself an action: it passed the guard, which moved the idle clock."""
        if self._warning is not None:
            self._warning.close()
            self._warning.delete()
            self._warning = None


def sign_out_path(area: Area) -> str:
    return '/abmelden' if area is Area.PORTAL else '/self-service/abmelden'


async def check_open_pages() -> None:
    """One round of the watcher: every open page of this process against its session."""
    guards = [guard for guard in list(_open_pages.values())]
    for guard in guards:
        if guard.client.is_deleted or guard.client.id not in Client.instances:
            _open_pages.pop(guard.client.id, None)
    guards = [guard for guard in guards if guard.client.id in _open_pages]
    if not guards:
        return
    states = await sessions.session_states({guard.token for guard in guards})
    now = clock.now()
    for guard in guards:
        state = states[guard.token]
        if not state.valid:
            guard.leave()
        elif state.idle_deadline is not None and state.idle_deadline - now <= WARN_BEFORE:
            guard.warn(state.idle_deadline)
        elif guard._warning is not None:
            guard.clear_warning()  # the person was active in another tab of the same session


async def _watch() -> None:
    while True:
        await asyncio.sleep(WATCH_SECONDS)
        try:
            await check_open_pages()
        except Exception:  # a lost database connection must not end the watching for good
            log.exception('Prüfung der offenen Sitzungen fehlgeschlagen')


def _ensure_watcher() -> None:
    """Started with the first guarded page of this event loop (tests start a new loop per test)."""
    global _watcher
    loop = asyncio.get_running_loop()
    if _watcher is None or _watcher.done() or _watcher.get_loop() is not loop:
        _watcher = background_tasks.create(_watch(), name='session watcher')
