"""A late approval in a real Chromium (issue 15): an employee applied weeks ago for this month, the company approves
only now, after the deadline. The Anträge table shows "genehmigen bis" as passed, the approval says that the Abo
starts later and when, and the company's Abo table and the employee's Meine Abos show that moved start.

No page can make weeks pass: after the employee has applied through the Self-Service, the test moves the Antrag's
start month back to this month in the portal's SQLite file (its deadline, the cut-off day of last month, has passed
whatever day the test runs), as if it had been submitted for it in time and then left lying.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from datetime import date
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from services.abo_dates import approval_deadline, first_of_month, first_open_start_month, month_label
from tests.browser.conftest import (
    DEFAULT_TIMEOUT_MS,
    DESKTOP,
    choose_from_row_menu,
    log_in,
    open_row_menu,
    screenshot,
    search_table,
    submit_login,
)
from tests.browser.test_approval_journey import (
    ADMIN,
    EMPLOYER,
    PASSWORD,
    a_year_ahead,
    apply,
    confirm_address,
    generate_code_link,
    german,
    open_vertragsverwaltung,
)
from tests.smtp_server import MailCatcher

BUSY_TIMEOUT_SECONDS = 10


def left_lying(database: Path, reference: str, startmonat: date) -> None:
    """The Antrag as if it had been submitted for `startmonat` and not decided since."""
    with sqlite3.connect(database, timeout=BUSY_TIMEOUT_SECONDS) as connection:
        changed = connection.execute('UPDATE antrag SET startmonat = ? WHERE reference = ?',
                                     (startmonat.isoformat(), reference)).rowcount
    assert changed == 1


def test_a_late_approval_shows_the_moved_start(
    page: Page, browser: Browser, portal_url: str, portal_directory: Path, mail_server: MailCatcher
) -> None:
    today = date.today()
    requested = first_of_month(today)  # its deadline passed last month
    moved = first_open_start_month(today)
    suffix = uuid.uuid4().hex[:8]
    vorname, nachname, email = f'Lotte{suffix}', 'Spaet', f'lotte.{suffix}@example.org'

    log_in(page, portal_url, ADMIN.email, ADMIN.password)
    expect(page).to_have_url(f'{portal_url}/')
    open_vertragsverwaltung(page, portal_url)
    link = generate_code_link(page, a_year_ahead(today))

    context = browser.new_context(viewport=DESKTOP, locale='de-DE')
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        employee = context.new_page()
        reference = apply(employee, link, vorname, nachname, email)
        confirm_address(employee, mail_server, email)
        left_lying(portal_directory / 'browser.db', reference, requested)

        page.goto(f'{portal_url}/vertragsverwaltung')
        open_row_menu(page, page.get_by_role('row').filter(has_text='DJ-2024-0117')).get_by_text(
            'Anträge', exact=True).click()
        search_table(page, 'In Anträgen suchen', vorname)
        row = page.get_by_role('row').filter(has_text=f'{nachname}, {vorname}')
        expect(row).to_have_count(1)
        deadline = german(approval_deadline(requested))
        expect(row).to_contain_text(f'{deadline} – verstrichen, Beginn jetzt {moved:%m/%Y}')
        screenshot(page, 'late-01-antraege')

        choose_from_row_menu(page, row, 'Öffnen')
        dialog = page.get_by_role('dialog').filter(has_text=f'Antrag {reference}')
        expect(dialog.get_by_text('genehmigen bis', exact=True)).to_be_visible()
        dialog.get_by_role('button', name='Genehmigen', exact=True).click()
        message = (f'Antrag {reference} genehmigt, aber nach der Frist für {month_label(requested)} (genehmigen bis '
                   f'{deadline}): das Abo beginnt erst am {german(moved)}.')
        expect(page.get_by_text(message)).to_be_visible()
        screenshot(page, 'late-02-moved')
        page.get_by_role('button', name='OK').click()  # the message stays until the clerk has read it
        expect(page.get_by_text(message)).to_be_hidden()

        page.get_by_role('tab', name=re.compile('Abos')).click()
        search_table(page, 'In Abos suchen', vorname)
        abo_row = page.get_by_role('row').filter(has_text=f'{nachname}, {vorname}')
        expect(abo_row).to_contain_text(german(moved))
        expect(abo_row).to_contain_text(f'ab {moved:%m/%Y}')

        employee.goto(f'{portal_url}/self-service/anmelden')
        submit_login(employee, email, PASSWORD)
        expect(employee).to_have_url(f'{portal_url}/self-service/meine-abos')
        abo_card = employee.locator('.q-card').filter(has_text=f'D-Ticket Job · {EMPLOYER}')
        expect(abo_card.locator('.q-badge')).to_have_text(f'ab {moved:%m/%Y}')
        expect(abo_card.get_by_text(month_label(moved), exact=True)).to_be_visible()
        screenshot(employee, 'late-03-meine-abos')
    finally:
        context.close()
