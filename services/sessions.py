"""Server-side login sessions. The browser holds only a random token, in an HttpOnly cookie (pages/session_cookie.py);
the record here decides whether it is still valid: not pending, not ended, not idle for longer than the idle timeout,
not older than the absolute timeout, and its user still active.

The token never touches the disk in clear: the database keeps its SHA-256, the browser keeps the cookie, and the
server process holds it in memory while a page of that browser is open. A login over the websocket cannot set a
cookie, so `hand_over` turns the fresh session into a pending one keyed by a one-time ticket that the browser redeems
within `HANDOVER_VALIDITY` at an HTTP address (`redeem_ticket`), which swaps in a new token for the cookie.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from models import Employee, PortalUser, Session
from services import audit, clock
from services.audit import AuditKind
from services.settings import get_settings

TOUCH_INTERVAL = timedelta(seconds=60)
HANDOVER_VALIDITY = timedelta(seconds=60)
STATE_CHUNK = 500  # sessions per query of `session_states`: bounded parameter lists on both databases


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start_session(account: PortalUser | Employee, *, client: str = '', user_agent: str = '') -> str:
    """A new session with a fresh token (a new id at every login, against session fixation)."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    owner = {'employee': account} if isinstance(account, Employee) else {'user': account}
    await Session.create(
        token_hash=_digest(token), created_at=now, last_seen_at=now, client=client[:100],
        user_agent=user_agent[:300], **owner,
    )
    return token


async def _end(session: Session, reason: str) -> None:
    session.ended_at = clock.now()
    session.end_reason = reason
    await session.save(update_fields=['ended_at', 'end_reason'])


def _expiry_reason(session: Session, account: PortalUser | Employee) -> str | None:
    settings = get_settings()
    now = clock.now()
    if now - session.last_seen_at > settings.session_idle_timeout:
        return 'idle'
    if now - session.created_at > settings.session_absolute_timeout:
        return 'absolute'
    if not account.is_active:
        return 'deactivated'
    return None


async def hand_over(token: str) -> str:
    """Make the session of `token` pending and return a one-time ticket for it; `token` itself stops working."""
    ticket = secrets.token_urlsafe(32)
    await Session.filter(token_hash=_digest(token), ended_at=None, pending_until=None).update(
        token_hash=_digest(ticket), pending_until=clock.now() + HANDOVER_VALIDITY
    )
    return ticket


async def redeem_ticket(ticket: str) -> tuple[str, Session] | None:
    """Swap a pending session's ticket for a fresh token (once: the update matches only while the ticket is current);
    None for an unknown, used or late ticket."""
    if not ticket or len(ticket) > 100:
        return None
    token = secrets.token_urlsafe(32)
    now = clock.now()
    swapped = await Session.filter(token_hash=_digest(ticket), ended_at=None, pending_until__gt=now).update(
        token_hash=_digest(token), pending_until=None, last_seen_at=now
    )
    if not swapped:
        return None
    return token, await Session.get(token_hash=_digest(token))


async def _valid_session(token: str | None, owner: str, related: str) -> Session | None:
    if not token or len(token) > 100:
        return None
    owned: dict[str, Any] = {f'{owner}_id__isnull': False}
    session = await Session.get_or_none(
        token_hash=_digest(token), ended_at=None, pending_until=None, **owned
    ).select_related(related)
    if session is None:
        return None
    account = getattr(session, owner)
    if reason := _expiry_reason(session, account):
        await _end(session, reason)
        await audit.record(
            AuditKind.SESSION_EXPIRED, actor=session.user, actor_label=account.email, object_type='session',
            object_id=session.id, details={'grund': reason}, client=session.client,
        )
        return None
    now = clock.now()
    if now - session.last_seen_at >= TOUCH_INTERVAL:
        session.last_seen_at = now
        await session.save(update_fields=['last_seen_at'])
    return session


async def user_for_token(token: str | None) -> PortalUser | None:
    """The logged-in portal user of a valid session, with the customer loaded; None (session ended) otherwise."""
    session = await _valid_session(token, 'user', 'user__customer')
    return session.user if session else None


async def employee_for_token(token: str | None) -> Employee | None:
    """The logged-in employee of a valid Self-Service session; None otherwise."""
    session = await _valid_session(token, 'employee', 'employee')
    return session.employee if session else None


async def end_session(token: str | None, *, client: str = '') -> None:
    """Abmelden: end the session on the server, so the token is worthless even if it was copied."""
    if not token:
        return
    session = await Session.get_or_none(token_hash=_digest(token), ended_at=None).select_related('user', 'employee')
    if session is None:
        return
    await _end(session, 'logout')
    await audit.record(
        AuditKind.LOGOUT, actor=session.user, actor_label=getattr(session.user or session.employee, 'email', ''),
        object_type='session', object_id=session.id, client=client,
    )


async def end_sessions_of_user(user_id: int, reason: str, *, keep_token: str | None = None) -> int:
    """End every session of the user (but the one of `keep_token`, the person's own after a password change)."""
    query = Session.filter(user_id=user_id, ended_at=None)
    if keep_token:
        query = query.exclude(token_hash=_digest(keep_token))
    return await query.update(ended_at=clock.now(), end_reason=reason)


async def end_sessions_of_employee(employee_id: int, reason: str, *, keep_token: str | None = None) -> int:
    query = Session.filter(employee_id=employee_id, ended_at=None)
    if keep_token:
        query = query.exclude(token_hash=_digest(keep_token))
    return await query.update(ended_at=clock.now(), end_reason=reason)


@dataclass(frozen=True)
class SessionState:
    """What an open page needs to know about its session without acting: still valid, and when it idles out."""

    valid: bool
    idle_deadline: datetime | None = None


async def session_states(tokens: Iterable[str]) -> dict[str, SessionState]:
    """The state of many sessions at once (the open pages of one process), a bounded number of ids per query."""
    settings = get_settings()
    by_digest = {_digest(token): token for token in tokens}
    states = {token: SessionState(valid=False) for token in by_digest.values()}
    digests = list(by_digest)
    now = clock.now()
    for start in range(0, len(digests), STATE_CHUNK):
        rows = await Session.filter(
            token_hash__in=digests[start:start + STATE_CHUNK], ended_at=None, pending_until=None
        ).values('token_hash', 'created_at', 'last_seen_at', 'user__is_active', 'employee__is_active')
        for row in rows:
            active = row['user__is_active'] if row['user__is_active'] is not None else row['employee__is_active']
            idle_deadline = row['last_seen_at'] + settings.session_idle_timeout
            absolute_deadline = row['created_at'] + settings.session_absolute_timeout
            valid = bool(active) and now < idle_deadline and now < absolute_deadline
            states[by_digest[row['token_hash']]] = SessionState(valid=valid, idle_deadline=idle_deadline)
    return states
