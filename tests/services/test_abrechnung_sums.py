"""The month overview's sums from grouped SQL (services/abrechnung.py `_Month`) against the per-line computation they
replace (`_Calculator.lines`, `_line`, `totals_of`; for a closed month the run's stored lines), on SQLite and
PostgreSQL, over a varied year: tariff blocks changing the price and the minimum, subsidies below, at and above the
minimum and above the price, subsidy changes mid-year (one on the 15th), Abos starting and ending in a month, ended
before, cancelled into the future, starting later, and corrections of closed months (late approvals, Abos ended back
into a closed month, a contract whose only line is a correction). Any rule that differs changes some contract's sums.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date

import pytest

from models import (
    Abo,
    AboStatus,
    BillingLine,
    BillingRun,
    Contract,
    Customer,
    PortalUser,
    SubsidyChange,
    TariffBlock,
    Ticketart,
)
from services import abo_dates, abrechnung, clock, tarife
from services.abrechnung import Totals
from services.table_query import TableRequest
from tests.services.test_abrechnung import make_abo, new_contract

pytestmark = pytest.mark.today(date(2026, 2, 20))
MONTHS = [date(2025, 11, 1), date(2025, 12, 1), *(date(2026, month, 1) for month in range(1, 13))]
PAGE_SIZE = 10  # several pages of the 23 contracts


async def reference(month: date) -> dict[int, Totals]:
    """Each contract's sums of its lines as the per-line computation gives them (stored ones when closed)."""
    run = await BillingRun.get_or_none(monat=month)
    if run is not None:
        lines = abrechnung._from_rows(await BillingLine.filter(run_id=run.id).order_by('id'))
    else:
        lines = await abrechnung._Calculator(month, Abo.all(), SubsidyChange.all(), await tarife.current()).lines()
    per_contract: dict[int, list[abrechnung.Line]] = defaultdict(list)
    for line in lines:
        per_contract[line.contract_id].append(line)
    return {contract_id: abrechnung.totals_of(found) for contract_id, found in per_contract.items()}


async def overview_pages(staff: PortalUser, month: date) -> tuple[list[abrechnung.OverviewRow], Totals, int]:
    """Every row of the overview, page by page, its totals and its count."""
    first = await abrechnung.month_overview(staff, month, TableRequest(page_size=PAGE_SIZE))
    rows = list(first.rows)
    for page in range(2, first.page.page_count + 1):
        following = await abrechnung.month_overview(staff, month, TableRequest(page=page, page_size=PAGE_SIZE))
        assert following.totals == first.totals
        rows += following.rows
    return rows, first.totals, first.page.total


async def assert_every_month_agrees(staff: PortalUser) -> int:
    """Overview, page totals, counts and CSV equal the per-line computation in every month; returns how many
    contract-months were compared."""
    compared = 0
    numbers = dict(await Contract.all().values_list('id', 'vertragsnummer'))
    for month in MONTHS:
        expected = await reference(month)
        rows, totals, count = await overview_pages(staff, month)
        assert {row.contract_id: row.totals for row in rows} == expected, month
        assert [row.vertragsnummer for row in rows] == sorted(numbers[contract_id] for contract_id in expected)
        assert count == len(expected)
        overall = Totals()
        for found in expected.values():
            overall.add(found)
        assert totals == overall, month
        csv = (await abrechnung.overview_csv(staff, month)).content.decode('utf-8-sig').splitlines()
        assert len(csv) == len(expected) + 2
        assert csv[-1] == ';'.join(['Summe', '', str(overall.personen), *(
            f'{getattr(overall, name) / 100:.2f}'.replace('.', ',') for name in abrechnung.AMOUNTS)])
        compared += len(expected)
    return compared


async def a_varied_year(company: Customer) -> list[Contract]:
    """23 contracts over two tariff blocks of 2026 (a price rise in July with a higher minimum)."""
    await tarife.seed_if_empty()
    await TariffBlock.create(gueltig_ab=date(2026, 7, 1), preis_cent=6900, mindestzuschuss_prozent=30,
                             rabatt_prozent=6, created_at=clock.now())
    # below, at and above the minimum of each block, the whole price, more than the price (set directly: the
    # forms refuse some of them, older data may hold them)
    amounts = [1000, 1450, 1575, 1576, 2070, 2500, 6300, 6900, 8000, *(1575 + 37 * number for number in range(9, 23))]
    contracts = []
    for number, zuschuss in enumerate(amounts):
        contract = await new_contract(company, f'DJ-SUM-{number:02d}')
        await Contract.filter(id=contract.id).update(arbeitgeberzuschuss_cent=zuschuss)
        contracts.append(contract)
    # subsidies changing mid-year, one on the 15th (counts from the following month on)
    changes = {10: [(date(2026, 3, 1), 1200), (date(2026, 7, 1), 2070)], 11: [(date(2026, 5, 15), 6000)],
               12: [(date(2025, 12, 1), 1575), (date(2026, 6, 1), 1800), (date(2026, 9, 1), 6900)],
               4: [(date(2026, 8, 1), 1000)]}
    for index, starts in changes.items():
        for gueltig_ab, cents in starts:
            await SubsidyChange.create(contract=contracts[index], gueltig_ab=gueltig_ab, zuschuss_cent=cents,
                                       created_at=clock.now())
    for index, contract in enumerate(contracts):
        if index == 22:
            continue  # no Abo yet: its only line will be a correction
        await make_abo(contract, f'Lauf{index}', date(2025, 10, 1))  # open-ended
        await make_abo(contract, f'Mai{index}', date(2026, 5, 1), date(2026, 5, 31))  # starts and ends in May
        await make_abo(contract, f'Ende{index}', date(2025, 11, 1), abo_dates.last_of_month(
            date(2026, 1 + index % 12, 1)))  # ends in another month each
        if index % 3 == 0:
            await make_abo(contract, f'Spaeter{index}', date(2026, 9, 1))  # starts later
        if index % 4 == 1:
            gekuendigt = await make_abo(contract, f'Kuendigt{index}', date(2026, 2, 1), date(2026, 12, 31))
            assert gekuendigt.status == AboStatus.GEKUENDIGT
        if index == 7:  # dates off the month's edges (older data): start on the 15th, end on the 1st
            await make_abo(contract, 'Schief', date(2026, 3, 15), date(2026, 6, 1))
        if index % 5 == 2:
            beendet = await make_abo(contract, f'Beendet{index}', date(2025, 6, 1), date(2025, 10, 31))
            beendet.status = AboStatus.BEENDET
            await beendet.save()
    return contracts


async def test_the_overview_sums_equal_the_per_line_computation(
    staff: PortalUser, company: Customer, set_today: Callable[[date], None]
) -> None:
    contracts = await a_varied_year(company)
    assert await assert_every_month_agrees(staff) > 200  # every month open

    # Close December to March, then change closed months: a late approval into January, an Abo ended back into
    # February, the first Abo of a contract starting in a closed month (its only lines are corrections).
    set_today(date(2026, 4, 20))
    for month in MONTHS[1:5]:
        await abrechnung.close_month(month, actor=staff)
    late = await make_abo(contracts[3], 'Spaet', date(2026, 1, 1))
    ended = await Abo.get(nachname='Lauf5')
    ended.endmonat, ended.status, ended.cancelled_at = date(2026, 2, 28), AboStatus.BEENDET, clock.now()
    await ended.save()
    only = await Abo.create(
        contract=contracts[22], vorname='Nur', nachname='Korrektur', geburtsdatum=date(1990, 1, 1),
        strasse='Königsplatz 1', plz='34117', ort='Kassel', ticketart=Ticketart.HANDYTICKET,
        startmonat=date(2026, 2, 1), endmonat=date(2026, 3, 31), status=AboStatus.GEKUENDIGT,
        person_key='nur|korrektur', created_at=clock.now(), cancelled_at=clock.now())
    assert late.id and only.id
    april = await reference(date(2026, 4, 1))
    assert contracts[22].id in april and april[contracts[22].id].personen == 0  # a correction, nobody running
    assert (april[contracts[3].id].personen, april[contracts[3].id].preis_cent) == (3, 6 * 6300)  # + 3 corrections
    await assert_every_month_agrees(staff)

    # April closes with those corrections; May, still open, has none left to make.
    set_today(date(2026, 5, 20))
    await abrechnung.close_month(date(2026, 4, 1), actor=staff)
    await assert_every_month_agrees(staff)

