"""Issue 12, "nobody waits for an import": the Massenupload import writes in batches (on SQLite each a transaction of
its own) with its models built off the event loop, and stays all or nothing: an error or a process death half-way
leaves nothing imported and the file importable again. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from models import Abo, Antrag, Contract, PortalUser, Role, Upload, UploadResult
from services import massenupload, vertraege
from services.errors import ServiceError
from services.massenupload import workflow
from services.table_query import TableRequest
from tests.conftest import make_user
from tests.services.test_massenupload import checked_preview, csv_file, people, pinned_today

__all__ = ['pinned_today']  # a fixture shared with the Massenupload tests

ROWS = 12
BATCH = 5  # 12 rows: batches of 5, 5 and 2


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workflow, 'BATCH_SIZE', BATCH)


async def test_another_user_reads_between_the_batches(db: str, admin: PortalUser, contract: Contract) -> None:
    """Finding: one import held SQLite's only connection in one transaction; another user's table waited 1.7–2.0 s.
    Here the import is held after its first batch until another user's page change has been answered: with the
    connection held, that page change (and so the import) would never finish."""
    staff = await make_user('kundenservice@verkehrsbetrieb.de', Role.STAFF, name='Sabine Krüger')
    data = csv_file(people(ROWS))
    preview = await checked_preview(admin, contract, data)
    go, answered = asyncio.Event(), asyncio.Event()
    seen: list[int] = []

    async def other_user() -> None:  # its own task, started outside the import: another user's request
        await go.wait()
        page = await vertraege.list_contracts(staff, TableRequest())
        seen.append(page.total)
        answered.set()

    reader = asyncio.create_task(other_user())
    batches: list[tuple[int, int]] = []

    async def after_batch(done: int, total: int) -> None:
        batches.append((done, total))
        if len(batches) == 1:
            go.set()
            await asyncio.wait_for(answered.wait(), 10)  # a bound for the failure case only

    upload = await massenupload.import_upload(admin, contract.id, preview.upload_id, after_batch=after_batch)
    await reader
    assert seen == [1]
    assert batches == [(5, ROWS), (10, ROWS), (12, ROWS)]
    assert (upload.result, upload.imported_count) == (UploadResult.IMPORTIERT, ROWS)
    assert await Abo.filter(contract_id=contract.id).count() == ROWS


async def test_the_models_are_built_off_the_event_loop(
    db: str, admin: PortalUser, contract: Contract, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding: building 20,000 models on the event loop stalled it for 146–197 ms."""
    build = workflow._build_batch
    threads: list[bool] = []

    def recorded(*args: Any) -> Any:
        threads.append(threading.current_thread() is threading.main_thread())
        return build(*args)

    monkeypatch.setattr(workflow, '_build_batch', recorded)
    data = csv_file(people(ROWS))
    preview = await checked_preview(admin, contract, data)
    await massenupload.import_upload(admin, contract.id, preview.upload_id)
    assert threads == [False, False, False]


async def test_an_error_after_two_batches_leaves_nothing_and_the_file_importable(
    db: str, admin: PortalUser, contract: Contract
) -> None:
    data = csv_file(people(ROWS))
    preview = await checked_preview(admin, contract, data)
    written: list[int] = []

    async def failing(done: int, total: int) -> None:
        written.append(await Antrag.filter(contract_id=contract.id).count())
        if done == 2 * BATCH:
            raise RuntimeError('Datenträger voll')

    with pytest.raises(ServiceError) as caught:
        await massenupload.import_upload(admin, contract.id, preview.upload_id, after_batch=failing)
    assert str(caught.value) == massenupload.ABORTED
    assert written == [5, 10]  # two batches were written (on SQLite: committed) when the error came
    assert await Antrag.filter(contract_id=contract.id).count() == 0
    assert await Abo.filter(contract_id=contract.id).count() == 0
    (upload,) = await Upload.all()
    assert (upload.result, upload.imported_count, upload.message) == (
        UploadResult.ABGEBROCHEN, 0, massenupload.ABORTED)

    again = await massenupload.import_upload(admin, contract.id, preview.upload_id)
    assert (again.result, again.imported_count) == (UploadResult.IMPORTIERT, ROWS)
    assert await Antrag.filter(contract_id=contract.id).count() == ROWS
    assert await Abo.filter(contract_id=contract.id).count() == ROWS


async def test_an_import_whose_process_died_is_taken_back_at_the_next_start(
    db: str, admin: PortalUser, contract: Contract, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process killed half-way cannot take its batches back: it leaves them and the 'running' mark, and the
    next start does it (on PostgreSQL the server has rolled the one transaction back already)."""
    data = csv_file(people(ROWS))
    preview = await checked_preview(admin, contract, data)

    async def dies(done: int, total: int) -> None:
        if done == 2 * BATCH:
            raise RuntimeError('kill -9')

    async def nothing(*args: object, **kwargs: object) -> None:
        return None

    with monkeypatch.context() as dead:  # what a dead process no longer does
        dead.setattr(workflow, '_undo', nothing)
        dead.setattr(workflow, '_record_refusal', nothing)
        with pytest.raises(ServiceError):
            await massenupload.import_upload(admin, contract.id, preview.upload_id, after_batch=dies)
    left = await Antrag.filter(contract_id=contract.id).count()
    assert left == (2 * BATCH if db == 'sqlite' else 0)
    assert await Abo.filter(contract_id=contract.id).count() == left
    (upload,) = await Upload.all()
    if db == 'sqlite':
        assert (upload.result, upload.message) == (UploadResult.ABGEBROCHEN, massenupload.RUNNING)
    else:  # the server rolled the claim back with the batches: the check is importable as it was
        assert (upload.result, upload.message) == (UploadResult.GEPRUEFT, '')

    assert await massenupload.recover_interrupted_imports() == (1 if db == 'sqlite' else 0)
    assert await Antrag.filter(contract_id=contract.id).count() == 0
    assert await Abo.filter(contract_id=contract.id).count() == 0
    if db == 'sqlite':
        assert (await Upload.get(id=upload.id)).message == massenupload.ABORTED
    assert await massenupload.recover_interrupted_imports() == 0  # idempotent

    again = await massenupload.import_upload(admin, contract.id, preview.upload_id)
    assert (again.result, again.imported_count) == (UploadResult.IMPORTIERT, ROWS)
    assert await Abo.filter(contract_id=contract.id).count() == ROWS


async def test_a_start_of_another_process_during_an_import(db: str, admin: PortalUser, contract: Contract) -> None:
    """SQLite: another process starting on the same file takes a running import for a dead one; the living import
    then fails at its final count instead of reporting rows that are gone. PostgreSQL: several processes are the
    normal case there, and a starting one leaves a running import alone."""
    data = csv_file(people(ROWS))
    preview = await checked_preview(admin, contract, data)

    async def another_process_starts(done: int, total: int) -> None:
        if done == BATCH:
            await massenupload.recover_interrupted_imports()

    if db == 'sqlite':
        with pytest.raises(ServiceError):
            await massenupload.import_upload(admin, contract.id, preview.upload_id,
                                             after_batch=another_process_starts)
        assert await Antrag.filter(contract_id=contract.id).count() == 0
        assert await Abo.filter(contract_id=contract.id).count() == 0
        assert not await Upload.filter(result=UploadResult.IMPORTIERT).exists()
    else:
        upload = await massenupload.import_upload(admin, contract.id, preview.upload_id,
                                                  after_batch=another_process_starts)
        assert upload.imported_count == ROWS
