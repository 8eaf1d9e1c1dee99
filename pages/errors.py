"""German error pages in the portal's style, instead of NiceGUI's English ones.

NiceGUI's own pages print the exception ("OperationalError: invalid input for query argument $1 …") into a 500 page
and say "This page doesn't exist." for a 404. Here a 500 says only that something went wrong (the exception goes to
the log, as before) and a 404 says "Seite nicht gefunden"; both lead back to the start page.
"""

from __future__ import annotations

import logging

from fastapi import Request, Response
from fastapi.exception_handlers import http_exception_handler
from nicegui import app, ui
from nicegui.client import Client
from nicegui.page import page
from starlette.exceptions import HTTPException as StarletteHTTPException

from pages.components import public_frame
from pages.layout import PRODUCT_NAME
from pages.theme import apply_theme

NOT_FOUND_TITLE = 'Seite nicht gefunden'
NOT_FOUND_TEXT = 'Die aufgerufene Adresse gibt es im Firmenportal nicht (mehr). Bitte prüfen Sie den Link.'
log = logging.getLogger(__name__)

SERVER_ERROR_TITLE = 'Ein Fehler ist aufgetreten'
SERVER_ERROR_TEXT = ('Die Seite konnte nicht angezeigt werden. Bitte versuchen Sie es in einigen Minuten erneut. '
                     'Besteht der Fehler weiter, wenden Sie sich bitte an den Kundenservice.')


def error_content(status: int, title: str, text: str) -> None:
    """The card of an error page in the frame of the public pages (brand bar, footer with the legal pages); no detail
    of the cause, which is for the log only."""
    apply_theme()
    with public_frame(max_width='560px'), ui.card().classes('portal-card w-full q-pa-lg gap-3'):
        with ui.row().classes('items-center gap-3 no-wrap'):
            ui.icon('search_off' if status == 404 else 'error_outline', size='40px', color='primary')
            with ui.column().classes('gap-0'):
                ui.label(f'Fehler {status}').classes('muted text-body2')
                ui.label(title).classes('page-title').props('role=heading aria-level=1')
        ui.label(text).classes('text-body1 readable')
        ui.link('Zur Startseite', '/').classes('text-body1')


def _server_error_page() -> None:
    """NiceGUI's page exception handler: called in a fresh client whose elements make the 500 page."""
    ui.page_title(f'{SERVER_ERROR_TITLE} – {PRODUCT_NAME}')
    error_content(500, SERVER_ERROR_TITLE, SERVER_ERROR_TEXT)


async def _not_found(request: Request, exception: Exception) -> Response:
    """Replaces NiceGUI's 404 handler with the same distinction: a non-page endpoint answers JSON as FastAPI would,
    everything else gets the German page."""
    endpoint = request.scope.get('endpoint')
    if endpoint is not None and endpoint is not app and not request.scope.get('nicegui_page_path') \
            and isinstance(exception, StarletteHTTPException):
        return await http_exception_handler(request, exception)
    with Client(page(''), request=request) as client:
        ui.page_title(f'{NOT_FOUND_TITLE} – {PRODUCT_NAME}')
        error_content(404, NOT_FOUND_TITLE, NOT_FOUND_TEXT)
    return client.build_response(request, 404)


async def _server_error(request: Request, exception: Exception) -> Response:
    """Replaces NiceGUI's last-resort 500 handler, which also prints the exception: pages get the German page,
    anything else Starlette's plain "Internal Server Error" (raising here leads there)."""
    if not request.scope.get('nicegui_page_path'):
        raise exception
    log.error('Fehler beim Aufbau von %s', request.url.path, exc_info=exception)
    with Client(page(''), request=request) as client:
        _server_error_page()
    return client.build_response(request, 500)


def register() -> None:
    """Install the pages (again at every start: NiceGUI's app.reset clears the page exception handler)."""
    app.on_page_exception(_server_error_page)
    app.add_exception_handler(404, _not_found)
    app.add_exception_handler(Exception, _server_error)
