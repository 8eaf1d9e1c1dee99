"""axe-core in Chromium on every page and open state (issue 16): 0 violations of WCAG 2.0/2.1 A and AA and axe's
best practices, one test per page or state, each failing on any violation with the rule, the element and axe's help.

The states are reached as a person reaches them (clicks, keys), in contexts that log in once per role. axe-core
4.12.1 comes bundled with axe-playwright-python (pinned in requirements.lock). With AXE_REPORT=<file>, every test
appends `state<TAB>violation nodes` to that file: how the counts before and after the fixes were measured.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect

from models import Role
from services.demo_data import DEMO_LOGINS
from tests.browser.conftest import DEFAULT_TIMEOUT_MS, DESKTOP, log_in, open_row_menu, screenshot, submit_login
from tests.browser.test_approval_journey import (
    PASSWORD,
    apply,
    confirm_address,
    contract_row,
    generate_code_link,
    open_vertragsverwaltung,
)
from tests.browser.test_massenupload_journey import employee_csv
from tests.smtp_server import MailCatcher

ADMIN = next(login for login in DEMO_LOGINS if login.role == Role.ADMIN)
STAFF = next(login for login in DEMO_LOGINS if login.role == Role.STAFF)
TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']
AXE = Axe()
SETTLED = '''() => document.getAnimations().every(
    (animation) => animation.playState !== 'running' || animation.effect.getComputedTiming().endTime === Infinity)'''


def axe_violations(page: Page) -> list[dict]:
    """axe's violations of the open page; first the fonts and every transition settle (a half-faded dialog would
    measure colour contrast on its way in)."""
    page.evaluate('document.fonts.ready.then(() => true)')
    page.wait_for_function(SETTLED)
    page.wait_for_timeout(100)  # pages/a11y.js names and marks what the last frame drew
    options = {'runOnly': {'type': 'tag', 'values': TAGS}, 'resultTypes': ['violations']}
    return AXE.run(page, options=options).response['violations']


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f'{violation["id"]} ({violation["impact"]}): {violation["help"]} – {len(violation["nodes"])}×')
        lines.extend(f'    {node["target"]}: {node["failureSummary"].splitlines()[-1].strip()}'
                     for node in violation['nodes'][:6])
    return '\n'.join(lines)


def assert_accessible(page: Page, state: str) -> None:
    violations = axe_violations(page)
    screenshot(page, f'a11y-{state}')
    if report := os.environ.get('AXE_REPORT'):
        with Path(report).open('a', encoding='utf-8') as file:
            file.write(f'{state}\t{sum(len(violation["nodes"]) for violation in violations)}\t'
                       f'{",".join(violation["id"] for violation in violations)}\n')
    assert not violations, f'{state}: axe-core findet {len(violations)} Verstöße:\n{describe(violations)}'


# --- contexts, one login per role -----------------------------------------------------------------------------------


def _context(browser: Browser) -> BrowserContext:
    context = browser.new_context(viewport=DESKTOP, locale='de-DE')
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    return context


@pytest.fixture(scope='module')
def admin(browser: Browser, portal_url: str) -> Iterator[BrowserContext]:
    context = _context(browser)
    page = context.new_page()
    log_in(page, portal_url, ADMIN.email, ADMIN.password)
    expect(page).to_have_url(f'{portal_url}/')
    page.close()
    try:
        yield context
    finally:
        context.close()


@pytest.fixture(scope='module')
def staff(browser: Browser, portal_url: str) -> Iterator[BrowserContext]:
    context = _context(browser)
    page = context.new_page()
    log_in(page, portal_url, STAFF.email, STAFF.password)
    expect(page).to_have_url(f'{portal_url}/')
    page.close()
    try:
        yield context
    finally:
        context.close()


@pytest.fixture(scope='module')
def code_link(admin: BrowserContext, portal_url: str) -> str:
    """A fresh Kundencode's Self-Service link, generated the guide's way."""
    page = admin.new_page()
    open_vertragsverwaltung(page, portal_url)
    link = generate_code_link(page, date.today() + timedelta(days=200))
    page.close()
    return link


@dataclass(frozen=True)
class EmployeeLogin:
    """The employee's browser context and the address they applied with."""

    context: BrowserContext
    email: str


@pytest.fixture(scope='module')
def employee(browser: Browser, code_link: str, mail_server: MailCatcher) -> Iterator[EmployeeLogin]:
    """An employee who has applied with the code and confirmed the address (so 'Meine Abos' shows an Antrag, the
    Anträge table a row)."""
    context = _context(browser)
    page = context.new_page()
    suffix = uuid.uuid4().hex[:8]
    apply(page, code_link, 'Barrierefrei', f'Tester-{suffix}', f'a11y-{suffix}@example.org')
    confirm_address(page, mail_server, f'a11y-{suffix}@example.org')
    page.close()
    try:
        yield EmployeeLogin(context, f'a11y-{suffix}@example.org')
    finally:
        context.close()


@pytest.fixture
def admin_page(admin: BrowserContext) -> Iterator[Page]:
    page = admin.new_page()
    try:
        yield page
    finally:
        page.close()


@pytest.fixture
def staff_page(staff: BrowserContext) -> Iterator[Page]:
    page = staff.new_page()
    try:
        yield page
    finally:
        page.close()


# --- public pages ---------------------------------------------------------------------------------------------------


def _login_error(page: Page, url: str) -> None:
    page.goto(f'{url}/login')
    page.get_by_label('E-Mail-Adresse', exact=True).fill('niemand@example.org')
    page.get_by_label('Passwort', exact=True).fill('falsch-falsch-falsch')
    page.get_by_role('button', name='Anmelden', exact=True).click()
    expect(page.get_by_role('alert').filter(has_text=re.compile('.+'))).to_be_visible()


def _password_shown(page: Page, url: str) -> None:
    page.goto(f'{url}/login')
    page.get_by_label('Passwort', exact=True).fill('geheim')
    page.get_by_role('button', name='Passwort anzeigen').click()
    expect(page.get_by_role('button', name='Passwort verbergen')).to_be_visible()


def _self_service_code_error(page: Page, url: str) -> None:
    page.goto(f'{url}/self-service')
    page.get_by_label('Kundencode', exact=True).fill('AAAA-BBBB-CCCC-DDDD')
    page.get_by_role('button', name='Weiter', exact=True).click()
    expect(page.get_by_role('alert').filter(has_text=re.compile('.+'))).to_be_visible()


def _kiosk_code_error(page: Page, url: str) -> None:
    page.goto(f'{url}/kiosk')
    page.get_by_label('Kundencode', exact=True).fill('AAAA-BBBB-CCCC-DDDD')
    page.get_by_role('button', name='Weiter', exact=True).click()
    expect(page.get_by_role('alert').filter(has_text=re.compile('.+'))).to_be_visible()


def _goto(path: str, heading: str) -> Callable[[Page, str], None]:
    def reach(page: Page, url: str) -> None:
        page.goto(url + path, wait_until='domcontentloaded')  # the heading below is what counts
        expect(page.get_by_role('heading', name=heading).first).to_be_visible()
    return reach


def _self_service_english(page: Page, url: str) -> None:
    """The English Self-Service, reached by its switch (issue 16, item 6)."""
    page.goto(f'{url}/self-service')
    page.get_by_role('link', name='English').click()
    expect(page.get_by_role('heading', name='Apply for the D-Ticket Job')).to_be_visible()


def _kiosk_english(page: Page, url: str) -> None:
    page.goto(f'{url}/kiosk')
    page.get_by_role('button', name='English').click()
    expect(page.get_by_role('heading', name='Enter customer code')).to_be_visible()


PUBLIC_STATES: dict[str, Callable[[Page, str], None]] = {
    'login': _goto('/login', 'Anmeldung'),
    'login-fehler': _login_error,
    'login-passwort-sichtbar': _password_shown,
    'passwort-vergessen': _goto('/passwort-vergessen', 'Passwort vergessen'),
    'einladung-ungueltig': _goto('/einladung/ungueltig', 'Link'),
    'seite-nicht-gefunden': _goto('/gibt-es-nicht', 'Seite nicht gefunden'),
    'self-service': _goto('/self-service', 'D-Ticket Job beantragen'),
    'self-service-code-fehler': _self_service_code_error,
    'self-service-anmelden': _goto('/self-service/anmelden', 'Meine Abos – Anmeldung'),
    'kiosk': _goto('/kiosk', 'Kundencode eingeben'),
    'kiosk-code-fehler': _kiosk_code_error,
    'self-service-englisch': _self_service_english,
    'kiosk-englisch': _kiosk_english,
}


@pytest.mark.parametrize('state', PUBLIC_STATES)
def test_public_page_has_no_axe_violations(page: Page, portal_url: str, state: str) -> None:
    PUBLIC_STATES[state](page, portal_url)
    assert_accessible(page, state)


# --- the Self-Service with a code, and Meine Abos ---------------------------------------------------------------------


def _antrag_form(page: Page, link: str, url: str) -> None:
    page.goto(link)
    expect(page.get_by_role('heading', name='Antrag auf das D-Ticket Job')).to_be_visible()


def _antrag_errors(page: Page, link: str, url: str) -> None:
    _antrag_form(page, link, url)
    page.get_by_role('button', name='Antrag absenden').click()
    expect(page.locator('[aria-invalid="true"]').first).to_be_visible()


def _kiosk_form(page: Page, link: str, url: str) -> None:
    page.goto(f'{url}/kiosk')
    page.get_by_label('Kundencode', exact=True).fill(link.rsplit('=', 1)[1])
    page.get_by_role('button', name='Weiter', exact=True).click()
    expect(page.get_by_role('heading', name='Antrag auf das D-Ticket Job')).to_be_visible()


def _kiosk_form_errors(page: Page, link: str, url: str) -> None:
    _kiosk_form(page, link, url)
    page.get_by_role('button', name='Antrag absenden').click()
    expect(page.locator('[aria-invalid="true"]').first).to_be_visible()


def _antrag_errors_english(page: Page, link: str, url: str) -> None:
    page.goto(link)
    page.get_by_role('link', name='English').click()
    expect(page.get_by_role('heading', name='Application for the D-Ticket Job')).to_be_visible()
    page.get_by_role('button', name='Send application').click()
    expect(page.locator('[aria-invalid="true"]').first).to_be_visible()


CODE_STATES: dict[str, Callable[[Page, str, str], None]] = {
    'self-service-antrag': _antrag_form,
    'self-service-antrag-fehler': _antrag_errors,
    'kiosk-antrag': _kiosk_form,
    'kiosk-antrag-fehler': _kiosk_form_errors,
    'self-service-antrag-fehler-englisch': _antrag_errors_english,
}


@pytest.mark.parametrize('state', CODE_STATES)
def test_antrag_form_has_no_axe_violations(page: Page, portal_url: str, code_link: str, state: str) -> None:
    CODE_STATES[state](page, code_link, portal_url)
    assert_accessible(page, state)


def test_meine_abos_has_no_axe_violations(employee: EmployeeLogin, portal_url: str) -> None:
    page = employee.context.new_page()
    page.goto(f'{portal_url}/self-service/anmelden')
    submit_login(page, employee.email, PASSWORD)
    expect(page.get_by_role('heading', name='Meine Abos', exact=True)).to_be_visible()
    expect(page.get_by_text(re.compile(r'^Antrag A-'))).to_be_visible()
    assert_accessible(page, 'meine-abos')


# --- the company portal (administrator) ------------------------------------------------------------------------------


def _vertraege(page: Page, url: str) -> None:
    open_vertragsverwaltung(page, url)


def _user_menu(page: Page, url: str) -> None:
    page.goto(f'{url}/')
    page.get_by_role('button', name=re.compile('^Benutzermenü')).click()
    expect(page.get_by_role('menuitem', name='Abmelden')).to_be_visible()


def _row_menu(page: Page, url: str) -> None:
    open_vertragsverwaltung(page, url)
    open_row_menu(page, contract_row(page))
    expect(page.get_by_role('menuitem', name='Infos')).to_be_visible()


def _infos(page: Page, url: str) -> None:
    _row_menu(page, url)
    page.get_by_role('menuitem', name='Infos').click()
    expect(page.get_by_role('dialog', name='Infos')).to_be_visible()


def _code_dialog(page: Page, url: str) -> None:
    _infos(page, url)
    page.get_by_role('button', name='Code', exact=True).click()
    expect(page.get_by_role('dialog', name='Kundencode generieren')).to_be_visible()


def _date_picker(page: Page, url: str) -> None:
    _code_dialog(page, url)
    page.get_by_role('button', name='Kalender öffnen').click()
    expect(page.locator('.q-date')).to_be_visible()


def _code_error(page: Page, url: str) -> None:
    _code_dialog(page, url)
    field = page.get_by_label('Gültigkeitsdatum (TT.MM.JJJJ)')
    field.fill('01.01.2000')
    page.get_by_role('button', name='Generieren').click()
    expect(field).to_have_attribute('aria-invalid', 'true')


def _antraege(page: Page, url: str) -> None:
    open_vertragsverwaltung(page, url)
    open_row_menu(page, contract_row(page))
    page.get_by_role('menuitem', name=re.compile('^Anträge')).click()
    expect(page.get_by_role('heading', name=re.compile('^Anträge und Abos'))).to_be_visible()


def _antraege_selected(page: Page, url: str) -> None:
    _antraege(page, url)
    box = page.get_by_role('checkbox', name=re.compile('^Barrierefrei .* auswählen$')).first
    box.click()
    expect(box).to_have_attribute('aria-checked', 'true')


def _antrag_dialog(page: Page, url: str) -> None:
    _antraege(page, url)
    row = page.get_by_role('row').filter(has_text='Barrierefrei').first
    open_row_menu(page, row)
    page.get_by_role('menuitem', name='Öffnen').click()
    expect(page.get_by_role('dialog', name=re.compile('^Antrag A-'))).to_be_visible()


def _abos(page: Page, url: str) -> None:
    _antraege(page, url)
    page.get_by_role('tab', name=re.compile('Abos')).click()
    expect(page.get_by_label('In Abos suchen')).to_be_visible()


def _massenupload(page: Page, url: str) -> None:
    open_vertragsverwaltung(page, url)
    open_row_menu(page, contract_row(page))
    page.get_by_role('menuitem', name='Massenupload').click()
    expect(page.get_by_role('heading', name=re.compile('^Massenupload'))).to_be_visible()


def _massenupload_faults(page: Page, url: str) -> None:
    _massenupload(page, url)
    # The file must outlive the upload: Chromium reads it from disk only when the upload request goes out, which a
    # loaded machine delays past set_input_files; a directory removed before that failed the request with
    # net::ERR_FILE_NOT_FOUND, and the page rightly said the file was not accepted (2 of 20 runs under load).
    with tempfile.TemporaryDirectory() as directory:
        faulty = employee_csv(Path(directory) / 'fehlerhaft.csv', uuid.uuid4().hex[:6], faulty=True)
        page.locator('input[type=file]').set_input_files(str(faulty))
        expect(page.get_by_role('heading', name='Vorschau')).to_be_visible(timeout=20_000)


def _anwender_invite(page: Page, url: str) -> None:
    page.goto(f'{url}/anwender')
    page.get_by_role('button', name='Anwender einladen').click()
    expect(page.get_by_role('dialog')).to_be_visible()


def _anwender_invite_errors(page: Page, url: str) -> None:
    _anwender_invite(page, url)
    page.get_by_role('dialog').get_by_role('button', name=re.compile('einladen', re.IGNORECASE)).last.click()
    expect(page.locator('[aria-invalid="true"]').first).to_be_visible()


def _anwender_row_menu(page: Page, url: str) -> None:
    page.goto(f'{url}/anwender')
    row = page.get_by_role('row').filter(has_text='lesen@').first
    open_row_menu(page, row)


def _passwort_errors(page: Page, url: str) -> None:
    page.goto(f'{url}/passwort')
    page.get_by_role('button', name='Passwort speichern').click()
    expect(page.locator('[aria-invalid="true"]').first).to_be_visible()


def _second_factor_dialog(page: Page, url: str) -> None:
    page.goto(f'{url}/profil')
    page.get_by_role('button', name=re.compile('Zweiten Faktor einrichten')).click()
    expect(page.get_by_role('dialog', name='Zweiten Faktor einrichten')).to_be_visible()


ADMIN_STATES: dict[str, Callable[[Page, str], None]] = {
    'dashboard': _goto('/', 'Willkommen'),
    'benutzermenue': _user_menu,
    'vertragsverwaltung': _vertraege,
    'zeilenmenue': _row_menu,
    'infos': _infos,
    'code-dialog': _code_dialog,
    'datumsauswahl': _date_picker,
    'code-fehler': _code_error,
    'antraege': _antraege,
    'antraege-auswahl': _antraege_selected,
    'antrag-dialog': _antrag_dialog,
    'abos': _abos,
    'massenupload': _massenupload,
    'massenupload-fehler': _massenupload_faults,
    'anwender': _goto('/anwender', 'Anwender'),
    'anwender-zeilenmenue': _anwender_row_menu,
    'anwender-einladen': _anwender_invite,
    'anwender-einladen-fehler': _anwender_invite_errors,
    'profil': _goto('/profil', 'Profil'),
    'zweiter-faktor-dialog': _second_factor_dialog,
    'passwort': _goto('/passwort', 'Passwort ändern'),
    'passwort-fehler': _passwort_errors,
}


@pytest.mark.parametrize('state', ADMIN_STATES)
def test_company_page_has_no_axe_violations(
    admin_page: Page, portal_url: str, employee: EmployeeLogin, state: str
) -> None:
    ADMIN_STATES[state](admin_page, portal_url)
    assert_accessible(admin_page, state)


# --- the transit company's staff --------------------------------------------------------------------------------------


def _verwaltung_errors(page: Page, url: str) -> None:
    page.goto(f'{url}/verwaltung')
    page.get_by_role('button', name='Anlegen und einladen').click()
    expect(page.locator('[aria-invalid="true"]').first).to_be_visible()


STAFF_STATES: dict[str, Callable[[Page, str], None]] = {
    'abrechnung': _goto('/abrechnung', 'Abrechnung'),
    'tarife': _goto('/tarife', 'Tarife'),
    'protokoll': _goto('/protokoll', 'Protokoll'),
    'verwaltung': _goto('/verwaltung', 'Verwaltung'),
    'verwaltung-fehler': _verwaltung_errors,
    'vertragsverwaltung-alle': _goto('/vertragsverwaltung', 'Vertragsverwaltung'),
}


@pytest.mark.parametrize('state', STAFF_STATES)
def test_staff_page_has_no_axe_violations(staff_page: Page, portal_url: str, state: str) -> None:
    STAFF_STATES[state](staff_page, portal_url)
    assert_accessible(staff_page, state)
