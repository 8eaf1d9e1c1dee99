"""Graceful shutdown and running imports: on SIGTERM uvicorn stops accepting, then NiceGUI's teardown cancels every
running event handler (background_tasks.teardown), a Massenupload import among them. The import writes inside one
transaction, so the cancelled import leaves nothing behind: neither its Anträge nor their Abos."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from models import Abo, Antrag, Contract, PortalUser
from services import massenupload
from tests.services.test_massenupload import checked_preview, people, pinned_today, xlsx_file

__all__ = ['pinned_today']  # a fixture shared with the Massenupload tests


async def test_an_import_cancelled_by_the_shutdown_rolls_back(db: str, admin: PortalUser, contract: Contract,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    data = xlsx_file(people(30))
    preview = await checked_preview(admin, contract, data, 'liste.xlsx')
    writing_abos, never = asyncio.Event(), asyncio.Event()
    bulk_create = Abo.bulk_create

    async def stalled(*args: Any, **kwargs: Any) -> None:
        writing_abos.set()  # the Anträge are written (inside the transaction); the shutdown comes now
        await never.wait()
        await bulk_create(*args, **kwargs)  # a BulkCreateQuery gives None

    monkeypatch.setattr(Abo, 'bulk_create', stalled)
    task = asyncio.create_task(massenupload.import_upload(admin, contract.id, preview.upload_id))
    await asyncio.wait_for(writing_abos.wait(), 10)
    task.cancel()  # what background_tasks.teardown does to a running event handler
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await Antrag.filter(contract_id=contract.id).count() == 0
    assert await Abo.filter(contract_id=contract.id).count() == 0
