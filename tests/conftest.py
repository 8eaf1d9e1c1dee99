"""Shared fixtures. Service tests take `db`, which runs each test on SQLite and on PostgreSQL.

Both databases get their schema from the project's migrations once per test session; each test then starts from
empty tables (a fresh copy of the migrated SQLite file, a DELETE of every table's rows on PostgreSQL).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import fcntl
import os
import shutil
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from datetime import date
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import asyncpg
import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.connection import connections
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate
from tortoise.queryset import ValuesListQuery
from xdist.scheduler import LoadScopeScheduling

from models import Contract, Customer, PortalUser, Produktangebot, Role
from services import anwender, passwords, tarife
from services.database import tortoise_config
from services.settings import reset_settings
from tests.smtp_server import MailCatcher

# Cheap hashing and no demo data unless a test asks: set before any settings are read.
# No job scheduler in the portal processes the tests start: tests run jobs themselves (jobs.run_due, `main.py job`).
os.environ.update(ARGON2_TIME_COST='1', ARGON2_MEMORY_KIB='8192', DEMO_DATA='0', STORAGE_SECRET='test-secret', JOBS='0')

POSTGRES_ADMIN_URL = os.environ.get('TEST_POSTGRES_ADMIN_URL', 'postgresql://postgres@127.0.0.1:5432/postgres')
POSTGRES_DB = f'test_portal_{os.getpid()}'


def postgres_url_of(database: str) -> str:
    """Tortoise's URL of a database on the test server."""
    return POSTGRES_ADMIN_URL.rsplit('/', 1)[0].replace('postgresql://', 'postgres://') + '/' + database


POSTGRES_URL = postgres_url_of(POSTGRES_DB)
REQUIRE_POSTGRES = os.environ.get('REQUIRE_POSTGRES') == '1'
T = TypeVar('T')
# xdist workers are children of the run's controller: one migrated template per run, named after the controller.
RUN_ID = os.getppid() if 'PYTEST_XDIST_WORKER' in os.environ else os.getpid()
POSTGRES_TEMPLATE = f'test_portal_template_{RUN_ID}'


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` for the session fixtures, in a thread of its own: the first test to ask for a template may be a
    browser test, inside the event loop of Playwright's sync API."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _migrate_once(url: str) -> None:
    ctx = TortoiseContext()
    async with ctx:
        await migrate(config=tortoise_config(url))


@contextlib.contextmanager
def run_lock(root: Path, name: str) -> Iterator[None]:
    """Held by one worker of the run at a time: the first builds what the others then find ready."""
    with (root / f'{name}.lock').open('w') as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The directory all workers of this run share (xdist gives each worker a base directory below it)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if 'PYTEST_XDIST_WORKER' in os.environ else base


@pytest.fixture(scope='session')
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The migrated SQLite file every SQLite test copies. Migrating is CPU-bound in Tortoise's state machinery (10–25 s
    for the 15 migrations on this 2-core machine), so the run's first worker builds it and the others wait for it."""
    root = run_directory(tmp_path_factory)
    path = root / 'template.db'
    with run_lock(root, 'template.db'):
        if not path.exists():
            building = root / 'template.db.building'
            run_sync(_migrate_once(f'sqlite://{building}'))
            building.rename(path)
    return path


async def postgres_admin(sql: str) -> None:
    """One statement on the test server's maintenance database (CREATE/DROP DATABASE)."""
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _postgres_template_exists() -> bool:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        return bool(await connection.fetchval('SELECT 1 FROM pg_database WHERE datname = $1', POSTGRES_TEMPLATE))
    finally:
        await connection.close()


@pytest.fixture(scope='session')
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """This worker's PostgreSQL database, a copy (CREATE DATABASE … TEMPLATE) of the run's migrated template, which
    the first worker builds; the controller drops the template at the end (pytest_sessionfinish)."""
    try:
        run_sync(postgres_admin(f'DROP DATABASE IF EXISTS {POSTGRES_DB}'))
    except (OSError, asyncpg.PostgresError) as error:
        if REQUIRE_POSTGRES:
            raise
        pytest.skip(f'PostgreSQL not reachable ({error}); set REQUIRE_POSTGRES=1 to make this an error')
    root = run_directory(tmp_path_factory)
    with run_lock(root, 'postgres-template'):
        if not run_sync(_postgres_template_exists()):
            building = f'{POSTGRES_TEMPLATE}_building'
            run_sync(postgres_admin(f'DROP DATABASE IF EXISTS {building}'))
            run_sync(postgres_admin(f'CREATE DATABASE {building}'))
            run_sync(_migrate_once(postgres_url_of(building)))
            run_sync(postgres_admin(f'ALTER DATABASE {building} RENAME TO {POSTGRES_TEMPLATE}'))
        run_sync(postgres_admin(f'CREATE DATABASE {POSTGRES_DB} TEMPLATE {POSTGRES_TEMPLATE}'))
    yield POSTGRES_URL
    run_sync(postgres_admin(f'DROP DATABASE IF EXISTS {POSTGRES_DB} WITH (FORCE)'))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The controller (or a run without xdist) drops the run's PostgreSQL template, if a test built one."""
    if 'PYTEST_XDIST_WORKER' in os.environ:
        return
    with contextlib.suppress(OSError, asyncpg.PostgresError):
        run_sync(postgres_admin(f'DROP DATABASE IF EXISTS {POSTGRES_TEMPLATE} WITH (FORCE)'))


# Files whose tests share set-up of their module: each goes to one xdist worker whole (see WholeFiles).
WHOLE_FILES = ('tests/browser/', 'tests/pages/test_pages_at_scale.py')


class WholeFiles(LoadScopeScheduling):
    """The run's plan for `--dist loadgroup`: every test is a unit of work of its own, handed out in the order of
    collection, except the files of WHOLE_FILES: a browser journey's tests share the module's logins and pages, the
    scale tests their filled databases (13–30 s to build each). tests/browser/conftest.py puts the journeys last.
    xdist's own loadgroup groups by `xdist_group` marks through the node id, which pytest 9.2 no longer lets a plugin
    change: the marks silently stopped grouping (pytest-xdist issue 1386), the browser tests went out one by one and
    both workers built the module fixtures."""

    def _split_scope(self, nodeid: str) -> str:
        path = nodeid.split('::', 1)[0]
        return path if path.startswith(WHOLE_FILES) else nodeid


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LoadScopeScheduling | None:
    """WholeFiles for `--dist loadgroup`. The order of collection is the plan, so xdist must not sort the units by
    their number of tests (it would hand out the browser files first)."""
    if config.getvalue('dist') != 'loadgroup':
        return None
    config.option.loadscopereorder = False
    return WholeFiles(config, log)


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    reset_settings()
    passwords.reset_hasher()
    tarife.forget()  # the tariffs last read belong to the previous test's database
    yield
    reset_settings()
    passwords.reset_hasher()
    tarife.forget()


@pytest.fixture(params=['sqlite', 'postgres'])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each backend (sync, so the session fixtures run outside the test's loop)."""
    if request.param == 'sqlite':
        path = tmp_path / 'test.db'
        shutil.copy(request.getfixturevalue('sqlite_template'), path)
        return f'sqlite://{path}'
    return request.getfixturevalue('postgres_url')


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[str]:
    """An initialised, empty database; the value is the backend's name."""
    backend = 'sqlite' if database_url.startswith('sqlite') else 'postgres'
    EXECUTOR_CACHE.clear()  # Tortoise caches SQL per connection name, across backends
    ctx = TortoiseContext()
    async with ctx:
        await ctx.init(config=tortoise_config(database_url))
        if backend == 'postgres':
            await connections.get('default').execute_script(EMPTY_POSTGRES)
        yield backend


# Every table of the worker's PostgreSQL database emptied, the record of applied migrations kept, in one statement: the
# service tests run it through Tortoise, the page tests through asyncpg before main.py starts (no models loaded yet,
# so the tables come from the catalogue). DELETE with the foreign-key triggers off for the statement (the test
# server's superuser may set session_replication_role), so their order does not matter. Not TRUNCATE (tortoise's
# truncate_all_models): PostgreSQL gives each truncated table new files, 0.8–1.2 s a test for the 20 tables against
# 5 ms for the DELETEs (measured on this 2-core machine under load, 2026-11-30). Sequences go on counting either way.
EMPTY_POSTGRES = """DO $$ DECLARE name text; BEGIN
    PERFORM set_config('session_replication_role', 'replica', true);
    FOR name IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'tortoise_migrations'
    LOOP EXECUTE format('DELETE FROM %I', name); END LOOP;
END $$"""


PASSWORD = 'Fulda-Ufer-im-Herbst-7'


def order_value(row: object, column: str) -> object:
    """What a table orders `row` by in `column`: the German sort key for names (the model's SORT_KEYS, DIN 5007
    variant 1), the value itself for every other column."""
    from models.searchable import sort_key

    value = getattr(row, column)
    return sort_key(str(value)) if column in getattr(row, 'SORT_KEYS', {}) else value


def not_none(value: T | None) -> T:
    """`value`, which the test relies on being there (an assertion, and the type without None for mypy)."""
    assert value is not None
    return value


async def flat(values: ValuesListQuery[Literal[False]]) -> list[Any]:
    """What `values_list(column, flat=True)` gives: a list of values. Tortoise types every values_list result as a
    list of tuples, whatever `flat` says (tortoise-orm 1.1.9)."""
    return cast(list[Any], await values)


@pytest.fixture
async def company(db: str) -> Customer:
    from services.kunden import create_customer

    return await create_customer(
        kundennummer='100234', name='Fahrradmanufaktur Kassel GmbH', strasse='Wilhelmshöher Allee 273',
        plz='34131', ort='Kassel', ansprechpartner='Anna Dietrich', email='personal@fahrradmanufaktur-kassel.de',
    )


@pytest.fixture
async def other_company(db: str) -> Customer:
    from services.kunden import create_customer

    return await create_customer(
        kundennummer='200418', name='Kaufunger Holzbau GmbH', strasse='Leipziger Straße 180', plz='34260',
        ort='Kaufungen',
    )


async def make_user(
    email: str, role: Role, customer: Customer | None = None, name: str = 'Anna Dietrich'
) -> PortalUser:

    return await anwender.create_user(email=email, name=name, role=role, password=PASSWORD, customer=customer)


@pytest.fixture
async def admin(company: Customer) -> PortalUser:
    return await make_user('admin@fahrradmanufaktur-kassel.de', Role.ADMIN, company)


@pytest.fixture
async def staff(db: str) -> PortalUser:
    return await make_user('kundenservice@verkehrsbetrieb.de', Role.STAFF, None, name='Sabine Krüger')


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[MailCatcher]:
    """A real local SMTP server (aiosmtpd), and the settings pointing the outbox worker at it."""
    server = MailCatcher().start()
    monkeypatch.setenv('SMTP_HOST', '127.0.0.1')
    monkeypatch.setenv('SMTP_PORT', str(server.port))
    monkeypatch.setenv('SMTP_SECURITY', 'none')
    monkeypatch.setenv('SMTP_FROM', 'portal@verkehrsbetrieb.de')
    reset_settings()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def clerk(company: Customer) -> PortalUser:
    return await make_user('sachbearbeitung@fahrradmanufaktur-kassel.de', Role.CLERK, company, name='Jonas Weber')


@pytest.fixture
async def reader(company: Customer) -> PortalUser:
    return await make_user('lesen@fahrradmanufaktur-kassel.de', Role.READONLY, company, name='Lukas Brandt')


@pytest.fixture
async def other_admin(other_company: Customer) -> PortalUser:
    return await make_user('admin@kaufunger-holzbau.de', Role.ADMIN, other_company, name='Martin Lange')


async def new_contract(customer: Customer, number: str = 'V-2026-0001', **changes: Any) -> Contract:
    """A Rechnung contract since 1 January 2025 with a 15,75 € subsidy; `changes` sets any other field."""
    from services.vertraege import create_contract

    return await create_contract(**{
        'customer': customer, 'vertragsnummer': number, 'produktangebot': Produktangebot.RECHNUNG,
        'beginn': date(2025, 1, 1), 'arbeitgeberzuschuss_cent': 1575, **changes,
    })


@pytest.fixture
async def contract(company: Customer) -> Contract:
    return await new_contract(company)


@pytest.fixture
def set_today(monkeypatch: pytest.MonkeyPatch) -> Callable[[date], None]:
    """Moves the portal's 'today' (services call clock.today(), so patching the module attribute moves them all)."""

    def move_to(day: date) -> None:
        monkeypatch.setattr('services.clock.today', lambda: day)

    return move_to


@pytest.fixture(autouse=True)
def today_of_the_mark(request: pytest.FixtureRequest) -> None:
    """`pytestmark = pytest.mark.today(day)`: every test of the module starts on `day` (and may move on)."""
    if (mark := request.node.get_closest_marker('today')) is not None:
        request.getfixturevalue('set_today')(mark.args[0])
