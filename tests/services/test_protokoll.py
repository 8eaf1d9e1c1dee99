"""The Protokoll (issue 7): who sees which events, the filters, paging in the database, and that the audit trail
has no way to be changed."""

from __future__ import annotations

import inspect
from datetime import UTC, date, datetime

import pytest

from models import AuditEvent, Customer, PortalUser, Role
from services import audit, auth, protokoll
from services.audit import AuditKind
from services.errors import PermissionDenied, ValidationError
from services.protokoll import AuditFilter
from services.table_query import TablePage, TableRequest
from tests.conftest import PASSWORD, make_user


async def event(kind: AuditKind, when: datetime, *, actor: PortalUser | None = None, label: str = '',
                customer: Customer | None = None, client: str = '') -> AuditEvent:
    created = await audit.record(kind, actor=actor, actor_label=label, customer_id=customer.id if customer else None,
                                 client=client)
    created.created_at = when
    await AuditEvent.filter(id=created.id).update(created_at=when)  # the test sets the time; services never update
    return created


@pytest.fixture
async def events(admin: PortalUser, company: Customer, other_company: Customer) -> None:
    await AuditEvent.all().delete()  # the fixtures' own events (customer and user created)
    await event(AuditKind.LOGIN, datetime(2026, 3, 1, 8, 0, tzinfo=UTC), actor=admin, client='10.0.0.1')
    await event(AuditKind.CODE_GENERATED, datetime(2026, 3, 1, 23, 30, tzinfo=UTC), actor=admin)  # 2 March in Berlin
    await event(AuditKind.LOGIN, datetime(2026, 3, 5, 9, 0, tzinfo=UTC), label='jonas@fahrradmanufaktur-kassel.de',
                customer=company)
    await event(AuditKind.LOGIN, datetime(2026, 3, 2, 9, 0, tzinfo=UTC), label='chef@kaufunger-holzbau.de',
                customer=other_company)
    await event(AuditKind.DEMO_DATA_LOADED, datetime(2026, 3, 3, 9, 0, tzinfo=UTC), label='Betrieb (Start)')


def kinds(page: TablePage[AuditEvent]) -> list[str]:
    return [row.kind for row in page.rows]


async def test_an_admin_sees_their_companys_events_newest_first(admin: PortalUser, events: None) -> None:
    page = await protokoll.list_events(admin, TableRequest())
    assert [row.actor_label for row in page.rows] == [
        'jonas@fahrradmanufaktur-kassel.de', admin.email, admin.email]
    assert kinds(page) == ['login', 'code_generated', 'login']
    ascending = await protokoll.list_events(admin, TableRequest(sort='created_at', descending=False))
    assert kinds(ascending) == ['login', 'code_generated', 'login']
    assert ascending.rows[0].client == '10.0.0.1'


async def test_staff_see_every_event_and_can_narrow_to_a_customer(
    staff: PortalUser, events: None, other_company: Customer
) -> None:
    everything = await protokoll.list_events(staff, TableRequest(page_size=100))
    assert everything.total == 5  # `staff` is set up before `events`, which starts from an empty trail
    only_other = await protokoll.list_events(staff, TableRequest(), AuditFilter(kundennummer=' 200418 '))
    assert [row.actor_label for row in only_other.rows] == ['chef@kaufunger-holzbau.de']
    numbers = await protokoll.kundennummern(everything.rows)
    assert sorted(numbers.values()) == ['100234', '200418']


@pytest.mark.parametrize('role', [Role.CLERK, Role.READONLY])
async def test_clerks_and_readers_see_no_protocol(company: Customer, role: Role) -> None:
    user = await make_user(f'{role.value}@fahrradmanufaktur-kassel.de', role, company)
    with pytest.raises(PermissionDenied):
        await protokoll.list_events(user, TableRequest())


async def test_another_companys_admin_sees_none_of_these(events: None, other_company: Customer) -> None:
    other = await make_user('chef2@kaufunger-holzbau.de', Role.ADMIN, other_company)
    page = await protokoll.list_events(other, TableRequest(page_size=100), AuditFilter(kundennummer='100234'))
    assert {row.customer_id for row in page.rows} == {other_company.id}
    assert 'chef@kaufunger-holzbau.de' in [row.actor_label for row in page.rows]


@pytest.mark.parametrize(
    ('filters', 'expected'),
    [
        (AuditFilter(since=date(2026, 3, 2)), ['login', 'code_generated']),
        (AuditFilter(until=date(2026, 3, 1)), ['login']),
        (AuditFilter(since=date(2026, 3, 2), until=date(2026, 3, 2)), ['code_generated']),
        (AuditFilter(user='JONAS'), ['login']),
        (AuditFilter(user='  admin@ '), ['code_generated', 'login']),
        (AuditFilter(kind='login'), ['login', 'login']),
        (AuditFilter(kind='login', user='admin'), ['login']),
        (AuditFilter(kind='erfunden'), []),
        (AuditFilter(user='%'), []),
    ],
)
async def test_filters(admin: PortalUser, events: None, filters: AuditFilter, expected: list[str]) -> None:
    assert kinds(await protokoll.list_events(admin, TableRequest(), filters)) == expected


async def test_until_before_since_is_refused(admin: PortalUser) -> None:
    with pytest.raises(ValidationError) as raised:
        await protokoll.list_events(admin, TableRequest(), AuditFilter(since=date(2026, 3, 2), until=date(2026, 3, 1)))
    assert raised.value.errors == {'until': 'Das Bis-Datum darf nicht vor dem Von-Datum liegen.'}


async def test_paging_in_the_database(admin: PortalUser, company: Customer) -> None:
    for day in range(1, 24):
        await event(AuditKind.LOGIN, datetime(2026, 4, day, 12, tzinfo=UTC), actor=admin)
    first = await protokoll.list_events(admin, TableRequest(page_size=10), AuditFilter(kind='login'))
    assert (first.total, first.page_count, len(first.rows)) == (23, 3, 10)
    assert first.rows[0].created_at.day == 23
    last = await protokoll.list_events(admin, TableRequest(page=99, page_size=10), AuditFilter(kind='login'))
    assert (last.request.page, [row.created_at.day for row in last.rows]) == (3, [3, 2, 1])
    searched = await protokoll.list_events(admin, TableRequest(search='ignored', sort='kind'))
    assert searched.request.sort == 'created_at'  # only the time is sortable; the search box is not used here


async def test_recent_logins_are_the_users_own(admin: PortalUser, company: Customer) -> None:
    other = await make_user('jonas@fahrradmanufaktur-kassel.de', Role.CLERK, company, name='Jonas Weber')
    for client in ('10.0.0.1', '10.0.0.2'):
        await auth.login(admin.email, PASSWORD, client=client)
    await auth.login(other.email, PASSWORD, client='10.0.0.3')
    await auth.login(admin.email, 'falsch', client='10.0.0.4')
    logins = await protokoll.recent_logins(admin)
    assert [login.client for login in logins] == ['10.0.0.2', '10.0.0.1']


def test_labels() -> None:
    options = protokoll.kind_options()
    assert options['login'] == 'Anmeldung'
    assert options['user_invited'] == 'Anwender eingeladen'
    assert list(options.values()) == sorted(options.values())
    assert set(options) == {kind.value for kind in AuditKind}
    assert protokoll.kind_label('unbekannt') == 'unbekannt'
    row = AuditEvent(object_type='contract', object_id='7', details={'vertragsnummer': 'DJ-2024-0117'})
    assert protokoll.object_label(row) == 'Vertrag DJ-2024-0117'
    assert protokoll.object_label(AuditEvent(object_type='session', object_id='3', details={})) == 'Sitzung 3'
    assert protokoll.object_label(AuditEvent(object_type='', details={})) == ''


def test_the_audit_trail_cannot_be_changed_through_the_services() -> None:
    """Append-only: the audit services offer no update or delete."""
    for module in (audit, protokoll):
        source = inspect.getsource(module)
        names = [name for name, _ in inspect.getmembers(module, inspect.isfunction) if name.startswith(
            ('update', 'delete', 'remove', 'change', 'edit', 'purge'))]
        assert names == []
        assert '.delete(' not in source and '.update(' not in source and '.save(' not in source
