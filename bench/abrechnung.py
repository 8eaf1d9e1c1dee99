"""Benchmark of the Abrechnung (`services.billing`): closing one month for 10,000 Abos across 1,000 contracts, and a
5,000-line XLSX statement of one contract, on SQLite and PostgreSQL, with times and memory.

    close      billing.close_month: every Abo of the month, its figures, the run and its lines in one transaction
               (aim: under 30 s, under 300 MB)
    traced MB  the peak of Python allocations while closing (a second database under tracemalloc, which is slower)
    maxrss MB  the process's resident peak since its start (interpreter and libraries included)
    xlsx       billing.month_file(..., 'abrechnung', 'xlsx') for a contract with 5,000 Abos (aim: under 5 s)

Every backend gets a fresh database (SQLite: a temporary file; PostgreSQL: `bench_abrechnung`, created and dropped)
with its schema from the project's migrations. Run from the project directory:

    .venv/bin/python bench/abrechnung.py                       # both backends
    .venv/bin/python bench/abrechnung.py --backend sqlite --abos 2000 --contracts 200
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
os.environ.setdefault('DEMO_DATA', '0')
os.environ.setdefault('STORAGE_SECRET', 'bench-abrechnung')

import asyncpg  # noqa: E402
from tortoise import Tortoise  # noqa: E402
from tortoise.backends.base.executor import EXECUTOR_CACHE  # noqa: E402
from tortoise.context import TortoiseContext  # noqa: E402

from models import Abo, AboStatus, BillingRun, Contract, Customer, PortalUser, Produktangebot, Role, Ticketart  # noqa: E402
from services import billing, clock  # noqa: E402
from services.database import init_database  # noqa: E402

POSTGRES_DB = 'bench_abrechnung'
MONTH = date(2026, 5, 1)
TODAY = date(2026, 6, 20)
BATCH = 2000


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


async def fill(contracts: int, abos: int, tag: str, start_months: int) -> None:
    """`contracts` contracts sharing `abos` Abos evenly, starting from January over `start_months` months (those
    starting after May are not in the month)."""
    customer = await Customer.create(kundennummer=f'9{tag}', name=f'Bench {tag} GmbH', strasse='Königsplatz 1',
                                     plz='34117', ort='Kassel')
    await Contract.bulk_create([Contract(
        vertragsnummer=f'B{tag}-{number:05d}', customer=customer, firma=customer.name, strasse='Königsplatz 1',
        plz='34117', ort='Kassel', produktangebot=Produktangebot.RECHNUNG, beginn=date(2025, 1, 1),
        arbeitgeberzuschuss_cent=1575 + number % 500) for number in range(contracts)])
    ids = await Contract.filter(customer=customer).order_by('id').values_list('id', flat=True)
    rows = []
    for number in range(abos):
        start = date(2026, 1 + number % start_months, 1)
        rows.append(Abo(
            contract_id=ids[number % len(ids)], vorname='Mia', nachname=f'Muster{number:06d}',
            geburtsdatum=date(1990, 1, 1), personalnummer=f'P{number:06d}', strasse='Königsplatz 1', plz='34117',
            ort='Kassel', ticketart=Ticketart.HANDYTICKET, startmonat=start, status=AboStatus.AKTIV,
            person_key=f'{tag}-{number}', created_at=clock.now()))
    for first in range(0, len(rows), BATCH):
        await Abo.bulk_create(rows[first:first + BATCH])


async def bench_database(backend: str, url: str, args: argparse.Namespace, traced: bool) -> dict[str, float]:
    EXECUTOR_CACHE.clear()
    result: dict[str, float] = {}
    async with TortoiseContext():
        try:
            await init_database(url)
            staff = await PortalUser.create(email='staff@bench', name='Staff', role=Role.STAFF, password_hash='-',
                                            password_changed_at=clock.now())
            await fill(args.contracts, args.abos, 'a', 5)  # all in May
            await fill(1, args.statement_lines, 'x', 1)
            if traced:
                tracemalloc.start()
            started = time.perf_counter()
            closing = await billing.close_month(MONTH, actor=staff)
            result['close_s'] = time.perf_counter() - started
            if traced:
                result['traced_mb'] = tracemalloc.get_traced_memory()[1] / (1024 * 1024)
                tracemalloc.stop()
                return result
            result['lines'] = closing.run.line_count
            big = await Contract.get(vertragsnummer='Bx-00000')
            started = time.perf_counter()
            file = await billing.month_file(staff, big.id, MONTH, 'abrechnung', 'xlsx')
            result['xlsx_s'] = time.perf_counter() - started
            result['xlsx_kb'] = len(file.content) / 1024
            result['statement_lines'] = len((await billing.statement(staff, big.id, MONTH)).lines)
            assert await BillingRun.all().count() == 1
        finally:
            await Tortoise.close_connections()
    return result


async def postgres_admin(admin_url: str, sql: str) -> None:
    connection = await asyncpg.connect(admin_url, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def bench_backend(backend: str, args: argparse.Namespace, traced: bool) -> dict[str, float]:
    if backend == 'sqlite':
        with tempfile.TemporaryDirectory(prefix='bench_abrechnung_') as directory:
            return await bench_database(backend, f'sqlite://{Path(directory) / "bench.db"}', args, traced)
    admin_url = args.postgres_admin_url
    url = admin_url.rsplit('/', 1)[0].replace('postgresql://', 'postgres://', 1) + '/' + POSTGRES_DB
    await postgres_admin(admin_url, f'DROP DATABASE IF EXISTS {POSTGRES_DB} WITH (FORCE)')
    await postgres_admin(admin_url, f'CREATE DATABASE {POSTGRES_DB}')
    try:
        return await bench_database(backend, url, args, traced)
    finally:
        await postgres_admin(admin_url, f'DROP DATABASE IF EXISTS {POSTGRES_DB} WITH (FORCE)')


async def main(args: argparse.Namespace) -> None:
    clock.today = lambda: TODAY  # after the month's cut-off
    print(f'{args.abos:,} Abos across {args.contracts:,} contracts (+ one contract with {args.statement_lines:,}); '
          f'aims: close < 30 s and < 300 MB, XLSX < 5 s')
    print(f'{"backend":<9} {"lines":>7} {"close s":>8} {"traced MB":>10} {"maxrss MB":>10} {"xlsx s":>7} '
          f'{"xlsx KB":>8} {"stmt lines":>10}')
    for backend in args.backend:
        timed = await bench_backend(backend, args, traced=False)
        traced = await bench_backend(backend, args, traced=True)
        print(f'{backend:<9} {timed["lines"]:>7,.0f} {timed["close_s"]:>8.2f} {traced["traced_mb"]:>10.1f} '
              f'{maxrss_mb():>10.1f} {timed["xlsx_s"]:>7.2f} {timed["xlsx_kb"]:>8.0f} '
              f'{timed["statement_lines"]:>10,.0f}', flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--backend', nargs='+', choices=('sqlite', 'postgres'), default=['sqlite', 'postgres'])
    parser.add_argument('--abos', type=int, default=10_000)
    parser.add_argument('--contracts', type=int, default=1_000)
    parser.add_argument('--statement-lines', type=int, default=5_000)
    parser.add_argument('--postgres-admin-url', default='postgresql://postgres@127.0.0.1:5432/postgres')
    return parser.parse_args(argv)


if __name__ == '__main__':
    asyncio.run(main(parse_args()))
