"""Issue 15 item 7, "Abo beenden zum …": the company picks the month an Abo ends — not before the next possible end
(the cut-off rule), not more than 12 months after it, not after the contract's last month — with German messages and
nothing changed on a refusal. The same rule (abo_dates.end_month_problem) checks the leavers of a Massenupload."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from models import Abo, AboStatus, AuditEvent, Contract, Customer, PortalUser
from services import abo_dates, abos
from services.audit import AuditKind
from services.errors import NotFound, ValidationError
from tests.conftest import new_contract
from tests.services.test_abos import written
from tests.services.test_antraege import TODAY

pytestmark = pytest.mark.today(TODAY)

BEGUN = date(2025, 1, 1)


async def test_the_choices_run_from_the_next_possible_end_for_twelve_months(
    admin: PortalUser, contract: Contract, set_today: Callable[[date], None]
) -> None:
    abo = await written(contract, 'Lena', 'Schäfer', startmonat=BEGUN)
    choices = await abos.end_choices(admin, abo.id)
    assert (choices[0], choices[-1], len(choices)) == (date(2026, 3, 31), date(2027, 3, 31), 13)
    assert all(end == abo_dates.last_of_month(end) for end in choices)
    set_today(date(2026, 3, 11))  # after the cut-off day: March is no longer possible
    assert (await abos.end_choices(admin, abo.id))[0] == date(2026, 4, 30)


async def test_the_company_picks_a_later_month(admin: PortalUser, contract: Contract) -> None:
    abo = await written(contract, 'Lena', 'Schäfer', startmonat=BEGUN)
    ended = await abos.end_abo(admin, abo.id, endmonat=date(2026, 9, 1), client='192.0.2.11')  # any day: its month
    assert (ended.status, ended.endmonat) == (AboStatus.GEKUENDIGT, date(2026, 9, 30))
    (event,) = await AuditEvent.filter(kind=AuditKind.ABO_ENDED)
    assert event.details == {'endmonat': '2026-09-30'}


@pytest.mark.parametrize(('endmonat', 'message'), [
    (date(2026, 2, 28), 'Das Abo kann frühestens zum 31.03.2026 beendet werden.'),
    (date(2027, 4, 30), 'Das Abo kann höchstens bis zum 31.03.2027 im Voraus beendet werden.'),
])
async def test_a_month_outside_the_rule_changes_nothing(
    admin: PortalUser, contract: Contract, endmonat: date, message: str
) -> None:
    abo = await written(contract, 'Lena', 'Schäfer', startmonat=BEGUN)
    with pytest.raises(ValidationError) as raised:
        await abos.end_abo(admin, abo.id, endmonat=endmonat)
    assert raised.value.errors == {'endmonat': message}
    stored = await Abo.get(id=abo.id)
    assert (stored.status, stored.endmonat) == (AboStatus.AKTIV, None)
    assert not await AuditEvent.filter(kind=AuditKind.ABO_ENDED).exists()


async def test_not_after_the_contracts_end(admin: PortalUser, company: Customer) -> None:
    ending = await new_contract(company, 'V-2026-0009')
    await Contract.filter(id=ending.id).update(ende=date(2026, 6, 15))
    abo = await written(ending, 'Lena', 'Schäfer', startmonat=BEGUN)
    assert (await abos.end_choices(admin, abo.id))[-1] == date(2026, 6, 30)
    with pytest.raises(ValidationError, match=r'Vertragsende \(15\.06\.2026\)'):
        await abos.end_abo(admin, abo.id, endmonat=date(2026, 7, 1))
    assert (await abos.end_abo(admin, abo.id, endmonat=date(2026, 6, 1))).endmonat == date(2026, 6, 30)


async def test_an_abo_starting_later_ends_at_the_earliest_with_its_first_month(
    admin: PortalUser, contract: Contract
) -> None:
    abo = await written(contract, 'Lena', 'Schäfer', startmonat=date(2026, 5, 1))
    assert (await abos.end_choices(admin, abo.id))[0] == date(2026, 5, 31)
    with pytest.raises(ValidationError, match=r'frühestens zum 31\.05\.2026'):
        await abos.end_abo(admin, abo.id, endmonat=date(2026, 4, 1))


async def test_another_companys_abo_has_no_choices(admin: PortalUser, other_company: Customer) -> None:
    foreign = await new_contract(other_company, 'V-2026-0777')
    abo = await written(foreign, 'Lena', 'Schäfer', startmonat=BEGUN)
    with pytest.raises(NotFound):
        await abos.end_choices(admin, abo.id)


def test_the_rule_at_its_edges() -> None:
    assert abo_dates.end_month_problem(date(2026, 3, 31), TODAY, BEGUN) == ''
    assert abo_dates.end_month_problem(date(2027, 3, 1), TODAY, BEGUN) == ''
    assert abo_dates.end_month_problem(date(2027, 4, 1), TODAY, BEGUN) != ''
    assert abo_dates.end_months(TODAY, BEGUN, date(2026, 2, 28)) == []  # the contract ends before any possible end
