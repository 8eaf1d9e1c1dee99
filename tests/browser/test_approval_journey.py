"""From the Antrag to the Abo in a real Chromium (issue 5): the demo administrator generates a Kundencode, an
employee applies through the Self-Service link in a browser of their own, the administrator opens the contract's
Anträge from the row menu and approves the Antrag, and the employee sees the Abo under 'Meine Abos' — "ab MM/JJJJ"
until its first month (it starts in the first open month, issue 15), in the company's table as in Meine Abos.

The portal process and its database are shared by every browser test: the contract may already have a code (then
'Ersetzen') and other open Anträge, so every run applies as a new person (uuid) and finds the row by its name.
"""

from __future__ import annotations

import re
import uuid
from datetime import date

from playwright.sync_api import Browser, Locator, Page, expect

from models import Role
from services.abo_dates import first_open_start_month
from services.demo_data import DEMO_LOGINS
from tests.browser.conftest import (
    DEFAULT_TIMEOUT_MS,
    DESKTOP,
    choose_from_row_menu,
    log_in,
    open_mailed_link,
    screenshot,
    search_table,
    submit_login,
)
from tests.smtp_server import MailCatcher

ADMIN = next(login for login in DEMO_LOGINS if login.role == Role.ADMIN)
VERTRAGSNUMMER = 'DJ-2024-0117'
EMPLOYER = 'Fahrradmanufaktur Kassel GmbH'
CONSENT = 'Ich habe die Datenschutzhinweise gelesen und bin einverstanden.'
REFERENCE = re.compile(r'^Ihre Antragsnummer: (A-\d{4}-[0-9A-HJKMNP-TV-Z]{6})$')
PASSWORD = 'Druselturm-Kassel-Radweg-2031'


def a_year_ahead(today: date) -> date:
    try:
        return today.replace(year=today.year + 1)
    except ValueError:  # 29 February
        return today.replace(year=today.year + 1, day=28)


def german(day: date) -> str:
    return day.strftime('%d.%m.%Y')




def contract_row(page: Page) -> Locator:
    row = page.get_by_role('row').filter(has_text=VERTRAGSNUMMER)
    expect(row).to_have_count(1)
    return row


def open_vertragsverwaltung(page: Page, portal_url: str) -> None:
    page.goto(f'{portal_url}/vertragsverwaltung')
    expect(page.get_by_role('heading', name='Vertragsverwaltung')).to_be_visible()
    expect(contract_row(page)).to_be_visible()


def generate_code_link(page: Page, valid_until: date) -> str:
    """Row menu → Infos → Code → Gültigkeitsdatum → Generieren (→ Ersetzen); the Self-Service link of the code."""
    choose_from_row_menu(page, contract_row(page), 'Infos')
    expect(page.get_by_text('Firmendaten', exact=True)).to_be_visible()
    link = page.locator('a[href*="self-service?code="]')
    previous = link.get_attribute('href') if link.count() else None
    page.get_by_role('button', name='Code', exact=True).click()
    expect(page.get_by_text('Kundencode generieren', exact=True)).to_be_visible()
    field = page.get_by_label('Gültigkeitsdatum (TT.MM.JJJJ)')
    expect(field).to_have_value(re.compile(r'^\d\d\.\d\d\.\d{4}$'))  # the proposal
    field.click()
    field.press('Control+a')
    field.press('Backspace')
    expect(field).to_have_value('')
    field.press_sequentially(german(valid_until))
    expect(field).to_have_value(german(valid_until))
    page.get_by_role('button', name='Generieren').click()

    generated = page.get_by_text('Der Kundencode wurde generiert.')
    replace = page.get_by_text('Aktuellen Kundencode ersetzen?')
    expect(generated.or_(replace).first).to_be_visible()
    if replace.is_visible():
        page.get_by_role('button', name='Ersetzen').click()
    expect(generated).to_be_visible()
    if previous is not None:  # the toast comes before the drawer is drawn again: wait for the new code's link
        expect(link).not_to_have_attribute('href', previous)
    expect(page.get_by_text(f'gültig bis {german(valid_until)}', exact=True)).to_be_visible()
    expect(link).to_have_count(1)
    return link.get_attribute('href') or ''


def apply(employee: Page, link: str, vorname: str, nachname: str, email: str) -> str:
    """The employee fills in the Antrag and sends it; the Antragsnummer of the confirmation."""
    employee.goto(link)
    expect(employee.get_by_role('heading', name='D-Ticket Job beantragen')).to_be_visible()
    expect(employee.get_by_text('Kundencode gültig')).to_be_visible()
    expect(employee.get_by_text(f'Ihr Arbeitgeber: {EMPLOYER}')).to_be_visible()
    employee.get_by_label('Anrede', exact=True).click()
    employee.get_by_role('option', name='Frau', exact=True).click()
    expect(employee.get_by_label('Anrede', exact=True)).to_have_value('Frau')
    for label, value in (
        ('Vorname', vorname), ('Nachname', nachname), ('Geburtsdatum', '23.04.1991'), ('E-Mail-Adresse', email),
        ('Straße und Hausnummer', 'Druseltalstraße 5'), ('PLZ', '34131'), ('Ort', 'Kassel'),
        ('Passwort', PASSWORD), ('Passwort wiederholen', PASSWORD),
    ):
        field = employee.get_by_label(label, exact=True)  # exact: 'Passwort' contains 'ort'
        field.click()
        field.press_sequentially(value)
        expect(field).to_have_value(value)
    employee.get_by_role('radio', name='Handyticket').click()
    expect(employee.get_by_role('radio', name='Handyticket')).to_have_attribute('aria-checked', 'true')
    employee.get_by_role('checkbox', name=CONSENT).click()
    expect(employee.get_by_role('checkbox', name=CONSENT)).to_have_attribute('aria-checked', 'true')
    screenshot(employee, 'approval-01-antrag')
    employee.get_by_role('button', name='Antrag absenden').click()
    expect(employee.get_by_role('heading', name='Vielen Dank! Ihr Antrag ist eingegangen.')).to_be_visible()
    reference_label = employee.get_by_text(REFERENCE)
    expect(reference_label).to_be_visible()
    match = REFERENCE.match(reference_label.inner_text().strip())
    assert match, reference_label.inner_text()
    return match.group(1)


def confirm_address(employee: Page, mail_server: MailCatcher, email: str) -> None:
    """The employee opens the confirmation mail's link (delivered to the local SMTP server) and confirms."""
    open_mailed_link(employee, mail_server, email, '/self-service/konto/')
    employee.get_by_role('button', name='E-Mail-Adresse bestätigen').click()
    expect(employee.get_by_text('E-Mail-Adresse bestätigt')).to_be_visible()


def test_an_approved_antrag_becomes_an_abo_in_meine_abos(
    page: Page, browser: Browser, portal_url: str, mail_server: MailCatcher
) -> None:
    suffix = uuid.uuid4().hex[:8]
    vorname, nachname = f'Greta{suffix}', 'Genehmigt'
    email = f'greta.{suffix}@example.org'

    # the administrator: a Kundencode and its Self-Service link
    log_in(page, portal_url, ADMIN.email, ADMIN.password)
    expect(page).to_have_url(f'{portal_url}/')
    open_vertragsverwaltung(page, portal_url)
    link = generate_code_link(page, a_year_ahead(date.today()))
    assert link.startswith(f'{portal_url}/self-service?code='), link

    # the employee, in a browser of their own
    context = browser.new_context(viewport=DESKTOP, locale='de-DE')
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        employee = context.new_page()
        reference = apply(employee, link, vorname, nachname, email)
        confirm_address(employee, mail_server, email)  # only then the Antrag reaches the company

        # the administrator: the open count on the row, row menu → Anträge → the Antrag → Genehmigen
        open_vertragsverwaltung(page, portal_url)
        badge = contract_row(page).get_by_label(re.compile(r'^\d+ Anträge offen$')).first
        expect(badge).to_be_visible()
        assert int(badge.inner_text()) >= 1
        choose_from_row_menu(page, contract_row(page), 'Anträge')
        expect(page).to_have_url(re.compile(re.escape(portal_url) + r'/vertragsverwaltung/\d+/antraege$'))
        expect(page.get_by_role('heading', name=f'Anträge und Abos – Vertrag {VERTRAGSNUMMER}')).to_be_visible()
        search_table(page, 'In Anträgen suchen', vorname)
        row = page.get_by_role('row').filter(has_text=f'{nachname}, {vorname}')
        expect(row).to_have_count(1)
        expect(row).to_contain_text('offen')
        expect(page.get_by_text('angezeigt 1 bis 1 von 1 Einträge')).to_be_visible()
        screenshot(page, 'approval-02-antraege')

        choose_from_row_menu(page, row, 'Öffnen')
        dialog = page.get_by_role('dialog').filter(has_text=f'Antrag {reference}')
        expect(dialog).to_be_visible()
        expect(dialog.get_by_text(f'Frau {vorname} {nachname}', exact=True)).to_be_visible()
        expect(dialog.get_by_text(email, exact=True)).to_be_visible()
        expect(dialog.get_by_text('Druseltalstraße 5, 34131 Kassel', exact=True)).to_be_visible()
        screenshot(page, 'approval-03-dialog')
        dialog.get_by_role('button', name='Genehmigen', exact=True).click()
        expect(page.get_by_text('Antrag genehmigt; das Abo ist angelegt.')).to_be_visible()
        expect(dialog).to_be_hidden()
        expect(page.get_by_text('Keine Anträge gefunden')).to_be_visible()  # no longer open
        approval = mail_server.wait_for(email, 3)[2]  # confirmation, received, approved
        assert approval['Subject'].startswith('Ihr D-Ticket Job ist genehmigt: ab ')

        page.get_by_role('tab', name=re.compile('Abos')).click()
        search_table(page, 'In Abos suchen', vorname)
        abo_row = page.get_by_role('row').filter(has_text=f'{nachname}, {vorname}')
        expect(abo_row).to_have_count(1)
        starts = f'ab {first_open_start_month(date.today()):%m/%Y}'  # the month the form proposes
        expect(abo_row).to_contain_text(starts)
        screenshot(page, 'approval-04-abos')

        # the employee: Meine Abos
        employee.goto(f'{portal_url}/self-service/anmelden')
        expect(employee.get_by_role('heading', name='Meine Abos – Anmeldung')).to_be_visible()
        submit_login(employee, email, PASSWORD)
        expect(employee).to_have_url(f'{portal_url}/self-service/meine-abos')
        expect(employee.get_by_role('heading', name='Meine Abos', exact=True)).to_be_visible()
        abo_card = employee.locator('.q-card').filter(has_text=f'D-Ticket Job · {EMPLOYER}')
        expect(abo_card).to_have_count(1)
        expect(abo_card.locator('.q-badge')).to_have_text(starts)
        expect(abo_card.get_by_text('Handyticket')).to_be_visible()
        antrag_card = employee.locator('.q-card').filter(has_text=f'Antrag {reference}')
        expect(antrag_card.locator('.q-badge')).to_have_text('genehmigt')
        screenshot(employee, 'approval-05-meine-abos')
    finally:
        context.close()
