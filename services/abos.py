"""The company's side of the Abos: the list per contract, ending an Abo when an employee leaves, and the export."""

from __future__ import annotations

from datetime import date, datetime

from tortoise.transactions import in_transaction

from models import Abo, AboStatus, Antrag, PortalUser
from services import abo_dates, abo_status, audit, clock, notifications, permissions
from services.abo_status import AboState
from services.audit import AuditKind
from services.errors import NotFound, ServiceError, ValidationError
from services.permissions import Action
from services.spreadsheet import csv_bytes, xlsx_bytes
from services.spreadsheet import neutralise as neutralise  # the Massenupload's error list imports it from here
from services.table_query import TablePage, TableRequest, fetch_page
from services.validation import format_german_date
from services.vertraege import get_contract

SORTABLE = ('nachname', 'personalnummer', 'startmonat', 'endmonat', 'status', 'ticketart')
STATUS_FILTERS = ('alle', *(state.value for state in AboState))
EXPORT_COLUMNS = ('Nachname', 'Vorname', 'Personalnummer', 'Beginn', 'Ende', 'Status', 'Ticketart')


async def list_abos(actor: PortalUser, contract_id: int, request: TableRequest, *, status: str = 'alle'
                    ) -> TablePage[Abo]:
    """The contract's Abos; `status` one of STATUS_FILTERS, filtered and sorted by the status of today
    (services/abo_status.py), not by the stored word."""
    contract = await get_contract(actor, contract_id)
    permissions.require(actor, Action.VIEW_ABOS, contract.customer_id)
    today = clock.today()
    queryset = permissions.scoped(Abo.filter(contract_id=contract.id), actor)
    if status in STATUS_FILTERS[1:]:
        queryset = queryset.filter(abo_status.state_filter(AboState(status), today))
    return await fetch_page(queryset, request, SORTABLE, computed={'status': abo_status.state_rank(today)})


def abo_from(antrag: Antrag, created_at: datetime) -> Abo:
    """The Abo of an approved Antrag, unsaved: the one constructor for a single approval (`antraege.create_abo_from`)
    and the Massenupload's bulk_create (which sets antrag_id once the Antrag has one)."""
    return Abo(
        contract_id=antrag.contract_id, employee_id=antrag.employee_id,
        antrag_id=antrag.id, vorname=antrag.vorname, nachname=antrag.nachname, geburtsdatum=antrag.geburtsdatum,
        personalnummer=antrag.personalnummer, strasse=antrag.strasse, plz=antrag.plz, ort=antrag.ort,
        ticketart=antrag.ticketart, startmonat=antrag.startmonat, status=AboStatus.AKTIV,
        person_key=antrag.person_key, created_at=created_at,
    )


async def end_choices(actor: PortalUser, abo_id: int) -> list[date]:
    """The months the company may choose in "Abo beenden zum …" (last days), earliest first."""
    abo = await _abo_to_end(actor, abo_id)
    return abo_dates.end_months(clock.today(), abo.startmonat, abo.contract.ende)


async def _abo_to_end(actor: PortalUser, abo_id: int) -> Abo:
    abo = await permissions.scoped(Abo.filter(id=abo_id), actor).select_related('contract').first()
    if abo is None:
        raise NotFound('Das Abo wurde nicht gefunden.')
    permissions.require(actor, Action.END_ABO, abo.contract.customer_id)
    return abo


async def end_abo(actor: PortalUser, abo_id: int, *, endmonat: date | None = None, client: str = '') -> Abo:
    """The employee leaves: "Abo beenden zum …" the month the company picks (`abo_dates.end_month_problem` says
    which may be picked), by default the next possible end by the cut-off rule, like a Kündigung."""
    abo = await _abo_to_end(actor, abo_id)
    today = clock.today()
    end = abo_dates.cancellation_end(today, abo.startmonat) if endmonat is None else abo_dates.last_of_month(endmonat)
    if problem := abo_dates.end_month_problem(end, today, abo.startmonat, abo.contract.ende):
        raise ValidationError({'endmonat': problem})
    abo.status, abo.endmonat, abo.cancelled_at = AboStatus.GEKUENDIGT, end, clock.now()
    async with in_transaction():
        changed = await abo.save_where(['status', 'endmonat', 'cancelled_at'], status=AboStatus.AKTIV)
        if not changed:
            raise ServiceError('Dieses Abo ist bereits gekündigt oder beendet.')
        await audit.record(AuditKind.ABO_ENDED, actor=actor, customer_id=abo.contract.customer_id,
                           object_type='abo', object_id=abo.id, details={'endmonat': end.isoformat()}, client=client)
        await notifications.abo_cancelled(abo, end, by_company=True)
    await abo.refresh_from_db()
    return abo


def _export_rows(abos: list[Abo]) -> list[list[str]]:
    today = clock.today()
    return [[
        abo.nachname, abo.vorname, abo.personalnummer, format_german_date(abo.startmonat),
        format_german_date(abo.endmonat), abo_status.label(abo, today), abo.ticketart.value,
    ] for abo in abos]


async def _abos_for_export(actor: PortalUser, contract_id: int, export_format: str, client: str) -> list[Abo]:
    contract = await get_contract(actor, contract_id)
    permissions.require(actor, Action.EXPORT_ABOS, contract.customer_id)
    abos = await permissions.scoped(Abo.filter(contract_id=contract.id), actor).order_by('nachname', 'vorname', 'id')
    await audit.record(AuditKind.ABOS_EXPORTED, actor=actor, customer_id=contract.customer_id,
                       object_type='contract', object_id=contract.id,
                       details={'format': export_format, 'zeilen': len(abos)}, client=client)
    return abos


async def export_csv(actor: PortalUser, contract_id: int, *, client: str = '') -> bytes:
    """Semicolon-separated UTF-8 with BOM: what German Excel opens correctly by double-click."""
    return csv_bytes(EXPORT_COLUMNS, _export_rows(await _abos_for_export(actor, contract_id, 'csv', client)))


async def export_xlsx(actor: PortalUser, contract_id: int, *, client: str = '') -> bytes:
    return xlsx_bytes('Abos', EXPORT_COLUMNS, _export_rows(await _abos_for_export(actor, contract_id, 'xlsx', client)))
