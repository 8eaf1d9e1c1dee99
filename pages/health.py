"""Probes for the proxy, systemd and container runtimes: plain HTTP routes, no page, no login.

/healthz answers as long as the process serves requests (it touches nothing else, so a database outage does not make
a supervisor restart every process); /readyz answers 200 only when the database answers within READY_TIMEOUT_SECONDS
and has applied every migration this code ships: a process started before `python main.py migrate` has run, or cut off
from its database, is taken out of the proxy's rotation instead of showing errors.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from services import database

READY_TIMEOUT_SECONDS = 2.0
NO_STORE = {'Cache-Control': 'no-store'}
log = logging.getLogger(__name__)

router = APIRouter()


@router.get('/healthz', include_in_schema=False)
async def healthz() -> JSONResponse:
    return JSONResponse({'status': 'ok'}, headers=NO_STORE)


@router.get('/readyz', include_in_schema=False)
async def readyz() -> JSONResponse:
    try:
        state = await asyncio.wait_for(database.schema_state(), READY_TIMEOUT_SECONDS)
    except Exception as error:  # whatever the driver raises (refused, timed out, closed): not ready, and why in the log
        log.warning('readyz: Datenbank nicht erreichbar: %s', type(error).__name__)
        return JSONResponse({'status': 'nicht bereit', 'datenbank': 'nicht erreichbar'}, status_code=503,
                            headers=NO_STORE)
    if not state.current:
        return JSONResponse({'status': 'nicht bereit', 'ausstehende_migrationen': list(state.pending)},
                            status_code=503, headers=NO_STORE)
    return JSONResponse({'status': 'bereit'}, headers=NO_STORE)
