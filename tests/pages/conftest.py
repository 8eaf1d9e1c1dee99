"""Simulated-UI tests (NiceGUI's `user` fixture) run main.py against a fresh SQLite file with the demo data."""

import shutil
from pathlib import Path

import pytest
from nicegui.testing import User

from services.demo_data import DEMO_LOGINS
from services.settings import reset_settings


@pytest.fixture(autouse=True)
def portal_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_template: Path) -> Path:
    path = tmp_path / 'portal.db'
    shutil.copy(sqlite_template, path)
    monkeypatch.setenv('DATABASE_URL', f'sqlite://{path}')
    monkeypatch.setenv('DEMO_DATA', '1')
    reset_settings()
    return path


def demo_login(role: str):
    return next(login for login in DEMO_LOGINS if login.role == role)


async def log_in(user: User, role: str = 'admin', target: str = '/login') -> None:
    login = demo_login(role)
    await user.open(target)
    user.find('E-Mail-Adresse').type(login.email)
    user.find('Passwort').type(login.password)
    user.find('Anmelden').click()
