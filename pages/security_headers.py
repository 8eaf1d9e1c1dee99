"""Security headers on every HTTP response, and a websocket that only the portal's own pages may open.

`SecurityHeaders` is pure ASGI (no BaseHTTPMiddleware: it neither buffers bodies nor breaks streaming) and sets:

- Content-Security-Policy, as strict as NiceGUI 3.18 allows. Everything comes from the portal itself ('self'); no
  plug-ins, no <base>, forms post only to the portal, no framing. NiceGUI needs three exceptions:
  * script-src 'unsafe-inline': every page is an inline <script type="module"> holding that page's elements (and an
    inline import map and helper script); NiceGUI sets no nonce and the content differs per page, so neither a nonce
    nor a hash can name it.
  * script-src 'unsafe-eval': Vue compiles the element templates (e.g. the table slots) in the browser with
    `new Function`, and nicegui.js evaluates ':'-props, JavaScript event handlers and ui.run_javascript with
    `eval`/`new Function`.
  * style-src 'unsafe-inline': the page template's <style> blocks, Quasar's and NiceGUI's style attributes and
    ui.add_css (Tailwind's classes are a file, pages/utilities.css: nothing is compiled in the browser).
  img-src and font-src also allow data: (the emoji favicon, Quasar's inline icons and SVGs), img-src blob: (QR codes
  and downloads made in the browser). connect-src 'self' covers socket.io (polling and websocket, same origin).
- frame-ancestors 'none' and X-Frame-Options DENY (no clickjacking), X-Content-Type-Options nosniff,
  Referrer-Policy same-origin (Kundencode links in the URL never leave the portal), a Permissions-Policy that turns
  off camera, microphone, geolocation and the other powerful features, Cross-Origin-Opener-Policy same-origin.
- Strict-Transport-Security only when PUBLIC_URL is https (sent over plain http it would be ignored, or lock out a
  local start).

socket.io (NiceGUI's `core.sio`) allows every origin by default, with cookies: any web site could open a socket to a
logged-in portal. `restrict_socket_origins` allows only the portal's own origin: PUBLIC_URL's when set, else the
scheme and Host of the request itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nicegui import core
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.settings import Settings, get_settings

CONTENT_SECURITY_POLICY = '; '.join((
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "media-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
PERMISSIONS_POLICY = ', '.join(
    f'{feature}=()' for feature in (
        'accelerometer', 'autoplay', 'camera', 'display-capture', 'geolocation', 'gyroscope', 'hid', 'magnetometer',
        'microphone', 'midi', 'payment', 'publickey-credentials-get', 'serial', 'usb', 'xr-spatial-tracking',
    )
)
HSTS = 'max-age=31536000; includeSubDomains'


def security_headers(settings: Settings) -> dict[str, str]:
    headers = {
        'Content-Security-Policy': CONTENT_SECURITY_POLICY,
        'X-Frame-Options': 'DENY',
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'same-origin',
        'Permissions-Policy': PERMISSIONS_POLICY,
        'Cross-Origin-Opener-Policy': 'same-origin',
    }
    if settings.public_url.startswith('https://'):
        headers['Strict-Transport-Security'] = HSTS
    return headers


class SecurityHeaders:
    """Adds `security_headers` to the start of every HTTP response (pages, files, socket.io polling, errors)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = security_headers(get_settings())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] != 'http':
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message['type'] == 'http.response.start':
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def own_origin(environ: Mapping[str, Any], settings: Settings) -> str:
    """PUBLIC_URL's origin when set (behind a proxy the request's own Host may be an internal name), else the
    scheme and Host the request came in with."""
    if settings.public_origin:
        return settings.public_origin
    return f'{environ.get("wsgi.url_scheme", "http")}://{environ.get("HTTP_HOST", "")}'.lower()


def restrict_socket_origins() -> None:
    """socket.io answers a browser only when its Origin is the portal's own (engineio checks HTTP polling and the
    websocket upgrade alike and answers 400 otherwise)."""
    settings = get_settings()

    def allowed(origin: str | None, environ: Mapping[str, Any]) -> bool:
        return origin is not None and origin.lower() == own_origin(environ, settings)

    core.sio.eio.cors_allowed_origins = allowed
