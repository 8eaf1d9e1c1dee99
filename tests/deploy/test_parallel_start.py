"""Several processes on one database: the schema is created once, whoever starts first (issue 12: two processes
started at once on an empty PostgreSQL database raced on the migrations and one died, 3 of 3 runs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from deploy.smoke import PROJECT_DIR, portal_environment, throwaway_postgres
from tests.conftest import POSTGRES_ADMIN_URL

ROUNDS = 3


def migrate_twice_at_once(database_url: str) -> list[subprocess.CompletedProcess]:
    """`python main.py migrate` twice, started in the same instant; serve runs the same code before it listens."""
    env = portal_environment(DATABASE_URL=database_url, DEMO_DATA='0', STORAGE_SECRET='parallel-start')
    processes = [
        subprocess.Popen([sys.executable, 'main.py', 'migrate'], cwd=PROJECT_DIR, env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    return [subprocess.CompletedProcess(p.args, p.wait(timeout=120), p.communicate()[0]) for p in processes]


@pytest.mark.usefixtures('empty_postgres')
def test_two_migrations_at_once_on_an_empty_postgres_database_both_succeed() -> None:
    for _ in range(ROUNDS):  # the race was lost in every run before the lock; a few rounds make a pass meaningful
        with throwaway_postgres(POSTGRES_ADMIN_URL) as database_url:
            results = migrate_twice_at_once(database_url)
        for result in results:
            assert result.returncode == 0, result.stdout
            assert 'Datenbankschema ist aktuell.' in result.stdout


def test_two_migrations_at_once_on_an_empty_sqlite_file_both_succeed(tmp_path: Path) -> None:
    for number in range(ROUNDS):
        results = migrate_twice_at_once(f'sqlite://{tmp_path / f"parallel-{number}.db"}')
        for result in results:
            assert result.returncode == 0, result.stdout
