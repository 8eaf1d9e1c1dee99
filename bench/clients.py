"""N connected NiceGUI clients against one real portal process: page-change latency, memory per client, throughput.

What it measures: a real `python main.py` on a free 127.0.0.1 port, on a database of its own (SQLite in a temporary
directory, or `--postgres`: a database `bench_clients_<pid>_<random>`, dropped afterwards) with the demo data and
`--contracts` contracts (tests/scale_data.py). For each N in `--clients` (50, 200, 400):

1. N clients connect the way a browser does: each GETs /vertragsverwaltung with a session cookie of its own (sessions
   made with services.sessions.start_session for the staff demo user, as a login would), reads the page's socket
   query (client_id, next_message_id, implicit_handshake …) and element tree from the HTML, then opens the socket.io
   websocket (path /_nicegui_ws/socket.io, Origin and Cookie as the browser sends them; python-socketio's AsyncClient).
   Memory per client = (server RSS with N connected − RSS before) / N.
2. paced: every client sends `--changes` page changes, each after a pause of 0…2×`--think` seconds: the pager's
   `update:modelValue` event with the page number as a JSON string (what nicegui.js's stringifyEventArgs sends), and
   waits for the server's `update` message carrying the table summary ("angezeigt 21 bis 30 …"). Latency = send →
   that update; p50/p95 over all changes. The client answers the server's JavaScript requests as nicegui.js does
   (the layout's drawer asks on connect whether it is open; unanswered, the server logs a timeout per client).
3. saturated: `--changes` more each, back to back, all clients at once: changes/s = what one process sustains.

Then the clients disconnect. Loops are bounded (connect and change timeouts, at most `--changes` per client).
Goal (issue 12): p95 of a page change < 100 ms at 50 clients; memory per client reported (0.5 MB measured before).

Run from the project directory:

    .venv/bin/python bench/clients.py                      # SQLite, 20,000 contracts, 50/200/400 clients
    .venv/bin/python bench/clients.py --postgres --clients 50 200 --changes 5
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import os
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
os.environ.setdefault('STORAGE_SECRET', 'bench-clients-secret')

import httpx  # noqa: E402
import socketio  # noqa: E402
from tortoise.backends.base.executor import EXECUTOR_CACHE  # noqa: E402
from tortoise.context import TortoiseContext  # noqa: E402

from bench import goals  # noqa: E402
from bench.support import throwaway_database  # noqa: E402
from models import PortalUser, Role  # noqa: E402
from pages.session_cookie import Area  # noqa: E402
from services import clock, sessions  # noqa: E402
from services.database import tortoise_config  # noqa: E402
from tests.scale_data import prepare_portal_database  # noqa: E402
from tests.support import stop_process  # noqa: E402

P95_GOAL_MS = 100.0
CONNECT_TIMEOUT = 60.0
CHANGE_TIMEOUT = 30.0
QUERY_RE = re.compile(r'query: (\{.*?\}),\n')
ELEMENTS_RE = re.compile(r'parseElements\(String\.raw`(.*?)`\)', re.S)


@dataclass
class PageClient:
    """One browser tab: its socket, the pager's event listener and the summary label it waits for."""

    number: int
    client_id: str = ''
    pager_id: int = 0
    listener_id: str = ''
    summary_id: str = ''
    page: int = 1
    page_count: int = 1
    sio: socketio.AsyncClient = field(default_factory=lambda: socketio.AsyncClient(reconnection=False))
    answered: asyncio.Event = field(default_factory=asyncio.Event)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
    return 0.0


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] if ordered else float('nan')


def parse_page(html: str, tab: PageClient) -> dict[str, str]:
    """The socket query and, from the element tree, the pager's change listener and the summary label."""
    query = ast.literal_eval(QUERY_RE.search(html).group(1))  # type: ignore[union-attr]  # a Python dict literal
    elements = json.loads(ELEMENTS_RE.search(html).group(1).replace('\\`', '`'))  # type: ignore[union-attr]
    for element_id, element in elements.items():
        if element.get('component', {}).get('tag') == 'q-pagination' or element.get('tag') == 'q-pagination':
            tab.pager_id = int(element_id)
            tab.listener_id = next(event['listener_id'] for event in element.get('events', [])
                                   if event['type'] == 'update:modelValue')
            tab.page_count = int(element.get('props', {}).get('max', 1))
        if str(element.get('text', '')).startswith('angezeigt'):
            tab.summary_id = element_id
    if not tab.listener_id or not tab.summary_id:
        raise RuntimeError('pager or summary not found in the page')
    tab.client_id = query['client_id']
    return {key: str(value).lower() if isinstance(value, bool) else str(value) for key, value in query.items()}


async def connect(tab: PageClient, base: str, token: str) -> None:
    async with httpx.AsyncClient(base_url=base, cookies={Area.PORTAL.value: token}, timeout=CONNECT_TIMEOUT) as http:
        response = await http.get('/vertragsverwaltung')
        response.raise_for_status()
        query = parse_page(response.text, tab)
        cookies = '; '.join(f'{name}={value}' for name, value in http.cookies.items())
    query |= {'document_id': secrets.token_hex(8), 'tab_id': secrets.token_hex(8), 'old_tab_id': ''}

    @tab.sio.on('update')
    def on_update(data: dict) -> None:
        if tab.summary_id in data:
            tab.answered.set()

    @tab.sio.on('run_javascript')
    async def on_javascript(data: dict) -> None:
        """Answer as nicegui.js would (the layout's drawer asks on connect whether it is open: it is)."""
        await tab.sio.emit('javascript_response', {'request_id': data.get('request_id'), 'client_id': tab.client_id,
                                                   'result': True if '__IS_DRAWER_OPEN__' in data.get('code', '')
                                                   else None})

    await tab.sio.connect(f'{base}?{urlencode(query)}', socketio_path='/_nicegui_ws/socket.io',
                          transports=['websocket'], headers={'Cookie': cookies, 'Origin': base},
                          wait_timeout=CONNECT_TIMEOUT)


async def change_pages(tab: PageClient, changes: int, latencies: list[float], think: float = 0.0) -> None:
    """`changes` page changes, each after a pause of 0…2×`think` seconds (none: as fast as the answers come)."""
    for _ in range(changes):
        await asyncio.sleep(random.uniform(0, 2 * think))
        tab.page = tab.page % max(tab.page_count, 2) + 1
        tab.answered.clear()
        started = time.perf_counter()
        await tab.sio.emit('event', {'id': tab.pager_id, 'client_id': tab.client_id,
                                     'listener_id': tab.listener_id, 'args': [json.dumps(tab.page)]})
        await asyncio.wait_for(tab.answered.wait(), CHANGE_TIMEOUT)
        latencies.append((time.perf_counter() - started) * 1000)


@dataclass
class Round:
    clients: int
    connect_s: float
    mb_per_client: float
    p50_ms: float
    p95_ms: float
    paced_per_s: float
    busy_p95_ms: float
    changes_per_s: float
    failed: int


def server_errors(log: Path) -> str:
    """The last error the portal logged (why a page answered 500)."""
    lines = [line for line in log.read_text(errors='replace').splitlines()
             if re.match(r'^[A-Za-z_.]+(Error|Exception)\b', line)]
    return lines[-1][:300] if lines else '(none logged)'


async def run_round(base: str, pid: int, tokens: list[str], changes: int, think: float, log: Path) -> Round:
    await asyncio.sleep(1.0)  # let the previous round's clients go
    before = rss_mb(pid)
    tabs = [PageClient(number) for number in range(len(tokens))]
    started = time.perf_counter()
    # Connect in waves of 25: a browser's page load is one GET and one socket, not 400 at the same instant.
    outcomes: list[BaseException | None] = []
    for start in range(0, len(tabs), 25):
        outcomes += await asyncio.gather(*(connect(tab, base, token) for tab, token in
                                           zip(tabs[start:start + 25], tokens[start:start + 25], strict=True)),
                                         return_exceptions=True)
    connect_s = time.perf_counter() - started
    connected = [tab for tab, outcome in zip(tabs, outcomes, strict=True) if outcome is None]
    if errors := [outcome for outcome in outcomes if outcome is not None]:
        print(f'  {len(errors)} clients did not connect, e.g.: {str(errors[0])[:120]}; server: {server_errors(log)}',
              flush=True)
    await asyncio.sleep(0.5)
    mb_per_client = (rss_mb(pid) - before) / max(len(connected), 1)
    paced: list[float] = []
    started = time.perf_counter()
    results = await asyncio.gather(*(change_pages(tab, changes, paced, think) for tab in connected),
                                   return_exceptions=True)
    paced_per_s = len(paced) / (time.perf_counter() - started)
    busy: list[float] = []
    started = time.perf_counter()
    results += await asyncio.gather(*(change_pages(tab, changes, busy) for tab in connected), return_exceptions=True)
    elapsed = time.perf_counter() - started
    failed = len(tabs) - len(connected) + sum(1 for result in results if result is not None)
    if errors := [result for result in results if result is not None]:
        print(f'  {len(errors)} clients stopped changing pages, e.g.: {errors[0]!r}', flush=True)
    for tab in connected:
        with suppress(Exception):
            await tab.sio.disconnect()
    return Round(len(tabs), connect_s, mb_per_client, statistics.median(paced) if paced else float('nan'),
                 p95(paced), paced_per_s, p95(busy), len(busy) / elapsed, failed)


async def prepare(url: str, contracts: int, sessions_needed: int) -> list[str]:
    """The data, and one session per client for the staff demo user (what a login leaves behind)."""
    await prepare_portal_database(url, contracts, max(contracts // 10, 1), clock.today())
    async with TortoiseContext() as context:
        await context.init(config=tortoise_config(url))
        staff = await PortalUser.get(role=Role.STAFF)
        tokens = [await sessions.start_session(staff, client='127.0.0.1') for _ in range(sessions_needed)]
    EXECUTOR_CACHE.clear()
    return tokens


@asynccontextmanager
async def portal(url: str, directory: str) -> AsyncIterator[tuple[str, int]]:
    """`python main.py` on a free loopback port, until /healthz answers; stopped (SIGTERM, then kill) afterwards."""
    port = free_port()
    env = {**os.environ, 'DATABASE_URL': url, 'HOST': '127.0.0.1', 'PORT': str(port), 'DEMO_DATA': '0'}
    log = open(Path(directory) / 'portal.log', 'wb')  # noqa: SIM115, ASYNC230  # closed after the process
    process = subprocess.Popen(  # noqa: ASYNC220  # started once; the loop has nothing else to do meanwhile
        [sys.executable, 'main.py'], cwd=PROJECT_DIR, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    base = f'http://127.0.0.1:{port}'
    try:
        async with httpx.AsyncClient(base_url=base, timeout=2) as http:
            for _ in range(600):
                with suppress(httpx.HTTPError):
                    if (await http.get('/healthz')).status_code == 200:
                        break
                if process.poll() is not None:
                    raise RuntimeError(f'portal ended: {(Path(directory) / "portal.log").read_text()[-2000:]}')
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError('portal did not answer /healthz within 60 s')
        yield base, process.pid
    finally:
        stop_process(process, 15)
        log.close()


async def main_async(args: argparse.Namespace) -> list[Round]:
    rounds = []
    async with throwaway_database('postgres' if args.postgres else 'sqlite', 'bench_clients') as url:
        started = time.perf_counter()
        tokens = await prepare(url, args.contracts, max(args.clients))
        print(f'{args.contracts:,} contracts and {len(tokens)} sessions in {time.perf_counter() - started:.1f} s',
              flush=True)
        with tempfile.TemporaryDirectory(prefix='bench-clients-log-') as directory:
            async with portal(url, directory) as (base, pid):
                print(f'portal at {base} (pid {pid}), RSS {rss_mb(pid):.0f} MB', flush=True)
                for count in args.clients:
                    result = await run_round(base, pid, tokens[:count], args.changes, args.think,
                                             Path(directory) / 'portal.log')
                    print(f'  {count} clients: connected in {result.connect_s:.1f} s, p95 {result.p95_ms:.0f} ms, '
                          f'saturated {result.changes_per_s:.0f} changes/s, {result.failed} failed', flush=True)
                    rounds.append(result)
    return rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--clients', type=int, nargs='+', default=[50, 200, 400])
    parser.add_argument('--changes', type=int, default=5, help='page changes per client and phase')
    parser.add_argument('--think', type=float, default=5.0, help='mean pause before a change (paced phase), s')
    parser.add_argument('--contracts', type=int, default=20_000)
    parser.add_argument('--postgres', action='store_true')
    args = parser.parse_args()
    rounds = asyncio.run(main_async(args))
    backend = 'PostgreSQL' if args.postgres else 'SQLite'
    print(f'\nN connected clients, one portal process ({backend}, {args.contracts:,} contracts; load average '
          f'{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores). paced: each client changes the page {args.changes} '
          f'times, a pause of 0-{2 * args.think:.0f} s before each; saturated: {args.changes} changes each, back to '
          'back, all clients at once (changes/s = what one process sustains). MB/client: RSS growth / N (the first '
          'round is the clean figure: Python keeps freed memory for the next round).')
    print(f'{"clients":>7} {"connect s":>10} {"MB/client":>10} {"paced/s":>8} {"p50 ms":>7} {"p95 ms":>7} '
          f'{"sat. p95 ms":>12} {"sat. changes/s":>15} {"failed":>7}  goal paced p95 < {P95_GOAL_MS:.0f} ms')
    for result in rounds:
        print(f'{result.clients:>7} {result.connect_s:>10.1f} {result.mb_per_client:>10.2f} {result.paced_per_s:>8.1f} '
              f'{result.p50_ms:>7.0f} {result.p95_ms:>7.0f} {result.busy_p95_ms:>12.0f} {result.changes_per_s:>15.0f} '
              f'{result.failed:>7}  {"ja" if result.p95_ms < P95_GOAL_MS and not result.failed else "NEIN"}')
        goals.record('clients', f'{result.clients} clients: paced p95 < {P95_GOAL_MS:.0f} ms ({backend})',
                     result.p95_ms, 'ms', result.p95_ms < P95_GOAL_MS and not result.failed,
                     f'{result.changes_per_s:.0f} changes/s saturated, {result.mb_per_client:.2f} MB/client')


if __name__ == '__main__':
    main()
