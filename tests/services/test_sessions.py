"""Server-side sessions: idle and absolute timeouts, logout, deactivation."""

from datetime import timedelta

import pytest

from models import AuditEvent, PortalUser, Session
from services import clock, sessions
from services.audit import AuditKind
from tests.conftest import not_none


async def test_valid_token_gives_user_with_customer(admin: PortalUser) -> None:
    token = await sessions.start_session(admin, client='10.0.0.1')
    user = await sessions.user_for_token(token)
    assert user is not None and user.id == admin.id
    assert user.customer is not None and user.customer.kundennummer == '100234'


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


# --- the cookie hand-over (pages/session_cookie.py) -----------------------------------------------------------------


async def test_hand_over_gives_a_single_use_ticket_and_a_new_token(admin: PortalUser) -> None:
    login_token = await sessions.start_session(admin)
    ticket = await sessions.hand_over(login_token)
    assert await sessions.user_for_token(login_token) is None  # the token the login form saw is worthless now
    assert await sessions.user_for_token(ticket) is None  # a pending session is no login
    redeemed = await sessions.redeem_ticket(ticket)
    assert redeemed is not None
    token, session = redeemed
    assert token not in (login_token, ticket)
    assert session.user_id == admin.id
    assert not_none(await sessions.user_for_token(token)).id == admin.id
    assert await sessions.redeem_ticket(ticket) is None  # once only


async def test_a_late_ticket_is_refused(admin: PortalUser) -> None:
    ticket = await sessions.hand_over(await sessions.start_session(admin))
    await Session.filter(user_id=admin.id).update(pending_until=clock.now() - timedelta(seconds=1))
    assert await sessions.redeem_ticket(ticket) is None


@pytest.mark.parametrize('ticket', ['', 'x' * 500, 'ausgedacht'])
async def test_unknown_tickets_are_refused(admin: PortalUser, ticket: str) -> None:
    assert await sessions.redeem_ticket(ticket) is None


async def test_ending_the_users_sessions_can_keep_ones_own(admin: PortalUser) -> None:
    own, other, third = [await sessions.start_session(admin) for _ in range(3)]
    assert await sessions.end_sessions_of_user(admin.id, 'password_changed', keep_token=own) == 2
    assert await sessions.user_for_token(own) is not None
    assert await sessions.user_for_token(other) is None
    assert await sessions.user_for_token(third) is None


async def test_session_states_of_many_open_pages(admin: PortalUser) -> None:
    """The watcher asks for every open page of a process at once, in bounded chunks (STATE_CHUNK)."""
    valid = [await sessions.start_session(admin) for _ in range(3)]
    ended = await sessions.start_session(admin)
    await sessions.end_session(ended)
    idle = await sessions.start_session(admin)
    await Session.filter(token_hash=sessions._digest(idle)).update(last_seen_at=clock.now() - timedelta(minutes=31))
    many = [f'unbekannt-{number}' for number in range(sessions.STATE_CHUNK + 20)]
    states = await sessions.session_states([*valid, ended, idle, *many])
    assert all(states[token].valid for token in valid)
    assert states[valid[0]].idle_deadline is not None
    assert not states[ended].valid and not states[idle].valid
    assert not any(states[token].valid for token in many)
    await PortalUser.filter(id=admin.id).update(is_active=False)
    assert not any(state.valid for state in (await sessions.session_states(valid)).values())
