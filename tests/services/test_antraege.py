"""The company's side of the Anträge on SQLite and PostgreSQL: the list per contract (status filter, search, sort,
paging), tenant isolation, deciding (approve creates the Abo in the same transaction, reject needs a reason), the
double decision (also concurrent), the rollback when the Abo cannot be created, the role matrix, approving a
selection, the open counts for the badges and the audit trail.

Anträge are made the way employees make them: a Kundencode of the company admin and `submit_application`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import date
from typing import Any, cast

import pytest

from models import (
    Abo,
    AboStatus,
    Antrag,
    AntragStatus,
    AuditEvent,
    Contract,
    Customer,
    Employee,
    PortalUser,
    Ticketart,
)
from services import abo_dates, antraege, audit, kundencode, meine_abos
from services.antraege import ALREADY_DECIDED, MAX_REASON, SORTABLE, ApplicationInput
from services.audit import AuditKind
from services.errors import Conflict, NotFound, PermissionDenied, ServiceError, ValidationError
from services.kundencode import CodeCheck
from services.table_query import TableRequest
from services.validation import format_german_date
from tests.conftest import new_contract, order_value
from tests.support import confirm_by_mail

TODAY = date(2026, 3, 5)  # before the cut-off: the open start months are April to September 2026
pytestmark = pytest.mark.today(TODAY)
START_MONTHS = abo_dates.open_start_months(TODAY)
EMPLOYEE_PASSWORD = 'Herkules-Bergpark-Kaskaden-9'
NOT_FOUND = 'Der Antrag wurde nicht gefunden.'
DECIDE_DENIED = 'Nur Administratoren und Sachbearbeitung Ihrer Firma können Anträge entscheiden.'
REASON_MISSING = 'Bitte geben Sie einen Grund für die Ablehnung an.'
REASON_TOO_LONG = f'Der Grund darf höchstens {MAX_REASON} Zeichen lang sein.'
DECISIONS = (AuditKind.ANTRAG_APPROVED, AuditKind.ANTRAG_REJECTED)


async def code_check(actor: PortalUser, contract: Contract) -> CodeCheck:
    code = await kundencode.generate_code(actor, contract.id, date(2026, 12, 31), replace_current=True)
    check = await kundencode.validate(code.code)
    assert check.ok
    return check


@pytest.fixture
async def check(admin: PortalUser, contract: Contract) -> CodeCheck:
    return await code_check(admin, contract)


@pytest.fixture
async def other_contract(other_company: Customer) -> Contract:
    return await new_contract(other_company, 'V-2026-0100')


@pytest.fixture
async def foreign_antrag(other_admin: PortalUser, other_contract: Contract) -> Antrag:
    """An open Antrag under the other company's contract."""
    return await apply(await code_check(other_admin, other_contract), 'Martin', 'Fremd')


@pytest.fixture
def actors(
    admin: PortalUser, clerk: PortalUser, reader: PortalUser, staff: PortalUser, other_admin: PortalUser
) -> dict[str, PortalUser]:
    return {'admin': admin, 'clerk': clerk, 'readonly': reader, 'staff': staff, 'other_admin': other_admin}


async def apply(
    check: CodeCheck, vorname: str = 'Lena', nachname: str = 'Schaefer', *, personalnummer: str = '',
    ticketart: Ticketart = Ticketart.HANDYTICKET, startmonat: date = START_MONTHS[0], geburtsdatum: str = '14.07.1988',
) -> Antrag:
    """An employee's Antrag through the Self-Service service, with an account of their own, the address confirmed
    through the mailed link (so the Antrag is with the company)."""
    data = ApplicationInput(
        anrede='Frau', vorname=vorname, nachname=nachname, geburtsdatum=geburtsdatum,
        email=f'{vorname}.{nachname}.{geburtsdatum}@example.de'.lower().replace('ä', 'ae').replace('ü', 'ue'),
        strasse='Friedrich-Ebert-Straße 12', plz='34117', ort='Kassel', personalnummer=personalnummer,
        startmonat=format_german_date(startmonat), ticketart=ticketart.value,
    )
    antrag = await antraege.submit_application(
        check, data, consent=True, password=EMPLOYEE_PASSWORD, password_confirmation=EMPLOYEE_PASSWORD,
    )
    if antrag.status == AntragStatus.UNBESTAETIGT:  # a new account; a confirmed one's Antrag goes on at once
        await confirm_by_mail(antrag.email)
        await antrag.refresh_from_db()
    return antrag


async def listed(actor: PortalUser, contract: Contract, status: str = 'offen', **request: Any) -> list[int]:
    page = await antraege.list_antraege(actor, contract.id, TableRequest(**request), status=status)
    return [antrag.id for antrag in page.rows]


async def decision_events() -> list[AuditEvent]:
    return await AuditEvent.filter(kind__in=DECISIONS).order_by('id')


async def unchanged(antrag: Antrag) -> bool:
    """Still open, undecided, without an Abo or a decision in the audit trail."""
    await antrag.refresh_from_db()
    return (
        antrag.status == AntragStatus.OFFEN and antrag.decided_at is None and antrag.decided_by_id is None
        and antrag.decision_reason == '' and not await Abo.filter(antrag_id=antrag.id).exists()
        and not await AuditEvent.filter(kind__in=DECISIONS, object_id=str(antrag.id)).exists()
    )


# --- the list --------------------------------------------------------------------------------------------------------


async def test_the_list_shows_the_open_antraege_newest_first_by_default(
    admin: PortalUser, contract: Contract, check: CodeCheck
) -> None:
    first = await apply(check, 'Lena', 'Schaefer')
    second = await apply(check, 'Jonas', 'Becker')
    approved = await apply(check, 'Mia', 'Adler')
    rejected = await apply(check, 'Paul', 'Dorn')
    third = await apply(check, 'Emil', 'Engel')
    await antraege.decide(admin, approved.id, approve=True)
    await antraege.decide(admin, rejected.id, approve=False, reason='Nicht bei uns beschäftigt.')

    page = await antraege.list_antraege(admin, contract.id, TableRequest())
    assert [antrag.id for antrag in page.rows] == [third.id, second.id, first.id]
    assert page.total == 3
    assert (page.request.sort, page.request.descending) == ('created_at', True)

    assert await listed(admin, contract, 'genehmigt') == [approved.id]
    assert await listed(admin, contract, 'abgelehnt') == [rejected.id]
    assert await listed(admin, contract, 'alle') == [third.id, rejected.id, approved.id, second.id, first.id]
    assert await listed(admin, contract, 'offen') == await listed(admin, contract)


async def test_the_list_holds_only_the_contracts_antraege(
    admin: PortalUser, company: Customer, contract: Contract, check: CodeCheck, foreign_antrag: Antrag,
    staff: PortalUser,
) -> None:
    mine = await apply(check)
    second_contract = await new_contract(company, 'V-2026-0002')
    elsewhere = await apply(await code_check(admin, second_contract), 'Jonas', 'Becker')
    assert await listed(admin, contract, 'alle') == [mine.id]
    assert await listed(admin, second_contract, 'alle') == [elsewhere.id]
    assert await listed(staff, contract, 'alle') == [mine.id]
    assert foreign_antrag.id not in await listed(staff, contract, 'alle')


@pytest.mark.parametrize(
    ('search', 'expected'),
    [
        ('schäfer', ['Lena Schäfer', 'Mia Schäfer']),
        ('SCHÄFER mia', ['Mia Schäfer']),
        ('  becker   ', ['Jonas Becker']),
        ('P-20', ['Jonas Becker']),
        ('p-1', ['Lena Schäfer', 'Mia Schäfer']),
        ('schäfer lena', ['Lena Schäfer']),  # every word must occur
        ('lena becker', []),
        ('chipkarte', ['Mia Schäfer']),
        ('mia.schaefer', ['Mia Schäfer']),  # the e-mail address
        ('Kassel', []),  # the address is not searched
        ('%', []),
        ('_', []),
    ],
)
async def test_the_search_finds_names_personalnummer_ticketart_and_email(
    admin: PortalUser, contract: Contract, check: CodeCheck, search: str, expected: list[str]
) -> None:
    antraege_by_name = {}
    for vorname, nachname, personalnummer, ticketart in (
        ('Lena', 'Schäfer', 'P-100', Ticketart.HANDYTICKET), ('Jonas', 'Becker', 'P-200', Ticketart.HANDYTICKET),
        ('Mia', 'Schäfer', 'P-101', Ticketart.CHIPKARTE),
    ):
        antrag = await apply(check, vorname, nachname, personalnummer=personalnummer, ticketart=ticketart)
        antraege_by_name[antrag.id] = f'{vorname} {nachname}'
    found = await listed(admin, contract, search=search)
    assert sorted(antraege_by_name[antrag_id] for antrag_id in found) == sorted(expected)


async def test_the_search_finds_the_reference(admin: PortalUser, contract: Contract, check: CodeCheck) -> None:
    lena = await apply(check)
    await apply(check, 'Jonas', 'Becker')
    assert await listed(admin, contract, search=lena.reference.lower()) == [lena.id]


async def test_the_search_follows_the_status_after_a_decision(
    admin: PortalUser, contract: Contract, check: CodeCheck
) -> None:
    approved = await apply(check)
    still_open = await apply(check, 'Jonas', 'Becker')
    await antraege.decide(admin, approved.id, approve=True)
    assert await listed(admin, contract, 'alle', search='offen') == [still_open.id]
    assert await listed(admin, contract, 'alle', search='genehmigt') == [approved.id]


@pytest.fixture
async def mixed(admin: PortalUser, check: CodeCheck) -> list[Antrag]:
    """Five Anträge that differ in every sortable column (two share a Nachname: ties are broken by id)."""
    made = [
        await apply(check, 'Lena', 'Schaefer', personalnummer='P-300', startmonat=START_MONTHS[2]),
        await apply(check, 'Jonas', 'Becker', personalnummer='P-100', ticketart=Ticketart.CHIPKARTE,
                    startmonat=START_MONTHS[0]),
        await apply(check, 'Mia', 'Adler', personalnummer='P-500', startmonat=START_MONTHS[5]),
        await apply(check, 'Paul', 'Schaefer', personalnummer='P-200', ticketart=Ticketart.CHIPKARTE,
                    startmonat=START_MONTHS[1]),
        await apply(check, 'Emil', 'Dorn', personalnummer='P-400', startmonat=START_MONTHS[3]),
    ]
    await antraege.decide(admin, made[2].id, approve=True)
    await antraege.decide(admin, made[4].id, approve=False, reason='Befristeter Vertrag endet vorher.')
    return [await Antrag.get(id=antrag.id) for antrag in made]


@pytest.mark.parametrize('descending', [False, True], ids=['ascending', 'descending'])
@pytest.mark.parametrize('column', SORTABLE)
async def test_every_sortable_column_sorts_with_ties_by_id(
    admin: PortalUser, contract: Contract, mixed: list[Antrag], column: str, descending: bool
) -> None:
    expected = [antrag.id for antrag in sorted(mixed, key=lambda a: (order_value(a, column), a.id), reverse=descending)]
    assert len({getattr(antrag, column) for antrag in mixed}) > 1
    page = await antraege.list_antraege(
        admin, contract.id, TableRequest(sort=column, descending=descending, page_size=25), status='alle'
    )
    assert [antrag.id for antrag in page.rows] == expected
    assert (page.request.sort, page.request.descending) == (column, descending)


async def test_an_unknown_sort_column_falls_back_to_a_sortable_one(
    admin: PortalUser, contract: Contract, mixed: list[Antrag]
) -> None:
    page = await antraege.list_antraege(admin, contract.id, TableRequest(sort='search_text'), status='alle')
    assert page.request.sort in SORTABLE
    assert len(page.rows) == 5


async def test_paging(admin: PortalUser, contract: Contract, check: CodeCheck) -> None:
    made = [await apply(check, 'Lena', f'Nummer{index:02d}') for index in range(12)]
    newest_first = [antrag.id for antrag in reversed(made)]

    first = await antraege.list_antraege(admin, contract.id, TableRequest())
    assert [antrag.id for antrag in first.rows] == newest_first[:10]
    assert (first.total, first.page_count, first.first, first.last) == (12, 2, 1, 10)

    second = await antraege.list_antraege(admin, contract.id, TableRequest(page=2))
    assert [antrag.id for antrag in second.rows] == newest_first[10:]
    assert (second.first, second.last) == (11, 12)

    beyond = await antraege.list_antraege(admin, contract.id, TableRequest(page=99))
    assert beyond.request.page == 2
    assert [antrag.id for antrag in beyond.rows] == newest_first[10:]

    for page_size, expected_size in ((25, 25), (7, 10), (0, 10)):
        page = await antraege.list_antraege(admin, contract.id, TableRequest(page_size=page_size, page=0))
        assert (page.request.page, page.request.page_size) == (1, expected_size)
        assert len(page.rows) == min(12, expected_size)

    sorted_page = await antraege.list_antraege(
        admin, contract.id, TableRequest(sort='nachname', page=2, page_size=10)
    )
    assert [antrag.nachname for antrag in sorted_page.rows] == ['Nummer10', 'Nummer11']


async def test_an_empty_list(admin: PortalUser, contract: Contract) -> None:
    page = await antraege.list_antraege(admin, contract.id, TableRequest(page=3))
    assert (page.rows, page.total, page.page_count, page.first, page.last) == ([], 0, 1, 0, 0)


# --- tenant isolation ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize('role', ['admin', 'clerk', 'readonly'])
async def test_another_companys_antrag_is_not_found(
    actors: dict[str, PortalUser], foreign_antrag: Antrag, other_contract: Contract, role: str
) -> None:
    actor = actors[role]
    for call in (
        antraege.get_antrag(actor, foreign_antrag.id),
        antraege.decide(actor, foreign_antrag.id, approve=True),
        antraege.decide(actor, foreign_antrag.id, approve=False, reason='Kenne ich nicht.'),
        antraege.get_antrag(actor, 987_654),  # an id that does not exist: the very same answer
    ):
        with pytest.raises(NotFound) as raised:
            await call
        assert str(raised.value) == NOT_FOUND
    with pytest.raises(NotFound) as raised:
        await antraege.list_antraege(actor, other_contract.id, TableRequest())
    assert str(raised.value) == 'Der Vertrag wurde nicht gefunden.'
    assert await unchanged(foreign_antrag)


@pytest.mark.parametrize('role', ['admin', 'clerk', 'readonly', 'staff'])
async def test_the_own_companys_antrag_is_seen_with_its_contract(
    actors: dict[str, PortalUser], check: CodeCheck, contract: Contract, role: str
) -> None:
    mine = await apply(check)
    antrag = await antraege.get_antrag(actors[role], mine.id)
    assert antrag.id == mine.id
    assert antrag.contract.vertragsnummer == contract.vertragsnummer
    assert antrag.contract.customer.name == 'Fahrradmanufaktur Kassel GmbH'


async def test_staff_see_and_list_every_companys_antraege(
    staff: PortalUser, foreign_antrag: Antrag, other_contract: Contract
) -> None:
    assert (await antraege.get_antrag(staff, foreign_antrag.id)).id == foreign_antrag.id
    assert await listed(staff, other_contract) == [foreign_antrag.id]


# --- deciding --------------------------------------------------------------------------------------------------------


async def test_approving_creates_exactly_one_abo_from_the_antrag(
    admin: PortalUser, contract: Contract, check: CodeCheck
) -> None:
    antrag = await apply(check, 'Lena', 'Schäfer', personalnummer='P-4711', ticketart=Ticketart.CHIPKARTE,
                         startmonat=START_MONTHS[3])
    decided = await antraege.decide(admin, antrag.id, approve=True, client='192.0.2.7')

    assert decided.status == AntragStatus.GENEHMIGT
    assert decided.decided_at is not None
    assert decided.decided_by_id == admin.id
    assert decided.decision_reason == ''
    (abo,) = await Abo.all()
    for name in ('vorname', 'nachname', 'geburtsdatum', 'personalnummer', 'strasse', 'plz', 'ort', 'ticketart',
                 'startmonat', 'person_key'):
        assert getattr(abo, name) == getattr(antrag, name), name
    assert (abo.contract_id, abo.employee_id, abo.antrag_id) == (
        contract.id, antrag.employee_id, antrag.id,
    )
    assert abo.employee_id is not None
    assert abo.status == AboStatus.AKTIV
    assert abo.startmonat == START_MONTHS[3]
    assert abo.endmonat is None and abo.cancelled_at is None
    assert (abo.nachname, abo.ticketart) == ('Schäfer', Ticketart.CHIPKARTE)

    (event,) = await decision_events()
    assert event.kind == AuditKind.ANTRAG_APPROVED.value
    assert event.actor_id == admin.id
    assert event.actor_label == admin.email
    assert event.customer_id == contract.customer_id
    assert (event.object_type, event.object_id) == ('antrag', str(antrag.id))
    assert event.details == {'reference': antrag.reference}
    assert event.client == '192.0.2.7'

    employee = await Employee.get(id=antrag.employee_id)
    assert [mine.id for mine in await meine_abos.my_abos(employee)] == [abo.id]  # the employee sees it


async def test_an_approval_may_carry_a_note(admin: PortalUser, check: CodeCheck) -> None:
    antrag = await apply(check)
    decided = await antraege.decide(admin, antrag.id, approve=True, reason='  Willkommen   an Bord! ')
    assert decided.decision_reason == 'Willkommen an Bord!'
    assert await Abo.all().count() == 1


@pytest.mark.parametrize('reason', ['', '   ', '\n\t '])
async def test_rejecting_needs_a_reason(admin: PortalUser, check: CodeCheck, reason: str) -> None:
    antrag = await apply(check)
    with pytest.raises(ValidationError) as raised:
        await antraege.decide(admin, antrag.id, approve=False, reason=reason)
    assert raised.value.errors == {'reason': REASON_MISSING}
    assert str(raised.value) == REASON_MISSING
    assert await unchanged(antrag)


async def test_rejecting_keeps_the_reason_for_the_employee(
    admin: PortalUser, contract: Contract, check: CodeCheck
) -> None:
    antrag = await apply(check)
    decided = await antraege.decide(
        admin, antrag.id, approve=False, reason='  Sie sind bei uns\n nicht mehr beschäftigt. ', client='192.0.2.8'
    )
    reason = 'Sie sind bei uns nicht mehr beschäftigt.'
    assert decided.status == AntragStatus.ABGELEHNT
    assert decided.decision_reason == reason
    assert decided.decided_by_id == admin.id
    assert decided.decided_at is not None
    assert not await Abo.exists()

    shown = await antraege.get_antrag(admin, antrag.id)  # the dialog shows it later
    assert shown.decided_by is not None
    assert (shown.decision_reason, shown.decided_by.name) == (reason, admin.name)
    employee = await Employee.get(id=antrag.employee_id)
    (mine,) = await meine_abos.my_applications(employee)  # and so does Meine Abos
    assert (mine.status, mine.decision_reason) == (AntragStatus.ABGELEHNT, reason)

    (event,) = await decision_events()
    assert event.kind == AuditKind.ANTRAG_REJECTED.value
    assert event.actor_id == admin.id
    assert event.customer_id == contract.customer_id
    assert event.details == {'reference': antrag.reference, 'grund': reason}
    assert event.client == '192.0.2.8'


async def test_the_reason_has_a_length_limit(admin: PortalUser, check: CodeCheck) -> None:
    too_long = await apply(check, 'Jonas', 'Becker')
    for reason in ('ä' * (MAX_REASON + 1), 'x' * 10_000, 'ab ' * 200):
        with pytest.raises(ValidationError) as raised:
            await antraege.decide(admin, too_long.id, approve=False, reason=reason)
        assert raised.value.errors == {'reason': REASON_TOO_LONG}
        with pytest.raises(ValidationError):
            await antraege.decide(admin, too_long.id, approve=True, reason=reason)
    assert await unchanged(too_long)

    at_the_limit = await apply(check)
    reason = 'ü' * MAX_REASON
    decided = await antraege.decide(admin, at_the_limit.id, approve=False, reason=f'  {reason}  ')
    assert decided.decision_reason == reason


@pytest.mark.parametrize(('first', 'second'), [(True, True), (True, False), (False, True), (False, False)])
async def test_a_decided_antrag_cannot_be_decided_again(
    admin: PortalUser, clerk: PortalUser, check: CodeCheck, first: bool, second: bool
) -> None:
    antrag = await apply(check)
    await antraege.decide(admin, antrag.id, approve=first, reason='' if first else 'Kein Anspruch.')
    decided = await Antrag.get(id=antrag.id)
    with pytest.raises(Conflict) as raised:
        await antraege.decide(clerk, antrag.id, approve=second, reason='Doch nicht.')
    assert str(raised.value) == ALREADY_DECIDED
    again = await Antrag.get(id=antrag.id)
    assert (again.status, again.decided_at, again.decided_by_id, again.decision_reason) == (
        decided.status, decided.decided_at, admin.id, decided.decision_reason,
    )
    assert await Abo.all().count() == (1 if first else 0)
    assert len(await decision_events()) == 1


@pytest.fixture
def reading_waits_for_two(monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """Both decisions have read the Antrag as 'offen' before either writes: the moment two people press their
    buttons at once. (If only one ever arrives, the wait just times out.)"""
    original = antraege.get_antrag
    arrived = 0
    both_here = asyncio.Event()

    async def read_then_wait(actor: PortalUser, antrag_id: int) -> Antrag:
        nonlocal arrived
        antrag = await original(actor, antrag_id)
        assert antrag.status == AntragStatus.OFFEN
        arrived += 1
        if arrived >= 2:
            both_here.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(both_here.wait(), 2)
        return antrag

    monkeypatch.setattr(antraege, 'get_antrag', read_then_wait)
    return lambda: arrived


@pytest.mark.parametrize(
    ('first', 'second'), [(True, False), (False, True), (True, True), (False, False)],
    ids=['approve-vs-reject', 'reject-vs-approve', 'approve-twice', 'reject-twice'],
)
async def test_two_people_deciding_at_once_one_wins(
    admin: PortalUser, clerk: PortalUser, check: CodeCheck, reading_waits_for_two: Callable[[], int], first: bool,
    second: bool,
) -> None:
    antrag = await apply(check)
    results = await asyncio.gather(
        antraege.decide(admin, antrag.id, approve=first, reason='' if first else 'Abgelehnt von Anna.'),
        antraege.decide(clerk, antrag.id, approve=second, reason='' if second else 'Abgelehnt von Jonas.'),
        return_exceptions=True,
    )
    assert reading_waits_for_two() == 2  # both had read the Antrag as 'offen'
    winners = [result for result in results if isinstance(result, Antrag)]
    losers = [result for result in results if not isinstance(result, Antrag)]
    assert len(winners) == 1, results
    assert len(losers) == 1, results
    assert isinstance(losers[0], Conflict), results
    assert str(losers[0]) == ALREADY_DECIDED

    stored = await Antrag.get(id=antrag.id)
    approve_won = (first, second)[results.index(winners[0])]
    assert stored.status == (AntragStatus.GENEHMIGT if approve_won else AntragStatus.ABGELEHNT)
    assert stored.decided_by_id == (admin, clerk)[results.index(winners[0])].id
    assert await Abo.filter(antrag_id=antrag.id).count() == (1 if approve_won else 0)
    assert await Abo.all().count() in (0, 1)
    assert len(await decision_events()) == 1


async def test_when_the_abo_cannot_be_created_nothing_is_decided(
    admin: PortalUser, check: CodeCheck, monkeypatch: pytest.MonkeyPatch
) -> None:
    antrag = await apply(check)

    async def broken(antrag: Antrag, startmonat: date | None = None) -> Abo:
        raise RuntimeError('Datenbank voll')

    monkeypatch.setattr(antraege, 'create_abo_from', broken)
    with pytest.raises(RuntimeError, match='Datenbank voll'):
        await antraege.decide(admin, antrag.id, approve=True)
    assert await unchanged(antrag)
    assert not await Abo.exists()
    assert await decision_events() == []

    monkeypatch.undo()
    monkeypatch.setattr('services.clock.today', lambda: TODAY)
    decided = await antraege.decide(admin, antrag.id, approve=True)  # a second try works
    assert decided.status == AntragStatus.GENEHMIGT
    assert await Abo.filter(antrag_id=antrag.id).count() == 1


async def test_when_the_audit_fails_the_abo_is_rolled_back_too(
    admin: PortalUser, check: CodeCheck, monkeypatch: pytest.MonkeyPatch
) -> None:
    antrag = await apply(check)

    async def broken(kind: AuditKind, **kwargs: object) -> None:
        raise RuntimeError('Audit nicht erreichbar')

    monkeypatch.setattr(audit, 'record', broken)
    with pytest.raises(RuntimeError, match='Audit nicht erreichbar'):
        await antraege.decide(admin, antrag.id, approve=True)
    monkeypatch.undo()
    assert await unchanged(antrag)
    assert not await Abo.exists()


ROLE_MATRIX = [
    ('admin', True, None),
    ('admin', False, None),
    ('clerk', True, None),
    ('clerk', False, None),
    ('staff', True, None),
    ('staff', False, None),
    ('readonly', True, PermissionDenied),
    ('readonly', False, PermissionDenied),
    ('other_admin', True, NotFound),
    ('other_admin', False, NotFound),
]


@pytest.mark.parametrize(('role', 'approve', 'refused_with'), ROLE_MATRIX)
async def test_who_may_decide(
    actors: dict[str, PortalUser], contract: Contract, check: CodeCheck, role: str, approve: bool,
    refused_with: type[ServiceError] | None,
) -> None:
    antrag = await apply(check)
    actor = actors[role]
    if refused_with is None:
        decided = await antraege.decide(actor, antrag.id, approve=approve, reason='' if approve else 'Nein.')
        assert decided.status == (AntragStatus.GENEHMIGT if approve else AntragStatus.ABGELEHNT)
        assert decided.decided_by_id == actor.id
        assert await Abo.all().count() == (1 if approve else 0)
        (event,) = await decision_events()
        assert event.actor_id == actor.id
        assert event.customer_id == contract.customer_id  # also for staff
        return
    with pytest.raises(refused_with) as raised:
        await antraege.decide(actor, antrag.id, approve=approve, reason='' if approve else 'Nein.')
    assert str(raised.value) == (DECIDE_DENIED if refused_with is PermissionDenied else NOT_FOUND)
    assert await unchanged(antrag)


async def test_a_reader_is_refused_before_the_reason_is_checked(
    reader: PortalUser, check: CodeCheck
) -> None:
    antrag = await apply(check)
    with pytest.raises(PermissionDenied):
        await antraege.decide(reader, antrag.id, approve=False)
    assert await unchanged(antrag)


# --- approving a selection -------------------------------------------------------------------------------------------


async def test_approve_many_counts_and_names_the_problems(
    admin: PortalUser, check: CodeCheck, foreign_antrag: Antrag
) -> None:
    first = await apply(check)
    second = await apply(check, 'Jonas', 'Becker')
    rejected = await apply(check, 'Mia', 'Adler')
    await antraege.decide(admin, rejected.id, approve=False, reason='Schon ausgeschieden.')

    approved, problems = await antraege.approve_many(
        admin, [first.id, second.id, rejected.id, foreign_antrag.id, 987_654, first.id], client='192.0.2.9'
    )
    assert approved == 2
    assert problems == [ALREADY_DECIDED, NOT_FOUND, NOT_FOUND, ALREADY_DECIDED]
    assert sorted(cast(int, abo.antrag_id) for abo in await Abo.all()) == [first.id, second.id]  # from Anträge
    assert await unchanged(foreign_antrag)
    events = await AuditEvent.filter(kind=AuditKind.ANTRAG_APPROVED).order_by('id')
    assert [event.object_id for event in events] == [str(first.id), str(second.id)]
    assert {event.client for event in events} == {'192.0.2.9'}

    assert await antraege.approve_many(admin, []) == (0, [])


async def test_approve_many_by_a_reader_approves_nothing(reader: PortalUser, check: CodeCheck) -> None:
    made = [await apply(check), await apply(check, 'Jonas', 'Becker')]
    assert await antraege.approve_many(reader, [antrag.id for antrag in made]) == (0, [DECIDE_DENIED] * 2)
    for antrag in made:
        assert await unchanged(antrag)


# --- the open counts (badges) ----------------------------------------------------------------------------------------


@pytest.fixture
def count_queries(monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[str]]:
    """Records every SQL statement sent on the default connection from now on."""
    client = Antrag._meta.db
    statements: list[str] = []
    for name in ('execute_query', 'execute_query_dict', 'execute_insert', 'execute_many', 'execute_script'):
        original = getattr(client, name)

        def counting(query: str, *args: object, _original: Any = original, **kwargs: object) -> Any:
            statements.append(query)
            return _original(query, *args, **kwargs)

        monkeypatch.setattr(client, name, counting)
    return lambda: statements


async def test_open_counts_per_contract_in_one_query(
    admin: PortalUser, company: Customer, contract: Contract, check: CodeCheck, other_contract: Contract,
    foreign_antrag: Antrag, count_queries: Callable[[], list[str]],
) -> None:
    for vorname in ('Lena', 'Jonas', 'Mia'):
        await apply(check, vorname, 'Becker')
    await antraege.decide(admin, (await apply(check, 'Paul', 'Dorn')).id, approve=True)
    only_decided = await new_contract(company, 'V-2026-0002')
    second_check = await code_check(admin, only_decided)
    await antraege.decide(admin, (await apply(second_check)).id, approve=False, reason='Nein.')
    empty = await new_contract(company, 'V-2026-0003')

    before = len(count_queries())
    counts = await antraege.open_counts([contract.id, only_decided.id, empty.id, other_contract.id])
    assert counts == {contract.id: 3, other_contract.id: 1}
    assert len(count_queries()) - before == 1

    before = len(count_queries())
    assert await antraege.open_counts([]) == {}
    assert len(count_queries()) == before  # no query at all
    assert await antraege.open_counts([987_654]) == {}


async def test_open_counts_follow_the_decisions(admin: PortalUser, contract: Contract, check: CodeCheck) -> None:
    made = [await apply(check, vorname) for vorname in ('Lena', 'Jonas')]
    assert await antraege.open_counts([contract.id]) == {contract.id: 2}
    await antraege.decide(admin, made[0].id, approve=True)
    assert await antraege.open_counts([contract.id]) == {contract.id: 1}
    await antraege.decide(admin, made[1].id, approve=False, reason='Nein.')
    assert await antraege.open_counts([contract.id]) == {}


async def test_a_rejected_person_may_apply_again_and_be_approved(admin: PortalUser, check: CodeCheck) -> None:
    """After a rejection the duplicate rule lets the same person apply again; the approval then makes the Abo,
    after which a third Antrag is refused."""
    first = await apply(check)
    await antraege.decide(admin, first.id, approve=False, reason='Personalnummer fehlt.')
    second = await apply(check, personalnummer='P-4711')
    await antraege.decide(admin, second.id, approve=True)
    with pytest.raises(ValidationError):
        await apply(check)
    (abo,) = await Abo.all()
    assert (abo.antrag_id, abo.personalnummer) == (second.id, 'P-4711')

