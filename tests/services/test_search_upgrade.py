"""Rows written at each earlier migration, by raw SQL valid at that schema, upgraded to the newest migration: the
portal's search finds every one (issue 13). Without migration 0016 the Anträge and Abos written before 0003 were
found by no search word (0003 added search_text empty and filled nothing), nor was any row whose keys were empty.

One database per backend walks the migrations: at each one it gets a set of representative rows (customer,
portal_user, contract from 0001; antrag and abo from 0002), tagged with the migration's number, then moves on to
the next. So the rows of 0001 go through every later migration, those of 0015 through the fill and what follows
it, as a database created at that migration would. (A fresh database per migration cost ≈20 s each on SQLite on the
2-core machine, 15 × 2 backends; this walk is one migration run per backend.) A table's columns are read from the
database, so the INSERT names exactly the columns that schema has. The key columns (search_text, *_sort) are left to
their default, or '' where the column has none: the rows of a database whose keys were never filled.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.connection import get_connection
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate
from tortoise.migrations.recorder import MigrationRecorder

from models import Abo, Antrag, Contract, PortalUser
from models.searchable import sort_key
from services import abos, antraege, anwender, database, vertraege
from services.table_query import TablePage, TableRequest
from tests.conftest import POSTGRES_URL, REQUIRE_POSTGRES, postgres_admin, postgres_url_of

MIGRATIONS = sorted(database.migration_files())
# Rows whose keys were never filled are written before 0016 fills them; after it the models fill their own keys.
BEFORE_FILL = MIGRATIONS[:MIGRATIONS.index('0016_search_fill')]
CREATED = datetime(2024, 3, 4, 9, 30, tzinfo=UTC)
KEY_COLUMNS = {'search_text', 'firma_sort', 'strasse_sort', 'ort_sort', 'nachname_sort', 'name_sort'}
STAFF_EMAIL = 'kundenservice@verkehrsbetrieb.example'


def rows_of(tag: str) -> dict[str, dict[str, Any]]:
    """One row of each table, its names carrying `tag` (e.g. 'n0003'): every column any schema version has, with a
    value valid in each; the foreign keys are filled in as the rows go in."""
    return {
        'customer': {
            'kundennummer': f'7{tag[1:]}', 'name': f'Fuldataler Brückenbau {tag} GmbH', 'strasse': 'Weserstraße 5',
            'plz': '34125', 'ort': 'Kassel', 'ansprechpartner': '', 'email': '', 'telefon': '', 'created_at': CREATED,
        },
        'portal_user': {
            'email': f'doerte.{tag}@brueckenbau.example', 'password_hash': 'kein-hash',
            'name': f'Dörte Ölschläger-{tag}', 'role': 'admin', 'is_active': True, 'password_changed_at': CREATED,
            'mail_digest': False, 'created_at': CREATED,
        },
        'contract': {
            'vertragsnummer': f'DJ-2024-{tag}', 'firma': f'Fuldataler Brückenbau {tag} GmbH',
            'strasse': 'Weserstraße 5', 'plz': '34125', 'ort': 'Kassel', 'produktangebot': 'D-Ticket Job (Rechnung)',
            'status': 'aktiv', 'beginn': date(2024, 1, 1), 'arbeitgeberzuschuss_cent': 1575, 'created_at': CREATED,
            'updated_at': CREATED,
        },
        'antrag': {
            'reference': f'A-2024-{tag}', 'source': 'self_service', 'anrede': 'Frau', 'vorname': 'Henrike',
            'nachname': f'Weißgerber-{tag}', 'geburtsdatum': date(1988, 7, 14), 'email': f'henrike.{tag}@example.de',
            'strasse': 'Königstor 1', 'plz': '34117', 'ort': 'Kassel', 'personalnummer': 'PN-4711',
            'startmonat': date(2024, 5, 1), 'ticketart': 'Handyticket', 'status': 'offen', 'person_key': f'h|{tag}',
            'decision_reason': '', 'created_at': CREATED,
        },
        'abo': {
            'vorname': 'Ömer', 'nachname': f'Çelikkaya-{tag}', 'geburtsdatum': date(1979, 2, 3),
            'personalnummer': 'PN-0815', 'strasse': 'Königstor 1', 'plz': '34117', 'ort': 'Kassel',
            'ticketart': 'Chipkarte', 'startmonat': date(2024, 2, 1), 'status': 'aktiv', 'person_key': f'o|{tag}',
            'created_at': CREATED,
        },
    }


def searches(tag: str) -> dict[str, str]:
    """A search for each table's row of `tag`, typed as a user would (other case, ß as ss)."""
    return {'contract': f'BRÜCKENBAU {tag.upper()}', 'portal_user': f'ölschläger-{tag}',
            'antrag': f'weissgerber-{tag}', 'abo': f'ÇELIKKAYA-{tag}'}


def _sqlite_value(value: object) -> object:
    """What Tortoise stores in SQLite for a date or datetime (ISO text)."""
    if isinstance(value, datetime):
        return value.isoformat(' ')
    if isinstance(value, date):
        return value.isoformat()
    return value.value if isinstance(value, StrEnum) else value


async def _columns(client: BaseDBAsyncClient, table: str) -> dict[str, bool]:
    """The table's columns at this schema: name -> whether it must be given (NOT NULL without a default)."""
    if client.capabilities.dialect == 'sqlite':
        _, rows = await client.execute_query(f'PRAGMA table_info("{table}")')
        return {row['name']: bool(row['notnull']) and row['dflt_value'] is None and not row['pk'] for row in rows}
    _, rows = await client.execute_query(
        'SELECT column_name, is_nullable, column_default FROM information_schema.columns WHERE table_name = $1',
        [table])
    return {row['column_name']: row['is_nullable'] == 'NO' and row['column_default'] is None for row in rows}


async def _insert(client: BaseDBAsyncClient, table: str, row: dict[str, Any]) -> int:
    columns = await _columns(client, table)
    values = {name: value for name, value in row.items() if name in columns}
    values |= {name: '' for name, required in columns.items() if required and name in KEY_COLUMNS}
    if missing := [name for name, required in columns.items() if required and name not in values and name != 'id']:
        raise AssertionError(f'{table}: no test value for {missing}')
    postgres = client.capabilities.dialect == 'postgres'
    marks = ', '.join(f'${n}' if postgres else '?' for n in range(1, len(values) + 1))
    names = ', '.join(f'"{name}"' for name in values)
    params = list(values.values()) if postgres else [_sqlite_value(value) for value in values.values()]
    await client.execute_query(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', params)
    _, rows = await client.execute_query(f'SELECT MAX(id) AS id FROM "{table}"')
    return int(rows[0]['id'])


async def _tables(client: BaseDBAsyncClient) -> set[str]:
    if client.capabilities.dialect == 'sqlite':
        _, rows = await client.execute_query("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {row['name'] for row in rows}
    _, rows = await client.execute_query("SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'")
    return {row['name'] for row in rows}


async def _write_rows(client: BaseDBAsyncClient, tag: str) -> None:
    rows = rows_of(tag)
    customer_id = await _insert(client, 'customer', rows['customer'])
    await _insert(client, 'portal_user', {**rows['portal_user'], 'customer_id': customer_id})
    contract_id = await _insert(client, 'contract', {**rows['contract'], 'customer_id': customer_id})
    if 'antrag' in await _tables(client):
        await _insert(client, 'antrag', {**rows['antrag'], 'contract_id': contract_id})
        await _insert(client, 'abo', {**rows['abo'], 'contract_id': contract_id})


@pytest.fixture(params=['sqlite', 'postgres'])
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A new, empty database (no migration applied) of each backend."""
    if request.param == 'sqlite':
        yield f'sqlite://{tmp_path / "upgrade.db"}'
        return
    name = f'{POSTGRES_URL.rsplit("/", 1)[1]}_upgrade'
    try:
        await postgres_admin(f'DROP DATABASE IF EXISTS {name}')
    except (OSError, asyncpg.PostgresError) as error:
        if REQUIRE_POSTGRES:
            raise
        pytest.skip(f'PostgreSQL not reachable ({error}); set REQUIRE_POSTGRES=1 to make this an error')
    await postgres_admin(f'CREATE DATABASE {name}')
    yield postgres_url_of(name)
    await postgres_admin(f'DROP DATABASE IF EXISTS {name} WITH (FORCE)')


async def _found(actor: PortalUser, tag: str) -> dict[str, list[int]]:
    """What the portal's search finds for the rows of `tag`: its contract (Vertragsverwaltung), user (Anwender),
    Antrag and Abo."""
    contract = await Contract.get(vertragsnummer=f'DJ-2024-{tag}')
    words = searches(tag)
    pages: dict[str, TablePage[Any]] = {
        'contract': await vertraege.list_contracts(actor, TableRequest(search=words['contract']), only_active=False),
        'portal_user': await anwender.list_users(actor, TableRequest(search=words['portal_user']),
                                                 customer_id=contract.customer_id),
        'antrag': await antraege.list_antraege(actor, contract.id, TableRequest(search=words['antrag']),
                                               status='alle'),
        'abo': await abos.list_abos(actor, contract.id, TableRequest(search=words['abo']), status='alle'),
    }
    return {table: [row.id for row in page.rows] for table, page in pages.items()}


async def _expected(tag: str) -> dict[str, list[int]]:
    contract = await Contract.get(vertragsnummer=f'DJ-2024-{tag}')
    return {
        'contract': [contract.id],
        'portal_user': [(await PortalUser.get(email=f'doerte.{tag}@brueckenbau.example')).id],
        'antrag': [row.id for row in await Antrag.filter(contract_id=contract.id)],
        'abo': [row.id for row in await Abo.filter(contract_id=contract.id)],
    }


async def test_rows_written_at_every_earlier_migration_are_found_after_the_upgrade(
    empty_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = database.tortoise_config(empty_database)
    tags = {name: f'n{name[:4]}' for name in BEFORE_FILL}
    record_applied = MigrationRecorder.record_applied

    async def recorded_then_rows(recorder: MigrationRecorder, app: str, name: str) -> None:
        """As each migration is recorded, before the next one runs: the rows of a database created at it."""
        await record_applied(recorder, app, name)
        if (tag := tags.get(name)) is None:
            return
        client = get_connection('default')
        if tag == 'n0001':
            await _insert(client, 'portal_user', {**rows_of(tag)['portal_user'], 'email': STAFF_EMAIL,
                                                  'name': 'Sabine Krüger', 'role': 'staff'})
        await _write_rows(client, tag)

    # One run of the migrations, which builds Tortoise's schema state once and carries it forward; a run per
    # migration (migrate(target=…)) rebuilt it from the first migration each time: 22 s a backend at load 10.
    EXECUTOR_CACHE.clear()  # Tortoise caches SQL per connection name, across backends
    with monkeypatch.context() as patch:
        patch.setattr(MigrationRecorder, 'record_applied', recorded_then_rows)
        async with TortoiseContext():
            await migrate(config=config)
    EXECUTOR_CACHE.clear()
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        staff = await PortalUser.get(email=STAFF_EMAIL)
        found = {tag: await _found(staff, tag) for tag in tags.values()}
        expected = {tag: await _expected(tag) for tag in tags.values()}
        assert found == expected
        assert [len(expected[tag]['antrag']) for tag in tags.values()] == [0] + [1] * (len(tags) - 1)
        for contract in await Contract.all():
            assert (contract.firma_sort, contract.strasse_sort) == (sort_key(contract.firma), 'weserstrasse 5')
        for user in await PortalUser.all():
            assert user.name_sort == sort_key(user.name)
        rows: list[Antrag | Abo] = [*await Antrag.all(), *await Abo.all()]
        for row in rows:
            assert row.nachname_sort == sort_key(row.nachname)
