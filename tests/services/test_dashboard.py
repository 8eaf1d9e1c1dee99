"""The Dashboard's aggregates equal what the tables behind them count, scoped like them."""

from datetime import date, timedelta

import pytest

from models import (
    Abo,
    AboStatus,
    Antrag,
    AntragStatus,
    Contract,
    ContractStatus,
    Customer,
    PortalUser,
    Produktangebot,
    Role,
    Ticketart,
)
from services import abo_dates, antraege, clock, dashboard, kundencode, vertraege
from services.abo_status import AboState
from services.antraege import person_key
from services.table_query import TableRequest
from tests.conftest import make_user

TODAY = date(2026, 11, 25)


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr('services.clock.today', lambda: TODAY)


async def seed(
    customer: Customer, prefix: str, abos: list[tuple[date, date | None, AboStatus]], open_antraege: int
) -> Contract:
    active = await vertraege.create_contract(
        customer=customer, vertragsnummer=f'{prefix}-1', produktangebot=Produktangebot.RECHNUNG,
        beginn=date(2024, 1, 1), arbeitgeberzuschuss_cent=1575,
    )
    await vertraege.create_contract(
        customer=customer, vertragsnummer=f'{prefix}-2', produktangebot=Produktangebot.SEPA,
        beginn=date(2023, 1, 1), ende=date(2023, 12, 31), status=ContractStatus.BEENDET, arbeitgeberzuschuss_cent=1575,
    )
    for number, (start, end, status) in enumerate(abos):
        birthday = date(1980, 1, 1) + timedelta(days=number)
        await Abo.create(
            contract=active, vorname=f'V{number}', nachname=f'{prefix}N{number}', geburtsdatum=birthday,
            strasse='Königsplatz 1', plz='34117', ort='Kassel', ticketart=Ticketart.CHIPKARTE, startmonat=start,
            endmonat=end, status=status, person_key=person_key(f'V{number}', f'N{number}', birthday),
            created_at=clock.now(),
        )
    for number in range(open_antraege + 2):
        birthday = date(1990, 1, 1) + timedelta(days=number)
        await Antrag.create(
            reference=f'A-{prefix}-{number}', contract=active, anrede='Frau', vorname=f'A{number}',
            nachname='Muster', geburtsdatum=birthday, email=f'a{number}@{prefix}.de', strasse='Königsplatz 1',
            plz='34117', ort='Kassel', startmonat=date(2027, 1, 1), ticketart=Ticketart.HANDYTICKET,
            status=AntragStatus.OFFEN if number < open_antraege else AntragStatus.ABGELEHNT,
            person_key=person_key(f'A{number}', 'Muster', birthday), created_at=clock.now(),
        )
    return active


ABOS_A: list[tuple[date, date | None, AboStatus]] = [
    (date(2025, 1, 1), None, AboStatus.AKTIV),
    (date(2026, 3, 1), None, AboStatus.AKTIV),
    (date(2026, 6, 1), date(2026, 8, 31), AboStatus.GEKUENDIGT),
    (date(2025, 9, 1), date(2026, 12, 31), AboStatus.GEKUENDIGT),
    (date(2027, 1, 1), None, AboStatus.AKTIV),
]
ABOS_B: list[tuple[date, date | None, AboStatus]] = [
    (date(2026, 2, 1), None, AboStatus.AKTIV), (date(2026, 10, 1), None, AboStatus.AKTIV)]


def expected_chart(abos: list[tuple[date, date | None, AboStatus]]) -> list[tuple[date, int]]:
    """Abos running on each month's last day (this month: today), whatever their stored status says."""
    months = [abo_dates.first_of_month(TODAY, offset) for offset in range(-11, 1)]
    days = [min(TODAY, abo_dates.last_of_month(month)) for month in months]
    return [(month, sum(1 for start, end, _ in abos if start <= day and (end is None or end >= day)))
            for month, day in zip(months, days, strict=True)]


async def test_tiles_equal_the_tables(admin: PortalUser, other_company: Customer, staff: PortalUser) -> None:
    assert admin.customer is not None
    active = await seed(admin.customer, 'A', ABOS_A, open_antraege=3)
    other = await seed(other_company, 'B', ABOS_B, open_antraege=1)
    overview = await dashboard.overview(admin)
    contract_table = await vertraege.list_contracts(admin, TableRequest(), only_active=True)
    assert overview.active_contracts == contract_table.total == 1
    open_table = await antraege.list_antraege(admin, active.id, TableRequest(), status='offen')
    assert overview.open_antraege == open_table.total == 3
    assert overview.open_antraege_contract_ids == [active.id]
    # Running today: two without an end and one gekündigt to the year's end; the one starting in 2027 (stored
    # 'aktiv') is künftig, the one that ended in August (stored 'gekündigt') is not counted.
    assert overview.active_abos == 3 == overview.abos_per_month[-1][1]
    assert overview.abo_states == {AboState.AKTIV: 2, AboState.GEKUENDIGT: 1, AboState.KUENFTIG: 1}
    assert overview.abos_per_month == expected_chart(ABOS_A)

    everything = await dashboard.overview(staff)
    assert everything.active_contracts == (await vertraege.list_contracts(staff, TableRequest())).total == 2
    assert everything.open_antraege == 4
    assert sorted(everything.open_antraege_contract_ids) == sorted([active.id, other.id])
    assert everything.abos_per_month == expected_chart(ABOS_A + ABOS_B)
    assert [customer.kundennummer for customer in everything.newest_customers][:2] == ['200418', '100234']


async def test_code_warnings(admin: PortalUser) -> None:
    assert admin.customer is not None
    active = await seed(admin.customer, 'A', [], open_antraege=0)
    overview = await dashboard.overview(admin)
    assert [(warning.vertragsnummer, warning.valid_until) for warning in overview.code_warnings] == [('A-1', None)]
    assert 'kein gültiger Kundencode' in overview.code_warnings[0].message

    await kundencode.generate_code(admin, active.id, TODAY + timedelta(days=30))
    soon = await dashboard.overview(admin)
    assert [warning.valid_until for warning in soon.code_warnings] == [TODAY + timedelta(days=30)]
    assert 'läuft am 25.12.2026 ab' in soon.code_warnings[0].message

    await kundencode.generate_code(admin, active.id, TODAY + timedelta(days=31), replace_current=True)
    fine = await dashboard.overview(admin)
    assert fine.code_warnings == []
    assert fine.valid_codes == 1


@pytest.mark.parametrize(('role', 'sees_events'), [(Role.ADMIN, True), (Role.CLERK, False), (Role.READONLY, False)])
async def test_only_administrators_see_the_events(admin: PortalUser, role: Role, sees_events: bool) -> None:
    user = admin if role == Role.ADMIN else await make_user(f'{role.value}@fahrradmanufaktur-kassel.de', role,
                                                               admin.customer)
    overview = await dashboard.overview(user)
    assert bool(overview.recent_events) is sees_events
    assert all(event.customer_id == admin.customer_id for event in overview.recent_events)
    assert overview.newest_customers == []
