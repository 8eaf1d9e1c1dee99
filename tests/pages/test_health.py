"""/healthz and /readyz for the proxy and systemd: plain HTTP, no login, the database only in /readyz."""

from __future__ import annotations

import asyncio
import logging

import pytest
from nicegui.testing import User

from pages import health
from services import database
from services.logs import FIELDS, JsonFormatter

pytestmark = pytest.mark.both_databases  # /readyz reads the migrations' record, also on PostgreSQL


async def test_healthz_and_readyz_answer_for_a_current_database(user: User) -> None:
    response = await user.http_client.get('/healthz')
    assert response.status_code == 200
    assert response.json() == {'status': 'ok'}
    assert response.headers['cache-control'] == 'no-store'
    response = await user.http_client.get('/readyz')
    assert response.status_code == 200
    assert response.json() == {'status': 'bereit'}


async def test_readyz_refuses_while_a_shipped_migration_is_not_applied(user: User,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A process whose code is newer than the database (deployed before `main.py migrate` ran) is not ready."""
    await user.open('/login')  # the portal is up
    monkeypatch.setattr(database, 'migration_files', lambda: {'0001_initial', '9999_from_the_future'})
    response = await user.http_client.get('/readyz')
    assert response.status_code == 503
    assert response.json() == {'status': 'nicht bereit', 'ausstehende_migrationen': ['9999_from_the_future']}
    assert (await user.http_client.get('/healthz')).status_code == 200


async def test_readyz_gives_up_on_a_database_that_does_not_answer(user: User, monkeypatch: pytest.MonkeyPatch) -> None:
    async def hanging() -> database.SchemaState:
        await asyncio.Event().wait()
        raise AssertionError('unreachable')

    monkeypatch.setattr(database, 'schema_state', hanging)
    monkeypatch.setattr(health, 'READY_TIMEOUT_SECONDS', 0.05)
    response = await user.http_client.get('/readyz')
    assert response.status_code == 503
    assert response.json() == {'status': 'nicht bereit', 'datenbank': 'nicht erreichbar'}
    assert (await user.http_client.get('/healthz')).status_code == 200


async def test_every_request_is_logged_with_its_fields_and_without_its_query(
        user: User, caplog: pytest.LogCaptureFixture) -> None:
    """One record per request for LOG_FORMAT=json; a query may hold a one-time ticket, so it stays out of the log."""
    caplog.set_level(logging.INFO, logger='portal.request')
    await user.http_client.get('/healthz?ticket=geheim-123')
    records = [record for record in caplog.records if record.name == 'portal.request']
    assert len(records) == 1
    fields = getattr(records[0], FIELDS)  # an `extra` of the record, as services.logs reads it
    assert {key: fields[key] for key in ('method', 'path', 'status')} == {
        'method': 'GET', 'path': '/healthz', 'status': 200}
    assert fields['ms'] >= 0
    assert 'geheim' not in JsonFormatter().format(records[0])
