"""Vertragsverwaltung: placeholder replaced by the contract table."""

from fastapi import Request
from nicegui import APIRouter, ui

from models import PortalUser
from pages.layout import page_heading, portal_page

router = APIRouter()


@portal_page(router, '/vertragsverwaltung', 'Vertragsverwaltung')
async def contracts_page(user: PortalUser, request: Request) -> None:
    page_heading('Vertragsverwaltung')
    ui.label('Hier erscheinen Ihre Verträge.')
