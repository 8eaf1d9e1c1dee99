"""The counts the database keeps for staff's Dashboard (migration 0017) equal a fresh count of the rows after every
kind of change: the portal's services, Tortoise's bulk and queryset writes, raw SQL, deletes with their cascade, and
a transaction that rolls back. On SQLite and PostgreSQL (the `db` fixture's two backends)."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, timedelta

import pytest
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from models import Abo, AboStatus, Contract, ContractStatus, Customer, Kundencode, PortalUser, Produktangebot, Ticketart
from services import abos, clock, dashboard, kundencode, vertraege, verwaltung
from services.antraege import person_key
from tests.scale_data import fill

TODAY = date(2026, 11, 25)


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr('services.clock.today', lambda: TODAY)


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


async def kept() -> tuple[dict[str, int], dict[tuple[date, date | None], int], dict[date, int]]:
    """The three count tables as they add up (PostgreSQL keeps rows of deltas), keys of zero left out (a count that
    went back to nothing)."""
    client = Contract._meta.db
    contracts = await client.execute_query_dict(
        'SELECT status, SUM(n) AS n FROM dashboard_contracts GROUP BY status HAVING SUM(n) <> 0')
    pairs = await client.execute_query_dict('SELECT startmonat, endmonat, SUM(n) AS n FROM dashboard_abos '
                                            'GROUP BY startmonat, endmonat HAVING SUM(n) <> 0')
    codes = await client.execute_query_dict(
        'SELECT valid_until, SUM(n) AS n FROM dashboard_codes GROUP BY valid_until HAVING SUM(n) <> 0')
    open_end = dashboard.OPEN_END
    return (
        {row['status']: row['n'] for row in contracts},
        {(_day(row['startmonat']), None if _day(row['endmonat']) == open_end else _day(row['endmonat'])): row['n']
         for row in pairs},
        {_day(row['valid_until']): row['n'] for row in codes},
    )


async def counted() -> tuple[dict[str, int], dict[tuple[date, date | None], int], dict[date, int]]:
    """The same, counted from the rows now."""
    contracts = await Contract.all().group_by('status').annotate(n=Count('id')).values_list('status', 'n')
    pairs = await Abo.all().group_by('startmonat', 'endmonat').annotate(n=Count('id')) \
        .values_list('startmonat', 'endmonat', 'n')
    codes = await Kundencode.filter(revoked_at__isnull=True, contract__status=ContractStatus.AKTIV) \
        .group_by('valid_until').annotate(n=Count('id')).values_list('valid_until', 'n')
    return (
        {str(status): n for status, n in contracts},
        {(start, end): n for start, end, n in pairs},
        {valid_until: n for valid_until, n in codes},
    )


async def assert_kept_is_counted(staff: PortalUser) -> None:
    assert await kept() == await counted()
    # and the Dashboard reads them as the rows say: staff's kept totals equal the same figures counted from the rows
    from_counts, from_rows = await dashboard._kept_counts(TODAY), await dashboard._counted_counts(staff, TODAY)
    assert from_counts.active_contracts == from_rows.active_contracts
    assert from_counts.valid_codes == from_rows.valid_codes
    assert from_counts.expiring_codes == from_rows.expiring_codes
    assert sorted(from_counts.abo_pairs, key=str) == sorted(from_rows.abo_pairs, key=str)


def new_abo(contract: Contract, number: int, start: date, end: date | None = None) -> Abo:
    birthday = date(1980, 1, 1) + timedelta(days=number)
    return Abo(contract=contract, vorname=f'V{number}', nachname=f'N{number}', geburtsdatum=birthday,
               strasse='Königsplatz 1', plz='34117', ort='Kassel', ticketart=Ticketart.CHIPKARTE, startmonat=start,
               endmonat=end, status=AboStatus.AKTIV if end is None else AboStatus.GEKUENDIGT,
               person_key=person_key(f'V{number}', f'N{number}', birthday), created_at=clock.now())


async def test_kept_counts_equal_a_fresh_count_after_mixed_changes(
    admin: PortalUser, staff: PortalUser, other_company: Customer
) -> None:
    assert admin.customer is not None
    await assert_kept_is_counted(staff)

    async def contract(customer: Customer, number: str, status: ContractStatus = ContractStatus.AKTIV) -> Contract:
        return await vertraege.create_contract(
            customer=customer, vertragsnummer=number, produktangebot=Produktangebot.RECHNUNG,
            beginn=date(2025, 1, 1), arbeitgeberzuschuss_cent=1575, status=status)

    own, other = await contract(admin.customer, 'K-1'), await contract(other_company, 'K-2')
    cancelled = await contract(other_company, 'K-3', ContractStatus.GEKUENDIGT)
    doomed = await contract(admin.customer, 'K-4')
    await kundencode.generate_code(admin, own.id, TODAY + timedelta(days=10))
    await kundencode.generate_code(staff, other.id, TODAY + timedelta(days=100))
    await kundencode.generate_code(staff, doomed.id, TODAY + timedelta(days=100))
    first = new_abo(own, 1, date(2025, 3, 1))
    await first.save()
    await Abo.bulk_create([new_abo(other, n, date(2026, n, 1)) for n in range(2, 5)]
                          + [new_abo(cancelled, 5, date(2025, 1, 1), date(2025, 12, 31))])

    steps: list[Callable[[], Awaitable[object]]] = [
        # a code replaced (the old one revoked), one revoked, one moved in time, one to a contract not active
        lambda: kundencode.generate_code(admin, own.id, TODAY + timedelta(days=200), replace_current=True),
        lambda: Kundencode.filter(contract_id=other.id).update(valid_until=TODAY + timedelta(days=5)),
        lambda: kundencode.revoke_code(admin, own.id),
        lambda: Kundencode.filter(contract_id=doomed.id).update(contract_id=cancelled.id),
        # contracts leave 'aktiv' and come to it, with their codes
        lambda: verwaltung.change_contract_status(staff, other.id, ContractStatus.BEENDET),
        lambda: verwaltung.change_contract_status(staff, other.id, ContractStatus.AKTIV),
        lambda: Contract.filter(id=cancelled.id).update(status=ContractStatus.AKTIV),
        # Abos ended, moved, deleted
        lambda: abos.end_abo(admin, first.id),
        lambda: Abo.filter(contract=other).update(startmonat=date(2026, 1, 1)),
        lambda: Abo.filter(contract=cancelled).update(endmonat=None),
        lambda: Abo.filter(contract=other, nachname='N2').delete(),
        # a contract with a code deleted: the code goes by cascade
        lambda: kundencode.generate_code(staff, doomed.id, TODAY + timedelta(days=30)),
        lambda: Contract.filter(id=doomed.id).delete(),
        # raw SQL, as tests/scale_data.py writes thousands of rows
        lambda: fill(40, 4, TODAY),
    ]
    for step in steps:
        await step()
        await assert_kept_is_counted(staff)
    assert (await kept())[0][ContractStatus.AKTIV.value] == 3 + 28  # K-1, K-2, K-3 and 70 % of the fill's 40


async def test_a_rolled_back_change_leaves_the_counts(admin: PortalUser, staff: PortalUser) -> None:
    assert admin.customer is not None
    own = await vertraege.create_contract(
        customer=admin.customer, vertragsnummer='K-1', produktangebot=Produktangebot.RECHNUNG,
        beginn=date(2025, 1, 1), arbeitgeberzuschuss_cent=1575)
    before = await kept()

    async def changes_then_fails() -> None:
        async with in_transaction():
            await new_abo(own, 1, date(2026, 1, 1)).save()
            await kundencode.generate_code(admin, own.id, TODAY + timedelta(days=10))
            await Contract.filter(id=own.id).update(status=ContractStatus.BEENDET)
            raise RuntimeError('rolled back')

    with pytest.raises(RuntimeError):
        await changes_then_fails()
    assert await kept() == before
    await assert_kept_is_counted(staff)


async def test_a_clerk_sees_a_change_at_once(admin: PortalUser, staff: PortalUser) -> None:
    """No cache: the next opening of staff's Dashboard shows a contract, code and Abo written just before."""
    assert admin.customer is not None
    before = await dashboard.overview(staff)
    own = await vertraege.create_contract(
        customer=admin.customer, vertragsnummer='K-1', produktangebot=Produktangebot.RECHNUNG,
        beginn=date(2025, 1, 1), arbeitgeberzuschuss_cent=1575)
    await kundencode.generate_code(admin, own.id, TODAY + timedelta(days=10))
    await new_abo(own, 1, date(2026, 1, 1)).save()
    after = await dashboard.overview(staff)
    assert after.active_contracts == before.active_contracts + 1
    assert after.valid_codes == before.valid_codes + 1
    assert after.code_warning_count == before.code_warning_count + 1  # it runs out within 30 days
    assert after.active_abos == before.active_abos + 1


async def test_writers_of_the_same_count_do_not_wait_for_each_other(
    db: str, admin: PortalUser, staff: PortalUser
) -> None:
    """PostgreSQL: a Massenupload import is one transaction of up to minutes (10,000 rows), and its Abos start in the
    month the Self-Service's approvals of those weeks start in. With one count row per (start, end) pair updated in
    place, the import's row lock held every approval of that month until the import's commit; so for contracts per
    status and codes per day. A second writer of the same counts must go through while the first is still open."""
    if db != 'postgres':
        pytest.skip("SQLite's one connection runs one transaction at a time anyway")
    company = admin.customer
    assert company is not None
    start = date(2027, 1, 1)
    written, finish = asyncio.Event(), asyncio.Event()

    async def long_import() -> None:
        async with in_transaction():
            contract = await vertraege.create_contract(
                customer=company, vertragsnummer='K-1', produktangebot=Produktangebot.RECHNUNG,
                beginn=date(2025, 1, 1), arbeitgeberzuschuss_cent=1575)
            await new_abo(contract, 1, start).save()
            await kundencode.generate_code(admin, contract.id, TODAY + timedelta(days=10))
            written.set()
            await finish.wait()

    importing = asyncio.create_task(long_import())
    await asyncio.wait_for(written.wait(), 30)
    try:
        async with in_transaction() as connection:
            await connection.execute_script("SET LOCAL lock_timeout = '5s'")  # a wait fails here, not for ever
            contract = await vertraege.create_contract(
                customer=company, vertragsnummer='K-2', produktangebot=Produktangebot.RECHNUNG,
                beginn=date(2025, 1, 1), arbeitgeberzuschuss_cent=1575)
            await new_abo(contract, 2, start).save()
            await kundencode.generate_code(admin, contract.id, TODAY + timedelta(days=10))
    finally:
        finish.set()
        await importing
    await assert_kept_is_counted(staff)


async def test_folding_the_deltas_keeps_every_count(db: str, admin: PortalUser, staff: PortalUser) -> None:
    """PostgreSQL's delta rows folded into one row per key while another transaction's deltas are not yet committed:
    those stay and count from the commit on; the rows shrink to the keys in use."""
    if db != 'postgres':
        pytest.skip('SQLite keeps one row per key')
    company = admin.customer
    assert company is not None
    contract = await vertraege.create_contract(
        customer=company, vertragsnummer='K-1', produktangebot=Produktangebot.RECHNUNG, beginn=date(2025, 1, 1),
        arbeitgeberzuschuss_cent=1575)
    for number in range(6):
        await new_abo(contract, number, date(2027, 1 + number % 2, 1)).save()
    written, finish = asyncio.Event(), asyncio.Event()

    async def open_writer() -> None:
        async with in_transaction():
            await new_abo(contract, 99, date(2027, 1, 1)).save()
            written.set()
            await finish.wait()

    writer = asyncio.create_task(open_writer())
    await asyncio.wait_for(written.wait(), 30)
    await dashboard.compact_counts()
    finish.set()
    await writer
    await assert_kept_is_counted(staff)
    client = Contract._meta.db
    rows = await client.execute_query_dict('SELECT COUNT(*) AS n FROM dashboard_abos')
    assert rows[0]['n'] == 3  # the two months folded, and the writer's delta committed after the fold
