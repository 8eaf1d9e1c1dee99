"""Server-side login sessions. The browser holds only a random token (in NiceGUI's user storage); the record here
decides whether it is still valid: not ended, not idle for longer than the idle timeout, not older than the absolute
timeout, and its user still active."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from models import Employee, PortalUser, Session
from services import audit, clock
from services.audit import AuditKind
from services.settings import get_settings

TOUCH_INTERVAL = timedelta(seconds=60)


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


async def _valid_session(token: str | None, owner: str, related: str) -> Session | None:
    if not token:
        return None
    session = await Session.get_or_none(
        token_hash=_digest(token), ended_at=None, **{f'{owner}_id__isnull': False}
    ).select_related(related)
    if session is None:
        return None
    account = getattr(session, owner)
    if reason := _expiry_reason(session, account):
        await _end(session, reason)
        await audit.record(
            AuditKind.SESSION_EXPIRED, actor=session.user, actor_label=account.email, object_type='session',
            object_id=session.id, details={'reason': reason}, client=session.client,
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
        AuditKind.LOGOUT, actor=session.user, actor_label=(session.user or session.employee).email,
        object_type='session', object_id=session.id, client=client,
    )


async def end_sessions_of_user(user_id: int, reason: str) -> int:
    return await Session.filter(user_id=user_id, ended_at=None).update(ended_at=clock.now(), end_reason=reason)
