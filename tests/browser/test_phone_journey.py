"""Phones in a real Chromium (issue 16, item 3): at 320 and 390 px no page scrolls sideways, the contract table keeps
its key columns and the row menu on screen, the Infos drawer fits, and its QR code is read back from a screenshot
(zxing-cpp) as exactly the Self-Service link.

Measured before the fix at 320 px: the table 786 px wide inside a 224 px box (its row menu at x = 784), the Infos
drawer 342 px wide, the QR code squeezed to 110×128 px and cropped, the kiosk page 433 px wide.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, FloatRect, Page, expect

from services.self_service_link import self_service_link
from tests.browser.conftest import DEFAULT_TIMEOUT_MS, choose_from_row_menu, log_in, screenshot
from tests.browser.test_self_service_journey import (
    ADMIN,
    VERTRAGSNUMMER,
    a_year_ahead,
    generate_code,
)

PHONE_WIDTHS = (320, 390)
# Every public page a person may open on a phone; the legal pages link from every footer.
PUBLIC_PATHS = ('/login', '/self-service', '/self-service/meine-abos', '/kiosk', '/impressum', '/datenschutz',
                '/barrierefreiheit', '/hilfe', '/gibt-es-nicht')


@pytest.fixture(params=PHONE_WIDTHS, ids=lambda width: f'{width}px')
def phone(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={'width': request.param, 'height': 740}, locale='de-DE',
                                  has_touch=True, is_mobile=True)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def page_width(page: Page) -> int:
    """What scrolls sideways: the document's scroll width (the viewport's width when nothing sticks out)."""
    return page.evaluate('document.documentElement.scrollWidth')


def viewport_width(page: Page) -> int:
    return page.viewport_size['width'] if page.viewport_size else 0


def inside_viewport(page: Page, box: FloatRect) -> bool:
    return box['x'] >= 0 and box['x'] + box['width'] <= viewport_width(page) + 0.5


def open_contract_infos(page: Page, portal_url: str) -> None:
    """Vertragsverwaltung → the row menu (which must be on screen, not behind a sideways scroll) → Infos."""
    log_in(page, portal_url, ADMIN.email, ADMIN.password)
    expect(page).to_have_url(f'{portal_url}/')
    page.goto(f'{portal_url}/vertragsverwaltung')
    row = page.get_by_role('row').filter(has_text=VERTRAGSNUMMER)
    expect(row).to_have_count(1)
    menu_button = row.get_by_role('button', name=re.compile(r'^Aktionen für'))
    expect(menu_button).to_be_in_viewport(ratio=1)  # wholly on screen (retried: the cells are drawn twice)
    for column in ('Vertragsnummer', 'Firma', 'Status'):
        expect(page.get_by_role('columnheader', name=column)).to_be_visible()
    table = page.locator('.q-table__middle')
    assert table.evaluate('element => element.scrollWidth <= element.clientWidth'), 'the table scrolls sideways'
    assert page_width(page) <= viewport_width(page)
    choose_from_row_menu(page, row, 'Infos')
    expect(page.get_by_text('Firmendaten', exact=True)).to_be_visible()


def test_the_contract_table_and_the_infos_drawer_fit_a_phone(phone: Page, portal_url: str) -> None:
    width = viewport_width(phone)
    open_contract_infos(phone, portal_url)
    screenshot(phone, f'phone-{width}-vertragsverwaltung-infos')
    drawer = phone.locator('.q-dialog .q-card').first
    # The drawer slides in from the right: wait until it has come to rest inside the viewport (bounded by the timeout).
    phone.wait_for_function(
        '() => { const r = document.querySelector(".q-dialog .q-card").getBoundingClientRect();'
        ' return r.left >= 0 && r.right <= window.innerWidth + 0.5; }', timeout=DEFAULT_TIMEOUT_MS)
    box = drawer.bounding_box()
    assert box is not None and inside_viewport(phone, box), box
    assert drawer.evaluate('element => element.scrollWidth <= element.clientWidth'), 'the drawer scrolls sideways'
    assert page_width(phone) <= width


def qr_text(image_png: bytes) -> str:
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(image_png)))
    assert len(found) == 1, f'{len(found)} codes read'
    return found[0].text


@pytest.mark.parametrize('width', [320, 1366])
def test_the_qr_code_in_the_drawer_reads_as_the_self_service_link(
    browser: Browser, portal_url: str, width: int
) -> None:
    context = browser.new_context(viewport={'width': width, 'height': 900}, locale='de-DE')
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        page = context.new_page()
        open_contract_infos(page, portal_url)
        code = generate_code(page, a_year_ahead(date.today()), f'qr-{width}')
        qr = page.locator('img[alt="QR-Code mit dem Link zum Self-Service"]')
        expect(qr).to_be_visible()  # the code dialog has closed itself; the drawer shows the new code
        qr.scroll_into_view_if_needed()
        box = qr.bounding_box()
        assert box is not None and abs(box['width'] - box['height']) < 1 and box['width'] >= 160, box
        assert inside_viewport(page, box), box
        # The drawn picture, not its box: object-fit cover cut the quiet zone and a row of modules.
        assert qr.evaluate('element => getComputedStyle(element).objectFit') == 'contain'
        expected = self_service_link(f'{portal_url}/', code.replace('-', ''))
        expect(page.get_by_role('link', name=expected)).to_be_visible()
        # At 320 px the notification 'Der Kundencode wurde generiert.' lies over the code for its 5 s.
        expect(page.get_by_text('Der Kundencode wurde generiert.')).to_be_hidden(timeout=10_000)
        assert qr_text(qr.screenshot(animations='disabled')) == expected
        screenshot(page, f'qr-{width}-infos')
    finally:
        context.close()


@pytest.mark.parametrize('path', PUBLIC_PATHS)
def test_public_pages_do_not_scroll_sideways_on_a_phone(phone: Page, portal_url: str, path: str) -> None:
    phone.goto(portal_url + path)
    expect(phone.locator('footer, [role=contentinfo]').first).to_be_attached()
    phone.wait_for_load_state('networkidle')
    assert page_width(phone) <= viewport_width(phone), f'{path}: {page_width(phone)} px wide'
    screenshot(phone, f'phone-{viewport_width(phone)}{path.replace("/", "-")}')
