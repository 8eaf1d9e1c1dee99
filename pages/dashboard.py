"""Dashboard: the first page after login."""

from fastapi import Request
from nicegui import APIRouter, ui

from models import PortalUser
from pages.layout import page_heading, portal_page

router = APIRouter()


@portal_page(router, '/', 'Dashboard')
async def dashboard_page(user: PortalUser, request: Request) -> None:
    page_heading(f'Willkommen, {user.name}', user.customer.name if user.customer else 'Verkehrsunternehmen')
    with ui.card().classes('portal-card w-full'):
        ui.label('Übersicht').classes('text-h6')
        ui.label(
            'Hier erscheinen bald Kennzahlen Ihrer Verträge: aktive Verträge, aktive Abos, offene Anträge, '
            'der aktuelle Kundencode mit seiner Gültigkeit und die letzten Ereignisse.'
        ).classes('muted')
        ui.button('Zur Vertragsverwaltung', icon='description',
                  on_click=lambda: ui.navigate.to('/vertragsverwaltung')).props('unelevated no-caps')
