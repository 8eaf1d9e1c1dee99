"""From the invitation to a clerk's first login in a real Chromium (issue 7): the demo administrator invites a
Sachbearbeitung in 'Anwender', reads the one-time link from the dialog, the clerk opens it in a browser of their own,
sets a password, logs in, opens a contract's Infos and finds no 'Code' button.

The portal process is shared by every browser test, so every run invites a new e-mail address."""

from __future__ import annotations

import re
import secrets

from playwright.sync_api import Browser, Locator, Page, expect

from models import Role
from services.demo_data import DEMO_LOGINS
from tests.browser.conftest import DEFAULT_TIMEOUT_MS, DESKTOP, choose_from_row_menu, log_in, screenshot, submit_login
from tests.browser.test_self_service_journey import VERTRAGSNUMMER

ADMIN = next(login for login in DEMO_LOGINS if login.role == Role.ADMIN)
PASSWORD = 'Fulda-Aue-Kettenblatt-47'


def sidebar_entry(page: Page, label: str) -> Locator:
    return page.get_by_role('navigation', name='Hauptnavigation').get_by_text(label, exact=True)


def invite_clerk(page: Page, portal_url: str, name: str, email: str) -> str:
    """As the administrator: Anwender → 'Anwender einladen' → name, e-mail, role Sachbearbeitung → the link."""
    log_in(page, portal_url, ADMIN.email, ADMIN.password)
    expect(page).to_have_url(f'{portal_url}/')
    sidebar_entry(page, 'Anwender').click()
    expect(page).to_have_url(f'{portal_url}/anwender')
    expect(page.get_by_text('Anwender Ihrer Firma')).to_be_visible()
    expect(page.get_by_role('row').filter(has_text='Jonas Weber')).to_have_count(1)
    screenshot(page, 'inv-01-anwender')

    page.get_by_role('button', name='Anwender einladen').click()
    dialog = page.locator('.q-dialog')
    expect(dialog.get_by_text('Die Person bekommt einen Link')).to_be_visible()
    dialog.get_by_label('Name', exact=True).fill(name)
    dialog.get_by_label('E-Mail-Adresse', exact=True).fill(email)
    expect(dialog.get_by_label('Rolle', exact=True)).to_have_value('Sachbearbeitung')
    screenshot(page, 'inv-02-invite-dialog')
    dialog.get_by_role('button', name='Einladen', exact=True).click()

    expect(dialog.get_by_text(f'Die Einladung für {name} ist erstellt.')).to_be_visible()
    link_field = dialog.get_by_label('Einladungslink')
    expect(link_field).to_have_value(re.compile(rf'^{re.escape(portal_url)}/einladung/[A-Za-z0-9_-]{{40,}}$'))
    screenshot(page, 'inv-03-invite-link')
    link = link_field.input_value()
    dialog.get_by_role('button', name='Schließen').click()
    row = page.get_by_role('row').filter(has_text=email)
    expect(row).to_contain_text('eingeladen')
    expect(row).to_contain_text('Sachbearbeitung')
    return link


def test_an_invited_clerk_sets_a_password_logs_in_and_cannot_generate_a_code(
    page: Page, browser: Browser, portal_url: str
) -> None:
    suffix = secrets.token_hex(3)
    name, email = f'Greta Klein {suffix}', f'greta.{suffix}@fahrradmanufaktur-kassel.de'
    link = invite_clerk(page, portal_url, name, email)

    context = browser.new_context(viewport=DESKTOP, locale='de-DE')  # the clerk's own browser
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        clerk = context.new_page()
        clerk.goto(link)
        expect(clerk.get_by_role('heading', name='Willkommen im Firmenportal')).to_be_visible()
        expect(clerk.get_by_text(email, exact=True)).to_be_visible()
        screenshot(clerk, 'inv-04-set-password')
        clerk.get_by_label('Neues Passwort', exact=True).fill(PASSWORD)
        clerk.get_by_label('Neues Passwort wiederholen', exact=True).fill(PASSWORD + '!')
        clerk.get_by_role('button', name='Passwort speichern').click()
        expect(clerk.get_by_text('Die Passwörter stimmen nicht überein.')).to_be_visible()
        clerk.get_by_label('Neues Passwort wiederholen', exact=True).fill(PASSWORD)
        clerk.get_by_role('button', name='Passwort speichern').click()
        expect(clerk.get_by_role('heading', name='Ihr Passwort ist gespeichert.')).to_be_visible()
        screenshot(clerk, 'inv-05-password-saved')

        clerk.get_by_role('button', name='Zur Anmeldung').click()
        expect(clerk).to_have_url(f'{portal_url}/login')
        submit_login(clerk, email, PASSWORD)
        expect(clerk).to_have_url(f'{portal_url}/')
        expect(clerk.get_by_text(f'Willkommen, {name}')).to_be_visible()
        expect(sidebar_entry(clerk, 'Protokoll')).to_have_count(0)

        sidebar_entry(clerk, 'Vertragsverwaltung').click()
        expect(clerk).to_have_url(re.compile(re.escape(f'{portal_url}/vertragsverwaltung')))
        row = clerk.get_by_role('row').filter(has_text=VERTRAGSNUMMER)
        expect(row).to_have_count(1)
        choose_from_row_menu(clerk, row, 'Infos')
        expect(clerk.get_by_text('Firmendaten', exact=True)).to_be_visible()
        expect(clerk.get_by_text('Arbeitgeberzuschuss', exact=True).first).to_be_visible()  # fact and heading
        expect(clerk.get_by_role('button', name='Code', exact=True)).to_have_count(0)
        screenshot(clerk, 'inv-06-clerk-infos-without-code')

        clerk.goto(link)  # the link works once
        expect(clerk.get_by_role('heading', name='Link nicht gültig')).to_be_visible()
        expect(clerk.get_by_role('alert')).to_have_text('Dieser Link wurde bereits verwendet. Er gilt nur einmal.')
    finally:
        context.close()

    page.reload()
    expect(page.get_by_role('row').filter(has_text=email)).to_contain_text('aktiv')
