"""Issue 11, headers and transport, error pages and input out of range, through NiceGUI's simulated user (which
talks to the real ASGI app, middleware included):

- every HTTP response carries the security headers (pages, static files, redirects, 404, socket.io polling);
- socket.io refuses a foreign Origin and answers the portal's own;
- a 404 is German, a 500 is German and shows no exception text;
- an id beyond the database's integers in a URL is "nicht gefunden", a "Bis" of 31.12.9999 a field message.
"""

from __future__ import annotations

import pytest
from nicegui import ui
from nicegui.testing import User

from models import Role
from pages import errors
from pages.security_headers import CONTENT_SECURITY_POLICY
from tests.pages.conftest import log_in, only
from tests.support import wait_until

SOCKET_POLLING = '/_nicegui_ws/socket.io/?EIO=4&transport=polling'
EXPECTED_HEADERS = {
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
}


def take_error_logs(caplog: pytest.LogCaptureFixture, text: str) -> None:
    """The test expects these ERROR records (the user fixture fails on any left over)."""
    assert any(text in record.getMessage() for record in caplog.get_records('call') if record.levelname == 'ERROR')
    caplog.clear()


@pytest.mark.parametrize(
    'path',
    ['/login', '/', '/vertragsverwaltung', '/gibt-es-nicht', '/favicon.ico', '/self-service', SOCKET_POLLING],
)
async def test_every_response_carries_the_security_headers(user: User, path: str) -> None:
    response = await user.http_client.get(path)
    for name, value in EXPECTED_HEADERS.items():
        assert response.headers.get(name) == value, (path, name)
    assert 'camera=()' in response.headers['permissions-policy']
    assert 'geolocation=()' in response.headers['permissions-policy']
    assert "frame-ancestors 'none'" in response.headers['content-security-policy']
    assert 'strict-transport-security' not in response.headers  # PUBLIC_URL is not https here
    assert 'server' not in response.headers


async def test_static_files_carry_the_headers_too(user: User) -> None:
    page = await user.http_client.get('/login')
    static = next(part.split('"')[0] for part in page.text.split('src="')[1:] if '/_nicegui/' in part)
    response = await user.http_client.get(static)
    assert response.status_code == 200
    assert response.headers['x-content-type-options'] == 'nosniff'


async def test_hsts_only_when_the_public_address_is_https(
    monkeypatch: pytest.MonkeyPatch, user: User
) -> None:
    from pages.security_headers import security_headers
    from services.settings import get_settings, reset_settings

    monkeypatch.setenv('PUBLIC_URL', 'https://portal.example.de')
    reset_settings()
    assert security_headers(get_settings())['Strict-Transport-Security'].startswith('max-age=31536000')
    monkeypatch.setenv('PUBLIC_URL', 'http://portal.example.de')
    reset_settings()
    assert 'Strict-Transport-Security' not in security_headers(get_settings())


@pytest.mark.parametrize('origin', ['http://evil.example', 'null', 'http://test.evil.example', 'https://test'])
async def test_socket_io_refuses_a_foreign_origin(user: User, origin: str, caplog: pytest.LogCaptureFixture) -> None:
    response = await user.http_client.get(SOCKET_POLLING, headers={'Origin': origin})
    assert response.status_code == 400
    assert 'access-control-allow-origin' not in response.headers
    if caplog.get_records('call'):  # engineio logs the first refusal of a process as an error, later ones as info
        take_error_logs(caplog, 'not an accepted origin')


async def test_socket_io_answers_the_portals_own_origin(user: User) -> None:
    response = await user.http_client.get(SOCKET_POLLING, headers={'Origin': 'http://test'})
    assert response.status_code == 200
    assert response.headers['access-control-allow-origin'] == 'http://test'


async def test_a_missing_page_is_german(user: User) -> None:
    response = await user.http_client.get('/gibt-es-nicht')
    assert response.status_code == 404
    assert errors.NOT_FOUND_TITLE in response.text
    assert "doesn't exist" not in response.text


async def test_a_failing_page_shows_a_german_message_without_the_exception(
    user: User, caplog: pytest.LogCaptureFixture
) -> None:
    @ui.page('/kaputt')
    def broken() -> None:
        raise RuntimeError('geheime Einzelheit aus der Datenbank')

    @ui.page('/kaputt-async')
    async def broken_async() -> None:
        raise RuntimeError('geheime Einzelheit aus der Datenbank')

    for path in ('/kaputt', '/kaputt-async'):
        response = await user.http_client.get(path)
        assert response.status_code == 500
        assert errors.SERVER_ERROR_TITLE in response.text
        assert 'geheime Einzelheit' not in response.text
        assert 'RuntimeError' not in response.text
        assert response.headers['x-frame-options'] == 'DENY'
    take_error_logs(caplog, 'geheime Einzelheit')  # the log keeps the cause


@pytest.mark.both_databases  # PostgreSQL's integer is 4 bytes, SQLite's 8: both must say "nicht gefunden"
@pytest.mark.parametrize('contract_id', ['9223372036854775808', '99999999999', '2147483648', '-1', '1e3', '0'])
@pytest.mark.parametrize('page', ['antraege', 'massenupload'])
async def test_an_id_out_of_range_in_the_url_is_not_found(user: User, contract_id: str, page: str) -> None:
    await log_in(user, Role.ADMIN)
    await user.should_see('Willkommen', retries=50)  # the dashboard after the login's click
    await user.open(f'/vertragsverwaltung/{contract_id}/{page}')
    await user.should_see('Der Vertrag wurde nicht gefunden.')


@pytest.mark.both_databases
async def test_a_bis_of_31_12_9999_is_a_field_message(user: User) -> None:
    await log_in(user, Role.ADMIN)
    await user.should_see('Willkommen', retries=50)  # the dashboard after the login's click
    await user.open('/protokoll')
    user.find('Bis').type('31.12.9999')
    user.find('Filtern').click()
    until = only(user.find('Bis'), ui.input)
    await wait_until(lambda: until.error, 'the field message', seconds=10)  # the click's handler runs as a task
    assert until.error == 'Bitte ein Datum im Format TT.MM.JJJJ.'
