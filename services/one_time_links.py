"""One-time links: the mechanism behind the portal's invitations and password links and the Self-Service's account
links (address confirmation, claiming an account after a Massenupload, Passwort vergessen).

A link carries a random token; only its SHA-256 digest is stored (`Invitation.token_hash`), so a copy of the database
opens no account. A new link of the same owner revokes the open ones, and a link is used once: `claim_link` is a
conditional update, so two uses at the same moment cannot both succeed.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from models import Employee, Invitation, InvitationPurpose, PortalUser
from services import clock
from services.errors import NotFound, ServiceError
from services.i18n import N_
from services.settings import get_settings

MAX_TOKEN_LENGTH = 100
LINK_UNKNOWN = N_('Dieser Link ist ungültig. Bitte prüfen Sie, ob Sie ihn vollständig übernommen haben.')
LINK_USED = N_('Dieser Link wurde bereits verwendet. Er gilt nur einmal.')
LINK_REVOKED = N_('Dieser Link gilt nicht mehr, weil ein neuerer erstellt wurde. Bitte verwenden Sie den neuesten '
                  'Link.')
LINK_EXPIRED = N_('Dieser Link ist abgelaufen. Bitte bitten Sie Ihre Administration um einen neuen Link.')


@dataclass(frozen=True)
class NewLink:
    link: str
    expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_for(base_url: str, token: str, path: str) -> str:
    """PUBLIC_URL when configured (behind a proxy), else the address the page was requested on; without a request
    (a Massenupload import, a job) the portal's own HOST and PORT."""
    settings = get_settings()
    base = settings.public_url or base_url or f'http://{settings.host}:{settings.port}'
    return f'{base.rstrip("/")}{path}{token}'


async def issue_link(
    purpose: InvitationPurpose, validity: timedelta, *, path: str, user: PortalUser | None = None,
    employee: Employee | None = None, actor: PortalUser | None = None, base_url: str = '',
) -> NewLink:
    """A new one-time link for a portal user or an employee's account, opened at `path`; every earlier open link of
    theirs stops working."""
    now = clock.now()
    owner = {'user_id': user.id} if user is not None else {'employee_id': employee.id}  # type: ignore[union-attr]
    await Invitation.filter(**owner, used_at=None, revoked_at=None).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    await Invitation.create(
        **owner, token_hash=_digest(token), purpose=purpose, created_at=now, expires_at=now + validity,
        created_by=actor,
    )
    return NewLink(link=link_for(base_url, token, path), expires_at=now + validity)


async def open_link(token: str, purposes: tuple[InvitationPurpose, ...], related: str) -> Invitation:
    """The open link of one of these purposes (the portal's or the Self-Service's; another's is unknown here), or
    the German reason why it cannot be used."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise NotFound(LINK_UNKNOWN)
    invitation = await Invitation.get_or_none(token_hash=_digest(token), purpose__in=list(purposes)) \
        .select_related(related)
    if invitation is None:
        raise NotFound(LINK_UNKNOWN)
    if invitation.used_at is not None:
        raise ServiceError(LINK_USED)
    if invitation.revoked_at is not None:
        raise ServiceError(LINK_REVOKED)
    if clock.now() >= invitation.expires_at:
        raise ServiceError(LINK_EXPIRED)
    return invitation


async def claim_link(invitation: Invitation) -> datetime:
    """Mark the link used, inside the caller's transaction; a second use, even at the same moment, is refused. The
    owner's other open links end too."""
    now = clock.now()
    claimed = await Invitation.filter(id=invitation.id, used_at=None, revoked_at=None).update(used_at=now)
    if not claimed:
        raise ServiceError(LINK_USED)
    owner = ({'user_id': invitation.user_id} if invitation.user_id is not None
             else {'employee_id': invitation.employee_id})
    await Invitation.filter(**owner, used_at=None, revoked_at=None).update(revoked_at=now)
    return now
