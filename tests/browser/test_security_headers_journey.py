"""The Content-Security-Policy against the real server in Chromium (issue 11): every page of the portal renders and
works with it, without one `securitypolicyviolation`; the real uvicorn sends no `server` banner; the websocket
handshake with a foreign Origin is refused while the portal's own succeeds.

If NiceGUI one day needs more than the policy allows, this journey names the directive and the blocked resource.
"""

from __future__ import annotations

import socket
from datetime import date, timedelta
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from models import Role
from pages.security_headers import CONTENT_SECURITY_POLICY
from services.demo_data import DEMO_LOGINS
from tests.browser.conftest import choose_from_row_menu, log_in
from tests.browser.test_self_service_journey import VERTRAGSNUMMER, german

ADMIN = next(login for login in DEMO_LOGINS if login.role == Role.ADMIN)
STAFF = next(login for login in DEMO_LOGINS if login.role == Role.STAFF)
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
});
"""


def watch_policy(page: Page) -> list[str]:
    """Collects violations reported to the page and the console's CSP messages (some are only logged there)."""
    page.add_init_script(RECORD_VIOLATIONS)
    console: list[str] = []
    page.on('console', lambda message: console.append(message.text)
            if 'Content Security Policy' in message.text else None)
    return console


def violations(page: Page, console: list[str]) -> list[str]:
    return [*page.evaluate('window.__cspViolations || []'), *console]


def test_every_page_works_under_the_content_security_policy(page: Page, portal_url: str) -> None:
    console = watch_policy(page)
    response = page.goto(f'{portal_url}/login')
    assert response is not None
    assert response.headers['content-security-policy'] == CONTENT_SECURITY_POLICY
    assert response.headers['x-frame-options'] == 'DENY'
    assert 'server' not in response.headers

    log_in(page, portal_url, ADMIN.email, ADMIN.password)
    expect(page.get_by_text(f'Willkommen, {ADMIN.name}')).to_be_visible()
    assert violations(page, console) == []

    # the guide's flow: the table's row menu (a Vue template compiled in the browser), Infos, Code, QR code
    page.goto(f'{portal_url}/vertragsverwaltung')
    row = page.get_by_role('row').filter(has_text=VERTRAGSNUMMER)
    expect(row).to_have_count(1)
    choose_from_row_menu(page, row, 'Infos')
    expect(page.get_by_text('Firmendaten', exact=True)).to_be_visible()
    page.get_by_role('button', name='Code', exact=True).click()
    field = page.get_by_label('Gültigkeitsdatum (TT.MM.JJJJ)')
    field.click()
    field.press('Control+a')
    field.press('Backspace')
    field.press_sequentially(german(date.today() + timedelta(days=30)))
    page.get_by_role('button', name='Generieren').click()
    replace = page.get_by_role('button', name='Ersetzen')
    generated = page.get_by_text('Der Kundencode wurde generiert.')
    expect(generated.or_(replace).first).to_be_visible()
    if replace.is_visible():
        replace.click()
    expect(page.get_by_role('img', name='QR-Code mit dem Link zum Self-Service')).to_be_visible()
    assert violations(page, console) == []

    for path, heading in (
        ('/anwender', 'Anwender'), ('/protokoll', 'Protokoll'), ('/profil', 'Profil'),
    ):
        page.goto(portal_url + path)
        expect(page.get_by_role('heading', name=heading).first).to_be_visible()
        assert violations(page, console) == [], path

    page.goto(f'{portal_url}/gibt-es-nicht')
    expect(page.get_by_text('Seite nicht gefunden')).to_be_visible()
    for path, text in (('/self-service', 'Kundencode'), ('/kiosk', 'Kundencode')):
        page.goto(portal_url + path)
        expect(page.get_by_text(text).first).to_be_visible()
    assert violations(page, console) == []


def test_staff_pages_work_under_the_policy(page: Page, portal_url: str) -> None:
    console = watch_policy(page)
    log_in(page, portal_url, STAFF.email, STAFF.password)
    expect(page.get_by_text(f'Willkommen, {STAFF.name}')).to_be_visible()
    page.goto(f'{portal_url}/verwaltung')
    expect(page.get_by_role('heading', name='Verwaltung').first).to_be_visible()
    page.goto(f'{portal_url}/vertragsverwaltung')
    row = page.get_by_role('row').filter(has_text=VERTRAGSNUMMER)
    choose_from_row_menu(page, row, 'Anträge')
    expect(page.get_by_role('tab', name='Abos')).to_be_visible()
    page.get_by_role('tab', name='Abos').click()
    assert violations(page, console) == []


def websocket_handshake_status(portal_url: str, origin: str) -> int:
    """The status of a socket.io websocket upgrade sent with this Origin (a raw request: no library needed)."""
    parts = urlsplit(portal_url)
    request = (
        f'GET /_nicegui_ws/socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {parts.netloc}\r\n'
        'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
        f'Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n'
    )
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
        connection.sendall(request.encode())
        status_line = connection.recv(1024).split(b'\r\n', 1)[0].decode()
    return int(status_line.split()[1])


def test_the_websocket_accepts_only_the_portals_own_origin(portal_url: str) -> None:
    assert websocket_handshake_status(portal_url, 'http://evil.example') in (400, 403)
    assert websocket_handshake_status(portal_url, portal_url) == 101
