"""Benchmark of the Massenupload (`services.massenupload`): parse, check and import of 10,000 rows, CSV and XLSX, on
SQLite and PostgreSQL, with the time of every phase and the peak memory.

What it measures, per backend and file format, on a fresh contract that already holds `--existing` Abos of other
people (so the duplicate queries meet real tables):

    parse      parse_upload: the bytes → the rows as text (pure; the page runs it in a thread)
    check      check_rows: every row through check_application, duplicates within the file (pure)
    database   check_against_contract: open Anträge / running Abos of the file's persons and Personalnummern
    import     import_upload: the Anträge and Abos in one transaction, history row and audit event
    total      the four together: what a person waits for between choosing the file and the import's result

Then the same again on another fresh contract under tracemalloc (which slows Python down, so it has its own pass):
the peak of Python allocations over the four phases. ru_maxrss is the process's resident peak since its start
(including the interpreter, the libraries and the generated files themselves).

Every backend gets a fresh database (SQLite: a file in a temporary directory; PostgreSQL: a database
`bench_massenupload_<pid>_<random>`, created and dropped here: bench/support.py) with its schema from the project's
migrations.

Run from the project directory (PostgreSQL at 127.0.0.1:5432 with trust auth, or `--postgres-admin-url`):

    .venv/bin/python bench/massenupload.py                     # both backends, 10,000 rows
    .venv/bin/python bench/massenupload.py --backend sqlite --rows 2000
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import random
import resource
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
# No demo data and no generated storage secret under data/: the benchmark writes nothing outside its databases.
os.environ.setdefault('DEMO_DATA', '0')
os.environ.setdefault('STORAGE_SECRET', 'bench-massenupload')

from openpyxl import Workbook  # noqa: E402
from tortoise import Tortoise  # noqa: E402
from tortoise.backends.base.executor import EXECUTOR_CACHE  # noqa: E402
from tortoise.context import TortoiseContext  # noqa: E402
from tortoise.transactions import in_transaction  # noqa: E402

from bench.support import POSTGRES_ADMIN_URL, throwaway_database  # noqa: E402
from models import (  # noqa: E402
    Abo,
    AboStatus,
    Antrag,
    Contract,
    Customer,
    PortalUser,
    Produktangebot,
    Role,
    Ticketart,
    UploadResult,
)
from services import abo_dates, clock, massenupload  # noqa: E402
from services.antraege import person_key  # noqa: E402
from services.database import init_database  # noqa: E402
from services.massenupload import TEMPLATE_COLUMNS  # noqa: E402

TARGET_SECONDS = 10.0
TARGET_MB = 300.0
PHASES = ('parse', 'check', 'database', 'import')

FIRST_NAMES = ('Anna', 'Jürgen', 'Lena', 'Özlem', 'Sören', 'Marie', 'Paul', 'Grete', 'Aylin', 'Malte', 'Jonas',
               'Sophie', 'Lukas', 'Emilia', 'Ben', 'Mia', 'Elias', 'Hannah', 'Finn', 'Lea')
LAST_NAMES = ('Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Schulz',
              'Hoffmann', 'Schäfer', 'Koch', 'Bauer', 'Richter', 'Klein', 'Wolf', 'Schröder', 'Neumann', 'Weiß',
              'Krüger')
STREETS = ('Wilhelmshöher Allee', 'Friedrich-Ebert-Straße', 'Königstor', 'Kölnische Straße', 'Frankfurter Straße',
           'Holländische Straße', 'Leipziger Straße', 'Sandershäuser Straße')
PLACES = (('34117', 'Kassel'), ('34119', 'Kassel'), ('34225', 'Baunatal'), ('34246', 'Vellmar'),
          ('01067', 'Dresden'), ('34260', 'Kaufungen'))


# ---------------------------------------------------------------------------------------------------------------------
# Files


def employee_rows(count: int, seed: int, tag: str, start: date) -> list[list[object]]:
    """Deterministic, distinct people (the tag keeps each run's people apart from the others)."""
    rng = random.Random(seed)
    rows: list[list[object]] = []
    for index in range(count):
        plz, ort = rng.choice(PLACES)
        rows.append([
            rng.choice(('Frau', 'Herr', 'Divers', 'Keine Angabe')), rng.choice(FIRST_NAMES),
            f'{rng.choice(LAST_NAMES)}-{tag}{index}', date(1960 + rng.randrange(45), 1 + rng.randrange(12),
                                                          1 + rng.randrange(28)),
            f'person.{tag}{index}@firma-beispiel.de', f'{rng.choice(STREETS)} {1 + rng.randrange(200)}',
            int(plz), ort, f'{tag.upper()}-{index:06d}', start, rng.choice(tuple(Ticketart)).value,
        ])
    return rows


def csv_bytes(rows: list[list[object]]) -> bytes:
    """What German Excel writes for 'CSV (Trennzeichen-getrennt)' from the template: semicolons, Windows-1252, German
    dates, and the PLZ of the template's text column with its zero (01067; a bare 1067 in a CSV is a fault since
    issue 15, as it may be a typo)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=';', lineterminator='\r\n')
    writer.writerow(TEMPLATE_COLUMNS)
    plz = TEMPLATE_COLUMNS.index('PLZ')
    for row in rows:
        writer.writerow([value.strftime('%d.%m.%Y') if isinstance(value, date) else f'{value:05d}' if index == plz
                         else value for index, value in enumerate(row)])
    return buffer.getvalue().encode('cp1252')


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    """An Excel workbook: date cells for Geburtsdatum and Startmonat, numbers for PLZ."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet('Mitarbeitende')
    sheet.append(TEMPLATE_COLUMNS)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------------------------------
# Data


@dataclass
class Setup:
    customer: Customer
    admin: PortalUser
    contracts: int = 0


async def fill(existing: int) -> Setup:
    customer = await Customer.create(kundennummer='900001', name='Bench Beispiel GmbH', strasse='Königstor 1',
                                     plz='34117', ort='Kassel')
    admin = await PortalUser.create(email='admin@bench-massenupload.de', password_hash='not-a-hash',
                                    name='Anna Dietrich', role=Role.ADMIN, customer=customer)
    setup = Setup(customer, admin)
    if existing:
        contract = await new_contract(setup)
        rng = random.Random(7)
        now = clock.now()
        abos = []
        for index in range(existing):
            geburtsdatum = date(1960 + rng.randrange(45), 1 + rng.randrange(12), 1 + rng.randrange(28))
            vorname, nachname = rng.choice(FIRST_NAMES), f'{rng.choice(LAST_NAMES)}-alt{index}'
            abo = Abo(contract_id=contract.id, vorname=vorname, nachname=nachname, geburtsdatum=geburtsdatum,
                      personalnummer=f'ALT-{index:06d}', strasse='Königstor 1', plz='34117', ort='Kassel',
                      ticketart=Ticketart.CHIPKARTE, startmonat=date(2025, 1, 1), status=AboStatus.AKTIV,
                      person_key=person_key(vorname, nachname, geburtsdatum), created_at=now)
            abos.append(abo)
        async with in_transaction():
            await Abo.bulk_create(abos, batch_size=2_000)
    return setup


async def new_contract(setup: Setup) -> Contract:
    """A contract for each run, so each import meets no duplicates from the one before; the existing Abos sit in
    the first, and every later run uses that one's table too (same tables, same indexes)."""
    setup.contracts += 1
    contract = Contract(customer=setup.customer, vertragsnummer=f'BENCH-{setup.contracts:04d}', firma='Bench',
                        strasse='Königstor 1', plz='34117', ort='Kassel', produktangebot=Produktangebot.RECHNUNG,
                        beginn=date(2025, 1, 1), arbeitgeberzuschuss_cent=1575)
    await contract.save()
    return contract


# ---------------------------------------------------------------------------------------------------------------------
# Runs


@dataclass
class Result:
    backend: str
    file_format: str
    size_bytes: int
    seconds: dict[str, float] = field(default_factory=dict)
    traced_peak_mb: float = 0.0
    maxrss_mb: float = 0.0

    @property
    def total(self) -> float:
        return sum(self.seconds.get(phase, 0.0) for phase in PHASES)


async def one_upload(setup: Setup, contract: Contract, data: bytes, name: str, rows: int) -> dict[str, float]:
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    parsed = await asyncio.to_thread(massenupload.parse_upload, data, name)
    seconds['parse'] = time.perf_counter() - started

    started = time.perf_counter()
    preview = await asyncio.to_thread(massenupload.check_rows, parsed, clock.today())
    seconds['check'] = time.perf_counter() - started

    started = time.perf_counter()
    preview = await massenupload.keep_check(setup.admin, contract.id, preview)
    seconds['database'] = time.perf_counter() - started
    assert preview.importable, preview.faults[:5]

    started = time.perf_counter()
    upload = await massenupload.import_upload(setup.admin, contract.id, preview.upload_id)
    seconds['import'] = time.perf_counter() - started
    assert upload.result == UploadResult.IMPORTIERT and upload.imported_count == rows, upload.message
    assert await Antrag.filter(contract_id=contract.id).count() == rows
    assert await Abo.filter(contract_id=contract.id).count() == rows
    return seconds


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


async def bench_database(backend: str, url: str, args: argparse.Namespace) -> list[Result]:
    EXECUTOR_CACHE.clear()  # Tortoise caches insert SQL per connection name, across backends
    results = []
    start = abo_dates.first_open_start_month(clock.today())
    async with TortoiseContext():
        try:
            await init_database(url)
            started = time.perf_counter()
            setup = await fill(args.existing)
            print(f'{backend}: {args.existing:,} existing Abos in {time.perf_counter() - started:.1f} s', flush=True)
            for number, (file_format, make) in enumerate((('csv', csv_bytes), ('xlsx', xlsx_bytes))):
                data = make(employee_rows(args.rows, args.seed + number, f'{file_format}t', start))
                result = Result(backend, file_format, len(data))
                result.seconds = await one_upload(setup, await new_contract(setup), data, f'liste.{file_format}',
                                                  args.rows)
                # the memory pass: other people on another contract, under tracemalloc
                data = make(employee_rows(args.rows, args.seed + 10 + number, f'{file_format}m', start))
                tracemalloc.start()
                await one_upload(setup, await new_contract(setup), data, f'liste.{file_format}', args.rows)
                result.traced_peak_mb = tracemalloc.get_traced_memory()[1] / (1024 * 1024)
                tracemalloc.stop()
                result.maxrss_mb = maxrss_mb()
                print_result(result)
                results.append(result)
        finally:
            await Tortoise.close_connections()
    return results


async def bench_backend(backend: str, args: argparse.Namespace) -> list[Result]:
    async with throwaway_database(backend, 'bench_massenupload', args.postgres_admin_url) as url:
        return await bench_database(backend, url, args)


# ---------------------------------------------------------------------------------------------------------------------
# Output


def header() -> str:
    phases = ''.join(f'{phase + " s":>11}' for phase in PHASES)
    return f'{"backend":<9} {"format":<6} {"file MB":>8}{phases} {"total s":>9} {"traced MB":>10} {"maxrss MB":>10}'


def print_result(result: Result) -> None:
    phases = ''.join(f'{result.seconds[phase]:>11.2f}' for phase in PHASES)
    print(f'{result.backend:<9} {result.file_format:<6} {result.size_bytes / 1024 / 1024:>8.2f}{phases} '
          f'{result.total:>9.2f} {result.traced_peak_mb:>10.1f} {result.maxrss_mb:>10.1f}', flush=True)


def print_summary(results: list[Result], rows: int) -> None:
    print(f'\nSummary: {rows:,} rows; aim: total under {TARGET_SECONDS:g} s, memory under {TARGET_MB:g} MB')
    print(header())
    misses = 0
    for result in results:
        print_result(result)
        if result.total > TARGET_SECONDS or max(result.traced_peak_mb, result.maxrss_mb) > TARGET_MB:
            misses += 1
    print(f'{misses} run(s) over the aim')


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', 1)[0])
    parser.add_argument('--backend', choices=('sqlite', 'postgres', 'both'), default='both')
    parser.add_argument('--rows', type=int, default=10_000, help='rows per file (the upload limit is 10,000)')
    parser.add_argument('--existing', type=int, default=20_000, help='Abos of other people in the tables first')
    parser.add_argument('--seed', type=int, default=20260601)
    parser.add_argument('--postgres-admin-url', default=POSTGRES_ADMIN_URL)
    args = parser.parse_args(argv)
    if args.rows < 1 or args.existing < 0:
        parser.error('--rows must be positive, --existing not negative')
    os.environ.setdefault('MASSENUPLOAD_MAX_ROWS', str(max(10_000, args.rows)))
    return args


async def main(args: argparse.Namespace) -> None:
    backends = ('sqlite', 'postgres') if args.backend == 'both' else (args.backend,)
    print(header(), flush=True)
    results = []
    for backend in backends:
        results += await bench_backend(backend, args)
    print_summary(results, args.rows)


if __name__ == '__main__':
    asyncio.run(main(parse_args()))
