"""The language of the employees' pages (Self-Service, Meine Abos, kiosk): chosen with the switch and remembered in
a cookie, else the browser's Accept-Language, else German. The company portal never sets one and stays German.

`_` and `tr` translate in the current page's language (services/i18n.py holds the catalogues); `use` sets it for the
page being built, including `<html lang>`."""

from __future__ import annotations

import copy
import weakref
from datetime import date
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui
from nicegui.client import Client

from pages.session_cookie import safe_redirect_target
from services import i18n

COOKIE = 'sprache'
COOKIE_MAX_AGE = 365 * 24 * 3600
HTML_LANG = {i18n.GERMAN: 'de', i18n.ENGLISH: 'en-GB'}  # NiceGUI's names (also Quasar's own texts)
_languages: weakref.WeakKeyDictionary[Client, str] = weakref.WeakKeyDictionary()


def accepted(header: str) -> str:
    """The best of our languages in an Accept-Language header ('en-US,en;q=0.9,de;q=0.8' → 'en'), German when none
    fits. Equal weights: the first named wins."""
    best, best_weight = i18n.GERMAN, 0.0
    for part in header.split(',')[:20]:
        tag, _sep, params = part.strip().partition(';')
        weight = 1.0
        if params.strip().startswith('q='):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        language = tag.strip().split('-')[0].lower()
        if language in i18n.LANGUAGES and weight > best_weight:
            best, best_weight = language, weight
    return best


def from_request(request: Request, *, remembered: bool = True) -> str:
    """The switch's choice (cookie) when `remembered`, else the browser's languages."""
    chosen = request.cookies.get(COOKIE) if remembered else None
    if chosen in i18n.LANGUAGES:
        return str(chosen)
    return accepted(request.headers.get('accept-language', ''))


def use(language: str) -> None:
    """The language of this page (client): its texts from now on and `<html lang>`, also after it was served."""
    language = i18n.normalized(language)
    client = ui.context.client
    _languages[client] = language
    if client.page.resolve_language() != HTML_LANG[language]:
        client.page = copy.copy(client.page)  # the route's page is shared by every visitor: change a copy
        client.page.language = HTML_LANG[language]  # type: ignore[assignment]
    if client.has_socket_connection:
        ui.run_javascript(f'document.documentElement.lang = "{HTML_LANG[language]}"')


def current() -> str:
    """The language of the page being built or handled; German where none was set (the portal)."""
    try:
        return _languages.get(ui.context.client, i18n.GERMAN)
    except RuntimeError:  # no client (a background task): the source language
        return i18n.GERMAN


def _(msgid: str, **values: object) -> str:
    """A page's German text in the current language; `values` fill its {placeholders}, formatted per language."""
    return i18n.gettext(current(), msgid, values)


def tr(text: str) -> str:
    """A service's message (or an enum's value such as 'Chipkarte') in the current language."""
    return i18n.translate(text, current())


def date_text(day: date | None) -> str:
    return i18n.format_date(day, current())


def month_text(day: date) -> str:
    return i18n.format_month(day, current())


def euro_text(cents: int) -> str:
    return i18n.format_euro(cents, current())




async def switch_endpoint(code: str, request: Request, zurueck: str = '/self-service') -> RedirectResponse:
    """GET /sprache/<de|en>?zurueck=<path>: remember the choice and go back to the page it was made on."""
    response = RedirectResponse(safe_redirect_target(zurueck, '/self-service'), status_code=303)
    if code in i18n.LANGUAGES:
        response.set_cookie(COOKIE, code, max_age=COOKIE_MAX_AGE, path='/', httponly=True, samesite='lax',
                            secure=request.url.scheme == 'https')
    return response


def other_language() -> str:
    return i18n.ENGLISH if current() == i18n.GERMAN else i18n.GERMAN


def language_switch(request: Request) -> ui.link:
    """A real link to the other language, named in that language (lang and hreflang say which), that comes back to
    this page: 'English' on a German page, 'Deutsch' on an English one."""
    target = other_language()
    here = request.url.path + (f'?{request.url.query}' if request.url.query else '')
    link = ui.link(target=f'/sprache/{target}?zurueck={quote(here, safe="")}').classes(
        'language-switch no-underline row no-wrap items-center gap-1 q-px-sm')
    with link:
        ui.icon('translate', size='20px').props('aria-hidden=true')
        ui.label(i18n.NAMES[target])
    link.props['lang'] = target  # set from values, never parsed from a string
    link.props['hreflang'] = target
    return link


def kiosk_language_switch(on_switch: object) -> ui.button:
    """The kiosk's switch: a button (the kiosk's screen never navigates), named in the other language."""
    target = other_language()
    button = ui.button(i18n.NAMES[target], icon='translate', on_click=on_switch).props(  # type: ignore[arg-type]
        'outline no-caps color=white size=lg')
    button.props['lang'] = target
    return button


def error_text(error: Exception) -> str:
    """A service's refusal in the current language (`str(error)` would lose the message's msgid: str() of a str
    subclass is a plain str)."""
    errors = getattr(error, 'errors', None)
    if isinstance(errors, dict):
        return ' '.join(tr(message) for message in errors.values())
    message = error.args[0] if error.args and isinstance(error.args[0], str) else str(error)
    return tr(message)
