"""Simulated-UI tests (NiceGUI's `user` fixture) run main.py against a fresh database with the demo data: a SQLite
file, and for the modules marked `both_databases` also PostgreSQL."""

import shutil
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from nicegui import ui
from nicegui.testing import User, UserInteraction
from tortoise.backends.base.executor import EXECUTOR_CACHE

from services.demo_data import DEMO_LOGINS, DemoLogin
from services.settings import reset_settings
from tests.conftest import EMPTY_POSTGRES, run_sync
from tests.support import forget_totp_codes, fresh_totp_code, wait_until

PATIENT_RETRIES = 50  # 5 s, as long as tests.support.wait_until

E = TypeVar('E', bound=ui.element)


def only(found: UserInteraction[Any], kind: type[E]) -> E:
    """The one element `user.find(...)` found, as the kind it is: NiceGUI types a search by text or marker as
    `ui.element`, so mypy would not know a label's `text` or a table's `rows` without this check."""
    (element,) = found.elements
    assert isinstance(element, kind), element
    return element


@pytest.fixture(autouse=True)
def patient_should_see(monkeypatch: pytest.MonkeyPatch) -> None:
    """NiceGUI's `should_see`/`should_not_see` look 3 times, 0.1 s apart, unless told otherwise: a login (argon2 and
    the next page) on the busy 2-core machine takes longer, and 19 of 218 page tests failed so in a run of two xdist
    workers at load 17. Both return at the first look that holds, so a longer limit only waits for a late page."""
    for name in ('should_see', 'should_not_see'):
        original = getattr(User, name)

        async def patient(self: User, *args: Any, retries: int = PATIENT_RETRIES, _original: Any = original,
                          **kwargs: Any) -> None:
            await _original(self, *args, retries=retries, **kwargs)

        monkeypatch.setattr(User, name, patient)


@pytest.fixture(autouse=True)
def codes_of_a_fresh_database() -> None:
    """Each page test runs on a fresh copy of the database, which has accepted no TOTP step yet (without this, the
    third staff login within 30 s would wait for the next step)."""
    forget_totp_codes()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A module marked `both_databases` runs each of its page tests on SQLite and on PostgreSQL."""
    if metafunc.definition.get_closest_marker('both_databases'):
        metafunc.parametrize('page_backend', ['sqlite', 'postgres'])


@pytest.fixture
def page_backend() -> str:
    """The page tests' database: SQLite, unless the module is marked `both_databases`."""
    return 'sqlite'


async def _empty_postgres(url: str) -> None:
    """The worker's migrated PostgreSQL database emptied (tests/conftest.EMPTY_POSTGRES), so main.py loads the demo
    data on it as on a new database."""
    connection = await asyncpg.connect(url.replace('postgres://', 'postgresql://', 1))
    try:
        await connection.execute(EMPTY_POSTGRES)
    finally:
        await connection.close()


@pytest.fixture(autouse=True)
def portal_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_template: Path, page_backend: str,
                    request: pytest.FixtureRequest) -> Path:
    """A fresh database with nothing but the migrations, which main.py fills with the demo data when it starts:
    a copy of the run's SQLite template, or the worker's PostgreSQL database emptied. The SQLite file's path (also
    for a PostgreSQL test, where it stays unused)."""
    path = tmp_path / 'portal.db'
    EXECUTOR_CACHE.clear()  # Tortoise caches SQL per connection name, across backends
    if page_backend == 'postgres':
        url = request.getfixturevalue('postgres_url')
        run_sync(_empty_postgres(url))
        monkeypatch.setenv('DATABASE_URL', url)
    else:
        shutil.copy(sqlite_template, path)
        monkeypatch.setenv('DATABASE_URL', f'sqlite://{path}')
    monkeypatch.setenv('DEMO_DATA', '1')
    reset_settings()
    return path


def demo_login(role: str) -> DemoLogin:
    return next(login for login in DEMO_LOGINS if login.role == role)


def arrived_after_login(user: User) -> bool:
    """The login hands the session over at /anmeldung/abschluss (pages/session_cookie.py) and lands on the target."""
    return bool(user.back_history) and user.back_history[-1].startswith('/anmeldung/abschluss')


async def log_in(user: User, role: str = 'admin', target: str = '/login') -> None:
    login = demo_login(role)
    await user.open(target)
    user.find('E-Mail-Adresse').type(login.email)
    user.find(kind=ui.input, content='Passwort').type(login.password)
    user.find('Anmelden').click()
    if login.totp_secret:  # staff: the second factor (the demo key is enrolled with the demo data)
        await user.should_see('Bestätigungscode')
        user.find('Bestätigungscode').type(fresh_totp_code(login.totp_secret))
        user.find('Bestätigen').click()
    await wait_until(lambda: arrived_after_login(user), 'the page after the login')
