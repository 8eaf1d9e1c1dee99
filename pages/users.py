"""Anwender: the company's portal users."""

from fastapi import Request
from nicegui import APIRouter, ui

from models import PortalUser
from pages.layout import page_heading, portal_page

router = APIRouter()


@portal_page(router, '/anwender', 'Anwender')
async def users_page(user: PortalUser, request: Request) -> None:
    page_heading('Anwender', user.customer.name if user.customer else 'Verkehrsunternehmen')
    with ui.card().classes('portal-card w-full'):
        ui.label(
            'Hier verwalten Administratoren bald die Zugänge ihrer Firma: Anwender einladen, Rollen vergeben, '
            'Zugänge deaktivieren und Passwörter zurücksetzen.'
        ).classes('muted')
