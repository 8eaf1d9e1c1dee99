"""The company's side of the Anträge: the list per contract, and deciding them (Genehmigen/Ablehnen).

A decision is a conditional update (only while the Antrag is 'offen'), so when two people decide at once exactly
one wins; an approval creates the Abo in the same transaction, so there is never an approved Antrag without its Abo.

Nothing is back-dated: an open Antrag must be approved by its deadline ("genehmigen bis", the cut-off day before its
start month); approved later, the Abo starts in the first month still open that day, and the clerk is told so.

The employee's mail (approved with the Abo's start month, or rejected with the reason) is written in that transaction
too: a decision rolled back sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tortoise.functions import Count
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models import Abo, Antrag, AntragStatus, PortalUser
from services import abo_dates, audit, clock, notifications, permissions
from services.abos import abo_from
from services.audit import AuditKind
from services.contracts import get_contract
from services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from services.permissions import Action
from services.table_query import TablePage, TableRequest, fetch_page
from services.validation import format_german_date

SORTABLE = ('created_at', 'nachname', 'personalnummer', 'startmonat', 'ticketart', 'status')
STATUS_FILTERS = ('offen', 'genehmigt', 'abgelehnt', 'alle')
ALREADY_DECIDED = 'Dieser Antrag wurde bereits entschieden, inzwischen vielleicht von jemand anderem.'
MAX_REASON = 500


def _visible() -> QuerySet[Antrag]:
    """What the company sees: not the Anträge still waiting for the employee's address confirmation."""
    return Antrag.exclude(status=AntragStatus.UNBESTAETIGT)


async def list_antraege(
    actor: PortalUser, contract_id: int, request: TableRequest, *, status: str = 'offen'
) -> TablePage[Antrag]:
    contract = await get_contract(actor, contract_id)
    permissions.require(actor, Action.VIEW_ANTRAEGE, contract.customer_id)
    queryset = permissions.scoped(_visible().filter(contract_id=contract.id), actor)
    if status in (value.value for value in AntragStatus):
        queryset = queryset.filter(status=status)
    if not request.sort:
        request = TableRequest(request.search, 'created_at', True, request.page, request.page_size)
    return await fetch_page(queryset, request, SORTABLE)


async def get_antrag(actor: PortalUser, antrag_id: int) -> Antrag:
    """One Antrag of a contract the actor may see; NotFound for every other id."""
    antrag = await permissions.scoped(_visible().filter(id=antrag_id), actor) \
        .select_related('contract__customer', 'decided_by').first()
    if antrag is None:
        raise NotFound('Der Antrag wurde nicht gefunden.')
    permissions.require(actor, Action.VIEW_ANTRAEGE, antrag.contract.customer_id)
    return antrag


async def open_counts(contract_ids: list[int]) -> dict[int, int]:
    """Open Anträge per contract (for the badges), in one grouped query. The ids are those of a table page that
    `contracts.list_contracts` has already scoped; only counts leave here."""
    if not contract_ids:
        return {}
    rows = await Antrag.filter(contract_id__in=contract_ids, status=AntragStatus.OFFEN).group_by('contract_id') \
        .annotate(count=Count('id')).values('contract_id', 'count')
    return {row['contract_id']: row['count'] for row in rows}


async def decide(actor: PortalUser, antrag_id: int, *, approve: bool, reason: str = '', client: str = '') -> Antrag:
    antrag = await get_antrag(actor, antrag_id)
    permissions.require(actor, Action.DECIDE_ANTRAG, antrag.contract.customer_id)
    reason = ' '.join(reason.split())
    if not approve and not reason:
        raise ValidationError({'reason': 'Bitte geben Sie einen Grund für die Ablehnung an.'})
    if len(reason) > MAX_REASON:
        raise ValidationError({'reason': f'Der Grund darf höchstens {MAX_REASON} Zeichen lang sein.'})
    status = AntragStatus.GENEHMIGT if approve else AntragStatus.ABGELEHNT
    start = abo_dates.approval_start(antrag.startmonat, clock.today())
    moved = {'startmonat': start.isoformat()} if approve and start != antrag.startmonat else {}
    async with in_transaction():
        antrag.status, antrag.decided_at, antrag.decided_by_id = status, clock.now(), actor.id
        antrag.decision_reason = reason
        changed = await antrag.save_where(['status', 'decided_at', 'decided_by_id', 'decision_reason'],
                                          status=AntragStatus.OFFEN)
        if not changed:
            raise Conflict(ALREADY_DECIDED)
        if approve:
            await notifications.antrag_approved(antrag, await create_abo_from(antrag, start))
        else:
            antrag.decision_reason = reason
            await notifications.antrag_rejected(antrag)
        await audit.record(
            AuditKind.ANTRAG_APPROVED if approve else AuditKind.ANTRAG_REJECTED, actor=actor,
            customer_id=antrag.contract.customer_id, object_type='antrag', object_id=antrag.id,
            details={'reference': antrag.reference, **({'reason': reason} if reason else {}), **moved}, client=client,
        )
    await antrag.refresh_from_db()
    return antrag


async def create_abo_from(antrag: Antrag, startmonat: date | None = None) -> Abo:
    """The Abo of an approved Antrag, from `startmonat` (default: the requested month)."""
    abo = abo_from(antrag, clock.now())
    if startmonat is not None:
        abo.startmonat = startmonat
    await abo.save()
    return abo


@dataclass(frozen=True)
class Approval:
    """An approved Antrag and the start its Abo got: the requested month, or a later one after the deadline."""

    antrag: Antrag
    startmonat: date

    @property
    def moved(self) -> bool:
        return self.startmonat != self.antrag.startmonat

    @property
    def message(self) -> str:
        if not self.moved:
            return 'Antrag genehmigt; das Abo ist angelegt.'
        return (f'Antrag {self.antrag.reference} genehmigt, aber nach der Frist für '
                f'{abo_dates.month_label(self.antrag.startmonat)} (genehmigen bis '
                f'{format_german_date(abo_dates.approval_deadline(self.antrag.startmonat))}): das Abo beginnt erst '
                f'am {format_german_date(self.startmonat)}.')


async def approve(actor: PortalUser, antrag_id: int, *, client: str = '') -> Approval:
    """Genehmigen, with the start month the Abo got (stored on the Abo, which the employee's mail is written from)."""
    antrag = await decide(actor, antrag_id, approve=True, client=client)
    return Approval(antrag, (await Abo.get(antrag_id=antrag.id)).startmonat)


async def approve_many(actor: PortalUser, antrag_ids: list[int], *, client: str = '') -> tuple[int, list[str]]:
    """Genehmigen for a selection: each in its own transaction; returns (approved, messages for the others and for
    each approval whose start moved past its deadline)."""
    approved, notes = 0, []
    for antrag_id in antrag_ids[:500]:
        try:
            approval = await approve(actor, antrag_id, client=client)
            approved += 1
        except (Conflict, NotFound, PermissionDenied) as error:
            notes.append(str(error))
            continue
        if approval.moved:
            notes.append(approval.message)
    return approved, notes
