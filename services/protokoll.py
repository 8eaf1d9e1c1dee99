"""Reading the audit trail (Protokoll): administrators see their company's events, staff every event. Filtering and
paging run in the database. There is deliberately no function here (nor anywhere) that changes or deletes events."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from models import AuditEvent, Customer, PortalUser
from services import permissions
from services.audit import KIND_LABELS, AuditKind
from services.clock import BERLIN
from services.errors import ValidationError
from services.permissions import Action
from services.table_query import TablePage, TableRequest, fetch_page
from services.validation import field_length, search_term

SORTABLE = ('created_at',)
MAX_FILTER_LENGTH = 100
RECENT_LOGINS = 10
OBJECT_LABELS = {
    'user': 'Anwender', 'portaluser': 'Anwender', 'employee': 'Mitarbeiterkonto', 'customer': 'Kunde',
    'contract': 'Vertrag', 'kundencode': 'Kundencode', 'antrag': 'Antrag', 'abo': 'Abo', 'upload': 'Massenupload',
    'session': 'Sitzung',
}


@dataclass(frozen=True)
class AuditFilter:
    since: date | None = None
    until: date | None = None
    user: str = ''
    kind: str = ''
    kundennummer: str = ''  # staff only; a company administrator always sees their own company


def kind_options() -> dict[str, str]:
    """Every kind of event with its German label, ordered by label (the 'Ereignis' filter)."""
    return dict(sorted(((kind.value, kind.label) for kind in AuditKind), key=lambda item: item[1]))


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)  # type: ignore[call-overload]


def object_label(event: AuditEvent, kundennummern: dict[int, str] | None = None) -> str:
    """The record the event is about, by the name people know it ('Vertrag DJ-2024-0117', 'Kunde 100234',
    'Anwender anna@…'), else by its id; '' when there is none."""
    if not event.object_type:
        return ''
    label = OBJECT_LABELS.get(event.object_type, event.object_type)
    details = event.details or {}
    detail = details.get('vertragsnummer') or details.get('email')
    if not detail and label == 'Anwender' and event.object_id == str(event.actor_id):
        detail = event.actor_label
    if not detail and event.object_type == 'customer':
        detail = (kundennummern or {}).get(int(event.object_id)) if event.object_id.isdigit() else None
    return f'{label} {detail or event.object_id}'.strip()


def _start_of(day: date) -> datetime:
    """Midnight in Berlin, in UTC like every stored `created_at` (SQLite compares them as text)."""
    return datetime.combine(day, time.min, tzinfo=BERLIN).astimezone(UTC)


async def list_events(
    actor: PortalUser, request: TableRequest, filters: AuditFilter = AuditFilter()
) -> TablePage[AuditEvent]:
    """One page of events, newest first unless asked otherwise. `since`/`until` are whole days (Europe/Berlin),
    `user` matches part of the acting user's label (the e-mail address), `kind` one kind."""
    permissions.require_role(actor, Action.VIEW_AUDIT_LOG)
    if filters.since and filters.until and filters.until < filters.since:
        raise ValidationError({'until': 'Das Bis-Datum darf nicht vor dem Von-Datum liegen.'})
    queryset = permissions.scoped(AuditEvent.all(), actor)
    kundennummer = search_term(filters.kundennummer, field_length(Customer, 'kundennummer'))
    if kundennummer and permissions.role_may(actor, Action.VIEW_ALL_CUSTOMERS):
        queryset = queryset.filter(customer__kundennummer=kundennummer)
    if filters.since:
        queryset = queryset.filter(created_at__gte=_start_of(filters.since))
    if filters.until:
        queryset = queryset.filter(created_at__lt=_start_of(filters.until + timedelta(days=1)))
    if user := search_term(filters.user, MAX_FILTER_LENGTH):
        queryset = queryset.filter(actor_label__icontains=user)
    if filters.kind:
        queryset = queryset.filter(kind=search_term(filters.kind, field_length(AuditEvent, 'kind')))
    if not request.sort:
        request = replace(request, sort='created_at', descending=True)
    # AuditEvent has no search column: the filters above are the search.
    return await fetch_page(queryset, replace(request, search=''), SORTABLE)


async def kundennummern(events: list[AuditEvent]) -> dict[int, str]:
    """The Kundennummer of each event's company, in one query (for the staff view's 'Kunde' column)."""
    ids = {event.customer_id for event in events if event.customer_id}
    if not ids:
        return {}
    rows = await Customer.filter(id__in=ids).values('id', 'kundennummer')
    return {row['id']: row['kundennummer'] for row in rows}


async def recent_logins(user: PortalUser, limit: int = RECENT_LOGINS) -> list[AuditEvent]:
    """The user's own latest logins (for the profile): everyone may see these about themselves."""
    return list(await AuditEvent.filter(kind=AuditKind.LOGIN.value, actor_id=user.id)
                .order_by('-created_at', '-id').limit(limit))
