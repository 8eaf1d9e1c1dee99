"""The frame of the public Self-Service pages: a slim header with the language switch, centred content, no portal
navigation. It sets the page's language (pages/language.py) before anything is drawn."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from nicegui import ui

from pages import language
from pages.components import legal_footer, main_anchor, set_props, skip_link
from pages.language import _, tr
from pages.theme import apply_theme

# The switch keeps its size; on a narrow phone the brand's name gives way (ellipsis) instead of pushing the switch and
# the account button off the screen.
LANGUAGE_CSS = '''
a.nicegui-link.language-switch { color: #FFFFFF; min-height: 48px; border-radius: 4px; flex-shrink: 0; }
a.nicegui-link.language-switch:hover { background: rgba(255,255,255,0.12); }
.self-service-brand, .self-service-brand > .nicegui-label { min-width: 0; }
'''


@contextmanager
def self_service_frame(
    title: str, *, show_login_link: bool = True, on_logout: Callable[[], object] | None = None
) -> Iterator[None]:
    """`title` is the German text (marked with N_): the frame translates it once the language is known."""
    request = ui.context.client.request
    language.use(language.from_request(request))
    apply_theme()
    ui.add_css(LANGUAGE_CSS)
    heading = tr(title)
    if language.current() != language.i18n.GERMAN:
        ui.page_title(f'{heading} – Self-Service D-Ticket Job')
    with ui.header(elevated=False).classes('items-center no-wrap bg-primary text-white q-px-md q-py-sm'):
        skip_link()
        with set_props(ui.link(target='/self-service').classes(
            'self-service-brand row no-wrap items-center gap-2 no-underline text-white'
        ), aria_label=_('Zum Self-Service')):
            ui.icon('directions_bus', size='28px')
            ui.label('D-Ticket Job · Self-Service').classes('text-subtitle1 text-weight-medium text-white ellipsis')
        ui.space()
        language.language_switch(request)
        if show_login_link:
            set_props(ui.button(icon='account_circle', on_click=lambda: ui.navigate.to('/self-service/meine-abos'))
                      .props('flat no-caps color=white').classes('no-wrap'),
                      aria_label=_('Meine Abos')).tooltip(_('Meine Abos'))
        if on_logout is not None:
            ui.button(_('Abmelden'), icon='logout', on_click=on_logout).props('flat no-caps color=white')
    with ui.column().classes('page-frame w-full max-w-screen-md mx-auto q-pa-md gap-4'):
        main_anchor()
        ui.label(heading).classes('page-title').props('role=heading aria-level=1')
        yield
    legal_footer()
