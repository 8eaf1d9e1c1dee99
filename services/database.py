"""Database connection and schema: SQLite by default (WAL, busy timeout), PostgreSQL when DATABASE_URL names one.

The schema is owned by Tortoise's own migrations (models/migrations); `python -m tortoise -c
services.database.TORTOISE_ORM makemigrations` writes a new one after a model change. Several portal processes may
start at once on one database: migrating (and whatever must happen once after it, such as the demo data) runs under a
lock that spans processes — a PostgreSQL advisory lock, on SQLite a file lock beside the database file.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import asyncpg
from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.connection import get_connection
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate
from tortoise.queryset import QuerySet

from services.errors import ServiceError
from services.settings import get_settings

SQLITE_PRAGMAS = {'journal_mode': 'WAL', 'busy_timeout': '5000', 'synchronous': 'NORMAL', 'foreign_keys': 'ON'}
# asyncpg prepares every statement; after five runs PostgreSQL may plan it once for any value ("generic"). For
# `search_text LIKE $1` that plan reads the whole pg_trgm GIN index whatever the word: a 2-character search took
# 2,888 ms generic against 321 ms planned for its word (100,000 contracts, load 16), "a" 1.35 s in bench/contract_table.
POSTGRES_SETTINGS = {'plan_cache_mode': 'force_custom_plan'}
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / 'models' / 'migrations'
# pg_advisory_lock's key: any constant 64-bit number the portal uses for nothing else ("FPDTJ" + "migr").
MIGRATION_LOCK_KEY = 0x4650_4454_4A6D_6967
LOCK_CONNECT_TIMEOUT_SECONDS = 10


def tortoise_config(database_url: str | None = None) -> dict[str, Any]:
    url = database_url or get_settings().database_url
    connection = expand_db_url(url)
    if connection['engine'].endswith('sqlite'):  # the URL's own parameters win
        for name, value in SQLITE_PRAGMAS.items():
            connection['credentials'].setdefault(name, value)
    else:
        connection['credentials'].setdefault('server_settings', dict(POSTGRES_SETTINGS))
    return {
        'connections': {'default': connection},
        'apps': {'models': {'models': ['models'], 'default_connection': 'default', 'migrations': 'models.migrations'}},
        'use_tz': True,
        'timezone': 'Europe/Berlin',
    }


def __getattr__(name: str) -> Any:
    """`TORTOISE_ORM` for Tortoise's command line, built from the current environment when asked for."""
    if name == 'TORTOISE_ORM':
        return tortoise_config()
    raise AttributeError(name)


_context: TortoiseContext | None = None


def _locked_file(path: str) -> int:
    """Open `path` and wait for its exclusive lock (blocks: runs in a thread)."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    return descriptor


@asynccontextmanager
async def migration_lock(config: dict[str, Any]) -> AsyncIterator[None]:
    """Held by one process at a time, for every process on this database: two portals started at once used to race
    on creating the schema (one died with a UniqueViolation on pg_type). Released when the holder ends, however."""
    credentials = config['connections']['default']['credentials']
    if _is_sqlite(config):
        if credentials['file_path'] == ':memory:':
            yield  # a database nobody else can open
            return
        descriptor = await asyncio.to_thread(_locked_file, f'{credentials["file_path"]}.migrate-lock')
        try:
            yield
        finally:
            os.close(descriptor)  # frees the lock, as the kernel does when the process dies
        return
    # A connection of its own (Tortoise's are not open yet): a session-level lock, freed with the connection.
    connection = await asyncpg.connect(
        host=credentials.get('host'), port=credentials.get('port'), user=credentials.get('user'),
        password=credentials.get('password'), database=credentials.get('database'),
        timeout=LOCK_CONNECT_TIMEOUT_SECONDS,
    )
    try:
        await connection.execute('SELECT pg_advisory_lock($1)', MIGRATION_LOCK_KEY)
        yield
    finally:
        await connection.close()


async def init_database(database_url: str | None = None,
                        once: Callable[[], Awaitable[None]] | None = None) -> None:
    """Bring the schema up to date through migrations, run `once` (e.g. demo data into an empty database), both
    under the migration lock, then open the connections.

    The context is the process-wide fallback, because NiceGUI runs page and event handlers in tasks that do not
    inherit the start-up task's context variables.
    """
    global _context
    config = tortoise_config(database_url)
    async with migration_lock(config):
        await migrate(config=config)
        _context = await Tortoise.init(config=config, _enable_global_fallback=True)
        if once is not None:
            await once()
    if _is_sqlite(config):
        # Without statistics SQLite walks a status index for a company's ten contracts (60 ms at 100k rows, 2 ms
        # with them; see bench/contract_table.py). ANALYZE takes ~0.2 s at that size.
        await _context.connections.get('default').execute_script('ANALYZE')


def _is_sqlite(config: dict[str, Any]) -> bool:
    return config['connections']['default']['engine'].endswith('sqlite')


async def close_database() -> None:
    global _context
    if _context is not None:
        connection = _context.connections.get('default')
        if connection.capabilities.dialect == 'sqlite':  # the connection opened, whatever the settings say now
            await connection.execute_script('PRAGMA optimize')
        await _context.close_connections()
        _context = None


@dataclass(frozen=True)
class SchemaState:
    """What /readyz reports: the migrations in models/migrations that the database has not applied yet."""

    pending: tuple[str, ...]

    @property
    def current(self) -> bool:
        return not self.pending


def migration_files() -> set[str]:
    return {path.stem for path in MIGRATIONS_DIR.glob('[0-9][0-9][0-9][0-9]_*.py')}


async def schema_state() -> SchemaState:
    """Applied migrations (Tortoise's own table) against the files: a process whose code is newer than the database
    (a deploy that has not migrated yet) is not ready."""
    _, rows = await get_connection('default').execute_query(
        "SELECT name FROM tortoise_migrations WHERE app = 'models'")
    return SchemaState(pending=tuple(sorted(migration_files() - {row['name'] for row in rows})))


def backup_sqlite(target: Path, database_url: str | None = None) -> str:
    """An online copy of the SQLite database into the new file `target`, consistent while the portal runs.

    SQLite's backup API copies one snapshot under a read transaction; in WAL mode the portal's writes go on meanwhile
    (a plain file copy could catch a half-written page or miss the -wal file). The copy appears under its name only
    when complete. PostgreSQL is backed up with pg_dump (README, „Betrieb“).
    """
    config = tortoise_config(database_url)
    if not _is_sqlite(config):
        raise ServiceError('Die Datenbank ist PostgreSQL: Sicherung mit pg_dump (siehe README, Abschnitt Betrieb).')
    source_path = config['connections']['default']['credentials']['file_path']
    if source_path == ':memory:' or not Path(source_path).is_file():
        raise ServiceError(f'Die Datenbankdatei {source_path} gibt es nicht.')
    if target.exists():
        raise ServiceError(f'{target} gibt es schon; die Sicherung überschreibt keine Datei.')
    partial = target.with_name(f'.{target.name}.unvollstaendig')
    source = sqlite3.connect(f'file:{source_path}?mode=ro', uri=True)
    try:
        destination = sqlite3.connect(partial)
        try:
            source.backup(destination)
        finally:
            destination.close()
    except sqlite3.Error as error:
        partial.unlink(missing_ok=True)
        raise ServiceError(f'Sicherung fehlgeschlagen: {error}') from error
    finally:
        source.close()
    partial.rename(target)
    return f'Sicherung geschrieben: {target} ({target.stat().st_size:,} Bytes)'.replace(',', '.')


async def flat_values(query: QuerySet[Any], field: str) -> list[Any]:
    """`query.values_list(field, flat=True)`: the plain list it returns, which Tortoise 1.1 types as tuples."""
    return cast(list[Any], await query.values_list(field, flat=True))
