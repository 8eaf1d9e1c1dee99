"""Every staff page's services read rows bounded by what the page shows, not by how many contracts exist.

Counted at the database client: the rows that every query of a page's services hands to Python. With a few thousand
contracts a page that loads "all active contracts" reads thousands; a bounded one reads its page, its tiles' counts
and its warnings. (tests/pages/test_pages_at_scale.py opens the same pages through the UI at 40,000+ contracts.)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date

import pytest
from tortoise.connection import connections
from tortoise.expressions import Q

from models import Contract, ContractStatus, PortalUser
from services import (
    abo_dates,
    abos,
    abrechnung,
    antraege,
    anwender,
    dashboard,
    kundencode,
    massenupload,
    protokoll,
    second_factor,
    vertraege,
    verwaltung,
    zuschuesse,
)
from services.table_query import TableRequest
from services.tarife import Tariff
from tests.scale_data import fill

TODAY = date(2026, 11, 25)
CONTRACTS = 3_000
CUSTOMERS = 300
# A page shows at most a table page (≤ 100 rows), 20 warnings, 8 events, 5 customers and a few counts (the month
# overview: 50 contracts and its totals grouped by subsidy amount); Tarife lists the first 200 contracts below a new
# minimum, and a count.
MOST_ROWS = 160
BOUNDS = {'tarife': zuschuesse.MAX_LISTED + 1}


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr('services.clock.today', lambda: TODAY)


@contextmanager
def rows_read(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The number of rows each query returns to Python, counted at the default connection's client."""
    client = connections.get('default')
    counts: list[int] = []
    execute_query, execute_query_dict = client.execute_query, client.execute_query_dict

    async def counted_query(query: str, values: list | None = None) -> tuple[int, Sequence[dict]]:
        result = await execute_query(query, values)
        counts.append(len(result[1]))
        return result

    async def counted_dict(query: str, values: list | None = None) -> list[dict]:
        result = await execute_query_dict(query, values)
        counts.append(len(result))
        return result

    with monkeypatch.context() as patch:
        patch.setattr(client, 'execute_query', counted_query)
        patch.setattr(client, 'execute_query_dict', counted_dict)
        yield counts


async def a_staff_page(actor: PortalUser, contract: Contract) -> dict[str, Callable[[], Awaitable[object]]]:
    """What each staff page asks its services for when it opens (pages/*.py), one entry per page."""
    request = TableRequest(page_size=100)
    return {
        'dashboard': lambda: dashboard.overview(actor),
        'vertragsverwaltung': lambda: vertraege.list_contracts(actor, request, only_active=False),
        'infos': lambda: kundencode.current_code(actor, contract.id),
        'antraege': lambda: antraege.list_antraege(actor, contract.id, request),
        'abos': lambda: abos.list_abos(actor, contract.id, request),
        'massenupload': lambda: massenupload.upload_history(actor, contract.id),
        'anwender': lambda: anwender.company(actor, 'S1'),
        'protokoll': lambda: protokoll.list_events(actor, request),
        'verwaltung': lambda: verwaltung.find_contract(actor, contract.vertragsnummer),
        'profil': lambda: protokoll.recent_logins(actor),
        'profil_codes': lambda: second_factor.remaining_recovery_codes(actor),
        # Abrechnung's default month (the previous one, open) and its overview's first page with the totals
        'abrechnung': lambda: abrechnung.statement(actor, contract.id, abo_dates.first_of_month(TODAY, -1)),
        'monatsuebersicht': lambda: abrechnung.month_overview(actor, abo_dates.first_of_month(TODAY, -1)),
        # Tarife, after adding a block whose minimum every contract of the fill misses (25 % of 70,00 € > 15,75 €)
        'tarife': lambda: zuschuesse.below_minimum(actor, Tariff(date(2027, 1, 1), 7000, 25, 5)),
    }


async def test_no_staff_page_reads_rows_by_the_number_of_contracts(
    staff: PortalUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    await fill(CONTRACTS, CUSTOMERS, TODAY)
    contract = await Contract.filter(status=ContractStatus.AKTIV).order_by('id').first()
    assert contract is not None
    read = {}
    for page, call in (await a_staff_page(staff, contract)).items():
        with rows_read(monkeypatch) as counts:
            await call()
        read[page] = sum(counts)
    assert {page: rows for page, rows in read.items() if rows > BOUNDS.get(page, MOST_ROWS)} == {}


async def test_the_dashboard_at_scale_counts_what_the_tables_count(staff: PortalUser) -> None:
    """The bounded dashboard still counts every row: tiles, valid codes and the warnings' total."""
    await fill(CONTRACTS, CUSTOMERS, TODAY)
    overview = await dashboard.overview(staff)
    active = CONTRACTS * 7 // 10
    assert overview.active_contracts == active
    assert overview.active_abos == active
    assert overview.open_antraege == CONTRACTS // 50  # every 50th contract by number, each an active one
    assert len(overview.open_antraege_contract_ids) == 2  # enough to know the tile cannot link to one contract
    with_codes = await Contract.filter(status=ContractStatus.AKTIV, codes__id__isnull=False).count()
    expiring = await Contract.filter(status=ContractStatus.AKTIV, codes__valid_until__lte=date(2026, 12, 25)).count()
    assert overview.valid_codes == with_codes
    assert overview.code_warning_count == active - with_codes + expiring
    assert len(overview.code_warnings) == dashboard.SHOWN_CODE_WARNINGS
    numbers = [warning.vertragsnummer for warning in overview.code_warnings]
    assert numbers == sorted(numbers)
    # the first warned contract by number: without a code, or with one expiring (ids differ between runs on
    # PostgreSQL, whose sequences go on counting, so the fill's codes land on other contracts)
    warned = Contract.filter(Q(codes__id__isnull=True) | Q(codes__valid_until__lte=date(2026, 12, 25)),
                             status=ContractStatus.AKTIV)
    first = await warned.order_by('vertragsnummer').first()
    assert first is not None and numbers[0] == first.vertragsnummer
