"""Server-side sessions: idle and absolute timeouts, logout, deactivation."""

from datetime import timedelta

import pytest

from models import AuditEvent, PortalUser, Session
from services import clock, sessions
from services.audit import AuditKind


async def test_valid_token_gives_user_with_customer(admin: PortalUser) -> None:
    token = await sessions.start_session(admin, client='10.0.0.1')
    user = await sessions.user_for_token(token)
    assert user is not None and user.id == admin.id
    assert user.customer.kundennummer == '100234'


@pytest.mark.parametrize('token', [None, '', 'ausgedacht'])
async def test_missing_or_unknown_token_gives_nobody(admin: PortalUser, token: str | None) -> None:
    assert await sessions.user_for_token(token) is None


async def test_only_a_digest_of_the_token_is_stored(admin: PortalUser) -> None:
    token = await sessions.start_session(admin)
    stored = await Session.get(user_id=admin.id)
    assert token not in stored.token_hash
    assert len(stored.token_hash) == 64


@pytest.mark.parametrize(
    ('idle', 'age', 'reason'),
    [
        (timedelta(minutes=31), timedelta(minutes=31), 'idle'),
        (timedelta(minutes=5), timedelta(hours=12, minutes=1), 'absolute'),
    ],
)
async def test_expired_sessions_end(admin: PortalUser, idle: timedelta, age: timedelta, reason: str) -> None:
    token = await sessions.start_session(admin)
    await Session.filter(user_id=admin.id).update(last_seen_at=clock.now() - idle, created_at=clock.now() - age)
    assert await sessions.user_for_token(token) is None
    session = await Session.get(user_id=admin.id)
    assert session.end_reason == reason
    assert await AuditEvent.filter(kind=AuditKind.SESSION_EXPIRED).count() == 1
    assert await sessions.user_for_token(token) is None


async def test_recent_activity_keeps_session_alive(admin: PortalUser) -> None:
    token = await sessions.start_session(admin)
    await Session.filter(user_id=admin.id).update(
        last_seen_at=clock.now() - timedelta(minutes=29), created_at=clock.now() - timedelta(hours=11)
    )
    assert await sessions.user_for_token(token) is not None
    session = await Session.get(user_id=admin.id)
    assert clock.now() - session.last_seen_at < timedelta(seconds=5)


async def test_logout_ends_session_on_server(admin: PortalUser) -> None:
    token = await sessions.start_session(admin)
    await sessions.end_session(token, client='10.0.0.1')
    assert await sessions.user_for_token(token) is None
    event = await AuditEvent.get(kind=AuditKind.LOGOUT)
    assert event.actor_id == admin.id and event.client == '10.0.0.1'


async def test_deactivated_user_loses_session(admin: PortalUser) -> None:
    token = await sessions.start_session(admin)
    await PortalUser.filter(id=admin.id).update(is_active=False)
    assert await sessions.user_for_token(token) is None
