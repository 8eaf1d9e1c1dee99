"""The Dashboard's numbers: every figure is an aggregate query in the database, scoped like the tables it links to,
so a tile and the table behind it always agree."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from tortoise.expressions import Q, RawSQL
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from models import (
    Abo,
    Antrag,
    AntragStatus,
    AuditEvent,
    Contract,
    ContractStatus,
    Customer,
    Kundencode,
    PortalUser,
)
from services import abo_dates, abo_status, clock, permissions, zuschuesse
from services.abo_status import AboState
from services.database import flat_values
from services.permissions import Action, scoped
from services.zuschuesse import BelowMinimum

CODE_WARNING_DAYS = 30
CHART_MONTHS = 12
SHOWN_CODE_WARNINGS = 20


@dataclass(frozen=True)
class CodeWarning:
    vertragsnummer: str
    contract_id: int
    valid_until: date | None

    @property
    def message(self) -> str:
        if self.valid_until is None:
            return f'Vertrag {self.vertragsnummer}: kein gültiger Kundencode.'
        return f'Vertrag {self.vertragsnummer}: Kundencode läuft am {self.valid_until:%d.%m.%Y} ab.'


@dataclass(frozen=True)
class Overview:
    active_contracts: int
    active_abos: int  # running today (aktiv or gekündigt): the chart's last bar, by construction
    abo_states: dict[AboState, int]  # today's count of each status except 'beendet' (not read: ended Abos pile up)
    open_antraege: int
    open_antraege_contract_ids: list[int]  # at most two: whether they are all of one contract, and which
    valid_codes: int
    code_warning_count: int
    code_warnings: list[CodeWarning]
    abos_per_month: list[tuple[date, int]]
    recent_events: list[AuditEvent]
    newest_customers: list[Customer]
    subsidy_warnings: list[BelowMinimum]  # for those who may change the subsidy: below a tariff's minimum


@dataclass(frozen=True)
class AboFigures:
    per_month: list[tuple[date, int]]
    states_today: dict[AboState, int]


AboPairs = list[tuple[date, date | None, int]]  # (startmonat, endmonat, how many Abos)


def chart_months(today: date) -> list[date]:
    return [abo_dates.first_of_month(today, offset) for offset in range(1 - CHART_MONTHS, 1)]


def abo_figures(pairs: AboPairs, today: date) -> AboFigures:
    """The chart (Abos running in each of the last 12 months, on its last day, this month today) and today's count
    per status, from the (start, end) pairs of the Abos not ended before the chart begins with their counts: their
    rows grow with the months Abos start and end in, never with the Abos. Each pair is put in a status by
    services/abo_status.py, the rule of every table, so the tile „Aktive Abos“ (this month's bar) and the chart
    cannot disagree, and neither can the company table's filter."""
    months = chart_months(today)
    days = [min(today, abo_dates.last_of_month(month)) for month in months]
    states = [Counter[AboState]() for _ in days]
    for start, end, count in pairs:
        for day, counter in zip(days, states, strict=True):
            counter[abo_status.state_of(start, end, day)] += count
    per_month = [(month, sum(counter[state] for state in abo_status.RUNNING))
                 for month, counter in zip(months, states, strict=True)]
    return AboFigures(per_month, {state: states[-1][state] for state in AboState if state != AboState.BEENDET})


@dataclass(frozen=True)
class _Counts:
    active_contracts: int
    valid_codes: int  # not revoked, valid until today or later, of the active contracts
    expiring_codes: int  # of those, running out within CODE_WARNING_DAYS
    abo_pairs: AboPairs  # of the Abos not ended before the chart's first month


OPEN_END = date(9999, 12, 31)  # how migration 0017's dashboard_abos stores an Abo without an end


# migration 0017's count tables and their keys; on PostgreSQL rows of deltas, added up by every reader
COUNT_TABLES = (('dashboard_contracts', 'status'), ('dashboard_abos', 'startmonat, endmonat'),
                ('dashboard_codes', 'valid_until'))
COMPACT_AT = 1_000  # delta rows before the staff Dashboard folds them; adding up 1,000 rows takes well under 1 ms


async def compact_counts() -> None:
    """PostgreSQL: fold each count table's delta rows into one row per key, each table in one statement. Safe beside
    writers and another process folding at once: the DELETE takes only the rows committed when it starts (a running
    import's uncommitted deltas stay, and count once they commit), and the sums it writes back are new rows."""
    client = Contract._meta.db
    for table, keys in COUNT_TABLES:
        await client.execute_script(
            f'WITH gone AS (DELETE FROM {table} RETURNING {keys}, n) '
            f'INSERT INTO {table} ({keys}, n) SELECT {keys}, SUM(n) FROM gone GROUP BY {keys} HAVING SUM(n) <> 0')


def _day(value: date | str) -> date:
    """A date column of a raw query: a date from PostgreSQL, ISO text from SQLite."""
    return value if isinstance(value, date) else date.fromisoformat(value)


async def _kept_counts(today: date) -> _Counts:
    """Staff's totals over every customer from the counts the database keeps (migration 0017: triggers on contract,
    kundencode and abo update them in the same statement as the row, so a change shows at once). Counting the rows
    instead read every active contract, valid code and Abo at each opening: at 100,000 contracts on PostgreSQL
    5–11 ms for the active contracts, 58 ms for the valid codes, 22–42 ms for the chart's pairs (EXPLAIN ANALYZE,
    vacuumed, index-only where possible); these two queries read a few rows each, well under 1 ms."""
    client = Contract._meta.db
    postgres = client.capabilities.dialect == 'postgres'
    mark = '${}' if postgres else '?{}'
    if postgres and (await client.execute_query_dict(
            f'SELECT {" + ".join(f"(SELECT COUNT(*) FROM {table})" for table, _ in COUNT_TABLES)} AS n'))[0]['n'] \
            > COMPACT_AT:
        await compact_counts()
    totals, pairs = await asyncio.gather(
        client.execute_query_dict(
            f'SELECT (SELECT COALESCE(SUM(n), 0) FROM dashboard_contracts WHERE status = {mark.format(1)}) AS active, '
            f'COALESCE(SUM(n), 0) AS valid, '
            f'COALESCE(SUM(CASE WHEN valid_until <= {mark.format(3)} THEN n ELSE 0 END), 0) AS expiring '
            f'FROM dashboard_codes WHERE valid_until >= {mark.format(2)}',
            [ContractStatus.AKTIV.value, today, today + timedelta(days=CODE_WARNING_DAYS)]),
        client.execute_query_dict(
            f'SELECT startmonat, endmonat, SUM(n) AS n FROM dashboard_abos WHERE endmonat >= {mark.format(1)} '
            'GROUP BY startmonat, endmonat HAVING SUM(n) <> 0',
            [chart_months(today)[0]]),
    )
    return _Counts(
        active_contracts=int(totals[0]['active']), valid_codes=int(totals[0]['valid']),
        expiring_codes=int(totals[0]['expiring']),
        abo_pairs=[(_day(row['startmonat']), None if _day(row['endmonat']) == OPEN_END else _day(row['endmonat']),
                    int(row['n'])) for row in pairs])


def _current_codes(actor: PortalUser, today: date) -> QuerySet[Kundencode]:
    """The valid codes of the actor's active contracts."""
    return scoped(Kundencode.filter(
        contract__status=ContractStatus.AKTIV, revoked_at__isnull=True, valid_until__gte=today,
    ), actor)


def _expiring_codes(actor: PortalUser, today: date) -> QuerySet[Kundencode]:
    return _current_codes(actor, today).filter(valid_until__lte=today + timedelta(days=CODE_WARNING_DAYS))


async def _counted_counts(actor: PortalUser, today: date) -> _Counts:
    """A company's totals, counted from its rows (indexes by customer and contract: its own rows only). The
    (start, end) pairs come from one grouped query; COUNT(startmonat) (never NULL), not COUNT(id): PostgreSQL then
    answers from the index abo(startmonat, endmonat) alone (migration 0015)."""
    active, valid, expiring, pairs = await asyncio.gather(
        scoped(Contract.filter(status=ContractStatus.AKTIV), actor).count(),
        _current_codes(actor, today).count(),
        _expiring_codes(actor, today).count(),
        scoped(Abo.filter(Q(endmonat__isnull=True) | Q(endmonat__gte=chart_months(today)[0])), actor)
        .group_by('startmonat', 'endmonat').annotate(count=Count('startmonat'))
        .values_list('startmonat', 'endmonat', 'count'),
    )
    return _Counts(active, valid, expiring, [(start, end, count) for start, end, count in pairs])


def _current_code_until(today: date) -> RawSQL:
    """The valid_until of the contract's current code (not revoked, valid today), NULL without one: a lookup in the
    index kundencode(contract_id, revoked_at) per contract (at most one code of a contract is not revoked,
    services/kundencode.py replaces the current one). Tortoise has no EXISTS or outer reference, hence raw SQL; the
    date is the clock's, never a user's text."""
    return RawSQL('(SELECT k.valid_until FROM kundencode k WHERE k.contract_id = contract.id '
                  f"AND k.revoked_at IS NULL AND k.valid_until >= '{today.isoformat()}' LIMIT 1)")


async def _code_warnings(actor: PortalUser, today: date, counted: _Counts) -> list[CodeWarning]:
    """The first SHOWN_CODE_WARNINGS warnings by Vertragsnummer of the active contracts: two lists merged, the
    contracts without a current code and the codes that run out within CODE_WARNING_DAYS; their total comes from the
    counts (the active contracts less the valid codes plus those running out).

    Each list walks the active contracts by Vertragsnummer (index) and looks up each one's current code until 20 are
    found: about 20 × active / found lookups. Where that is more than the codes running out, those are read instead
    (the window of CODE_WARNING_DAYS in the index kundencode(revoked_at, valid_until)) and sorted: either way at most
    √(20 × active) rows, about 1,200 at 100,000 contracts. Measured at 100,000 contracts (70,000 active, 2,333
    codes running out, 46,673 active without a code), CPU on SQLite: the walks 0.02 and 0.15 ms, against 5.9 ms for
    the NOT IN that read every valid code and 5.4 ms for the window; on PostgreSQL the NOT IN took 4.6 ms, the walk
    0.1 ms. Not bounded: when nearly every active contract has a current code, finding the few without one walks them
    all (SQLite 37 ms at 70,000, the NOT IN 32 ms): that needs the current code on the contract row."""
    active = scoped(Contract.filter(status=ContractStatus.AKTIV), actor).annotate(until=_current_code_until(today))
    warn_until = today + timedelta(days=CODE_WARNING_DAYS)
    if counted.expiring_codes ** 2 >= SHOWN_CODE_WARNINGS * counted.active_contracts:
        running_out = active.filter(until__lte=warn_until).order_by('vertragsnummer').limit(SHOWN_CODE_WARNINGS) \
            .values('id', 'vertragsnummer', 'until')
    else:
        running_out = _expiring_codes(actor, today).order_by('contract__vertragsnummer') \
            .limit(SHOWN_CODE_WARNINGS).values(id='contract_id', vertragsnummer='contract__vertragsnummer',
                                                until='valid_until')
    without, expiring = await asyncio.gather(
        active.filter(until__isnull=True).order_by('vertragsnummer').limit(SHOWN_CODE_WARNINGS)
        .values('id', 'vertragsnummer') if counted.active_contracts > counted.valid_codes else _nothing(),
        running_out if counted.expiring_codes else _nothing(),
    )
    return sorted([
        *(CodeWarning(row['vertragsnummer'], row['id'], None) for row in without),
        *(CodeWarning(row['vertragsnummer'], row['id'], _day(row['until'])) for row in expiring),
    ], key=lambda warning: warning.vertragsnummer)[:SHOWN_CODE_WARNINGS]


async def _nothing() -> list[dict[str, Any]]:
    return []


async def _counts_and_warnings(actor: PortalUser, today: date) -> tuple[_Counts, list[CodeWarning]]:
    """Staff's totals from the counts the database keeps, a company's from its own rows; then the warnings, whose
    lists the counts choose."""
    counted = await (_kept_counts(today) if permissions.sees_every_customer(actor) else _counted_counts(actor, today))
    return counted, await _code_warnings(actor, today, counted)


async def _open_antraege(actor: PortalUser) -> tuple[int, list[int]]:
    """The open Anträge in all, and up to two of their contracts: the tile links to the one contract when all are
    of one, else to the table; a third id would change nothing."""
    open_antraege = scoped(Antrag.filter(status=AntragStatus.OFFEN), actor)
    contract_ids = await flat_values(open_antraege.distinct().order_by('contract_id').limit(2), 'contract_id')
    return await open_antraege.count(), contract_ids


@dataclass(frozen=True)
class _ForTheRole:
    events: list[AuditEvent]
    newest_customers: list[Customer]
    subsidy_warnings: list[BelowMinimum]


async def _for_the_role(actor: PortalUser) -> _ForTheRole:
    """The parts only some roles see: the last events (Protokoll), the newest customers (staff), the subsidies below
    a coming minimum (a company's administrators)."""
    events = await scoped(AuditEvent.all(), actor).order_by('-created_at').limit(8) \
        if permissions.role_may(actor, Action.VIEW_AUDIT_LOG) else []
    newest = await scoped(Customer.all(), actor).order_by('-created_at', '-id').limit(5) \
        if permissions.role_may(actor, Action.VIEW_ALL_CUSTOMERS) else []
    shortfalls = await zuschuesse.upcoming_shortfalls(actor) \
        if permissions.role_may(actor, Action.CHANGE_SUBSIDY) and permissions.is_company_role(actor.role) else []
    return _ForTheRole(list(events), list(newest), shortfalls)


async def overview(actor: PortalUser) -> Overview:
    """Every figure of the start page: totals from counts (_counts_and_warnings), lists bounded. The parts are
    independent and run at once: on PostgreSQL each takes its own pooled connection; SQLite's one connection runs them
    in turn."""
    today = clock.today()
    permissions.require_role(actor, Action.VIEW_DASHBOARD)
    (counted, warnings), (open_antraege, open_ids), for_the_role = await asyncio.gather(
        _counts_and_warnings(actor, today), _open_antraege(actor), _for_the_role(actor))
    abos = abo_figures(counted.abo_pairs, today)
    return Overview(
        active_contracts=counted.active_contracts,
        active_abos=abos.per_month[-1][1],
        abo_states=abos.states_today,
        open_antraege=open_antraege,
        open_antraege_contract_ids=open_ids,
        valid_codes=counted.valid_codes,
        code_warning_count=counted.active_contracts - counted.valid_codes + counted.expiring_codes,
        code_warnings=warnings,
        abos_per_month=abos.per_month,
        recent_events=for_the_role.events,
        newest_customers=for_the_role.newest_customers,
        subsidy_warnings=for_the_role.subsidy_warnings,
    )
