"""The one permission authority (services/permissions.py), on SQLite and PostgreSQL:

- the matrix, table-driven: each role × each action, on the own company, another company and no company;
- `scoped`: every kind of company data is limited to the actor's company, everything for staff, nothing for a
  deactivated user, an unknown role or a company user without a company;
- every service that reads or changes company data, called by each kind of actor on one company's records: the
  company's own roles as the matrix says, another company's administrator finds nothing, staff everything, and a
  deactivated administrator nothing;
- the Dashboard with more active contracts than a query may carry parameters;
- no role comparisons outside the matrix.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from tortoise.models import Model

from models import (
    Abo,
    AboStatus,
    Antrag,
    AntragStatus,
    AuditEvent,
    BillingLine,
    BillingRun,
    Contract,
    ContractStatus,
    Customer,
    Kundencode,
    PortalUser,
    Produktangebot,
    Role,
    SubsidyChange,
    Ticketart,
    Upload,
    UploadResult,
)
from services import (
    abos,
    antraege,
    anwender,
    clock,
    dashboard,
    kunden,
    kundencode,
    massenupload,
    permissions,
    protokoll,
    vertraege,
    verwaltung,
)
from services.antraege import person_key
from services.errors import NotFound, PermissionDenied, ServiceError
from services.permissions import Action, scoped
from services.table_query import TableRequest

TODAY = date(2026, 3, 5)
BASE_URL = 'http://portal.test/'
ROLES = (Role.ADMIN, Role.CLERK, Role.READONLY, Role.STAFF)

# The matrix as the README describes it, written out independently of services/permissions.py:
# A = Administrator, C = Sachbearbeitung, R = Nur lesen, S = Verkehrsunternehmen.
EXPECTED_ROLES: dict[Action, str] = {
    Action.VIEW_ALL_CUSTOMERS: 'S',
    Action.VIEW_MAIL_STATUS: 'S',
    Action.MANAGE_CUSTOMERS: 'S',
    Action.CREATE_CONTRACT: 'S',
    Action.CHANGE_CONTRACT_STATUS: 'S',
    Action.MANAGE_TARIFFS: 'S',
    Action.CLOSE_MONTH: 'S',
    Action.VIEW_MONTH_OVERVIEW: 'S',
    Action.RESET_SECOND_FACTOR: 'S',
    Action.VIEW_DASHBOARD: 'ACRS',
    Action.VIEW_CONTRACTS: 'ACRS',
    Action.GENERATE_CODE: 'AS',
    Action.REVOKE_CODE: 'AS',
    Action.VIEW_ANTRAEGE: 'ACRS',
    Action.DECIDE_ANTRAG: 'ACS',
    Action.VIEW_ABOS: 'ACRS',
    Action.END_ABO: 'ACS',
    Action.EXPORT_ABOS: 'ACRS',
    Action.MASSENUPLOAD: 'ACS',
    Action.VIEW_UPLOADS: 'ACRS',
    Action.LIST_USERS: 'ACRS',
    Action.INVITE_USER: 'AS',
    Action.CHANGE_ROLE: 'AS',
    Action.DEACTIVATE_USER: 'AS',
    Action.REACTIVATE_USER: 'AS',
    Action.SEND_PASSWORD_LINK: 'AS',
    Action.VIEW_AUDIT_LOG: 'AS',
    Action.VIEW_BILLING: 'ACS',
    Action.CHANGE_SUBSIDY: 'AS',
}
LETTER = {Role.ADMIN: 'A', Role.CLERK: 'C', Role.READONLY: 'R', Role.STAFF: 'S'}


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr('services.clock.today', lambda: TODAY)


# --- the world: two companies with a record of every kind -------------------------------------------------------------


@dataclass
class Side:
    """One company's records."""

    customer: Customer
    contract: Contract
    code: Kundencode
    antrag: Antrag
    abo: Abo
    upload: Upload
    subsidy: SubsidyChange
    line: BillingLine


@dataclass
class World:
    own: Side
    other: Side
    users: dict[str, PortalUser]  # admin, clerk, readonly, other_admin, staff, inactive_admin
    target: PortalUser  # a clerk of the own company, for the Anwender actions


async def _side(customer: Customer, prefix: str, admin: PortalUser) -> Side:
    contract = await vertraege.create_contract(
        customer=customer, vertragsnummer=f'{prefix}-0001', produktangebot=Produktangebot.RECHNUNG,
        beginn=date(2025, 1, 1), arbeitgeberzuschuss_cent=1575,
    )
    code = await kundencode.generate_code(admin, contract.id, date(2026, 12, 31))
    birthday = date(1988, 7, 14)
    antrag = await Antrag.create(
        reference=f'A-{prefix}', contract=contract, anrede='Frau', vorname='Lena', nachname=f'{prefix}mann',
        geburtsdatum=birthday, email=f'lena@{prefix}.example', strasse='Königsplatz 1', plz='34117', ort='Kassel',
        startmonat=date(2026, 4, 1), ticketart=Ticketart.HANDYTICKET, status=AntragStatus.OFFEN,
        person_key=person_key('Lena', f'{prefix}mann', birthday), created_at=clock.now(),
    )
    abo = await Abo.create(
        contract=contract, vorname='Jonas', nachname=f'{prefix}berg', geburtsdatum=birthday, strasse='Königsplatz 1',
        plz='34117', ort='Kassel', ticketart=Ticketart.CHIPKARTE, startmonat=date(2025, 6, 1), status=AboStatus.AKTIV,
        person_key=person_key('Jonas', f'{prefix}berg', birthday), created_at=clock.now(),
    )
    upload = await Upload.create(
        contract=contract, uploaded_by=admin, file_name='liste.csv', file_sha256='0' * 64,
        result=UploadResult.FEHLERHAFT, created_at=clock.now(),
    )
    subsidy = await SubsidyChange.create(contract=contract, gueltig_ab=date(2027, 1, 1), zuschuss_cent=2000,
                                         created_at=clock.now())
    run = await BillingRun.create(monat=date(2025, 6 if prefix == 'own' else 7, 1), closed_at=clock.now())
    line = await BillingLine.create(
        run=run, contract=contract, abo_id=abo.id, leistungsmonat=run.monat, vorname='Jonas', nachname=abo.nachname,
        ticketart=abo.ticketart.value, startmonat=abo.startmonat, preis_cent=5800, zuschuss_cent=1575,
        rabatt_cent=290, eigenanteil_cent=3935,
    )
    return Side(customer, contract, code, antrag, abo, upload, subsidy, line)


async def _user(email: str, role: Role, customer: Customer | None, *, active: bool = True) -> PortalUser:
    """A user who never logs in here: no password hashing, which keeps the hundreds of cases below fast."""
    return await PortalUser.create(email=email, name=email.split('@')[0].title(), role=role, customer=customer,
                                   password_hash='-', password_changed_at=clock.now(), is_active=active)


@pytest.fixture
async def world(company: Customer, other_company: Customer) -> World:
    users = {
        'admin': await _user('admin@fahrradmanufaktur-kassel.de', Role.ADMIN, company),
        'clerk': await _user('sachbearbeitung@fahrradmanufaktur-kassel.de', Role.CLERK, company),
        'readonly': await _user('lesen@fahrradmanufaktur-kassel.de', Role.READONLY, company),
        'other_admin': await _user('admin@kaufunger-holzbau.de', Role.ADMIN, other_company),
        'staff': await _user('kundenservice@verkehrsbetrieb.de', Role.STAFF, None),
        'inactive_admin': await _user('ehemals@fahrradmanufaktur-kassel.de', Role.ADMIN, company, active=False),
    }
    target = await _user('kollegin@fahrradmanufaktur-kassel.de', Role.CLERK, company)
    return World(await _side(company, 'own', users['admin']), await _side(other_company, 'other', users['other_admin']),
                 users, target)


# --- the matrix -------------------------------------------------------------------------------------------------------


def test_the_expected_table_covers_every_action() -> None:
    assert set(EXPECTED_ROLES) == set(Action) == set(permissions.PERMISSIONS)


@pytest.mark.parametrize('action', list(Action))
async def test_matrix(action: Action, world: World) -> None:
    """Each role × this action: on the own company, on another company, on no company, and as a role at all."""
    allowed = EXPECTED_ROLES[action]
    actors = {'admin': Role.ADMIN, 'clerk': Role.CLERK, 'readonly': Role.READONLY, 'staff': Role.STAFF}
    own, other = world.own.customer.id, world.other.customer.id
    seen = {
        name: (permissions.role_may(world.users[name], action), permissions.may(world.users[name], action, own),
               permissions.may(world.users[name], action, other), permissions.may(world.users[name], action, None))
        for name in actors
    }
    expected = {
        name: (LETTER[role] in allowed, LETTER[role] in allowed, role == Role.STAFF and LETTER[role] in allowed,
               role == Role.STAFF and LETTER[role] in allowed)
        for name, role in actors.items()
    }
    assert seen == expected
    other_admin = world.users['other_admin']
    assert permissions.may(other_admin, action, other) is ('A' in allowed)
    assert permissions.may(other_admin, action, own) is False
    inactive = world.users['inactive_admin']
    assert (permissions.role_may(inactive, action), permissions.may(inactive, action, own)) == (False, False)
    with pytest.raises(PermissionDenied, match=re.escape(permissions.denied_message(action))):
        permissions.require(inactive, action, own)


def test_company_roles() -> None:
    assert permissions.COMPANY_ROLES == (Role.ADMIN, Role.CLERK, Role.READONLY)
    assert not permissions.is_company_role(Role.STAFF) and not permissions.is_company_role('staff')
    assert permissions.company_roles_that_may(Action.CHANGE_ROLE) == {Role.ADMIN}


# --- scoped -----------------------------------------------------------------------------------------------------------


def _ids_by_side(world: World) -> dict[type[Model], tuple[set[object], set[object]]]:
    """Per kind of company data: the ids of the own company's rows and of the other company's rows."""
    own, other = world.own, world.other
    return {
        Customer: ({own.customer.id}, {other.customer.id}),
        Contract: ({own.contract.id}, {other.contract.id}),
        Kundencode: ({own.code.id}, {other.code.id}),
        Antrag: ({own.antrag.id}, {other.antrag.id}),
        Abo: ({own.abo.id}, {other.abo.id}),
        Upload: ({own.upload.id}, {other.upload.id}),
        SubsidyChange: ({own.subsidy.id}, {other.subsidy.id}),
        BillingLine: ({own.line.id}, {other.line.id}),
        PortalUser: (
            {world.users[name].id for name in ('admin', 'clerk', 'readonly', 'inactive_admin')} | {world.target.id},
            {world.users['other_admin'].id},
        ),
    }


async def _visible(model: type[Model], actor: PortalUser) -> set[object]:
    return set(await scoped(model.all(), actor).values_list('id', flat=True))


async def test_scoped_limits_every_kind_of_company_data(world: World) -> None:
    assert set(permissions.COMPANY_PATHS) == {*_ids_by_side(world), AuditEvent}
    for model, (own, other) in _ids_by_side(world).items():
        assert await _visible(model, world.users['admin']) == own, model
        assert await _visible(model, world.users['readonly']) == own, model
        assert await _visible(model, world.users['other_admin']) == other, model
        assert await _visible(model, world.users['staff']) >= own | other, model
        assert await _visible(model, world.users['inactive_admin']) == set(), model
    own_events = set(await AuditEvent.filter(customer_id=world.own.customer.id).values_list('id', flat=True))
    assert own_events and await _visible(AuditEvent, world.users['admin']) == own_events
    assert await _visible(AuditEvent, world.users['staff']) == set(await AuditEvent.all().values_list('id', flat=True))


async def test_scoped_shows_nothing_to_an_unknown_role_or_a_company_user_without_company(world: World) -> None:
    stranger = await PortalUser.get(id=world.users['admin'].id)
    stranger.role = 'gast'  # type: ignore[assignment]  # e.g. a role removed from the code but left in a row
    homeless = await PortalUser.get(id=world.users['clerk'].id)
    homeless.customer_id = None
    for model in permissions.COMPANY_PATHS:
        assert await _visible(model, stranger) == set(), model
        assert await _visible(model, homeless) == set(), model
    assert not permissions.role_may(stranger, Action.VIEW_CONTRACTS)
    assert not permissions.may(homeless, Action.VIEW_CONTRACTS, None)


async def test_scoped_keeps_the_callers_filters(world: World) -> None:
    queryset = Contract.filter(vertragsnummer=world.other.contract.vertragsnummer)
    assert await scoped(queryset, world.users['admin']).count() == 0
    assert await scoped(queryset, world.users['staff']).count() == 1


# --- every service, by every kind of actor ----------------------------------------------------------------------------

OK, DENIED, MISSING = 'ok', 'denied', 'missing'
ACTORS = ('admin', 'clerk', 'readonly', 'other_admin', 'staff', 'inactive_admin')


def _must_show(record_ids: Sequence[int | None], record_id: int) -> None:
    """A list that leaves the record out is 'not found' for this table."""
    if record_id not in record_ids:
        raise NotFound()


async def _list_contracts(actor: PortalUser, world: World) -> None:
    page = await vertraege.list_contracts(actor, TableRequest(page_size=100), only_active=False)
    _must_show([contract.id for contract in page.rows], world.own.contract.id)


async def _list_abos(actor: PortalUser, world: World) -> None:
    page = await abos.list_abos(actor, world.own.contract.id, TableRequest())
    _must_show([abo.id for abo in page.rows], world.own.abo.id)


async def _list_antraege(actor: PortalUser, world: World) -> None:
    page = await antraege.list_antraege(actor, world.own.contract.id, TableRequest())
    _must_show([antrag.id for antrag in page.rows], world.own.antrag.id)


async def _upload_history(actor: PortalUser, world: World) -> None:
    _must_show([upload.id for upload in await massenupload.upload_history(actor, world.own.contract.id)],
               world.own.upload.id)


async def _list_users(actor: PortalUser, world: World) -> None:
    page = await anwender.list_users(actor, TableRequest(page_size=100), customer_id=world.own.customer.id)
    _must_show([user.id for user in page.rows], world.target.id)


async def _audit_events(actor: PortalUser, world: World) -> None:
    page = await protokoll.list_events(actor, TableRequest(page_size=100))
    _must_show([event.customer_id for event in page.rows], world.own.customer.id)


async def _dashboard(actor: PortalUser, world: World) -> None:
    _must_show((await dashboard.overview(actor)).open_antraege_contract_ids, world.own.contract.id)


async def _create_customer(actor: PortalUser, world: World) -> None:
    await kunden.create_customer(kundennummer='300100', name='Muster GmbH', strasse='Königsplatz 1', plz='34117',
                                    ort='Kassel', actor=actor)


async def _create_contract(actor: PortalUser, world: World) -> None:
    await vertraege.create_contract(customer=world.own.customer, vertragsnummer='own-0002',
                                    produktangebot=Produktangebot.SEPA, beginn=date(2026, 1, 1),
                                    arbeitgeberzuschuss_cent=1575, actor=actor)


Operation = Callable[[PortalUser, World], Awaitable[object]]
OPERATIONS: dict[str, tuple[Operation, str]] = {
    # name: (what the actor does to the own company's record, outcome per actor in ACTORS order)
    'get_contract': (lambda actor, w: vertraege.get_contract(actor, w.own.contract.id), 'ok ok ok missing ok missing'),
    'list_contracts': (_list_contracts, 'ok ok ok missing ok denied'),
    'list_abos': (_list_abos, 'ok ok ok missing ok missing'),
    'export_csv': (lambda actor, w: abos.export_csv(actor, w.own.contract.id), 'ok ok ok missing ok missing'),
    'export_xlsx': (lambda actor, w: abos.export_xlsx(actor, w.own.contract.id), 'ok ok ok missing ok missing'),
    'end_abo': (lambda actor, w: abos.end_abo(actor, w.own.abo.id), 'ok ok denied missing ok missing'),
    'list_antraege': (_list_antraege, 'ok ok ok missing ok missing'),
    'get_antrag': (lambda actor, w: antraege.get_antrag(actor, w.own.antrag.id), 'ok ok ok missing ok missing'),
    'decide': (lambda actor, w: antraege.decide(actor, w.own.antrag.id, approve=False, reason='Nicht bei uns.'),
               'ok ok denied missing ok missing'),
    'current_code': (lambda actor, w: kundencode.current_code(actor, w.own.contract.id), 'ok ok ok missing ok missing'),
    'generate_code': (lambda actor, w: kundencode.generate_code(actor, w.own.contract.id, date(2026, 11, 30),
                                                           replace_current=True),
                      'ok denied denied missing ok missing'),
    'revoke_code': (lambda actor, w: kundencode.revoke_code(actor, w.own.contract.id),
                    'ok denied denied missing ok missing'),
    'upload_history': (_upload_history, 'ok ok ok missing ok missing'),
    'preview_upload': (lambda actor, w: massenupload.preview_upload(actor, w.own.contract.id, b'', 'liste.csv'),
                       'ok ok denied missing ok missing'),
    'import_upload': (lambda actor, w: massenupload.import_upload(
        actor, w.own.contract.id, None), 'ok ok denied missing ok missing'),
    'list_users': (_list_users, 'ok ok ok missing ok missing'),
    'invite': (lambda actor, w: anwender.invite(actor, name='Neu', email='neu@fahrradmanufaktur-kassel.de',
                                                role=Role.CLERK, base_url=BASE_URL, customer_id=w.own.customer.id),
               'ok denied denied missing ok missing'),
    'change_role': (lambda actor, w: anwender.change_role(actor, w.target.id, Role.READONLY),
                    'ok denied denied missing ok missing'),
    'deactivate': (lambda actor, w: anwender.deactivate(actor, w.target.id), 'ok denied denied missing ok missing'),
    'reactivate': (lambda actor, w: anwender.reactivate(actor, w.target.id), 'ok denied denied missing ok missing'),
    'send_password_link': (lambda actor, w: anwender.send_password_link(actor, w.target.id, base_url=BASE_URL),
                           'ok denied denied missing ok missing'),
    'audit_log': (_audit_events, 'ok denied denied missing ok denied'),
    'dashboard': (_dashboard, 'ok ok ok missing ok denied'),
    'find_contract': (lambda actor, w: verwaltung.find_contract(actor, w.own.contract.vertragsnummer),
                      'denied denied denied denied ok denied'),
    'change_contract_status': (lambda actor, w: verwaltung.change_contract_status(
        actor, w.own.contract.id, ContractStatus.GEKUENDIGT), 'denied denied denied denied ok denied'),
    'create_customer': (_create_customer, 'denied denied denied denied ok denied'),
    'create_contract': (_create_contract, 'denied denied denied denied ok denied'),
}
CASES = [(name, actor, outcome)
         for name, (_, outcomes) in OPERATIONS.items() for actor, outcome in zip(ACTORS, outcomes.split(), strict=True)]


async def _outcome(operation: Operation, actor: PortalUser, world: World) -> str:
    """'denied' and 'missing' are the two refusals; any other result (also a rule of the action itself, such as an
    unreadable file) means the permission let the actor through."""
    try:
        await operation(actor, world)
    except PermissionDenied:
        return DENIED
    except NotFound:
        return MISSING
    except ServiceError:
        return OK
    return OK


@pytest.mark.parametrize(('name', 'actor', 'expected'), CASES)
async def test_each_service_refuses_other_companies_and_wrong_roles(
    name: str, actor: str, expected: str, world: World
) -> None:
    operation = OPERATIONS[name][0]
    before = await _fingerprint(world)
    assert await _outcome(operation, world.users[actor], world) == expected
    if expected != OK:
        assert await _fingerprint(world) == before  # a refusal changes nothing


async def _fingerprint(world: World) -> tuple[object, ...]:
    """What the operations could change: a refusal leaves all of it as it was (audit events of the refusal aside)."""
    return (
        await Customer.all().count(), await Contract.all().order_by('id').values_list('status', flat=True),
        await Kundencode.filter(revoked_at__isnull=True).order_by('id').values_list('id', flat=True),
        await Antrag.all().order_by('id').values_list('status', flat=True),
        await Abo.all().order_by('id').values_list('status', flat=True), await Upload.all().count(),
        await PortalUser.all().order_by('id').values_list('role', 'is_active'),
    )


# --- the Dashboard at scale -------------------------------------------------------------------------------------------


async def test_dashboard_for_staff_with_more_active_contracts_than_a_query_takes_parameters(world: World) -> None:
    """Staff's Dashboard counted the valid codes with the ids of every active contract as parameters: above 32,767
    contracts the query failed on PostgreSQL (asyncpg's limit)."""
    customer, staff = world.other.customer, world.users['staff']
    await Contract._meta.db.execute_script(f"""
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 33000)
        INSERT INTO contract (vertragsnummer, customer_id, firma, strasse, plz, ort, produktangebot, status, beginn,
                              arbeitgeberzuschuss_cent, search_text, created_at, updated_at)
        SELECT 'M-' || i, {customer.id}, 'Masse GmbH', 'Königsplatz 1', '34117', 'Kassel',
               '{Produktangebot.RECHNUNG.value}', '{ContractStatus.AKTIV.value}', '2025-01-01', 1575, '',
               CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
        FROM n""")
    overview = await dashboard.overview(staff)
    assert overview.active_contracts == 33_002
    assert overview.valid_codes == 2
    assert (await dashboard.overview(world.users['admin'])).valid_codes == 1


async def test_code_warnings_count_only_valid_codes_of_active_contracts(world: World) -> None:
    staff = world.users['staff']
    await verwaltung.change_contract_status(staff, world.other.contract.id, ContractStatus.BEENDET)
    expiring = await kundencode.generate_code(world.users['admin'], world.own.contract.id, TODAY + timedelta(days=10),
                                         replace_current=True)
    overview = await dashboard.overview(staff)
    assert overview.valid_codes == 1
    assert [(warning.contract_id, warning.valid_until) for warning in overview.code_warnings] == [
        (world.own.contract.id, expiring.valid_until)]


# --- no role comparisons outside the matrix ---------------------------------------------------------------------------

ROLE_COMPARISON = re.compile(r'\bis_staff\b|\.role\s*[!=]=|[!=]=\s*Role\.')


def test_no_role_comparisons_outside_the_matrix() -> None:
    root = Path(__file__).resolve().parents[2]
    offenders = [
        f'{path.relative_to(root)}:{number}: {line.strip()}'
        for folder in ('services', 'pages')
        for path in sorted((root / folder).rglob('*.py')) if path.name != 'permissions.py'
        for number, line in enumerate(path.read_text(encoding='utf-8').splitlines(), 1)
        if ROLE_COMPARISON.search(line)
    ]
    assert offenders == []
