"""Database connection and schema: SQLite by default (WAL, busy timeout), PostgreSQL when DATABASE_URL names one.

The schema is owned by Tortoise's own migrations (models/migrations); `python -m tortoise -c
services.database.TORTOISE_ORM makemigrations` writes a new one after a model change.
"""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate

from services.settings import get_settings

SQLITE_PRAGMAS = {'journal_mode': 'WAL', 'busy_timeout': '5000', 'synchronous': 'NORMAL', 'foreign_keys': 'ON'}


def tortoise_config(database_url: str | None = None) -> dict[str, Any]:
    url = database_url or get_settings().database_url
    connection = expand_db_url(url)
    if connection['engine'].endswith('sqlite'):  # the URL's own parameters win
        for name, value in SQLITE_PRAGMAS.items():
            connection['credentials'].setdefault(name, value)
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


async def init_database(database_url: str | None = None) -> None:
    """Bring the schema up to date through migrations, then open the connections.

    The context is the process-wide fallback, because NiceGUI runs page and event handlers in tasks that do not
    inherit the start-up task's context variables.
    """
    global _context
    config = tortoise_config(database_url)
    await migrate(config=config)
    _context = await Tortoise.init(config=config, _enable_global_fallback=True)
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
