"""The login session's cookie: set after a login, cleared at Abmelden, for the portal and the Self-Service alike.

The token lives only in an HttpOnly cookie of its own (never in NiceGUI's user storage, whose files sit on disk in
clear). A login runs over the websocket, which cannot set cookies, so the page hands the fresh session over with a
one-time ticket (services/sessions.hand_over) and sends the browser to /anmeldung/abschluss, which redeems it.
Both there and at Abmelden NiceGUI's own `session` id is replaced, so a `session` cookie planted before the login (or
copied afterwards) is worth nothing: the login is in our cookie, which only the browser that logged in ever received.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import APIRouter, ui

from services import sessions
from services.settings import get_settings

router = APIRouter()


class Area(StrEnum):
    """Where a session belongs: its cookie name and its login page."""

    PORTAL = 'portal_sitzung'
    SELF_SERVICE = 'self_service_sitzung'

    @property
    def login_path(self) -> str:
        return '/login' if self is Area.PORTAL else '/self-service/anmelden'

    @property
    def home_path(self) -> str:
        return '/' if self is Area.PORTAL else '/self-service/meine-abos'


def session_token(request: Request, area: Area) -> str | None:
    return request.cookies.get(area.value)


def client_address(request: Request) -> str:
    """The peer as uvicorn resolved it (X-Forwarded-For only from FORWARDED_ALLOW_IPS, see README)."""
    return request.client.host if request.client else ''


def safe_redirect_target(target: str | None, default: str = '/') -> str:
    """Only a path on this site: parsed the way browsers parse it, so '/\\t/evil.example', '//evil.example',
    '/\\\\evil.example' and 'https://…' all fall back to `default`."""
    if not target or not target.startswith('/'):
        return default
    if any(ord(character) < 0x20 or character in '\\\x7f' for character in target):
        return default  # browsers drop tabs and newlines and read '\\' as '/': '/\t/evil' becomes '//evil'
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith('//'):
        return default
    return target


def _rotate_browser_id(request: Request) -> None:
    """A new NiceGUI session id (the signed `session` cookie), so nothing keyed by the old one carries over."""
    request.session['id'] = str(uuid.uuid4())


async def complete_login(token: str, area: Area, target: str) -> None:
    """From a login form's handler: let the browser fetch its cookie, then go on to `target`."""
    ticket = await sessions.hand_over(token)
    query = urlencode({'ticket': ticket, 'weiter': safe_redirect_target(target, area.home_path)})
    ui.navigate.to(f'/anmeldung/abschluss?{query}')


@router.get('/anmeldung/abschluss', include_in_schema=False)
async def redeem(request: Request, ticket: str = '', weiter: str = '/') -> RedirectResponse:
    redeemed = await sessions.redeem_ticket(ticket)
    if redeemed is None:
        return RedirectResponse('/login', status_code=303)
    token, session = redeemed
    area = Area.PORTAL if session.user_id is not None else Area.SELF_SERVICE
    _rotate_browser_id(request)
    response = RedirectResponse(safe_redirect_target(weiter, area.home_path), status_code=303)
    response.set_cookie(
        area.value, token, httponly=True, samesite='lax', secure=get_settings().session_cookie_secure, path='/',
        max_age=int(get_settings().session_absolute_timeout.total_seconds()),
    )
    return response


async def _sign_out(request: Request, area: Area) -> RedirectResponse:
    await sessions.end_session(session_token(request, area), client=client_address(request))
    _rotate_browser_id(request)
    response = RedirectResponse(area.login_path, status_code=303)
    response.delete_cookie(area.value, path='/', httponly=True, samesite='lax',
                           secure=get_settings().session_cookie_secure)
    return response


@router.get('/abmelden', include_in_schema=False)
async def sign_out(request: Request) -> RedirectResponse:
    """Abmelden: the session ends on the server, the cookie is cleared, the browser id replaced."""
    return await _sign_out(request, Area.PORTAL)


@router.get('/self-service/abmelden', include_in_schema=False)
async def sign_out_self_service(request: Request) -> RedirectResponse:
    return await _sign_out(request, Area.SELF_SERVICE)
