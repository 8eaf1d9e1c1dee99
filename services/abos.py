"""The company's side of the Abos: the list per contract, ending an Abo when an employee leaves, and the export."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from models import Abo, AboStatus, PortalUser
from services import abo_dates, audit, clock, permissions
from services.audit import AuditKind
from services.contracts import get_contract
from services.errors import NotFound, ServiceError
from services.permissions import Action
from services.spreadsheet import csv_bytes, xlsx_bytes
from services.spreadsheet import neutralise as neutralise  # the Massenupload's error list imports it from here
from services.table_query import TablePage, TableRequest, fetch_page
from services.validation import format_german_date

SORTABLE = ('nachname', 'personalnummer', 'startmonat', 'endmonat', 'status', 'ticketart')
EXPORT_COLUMNS = ('Nachname', 'Vorname', 'Personalnummer', 'Beginn', 'Ende', 'Status', 'Ticketart')


async def list_abos(actor: PortalUser, contract_id: int, request: TableRequest) -> TablePage[Abo]:
    contract = await get_contract(actor, contract_id)
    permissions.require(actor, Action.VIEW_ABOS, contract.customer_id)
    return await fetch_page(permissions.scoped(Abo.filter(contract_id=contract.id), actor), request, SORTABLE)


async def end_abo(actor: PortalUser, abo_id: int, *, client: str = '') -> Abo:
    """The employee left: the Abo ends by the cut-off rule, like a Kündigung."""
    abo = await permissions.scoped(Abo.filter(id=abo_id), actor).select_related('contract').first()
    if abo is None:
        raise NotFound('Das Abo wurde nicht gefunden.')
    permissions.require(actor, Action.END_ABO, abo.contract.customer_id)
    end = abo_dates.cancellation_end(clock.today(), abo.startmonat)
    abo.status = AboStatus.GEKUENDIGT
    abo.refresh_search_text()  # update() bypasses save(), which keeps the search column current
    async with in_transaction():
        changed = await Abo.filter(id=abo.id, status=AboStatus.AKTIV).update(
            status=AboStatus.GEKUENDIGT, endmonat=end, cancelled_at=clock.now(), search_text=abo.search_text,
        )
        if not changed:
            raise ServiceError('Dieses Abo ist bereits gekündigt oder beendet.')
        await audit.record(AuditKind.ABO_ENDED, actor=actor, customer_id=abo.contract.customer_id,
                           object_type='abo', object_id=abo.id, details={'endmonat': end.isoformat()}, client=client)
    await abo.refresh_from_db()
    return abo


def _export_rows(abos: list[Abo]) -> list[list[str]]:
    return [[
        abo.nachname, abo.vorname, abo.personalnummer, format_german_date(abo.startmonat),
        format_german_date(abo.endmonat), abo.status.value, abo.ticketart.value,
    ] for abo in abos]


async def _abos_for_export(actor: PortalUser, contract_id: int, export_format: str, client: str) -> list[Abo]:
    contract = await get_contract(actor, contract_id)
    permissions.require(actor, Action.EXPORT_ABOS, contract.customer_id)
    abos = await permissions.scoped(Abo.filter(contract_id=contract.id), actor).order_by('nachname', 'vorname', 'id')
    await audit.record(AuditKind.ABOS_EXPORTED, actor=actor, customer_id=contract.customer_id,
                       object_type='contract', object_id=contract.id,
                       details={'format': export_format, 'rows': len(abos)}, client=client)
    return abos


async def export_csv(actor: PortalUser, contract_id: int, *, client: str = '') -> bytes:
    """Semicolon-separated UTF-8 with BOM: what German Excel opens correctly by double-click."""
    return csv_bytes(EXPORT_COLUMNS, _export_rows(await _abos_for_export(actor, contract_id, 'csv', client)))


async def export_xlsx(actor: PortalUser, contract_id: int, *, client: str = '') -> bytes:
    return xlsx_bytes('Abos', EXPORT_COLUMNS, _export_rows(await _abos_for_export(actor, contract_id, 'xlsx', client)))
