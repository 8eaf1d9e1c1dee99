"""The schema state /readyz reports, and the lock that lets several processes start on one database at once."""

from __future__ import annotations

import asyncio

from tortoise.connection import get_connection

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
