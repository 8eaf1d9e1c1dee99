"""The Dashboard's numbers: every figure is an aggregate query in the database, scoped like the tables it links to,
so a tile and the table behind it always agree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

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
from services.permissions import Action, scoped
from services.subsidies import BelowMinimum

CODE_WARNING_DAYS = 30
CHART_MONTHS = 12


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
    open_antraege_contract_ids: list[int]
    valid_codes: int
    code_warnings: list[CodeWarning]
    abos_per_month: list[tuple[date, int]]
    recent_events: list[AuditEvent]
    newest_customers: list[Customer]
    subsidy_warnings: list[BelowMinimum]  # for those who may change the subsidy: below a tariff's minimum


async def active_abos_per_month(actor: PortalUser, today: date) -> list[tuple[date, int]]:
    """Abos running on the 1st of each of the last 12 months, from one grouped query over (start, end) pairs."""
    pairs = await scoped(Abo.all(), actor).group_by('startmonat', 'endmonat') \
        .annotate(count=Count('id')).values('startmonat', 'endmonat', 'count')
    months = [abo_dates.first_of_month(today, offset) for offset in range(1 - CHART_MONTHS, 1)]
    return [
        (month, sum(pair['count'] for pair in pairs
                    if pair['startmonat'] <= month and (pair['endmonat'] is None or pair['endmonat'] >= month)))
        for month in months
    ]


async def _code_warnings(actor: PortalUser, today: date) -> tuple[int, list[CodeWarning]]:
    contracts = await scoped(Contract.filter(status=ContractStatus.AKTIV), actor) \
        .order_by('vertragsnummer').values('id', 'vertragsnummer')
    codes = {
        row['contract_id']: row['valid_until']
        for row in await scoped(Kundencode.filter(
            contract__status=ContractStatus.AKTIV, revoked_at__isnull=True, valid_until__gte=today,
        ), actor).values('contract_id', 'valid_until')
    }
    warnings = [
        CodeWarning(contract['vertragsnummer'], contract['id'], codes.get(contract['id']))
        for contract in contracts
        if contract['id'] not in codes or codes[contract['id']] - today <= timedelta(days=CODE_WARNING_DAYS)
    ]
    return len(codes), warnings


async def overview(actor: PortalUser) -> Overview:
    today = clock.today()
    permissions.require_role(actor, Action.VIEW_DASHBOARD)
    valid_codes, warnings = await _code_warnings(actor, today)
    events = await scoped(AuditEvent.all(), actor).order_by('-created_at').limit(8) \
        if permissions.role_may(actor, Action.VIEW_AUDIT_LOG) else []
    open_by_contract = await scoped(Antrag.filter(status=AntragStatus.OFFEN), actor) \
        .group_by('contract_id').annotate(count=Count('id')).values('contract_id', 'count')
    return Overview(
        active_contracts=await scoped(Contract.filter(status=ContractStatus.AKTIV), actor).count(),
        active_abos=await scoped(Abo.filter(status=AboStatus.AKTIV), actor).count(),
        open_antraege=sum(row['count'] for row in open_by_contract),
        open_antraege_contract_ids=sorted(row['contract_id'] for row in open_by_contract),
        valid_codes=valid_codes,
        code_warnings=warnings[:20],
        abos_per_month=await active_abos_per_month(actor, today),
        recent_events=list(events),
        newest_customers=list(await scoped(Customer.all(), actor).order_by('-created_at', '-id').limit(5))
        if permissions.role_may(actor, Action.VIEW_ALL_CUSTOMERS) else [],
        subsidy_warnings=await subsidies.upcoming_shortfalls(actor)
        if permissions.role_may(actor, Action.CHANGE_SUBSIDY) and permissions.is_company_role(actor.role) else [],
    )
