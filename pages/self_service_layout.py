"""The frame of the public Self-Service pages: a slim header, centred content, no portal navigation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from nicegui import ui

from pages.components import legal_footer
from pages.theme import apply_theme


@contextmanager
def self_service_frame(
    title: str, *, show_login_link: bool = True, on_logout: Callable[[], object] | None = None
) -> Iterator[None]:
    apply_theme()
    with ui.header(elevated=False).classes('items-center no-wrap bg-primary text-white q-px-md q-py-sm'):
        with ui.link(target='/self-service').classes('row no-wrap items-center gap-2 no-underline text-white').props(
            'aria-label="Zum Self-Service"'
        ):
            ui.icon('directions_bus', size='28px')
            ui.label('D-Ticket Job · Self-Service').classes('text-subtitle1 text-weight-medium text-white ellipsis')
        ui.space()
        if show_login_link:
            ui.button(icon='account_circle', on_click=lambda: ui.navigate.to('/self-service/meine-abos')).props(
                'flat no-caps color=white aria-label="Meine Abos"'
            ).classes('no-wrap').tooltip('Meine Abos')
        if on_logout is not None:
            ui.button('Abmelden', icon='logout', on_click=on_logout).props('flat no-caps color=white')
    with ui.column().classes('page-frame w-full max-w-screen-md mx-auto q-pa-md gap-4'):
        ui.label(title).classes('page-title').props('role=heading aria-level=1')
        yield
    legal_footer()
