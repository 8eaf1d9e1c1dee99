"""Every staff page answers at more than 40,000 contracts, on PostgreSQL (where a query takes at most 32,767
parameters: the start page once failed with HTTP 500 above that) and on SQLite.

The database is prepared before the app starts: migrations, the demo data (the logins), then the rows of
tests/scale_data.py in one SQL script (seconds). The staff member logs in with the second factor and opens every
page of the sidebar and of a contract through NiceGUI's simulated user; each must show its heading.
(tests/services/test_page_bounds.py checks that the same pages read rows bounded by what they show.)
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from nicegui import ui
from nicegui.testing import User
from tortoise.backends.base.executor import EXECUTOR_CACHE

from models import Contract, Role
from services import clock
from services.settings import reset_settings
from tests.conftest import POSTGRES_TEMPLATE, postgres_admin, postgres_url_of
from tests.pages.conftest import log_in, only
from tests.pages.test_vertragsverwaltung_page import open_infos
from tests.scale_data import prepare_portal_database

CONTRACTS = 41_000
CUSTOMERS = 4_000
DEMO_CONTRACT = 'DJ-2024-0117'


@pytest.fixture(scope='module', params=['sqlite', 'postgres'])
def filled_database(request: pytest.FixtureRequest, sqlite_template: Path,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The filled database of one backend, built once for this module's tests (the PostgreSQL fill took 90–130 s a
    test on the loaded 2-core machine): a SQLite file, or a PostgreSQL database made from the run's migrated
    template. Each test gets a copy of it (`scale_database`)."""
    if request.param == 'sqlite':
        path = tmp_path_factory.mktemp('scale') / 'filled.db'
        shutil.copy(sqlite_template, path)
        asyncio.run(prepare_portal_database(f'sqlite://{path}', CONTRACTS, CUSTOMERS, clock.today()))
        yield str(path)
        return
    request.getfixturevalue('postgres_url')  # the run's template exists (or PostgreSQL is skipped)
    name = f'test_scale_{os.getpid()}'
    asyncio.run(postgres_admin(f'DROP DATABASE IF EXISTS {name}'))
    asyncio.run(postgres_admin(f'CREATE DATABASE {name} TEMPLATE {POSTGRES_TEMPLATE}'))
    try:
        asyncio.run(prepare_portal_database(postgres_url_of(name), CONTRACTS, CUSTOMERS, clock.today()))
        yield name
    finally:
        asyncio.run(postgres_admin(f'DROP DATABASE IF EXISTS {name} WITH (FORCE)'))


@pytest.fixture
def scale_database(filled_database: str, portal_database: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """This test's copy of the filled database, which main.py starts on (it replaces conftest's portal_database)."""
    if filled_database.endswith('.db'):
        shutil.copy(filled_database, portal_database)
        url = f'sqlite://{portal_database}'
        monkeypatch.setenv('DATABASE_URL', url)
        reset_settings()
        yield url
        return
    name = f'{filled_database}_test'
    asyncio.run(postgres_admin(f'DROP DATABASE IF EXISTS {name}'))
    asyncio.run(postgres_admin(f'CREATE DATABASE {name} TEMPLATE {filled_database}'))
    try:
        monkeypatch.setenv('DATABASE_URL', postgres_url_of(name))
        reset_settings()
        yield postgres_url_of(name)
    finally:
        asyncio.run(postgres_admin(f'DROP DATABASE IF EXISTS {name} WITH (FORCE)'))
        EXECUTOR_CACHE.clear()


async def test_every_staff_page_answers_at_scale(scale_database: str, user: User) -> None:
    assert await Contract.all().count() > 40_000
    contract = await Contract.get(vertragsnummer=DEMO_CONTRACT)
    await log_in(user, Role.STAFF)
    await user.should_see('Willkommen, Sabine Krüger')
    warnings = only(user.find(marker='code-warnings'), ui.table)  # 20 of many thousands, and how many more
    assert len(warnings.rows) == 20
    assert any('Kundencode läuft am' in row['hinweis'] for row in warnings.rows)
    await user.should_see('weitere Verträge ohne gültigen oder mit bald ablaufendem Kundencode')

    await user.open('/vertragsverwaltung')
    await user.should_see('Alle Kunden des Verkehrsunternehmens')
    await open_infos(user, DEMO_CONTRACT)
    await user.should_see('Kundennummer')

    pages = {
        f'/vertragsverwaltung/{contract.id}/antraege': f'Anträge und Abos – Vertrag {DEMO_CONTRACT}',
        f'/vertragsverwaltung/{contract.id}/massenupload': f'Massenupload – Vertrag {DEMO_CONTRACT}',
        '/anwender': 'Anwender eines Kunden verwalten',
        '/anwender?kundennummer=S1': 'Masse 1 GmbH',
        '/protokoll': 'alle Ereignisse aller Kunden',
        '/verwaltung': 'Kunden anlegen und Verträge pflegen',
        '/profil': 'Profil',
        '/tarife': 'Tarifstufen',
        '/': 'Willkommen, Sabine Krüger',
    }
    for path, heading in pages.items():
        await user.open(path)
        await user.should_see(heading)


async def test_the_month_overview_answers_at_scale(scale_database: str, user: User) -> None:
    """Abrechnung's staff views: the month overview across every customer (one page of contracts, the totals from
    grouped queries) and one contract's statement. With every Abo computed in Python they answered HTTP 500 after
    NiceGUI's 3 s response timeout here."""
    contract = await Contract.get(vertragsnummer=DEMO_CONTRACT)
    await log_in(user, Role.STAFF)
    await user.should_see('Willkommen, Sabine Krüger')
    await user.open(f'/abrechnung?vertrag={contract.id}')
    await user.should_see(f'{DEMO_CONTRACT} · ')
    await user.should_see('angezeigt 1 bis 50 von', retries=1)
    await user.open('/abrechnung')
    await user.should_see('Monatsübersicht')
    await user.should_see('angezeigt 1 bis 50 von mehr als 10.000 Einträge', retries=1)
