"""Benchmark of the Vertragsverwaltung table (`services.vertraege.list_contracts`) on SQLite and PostgreSQL.

What it measures: the wall-clock time of one `list_contracts` call, in process, without the UI: everything the
service sends for one table view (the count, capped at 10,000 matches, and the one-page SELECT of
`services.table_query.fetch_page`). Cases, each with the "Aktive Verträge" filter on and off:
- page changes: the first page and the last page but one that the pager offers, in every order the table offers
  (each sortable column, ascending and descending);
- search: a common word ("gmbh"), a rare one (a Vertragsnummer), a word with an umlaut, a word typed with "STRASSE"
  for "straße", a word of 2 characters that rarely occurs and a common one of 1 character (those two cannot use the
  trigram index), a company user's search;
- the Kundennummer filter, a company user's first page, the largest page size.
Each case gets `--warmup` untimed runs, then `--repeat` timed runs; tables show median and p95 in milliseconds, and the
end prints the goals of issue 12 against the measured worst p95 of their cases.

Every backend gets fresh databases of its own: SQLite a file in a temporary directory, PostgreSQL a uniquely named
database (`bench_portal_<pid>_<random>`, created with asyncpg and dropped at the end; two runs never touch each
other's data). The schema comes from the project's migrations (`services.database.init_database`), then deterministic
German-looking customers and contracts from `random.Random(seed)` (about 70 % aktiv, both Produktangebote), written
straight into the tables (PostgreSQL COPY; SQLite executemany, then one FTS5 rebuild: see `insert_rows`). Every case
runs at the full size and at a small size (1,000 contracts, 100 customers); the summary shows the p95 ratio
full/small and flags a case whose p95 at full size is over `--slow-ms` (50 ms) or whose ratio is over 3x. After the
fill, SQLite gets the ANALYZE that the portal runs at every start (`init_database`; a restart after the data arrived)
and PostgreSQL a VACUUM ANALYZE (what autovacuum does shortly after a bulk load). The pg_trgm index (migration 0006)
and the SQLite FTS5 tables (migration 0008) are part of the schema, so there is no switch for them. `--explain
flagged|all|none` prints the SQL of the cases (from Tortoise's `tortoise.db_client` debug logger) with EXPLAIN QUERY
PLAN (SQLite) or EXPLAIN (ANALYZE, BUFFERS) (PostgreSQL) at full size.

Run from the project directory (PostgreSQL at 127.0.0.1:5432 with trust auth, or `--postgres-admin-url`):

    .venv/bin/python bench/contract_table.py                       # both backends, 100,000 contracts
    .venv/bin/python bench/contract_table.py --backend sqlite --contracts 100000 --customers 10000 --repeat 30
    .venv/bin/python bench/contract_table.py --backend postgres --explain all
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
# No demo data and no generated storage secret under data/: the benchmark writes nothing outside its databases.
os.environ.setdefault('DEMO_DATA', '0')
os.environ.setdefault('STORAGE_SECRET', 'bench-contract-table')

import asyncpg  # noqa: E402
from tortoise import Tortoise  # noqa: E402
from tortoise.backends.base.executor import EXECUTOR_CACHE  # noqa: E402
from tortoise.connection import connections  # noqa: E402
from tortoise.context import TortoiseContext  # noqa: E402
from tortoise.transactions import in_transaction  # noqa: E402

from bench import goals  # noqa: E402
from bench.support import POSTGRES_ADMIN_URL, throwaway_database  # noqa: E402
from models import Contract, ContractStatus, Customer, PortalUser, Produktangebot, Role  # noqa: E402
from models.contract import SORTABLE_COLUMNS  # noqa: E402
from models.searchable import search_key, sort_key  # noqa: E402
from services.database import init_database  # noqa: E402
from services.table_query import PAGE_SIZES, TableRequest  # noqa: E402
from services.vertraege import list_contracts  # noqa: E402

SMALL_CONTRACTS = 1_000
SMALL_CUSTOMERS = 100
RATIO_LIMIT = 3.0
COMMON_WORD = 'gmbh'
GOAL_MS = 50.0  # issue 12: search p95 < 50 ms at 100k; the same bound for a page change

SURNAMES = (
    'Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Schulz', 'Hoffmann',
    'Schäfer', 'Koch', 'Bauer', 'Richter', 'Klein', 'Wolf', 'Schröder', 'Neumann', 'Schwarz', 'Zimmermann',
    'Braun', 'Krüger', 'Hofmann', 'Hartmann', 'Lange', 'Schmitt', 'Werner', 'Schmitz', 'Krause', 'Meier',
    'Lehmann', 'Schmid', 'Schulze', 'Maier', 'Köhler', 'Herrmann', 'König', 'Walter', 'Mayer', 'Huber',
    'Kaiser', 'Fuchs', 'Peters', 'Lang', 'Scholz', 'Möller', 'Weiß', 'Jung', 'Hahn', 'Vogel',
    'Friedrich', 'Keller', 'Günther', 'Frank', 'Berger', 'Winkler', 'Roth', 'Beck', 'Lorenz', 'Baumann',
)
BRANCHES = (
    'Haustechnik', 'Logistik', 'Holzbau', 'Steuerberatung', 'Elektrotechnik', 'Metallbau', 'Gebäudereinigung',
    'Softwareentwicklung', 'Maschinenbau', 'Bauunternehmung', 'Dachdeckerei', 'Spedition', 'Immobilien',
    'Pflegedienst', 'Zahntechnik', 'Druckerei', 'Bäckerei', 'Autohaus', 'Gartenbau', 'Ingenieurbüro',
    'Präzisionsteile', 'Kunststofftechnik', 'Medizintechnik', 'Sanitär und Heizung', 'Malerbetrieb',
    'Verpackungen', 'Lebensmittelhandel', 'Versicherungsmakler', 'Anlagenbau', 'Werkzeugbau', 'Klimatechnik',
    'Personalservice', 'Sicherheitsdienst', 'Fensterbau', 'Landtechnik', 'Optik', 'Apotheke', 'Catering',
    'Kanzlei', 'Datentechnik',
)
LEGAL_FORMS = ('GmbH', 'GmbH', 'GmbH', 'GmbH & Co. KG', 'KG', 'AG', 'e.K.', 'OHG', 'gGmbH', 'UG (haftungsbeschränkt)')
PLACES = (
    ('34', 'Kassel', 'Kasseler'), ('34', 'Baunatal', 'Baunataler'), ('34', 'Vellmar', 'Vellmarer'),
    ('34', 'Kaufungen', 'Kaufunger'), ('34', 'Fuldatal', 'Fuldataler'), ('34', 'Lohfelden', 'Lohfeldener'),
    ('34', 'Hofgeismar', 'Hofgeismarer'), ('34', 'Melsungen', 'Melsunger'), ('34', 'Fritzlar', 'Fritzlarer'),
    ('34', 'Wolfhagen', 'Wolfhagener'), ('37', 'Göttingen', 'Göttinger'), ('37', 'Witzenhausen', 'Witzenhäuser'),
    ('36', 'Fulda', 'Fuldaer'), ('36', 'Bad Hersfeld', 'Hersfelder'), ('35', 'Marburg', 'Marburger'),
    ('35', 'Gießen', 'Gießener'), ('35', 'Wetzlar', 'Wetzlarer'), ('60', 'Frankfurt am Main', 'Frankfurter'),
    ('65', 'Wiesbaden', 'Wiesbadener'), ('64', 'Darmstadt', 'Darmstädter'), ('63', 'Offenbach am Main',
    'Offenbacher'), ('63', 'Hanau', 'Hanauer'), ('33', 'Paderborn', 'Paderborner'), ('99', 'Eisenach',
    'Eisenacher'), ('37', 'Eschwege', 'Eschweger'), ('34', 'Korbach', 'Korbacher'), ('34', 'Schwalmstadt',
    'Schwalmstädter'), ('34', 'Homberg (Efze)', 'Homberger'), ('34', 'Borken (Hessen)', 'Borkener'),
    ('34', 'Hann. Münden', 'Mündener'),
)
STREETS = (
    'Hauptstraße', 'Bahnhofstraße', 'Schulstraße', 'Gartenstraße', 'Industriestraße', 'Friedrich-Ebert-Straße',
    'Wilhelmshöher Allee', 'Frankfurter Straße', 'Leipziger Straße', 'Holländische Straße', 'Am Markt',
    'Kirchweg', 'Am Sportplatz', 'Rathausplatz', 'Lindenstraße', 'Ringstraße', 'Mühlenweg', 'Waldstraße',
    'Berliner Straße', 'Goethestraße', 'Schillerstraße', 'Kölnische Straße', 'Gewerbestraße', 'Im Gewerbegebiet',
    'Sandershäuser Straße', 'Altenbaunaer Straße', 'Dresdener Straße', 'Ludwig-Erhard-Straße', 'Marburger Straße',
    'Am Felsenkeller', 'Weserstraße', 'Fuldastraße', 'Parkstraße', 'Rosenweg', 'Birkenweg', 'Eichenweg',
    'Auf der Hute', 'Raiffeisenstraße', 'Robert-Bosch-Straße', 'Carl-Benz-Straße',
)
STATUS_WEIGHTS: tuple[tuple[ContractStatus, int], ...] = (
    (ContractStatus.AKTIV, 70), (ContractStatus.GEKUENDIGT, 18), (ContractStatus.BEENDET, 12))
ZUSCHUESSE_CENT = (1450, 1470, 1575, 2000, 2500, 3150)


# ---------------------------------------------------------------------------------------------------------------------
# Data


def company_name(rng: random.Random) -> str:
    legal = rng.choice(LEGAL_FORMS)
    pattern = rng.randrange(4)
    if pattern == 0:
        return f'{rng.choice(SURNAMES)} {rng.choice(BRANCHES)} {legal}'
    if pattern == 1:
        return f'{rng.choice(PLACES)[2]} {rng.choice(BRANCHES)} {legal}'
    if pattern == 2:
        return f'{rng.choice(SURNAMES)} & {rng.choice(SURNAMES)} {rng.choice(BRANCHES)} {legal}'
    return f'{rng.choice(BRANCHES)} {rng.choice(SURNAMES)} {legal}'


def address(rng: random.Random) -> tuple[str, str, str]:
    """(strasse, plz, ort)"""
    prefix, ort, _ = rng.choice(PLACES)
    return f'{rng.choice(STREETS)} {rng.randint(1, 250)}', f'{prefix}{rng.randint(0, 999):03d}', ort


def contract_dates(rng: random.Random, status: ContractStatus) -> tuple[date, date | None]:
    beginn = date(rng.randint(2023, 2026), rng.randint(1, 12), 1)
    if status == ContractStatus.AKTIV:
        return beginn, None
    return beginn, beginn + timedelta(days=rng.randint(180, 900))


@dataclass
class Dataset:
    contracts: int
    customers: int
    fill_seconds: float = 0.0
    staff: PortalUser | None = None
    company_user: PortalUser | None = None
    company_contracts: int = 0
    kundennummer: str = ''
    rare_word: str = ''
    active_total: int = 0


CUSTOMER_COLUMNS = ('kundennummer', 'name', 'strasse', 'plz', 'ort', 'ansprechpartner', 'email', 'telefon',
                    'created_at')
CONTRACT_COLUMNS = ('customer_id', 'vertragsnummer', 'firma', 'strasse', 'plz', 'ort', 'produktangebot', 'status',
                    'beginn', 'ende', 'arbeitgeberzuschuss_cent', 'search_text', 'firma_sort', 'strasse_sort',
                    'ort_sort', 'created_at', 'updated_at')


async def insert_rows(table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Rows straight into the table: PostgreSQL COPY; SQLite one prepared INSERT run by executemany in one
    transaction. A SQLite table with an FTS5 index (migration 0008: triggers keep `<table>_fts` current) gets its
    index rebuilt once instead: the triggers are dropped, the rows inserted, the index rebuilt and the triggers
    recreated from their own stored SQL, all in the same transaction, so the schema and index end exactly as the
    portal keeps them (an FTS5 integrity-check follows).

    Why: Tortoise's bulk_create took 1,196 s for 100,000 contracts on SQLite. Measured with plain sqlite3 on the
    migrated schema (20,000 contracts, load ≈ 9 on 2 cores): with the insert trigger 154 s (FTS5 merges each row's
    trigrams into its index segments), without it and one FTS5 'rebuild' at the end 11 s."""
    client = connections.get('default')
    if client.capabilities.dialect == 'postgres':
        async with client.acquire_connection() as connection:
            await connection.copy_records_to_table(table, records=rows, columns=list(columns))
        return
    marks = ', '.join('?' for _ in columns)
    names = ', '.join(f'"{column}"' for column in columns)
    # execute_query, never execute_script inside: sqlite3's executescript COMMITs first, and the rows after it went
    # in one autocommit transaction each (45 s instead of 11 s for 20,000).
    async with in_transaction() as connection:
        _, triggers = await connection.execute_query(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? AND name LIKE ?",
            [table, f'{table}_fts_%'],
        )
        for trigger in triggers:
            await connection.execute_query(f'DROP TRIGGER "{trigger["name"]}"')
        await connection.execute_many(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', [list(row) for row in rows])
        if triggers:
            fts = f'{table}_fts'
            await connection.execute_query(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
            for trigger in triggers:
                await connection.execute_query(trigger['sql'])
            await connection.execute_query(f"INSERT INTO {fts}({fts}, rank) VALUES ('integrity-check', 1)")


def sqlite_value(value: object) -> object:
    """What Tortoise stores in SQLite for a date, datetime or enum (ISO text, the enum's value)."""
    if isinstance(value, datetime):
        return value.isoformat(' ')
    if isinstance(value, date):
        return value.isoformat()
    return value.value if isinstance(value, StrEnum) else value


async def fill(n_customers: int, n_contracts: int, seed: int) -> Dataset:
    """Customers, contracts (search_text and sort keys as the model computes them, models/searchable.py) and the two
    benchmark users: the same rows for the same seed as the former bulk_create fill."""
    rng = random.Random(seed)
    started = time.perf_counter()
    postgres = connections.get('default').capabilities.dialect == 'postgres'
    convert = (lambda row: row) if postgres else (lambda row: tuple(sqlite_value(value) for value in row))
    now = datetime.now(UTC)
    customers = []
    for index in range(n_customers):
        strasse, plz, ort = address(rng)
        customers.append((str(100_000 + index), company_name(rng), strasse, plz, ort, rng.choice(SURNAMES),
                          f'personal{index}@example.de', '0561 0000-0', now))
    await insert_rows('customer', CUSTOMER_COLUMNS, [convert(row) for row in customers])
    saved = dict(await Customer.all().values_list('kundennummer', 'id'))

    statuses, weights = zip(*STATUS_WEIGHTS, strict=True)
    per_customer = [0] * n_customers
    contracts = []
    for index in range(n_contracts):
        customer_index = rng.randrange(n_customers)
        per_customer[customer_index] += 1
        kundennummer, name, customer_strasse, customer_plz, customer_ort = customers[customer_index][:5]
        status = rng.choices(statuses, weights)[0]
        beginn, ende = contract_dates(rng, status)
        # Most contracts carry the customer's address, some a branch office's (the Vertragsanschrift).
        strasse, plz, ort = (customer_strasse, customer_plz, customer_ort) if rng.random() < 0.8 else address(rng)
        produktangebot = rng.choice(tuple(Produktangebot))
        vertragsnummer = f'DJ-{beginn.year}-{index + 1:06d}'
        shown = (vertragsnummer, name, strasse, plz, ort, produktangebot, status)  # Contract.SEARCH_FIELDS
        contracts.append((
            saved[kundennummer], vertragsnummer, name, strasse, plz, ort, produktangebot.value, status.value, beginn,
            ende, rng.choice(ZUSCHUESSE_CENT), search_key(' '.join(str(value) for value in shown)),
            sort_key(name), sort_key(strasse), sort_key(ort), now, now,
        ))
    await insert_rows('contract', CONTRACT_COLUMNS, [convert(row) for row in contracts])

    # The company user's customer: the one whose contract count is closest to the average (about 10).
    average = n_contracts / n_customers
    company_index = min(range(n_customers), key=lambda i: (abs(per_customer[i] - average), i))
    company_kundennummer = customers[company_index][0]
    staff = await PortalUser.create(
        email='kundenservice@verkehrsbetrieb-bench.de', password_hash='not-a-hash', name='Sabine Krüger',
        role=Role.STAFF, customer=None,
    )
    company_user = await PortalUser.create(
        email='admin@bench-company.de', password_hash='not-a-hash', name='Anna Dietrich', role=Role.ADMIN,
        customer_id=saved[company_kundennummer],
    )
    # One hit: staff pasting the Vertragsnummer of an active contract from the middle of the table.
    middle = contracts[n_contracts // 2:] + contracts[:n_contracts // 2]
    aktiv = ContractStatus.AKTIV.value
    rare = next((row for row in middle if row[7] == aktiv), middle[0])[1].lower()
    dataset = Dataset(
        contracts=n_contracts, customers=n_customers, staff=staff, company_user=company_user,
        company_contracts=per_customer[company_index], kundennummer=company_kundennummer, rare_word=rare,
        active_total=await Contract.filter(status=ContractStatus.AKTIV).count(),
    )
    dataset.fill_seconds = time.perf_counter() - started
    return dataset


# ---------------------------------------------------------------------------------------------------------------------
# Cases


@dataclass(frozen=True)
class Case:
    name: str
    user: str  # 'staff' or 'company'
    request: TableRequest
    kundennummer: str = ''
    only_active: bool = True
    group: str = 'page change'  # or 'search': which goal the case belongs to


async def last_pages(dataset: Dataset) -> dict[bool, int]:
    """The last page but one that the pager offers (capped at 10,000 rows where the count is), per filter setting."""
    assert dataset.staff is not None
    result = {}
    for only_active in (True, False):
        page = await list_contracts(dataset.staff, TableRequest(), only_active=only_active)
        result[only_active] = max(1, page.page_count - 1)
    return result


def cases(dataset: Dataset, deep: dict[bool, int]) -> list[Case]:
    result = []
    for only_active in (True, False):
        label = 'aktiv' if only_active else 'alle'
        result.append(Case(f'first page [{label}]', 'staff', TableRequest(), only_active=only_active))
        for column in SORTABLE_COLUMNS:
            for descending in (False, True):
                order = f'{column} {"desc" if descending else "asc"}'
                result.append(Case(f'{order} [{label}]', 'staff', TableRequest(sort=column, descending=descending),
                                   only_active=only_active))
                result.append(Case(f'deep {order} [{label}] (p. {deep[only_active]})', 'staff',
                                   TableRequest(sort=column, descending=descending, page=deep[only_active]),
                                   only_active=only_active))
        searches = [
            (f'"{COMMON_WORD}"', COMMON_WORD), ('rare (Vertragsnr.)', dataset.rare_word),
            ('umlaut "bäckerei"', 'bäckerei'), ('"STRASSE 1"', 'STRASSE 1'), ('2 chars rare "qx"', 'qx'),
            ('1 char "a"', 'a'), ('"gmbh" + "ka"', 'gmbh ka'),
        ]
        for name, search in searches:
            result.append(Case(f'search {name} [{label}]', 'staff', TableRequest(search=search),
                               only_active=only_active, group='search'))
    result += [
        Case('search company user "gmbh"', 'company', TableRequest(search=COMMON_WORD), group='search'),
        Case('kundennummer filter', 'staff', TableRequest(), kundennummer=dataset.kundennummer),
        Case(f'company user ({dataset.company_contracts} contr.)', 'company', TableRequest()),
        Case('company user sort firma desc', 'company', TableRequest(sort='firma', descending=True)),
        Case(f'page size {PAGE_SIZES[-1]}', 'staff', TableRequest(page_size=PAGE_SIZES[-1])),
    ]
    return result


def case_key(name: str) -> str:
    """The case name without its size-dependent part in parentheses, for matching full and small runs."""
    return name.split(' (', 1)[0] if name.startswith(('deep ', 'company user (')) else name


async def run_case(dataset: Dataset, case: Case) -> tuple[int, str]:
    actor = dataset.staff if case.user == 'staff' else dataset.company_user
    assert actor is not None
    page = await list_contracts(actor, case.request, kundennummer=case.kundennummer, only_active=case.only_active)
    return len(page.rows), f'>{page.total:,}' if getattr(page, 'more', False) else f'{page.total:,}'


@dataclass
class Result:
    backend: str
    size: int
    case: str
    group: str
    median_ms: float
    p95_ms: float
    rows: int
    total: str


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


async def measure(backend: str, dataset: Dataset, all_cases: list[Case], warmup: int, repeat: int) -> list[Result]:
    results = []
    for case in all_cases:
        for _ in range(warmup):
            rows, total = await run_case(dataset, case)
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            rows, total = await run_case(dataset, case)
            samples.append((time.perf_counter() - started) * 1000)
        results.append(Result(backend, dataset.contracts, case.name, case.group, statistics.median(samples),
                              p95(samples), rows, total))
    return results


# ---------------------------------------------------------------------------------------------------------------------
# EXPLAIN


class SqlCapture(logging.Handler):
    """Collects (sql, values) from Tortoise's db_client debug log lines ('%s: %s', query, values)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.queries: list[tuple[str, list]] = []

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args
        if isinstance(args, tuple) and len(args) == 2 and isinstance(args[0], str) and isinstance(args[1], list | None):
            self.queries.append((args[0], list(args[1] or [])))


async def explain(backend: str, dataset: Dataset, case: Case) -> None:
    logger = logging.getLogger('tortoise.db_client')
    capture = SqlCapture()
    previous_level = logger.level
    logger.addHandler(capture)
    logger.setLevel(logging.DEBUG)
    try:
        await run_case(dataset, case)
    finally:
        logger.removeHandler(capture)
        logger.setLevel(previous_level)
    client = connections.get('default')
    print(f'\n=== {backend} {dataset.contracts:,}: {case.name}')
    for sql, values in capture.queries:
        if not sql.lstrip().upper().startswith('SELECT'):
            continue
        print(f'-- {sql}\n--   values: {values}')
        if backend == 'sqlite':
            _, rows = await client.execute_query(f'EXPLAIN QUERY PLAN {sql}', values)
            for row in rows:
                print(f'   {dict(row)["detail"]}')
        else:
            _, rows = await client.execute_query(f'EXPLAIN (ANALYZE, BUFFERS) {sql}', values)
            for row in rows:
                print(f'   {row["QUERY PLAN"]}')


# ---------------------------------------------------------------------------------------------------------------------
# Backends


@dataclass
class Run:
    backend: str
    results: list[Result] = field(default_factory=list)
    fill_seconds: dict[int, float] = field(default_factory=dict)


async def bench_database(
    backend: str, url: str, n_customers: int, n_contracts: int, args: argparse.Namespace,
    explain_filter: Callable[[Result], bool] | None,
) -> tuple[list[Result], float]:
    EXECUTOR_CACHE.clear()  # Tortoise caches insert SQL per connection name, across backends
    async with TortoiseContext():
        try:
            await init_database(url)
            dataset = await fill(n_customers, n_contracts, args.seed)
            print(f'{backend}: filled {n_customers:,} customers and {n_contracts:,} contracts '
                  f'in {dataset.fill_seconds:.1f} s', flush=True)
            started = time.perf_counter()
            if backend == 'postgres':
                await postgres_vacuum_analyze(url)
            else:  # what init_database runs at the portal's next start
                await connections.get('default').execute_script('ANALYZE')
            print(f'{backend}: (VACUUM) ANALYZE in {time.perf_counter() - started:.2f} s', flush=True)
            all_cases = cases(dataset, await last_pages(dataset))
            results = await measure(backend, dataset, all_cases, args.warmup, args.repeat)
            print_results(results)
            if explain_filter is not None:
                by_name = {result.case: result for result in results}
                for case in all_cases:
                    if explain_filter(by_name[case.name]):
                        await explain(backend, dataset, case)
        finally:
            await Tortoise.close_connections()
    return results, dataset.fill_seconds


async def postgres_vacuum_analyze(url: str) -> None:
    connection = await asyncpg.connect(url.replace('postgres://', 'postgresql://', 1), timeout=5)
    try:
        await connection.execute('VACUUM ANALYZE')
    finally:
        await connection.close()


async def bench_backend(backend: str, args: argparse.Namespace) -> Run:
    run = Run(backend)
    sizes = [(SMALL_CUSTOMERS, SMALL_CONTRACTS, False), (args.customers, args.contracts, True)]
    for n_customers, n_contracts, is_full in sizes:
        explain_filter = explain_selector(args.explain, args.slow_ms, run.results) if is_full else None
        async with throwaway_database(backend, 'bench_portal', args.postgres_admin_url) as url:
            results, seconds = await bench_database(backend, url, n_customers, n_contracts, args, explain_filter)
        run.results += results
        run.fill_seconds[n_contracts] = seconds
    return run


def explain_selector(mode: str, slow_ms: float, small: list[Result]) -> Callable[[Result], bool] | None:
    """Which full-size cases get EXPLAINed: none, all, or the flagged ones (slow, or grown against `small`)."""
    if mode == 'none':
        return None
    if mode == 'all':
        return lambda result: True
    small_p95 = {case_key(r.case): r.p95_ms for r in small}
    return lambda result: bool(flags(result, small_p95.get(case_key(result.case)), slow_ms))


def flags(result: Result, small_p95: float | None, slow_ms: float) -> list[str]:
    ratio = result.p95_ms / small_p95 if small_p95 else 0.0
    return [flag for flag, hit in (('SLOW', result.p95_ms > slow_ms), ('GROWS', ratio > RATIO_LIMIT)) if hit]


# ---------------------------------------------------------------------------------------------------------------------
# Output


def print_results(results: list[Result]) -> None:
    print(f'{"backend":<9} {"size":>8}  {"case":<44} {"median ms":>10} {"p95 ms":>9} {"rows":>5} {"total":>8}')
    for r in results:
        print(f'{r.backend:<9} {r.size:>8,}  {r.case:<44} {r.median_ms:>10.2f} {r.p95_ms:>9.2f} {r.rows:>5} '
              f'{r.total:>8}')
    print(flush=True)


def print_summary(runs: list[Run], full: int, slow_ms: float) -> None:
    print(f'Summary: p95 at {full:,} vs {SMALL_CONTRACTS:,} contracts '
          f'(flags: SLOW = p95 over {slow_ms:g} ms at full size, GROWS = ratio over {RATIO_LIMIT:g}x)')
    print(f'{"backend":<9} {"case":<44} {"median ms":>10} {"p95 ms":>9} {"p95 small":>10} {"ratio":>7}  flags')
    flagged = 0
    for run in runs:
        small = {case_key(r.case): r for r in run.results if r.size == SMALL_CONTRACTS}
        for r in (r for r in run.results if r.size == full):
            base = small.get(case_key(r.case))
            ratio = r.p95_ms / base.p95_ms if base and base.p95_ms > 0 else float('nan')
            hits = flags(r, base.p95_ms if base else None, slow_ms)
            flagged += bool(hits)
            print(f'{r.backend:<9} {r.case:<44} {r.median_ms:>10.2f} {r.p95_ms:>9.2f} '
                  f'{base.p95_ms if base else float("nan"):>10.2f} {ratio:>6.1f}x  {" ".join(hits)}')
    for run in runs:
        fills = ', '.join(f'{size:,} contracts {seconds:.1f} s' for size, seconds in sorted(run.fill_seconds.items()))
        print(f'fill time {run.backend}: {fills}')
    print(f'{flagged} flagged case(s)')


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', 1)[0])
    parser.add_argument('--backend', choices=('sqlite', 'postgres', 'both'), default='both')
    parser.add_argument('--contracts', type=int, default=100_000)
    parser.add_argument('--customers', type=int, default=10_000)
    parser.add_argument('--repeat', type=int, default=30, help='timed runs per case')
    parser.add_argument('--warmup', type=int, default=3, help='untimed runs per case first')
    parser.add_argument('--seed', type=int, default=20260401)
    parser.add_argument('--slow-ms', type=float, default=50.0, help='p95 above this at full size is flagged')
    parser.add_argument('--explain', choices=('flagged', 'all', 'none'), default='flagged',
                        help='print SQL and query plans (full size) for flagged cases, all cases or none')
    parser.add_argument('--postgres-admin-url', default=POSTGRES_ADMIN_URL)
    args = parser.parse_args(argv)
    if args.contracts < 1 or args.customers < 1 or args.repeat < 1 or args.warmup < 0:
        parser.error('--contracts, --customers and --repeat must be positive, --warmup not negative')
    return args


def print_goals(runs: list[Run], full: int) -> None:
    """Issue 12's goals against the worst p95 of their cases at full size."""
    print(f'\nGoals at {full:,} contracts (worst p95 of the group)')
    print(f'{"goal":<36} {"backend":<9} {"measured p95 ms":>16}  {"worst case":<44} result')
    for group in ('search', 'page change'):
        for run in runs:
            group_results = [r for r in run.results if r.size == full and r.group == group]
            if not group_results:
                continue
            worst = max(group_results, key=lambda r: r.p95_ms)
            verdict = 'met' if worst.p95_ms < GOAL_MS else 'MISSED'
            print(f'{f"{group} p95 < {GOAL_MS:g} ms":<36} {run.backend:<9} {worst.p95_ms:>16.2f}  {worst.case:<44} '
                  f'{verdict}')
            goals.record('contract_table', f'{group} p95 < {GOAL_MS:g} ms ({run.backend}, {full:,})', worst.p95_ms,
                         'ms', worst.p95_ms < GOAL_MS, worst.case)


async def main(args: argparse.Namespace) -> None:
    backends = ('sqlite', 'postgres') if args.backend == 'both' else (args.backend,)
    print(__doc__.split('\n\n', 2)[1], flush=True)  # what is measured, before the numbers
    runs = [await bench_backend(backend, args) for backend in backends]
    print_summary(runs, args.contracts, args.slow_ms)
    print_goals(runs, args.contracts)


if __name__ == '__main__':
    asyncio.run(main(parse_args()))
