"""Real-browser journeys: the portal runs as its own process (`python main.py`), Debian's Chromium drives it.

The fixtures are synchronous (Playwright's sync API). They work under pytest-asyncio's auto mode because no event
loop runs during a plain `def` test. Between two sync calls, though, Playwright leaves its own loop marked as the
running loop of the main thread; an async test run while the `browser` fixture is alive would fail with
"Cannot run the event loop while another loop is running". So the browser tests are moved to the end of the run,
after every async test, and their session fixtures end with the session. Under pytest-xdist (`make test` runs
`pytest -n auto --dist loadgroup`) each file goes to one worker whole (tests/conftest.WholeFiles), the longest first,
and they are the last units of work handed out: a worker that runs them runs no async test after them, and each such
worker starts a portal of its own.

Set SCREENSHOT_DIR to keep full-page screenshots of the journeys; REQUIRE_BROWSER=1 makes a missing Chromium an error.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect, sync_playwright

from tests.smtp_server import MailCatcher
from tests.support import answers, free_port, fresh_totp_code, stop_process, totp_secret_of

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
BROWSER_DIR = Path(__file__).resolve().parent
CHROMIUM = Path('/usr/bin/chromium')
CHROMIUM_ARGS = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run',
]
STARTUP_TIMEOUT = 90.0  # a shared 2-core machine under load took 30–40 s to start the portal
SHUTDOWN_TIMEOUT = 10.0
DEFAULT_TIMEOUT_MS = 10_000
# The longest journeys, handed out first so that both workers end at about the same time (seconds in a full run at
# load ≈ 10 on the 2-core machine, 2026-11-30: the axe tests ≈ 50 states of 4–8 s, the kiosk's 32 s idle reset, …);
# the other files follow in alphabetical order.
LONGEST_FIRST = ('test_accessibility.py', 'test_kiosk_journey.py', 'test_self_service_journey.py',
                 'test_massenupload_journey.py', 'test_abrechnung_journey.py', 'test_phone_journey.py')
DESKTOP: ViewportSize = {'width': 1366, 'height': 900}
MOBILE: ViewportSize = {'width': 390, 'height': 844}
# Set by pytest or by NiceGUI's test plugins in this process; in the server they would switch NiceGUI to test mode
# (is_pytest() takes the port from NICEGUI_SCREEN_TEST_PORT) or make it ignore host and port.
TEST_ONLY_VARIABLES = (
    'PYTEST_CURRENT_TEST', 'PYTEST_VERSION', 'NICEGUI_USER_SIMULATION', 'NICEGUI_SCREEN_TEST_PORT', 'NICEGUI_HOST',
    'NICEGUI_PORT', 'NICEGUI_PROTOCOL',
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test under tests/browser `browser` and run them after all others (see the module docstring)."""
    browser_items: list[pytest.Item] = []
    other_items: list[pytest.Item] = []
    for item in items:
        if BROWSER_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)
            browser_items.append(item)
        else:
            other_items.append(item)

    def rank(item: pytest.Item) -> tuple[int, str]:
        name = item.path.name
        return (LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST), name)

    items[:] = other_items + sorted(browser_items, key=rank)  # stable: a file's tests keep their order




def _log_tail(path: Path, lines: int = 40) -> str:
    try:
        return '\n'.join(path.read_text(encoding='utf-8', errors='replace').splitlines()[-lines:])
    except OSError:
        return '(kein Log)'






@pytest.fixture(scope='session')
def portal_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The portal process's directory: its SQLite file `browser.db` (for a journey that must set up what no page can,
    such as weeks passing), its log and its session storage."""
    return tmp_path_factory.mktemp('browser')


@pytest.fixture(scope='session')
def mail_server() -> Iterator[MailCatcher]:
    """The real local SMTP server (aiosmtpd) the portal process delivers its mails to; journeys read them here."""
    server = MailCatcher().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope='session')
def portal_url(portal_directory: Path, mail_server: MailCatcher, sqlite_template: Path) -> Iterator[str]:
    """The base URL of a real portal process on a free port, with a fresh SQLite file holding the demo data, mailing
    to `mail_server`. The file starts as a copy of the run's migrated template (migrating anew took 10–25 s)."""
    directory = portal_directory
    shutil.copy(sqlite_template, directory / 'browser.db')
    port = free_port()
    log_path = directory / 'server.log'
    env = {name: value for name, value in os.environ.items() if name not in TEST_ONLY_VARIABLES}
    env.update(
        HOST='127.0.0.1', PORT=str(port), DATABASE_URL=f'sqlite://{directory / "browser.db"}', DEMO_DATA='1',
        STORAGE_SECRET='browser-tests', ARGON2_TIME_COST='1', ARGON2_MEMORY_KIB='8192',
        # the kiosk test waits for a reset (12 s + the 20 s countdown); at 4 s the countdown's modal came up while the
        # axe tests of the kiosk were still clicking on a loaded machine ("element is inert")
        KIOSK_IDLE_SECONDS='12',
        NICEGUI_STORAGE_PATH=str(directory / 'nicegui'),  # keep the session storage out of the project
        PYTHONUNBUFFERED='1', SMTP_HOST='127.0.0.1', SMTP_PORT=str(mail_server.port), SMTP_SECURITY='none',
    )
    url = f'http://127.0.0.1:{port}'
    with log_path.open('wb') as log:
        process = subprocess.Popen(
            [sys.executable, 'main.py'], cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not answers(f'{url}/login'):
            if process.poll() is not None:
                pytest.fail(
                    f'Portal ended during start (exit code {process.returncode}); log {log_path}:\n'
                    f'{_log_tail(log_path)}', pytrace=False,
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f'Portal did not answer {url}/login within {STARTUP_TIMEOUT:.0f} s; log {log_path}:\n'
                    f'{_log_tail(log_path)}', pytrace=False,
                )
            time.sleep(0.2)
        yield url
    finally:
        stop_process(process, SHUTDOWN_TIMEOUT)


@pytest.fixture(scope='session')
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        reason = f'{CHROMIUM} not found (apt-get install chromium); the browser tests need it'
        if os.environ.get('REQUIRE_BROWSER') == '1':
            pytest.fail(f'{reason}; REQUIRE_BROWSER=1 makes this an error', pytrace=False)
        pytest.skip(f'{reason}; set REQUIRE_BROWSER=1 to make this an error')
    expect.set_options(timeout=DEFAULT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP, locale='de-DE')
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def submit_login(page: Page, email: str, password: str) -> None:
    """Fill and send the login form on the page that is open; a demo login with a second factor (staff) then gets
    a fresh code from its demo key."""
    page.get_by_label('E-Mail-Adresse', exact=True).fill(email)
    page.get_by_label('Passwort', exact=True).fill(password)
    page.get_by_role('button', name='Anmelden', exact=True).click()
    if secret := totp_secret_of(email):
        field = page.get_by_label('Bestätigungscode')
        field.fill(fresh_totp_code(secret))
        page.get_by_role('button', name='Bestätigen', exact=True).click()


def log_in(page: Page, portal_url: str, email: str, password: str, path: str = '/login') -> None:
    """Open `path` (a logged-in page sends the browser to the login first) and log in through the form."""
    page.goto(portal_url + path)
    submit_login(page, email, password)


def open_mailed_link(page: Page, mail_server: MailCatcher, email: str, path: str, count: int = 1) -> None:
    """Wait for the `count`-th mail to `email` (the portal's worker delivers it) and open its link to `path`."""
    from tests.smtp_server import text_of
    from tests.support import link_token

    message = mail_server.wait_for(email, count)[count - 1]
    base = page.url.split('/', 3)[:3]
    page.goto('/'.join(base) + path + link_token(text_of(message), path))


def screenshot(page: Page, name: str) -> None:
    """A full-page PNG `<name>.png` in SCREENSHOT_DIR; nothing when that is not set."""
    directory = os.environ.get('SCREENSHOT_DIR')
    if not directory:
        return
    Path(directory).mkdir(parents=True, exist_ok=True)
    page.evaluate('document.fonts.ready.then(() => true)')  # Roboto and the Material icons, not their fallbacks
    page.screenshot(path=str(Path(directory) / f'{name}.png'), full_page=True, animations='disabled')


def open_row_menu(page: Page, row: Locator) -> Locator:
    """The row's drop-down ('Aktionen für …'), open."""
    row.get_by_role('button', name=re.compile(r'^Aktionen für')).click()
    menu = page.locator('.q-menu')
    expect(menu).to_be_visible()
    return menu


def search_table(page: Page, label: str, text: str) -> None:
    """Type into a table's search and wait until the table shows matching rows only: the search reaches the server
    after a pause (debounce) and the answer draws the rows anew, taking a row menu opened before it along."""
    page.get_by_label(label).fill(text)
    expect(page.locator('.server-table tbody tr:visible').filter(has_not_text=text)).to_have_count(0)
    expect(page.locator('.server-table tbody tr:visible').filter(has_text=text).first).to_be_visible()


def choose_from_row_menu(page: Page, row: Locator, item: str) -> None:
    """Open the row's menu and choose `item`. (It once needed retries: the page drew its table cells again after
    connecting and an open menu went with them; test_guide_journey's redraw test keeps that fixed.)"""
    open_row_menu(page, row).get_by_text(item, exact=True).click()
