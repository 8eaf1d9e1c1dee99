"""Deutsch/English on the Self-Service in a real Chromium (issue 16, item 6): a German browser switches with the link
in the header and stays on its page, the choice survives a reload and another page, `<html lang>` follows, amounts
and dates are English; an English browser (Accept-Language from Playwright's locale) starts in English; the kiosk's
switch is a button and its "Start over" goes back to the kiosk's own language."""

from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import Browser, Page, expect

from models import Role
from services.demo_data import DEMO_LOGINS
from tests.browser.conftest import DEFAULT_TIMEOUT_MS, DESKTOP, log_in, screenshot
from tests.browser.test_approval_journey import generate_code_link, open_vertragsverwaltung

ADMIN = next(login for login in DEMO_LOGINS if login.role == Role.ADMIN)
ENGLISH_AMOUNT = re.compile(r'^€\d+\.\d\d$')


def new_page(browser: Browser, locale: str) -> Page:
    context = browser.new_context(viewport=DESKTOP, locale=locale)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    return context.new_page()


def a_code_link(browser: Browser, portal_url: str) -> str:
    page = new_page(browser, 'de-DE')
    try:
        log_in(page, portal_url, ADMIN.email, ADMIN.password)
        expect(page).to_have_url(f'{portal_url}/')
        open_vertragsverwaltung(page, portal_url)
        return generate_code_link(page, date.today() + timedelta(days=200))
    finally:
        page.context.close()


def test_a_german_browser_switches_the_self_service_to_english_and_back(browser: Browser, portal_url: str) -> None:
    link = a_code_link(browser, portal_url)
    page = new_page(browser, 'de-DE')
    try:
        page.goto(link)
        expect(page.get_by_role('heading', name='Antrag auf das D-Ticket Job')).to_be_visible()
        assert page.evaluate('document.documentElement.lang') == 'de'
        switch = page.get_by_role('link', name='English')
        expect(switch).to_have_attribute('lang', 'en')
        expect(switch).to_have_attribute('hreflang', 'en')
        switch.click()

        expect(page.get_by_role('heading', name='Application for the D-Ticket Job')).to_be_visible()
        assert page.url == link  # the same page, its code included
        assert page.evaluate('document.documentElement.lang') == 'en-GB'
        expect(page.get_by_text('Customer code valid')).to_be_visible()
        expect(page.get_by_text(ENGLISH_AMOUNT)).to_be_visible()  # the share: €39.85, not 39,85 €
        page.get_by_role('button', name='Send application').click()
        expect(page.get_by_text('Please choose a title.')).to_be_visible()
        screenshot(page, 'englisch-self-service-antrag')

        page.reload()  # remembered
        expect(page.get_by_role('heading', name='Application for the D-Ticket Job')).to_be_visible()
        page.goto(portal_url + '/self-service/anmelden')
        expect(page.get_by_role('heading', name='My subscriptions – log in')).to_be_visible()
        page.get_by_role('link', name='Deutsch').click()
        expect(page.get_by_role('heading', name='Meine Abos – Anmeldung')).to_be_visible()
        assert page.url == portal_url + '/self-service/anmelden'
        assert page.evaluate('document.documentElement.lang') == 'de'
    finally:
        page.context.close()


def test_an_english_browser_gets_english_and_the_kiosk_resets_to_its_own_language(
        browser: Browser, portal_url: str) -> None:
    page = new_page(browser, 'en-GB')
    try:
        page.goto(portal_url + '/self-service')
        expect(page.get_by_role('heading', name='Apply for the D-Ticket Job')).to_be_visible()
        screenshot(page, 'englisch-self-service')
        page.goto(portal_url + '/login')  # the company portal stays German
        expect(page.get_by_role('button', name='Anmelden', exact=True)).to_be_visible()

        page.goto(portal_url + '/kiosk')
        expect(page.get_by_role('heading', name='Enter customer code')).to_be_visible()
        assert page.evaluate('document.documentElement.lang') == 'en-GB'
        screenshot(page, 'englisch-kiosk')
        page.get_by_role('button', name='Deutsch').click()
        expect(page.get_by_role('heading', name='Kundencode eingeben')).to_be_visible()
        # the page's language follows its texts in a second update: wait for it (CI under load read it in between)
        expect(page.locator('html')).to_have_attribute('lang', 'de')
        page.get_by_role('button', name='Neu beginnen').click()
        expect(page.get_by_role('heading', name='Enter customer code')).to_be_visible()
        expect(page.locator('html')).to_have_attribute('lang', 'en-GB')
    finally:
        page.context.close()
