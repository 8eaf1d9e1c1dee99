"""No back-dating on SQLite and PostgreSQL: an open Antrag shows "genehmigen bis" (the cut-off day before its start
month); approved by then the Abo starts in the requested month, approved later in the first month still open that
day — on the cut-off day, the day after, across month and year ends — with the moved start stored on the Abo (the
employee's mail is written from it), in the audit trail and in the clerk's message."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

import pytest

from models import Abo, Antrag, AntragStatus, AuditEvent, Customer, PortalUser
from services import abo_dates, antraege
from services.abo_dates import approval_deadline, approval_start
from services.audit import AuditKind
from services.kundencode import CodeCheck
from services.settings import reset_settings
from tests.conftest import new_contract
from tests.services.test_antraege import apply, code_check

pytestmark = pytest.mark.today(date(2026, 11, 5))
# submitted_on(day, startmonat, vorname='Lena')
Submit = Callable[..., Awaitable[Antrag]]


@pytest.fixture
async def check(admin: PortalUser, company: Customer) -> CodeCheck:
    return await code_check(admin, await new_contract(company, 'V-2026-0001'))


@pytest.mark.parametrize(('startmonat', 'deadline'), [
    (date(2026, 12, 1), date(2026, 11, 10)),
    (date(2027, 1, 1), date(2026, 12, 10)),  # the year before
    (date(2026, 3, 1), date(2026, 2, 10)),
])
def test_the_deadline_is_the_cut_off_day_before_the_start_month(startmonat: date, deadline: date) -> None:
    assert approval_deadline(startmonat) == deadline


def test_a_cut_off_day_beyond_a_short_month_is_its_last_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('CUTOFF_DAY', '31')
    reset_settings()
    assert approval_deadline(date(2027, 3, 1)) == date(2027, 2, 28)
    assert approval_deadline(date(2028, 3, 1)) == date(2028, 2, 29)  # leap year
    assert approval_deadline(date(2027, 1, 1)) == date(2026, 12, 31)
    assert approval_start(date(2027, 3, 1), date(2027, 2, 28)) == date(2027, 3, 1)
    assert approval_start(date(2027, 3, 1), date(2027, 3, 1)) == date(2027, 4, 1)


@pytest.mark.parametrize(('requested', 'approved_on', 'start'), [
    (date(2026, 12, 1), date(2026, 11, 10), date(2026, 12, 1)),  # on the cut-off day: as requested
    (date(2026, 12, 1), date(2026, 11, 11), date(2027, 1, 1)),  # the day after: the month after next
    (date(2026, 12, 1), date(2026, 11, 30), date(2027, 1, 1)),  # the month's last day
    (date(2026, 12, 1), date(2026, 12, 1), date(2027, 1, 1)),  # in the start month itself, before its cut-off
    (date(2027, 1, 1), date(2026, 12, 10), date(2027, 1, 1)),
    (date(2027, 1, 1), date(2026, 12, 11), date(2027, 2, 1)),  # across the year's end
    (date(2027, 1, 1), date(2026, 12, 31), date(2027, 2, 1)),
    (date(2026, 12, 1), date(2027, 1, 20), date(2027, 3, 1)),  # the case: 05.11. for 01.12., on 20.01.
    (date(2027, 5, 1), date(2026, 12, 20), date(2027, 5, 1)),  # long before: as requested
])
def test_the_start_of_an_approval(requested: date, approved_on: date, start: date) -> None:
    assert approval_start(requested, approved_on) == start
    assert start >= requested and start.day == 1


@pytest.fixture
def submitted_on(set_today: Callable[[date], None], check: CodeCheck) -> Submit:
    """An Antrag through the Self-Service on a given day for a given start month."""

    async def submit(day: date, startmonat: date, vorname: str = 'Lena') -> Antrag:
        set_today(day)
        return await apply(check, vorname, startmonat=startmonat)

    return submit


async def test_approved_on_the_cut_off_day_it_starts_as_requested(
    admin: PortalUser, submitted_on: Submit, set_today: Callable[[date], None]
) -> None:
    antrag = await submitted_on(date(2026, 11, 5), date(2026, 12, 1))
    set_today(date(2026, 11, 10))
    approval = await antraege.approve(admin, antrag.id)
    assert (approval.startmonat, approval.moved) == (date(2026, 12, 1), False)
    assert approval.message == 'Antrag genehmigt; das Abo ist angelegt.'
    assert (await Abo.get(antrag_id=antrag.id)).startmonat == date(2026, 12, 1)
    (event,) = await AuditEvent.filter(kind=AuditKind.ANTRAG_APPROVED)
    assert 'startmonat' not in event.details


@pytest.mark.parametrize(('approved_on', 'start'), [
    (date(2026, 11, 11), date(2027, 1, 1)),
    (date(2027, 1, 20), date(2027, 3, 1)),
])
async def test_approved_late_it_starts_in_the_next_open_month(
    admin: PortalUser, submitted_on: Submit, set_today: Callable[[date], None], approved_on: date, start: date
) -> None:
    antrag = await submitted_on(date(2026, 11, 5), date(2026, 12, 1))
    set_today(approved_on)
    approval = await antraege.approve(admin, antrag.id)
    assert (approval.startmonat, approval.moved) == (start, True)
    assert approval.message == (
        f'Antrag {antrag.reference} genehmigt, aber nach der Frist für Dezember 2026 (genehmigen bis 10.11.2026): '
        f'das Abo beginnt erst am {start:%d.%m.%Y}.')
    abo = await Abo.get(antrag_id=antrag.id)
    assert abo.startmonat == start  # stored: what the employee's mail and Meine Abos say
    stored = await Antrag.get(id=antrag.id)
    assert (stored.status, stored.startmonat) == (AntragStatus.GENEHMIGT, date(2026, 12, 1))  # what was asked for
    (event,) = await AuditEvent.filter(kind=AuditKind.ANTRAG_APPROVED)
    assert event.details == {'reference': antrag.reference, 'startmonat': start.isoformat()}


async def test_approving_a_selection_names_each_moved_start(
    admin: PortalUser, submitted_on: Submit, set_today: Callable[[date], None]
) -> None:
    early = await submitted_on(date(2026, 11, 5), date(2027, 3, 1), 'Mia')
    late = await submitted_on(date(2026, 11, 5), date(2026, 12, 1), 'Jonas')
    set_today(date(2026, 12, 20))
    approved, notes = await antraege.approve_many(admin, [early.id, late.id])
    assert approved == 2
    assert notes == [
        f'Antrag {late.reference} genehmigt, aber nach der Frist für Dezember 2026 (genehmigen bis 10.11.2026): '
        'das Abo beginnt erst am 01.02.2027.']
    assert {abo.antrag_id: abo.startmonat for abo in await Abo.all()} == {
        early.id: date(2027, 3, 1), late.id: date(2027, 2, 1)}


async def test_a_rejection_moves_nothing(
    admin: PortalUser, submitted_on: Submit, set_today: Callable[[date], None]
) -> None:
    antrag = await submitted_on(date(2026, 11, 5), date(2026, 12, 1))
    set_today(date(2026, 12, 20))
    await antraege.decide(admin, antrag.id, approve=False, reason='Nicht bei uns.')
    assert not await Abo.exists()
    (event,) = await AuditEvent.filter(kind=AuditKind.ANTRAG_REJECTED)
    assert 'startmonat' not in event.details


def test_the_open_start_months_never_lie_before_the_approval_start() -> None:
    """Whatever month the Self-Service offered on a day, approving that same day keeps it."""
    day = date(2026, 1, 1)
    while day < date(2027, 12, 31):
        for month in abo_dates.open_start_months(day):
            assert approval_start(month, day) == month, (day, month)
        day = date.fromordinal(day.toordinal() + 1)
