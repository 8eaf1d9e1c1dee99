"""The kiosk in a real Chromium at the customer centre's screen sizes: enter a code, start the form, stop touching,
and the screen wipes itself (the browser server runs with KIOSK_IDLE_SECONDS=4, KIOSK_COUNTDOWN_SECONDS=3)."""

from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import screenshot
from tests.browser.test_self_service_journey import generate_code, open_infos

PORTRAIT = {'width': 1080, 'height': 1920}
LANDSCAPE = {'width': 1920, 'height': 1080}


@pytest.mark.parametrize(('viewport', 'name'), [(PORTRAIT, 'portrait'), (LANDSCAPE, 'landscape')])
def test_kiosk_resets_after_idle_time(page: Page, browser: Browser, portal_url: str, viewport: dict, name: str) -> None:
    open_infos(page, portal_url)
    code = generate_code(page, date.today() + timedelta(days=60), f'kiosk-{name}')
    context = browser.new_context(viewport=viewport, locale='de-DE')  # the kiosk has no portal session
    try:
        kiosk = context.new_page()
        kiosk.goto(f'{portal_url}/kiosk')
        expect(kiosk.get_by_text('D-Ticket Job beantragen')).to_be_visible()
        expect(kiosk.get_by_role('link')).to_have_count(0)
        kiosk.get_by_label('Kundencode').fill(code)
        kiosk.get_by_role('button', name='Weiter', exact=True).click()
        expect(kiosk.get_by_text('Kundencode gültig')).to_be_visible()
        kiosk.get_by_label('Vorname').fill('Walk-in')
        expect(kiosk.get_by_label('Vorname')).to_have_attribute('autocomplete', 'off')
        button_height = kiosk.get_by_role('button', name='Antrag absenden').bounding_box()['height']
        assert button_height >= 48
        assert kiosk.evaluate('document.documentElement.scrollWidth <= window.innerWidth')
        screenshot(kiosk, f'kiosk-{name}-form')
        expect(kiosk.get_by_text('Sind Sie noch da?')).to_be_visible(timeout=15_000)
        screenshot(kiosk, f'kiosk-{name}-countdown')
        expect(kiosk.get_by_text('Kundencode eingeben')).to_be_visible(timeout=15_000)
        expect(kiosk.get_by_label('Kundencode')).to_have_value('')
        expect(kiosk.get_by_text('Walk-in')).to_have_count(0)
        stored = kiosk.evaluate('JSON.stringify([{...localStorage}, {...sessionStorage}, document.cookie])')
        assert 'Walk-in' not in stored
        assert code.replace('-', '') not in stored.replace('-', '')  # only NiceGUI's own tab/session ids
        kiosk.go_back()
        expect(kiosk).to_have_url(f'{portal_url}/kiosk')
    finally:
        context.close()
