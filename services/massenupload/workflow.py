"""The Massenupload's steps with the database: the checked preview kept on the server, the import, the history.

`preview_upload` reads and checks a file and keeps the outcome in an `Upload` row: 'fehlerhaft' with the faults'
summary, or 'geprüft' holding the checked rows (`checked_rows`, JSON). "Importieren" names that row by id
(`import_upload`): the browser never sends the rows or the file again, and a check of yesterday is not imported.

How the import writes without anyone waiting for it. The rows go in batches of `BATCH_SIZE`; a batch's models
(Antrag, Abo, search keys) are built in a thread, never on the event loop. On PostgreSQL all batches are one
transaction: readers do not wait for a writer there (MVCC). On SQLite the process has one connection, and a
transaction holds it until it ends (a 10,000-row import held up another user's table for seconds), so each batch
is a transaction of its own, and other users' queries get the connection between batches. All or nothing then
works by compensation, the simplest correct design without a staging column:

- While it runs, the `Upload` row says so (result 'abgebrochen', message `RUNNING`); every Antrag of a new-people
  import carries its `upload_id`, every Abo its Antrag; every Abo a change or leaver import writes has its
  previous values in an `UploadChange` row of the upload, written in the same batch transaction.
- Each batch checks again, inside its transaction, that the contract is active, and that nobody of the batch has got
  an open Antrag or a running Abo meanwhile (new people), or that each Abo still runs (changes, leavers); SQLite runs
  one transaction at a time, so check and write are atomic; a conflict stops the import like any error.
- The end is one short transaction: the count of what the upload wrote must be the file's, and the Upload flips from
  `RUNNING` to 'importiert' together with the audit event. Until then the import has not happened.
- Then the new people's accounts and invitation mails, in short transactions of their own (`invite_people`); the
  Upload's `invitations_pending` marks them until the last, and the next start completes what a stopped process
  left. (In the final transaction they held SQLite's connection for 32–49 s at 10,000 people.)
- Any error or cancellation before the flip: `_undo` deletes the upload's Abos and Anträge, or writes the previous
  values back (batch by batch, idempotent) and the Upload becomes 'abgebrochen' with its rows kept: the same check
  can be imported again. A process that dies half-way leaves its batches and the `RUNNING` mark:
  `recover_interrupted_imports` at the next start takes them back (and the flip of a still-living import that lost
  rows to it fails on the count).
- Until the flip, other users may see the batches already written (on SQLite), e.g. in the contract's Abo list;
  they are real, checked rows of an import that either completes within seconds or is taken back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import partial
from typing import Any

from tortoise.transactions import in_transaction

from models import (
    Abo,
    AboStatus,
    Antrag,
    AntragSource,
    AntragStatus,
    Contract,
    ContractStatus,
    PortalUser,
    SepaMandate,
    Ticketart,
    Upload,
    UploadChange,
    UploadMode,
    UploadResult,
)
from services import audit, clock, employee_accounts, permissions, sepa
from services.abos import abo_from
from services.antraege import new_reference, running_abo, taken_persons
from services.audit import AuditKind
from services.database import flat_values
from services.errors import Conflict, PermissionDenied, ServiceError
from services.massenupload.checking import (
    INACTIVE_CONTRACT,
    ChangeRow,
    CheckedRow,
    LeaverRow,
    Preview,
    UploadRow,
    already_imported_message,
    check_against_contract,
    chunks,
    fault_summary,
    in_chunk_size,
    previous_import,
    read_upload,
    rows_from_json,
    rows_to_json,
)
from services.massenupload.columns import FILE_COLUMN
from services.massenupload.reading import READING_POOL, Fault, Progress, UploadError, sha256_of
from services.permissions import Action
from services.table_query import format_count
from services.vertraege import get_contract

logger = logging.getLogger(__name__)

UPLOAD_MANDATE_NOTE = ('Per Massenupload übermittelt: Das vom Kontoinhaber unterschriebene SEPA-Lastschriftmandat '
                       'liegt dem Arbeitgeber vor.')
FAULTY_FILE = 'Die Datei enthält Fehler und kann nicht importiert werden. Bitte korrigieren Sie die Datei.'
STALE_PREVIEW = 'Die Prüfung ist nicht mehr aktuell. Bitte laden Sie die Datei erneut hoch.'
WRONG_PREVIEW = 'Die Prüfung gehört nicht zu diesem Vertrag. Bitte laden Sie die Datei erneut hoch.'
NOT_CHECKED = 'Zu diesem Upload gibt es keine geprüften Zeilen. Bitte laden Sie die Datei erneut hoch.'
ALREADY_RUNNING = 'Dieser Import läuft bereits.'
ABORTED = 'Der Import wurde abgebrochen; es wurde nichts gespeichert. Bitte versuchen Sie es erneut.'
RUNNING = 'Import läuft …'
ABO_CHANGED = ('Abos der Datei wurden inzwischen beendet oder geändert. Bitte laden Sie die Datei erneut hoch, um die '
               'Zeilen zu sehen.')
INCOMPLETE = 'Der Import wurde nicht vollständig gespeichert.'
DONE = {UploadMode.NEU: 'angelegt', UploadMode.AENDERUNG: 'geändert', UploadMode.AUSTRITT: 'beendet'}

BATCH_SIZE = 200  # rows per batch: on SQLite one transaction of ~40 ms on a busy 2-core machine (500: ~270 ms)
ImportProgress = Callable[[int, int], Awaitable[None]]
CHANGED_FIELDS = ('strasse', 'plz', 'ort', 'ticketart', 'status', 'endmonat', 'cancelled_at')


class _Refused(ServiceError):
    """During the import: the data changed since the preview; whatever was written is taken back."""


class _Claimed(Conflict):
    """Another import of the same check runs or has finished: this one writes nothing and undoes nothing."""


# ---------------------------------------------------------------------------------------------------------------------
# The preview, kept in an Upload row


async def preview_upload(
    actor: PortalUser, contract_id: int, data: bytes, file_name: str, *, progress: Progress | None = None,
    client: str = '', mode: UploadMode = UploadMode.NEU,
) -> Preview:
    """Read, check and check against the contract: the whole preview, kept in an Upload row ('geprüft' with its rows,
    or 'fehlerhaft'; its id in `Preview.upload_id`). The pure part runs in `READING_POOL` (`Busy` when it is full;
    cancelling this coroutine stops the read). `UploadError` for an unreadable file, which is recorded, too."""
    contract = await get_contract(actor, contract_id)
    permissions.require(actor, Action.MASSENUPLOAD, contract.customer_id)
    today = clock.today()
    try:
        preview = await READING_POOL.run(partial(read_upload, mode=mode), data, file_name, today, progress)
    except UploadError as error:
        unreadable = Preview(file_name, sha256_of(data), today, 0, [], [Fault(0, FILE_COLUMN, str(error))],
                             mode=mode)
        await _store_check(actor, contract, unreadable, client)
        raise
    return await keep_check(actor, contract.id, preview, client=client)


async def keep_check(actor: PortalUser, contract_id: int, preview: Preview, *, client: str = '') -> Preview:
    """A read preview checked against the contract and kept in an Upload row (its id in `upload_id`): the second
    half of `preview_upload`, for callers that read the file themselves (benchmarks)."""
    contract = await get_contract(actor, contract_id)
    checked = await check_against_contract(actor, contract.id, preview)
    upload = await _store_check(actor, contract, checked, client)
    return replace(checked, upload_id=upload.id)


async def _store_check(actor: PortalUser, contract: Contract, preview: Preview, client: str) -> Upload:
    """The check as an Upload row: with faults 'fehlerhaft' (and audited as refused), else 'geprüft' holding the
    rows for the import (serialised in a thread: 10,000 rows are a few MB of JSON)."""
    values: dict[str, Any] = {
        'contract_id': contract.id, 'uploaded_by': actor, 'mode': preview.mode, 'file_name': preview.file_name[:255],
        'file_sha256': preview.sha256, 'row_count': preview.row_count, 'valid_count': preview.valid_count,
        'faulty_count': preview.faulty_count, 'imported_count': 0, 'checked_on': preview.checked_on,
        'created_at': clock.now(),
    }
    if preview.faults or not preview.rows:
        reason = fault_summary(preview) or 'Die Datei enthält keine Zeilen zum Importieren.'
        upload = await Upload.create(result=UploadResult.FEHLERHAFT, message=reason[:500], **values)
        await _audit_refusal(actor, contract, upload, reason, client)
        return upload
    stored = await asyncio.to_thread(rows_to_json, preview.rows)
    return await Upload.create(result=UploadResult.GEPRUEFT, checked_rows=stored, **values)


async def _audit_refusal(actor: PortalUser, contract: Contract, upload: Upload, reason: str, client: str) -> None:
    await audit.record(
        AuditKind.UPLOAD_REFUSED, actor=actor, customer_id=contract.customer_id,
        object_type='upload', object_id=upload.id,
        details={'vertragsnummer': contract.vertragsnummer, 'datei': upload.file_name, 'zeilen': upload.row_count,
                 'modus': upload.mode.value, 'ergebnis': upload.result.value, 'grund': reason[:500]},
        client=client,
    )


async def _record_refusal(actor: PortalUser, contract: Contract, upload: Upload, reason: str, *,
                          result: UploadResult = UploadResult.FEHLERHAFT, client: str = '') -> None:
    """A refused or failed import in the history and the audit trail (outside any import transaction). An aborted
    import keeps its checked rows (it can be imported again); a refused one does not (the file must be checked
    again)."""
    values: dict[str, Any] = {'imported_count': 0, 'result': result, 'message': reason[:500]}
    if result != UploadResult.ABGEBROCHEN:
        values['checked_rows'] = None
    await Upload.filter(id=upload.id).update(**values)
    upload.result = result
    await _audit_refusal(actor, contract, upload, reason, client)


# ---------------------------------------------------------------------------------------------------------------------
# Writing new people


def _draw_references(today: date, count: int) -> set[str]:
    return {new_reference(today) for _ in range(count)}


async def _unused_references(today: date, count: int) -> list[str]:
    """`count` new Antrag references that no Antrag has yet (a few collide at a million Anträge); drawn in a thread,
    checked a batch per query."""
    references: set[str] = set()
    while len(references) < count:
        candidates = await asyncio.to_thread(_draw_references, today, count - len(references)) - references
        taken: set[str] = set()
        for chunk in chunks(sorted(candidates), BATCH_SIZE):
            taken.update(await flat_values(Antrag.filter(reference__in=list(chunk)), 'reference'))
        references |= candidates - taken
    return sorted(references)


@dataclass(frozen=True)
class _Batch:
    rows: Sequence[UploadRow]
    antraege: list[Antrag]
    abos: list[Abo]  # abos[i] belongs to antraege[i]


def _build_batch(actor_id: int, contract_id: int, upload_id: int, rows: Sequence[UploadRow],
                 references: Sequence[str], now: datetime) -> _Batch:
    """The unsaved models of one batch: pure Python work, done in a thread (20,000 models built on the event loop
    stalled it for 146–197 ms). bulk_create fills their search keys (models/searchable.py)."""
    antraege = []
    for reference, row in zip(references, rows, strict=True):
        antrag = Antrag(
            reference=reference, contract_id=contract_id, upload_id=upload_id, source=AntragSource.MASSENUPLOAD,
            status=AntragStatus.GENEHMIGT, decided_at=now, decided_by_id=actor_id, created_at=now, **vars(row.data),
        )
        antraege.append(antrag)
    return _Batch(rows, antraege, [abo_from(antrag, now) for antrag in antraege])


def _taken_message(count: int) -> str:
    return (f'{format_count(count)} Person{"" if count == 1 else "en"} der Datei '
            f'{"hat" if count == 1 else "haben"} inzwischen einen offenen Antrag oder ein aktives Abo unter diesem '
            'Vertrag. Bitte laden Sie die Datei erneut hoch, um die Zeilen zu sehen.')


async def _taken_rows(contract_id: int, rows: Sequence[UploadRow], today: date) -> set[int]:
    """The rows whose person or Personalnummer has meanwhile got an open Antrag or a running Abo."""
    persons, numbers = await taken_persons(
        contract_id, [row.data.person_key for row in rows],
        [row.data.personalnummer for row in rows if row.data.personalnummer], today, chunk=in_chunk_size(),
    )
    return {row.row for row in rows if row.data.person_key in persons or row.data.personalnummer in numbers}


async def _require_active(contract_id: int) -> None:
    """The contract row, locked on PostgreSQL (two imports into one contract run one after the other)."""
    locked = await Contract.filter(id=contract_id).select_for_update().first()
    if locked is None or locked.status != ContractStatus.AKTIV:
        raise _Refused(INACTIVE_CONTRACT)


async def _write_new_people(contract_id: int, built: _Batch, today: date) -> None:
    """One batch of new people: Anträge, Abos, SEPA mandates; checked again (the duplicate rule) inside."""
    rows = built.rows
    if taken := await _taken_rows(contract_id, rows, today):
        raise _Refused(_taken_message(len(taken)))
    await Antrag.bulk_create(built.antraege)
    # bulk_create leaves the ids unset: read them back by the unique reference (one query per batch).
    ids = dict(await Antrag.filter(reference__in=[antrag.reference for antrag in built.antraege])
               .values_list('reference', 'id'))
    if len(ids) != len(built.antraege):
        raise ServiceError(INCOMPLETE)
    for antrag, abo in zip(built.antraege, built.abos, strict=True):
        abo.antrag_id = ids[antrag.reference]
    await Abo.bulk_create(built.abos)
    await SepaMandate.bulk_create([
        sepa.mandate_for(ids[antrag.reference], contract_id, row.mandate, UPLOAD_MANDATE_NOTE)
        for antrag, row in zip(built.antraege, rows, strict=True) if row.mandate is not None
    ])


# ---------------------------------------------------------------------------------------------------------------------
# Writing changes and leavers


def _before(abo: Abo) -> dict[str, Any]:
    return {
        'strasse': abo.strasse, 'plz': abo.plz, 'ort': abo.ort, 'ticketart': abo.ticketart.value,
        'status': abo.status.value, 'endmonat': abo.endmonat.isoformat() if abo.endmonat else None,
        'cancelled_at': abo.cancelled_at.isoformat() if abo.cancelled_at else None,
    }


def _restore(abo: Abo, before: dict[str, Any]) -> None:
    abo.strasse, abo.plz, abo.ort = before['strasse'], before['plz'], before['ort']
    abo.ticketart, abo.status = Ticketart(before['ticketart']), AboStatus(before['status'])
    abo.endmonat = date.fromisoformat(before['endmonat']) if before['endmonat'] else None
    abo.cancelled_at = datetime.fromisoformat(before['cancelled_at']) if before['cancelled_at'] else None


def _apply(abo: Abo, row: ChangeRow | LeaverRow, now: datetime) -> None:
    if isinstance(row, ChangeRow):
        if row.strasse:
            abo.strasse, abo.plz, abo.ort = row.strasse, row.plz, row.ort
        if row.ticketart is not None:
            abo.ticketart = row.ticketart
    else:  # the same change as "Abo beenden zum …" (services/abos.end_abo)
        abo.status, abo.endmonat, abo.cancelled_at = AboStatus.GEKUENDIGT, row.endmonat, now


async def _write_keyed(contract_id: int, upload: Upload, batch: Sequence[CheckedRow], today: date,
                       now: datetime) -> None:
    """One batch of changes or leavers: each Abo checked again (still running under the contract with its
    Personalnummer; a leaver's still 'aktiv'), its previous values kept in an UploadChange, then written."""
    rows = [row for row in batch if isinstance(row, ChangeRow | LeaverRow)]
    abos = {abo.id: abo for abo in await Abo.filter(
        running_abo(today), contract_id=contract_id, id__in=[row.abo_id for row in rows]).select_for_update()}
    for row in rows:
        abo = abos.get(row.abo_id)
        if abo is None or abo.personalnummer != row.personalnummer or (
                isinstance(row, LeaverRow) and abo.status != AboStatus.AKTIV):
            raise _Refused(ABO_CHANGED)
    await UploadChange.bulk_create([
        UploadChange(upload_id=upload.id, abo_id=row.abo_id, before=_before(abos[row.abo_id])) for row in rows
    ])
    for row in rows:
        _apply(abos[row.abo_id], row, now)
    await Abo.bulk_update(list(abos.values()), fields=list(CHANGED_FIELDS))


# ---------------------------------------------------------------------------------------------------------------------
# The import


def _commits_each_batch() -> bool:
    """SQLite: one connection per process, so a transaction holds up every other user's query until it ends; the
    import commits batch by batch. PostgreSQL: readers never wait for a writer (MVCC); one transaction."""
    return Antrag._meta.db.capabilities.dialect == 'sqlite'


async def _written(upload: Upload) -> int:
    if upload.mode == UploadMode.NEU:
        return await Antrag.filter(contract_id=upload.contract_id, upload_id=upload.id).count()
    return await UploadChange.filter(upload_id=upload.id).count()


async def _write_rows(actor: PortalUser, contract: Contract, upload: Upload, rows: Sequence[CheckedRow], today: date,
                      after_batch: ImportProgress | None, client: str) -> int:
    """The rows batch by batch (see the module docstring), then the final flip of the Upload to 'importiert'
    together with the audit event. Raises `_Refused` or any error; the caller undoes."""
    total = len(rows)
    each_batch = _commits_each_batch()
    now = clock.now()
    async with nullcontext() if each_batch else in_transaction():
        # Claim the upload: of two clicks (two tabs, two processes) one imports, the other is told. On PostgreSQL
        # the claim is part of the one transaction, so a process that dies leaves the check importable.
        if not await Upload.filter(id=upload.id, result__in=(UploadResult.GEPRUEFT, UploadResult.ABGEBROCHEN)) \
                .exclude(message=RUNNING).update(result=UploadResult.ABGEBROCHEN, message=RUNNING):
            raise _Claimed(ALREADY_RUNNING)
        await _require_active(contract.id)
        if previous := await previous_import(contract.id, upload.file_sha256):
            raise _Refused(already_imported_message(previous))
        new_people = upload.mode == UploadMode.NEU
        references = await _unused_references(today, total) if new_people else []
        for start in range(0, total, BATCH_SIZE):
            batch = rows[start:start + BATCH_SIZE]
            built = await asyncio.to_thread(
                _build_batch, actor.id, contract.id, upload.id, [row for row in batch if isinstance(row, UploadRow)],
                references[start:start + BATCH_SIZE], now,
            ) if new_people else None
            async with in_transaction():
                if each_batch:
                    await _require_active(contract.id)
                if built is not None:
                    await _write_new_people(contract.id, built, today)
                else:
                    await _write_keyed(contract.id, upload, batch, today, now)
            if after_batch is not None:
                await after_batch(start + len(batch), total)
        async with in_transaction():
            if await _written(upload) != total:
                raise ServiceError(INCOMPLETE)
            message = f'{format_count(total)} Abo{"" if total == 1 else "s"} {DONE[upload.mode]}.'
            if not await Upload.filter(id=upload.id, message=RUNNING).update(
                    result=UploadResult.IMPORTIERT, imported_count=total, message=message, checked_rows=None,
                    invitations_pending=new_people):
                raise ServiceError('Der Import wurde beim Start des Portals als abgebrochen erkannt.')
            await audit.record(
                AuditKind.UPLOAD_IMPORTED, actor=actor, customer_id=contract.customer_id,
                object_type='upload', object_id=upload.id,
                details={'vertragsnummer': contract.vertragsnummer, 'datei': upload.file_name,
                         'modus': upload.mode.value, 'zeilen': upload.row_count, 'importiert': total,
                         'sha256': upload.file_sha256},
                client=client,
            )
    return total


async def _undo(upload: Upload) -> int:
    """Take back what an unfinished import of this upload committed, a batch per short transaction; idempotent.
    New people: their Abos, mandates and Anträge deleted. Changes and leavers: the Abos' previous values written
    back. Returns the number of rows taken back."""
    undone = 0
    contract_id = upload.contract_id
    if upload.mode == UploadMode.NEU:
        while ids := await Antrag.filter(contract_id=contract_id, upload_id=upload.id).limit(BATCH_SIZE) \
                .values_list('id', flat=True):
            async with in_transaction():
                await Abo.filter(contract_id=contract_id, antrag_id__in=list(ids)).delete()
                await SepaMandate.filter(antrag_id__in=list(ids)).delete()
                undone += await Antrag.filter(id__in=list(ids)).delete()
        return undone
    while changes := await UploadChange.filter(upload_id=upload.id).order_by('-id').limit(BATCH_SIZE):
        async with in_transaction():
            abos = {abo.id: abo for abo in await Abo.filter(id__in=[change.abo_id for change in changes])}
            for change in changes:
                _restore(abos[change.abo_id], change.before)
            await Abo.bulk_update(list(abos.values()), fields=list(CHANGED_FIELDS))
            undone += await UploadChange.filter(id__in=[change.id for change in changes]).delete()
    return undone


async def _refuse(actor: PortalUser, contract: Contract, upload: Upload, reason: str, client: str) -> None:
    await _record_refusal(actor, contract, upload, reason, client=client)
    raise ServiceError(reason)


async def import_upload(
    actor: PortalUser, contract_id: int, upload_id: int | None, client: str = '', *,
    after_batch: ImportProgress | None = None,
) -> Upload:
    """Importieren the checked rows of the Upload `upload_id` ('geprüft', or 'abgebrochen' with its rows kept), all
    or nothing (see the module docstring for how, on SQLite, without holding up anyone): new people become approved
    Anträge (source Massenupload, decided by the actor) with their Abos, changes and leavers change their Abos. Only a
    check of today is imported; the rules are checked again while writing. The history row and the audit event
    record the outcome, also when the import is refused or fails. `after_batch(done, total)` is awaited after each
    written batch."""
    contract = await get_contract(actor, contract_id)
    upload = await Upload.filter(id=upload_id, contract_id=contract.id).first() if upload_id else None
    if not permissions.may(actor, Action.MASSENUPLOAD, contract.customer_id):
        refusal = permissions.denied_message(Action.MASSENUPLOAD)
        await audit.record(
            AuditKind.UPLOAD_REFUSED, actor=actor, customer_id=contract.customer_id,
            object_type='contract', object_id=contract.id,
            details={'vertragsnummer': contract.vertragsnummer, 'datei': upload.file_name if upload else '',
                     'grund': refusal},
            client=client,
        )
        raise PermissionDenied(refusal)
    if upload is None:  # never checked, or another contract's: nothing to say about it
        raise ServiceError(WRONG_PREVIEW)
    today = clock.today()
    if upload.result == UploadResult.IMPORTIERT:
        raise Conflict(already_imported_message(await Upload.get(id=upload.id).select_related('uploaded_by')))
    if upload.message == RUNNING:
        raise Conflict(ALREADY_RUNNING)
    if upload.result not in (UploadResult.GEPRUEFT, UploadResult.ABGEBROCHEN) or not upload.checked_rows:
        raise ServiceError(FAULTY_FILE if upload.result == UploadResult.FEHLERHAFT else NOT_CHECKED)
    if upload.checked_on != today:
        await _refuse(actor, contract, upload, STALE_PREVIEW, client)
    if contract.status != ContractStatus.AKTIV:
        await _refuse(actor, contract, upload, INACTIVE_CONTRACT, client)
    if previous := await previous_import(contract.id, upload.file_sha256):
        await _refuse(actor, contract, upload, already_imported_message(previous), client)
    rows = await asyncio.to_thread(rows_from_json, upload.mode, upload.checked_rows)

    async def take_back(reason: str, result: UploadResult) -> None:
        await _undo(upload)
        await _record_refusal(actor, contract, upload, reason, result=result, client=client)

    try:
        await _write_rows(actor, contract, upload, rows, today, after_batch, client)
    except _Claimed:
        raise
    except _Refused as error:
        await asyncio.shield(take_back(str(error), UploadResult.FEHLERHAFT))
        raise ServiceError(str(error)) from None
    except BaseException as error:  # also a cancelled import (the page's teardown at shutdown): nothing may stay
        logger.log(logging.ERROR if isinstance(error, Exception) else logging.WARNING,
                   'Massenupload %s for contract %s failed', upload.id, contract.id, exc_info=True)
        await asyncio.shield(take_back(ABORTED, UploadResult.ABGEBROCHEN))
        if isinstance(error, Exception):
            raise ServiceError(ABORTED) from error
        raise
    if upload.mode == UploadMode.NEU:
        await invite_people(upload.id)
    await upload.refresh_from_db()
    return upload


async def invite_people(upload_id: int | None = None) -> None:
    """The imported people's accounts and invitations (employee_accounts.invite_imported), after the import of
    `upload_id`, which is done whatever happens here; or, with None at start-up beside the pages, of every upload
    whose invitations a stopped process left unfinished (`invitations_pending`)."""
    try:
        if upload_id is not None:
            await employee_accounts.invite_imported(upload_id)
        elif invited := await employee_accounts.invite_pending_imports():
            logger.warning('Massenupload: %s invitations left by a stopped import sent', invited)
    except Exception:
        logger.exception('Massenupload: the invitations stopped half-way; the next start completes them')


async def recover_interrupted_imports() -> int:
    """At start-up, before any request: take back the committed batches of imports that a dead process left
    'running' (SQLite only: on PostgreSQL an import is one transaction, which the server rolls back itself).
    Returns the number of such uploads; each becomes 'abgebrochen' and can be imported again."""
    if not _commits_each_batch():
        return 0
    interrupted = await Upload.filter(result=UploadResult.ABGEBROCHEN, message=RUNNING)
    for upload in interrupted:
        undone = await _undo(upload)
        await Upload.filter(id=upload.id).update(message=ABORTED)
        logger.warning('Massenupload %s was interrupted; %s rows taken back', upload.id, undone)
    return len(interrupted)


# ---------------------------------------------------------------------------------------------------------------------
# History


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    mode: UploadMode
    file_name: str
    row_count: int
    valid_count: int
    faulty_count: int
    result: UploadResult
    message: str
    uploaded_by: str  # the user's name, '' when deleted
    created_at: datetime


async def upload_history(actor: PortalUser, contract_id: int, limit: int = 50) -> list[HistoryEntry]:
    """The contract's uploads, newest first (readers see them, too); without the checked rows they may hold."""
    contract = await get_contract(actor, contract_id)
    permissions.require(actor, Action.VIEW_UPLOADS, contract.customer_id)
    rows = await permissions.scoped(Upload.filter(contract_id=contract.id), actor) \
        .order_by('-created_at', '-id').limit(limit) \
        .values('id', 'mode', 'file_name', 'row_count', 'valid_count', 'faulty_count', 'result', 'message',
                'created_at', 'uploaded_by__name')
    return [HistoryEntry(row['id'], UploadMode(row['mode']), row['file_name'], row['row_count'], row['valid_count'],
                         row['faulty_count'], UploadResult(row['result']), row['message'],
                         row['uploaded_by__name'] or '', row['created_at']) for row in rows]
