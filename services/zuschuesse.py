"""The employer's subsidy (Arbeitgeberzuschuss) as a dated history per contract: „ab Monat X: Y €“.

`Contract.arbeitgeberzuschuss_cent` is what was agreed at the start (the command line and the Verwaltung set it);
each SubsidyChange replaces it from its month on. Changes only ever start in a future month, so a running or billed
month never moves, and each is checked against the tariff of *its* month: the D-Ticket Job requires at least the
minimum share (25 %) of that month's price.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date

from tortoise.expressions import Q, RawSQL
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models import Contract, ContractStatus, PortalUser, SubsidyChange
from services import abo_dates, audit, clock, permissions, tarife
from services.audit import AuditKind
from services.errors import ValidationError
from services.permissions import Action, scoped
from services.tarife import Tariff, Tariffs
from services.validation import format_euro
from services.vertraege import get_contract

MAX_LISTED = 200  # contracts a warning list shows; the count says how many there are


@dataclass(frozen=True)
class SubsidySchedule:
    """One contract's subsidy by month: the agreed amount, then each change from its month on."""

    base_cent: int
    changes: tuple[tuple[date, int], ...] = ()  # (gueltig_ab, cents), oldest first

    def on(self, month: date) -> int:
        index = bisect.bisect_right([start for start, _ in self.changes], month)
        return self.changes[index - 1][1] if index else self.base_cent


def subsidy_sql(contract: str, month: str) -> str:
    """`SubsidySchedule.on(month)` in SQL for the contract row `contract` (an alias; `month` a parameter or a date
    literal): its latest change from `month` or before, else the agreed amount. The unique (contract_id, gueltig_ab)
    index answers the subquery; tests/services/test_billing_sums.py keeps it equal to `on`."""
    return (f'COALESCE((SELECT sc.zuschuss_cent FROM subsidy_change sc WHERE sc.contract_id = {contract}.id AND '
            f'sc.gueltig_ab <= {month} ORDER BY sc.gueltig_ab DESC LIMIT 1), {contract}.arbeitgeberzuschuss_cent)')


@dataclass
class SubsidyHistory:
    contract: Contract
    schedule: SubsidySchedule
    entries: list[tuple[date, int]] = field(default_factory=list)  # (ab Monat, cents), the start first
    current_cent: int = 0


async def changes_by_contract(queryset: QuerySet[SubsidyChange]) -> dict[int, tuple[tuple[date, int], ...]]:
    """Each contract's changes among `queryset`, oldest first (changes are rare: a few per contract and year)."""
    grouped: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for contract_id, start, cents in await queryset.order_by('contract_id', 'gueltig_ab').values_list(
        'contract_id', 'gueltig_ab', 'zuschuss_cent'
    ):
        grouped[contract_id].append((start, cents))
    return {contract_id: tuple(changes) for contract_id, changes in grouped.items()}


async def schedule_of(contract: Contract) -> SubsidySchedule:
    changes = await changes_by_contract(SubsidyChange.filter(contract_id=contract.id))
    return SubsidySchedule(contract.arbeitgeberzuschuss_cent, changes.get(contract.id, ()))


async def history(actor: PortalUser, contract_id: int) -> SubsidyHistory:
    contract = await get_contract(actor, contract_id)
    schedule = await schedule_of(contract)
    entries = [(abo_dates.first_of_month(contract.beginn), schedule.base_cent), *schedule.changes]
    return SubsidyHistory(contract, schedule, entries, schedule.on(abo_dates.first_of_month(clock.today())))


def minimum_problem(rules: Tariff, month: date, zuschuss_cent: int) -> str | None:
    """The rule of one month: at least the minimum share of that month's price, at most the whole price."""
    if zuschuss_cent < rules.mindestzuschuss_cent:
        return (f'Der Arbeitgeberzuschuss ab {abo_dates.month_label(month)} beträgt mindestens '
                f'{format_euro(rules.mindestzuschuss_cent)} ({rules.mindestzuschuss_prozent} % des '
                f'Deutschlandticket-Preises von {format_euro(rules.preis_cent)}).')
    if zuschuss_cent > rules.preis_cent:
        return (f'Der Arbeitgeberzuschuss kann höchstens den ganzen Preis ({format_euro(rules.preis_cent)}) '
                'betragen.')
    return None


async def change_subsidy(
    actor: PortalUser, contract_id: int, *, ab_monat: date | None, zuschuss_cent: int | None, client: str = '',
) -> SubsidyChange:
    """The subsidy from the 1st of `ab_monat` on; a second change for the same month replaces the first."""
    contract = await get_contract(actor, contract_id)
    permissions.require(actor, Action.CHANGE_SUBSIDY, contract.customer_id)
    errors: dict[str, str] = {}
    first_open = abo_dates.first_change_month(clock.today())
    if ab_monat is None:
        errors['ab_monat'] = 'Bitte wählen Sie den Monat, ab dem der neue Zuschuss gilt.'
    else:
        ab_monat = abo_dates.first_of_month(ab_monat)
        if ab_monat < first_open:
            errors['ab_monat'] = (f'Der Zuschuss lässt sich frühestens ab {abo_dates.month_label(first_open)} '
                                  'ändern.')
        elif contract.ende is not None and ab_monat > contract.ende:
            errors['ab_monat'] = 'Der Vertrag endet vor diesem Monat.'
        elif contract.status == ContractStatus.BEENDET:
            errors['ab_monat'] = 'Der Vertrag ist beendet.'
    if zuschuss_cent is None:
        errors['zuschuss'] = 'Bitte geben Sie den Zuschuss in Euro an (z. B. 20,00).'
    if not errors:
        assert ab_monat is not None and zuschuss_cent is not None
        rules = (await tarife.current()).on(ab_monat)
        if problem := minimum_problem(rules, ab_monat, zuschuss_cent):
            errors['zuschuss'] = problem
    if errors:
        raise ValidationError(errors)
    assert ab_monat is not None and zuschuss_cent is not None
    async with in_transaction():
        change, created = await SubsidyChange.get_or_create(
            contract_id=contract.id, gueltig_ab=ab_monat,
            defaults={'zuschuss_cent': zuschuss_cent, 'created_by': actor.email, 'created_at': clock.now()},
        )
        if not created:
            change.zuschuss_cent, change.created_by, change.created_at = zuschuss_cent, actor.email, clock.now()
            await change.save(update_fields=['zuschuss_cent', 'created_by', 'created_at'])
        await audit.record(AuditKind.SUBSIDY_CHANGED, actor=actor, customer_id=contract.customer_id,
                           object_type='contract', object_id=contract.id,
                           details={'ab_monat': ab_monat.isoformat(), 'zuschuss_cent': zuschuss_cent}, client=client)
    return change


# --- contracts below a tariff's minimum ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BelowMinimum:
    contract_id: int
    vertragsnummer: str
    firma: str
    monat: date
    zuschuss_cent: int
    mindestzuschuss_cent: int

    @property
    def message(self) -> str:
        return (f'Vertrag {self.vertragsnummer}: Der Arbeitgeberzuschuss von {format_euro(self.zuschuss_cent)} liegt '
                f'ab {abo_dates.month_label(self.monat)} unter dem Mindestzuschuss von '
                f'{format_euro(self.mindestzuschuss_cent)}. Bitte erhöhen Sie ihn (Vertragsverwaltung → Infos).')


def _running_in(month: date) -> Q:
    return Q(status__not=ContractStatus.BEENDET) & (Q(ende__isnull=True) | Q(ende__gte=month))


async def below_minimum(actor: PortalUser, rules: Tariff) -> tuple[int, list[BelowMinimum]]:
    """Contracts (of the actor's scope) running in the block's first month whose subsidy then lies below the block's
    minimum: how many, and the first MAX_LISTED by Vertragsnummer. The subsidy of that month is computed in the
    database (`subsidy_sql`), so both are one query each, however many contracts miss the minimum (a price rise
    can make it every one of 100,000: they were all read and sorted in Python before)."""
    month, minimum = rules.gueltig_ab, rules.mindestzuschuss_cent
    below = scoped(Contract.filter(_running_in(month)), actor).annotate(
        zuschuss=RawSQL(subsidy_sql('"contract"', f"'{month.isoformat()}'"))  # a date, not text from anybody
    ).filter(zuschuss__lt=minimum)
    rows = await below.order_by('vertragsnummer').limit(MAX_LISTED).values_list(
        'id', 'vertragsnummer', 'firma', 'zuschuss')
    found = [BelowMinimum(contract_id, number, firma, month, int(cents), minimum)
             for contract_id, number, firma, cents in rows]
    return (await below.count() if len(found) == MAX_LISTED else len(found)), found


async def upcoming_shortfalls(actor: PortalUser, tariffs: Tariffs | None = None) -> list[BelowMinimum]:
    """For the Dashboard: the actor's contracts below the minimum of the current month's tariff or of a block still
    to come (the earliest month per contract)."""
    tariffs = tariffs or await tarife.current()
    this_month = abo_dates.first_of_month(clock.today())
    blocks = [tariffs.on(this_month), *tariffs.starting_after(this_month)]
    seen: dict[int, BelowMinimum] = {}
    for rules in blocks:
        for row in (await below_minimum(actor, replace(rules, gueltig_ab=max(rules.gueltig_ab, this_month))))[1]:
            seen.setdefault(row.contract_id, row)
    return sorted(seen.values(), key=lambda row: (row.monat, row.vertragsnummer))
