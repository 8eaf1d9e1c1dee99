"""Impressum, Datenschutzerklärung, Erklärung zur Barrierefreiheit and Hilfe: public pages from Markdown files
(services/legal.py), linked from the footer of every page (pages/components.py `legal_footer`)."""

from __future__ import annotations

from nicegui import APIRouter, ui

from pages.components import public_frame
from pages.layout import PRODUCT_NAME
from pages.theme import apply_theme
from services import legal

router = APIRouter()


def _legal_page(entry: legal.LegalPage) -> None:
    apply_theme()
    with public_frame(max_width='760px'), ui.card().classes('portal-card w-full q-pa-lg gap-2'):
        ui.label(entry.title).classes('page-title').props('role=heading aria-level=1')
        ui.markdown(legal.text(entry.slug)).classes('legal-text readable w-full')


def _register(entry: legal.LegalPage) -> None:
    @router.page(entry.path, title=f'{entry.title} – {PRODUCT_NAME}')
    def show() -> None:
        _legal_page(entry)


for _entry in legal.PAGES:
    _register(_entry)
