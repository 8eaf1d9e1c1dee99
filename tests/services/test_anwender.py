"""Anwender (issue 7): the role × action matrix, invitations and password links, the last-admin rule, deactivation
ending sessions, tenant isolation and the mail. Every test runs on SQLite and PostgreSQL (the `db` fixture)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest

from models import (
    AuditEvent,
    Customer,
    Invitation,
    InvitationPurpose,
    MailStatus,
    OutboxMail,
    PortalUser,
    Role,
    Session,
)
from services import anwender, auth, clock, mail_worker, one_time_links, permissions, sessions
from services.audit import AuditKind
from services.errors import NotFound, PermissionDenied, ServiceError, ValidationError
from services.permissions import Action
from services.table_query import TableRequest
from tests.conftest import PASSWORD, make_user
from tests.smtp_server import MailCatcher, html_of, text_of

BASE_URL = 'http://portal.test/'
NEW_PASSWORD = 'Auepark-Sommer-Abend-31'
CLIENT = '10.1.2.3'


def token_of(link: str) -> str:
    path = urlsplit(link).path
    assert path.startswith(anwender.LINK_PATH), link
    return path.removeprefix(anwender.LINK_PATH)


def move_clock(monkeypatch: pytest.MonkeyPatch, by: timedelta) -> None:
    moment = clock.now() + by
    monkeypatch.setattr('services.clock.now', lambda: moment)


# --- the matrix -----------------------------------------------------------------------------------------------------

OK, DENIED, NOT_FOUND = 'ok', 'denied', 'not found'
ACTORS = ('admin', 'clerk', 'readonly', 'staff', 'other_admin')
MANAGE = {'admin': OK, 'clerk': DENIED, 'readonly': DENIED, 'staff': OK, 'other_admin': NOT_FOUND}
EXPECTED: dict[str, Mapping[str, str | bool]] = {
    'invite': MANAGE,
    'change_role': MANAGE,
    'deactivate': MANAGE,
    'reactivate': MANAGE,
    'reset_link': MANAGE,
    'list': {'admin': OK, 'clerk': OK, 'readonly': OK, 'staff': OK, 'other_admin': NOT_FOUND},
    'generate_code': {'admin': True, 'clerk': False, 'readonly': False, 'staff': True, 'other_admin': False},
    'decide_antrag': {'admin': True, 'clerk': True, 'readonly': False, 'staff': True, 'other_admin': False},
}
MATRIX = [(action, actor, EXPECTED[action][actor]) for action in EXPECTED for actor in ACTORS]


async def run_action(action: str, actor: PortalUser, company: Customer, target: PortalUser) -> object:
    """Perform `action` by `actor` on the company (or its user `target`); returns a check of the effect."""
    if action == 'invite':
        await anwender.invite(actor, name='Neue Person', email='neu@fahrradmanufaktur-kassel.de', role=Role.CLERK,
                              base_url=BASE_URL, customer_id=company.id, client=CLIENT)
        return await PortalUser.exists(email='neu@fahrradmanufaktur-kassel.de')
    if action == 'change_role':
        await anwender.change_role(actor, target.id, Role.READONLY, client=CLIENT)
        return (await PortalUser.get(id=target.id)).role == Role.READONLY
    if action == 'deactivate':
        await anwender.deactivate(actor, target.id, client=CLIENT)
        return not (await PortalUser.get(id=target.id)).is_active
    if action == 'reactivate':
        await anwender.reactivate(actor, target.id, client=CLIENT)
        return (await PortalUser.get(id=target.id)).is_active
    if action == 'reset_link':
        await anwender.send_password_link(actor, target.id, base_url=BASE_URL, client=CLIENT)
        return await Invitation.exists(user_id=target.id)
    if action == 'list':
        page = await anwender.list_users(actor, TableRequest(page_size=100), customer_id=company.id)
        return target.id in {user.id for user in page.rows}
    raise AssertionError(action)


async def unchanged(action: str, target: PortalUser) -> bool:
    current = await PortalUser.get(id=target.id)
    return (
        not await PortalUser.exists(email='neu@fahrradmanufaktur-kassel.de')
        and current.role == target.role and current.is_active == (action != 'reactivate')
        and not await Invitation.exists(user_id=target.id)
        and not await AuditEvent.filter(kind__in=[
            AuditKind.USER_INVITED, AuditKind.USER_ROLE_CHANGED, AuditKind.USER_DEACTIVATED,
            AuditKind.USER_REACTIVATED, AuditKind.PASSWORD_LINK_SENT,
        ]).exists()
    )


@pytest.mark.parametrize(('action', 'actor_name', 'expected'), MATRIX)
async def test_role_action_matrix(
    action: str, actor_name: str, expected: object, company: Customer, admin: PortalUser, clerk: PortalUser,
    reader: PortalUser, staff: PortalUser, other_admin: PortalUser,
) -> None:
    actor = {'admin': admin, 'clerk': clerk, 'readonly': reader, 'staff': staff, 'other_admin': other_admin}[actor_name]
    if action == 'generate_code':
        assert permissions.may(actor, Action.GENERATE_CODE, company.id) is expected
        return
    if action == 'decide_antrag':
        assert permissions.may(actor, Action.DECIDE_ANTRAG, company.id) is expected
        return
    target = await make_user('kollegin@fahrradmanufaktur-kassel.de', Role.CLERK, company, name='Eva Kollegin')
    if action == 'reactivate':
        target.is_active = False
        await target.save(update_fields=['is_active'])
    if expected == OK:
        assert await run_action(action, actor, company, target) is True
        return
    error = PermissionDenied if expected == DENIED else NotFound
    with pytest.raises(error):
        await run_action(action, actor, company, target)
    if action != 'list':
        assert await unchanged(action, target)


async def test_every_change_is_audited_with_actor_and_client(admin: PortalUser, company: Customer) -> None:
    issued = await anwender.invite(admin, name='Eva Kollegin', email='eva@fahrradmanufaktur-kassel.de',
                                   role=Role.CLERK, base_url=BASE_URL, client=CLIENT)
    user_id = issued.user.id
    await anwender.change_role(admin, user_id, Role.READONLY, client=CLIENT)
    await anwender.deactivate(admin, user_id, client=CLIENT)
    await anwender.reactivate(admin, user_id, client=CLIENT)
    await anwender.send_password_link(admin, user_id, base_url=BASE_URL, client=CLIENT)
    events = await AuditEvent.filter(object_type='user', object_id=str(user_id)).order_by('id')
    assert [event.kind for event in events] == [
        AuditKind.USER_INVITED, AuditKind.USER_ROLE_CHANGED, AuditKind.USER_DEACTIVATED, AuditKind.USER_REACTIVATED,
        AuditKind.PASSWORD_LINK_SENT,
    ]
    for event in events:
        assert event.actor_id == admin.id
        assert event.actor_label == admin.email
        assert event.client == CLIENT
        assert event.customer_id == company.id
    assert events[1].details == {'email': 'eva@fahrradmanufaktur-kassel.de', 'from': 'clerk', 'to': 'readonly'}
    assert issued.link.split('/')[-1] not in str([event.details for event in events])  # the token is never stored


async def test_staff_actions_land_in_the_companys_audit_scope(staff: PortalUser, company: Customer) -> None:
    await anwender.invite(staff, name='Eva Kollegin', email='eva@fahrradmanufaktur-kassel.de', role=Role.ADMIN,
                          base_url=BASE_URL, customer_id=company.id, client=CLIENT)
    event = await AuditEvent.get(kind=AuditKind.USER_INVITED)
    assert event.customer_id == company.id
    assert event.actor_id == staff.id


# --- inviting and the link ------------------------------------------------------------------------------------------


async def test_an_invited_user_cannot_log_in_until_the_link_is_used(admin: PortalUser, company: Customer) -> None:
    before = clock.now()
    issued = await anwender.invite(admin, name='  Eva Kollegin ', email=' Eva@Fahrradmanufaktur-Kassel.de ',
                                   role='clerk', base_url=BASE_URL, client=CLIENT)
    user = issued.user
    assert (user.email, user.name, user.role, user.customer_id) == (
        'eva@fahrradmanufaktur-kassel.de', 'Eva Kollegin', Role.CLERK, company.id)
    assert user.status == 'eingeladen'
    assert issued.link.startswith('http://portal.test/einladung/')
    assert issued.purpose == InvitationPurpose.EINLADUNG
    assert not issued.mailed
    assert timedelta(hours=72) <= issued.expires_at - before <= timedelta(hours=72, seconds=5)

    token = token_of(issued.link)
    stored = await Invitation.get(user_id=user.id)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored.token_hash
    assert stored.created_by_id == admin.id

    assert user.password_hash.startswith('$argon2id$')  # a hash of a secret nobody knows
    for attempt in ('', 'no account has this password', PASSWORD):
        assert (await auth.login(user.email, attempt)).token is None

    info = await anwender.check_link(token)
    assert (info.name, info.email, info.purpose, info.company) == (
        'Eva Kollegin', user.email, InvitationPurpose.EINLADUNG, company.name)
    await anwender.use_link(token, password=NEW_PASSWORD, confirmation=NEW_PASSWORD, client=CLIENT)
    result = await auth.login(user.email, NEW_PASSWORD)
    assert result.token is not None
    assert (await PortalUser.get(id=user.id)).status == 'aktiv'
    accepted = await AuditEvent.get(kind=AuditKind.INVITATION_ACCEPTED)
    assert (accepted.actor_id, accepted.customer_id, accepted.client) == (
        user.id, company.id, CLIENT)


async def test_public_url_is_the_base_of_the_link(admin: PortalUser, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('PUBLIC_URL', 'https://portal.example.de/')
    from services.settings import reset_settings

    reset_settings()
    issued = await anwender.invite(admin, name='Eva Kollegin', email='eva@fahrradmanufaktur-kassel.de',
                                   role=Role.CLERK, base_url=BASE_URL)
    assert issued.link.startswith('https://portal.example.de/einladung/')


@pytest.mark.parametrize(
    ('name', 'email', 'role', 'field', 'message'),
    [
        ('', 'eva@fahrradmanufaktur-kassel.de', Role.CLERK, 'name', 'Bitte geben Sie einen Namen an.'),
        ('Eva', 'keine-adresse', Role.CLERK, 'email', 'Bitte geben Sie eine gültige E-Mail-Adresse an.'),
        ('Eva', 'ADMIN@fahrradmanufaktur-kassel.de', Role.CLERK, 'email', anwender.EMAIL_TAKEN),
        ('Eva', 'eva@fahrradmanufaktur-kassel.de', Role.STAFF, 'role', anwender.ROLE_INVALID),
        ('Eva', 'eva@fahrradmanufaktur-kassel.de', 'chef', 'role', anwender.ROLE_INVALID),
    ],
)
async def test_bad_invitations_change_nothing(
    admin: PortalUser, name: str, email: str, role: str, field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        await anwender.invite(admin, name=name, email=email, role=role, base_url=BASE_URL)
    assert raised.value.errors[field] == message
    assert await PortalUser.all().count() == 1
    assert not await Invitation.exists()
    assert not await AuditEvent.filter(kind=AuditKind.USER_INVITED).exists()


async def test_the_link_works_exactly_once(admin: PortalUser) -> None:
    issued = await anwender.invite(admin, name='Eva Kollegin', email='eva@fahrradmanufaktur-kassel.de',
                                   role=Role.CLERK, base_url=BASE_URL)
    token = token_of(issued.link)
    await anwender.use_link(token, password=NEW_PASSWORD, confirmation=NEW_PASSWORD)
    with pytest.raises(ServiceError, match=one_time_links.LINK_USED):
        await anwender.check_link(token)
    with pytest.raises(ServiceError, match=one_time_links.LINK_USED):
        await anwender.use_link(token, password='Anderes-Passwort-2031', confirmation='Anderes-Passwort-2031')
    assert (await auth.login(issued.user.email, NEW_PASSWORD)).token is not None


async def test_two_uses_at_the_same_moment_set_one_password(admin: PortalUser, db: str) -> None:
    issued = await anwender.invite(admin, name='Eva Kollegin', email='eva@fahrradmanufaktur-kassel.de',
                                   role=Role.CLERK, base_url=BASE_URL)
    token = token_of(issued.link)
    passwords = ('Erstes-Passwort-Kassel-1', 'Zweites-Passwort-Kassel-2')
    results = await asyncio.gather(
        *(anwender.use_link(token, password=password, confirmation=password) for password in passwords),
        return_exceptions=True,
    )
    assert sum(isinstance(result, PortalUser) for result in results) == 1
    assert [str(result) for result in results if isinstance(result, Exception)] == [one_time_links.LINK_USED]
    winner = passwords[[isinstance(result, PortalUser) for result in results].index(True)]
    assert (await auth.login(issued.user.email, winner)).token is not None
    assert await AuditEvent.filter(kind=AuditKind.INVITATION_ACCEPTED).count() == 1


@pytest.mark.parametrize(
    ('after', 'usable'),
    [(timedelta(hours=71, minutes=59), True), (timedelta(hours=72), False), (timedelta(days=30), False)],
)
async def test_an_invitation_expires_after_72_hours(
    admin: PortalUser, monkeypatch: pytest.MonkeyPatch, after: timedelta, usable: bool
) -> None:
    issued = await anwender.invite(admin, name='Eva Kollegin', email='eva@fahrradmanufaktur-kassel.de',
                                   role=Role.CLERK, base_url=BASE_URL)
    move_clock(monkeypatch, after)
    token = token_of(issued.link)
    if usable:
        await anwender.use_link(token, password=NEW_PASSWORD, confirmation=NEW_PASSWORD)
        return
    with pytest.raises(ServiceError, match=one_time_links.LINK_EXPIRED):
        await anwender.use_link(token, password=NEW_PASSWORD, confirmation=NEW_PASSWORD)
    assert (await PortalUser.get(id=issued.user.id)).password_changed_at is None


@pytest.mark.parametrize('token', ['', 'ausgedacht', 'x' * 500])
async def test_unknown_links_are_refused(admin: PortalUser, token: str) -> None:
    with pytest.raises(NotFound, match=one_time_links.LINK_UNKNOWN):
        await anwender.check_link(token)


@pytest.mark.parametrize(
    ('password', 'confirmation', 'field'),
    [('kurz', 'kurz', 'password'), (NEW_PASSWORD, NEW_PASSWORD + 'x', 'confirmation'),
     ('EvaKollegin-2026!', 'EvaKollegin-2026!', 'password')],
)
async def test_a_bad_password_keeps_the_link_usable(
    admin: PortalUser, password: str, confirmation: str, field: str
) -> None:
    issued = await anwender.invite(admin, name='Eva Kollegin', email='eva@fahrradmanufaktur-kassel.de',
                                   role=Role.CLERK, base_url=BASE_URL)
    token = token_of(issued.link)
    with pytest.raises(ValidationError) as raised:
        await anwender.use_link(token, password=password, confirmation=confirmation)
    assert field in raised.value.errors
    assert (await Invitation.get(user_id=issued.user.id)).used_at is None
    await anwender.use_link(token, password=NEW_PASSWORD, confirmation=NEW_PASSWORD)


async def test_a_password_link_resets_the_password_and_ends_sessions(
    admin: PortalUser, company: Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    clerk = await make_user('jonas@fahrradmanufaktur-kassel.de', Role.CLERK, company, name='Jonas Weber')
    session_token = await sessions.start_session(clerk)
    issued = await anwender.send_password_link(admin, clerk.id, base_url=BASE_URL, client=CLIENT)
    assert issued.purpose == InvitationPurpose.PASSWORT
    assert issued.expires_at - clock.now() <= anwender.PASSWORD_LINK_VALIDITY
    await anwender.use_link(token_of(issued.link), password=NEW_PASSWORD, confirmation=NEW_PASSWORD, client=CLIENT)
    assert await sessions.user_for_token(session_token) is None
    assert (await auth.login(clerk.email, PASSWORD)).token is None
    assert (await auth.login(clerk.email, NEW_PASSWORD)).token is not None
    assert await AuditEvent.filter(kind=AuditKind.PASSWORD_LINK_USED, actor_id=clerk.id).exists()

    second = await anwender.send_password_link(admin, clerk.id, base_url=BASE_URL)
    move_clock(monkeypatch, anwender.PASSWORD_LINK_VALIDITY)
    with pytest.raises(ServiceError, match=one_time_links.LINK_EXPIRED):
        await anwender.check_link(token_of(second.link))


async def test_a_new_link_replaces_the_open_one(admin: PortalUser) -> None:
    first = await anwender.invite(admin, name='Eva Kollegin', email='eva@fahrradmanufaktur-kassel.de',
                                  role=Role.CLERK, base_url=BASE_URL)
    second = await anwender.send_password_link(admin, first.user.id, base_url=BASE_URL)
    assert second.purpose == InvitationPurpose.EINLADUNG  # not accepted yet: a fresh invitation
    with pytest.raises(ServiceError, match=one_time_links.LINK_REVOKED):
        await anwender.use_link(token_of(first.link), password=NEW_PASSWORD, confirmation=NEW_PASSWORD)
    await anwender.use_link(token_of(second.link), password=NEW_PASSWORD, confirmation=NEW_PASSWORD)


async def test_a_deactivated_users_links_stop_working(admin: PortalUser) -> None:
    issued = await anwender.invite(admin, name='Eva Kollegin', email='eva@fahrradmanufaktur-kassel.de',
                                   role=Role.CLERK, base_url=BASE_URL)
    await anwender.deactivate(admin, issued.user.id)
    with pytest.raises(ServiceError, match=one_time_links.LINK_REVOKED):
        await anwender.check_link(token_of(issued.link))
    with pytest.raises(ServiceError, match=anwender.DEACTIVATED_NO_LINK):
        await anwender.send_password_link(admin, issued.user.id, base_url=BASE_URL)


# --- deactivation ---------------------------------------------------------------------------------------------------


async def test_deactivation_ends_the_sessions_at_once(admin: PortalUser, company: Customer) -> None:
    clerk = await make_user('jonas@fahrradmanufaktur-kassel.de', Role.CLERK, company, name='Jonas Weber')
    tokens = [await sessions.start_session(clerk, client='10.0.0.1'), await sessions.start_session(clerk)]
    await anwender.deactivate(admin, clerk.id, client=CLIENT)
    assert await Session.filter(user_id=clerk.id, ended_at=None).count() == 0
    assert {session.end_reason for session in await Session.filter(user_id=clerk.id)} == {'deactivated'}
    for token in tokens:
        assert await sessions.user_for_token(token) is None
    assert (await auth.login(clerk.email, PASSWORD)).error == auth.INACTIVE
    event = await AuditEvent.get(kind=AuditKind.USER_DEACTIVATED)
    assert event.details['sessions_ended'] == 2

    await anwender.reactivate(admin, clerk.id, client=CLIENT)
    assert (await auth.login(clerk.email, PASSWORD)).token is not None


async def test_nobody_deactivates_their_own_account(admin: PortalUser, company: Customer) -> None:
    await make_user('zweite@fahrradmanufaktur-kassel.de', Role.ADMIN, company, name='Zweite Admin')
    with pytest.raises(ServiceError, match=anwender.OWN_ACCOUNT):
        await anwender.deactivate(admin, admin.id)
    assert (await PortalUser.get(id=admin.id)).is_active


# --- the last active administrator ----------------------------------------------------------------------------------


LAST_ADMIN_CHANGES: dict[str, Callable[[PortalUser, PortalUser], Awaitable[object]]] = {
    'deactivate': lambda admin, staff: anwender.deactivate(staff, admin.id),
    'demote_self': lambda admin, staff: anwender.change_role(admin, admin.id, Role.CLERK),
    'demote_by_staff': lambda admin, staff: anwender.change_role(staff, admin.id, Role.READONLY),
}


@pytest.mark.parametrize('change', LAST_ADMIN_CHANGES)
async def test_the_last_active_admin_stays(
    admin: PortalUser, staff: PortalUser, company: Customer, change: str
) -> None:
    # an invited administrator who has not set a password does not count, nor does a deactivated one
    await anwender.invite(admin, name='Eingeladen', email='neu@fahrradmanufaktur-kassel.de', role=Role.ADMIN,
                          base_url=BASE_URL)
    gone = await make_user('weg@fahrradmanufaktur-kassel.de', Role.ADMIN, company, name='Nicht Mehr')
    await anwender.deactivate(admin, gone.id)
    with pytest.raises(ServiceError, match='letzte aktive Administrator'):
        await LAST_ADMIN_CHANGES[change](admin, staff)
    current = await PortalUser.get(id=admin.id)
    assert (current.role, current.is_active) == (Role.ADMIN, True)
    assert not await AuditEvent.filter(kind=AuditKind.USER_ROLE_CHANGED).exists()


async def test_with_a_second_admin_one_may_go(admin: PortalUser, company: Customer) -> None:
    second = await make_user('zweite@fahrradmanufaktur-kassel.de', Role.ADMIN, company, name='Zweite Admin')
    await anwender.change_role(admin, second.id, Role.CLERK)
    await anwender.change_role(admin, second.id, Role.ADMIN)
    await anwender.deactivate(admin, second.id)
    with pytest.raises(ServiceError, match='letzte aktive Administrator'):
        await anwender.change_role(admin, admin.id, Role.CLERK)
    await anwender.reactivate(admin, second.id)
    await anwender.change_role(admin, admin.id, Role.CLERK)
    assert (await PortalUser.get(id=admin.id)).role == Role.CLERK


async def test_two_admins_demoting_each_other_at_once_leave_one(company: Customer, db: str) -> None:
    first = await make_user('erste@fahrradmanufaktur-kassel.de', Role.ADMIN, company, name='Erste Admin')
    second = await make_user('zweite@fahrradmanufaktur-kassel.de', Role.ADMIN, company, name='Zweite Admin')
    results = await asyncio.gather(
        anwender.change_role(first, second.id, Role.CLERK), anwender.change_role(second, first.id, Role.CLERK),
        return_exceptions=True,
    )
    assert sum(isinstance(result, ServiceError) for result in results) == 1
    assert await PortalUser.filter(customer_id=company.id, role=Role.ADMIN).count() == 1


async def test_an_unchanged_role_records_nothing(admin: PortalUser, company: Customer) -> None:
    clerk = await make_user('jonas@fahrradmanufaktur-kassel.de', Role.CLERK, company, name='Jonas Weber')
    await anwender.change_role(admin, clerk.id, Role.CLERK)
    with pytest.raises(ValidationError):
        await anwender.change_role(admin, clerk.id, Role.STAFF)
    assert not await AuditEvent.filter(kind=AuditKind.USER_ROLE_CHANGED).exists()


# --- tenant isolation -----------------------------------------------------------------------------------------------

TargetAction = Callable[[PortalUser, int], Awaitable[object]]
TARGET_ACTIONS: dict[str, TargetAction] = {
    'get': lambda actor, user_id: anwender.get_user(actor, user_id),
    'change_role': lambda actor, user_id: anwender.change_role(actor, user_id, Role.READONLY),
    'deactivate': lambda actor, user_id: anwender.deactivate(actor, user_id),
    'reactivate': lambda actor, user_id: anwender.reactivate(actor, user_id),
    'reset_link': lambda actor, user_id: anwender.send_password_link(actor, user_id, base_url=BASE_URL),
}


@pytest.mark.parametrize('action', TARGET_ACTIONS)
async def test_another_companys_user_is_not_found(
    admin: PortalUser, other_admin: PortalUser, action: str
) -> None:
    with pytest.raises(NotFound, match=anwender.NOT_FOUND):
        await TARGET_ACTIONS[action](other_admin, admin.id)
    with pytest.raises(NotFound, match=anwender.NOT_FOUND):
        await TARGET_ACTIONS[action](admin, 999_999)  # an id that does not exist says the same


@pytest.mark.parametrize('action', TARGET_ACTIONS)
async def test_staff_accounts_are_not_managed_here(staff: PortalUser, admin: PortalUser, action: str) -> None:
    with pytest.raises(NotFound):
        await TARGET_ACTIONS[action](admin, staff.id)
    with pytest.raises(NotFound):
        await TARGET_ACTIONS[action](staff, staff.id)


async def test_lists_are_scoped(
    admin: PortalUser, other_admin: PortalUser, staff: PortalUser, company: Customer, other_company: Customer
) -> None:
    own = await anwender.list_users(admin, TableRequest())
    assert [user.email for user in own.rows] == [admin.email]
    with pytest.raises(NotFound):
        await anwender.list_users(admin, TableRequest(), customer_id=other_company.id)
    with pytest.raises(NotFound, match=anwender.NO_CUSTOMER_CHOSEN):
        await anwender.list_users(staff, TableRequest())
    theirs = await anwender.list_users(staff, TableRequest(), customer_id=other_company.id)
    assert [user.email for user in theirs.rows] == [other_admin.email]
    assert (await anwender.company(admin)).id == company.id
    assert (await anwender.company(admin, company.kundennummer)).id == company.id
    with pytest.raises(NotFound, match=anwender.CUSTOMER_NOT_FOUND):
        await anwender.company(admin, other_company.kundennummer)
    assert (await anwender.company(staff, other_company.kundennummer)).id == other_company.id
    with pytest.raises(NotFound, match=anwender.CUSTOMER_NOT_FOUND):
        await anwender.company(staff, '999999')


async def test_the_list_searches_sorts_and_pages(admin: PortalUser, company: Customer) -> None:
    for number in range(12):
        await anwender.invite(admin, name=f'Person {number:02d}', email=f'p{number:02d}@fahrradmanufaktur-kassel.de',
                              role=Role.READONLY if number % 2 else Role.CLERK, base_url=BASE_URL)
    page = await anwender.list_users(admin, TableRequest(sort='name', page=2, page_size=10))
    assert (page.total, page.first, page.last) == (13, 11, 13)
    assert [user.name for user in page.rows] == ['Person 09', 'Person 10', 'Person 11']
    descending = await anwender.list_users(admin, TableRequest(sort='email', descending=True))
    assert descending.rows[0].email == 'p11@fahrradmanufaktur-kassel.de'
    found = await anwender.list_users(admin, TableRequest(search='nur lesen eingeladen', page_size=100))
    assert {user.name for user in found.rows} == {f'Person {number:02d}' for number in range(1, 12, 2)}
    assert (await anwender.list_users(admin, TableRequest(search='Administrator aktiv'))).total == 1
    await anwender.deactivate(admin, found.rows[0].id)
    assert (await anwender.list_users(admin, TableRequest(search='deaktiviert'))).total == 1


# --- mail -----------------------------------------------------------------------------------------------------------


async def test_the_invitation_is_mailed_through_the_outbox(admin: PortalUser, smtp_server: MailCatcher) -> None:
    issued = await anwender.invite(admin, name='Eva Kollegin', email='eva@fahrradmanufaktur-kassel.de',
                                   role=Role.CLERK, base_url=BASE_URL)
    assert issued.mailed
    assert smtp_server.messages == []  # written with the invitation, delivered by the worker
    assert await mail_worker.deliver_due() == 1
    (message,) = smtp_server.messages
    assert message['To'] == 'eva@fahrradmanufaktur-kassel.de'
    assert message['From'] == 'portal@verkehrsbetrieb.de'
    assert message['Subject'] == 'Ihre Einladung zum Firmenportal D-Ticket Job'
    body = text_of(message)
    assert issued.link in body
    assert 'Anna Dietrich hat Sie als Sachbearbeitung für Fahrradmanufaktur Kassel GmbH' in body
    assert issued.link in html_of(message)


async def test_a_failing_mail_server_does_not_undo_the_invitation(
    admin: PortalUser, smtp_server: MailCatcher
) -> None:
    smtp_server.refuse_next = ['451 4.3.0 Bitte später erneut']
    issued = await anwender.invite(admin, name='Eva Kollegin', email='eva@fahrradmanufaktur-kassel.de',
                                   role=Role.CLERK, base_url=BASE_URL)
    assert await mail_worker.deliver_due() == 1
    assert smtp_server.messages == []
    await anwender.check_link(token_of(issued.link))
    queued = await OutboxMail.get(recipient='eva@fahrradmanufaktur-kassel.de')
    assert (queued.status, queued.attempts) == (MailStatus.WARTEND, 1)


async def test_without_smtp_the_mail_waits_in_the_outbox(admin: PortalUser) -> None:
    issued = await anwender.send_password_link(admin, admin.id, base_url=BASE_URL)
    assert not issued.mailed
    assert isinstance(issued.expires_at, datetime)
    assert await mail_worker.deliver_due() == 0
    assert await OutboxMail.filter(status=MailStatus.WARTEND, recipient=admin.email).count() == 1
