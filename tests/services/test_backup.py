"""`python main.py backup <datei>`: an online SQLite backup, consistent while the portal writes."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.smoke import PROJECT_DIR, portal_environment
from models import Customer
from services.database import backup_sqlite
from services.errors import ServiceError


async def test_the_backup_holds_what_was_committed_and_not_what_is_in_flight(db: str, database_url: str,
                                                                            company: Customer,
                                                                            tmp_path: Path) -> None:
    target = tmp_path / 'sicherungen' / 'backup.db'
    if db != 'sqlite':
        with pytest.raises(ServiceError, match='pg_dump'):
            backup_sqlite(target, database_url)
        return
    target.parent.mkdir()
    source = database_url.removeprefix('sqlite://')
    writer = sqlite3.connect(source)  # another process's transaction, open during the backup
    writer.execute('BEGIN IMMEDIATE')
    writer.execute("UPDATE customer SET name = 'halb geschrieben'")
    try:
        message = backup_sqlite(target, database_url)
    finally:
        writer.rollback()
        writer.close()
    assert 'backup.db' in message
    copy = sqlite3.connect(target)
    try:
        assert copy.execute('PRAGMA integrity_check').fetchone() == ('ok',)
        assert copy.execute('SELECT name FROM customer').fetchall() == [(company.name,)]
        assert copy.execute("SELECT count(*) FROM tortoise_migrations").fetchone()[0] > 0
    finally:
        copy.close()
    assert sorted(path.name for path in target.parent.iterdir()) == ['backup.db']  # no partial file left


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    database = tmp_path / 'portal.db'
    sqlite3.connect(database).close()
    target = tmp_path / 'vorhanden.db'
    target.write_bytes(b'alt')
    with pytest.raises(ServiceError, match='überschreibt keine Datei'):
        backup_sqlite(target, f'sqlite://{database}')
    assert target.read_bytes() == b'alt'


def test_the_command_line(tmp_path: Path, sqlite_template: Path) -> None:
    shutil.copy(sqlite_template, tmp_path / 'portal.db')  # migrated (`main.py migrate` is tests/deploy's to test)
    env = portal_environment(DATABASE_URL=f'sqlite://{tmp_path / "portal.db"}', DEMO_DATA='0',
                             STORAGE_SECRET='backup-test')
    result = subprocess.run([sys.executable, 'main.py', 'backup', str(tmp_path / 'sicherung.db')], cwd=PROJECT_DIR,
                            env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert 'Sicherung geschrieben' in result.stdout
    assert (tmp_path / 'sicherung.db').stat().st_size > 0
