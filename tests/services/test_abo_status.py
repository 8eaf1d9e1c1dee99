"""The Abo status derived from dates (services/abo_status.py) on SQLite and PostgreSQL: the rule in Python and in SQL
agree on every edge (the day before the start month, its first day, the end day, the day after, month and year
ends), and every place that shows a status — the company table (filter and sort), the export, Meine Abos and the
Dashboard's tiles and chart — shows the same one on the same day."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta

import pytest

from models import Abo, AboStatus, Contract, Employee, PortalUser, Ticketart
from services import abo_dates, abo_status, abos, clock, dashboard, meine_abos
from services.abo_status import AboState
from services.antraege import person_key
from services.table_query import TableRequest
from tests.conftest import flat

# (start, end, stored status): stored words as the old code left them, some of them wrong on purpose.
ABOS = [
    (date(2026, 1, 1), date(2026, 12, 31), AboStatus.GEKUENDIGT),  # ends at the year's end
    (date(2026, 12, 1), None, AboStatus.AKTIV),  # starts with December
    (date(2027, 1, 1), None, AboStatus.AKTIV),  # starts next year: stored 'aktiv', but future
    (date(2026, 2, 1), date(2026, 2, 28), AboStatus.GEKUENDIGT),  # ended in February: stored 'gekündigt' forever
    (date(2025, 6, 1), None, AboStatus.AKTIV),
    (date(2027, 1, 1), date(2027, 1, 31), AboStatus.GEKUENDIGT),  # cancelled before its start
]
EDGE_DAYS = [
    date(2026, 2, 28), date(2026, 3, 1), date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 31),
    date(2027, 1, 1), date(2027, 1, 31), date(2027, 2, 1),
]


@pytest.fixture
async def made(contract: Contract) -> list[Abo]:
    """The ABOS, each with a Self-Service account of its own (for Meine Abos)."""
    made = []
    for number, (start, end, stored) in enumerate(ABOS):
        employee = await Employee.create(email=f'person{number}@example.de', password_hash='$argon2id$nicht-benutzt')
        birthday = date(1980, 1, 1) + timedelta(days=number)
        made.append(await Abo.create(
            contract=contract, employee=employee, vorname=f'P{number}', nachname=f'Person{number}',
            geburtsdatum=birthday, strasse='Königsplatz 1', plz='34117', ort='Kassel', ticketart=Ticketart.CHIPKARTE,
            startmonat=start, endmonat=end, status=stored, person_key=person_key(f'P{number}', 'X', birthday),
            created_at=clock.now(),
        ))
    return made


def test_the_rule_on_the_edges() -> None:
    start, end = date(2026, 12, 1), date(2027, 1, 31)
    assert abo_status.state_of(start, end, date(2026, 11, 30)) is AboState.KUENFTIG
    assert abo_status.state_of(start, end, start) is AboState.GEKUENDIGT  # the month it starts, already cancelled
    assert abo_status.state_of(start, None, start) is AboState.AKTIV
    assert abo_status.state_of(start, end, end) is AboState.GEKUENDIGT  # the day it ends still runs
    assert abo_status.state_of(start, end, end + timedelta(days=1)) is AboState.BEENDET
    assert abo_status.state_of(start, None, date(2099, 1, 1)) is AboState.AKTIV
    abo = Abo(startmonat=start, endmonat=end)
    assert abo_status.label(abo, date(2026, 11, 30)) == 'ab 12/2026, gekündigt zum 31.01.2027'
    assert abo_status.label(Abo(startmonat=start), date(2026, 11, 30)) == 'ab 12/2026'
    assert abo_status.label(abo, start) == 'gekündigt zum 31.01.2027'
    assert abo_status.label(abo, end) == 'gekündigt zum 31.01.2027'
    assert abo_status.label(abo, date(2027, 2, 1)) == 'beendet'
    assert abo_status.label(Abo(startmonat=start), start) == 'aktiv'


@pytest.mark.parametrize('day', EDGE_DAYS)
async def test_sql_and_python_agree(made: list[Abo], day: date) -> None:
    for state in AboState:
        in_sql = set(await flat(Abo.filter(abo_status.state_filter(state, day)).values_list('id', flat=True)))
        in_python = {abo.id for abo in made if abo_status.state_of(abo.startmonat, abo.endmonat, day) is state}
        assert in_sql == in_python, state
    ranked = await flat(
        Abo.annotate(rank=abo_status.state_rank(day)).order_by('rank', 'id').values_list('id', flat=True))
    labels = {abo.id: abo_status.label(abo, day) for abo in made}
    assert [labels[abo_id] for abo_id in ranked] == sorted(labels.values(), key=lambda text: text[:3])


@pytest.mark.parametrize('day', EDGE_DAYS)
async def test_every_place_shows_the_same_status(
    admin: PortalUser, contract: Contract, made: list[Abo], set_today: Callable[[date], None], day: date
) -> None:
    set_today(day)
    expected = {abo.id: abo_status.label(abo, day) for abo in made}

    table = await abos.list_abos(admin, contract.id, TableRequest(page_size=100))
    assert {abo.id: abo_status.label(abo, day) for abo in table.rows} == expected
    for state in AboState:
        filtered = await abos.list_abos(admin, contract.id, TableRequest(page_size=100), status=state.value)
        assert {abo.id for abo in filtered.rows} == {
            abo.id for abo in made if abo_status.state_of(abo.startmonat, abo.endmonat, day) is state}
    for descending in (False, True):
        page = await abos.list_abos(admin, contract.id, TableRequest(sort='status', descending=descending,
                                                                     page_size=100))
        shown = [expected[abo.id] for abo in page.rows]
        assert shown == sorted(shown, key=lambda text: text[:3], reverse=descending)

    exported = list(csv.reader(io.StringIO((await abos.export_csv(admin, contract.id)).decode('utf-8-sig')),
                               delimiter=';'))[1:]
    assert Counter(row[5] for row in exported) == Counter(expected.values())

    for abo in made:
        employee = await Employee.get(id=abo.employee_id)
        (mine,) = await meine_abos.my_abos(employee)
        assert abo_status.label(mine, day) == expected[abo.id]

    overview = await dashboard.overview(admin)
    states = Counter(abo_status.state_of(abo.startmonat, abo.endmonat, day) for abo in made)
    running = states[AboState.AKTIV] + states[AboState.GEKUENDIGT]
    assert overview.active_abos == running == overview.abos_per_month[-1][1]
    assert overview.abo_states == {state: states[state] for state in AboState if state is not AboState.BEENDET}
    running_in_table = sum([
        (await abos.list_abos(admin, contract.id, TableRequest(), status=state.value)).total
        for state in abo_status.RUNNING])
    assert overview.active_abos == running_in_table


async def test_the_chart_counts_each_month_by_the_same_rule(
    admin: PortalUser, made: list[Abo], set_today: Callable[[date], None]
) -> None:
    today = date(2027, 1, 15)
    set_today(today)
    chart = (await dashboard.overview(admin)).abos_per_month
    assert [month for month, _ in chart] == [abo_dates.first_of_month(today, offset) for offset in range(-11, 1)]
    for month, count in chart:
        last_day = min(today, abo_dates.last_of_month(month))
        assert count == sum(1 for abo in made if abo.startmonat <= last_day
                            and (abo.endmonat is None or abo.endmonat >= last_day)), month
    assert dict(chart)[date(2026, 2, 1)] == 3  # with the Abo that starts and ends in February
    assert dict(chart)[date(2027, 1, 1)] == 4  # the year's end Abo is gone, January's starts are in
