"""Passwort vergessen (portal users): one answer for every address, a one-hour single-use link, throttled,
and what the other password paths do to open sessions."""

from datetime import timedelta

import pytest

from models import AuditEvent, Customer, Invitation, InvitationPurpose, PortalUser, Role
from services import anwender, auth, clock, sessions
from services.audit import AuditKind
from services.errors import ServiceError, ValidationError
from tests.conftest import PASSWORD, make_user

NEW_PASSWORD = 'Neues-Passwort-am-Herkules-9'
BASE = 'http://portal.test/'


async def test_the_answer_is_the_same_for_known_and_unknown_addresses(admin: PortalUser) -> None:
    known = await anwender.request_password_reset(admin.email.upper(), base_url=BASE, client='10.0.0.1')
    unknown = await anwender.request_password_reset('niemand@example.com', base_url=BASE, client='10.0.0.2')
    assert known == unknown == anwender.FORGOTTEN_ANSWER
    invitation = await Invitation.get(user_id=admin.id)
    assert invitation.purpose == InvitationPurpose.PASSWORT
    assert invitation.expires_at - invitation.created_at == timedelta(hours=1)
    assert await Invitation.all().count() == 1
    assert await AuditEvent.filter(kind=AuditKind.PASSWORD_RESET_REQUESTED).count() == 2


async def test_no_link_for_deactivated_or_invited_users(admin: PortalUser, company: Customer) -> None:
    await PortalUser.filter(id=admin.id).update(is_active=False)
    invited = await make_user('neu@fahrradmanufaktur-kassel.de', Role.CLERK, company)
    await PortalUser.filter(id=invited.id).update(password_changed_at=None)
    for email in (admin.email, invited.email):
        assert await anwender.request_password_reset(email, base_url=BASE) == anwender.FORGOTTEN_ANSWER
    assert await Invitation.all().count() == 0


async def test_requests_are_throttled_per_address(admin: PortalUser) -> None:
    for number in range(8):
        await anwender.request_password_reset(admin.email, base_url=BASE, client=f'10.0.0.{number}')
    assert await Invitation.filter(user_id=admin.id).count() == 5  # the sixth and later: the same answer, no mail


@pytest.mark.parametrize('email', ['', 'kein-at', 'a' * 300 + '@example.com'])
async def test_a_malformed_address_gets_a_field_message(admin: PortalUser, email: str) -> None:
    with pytest.raises(ValidationError) as refused:
        await anwender.request_password_reset(email, base_url=BASE)
    assert 'E-Mail-Adresse' in refused.value.errors['email']


@pytest.fixture
def issued_links(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tokens of the links the service issues (read where they are made, not from the mail)."""
    tokens: list[str] = []
    original = anwender.issue_link

    async def keep(*args, **kwargs):
        link = await original(*args, **kwargs)
        tokens.append(link.link.rsplit('/', 1)[1])
        return link

    monkeypatch.setattr(anwender, 'issue_link', keep)
    return tokens


async def test_the_link_sets_a_new_password_once_and_ends_sessions(admin: PortalUser, issued_links: list[str]) -> None:
    session = await sessions.start_session(admin)
    await anwender.request_password_reset(admin.email, base_url=BASE)
    await anwender.use_link(issued_links[0], password=NEW_PASSWORD, confirmation=NEW_PASSWORD)
    assert await sessions.user_for_token(session) is None
    assert (await auth.login(admin.email, NEW_PASSWORD)).token
    with pytest.raises(ServiceError, match='bereits verwendet'):
        await anwender.use_link(issued_links[0], password=NEW_PASSWORD + 'x', confirmation=NEW_PASSWORD + 'x')


async def test_an_expired_link_is_refused(admin: PortalUser, issued_links: list[str]) -> None:
    await anwender.request_password_reset(admin.email, base_url=BASE)
    await Invitation.filter(user_id=admin.id).update(expires_at=clock.now() - timedelta(seconds=1))
    with pytest.raises(ServiceError, match='abgelaufen'):
        await anwender.check_link(issued_links[0])


async def test_changing_the_password_ends_the_other_sessions(admin: PortalUser) -> None:
    """Finding: 'Passwort ändern' left the user's other sessions open although its docstring said otherwise."""
    own, other = await sessions.start_session(admin), await sessions.start_session(admin)
    await anwender.change_password(admin, current=PASSWORD, new=NEW_PASSWORD, confirmation=NEW_PASSWORD,
                                keep_token=own)
    assert await sessions.user_for_token(own) is not None
    assert await sessions.user_for_token(other) is None


async def test_a_role_change_ends_the_persons_sessions(admin: PortalUser, company: Customer) -> None:
    """A demoted clerk's open page must stop acting with the old role: the sessions end, the pages go to login."""
    clerk = await make_user('sachbearbeitung@fahrradmanufaktur-kassel.de', Role.CLERK, company, name='Jonas Weber')
    token = await sessions.start_session(clerk)
    await anwender.change_role(admin, clerk.id, Role.READONLY)
    assert await sessions.user_for_token(token) is None
    assert (await auth.login(clerk.email, PASSWORD)).token  # a new login has the new role
