"""The Dashboard's numbers: every figure is an aggregate query in the database, scoped like the tables it links to,
so a tile and the table behind it always agree."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from tortoise.expressions import Q, Subquery
from tortoise.functions import Count

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


async def abo_figures(actor: PortalUser, today: date) -> AboFigures:
    """The chart (Abos running in each of the last 12 months, on its last day, this month today) and today's count
    per status, from one grouped query over the (start, end) pairs of the Abos not ended before the chart begins:
    its rows grow with the months Abos start and end in, never with the Abos. Each pair is put in a status by
    services/abo_status.py, the rule of every table, so the tile „Aktive Abos“ (this month's bar) and the chart
    cannot disagree, and neither can the company table's filter. COUNT(startmonat) (never NULL), not COUNT(id):
    PostgreSQL then answers from the index abo(startmonat, endmonat) alone (migration 0015)."""
    months = [abo_dates.first_of_month(today, offset) for offset in range(1 - CHART_MONTHS, 1)]
    pairs = await scoped(Abo.filter(Q(endmonat__isnull=True) | Q(endmonat__gte=months[0])), actor) \
        .group_by('startmonat', 'endmonat').annotate(count=Count('startmonat')) \
        .values_list('startmonat', 'endmonat', 'count')
    days = [min(today, abo_dates.last_of_month(month)) for month in months]
    states = [Counter[AboState]() for _ in days]
    for start, end, count in pairs:
        for day, counter in zip(days, states, strict=True):
            counter[abo_status.state_of(start, end, day)] += count
    per_month = [(month, sum(counter[state] for state in abo_status.RUNNING))
                 for month, counter in zip(months, states, strict=True)]
    return AboFigures(per_month, {state: states[-1][state] for state in AboState if state != AboState.BEENDET})


async def _code_warnings(actor: PortalUser, today: date) -> tuple[int, int, list[CodeWarning]]:
    """(valid codes, codes running out, the first SHOWN_CODE_WARNINGS warnings by Vertragsnummer) of the active
    contracts; the warnings in all are the active contracts less the valid codes plus those running out.

    Two bounded lists merged: contracts without a current code (an anti-join in the database) and codes that run
    out within CODE_WARNING_DAYS; the totals are counts. Nothing here reads a row per contract. The four queries
    run at once (on PostgreSQL each on its own pooled connection)."""
    current = scoped(Kundencode.filter(
        contract__status=ContractStatus.AKTIV, revoked_at__isnull=True, valid_until__gte=today,
    ), actor)
    expiring = current.filter(valid_until__lte=today + timedelta(days=CODE_WARNING_DAYS))
    without_code = scoped(Contract.filter(status=ContractStatus.AKTIV), actor).exclude(id__in=Subquery(
        scoped(Kundencode.filter(revoked_at__isnull=True, valid_until__gte=today), actor).values('contract_id')))
    without, running_out, valid_codes, expiring_count = await asyncio.gather(
        without_code.order_by('vertragsnummer').limit(SHOWN_CODE_WARNINGS).values('id', 'vertragsnummer'),
        expiring.order_by('contract__vertragsnummer').limit(SHOWN_CODE_WARNINGS)
        .values('contract_id', 'contract__vertragsnummer', 'valid_until'),
        # At most one code of a contract is not revoked (services/kundencode.py replaces the current one): the
        # active contracts without a current code are the active ones less the valid codes, with no anti-join to
        # count (300 ms at 100k).
        current.count(),
        expiring.count(),
    )
    shown = sorted([
        *(CodeWarning(row['vertragsnummer'], row['id'], None) for row in without),
        *(CodeWarning(row['contract__vertragsnummer'], row['contract_id'], row['valid_until']) for row in running_out),
    ], key=lambda warning: warning.vertragsnummer)[:SHOWN_CODE_WARNINGS]
    return valid_codes, expiring_count, shown


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
    """Every figure of the start page. The queries are independent and run at once: on PostgreSQL each takes its own
    pooled connection (at 100,000 contracts the counts take 20–30 ms each; one after the other the page's service
    took 140 ms, its longest part the code warnings' four queries with 91 ms); SQLite's one connection runs them in
    turn as before."""
    today = clock.today()
    permissions.require_role(actor, Action.VIEW_DASHBOARD)
    active_contracts, (valid_codes, expiring, warnings), (open_antraege, open_ids), abos, for_the_role = \
        await asyncio.gather(
            scoped(Contract.filter(status=ContractStatus.AKTIV), actor).count(),
            _code_warnings(actor, today),
            _open_antraege(actor),
            abo_figures(actor, today),
            _for_the_role(actor),
        )
    return Overview(
        active_contracts=active_contracts,
        active_abos=abos.per_month[-1][1],
        abo_states=abos.states_today,
        open_antraege=open_antraege,
        open_antraege_contract_ids=open_ids,
        valid_codes=valid_codes,
        code_warning_count=active_contracts - valid_codes + expiring,
        code_warnings=warnings,
        abos_per_month=abos.per_month,
        recent_events=for_the_role.events,
        newest_customers=for_the_role.newest_customers,
        subsidy_warnings=for_the_role.subsidy_warnings,
    )
