"""Trust on every click, in a real Chromium (issue 11): a page left open after Abmelden in another tab, a clerk
deactivated while their page is open, a `session` cookie planted before the login, and a name full of quotes and
markup. The portal process is shared by every browser test, so every run invites a new person."""

from __future__ import annotations

import re
import secrets

from playwright.sync_api import Browser, Page, expect

from pages.session_cookie import Area
from tests.browser.conftest import DEFAULT_TIMEOUT_MS, DESKTOP, log_in, screenshot, submit_login
from tests.browser.test_invitation_journey import ADMIN, invite_clerk, sidebar_entry

PASSWORD = 'Karlsaue-Orangerie-Fulda-31'
WATCHER_MS = 15_000  # the watcher looks every 3 s; generous for a busy machine


def test_a_tab_left_open_after_abmelden_in_another_tab_goes_to_the_login(page: Page, portal_url: str) -> None:
    log_in(page, portal_url, ADMIN.email, ADMIN.password, path='/vertragsverwaltung')
    expect(page.get_by_role('heading', name='Vertragsverwaltung')).to_be_visible()
    other_tab = page.context.new_page()
    other_tab.goto(f'{portal_url}/')
    expect(other_tab.get_by_text('Willkommen, Anna Dietrich')).to_be_visible()
    other_tab.get_by_role('button', name=re.compile('^Benutzermenü')).click()
    other_tab.get_by_role('menuitem', name='Abmelden').click()
    expect(other_tab).to_have_url(f'{portal_url}/login')

    expect(page).to_have_url(re.compile(re.escape(f'{portal_url}/login?redirect_to=')), timeout=WATCHER_MS)
    expect(page.get_by_role('heading', name='Anmeldung')).to_be_visible()
    screenshot(page, 'trust-01-sent-to-login')
    cookies = {cookie['name'] for cookie in page.context.cookies()}
    assert Area.PORTAL.value not in cookies


def test_a_planted_session_cookie_is_worthless_after_the_login(browser: Browser, page: Page, portal_url: str) -> None:
    page.goto(f'{portal_url}/login')
    planted = next(cookie for cookie in page.context.cookies() if cookie['name'] == 'session')
    submit_login(page, ADMIN.email, ADMIN.password)
    expect(page).to_have_url(f'{portal_url}/')
    after = {cookie['name']: cookie for cookie in page.context.cookies()}
    assert after['session']['value'] != planted['value']
    assert after[Area.PORTAL.value]['httpOnly'] is True

    attacker = browser.new_context(viewport=DESKTOP, locale='de-DE')
    try:
        attacker.add_cookies([{'name': planted['name'], 'value': planted['value'], 'domain': planted['domain'],
                               'path': planted['path']}])
        attacker_page = attacker.new_page()
        attacker_page.goto(f'{portal_url}/vertragsverwaltung')
        expect(attacker_page).to_have_url(re.compile(re.escape(f'{portal_url}/login')))
    finally:
        attacker.close()


def test_a_deactivated_clerks_open_page_goes_to_the_login_and_names_stay_text(
    page: Page, browser: Browser, portal_url: str
) -> None:
    suffix = secrets.token_hex(3)
    name = f'Eva "Zeh" :onclick="alert(1)" <img src=x onerror="window.pwned=1"> {suffix}'
    email = f'eva.{suffix}@fahrradmanufaktur-kassel.de'
    link = invite_clerk(page, portal_url, name, email)
    assert page.evaluate('window.pwned') is None
    assert page.locator('img[src="x"]').count() == 0

    context = browser.new_context(viewport=DESKTOP, locale='de-DE')
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        clerk = context.new_page()
        clerk.goto(link)
        clerk.get_by_label('Neues Passwort', exact=True).fill(PASSWORD)
        clerk.get_by_label('Neues Passwort wiederholen', exact=True).fill(PASSWORD)
        clerk.get_by_role('button', name='Passwort speichern').click()
        clerk.get_by_role('button', name='Zur Anmeldung').click()
        submit_login(clerk, email, PASSWORD)
        expect(clerk).to_have_url(f'{portal_url}/')
        menu_button = clerk.get_by_role('button', name=re.compile('^Benutzermenü'))
        expect(menu_button).to_have_attribute('aria-label', f'Benutzermenü {name}')
        assert menu_button.get_attribute('onclick') is None
        assert clerk.locator('img[src="x"]').count() == 0 and clerk.evaluate('window.pwned') is None
        sidebar_entry(clerk, 'Vertragsverwaltung').click()
        expect(clerk.get_by_role('heading', name='Vertragsverwaltung')).to_be_visible()
        screenshot(clerk, 'trust-02-hostile-name')

        row = page.get_by_role('row').filter(has_text=email)
        row.get_by_role('button', name=re.compile(r'^Aktionen für')).click()
        page.locator('.q-menu').get_by_text('Deaktivieren', exact=True).click()
        page.locator('.q-dialog').get_by_role('button', name='Deaktivieren', exact=True).click()
        expect(row).to_contain_text('deaktiviert')

        expect(clerk).to_have_url(re.compile(re.escape(f'{portal_url}/login?redirect_to=')), timeout=WATCHER_MS)
        screenshot(clerk, 'trust-03-deactivated-to-login')
    finally:
        context.close()
