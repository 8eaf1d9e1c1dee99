"""The Dashboard's numbers: every figure is an aggregate query in the database, scoped like the tables it links to,
so a tile and the table behind it always agree."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate

from tortoise.expressions import Q, Subquery
from tortoise.functions import Count

from models import (
    Abo,
    AboStatus,
    Antrag,
    AntragStatus,
    AuditEvent,
    Contract,
    ContractStatus,
    Customer,
    Kundencode,
    PortalUser,
)
from services import abo_dates, clock, permissions, subsidies
from services.database import flat_values
from services.permissions import Action, scoped
from services.subsidies import BelowMinimum

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
    active_abos: int
    open_antraege: int
    open_antraege_contract_ids: list[int]  # at most two: whether they are all of one contract, and which
    valid_codes: int
    code_warning_count: int
    code_warnings: list[CodeWarning]
    abos_per_month: list[tuple[date, int]]
    recent_events: list[AuditEvent]
    newest_customers: list[Customer]
    subsidy_warnings: list[BelowMinimum]  # for those who may change the subsidy: below a tariff's minimum


async def active_abos_per_month(actor: PortalUser, today: date) -> list[tuple[date, int]]:
    """Abos running on the 1st of each of the last 12 months, from one grouped query over (start, end) pairs of the
    Abos that touch the chart: its rows grow with the months Abos start and end in, never with the Abos. Each pair
    adds its count to the run of months it covers (a difference array: a few steps a pair, not one per month)."""
    months = [abo_dates.first_of_month(today, offset) for offset in range(1 - CHART_MONTHS, 1)]
    pairs = await scoped(Abo.filter(Q(endmonat__isnull=True) | Q(endmonat__gte=months[0]),
                                    startmonat__lte=months[-1]), actor) \
        .group_by('startmonat', 'endmonat').annotate(count=Count('id')).values_list('startmonat', 'endmonat', 'count')
    steps = [0] * (len(months) + 1)
    for start, end, count in pairs:
        steps[bisect_left(months, start)] += count
        steps[len(months) if end is None else bisect_right(months, end)] -= count
    return list(zip(months, accumulate(steps[:-1]), strict=True))


async def _code_warnings(actor: PortalUser, today: date, active: int) -> tuple[int, int, list[CodeWarning]]:
    """(valid codes, warnings in all, the first SHOWN_CODE_WARNINGS by Vertragsnummer) of the `active` contracts.

    Two bounded lists merged: contracts without a current code (an anti-join in the database) and codes that run
    out within CODE_WARNING_DAYS; the totals are counts. Nothing here reads a row per contract."""
    current = scoped(Kundencode.filter(
        contract__status=ContractStatus.AKTIV, revoked_at__isnull=True, valid_until__gte=today,
    ), actor)
    expiring = current.filter(valid_until__lte=today + timedelta(days=CODE_WARNING_DAYS))
    without_code = scoped(Contract.filter(status=ContractStatus.AKTIV), actor).exclude(id__in=Subquery(
        scoped(Kundencode.filter(revoked_at__isnull=True, valid_until__gte=today), actor).values('contract_id')))
    shown = sorted([
        *(CodeWarning(row['vertragsnummer'], row['id'], None) for row in await without_code
          .order_by('vertragsnummer').limit(SHOWN_CODE_WARNINGS).values('id', 'vertragsnummer')),
        *(CodeWarning(row['contract__vertragsnummer'], row['contract_id'], row['valid_until']) for row in await expiring
          .order_by('contract__vertragsnummer').limit(SHOWN_CODE_WARNINGS)
          .values('contract_id', 'contract__vertragsnummer', 'valid_until')),
    ], key=lambda warning: warning.vertragsnummer)[:SHOWN_CODE_WARNINGS]
    # At most one code of a contract is not revoked (services/codes.py replaces the current one): the active contracts
    # without a current code are the active ones less the valid codes, with no anti-join to count (300 ms at 100k).
    valid_codes = await current.count()
    return valid_codes, active - valid_codes + await expiring.count(), shown


async def _open_antraege(actor: PortalUser) -> tuple[int, list[int]]:
    """The open Anträge in all, and up to two of their contracts: the tile links to the one contract when all are
    of one, else to the table; a third id would change nothing."""
    open_antraege = scoped(Antrag.filter(status=AntragStatus.OFFEN), actor)
    contract_ids = await flat_values(open_antraege.distinct().order_by('contract_id').limit(2), 'contract_id')
    return await open_antraege.count(), contract_ids


async def overview(actor: PortalUser) -> Overview:
    today = clock.today()
    permissions.require_role(actor, Action.VIEW_DASHBOARD)
    active_contracts = await scoped(Contract.filter(status=ContractStatus.AKTIV), actor).count()
    valid_codes, warning_count, warnings = await _code_warnings(actor, today, active_contracts)
    open_antraege, open_antraege_contract_ids = await _open_antraege(actor)
    events = await scoped(AuditEvent.all(), actor).order_by('-created_at').limit(8) \
        if permissions.role_may(actor, Action.VIEW_AUDIT_LOG) else []
    return Overview(
        active_contracts=active_contracts,
        active_abos=await scoped(Abo.filter(status=AboStatus.AKTIV), actor).count(),
        open_antraege=open_antraege,
        open_antraege_contract_ids=open_antraege_contract_ids,
        valid_codes=valid_codes,
        code_warning_count=warning_count,
        code_warnings=warnings,
        abos_per_month=await active_abos_per_month(actor, today),
        recent_events=list(events),
        newest_customers=list(await scoped(Customer.all(), actor).order_by('-created_at', '-id').limit(5))
        if permissions.role_may(actor, Action.VIEW_ALL_CUSTOMERS) else [],
        subsidy_warnings=await subsidies.upcoming_shortfalls(actor)
        if permissions.role_may(actor, Action.CHANGE_SUBSIDY) and permissions.is_company_role(actor.role) else [],
    )
