"""What the benchmarks share: a throw-away database of either backend.

Each benchmark fills its own database, so two runs (or a benchmark and the test suite) never touch each other's:
on PostgreSQL a uniquely named one, created and dropped here; on SQLite a file in a temporary directory.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

POSTGRES_ADMIN_URL = os.environ.get('BENCH_POSTGRES_ADMIN_URL', 'postgresql://postgres@127.0.0.1:5432/postgres')


async def postgres_admin(admin_url: str, sql: str) -> None:
    """One statement on the server's maintenance database (CREATE/DROP DATABASE)."""
    connection = await asyncpg.connect(admin_url, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@asynccontextmanager
async def throwaway_database(backend: str, prefix: str, admin_url: str = POSTGRES_ADMIN_URL) -> AsyncIterator[str]:
    """Tortoise's URL of a new, empty database: SQLite `<tmp>/<prefix>.db`, removed with its directory afterwards;
    PostgreSQL `<prefix>_<pid>_<random>`, dropped afterwards with whatever connections are still open."""
    if backend == 'sqlite':
        with tempfile.TemporaryDirectory(prefix=f'{prefix}_') as directory:
            yield f'sqlite://{directory}/{prefix}.db'
        return
    name = f'{prefix}_{os.getpid()}_{secrets.token_hex(4)}'
    await postgres_admin(admin_url, f'CREATE DATABASE {name}')
    try:
        yield admin_url.rsplit('/', 1)[0].replace('postgresql://', 'postgres://', 1) + '/' + name
    finally:
        await postgres_admin(admin_url, f'DROP DATABASE IF EXISTS {name} WITH (FORCE)')
