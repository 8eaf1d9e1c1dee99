"""The portal shell (header with initials menu, sidebar) and `portal_page`, the decorator for every logged-in page.

`portal_page` resolves the server-side session before anything renders; without a valid one the browser is sent to
the login, which brings it back to the requested address afterwards. After that, SessionGuard re-checks it per action.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import APIRouter, context, ui
from nicegui.elements.mixins.value_element import ValueElement

from models import Contract, PortalUser
from pages.components import legal_footer, main_anchor, set_props, skip_link
from pages.session_cookie import Area, session_token
from pages.session_cookie import client_address as client_address  # the pages' one import for the shell
from pages.session_guard import SessionGuard
from pages.theme import SIDEBAR, apply_theme
from services import permissions, sessions, vertraege
from services.errors import NotFound
from services.permissions import Action
from services.validation import parse_id

PRODUCT_NAME = 'Firmenportal D-Ticket Job'
NAVIGATION = (
    ('Dashboard', '/', 'dashboard'),
    ('Vertragsverwaltung', '/vertragsverwaltung', 'description'),
    ('Anwender', '/anwender', 'group'),
)
# Entries only for roles that may use them (services/permissions.py): label, path, icon, action.
ROLE_NAVIGATION = (
    ('Abrechnung', '/abrechnung', 'receipt_long', Action.VIEW_BILLING),
    ('Tarife', '/tarife', 'euro', Action.MANAGE_TARIFFS),
    ('Protokoll', '/protokoll', 'history', Action.VIEW_AUDIT_LOG),
    ('Verwaltung', '/verwaltung', 'domain_add', Action.MANAGE_CUSTOMERS),
)

PageBuilder = Callable[[PortalUser, Request], Awaitable[None]]


def login_url(request: Request) -> str:
    target = request.url.path + (f'?{request.url.query}' if request.url.query else '')
    return '/login' if target == '/' else f'/login?redirect_to={quote(target, safe="")}'


def _header(user: PortalUser, drawer: ui.left_drawer, sign_out: Callable[[], Awaitable[None]]) -> None:
    with ui.header(elevated=False).classes('items-center no-wrap bg-white q-px-md q-py-sm').style(
        'border-bottom: 1px solid #DDE4EE; color: #12263F'
    ):
        skip_link()
        ui.button(icon='menu', on_click=drawer.toggle).props(
            'flat round dense color=primary aria-label="Navigation ein- oder ausblenden"'
        ).classes('lt-md')
        ui.label(user.customer.name if user.customer else 'Verkehrsunternehmen – alle Kunden').classes(
            'text-subtitle1 text-weight-medium ellipsis'
        ).style('min-width: 0')
        ui.space()
        with set_props(
            ui.button(user.initials).props('round unelevated color=primary aria-haspopup=menu'),
            aria_label=f'Benutzermenü {user.name}',
        ), set_props(ui.menu(), role='dialog', aria_label=f'Benutzermenü {user.name}').props(
            'anchor="bottom right" self="top right" :offset="[0, 8]"'
        ).style('min-width: 280px; max-width: calc(100vw - 24px)'):
            with ui.column().classes('q-px-md q-pt-md q-pb-sm gap-0'):
                ui.label(user.name).classes('text-subtitle1 text-weight-medium')
                set_props(ui.label(user.email).classes('text-body2 muted ellipsis full-width'), title=user.email)
                ui.label(f'Rolle: {user.role.label}').classes('text-body2 muted')
            ui.separator()
            with set_props(ui.column(), role='menu', aria_label='Benutzermenü').classes('w-full gap-0 q-py-xs'):
                for label, icon, action in (
                    ('Profil', 'person', lambda: ui.navigate.to('/profil')),
                    ('Passwort ändern', 'key', lambda: ui.navigate.to('/passwort')),
                    ('Abmelden', 'logout', sign_out),
                ):
                    ui.button(label, icon=icon, on_click=action).props(
                        'flat no-caps align=left padding="sm md" role=menuitem v-close-popup'
                    ).classes('w-full text-body1').style('color: #12263F')


class _Sidebar(ui.left_drawer):
    """The sidebar, open from 1024 px on, closed below: the browser decides (Quasar's `show-if-above`) and only
    tells the server, which sends nothing back. NiceGUI's drawer asks the browser again once the websocket connects
    and answers either report by sending itself, and any update makes Vue render the whole page again: two needless
    renders of every page right after it appeared. The menu button still toggles it."""

    LOOPBACK = None  # the browser keeps its own state; NiceGUI sends nothing back

    def __init__(self) -> None:
        handlers = len(context.client.connect_handlers)
        super().__init__(value=None, bordered=False)
        del self.client.connect_handlers[handlers:]  # the drawer's own question after connecting

    def _handle_value_change(self, value: bool | None) -> None:
        ValueElement._handle_value_change(self, value)  # without Drawer's reset of show-if-above, which sends


def _sidebar(current_path: str, user: PortalUser) -> ui.left_drawer:
    with _Sidebar().props('width=264 breakpoint=1024').classes(
        'portal-sidebar q-pt-md'
    ).style(f'background: {SIDEBAR}') as drawer:
        with ui.link(target='/').classes('row items-center q-px-md q-pb-lg gap-2 no-underline').props(
            'aria-label="Zum Dashboard"'
        ):
            ui.icon('directions_bus', size='32px').classes('text-white')
            with ui.column().classes('gap-0'):
                ui.label('D-Ticket Job').classes('text-white text-base font-bold')
                ui.label('Firmenportal').classes('text-blue-2 text-xs')
        with ui.element('nav').props('aria-label=Hauptnavigation').classes('portal-nav w-full'):
            entries = [*NAVIGATION, *((label, path, icon) for label, path, icon, action in ROLE_NAVIGATION
                                      if permissions.role_may(user, action))]
            for label, path, icon in entries:
                with ui.link(target=path) as link:
                    ui.icon(icon, size='24px')
                    ui.label(label)
                if current_path == path:
                    link.props['aria-current'] = 'page'
    return drawer


def portal_page(router: APIRouter, path: str, title: str) -> Callable[[PageBuilder], PageBuilder]:
    """Register a logged-in page at `path`: checks the session, draws the shell, then lets `build` fill the content.

    The user handed to `build` is re-read from the session before every later action of the page (SessionGuard), so
    handlers that captured it act with the current role, and a page whose session ended goes to the login.
    """

    def decorator(build: PageBuilder) -> PageBuilder:
        @router.page(path, title=f'{title} – {PRODUCT_NAME}')
        async def page(request: Request) -> RedirectResponse | None:
            token = session_token(request, Area.PORTAL)
            user = await sessions.user_for_token(token)
            if user is None or token is None:
                return RedirectResponse(login_url(request), status_code=303)
            guard = SessionGuard(ui.context.client, Area.PORTAL, token, user, leave_to=login_url(request))
            apply_theme()
            drawer = _sidebar(path, user)
            _header(user, drawer, lambda: guard.sign_out(client_address(request)))
            # The shell (theme, sidebar, header) and the page's first part were one step of the event loop: stack
            # samples of the staff login's longest steps (up to 50 ms CPU at load 15, bench/dashboard.py) were in
            # _sidebar/_header, the Dashboard's first cards and NiceGUI's build_response. Other users' events run here.
            await asyncio.sleep(0)
            with ui.column().classes('page-frame w-full max-w-screen-xl mx-auto q-pa-md gap-4'):
                main_anchor()
                await build(user, request)
            legal_footer()
            return None

        return build

    return decorator


def page_heading(text: str, subtitle: str = '') -> None:
    with ui.column().classes('gap-0'):
        ui.label(text).classes('page-title').props('role=heading aria-level=1')
        if subtitle:
            ui.label(subtitle).classes('muted')


async def page_contract(user: PortalUser, request: Request, title: str) -> Contract | None:
    """The contract a contract page's URL names (/vertragsverwaltung/{contract_id}/…), when `user` may see it; else
    the page is only its heading and „Der Vertrag wurde nicht gefunden.“ — the same for another company's contract
    as for an id that does not exist, so the URL tells nobody which contracts exist."""
    try:
        return await vertraege.get_contract(user, parse_id(request.path_params['contract_id']) or 0)
    except NotFound as error:
        page_heading(title)
        ui.label(str(error)).classes('muted')
        ui.link('← Zurück zur Vertragsverwaltung', '/vertragsverwaltung').classes('text-body2')
        return None
