"""Real-Chromium journeys of issue 15 with mail read from the local SMTP server the portal delivers to: an employee
who forgot the Self-Service password gets the link by mail, sets a new one and logs in with it."""

from __future__ import annotations

import uuid
from datetime import date

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DEFAULT_TIMEOUT_MS, DESKTOP, log_in, open_mailed_link, submit_login
from tests.browser.test_approval_journey import (
    ADMIN,
    PASSWORD,
    a_year_ahead,
    apply,
    confirm_address,
    generate_code_link,
    open_vertragsverwaltung,
)
from tests.smtp_server import MailCatcher

NEW_PASSWORD = 'Loewenburg-im-Nebel-2027'


def test_an_employee_resets_a_forgotten_password(
    page: Page, browser: Browser, portal_url: str, mail_server: MailCatcher
) -> None:
    suffix = uuid.uuid4().hex[:8]
    email = f'vergesslich.{suffix}@example.org'
    log_in(page, portal_url, ADMIN.email, ADMIN.password)
    expect(page).to_have_url(f'{portal_url}/')
    open_vertragsverwaltung(page, portal_url)
    link = generate_code_link(page, a_year_ahead(date.today()))
    context = browser.new_context(viewport=DESKTOP, locale='de-DE')
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        employee = context.new_page()
        apply(employee, link, f'Vera{suffix}', 'Vergessen', email)
        confirm_address(employee, mail_server, email)

        employee.goto(f'{portal_url}/self-service/anmelden')
        employee.get_by_role('link', name='Passwort vergessen?').click()
        expect(employee).to_have_url(f'{portal_url}/self-service/passwort-vergessen')
        employee.get_by_label('E-Mail-Adresse', exact=True).fill(email)
        employee.get_by_role('button', name='Link anfordern').click()
        answer = employee.get_by_role('status')
        expect(answer).to_contain_text('Wenn es zu dieser Adresse einen aktiven Zugang gibt')

        # an unknown address gets the very same answer, and no mail
        employee.get_by_label('E-Mail-Adresse', exact=True).fill(f'niemand.{suffix}@example.org')
        employee.get_by_role('button', name='Link anfordern').click()
        expect(answer).to_contain_text('Wenn es zu dieser Adresse einen aktiven Zugang gibt')

        # confirmation, received, then the reset link
        open_mailed_link(employee, mail_server, email, '/self-service/konto/', count=3)
        employee.get_by_label('Neues Passwort', exact=True).fill(NEW_PASSWORD)
        employee.get_by_label('Neues Passwort wiederholen', exact=True).fill(NEW_PASSWORD)
        employee.get_by_role('button', name='Passwort speichern').click()
        expect(employee.get_by_text('Ihr Passwort ist gespeichert.')).to_be_visible()
        assert mail_server.to(f'niemand.{suffix}@example.org') == []

        employee.goto(f'{portal_url}/self-service/anmelden')
        submit_login(employee, email, PASSWORD)  # the old password no longer opens it
        # wait for the refusal itself: the URL is the same before it, and the refusal empties the password field
        expect(employee.get_by_text('E-Mail-Adresse oder Passwort ist falsch.')).to_be_visible()
        expect(employee).to_have_url(f'{portal_url}/self-service/anmelden')
        submit_login(employee, email, NEW_PASSWORD)
        expect(employee).to_have_url(f'{portal_url}/self-service/meine-abos')
    finally:
        context.close()
