"""The month closes, in a real Chromium (issue 14): staff enter a new price block and see the contracts below its
minimum subsidy; the administrator is warned on the dashboard and raises the subsidy from that month in the Infos
drawer; an employee's Antrag is approved; the clerk opens the Abo's month in „Abrechnung“, downloads the statement and
the payroll file as CSV and Excel, and the test reads each file back.

The portal process is shared by every browser test: the price block lies far in the future (no other test's month
is affected) and every run applies as a new person."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import date

from openpyxl import load_workbook
from playwright.sync_api import Browser, BrowserContext, Page, expect

from models import Role
from services import abo_dates
from services.demo_data import DEMO_LOGINS
from tests.browser.conftest import (
    DEFAULT_TIMEOUT_MS,
    DESKTOP,
    choose_from_row_menu,
    log_in,
    screenshot,
    search_table,
)
from tests.browser.test_approval_journey import (
    ADMIN,
    VERTRAGSNUMMER,
    a_year_ahead,
    apply,
    confirm_address,
    contract_row,
    generate_code_link,
    open_vertragsverwaltung,
)
from tests.smtp_server import MailCatcher

STAFF = next(login for login in DEMO_LOGINS if login.role == Role.STAFF)
CLERK = next(login for login in DEMO_LOGINS if login.role == Role.CLERK)
BLOCK_MONTH = abo_dates.first_of_month(date.today(), 20)  # offered by the Tarife page and the subsidy dialog


def choose(page: Page, label: str, option: str) -> None:
    page.get_by_label(label, exact=True).click()
    page.get_by_role('option', name=option, exact=True).click()


def new_context_page(browser: Browser) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport=DESKTOP, locale='de-DE', accept_downloads=True)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    return context, context.new_page()


def download(page: Page, button: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role('button', name=button, exact=True).click()
    path = info.value.path()
    assert path is not None
    with open(path, 'rb') as file:
        return file.read()


def test_price_block_subsidy_and_the_months_files(
    page: Page, browser: Browser, portal_url: str, mail_server: MailCatcher
) -> None:
    month = abo_dates.month_label(BLOCK_MONTH)

    # staff: a new price block, and the contracts whose subsidy falls below its minimum
    log_in(page, portal_url, STAFF.email, STAFF.password, path='/tarife')
    expect(page.get_by_role('heading', name='Tarife')).to_be_visible()
    choose(page, 'Gültig ab', month)
    page.get_by_label('Preis (€ monatlich)').fill('90,00')
    page.get_by_role('button', name='Tarif hinzufügen').click()
    expect(page.get_by_text('Verträge unter dem neuen Mindestzuschuss')).to_be_visible()
    below = page.get_by_role('row').filter(has_text=VERTRAGSNUMMER)
    expect(below).to_have_count(1)
    screenshot(page, 'billing-01-tarife')

    # the administrator: warned on the dashboard, raises the subsidy from that month in the Infos drawer
    admin_context, admin = new_context_page(browser)
    try:
        log_in(admin, portal_url, ADMIN.email, ADMIN.password)
        warning = admin.get_by_text(re.compile(rf'Vertrag {VERTRAGSNUMMER}: Der Arbeitgeberzuschuss .* ab {month}'))
        expect(warning).to_be_visible()
        open_vertragsverwaltung(admin, portal_url)
        choose_from_row_menu(admin, contract_row(admin), 'Infos')
        admin.get_by_role('button', name='Zuschuss ändern').click()
        choose(admin, 'Ab Monat', month)
        admin.get_by_label('Zuschuss (€ monatlich)').fill('22,49')
        admin.get_by_role('button', name='Speichern', exact=True).click()
        expect(admin.get_by_text(re.compile(rf'Der Arbeitgeberzuschuss ab {month} beträgt mindestens 22,50'))) \
            .to_be_visible()
        admin.get_by_label('Zuschuss (€ monatlich)').fill('22,50')
        admin.get_by_role('button', name='Speichern', exact=True).click()
        expect(admin.get_by_text(f'ab {month}', exact=True)).to_be_visible()
        expect(admin.get_by_text('22,50 € monatlich')).to_be_visible()
        screenshot(admin, 'billing-02-zuschuss')
        admin.goto(f'{portal_url}/')
        expect(admin.get_by_text('Willkommen')).to_be_visible()
        expect(warning).to_have_count(0)

        # an employee applies, the administrator approves: an Abo from its start month
        suffix = uuid.uuid4().hex[:8]
        vorname, nachname = f'Lotte{suffix}', 'Abrechnung'
        open_vertragsverwaltung(admin, portal_url)
        link = generate_code_link(admin, a_year_ahead(date.today()))
        employee_context, employee = new_context_page(browser)
        try:
            apply(employee, link, vorname, nachname, f'lotte.{suffix}@example.org')
            confirm_address(employee, mail_server, f'lotte.{suffix}@example.org')
        finally:
            employee_context.close()
        open_vertragsverwaltung(admin, portal_url)
        choose_from_row_menu(admin, contract_row(admin), 'Anträge')
        search_table(admin, 'In Anträgen suchen', vorname)
        row = admin.get_by_role('row').filter(has_text=f'{nachname}, {vorname}')
        expect(row).to_have_count(1)
        start = row.get_by_role('cell').nth(4).inner_text().strip()  # Startmonat, e.g. 'Januar 2027'
        choose_from_row_menu(admin, row, 'Öffnen')
        admin.get_by_role('dialog').get_by_role('button', name='Genehmigen', exact=True).click()
        expect(admin.get_by_text('Antrag genehmigt; das Abo ist angelegt.')).to_be_visible()
    finally:
        admin_context.close()

    # the clerk: the Abo's month, its statement and payroll files
    clerk_context, clerk = new_context_page(browser)
    try:
        log_in(clerk, portal_url, CLERK.email, CLERK.password, path='/abrechnung')
        expect(clerk.get_by_role('heading', name='Abrechnung', exact=True)).to_be_visible()
        choose(clerk, 'Monat', start)
        clerk.get_by_role('button', name='Anzeigen').click()
        expect(clerk.get_by_role('heading', name=f'{VERTRAGSNUMMER} · {start}')).to_be_visible()
        expect(clerk.get_by_role('row').filter(has_text=f'{nachname}, {vorname}')).to_have_count(1)
        expect(clerk.get_by_role('button', name='Monat abschließen')).to_have_count(0)  # staff only
        screenshot(clerk, 'billing-03-abrechnung')

        statement_csv = download(clerk, 'Abrechnung (CSV)')
        assert statement_csv.startswith(b'\xef\xbb\xbf')
        rows = list(csv.reader(io.StringIO(statement_csv.decode('utf-8-sig')), delimiter=';'))
        assert any(nachname in row and vorname in row for row in rows[1:]), rows[:3]
        statement = load_workbook(io.BytesIO(download(clerk, 'Abrechnung (Excel)'))).active
        assert any(nachname in row and vorname in row for row in statement.iter_rows(values_only=True))
        payroll_csv = list(csv.reader(io.StringIO(download(clerk, 'Lohnabrechnung (CSV)').decode('utf-8-sig')),
                                      delimiter=';'))
        assert payroll_csv[0][:2] == ['Personalnummer', 'Nachname'], payroll_csv[0]
        person = next(row for row in payroll_csv[1:] if row[1] == nachname)
        assert re.fullmatch(r'\d+,\d\d', person[3]), person  # Eigenanteil as a German amount
        payroll = load_workbook(io.BytesIO(download(clerk, 'Lohnabrechnung (Excel)'))).active
        excel_person = next(row for row in payroll.iter_rows(values_only=True) if row[1] == nachname)
        assert isinstance(excel_person[3], (int, float)) and isinstance(excel_person[4], (int, float))
    finally:
        clerk_context.close()
