"""The schema state /readyz reports, and the lock that lets several processes start on one database at once."""

from __future__ import annotations

import asyncio

from tortoise import Tortoise
from tortoise.connection import get_connection
from tortoise.indexes import Index

from services import database


async def test_a_migrated_database_is_current(db: str) -> None:
    state = await database.schema_state()
    assert state.current
    assert state.pending == ()
    assert '0001_initial' in database.migration_files()


async def test_a_migration_the_database_lacks_is_pending(db: str) -> None:
    """The record is put back: the PostgreSQL test database outlives the test (a later `main.py job` on it migrates)."""
    connection = get_connection('default')
    _, rows = await connection.execute_query(
        "SELECT * FROM tortoise_migrations WHERE app = 'models' AND name = '0001_initial'")
    await connection.execute_query("DELETE FROM tortoise_migrations WHERE app = 'models' AND name = '0001_initial'")
    try:
        state = await database.schema_state()
    finally:
        columns = list(rows[0].keys())
        await connection.execute_query(
            f'INSERT INTO tortoise_migrations ({", ".join(columns)}) VALUES '
            f'({", ".join(f"${i + 1}" if db == "postgres" else "?" for i in range(len(columns)))})',
            [rows[0][column] for column in columns])
    assert not state.current
    assert state.pending == ('0001_initial',)
    assert (await database.schema_state()).current


async def index_columns(db: str) -> set[tuple[str, tuple[str, ...]]]:
    """(table, columns in order) of every index the migrated database has."""
    connection = get_connection('default')
    if db == 'postgres':
        rows = await connection.execute_query_dict(
            'SELECT t.relname AS "table", array_agg(a.attname ORDER BY k.n) AS columns FROM pg_index i '
            'JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace s ON s.oid = t.relnamespace '
            'CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) '
            'JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum '
            "WHERE s.nspname = 'public' GROUP BY i.indexrelid, t.relname")
        return {(row['table'], tuple(row['columns'])) for row in rows}
    rows = await connection.execute_query_dict(
        "SELECT m.name AS \"table\", il.name AS idx, ii.seqno, ii.name AS col FROM sqlite_master m "
        "JOIN pragma_index_list(m.name) il JOIN pragma_index_info(il.name) ii WHERE m.type = 'table' "
        'ORDER BY m.name, il.name, ii.seqno')
    columns: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        columns.setdefault((row['table'], row['idx']), []).append(row['col'])
    return {(table, tuple(names)) for (table, _), names in columns.items()}


async def test_every_index_the_models_declare_exists(db: str) -> None:
    """On SQLite a migration's AlterField rebuilds the table and lost its indexes (antrag, invitation, session, upload
    until migration 0018): the company Dashboard then read every Antrag."""
    declared = set()
    for model in Tortoise.apps.get_models_iterable():
        meta = model._meta
        for index in meta.indexes:
            fields = index.fields if isinstance(index, Index) else index
            declared.add((meta.db_table, tuple(meta.fields_db_projection.get(name, name) for name in fields)))
    assert declared - await index_columns(db) == set()


async def test_the_migration_lock_admits_one_holder_at_a_time(database_url: str) -> None:
    """Two holders in one process stand for two processes (a PostgreSQL session each, a file descriptor each)."""
    config = database.tortoise_config(database_url)
    order: list[str] = []
    first_holds = asyncio.Event()

    async def first() -> None:
        async with database.migration_lock(config):
            order.append('first in')
            first_holds.set()
            await asyncio.sleep(0.2)
            order.append('first out')

    async def second() -> None:
        await first_holds.wait()
        async with database.migration_lock(config):
            order.append('second in')

    await asyncio.gather(first(), second())
    assert order == ['first in', 'first out', 'second in']
