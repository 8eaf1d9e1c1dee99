"""The Abrechnung: each contract's month (every Abo running in it, with price, subsidy, discount and Eigenanteil per
person), the Abrechnungslauf that makes a month final, and the files a month produces.

An Abo belongs to a month when its start month ≤ that month ≤ its end month. A month is open (shown as a preview,
computed from today's data) until it is closed; it may be closed after its cut-off (CUTOFF_DAY of the following
month), in order, once: the run stores every line as it was, and nothing changes it later. What changes afterwards
for a closed month (an Antrag approved late with a start in it, an Abo ended back into it) appears as a correction
line of the next month closed, holding the difference. Invoices, payroll and direct-debit files hang off a run's
lines (`Statement.lines`), so each file of a closed month is the same whenever it is made; the invoices of
"(Rechnung)" contracts get their numbers in the closing transaction (services/rechnungen.py).
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, RawSQL
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models import Abo, BillingLine, BillingRun, Contract, LineKind, PortalUser, SubsidyChange
from services import abo_dates, audit, clock, permissions, rechnungen, tarife
from services.audit import AuditKind
from services.errors import NotFound, ServiceError
from services.permissions import Action
from services.settings import get_settings
from services.spreadsheet import Cell, CsvFile, csv_bytes, euro, xlsx_bytes
from services.table_query import COUNT_CAP, TablePage, TableRequest, format_count
from services.tarife import Tariffs
from services.validation import field_length, format_german_datetime, search_term
from services.vertraege import get_contract
from services.zuschuesse import SubsidySchedule, changes_by_contract, subsidy_sql

CORRECTION_MONTHS = 12  # closed months a new run still corrects; older ones go through customer service by hand
ID_CHUNK = 5000  # ids per query: far below PostgreSQL's 32,767 parameters
ABO_COLUMNS = ('id', 'contract_id', 'personalnummer', 'vorname', 'nachname', 'ticketart', 'startmonat', 'endmonat',
               'contract__arbeitgeberzuschuss_cent')
AMOUNTS = ('preis_cent', 'zuschuss_cent', 'rabatt_cent', 'eigenanteil_cent')


@dataclass(frozen=True)
class Line:
    """One person's month (or a correction of an earlier month), in cents."""

    abo_id: int
    contract_id: int
    leistungsmonat: date
    art: LineKind
    personalnummer: str
    vorname: str
    nachname: str
    ticketart: str
    startmonat: date
    endmonat: date | None
    preis_cent: int
    zuschuss_cent: int
    rabatt_cent: int
    eigenanteil_cent: int


LINE_FIELDS = tuple(item.name for item in fields(Line))


@dataclass
class Totals:
    personen: int = 0
    preis_cent: int = 0
    zuschuss_cent: int = 0
    rabatt_cent: int = 0
    eigenanteil_cent: int = 0

    def add(self, item: Line | Totals) -> None:
        """A line (a person when of kind Monat) or another total."""
        self.personen += item.personen if isinstance(item, Totals) else item.art == LineKind.MONAT
        for name in AMOUNTS:
            setattr(self, name, getattr(self, name) + getattr(item, name))


def totals_of(lines: Sequence[Line]) -> Totals:
    totals = Totals()
    for line in lines:
        totals.add(line)
    return totals


@dataclass
class Statement:
    """A contract's month: from the run's snapshot when closed, else a preview from today's data."""

    contract: Contract
    monat: date
    cutoff: date
    run: BillingRun | None
    lines: list[Line] = field(default_factory=list)
    totals: Totals = field(default_factory=Totals)

    @property
    def closed(self) -> bool:
        return self.run is not None

    @property
    def status_text(self) -> str:
        if self.run is not None:
            return f'abgeschlossen am {format_german_datetime(self.run.closed_at)}'
        return f'offen (Vorschau; abschließbar nach dem {self.cutoff:%d.%m.%Y})'


# --- the month's rules ------------------------------------------------------------------------------------------------


def cutoff_date(month: date) -> date:
    """The cut-off of `month`: CUTOFF_DAY of the following month (its last day when the month is shorter)."""
    following = abo_dates.first_of_month(month, 1)
    return following.replace(day=min(get_settings().cutoff_day, abo_dates.last_of_month(following).day))


def is_final(month: date, today: date) -> bool:
    return today > cutoff_date(month)


def in_month(month: date) -> Q:
    """An Abo running in `month`: started by its end, not ended before its start."""
    return Q(startmonat__lte=abo_dates.last_of_month(month)) & (Q(endmonat__isnull=True) | Q(endmonat__gte=month))


def _line(row: dict[str, object], month: date, tariffs: Tariffs, schedule: SubsidySchedule) -> Line:
    rules = tariffs.on(month)
    subsidy = schedule.on(month)
    return Line(
        abo_id=row['id'], contract_id=row['contract_id'], leistungsmonat=month, art=LineKind.MONAT,  # type: ignore[arg-type]
        personalnummer=row['personalnummer'], vorname=row['vorname'], nachname=row['nachname'],  # type: ignore[arg-type]
        ticketart=str(row['ticketart']), startmonat=row['startmonat'], endmonat=row['endmonat'],  # type: ignore[arg-type]
        preis_cent=rules.preis_cent, zuschuss_cent=subsidy, rabatt_cent=rules.discount_cent(subsidy),
        eigenanteil_cent=rules.eigenanteil_cent(subsidy),
    )


def _changed_since(alias: str, runs: Sequence[BillingRun], postgres: bool) -> str:
    """SQL: the Abo `alias` was created or cancelled after the earliest of `runs` was closed. On SQLite as instants
    (julianday): the stored text carries the offset it was written with (Europe/Berlin when inserted, UTC when
    saved later), so comparing text made an Abo created within the hour (two in summer) before the closing count as
    changed after it, and missed a Kündigung saved after it when compared in local time (both found by
    tests/services/test_billing_close.py). The time is ours, not anybody's input: a literal."""
    since = min(run.closed_at for run in runs).astimezone(UTC).isoformat(' ')
    if postgres:
        return f"({alias}.created_at > '{since}'::timestamptz OR {alias}.cancelled_at > '{since}'::timestamptz)"
    return (f"(julianday({alias}.created_at) > julianday('{since}') OR "
            f"julianday({alias}.cancelled_at) > julianday('{since}'))")


class _Calculator:
    """Computes a month's lines for a set of Abos from today's data, line by line in Python: one contract's open
    month (`statement`), and the reference the whole month's SQL (`_store_lines`, `_open_corrections`) is tested
    against (tests/services/test_billing_close.py, test_billing_sums.py). Not for every Abo at once: 140,000 lines
    built here took 112–443 s of closing at 100,000 contracts."""

    def __init__(self, month: date, abos: QuerySet[Abo], changes: QuerySet[SubsidyChange], tariffs: Tariffs) -> None:
        self.month, self.abos, self.changes_query, self.tariffs = month, abos, changes, tariffs
        self.changes: dict[int, tuple[tuple[date, int], ...]] = {}

    def schedule(self, row: dict[str, object]) -> SubsidySchedule:
        contract_id: int = row['contract_id']  # type: ignore[assignment]
        return SubsidySchedule(row['contract__arbeitgeberzuschuss_cent'], self.changes.get(contract_id, ()))  # type: ignore[arg-type]

    async def lines(self) -> list[Line]:
        self.changes = await changes_by_contract(self.changes_query.filter(gueltig_ab__lte=self.month))
        rows = await self.abos.filter(in_month(self.month)).order_by('nachname', 'vorname', 'id').values(*ABO_COLUMNS)
        regular = [_line(row, self.month, self.tariffs, self.schedule(row)) for row in rows]
        return regular + await self.corrections()

    async def corrections(self) -> list[Line]:
        """For the closed months within CORRECTION_MONTHS: every Abo created or cancelled after such a month was
        closed, compared with what the runs hold for it; a difference becomes a correction line (call `lines`: it
        reads the subsidy changes)."""
        runs = await BillingRun.filter(
            monat__lt=self.month, monat__gte=abo_dates.first_of_month(self.month, -CORRECTION_MONTHS)
        ).order_by('monat')
        if not runs:
            return []
        changed = _changed_since('"abo"', runs, Abo._meta.db.capabilities.dialect == 'postgres')
        touched = await self.abos.annotate(changed=RawSQL(f'CASE WHEN {changed} THEN 1 ELSE 0 END')).filter(
            changed=1, startmonat__lte=runs[-1].monat,
        ).order_by('nachname', 'vorname', 'id').values(*ABO_COLUMNS)
        if not touched:
            return []
        stored: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        ids = [row['id'] for row in touched]
        for start in range(0, len(ids), ID_CHUNK):
            for abo_id, month, *amounts in await BillingLine.filter(
                abo_id__in=ids[start:start + ID_CHUNK], leistungsmonat__gte=runs[0].monat,
            ).values_list('abo_id', 'leistungsmonat', *AMOUNTS):
                sums = stored[(abo_id, month)]
                for index, amount in enumerate(amounts):
                    sums[index] += amount
        found: list[Line] = []
        for row in touched:
            for run in runs:
                running = row['startmonat'] <= run.monat and (row['endmonat'] is None or row['endmonat'] >= run.monat)
                expected = _line(row, run.monat, self.tariffs, self.schedule(row)) if running else None
                want = [getattr(expected, name) for name in AMOUNTS] if expected else [0, 0, 0, 0]
                have = stored.get((row['id'], run.monat), [0, 0, 0, 0])
                if want != have:
                    base = expected or _line(row, run.monat, self.tariffs, self.schedule(row))
                    deltas: dict[str, Any] = {
                        name: wanted - had for name, wanted, had in zip(AMOUNTS, want, have, strict=True)}
                    found.append(replace(base, art=LineKind.KORREKTUR, **deltas))
        return found


def _from_rows(rows: Sequence[BillingLine]) -> list[Line]:
    return [Line(**{name: getattr(row, name) for name in LINE_FIELDS if name != 'contract_id'},
                 contract_id=row.contract_id) for row in rows]


def parse_month(text: str) -> date | None:
    """'05.2026' / '5.2026' / '2026-05' → date(2026, 5, 1); None for anything else."""
    text = (text or '').strip()
    for separator, year_first in (('.', False), ('-', True), ('/', False)):
        parts = text.split(separator)
        if len(parts) == 2 and all(part.isdecimal() and part.isascii() for part in parts):
            year, month = (parts[0], parts[1]) if year_first else (parts[1], parts[0])
            if len(year) == 4 and 1 <= int(month) <= 12 and 2000 <= int(year) <= 2999:
                return date(int(year), int(month), 1)
    return None


# --- closing a month -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Closing:
    run: BillingRun
    created: bool  # False: the month was closed already, nothing changed


# Closing stores the lines with two INSERT … SELECT statements (the month's lines, then the corrections), so no line
# passes through Python, and issues the invoices from grouped queries of the stored lines, a batch at a time with
# the arithmetic in a worker thread (services/rechnungen.py). bench/abrechnung.py --scale on PostgreSQL: with every line
# built as a `Line`, a BillingLine and its invoice in Python, 10,000 contracts took 5.9–6.8 s (3 s of it CPU on the
# event loop, one step 0.15–0.4 s) and 100,000 contracts 57 s at load 3 (112–443 s in issue 12); now 1.2–2.3 s and
# 9.6–10.6 s at load 4 (the loop's longest step 7–9 ms; SQLite 18.4 s → 3.3 s). The rules stay in Python, once:
# every line's figures depend only on the month's tariff and the contract's subsidy then, so Python computes
# `_line`'s figures for each (month, subsidy amount) that can occur and the SQL only looks them up (`_figures_table`);
# tests/services/test_billing_close.py compares the stored lines and invoices with `_Calculator`'s and
# `invoice_amounts`' on both databases.

LINE_COLUMNS = ('run_id', 'contract_id', 'abo_id',  # the order of the selects below
                *(name for name in LINE_FIELDS if name not in ('abo_id', 'contract_id')))


@asynccontextmanager
async def _figures_table(sql: _Sql, months: Sequence[date], tariffs: Tariffs) -> AsyncIterator[str]:
    """A table `(monat, zuschuss, preis, rabatt, eigenanteil)`: `_line`'s figures for each of `months` and each
    subsidy amount any contract has (its agreed amount or a change: `subsidy_sql` gives one of them). Amounts are few
    (a few hundred at 100,000 contracts), so the table is a few thousand rows at most. PostgreSQL: one parameter per
    column (arrays), joined by hashing. SQLite: a temporary table keyed (monat, zuschuss) for the time of the
    statement: it has no hash join, and a table from JSON has no index, so each line scanned every row of the
    figures (140,000 Abos and 400 amounts: 4.4 s, 18.6 s in the planner's own order)."""
    amounts = sorted(int(row['z']) for row in await sql.rows(
        'SELECT arbeitgeberzuschuss_cent AS z FROM contract UNION SELECT zuschuss_cent AS z FROM subsidy_change'))
    sql.values = []  # the query above had none; the statement that uses the table starts afresh
    rows = [(month, amount, rules.preis_cent, rules.discount_cent(amount), rules.eigenanteil_cent(amount))
            for month in months for rules in (tariffs.on(month),) for amount in amounts]
    if sql.postgres:
        columns = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
        yield (f'(SELECT * FROM unnest({sql(list(columns[0]))}::date[], {sql(list(columns[1]))}::int[], '
               f'{sql(list(columns[2]))}::int[], {sql(list(columns[3]))}::int[], {sql(list(columns[4]))}::int[]) '
               'AS f(monat, zuschuss, preis, rabatt, eigenanteil))')
        return
    table = f'temp.billing_figures_{secrets.token_hex(6)}'  # one connection for every task: a name of its own
    # execute_query, not execute_script: sqlite3's executescript commits a pending transaction (the closing's) first
    await sql.client.execute_query(
        f'CREATE TABLE {table} (monat DATE NOT NULL, zuschuss INT NOT NULL, preis INT NOT NULL, rabatt INT NOT NULL, '
        'eigenanteil INT NOT NULL, PRIMARY KEY (monat, zuschuss)) WITHOUT ROWID')
    try:
        if rows:
            await sql.client.execute_many(f'INSERT INTO {table} VALUES (?, ?, ?, ?, ?)',
                                          [[month.isoformat(), *figures] for month, *figures in rows])
        yield table
    finally:
        await sql.client.execute_query(f'DROP TABLE IF EXISTS {table}')


def _insert_lines(select: str) -> str:
    return f'INSERT INTO billing_line ({", ".join(LINE_COLUMNS)}) {select}'


def _abo_columns(alias: str) -> str:
    """The Abo's columns of a line, in LINE_FIELDS' order after `leistungsmonat` and `art`."""
    return ', '.join(f'{alias}.{name}' for name in ('personalnummer', 'vorname', 'nachname', 'ticketart',
                                                     'startmonat', 'endmonat'))


def _regular_select(sql: _Sql, run_id: int, month: date, figures: str) -> str:
    """`_Calculator.lines`' month lines (every Abo running in `month`, by name), for the run `run_id`. Each
    contract's subsidy first (its subquery only for contracts with a change by then), materialized, so that the
    figures are a hash join on the amount: with the CASE in the join condition PostgreSQL compared every contract
    with every row of the figures (a nested loop, 60,000 comparisons for 10,000 contracts and 6 amounts). SQLite
    joins in the order written (CROSS JOIN): left to itself it read every running Abo once per subsidy amount."""
    month_mark = sql.typed(month, 'date')
    changed = f'SELECT DISTINCT contract_id FROM subsidy_change WHERE gueltig_ab <= {month_mark}'
    subsidies = (f'SELECT c.id, CASE WHEN ch.contract_id IS NULL THEN c.arbeitgeberzuschuss_cent ELSE '
                 f'{subsidy_sql("c", month_mark)} END AS zuschuss FROM contract c '
                 f'LEFT JOIN ({changed}) ch ON ch.contract_id = c.id')
    return (
        f'WITH z AS MATERIALIZED ({subsidies}) '
        f"SELECT {sql.typed(run_id, 'int')}, a.contract_id, a.id, {month_mark}, '{LineKind.MONAT.value}', "
        f'{_abo_columns("a")}, f.preis, f.zuschuss, f.rabatt, f.eigenanteil '
        f'FROM abo a CROSS JOIN z CROSS JOIN {figures} f '  # SQLite: in this order (see above)
        f'WHERE z.id = a.contract_id AND f.monat = {month_mark} AND f.zuschuss = z.zuschuss AND '
        f'{_running(sql, month)} ORDER BY a.nachname, a.vorname, a.id')


def _corrections_select(sql: _Sql, run_id: int, month: date, runs: Sequence[BillingRun], figures: str) -> str:
    """`_Calculator.corrections` as one query: for every Abo created or cancelled after the earliest closed month of
    the window was closed, and every closed month of the window, what `_line` gives now (nothing when it does not
    run then) against the sums of every stored line of that Abo and month; where they differ, a line of kind
    Korrektur holding the difference, by name, then month. The stored lines are joined by (contract, Abo, month),
    billing_line's index (an Abo never changes its contract), and summed per pair: with the sums as a CTE of their
    own PostgreSQL expected 2 rows, joined them by a nested loop and compared 140,000 pairs with 140,000 sums
    (stopped after 10 minutes at 100,000 contracts with every Abo changed)."""
    first, last = runs[0].monat, runs[-1].monat
    touched = (f'SELECT a.id, a.contract_id, {_abo_columns("a")} FROM abo a WHERE '
               f'{_changed_since("a", runs, sql.postgres)} AND a.startmonat <= {sql.typed(last, "date")}')
    months = (f'SELECT r.monat FROM billing_run r WHERE r.monat < {sql.typed(month, "date")} AND '
              f'r.monat >= {sql.typed(first, "date")}')
    changed = f'SELECT DISTINCT contract_id FROM subsidy_change WHERE gueltig_ab <= {sql.typed(last, "date")}'
    running = 't.startmonat <= m.monat AND (t.endmonat IS NULL OR t.endmonat >= m.monat)'
    pairs = (f'SELECT t.*, m.monat AS monat, CASE WHEN {running} THEN 1 ELSE 0 END AS running, '
             f'CASE WHEN ch.contract_id IS NULL THEN c.arbeitgeberzuschuss_cent ELSE {subsidy_sql("c", "m.monat")} '
             'END AS zuschuss FROM t JOIN contract c ON c.id = t.contract_id '
             f'LEFT JOIN ({changed}) ch ON ch.contract_id = c.id CROSS JOIN m')
    wanted = {'preis_cent': 'f.preis', 'zuschuss_cent': 'f.zuschuss', 'rabatt_cent': 'f.rabatt',
              'eigenanteil_cent': 'f.eigenanteil'}
    deltas = [f'(CASE WHEN p.running = 1 THEN {wanted[name]} ELSE 0 END - COALESCE(SUM(bl.{name}), 0))'
              for name in AMOUNTS]
    columns = ', '.join(f'{delta} AS {name}' for delta, name in zip(deltas, AMOUNTS, strict=True))
    return (
        f'WITH t AS MATERIALIZED ({touched}), m AS ({months}), p AS MATERIALIZED ({pairs}) '
        f"SELECT {sql.typed(run_id, 'int')}, p.contract_id, p.id, p.monat, '{LineKind.KORREKTUR.value}', "
        f'{_abo_columns("p")}, {columns} '
        f'FROM p CROSS JOIN {figures} f '  # SQLite: in this order, each pair's figures by the key (see there)
        'LEFT JOIN billing_line bl ON bl.contract_id = p.contract_id AND bl.abo_id = p.id AND '
        'bl.leistungsmonat = p.monat WHERE f.monat = p.monat AND f.zuschuss = p.zuschuss '
        f'GROUP BY p.contract_id, p.id, p.monat, {_abo_columns("p")}, p.running, f.preis, f.zuschuss, f.rabatt, '
        f'f.eigenanteil HAVING {" OR ".join(f"{delta} <> 0" for delta in deltas)} '
        'ORDER BY p.nachname, p.vorname, p.id, p.monat')


async def _window_runs(month: date) -> list[BillingRun]:
    """The closed months a run of `month` still corrects, oldest first."""
    return list(await BillingRun.filter(
        monat__lt=month, monat__gte=abo_dates.first_of_month(month, -CORRECTION_MONTHS)).order_by('monat'))


async def _store_lines(run: BillingRun, tariffs: Tariffs) -> int:
    """Inside the closing transaction: the run's lines, as `_Calculator(month, Abo.all(), …).lines()` gives them
    (month lines, then corrections), in the database. Returns how many."""
    month = run.monat
    runs = await _window_runs(month)
    sql = _Sql()
    async with _figures_table(sql, [month, *(closed.monat for closed in runs)], tariffs) as figures:
        figures_values = list(sql.values)  # the table's parameters come first in both statements
        await sql.execute(_insert_lines(_regular_select(sql, run.id, month, figures)))
        if runs:
            sql.values = list(figures_values)
            await sql.execute(_insert_lines(_corrections_select(sql, run.id, month, runs, figures)))
    counted = _Sql()  # not the statements' row counts: Tortoise reads PostgreSQL's 'INSERT 0 n' as 0
    return int((await counted.rows(f'SELECT COUNT(*) AS n FROM billing_line WHERE run_id = {counted(run.id)}'))[0]['n'])


async def close_month(month: date, *, actor: PortalUser | None = None, client: str = '') -> Closing:
    """The Abrechnungslauf of `month` (staff, or the operator's command line when `actor` is None). Closing a closed
    month again changes nothing; two processes closing at once: the unique month lets one of them store lines."""
    if actor is not None:
        permissions.require(actor, Action.CLOSE_MONTH, None)
    month = abo_dates.first_of_month(month)
    if existing := await BillingRun.get_or_none(monat=month):
        return Closing(existing, False)
    label, cutoff = abo_dates.month_label(month), cutoff_date(month)
    if not is_final(month, clock.today()):
        raise ServiceError(f'{label} lässt sich erst nach dem Stichtag ({cutoff:%d.%m.%Y}) abschließen: bis dahin '
                           'können sich Anträge und Kündigungen noch auf ihn auswirken.')
    latest = await BillingRun.all().order_by('-monat').first()
    if latest is not None and latest.monat > month:
        raise ServiceError(f'{label} liegt vor dem zuletzt abgeschlossenen Monat '
                           f'({abo_dates.month_label(latest.monat)}); Änderungen an ihm erscheinen als Korrektur im '
                           'nächsten offenen Monat.')
    if latest is not None and (following := abo_dates.first_of_month(latest.monat, 1)) < month:
        raise ServiceError(f'Bitte schließen Sie zuerst {abo_dates.month_label(following)} ab.')
    tariffs = await tarife.current()
    try:
        async with in_transaction() as connection:
            if connection.capabilities.dialect == 'postgres':
                # The portal's force_custom_plan (services/database.py) would plan each foreign-key check of every
                # stored line and invoice again: 0.9 s of the 1.0 s that storing 14,000 lines took.
                await connection.execute_script("SET LOCAL plan_cache_mode = 'auto'")
            try:
                run = await BillingRun.create(monat=month, closed_at=clock.now(), line_count=0,
                                              closed_by=actor.email if actor else 'Betrieb (Kommandozeile)')
            except IntegrityError as taken:  # another process closed it meanwhile
                raise _ClosedMeanwhile from taken
            run.line_count = await _store_lines(run, tariffs)
            await run.save(update_fields=['line_count'])
            await _analyze('billing_line')
            issued = await rechnungen.issue_for_run(run)
            await audit.record(AuditKind.MONTH_CLOSED, actor=actor, actor_label='' if actor else run.closed_by,
                               object_type='billing_run', object_id=run.id,
                               details={'monat': month.isoformat(), 'zeilen': run.line_count, 'rechnungen': issued},
                               client=client)
    except _ClosedMeanwhile:
        return Closing(await BillingRun.get(monat=month), False)
    return Closing(run, True)


async def _analyze(table: str) -> None:
    """PostgreSQL, inside the closing transaction: fresh statistics for the lines just stored (ANALYZE
    counts the transaction's own new rows; the statistics are the others' at the commit). Without them the planner
    takes the new run for a few rows and reads its lines by `run_id` alone, filtering a batch's contracts afterwards:
    every batch of the invoices and of the month's CSV read all the run's 140,000 lines (47 ms a batch, 100 batches
    at 100,000 contracts: 13.5 s for the CSV), with them the index (run_id, contract_id) answers a batch in 3 ms.
    ANALYZE samples: 0.2–0.4 s at 140,000 lines. SQLite plans these by that index without statistics."""
    client = BillingLine._meta.db
    if client.capabilities.dialect == 'postgres':
        await client.execute_script(f'ANALYZE {table}')


class _ClosedMeanwhile(Exception):
    """The unique month refused the run: an error of anything else in the closing is not taken for this."""


async def closed_months(limit: int = 24) -> list[BillingRun]:
    return list(await BillingRun.all().order_by('-monat').limit(limit))


# --- one contract's month ---------------------------------------------------------------------------------------------


async def contract_choices(actor: PortalUser, limit: int = 200) -> list[tuple[int, str]]:
    """The actor's contracts for the month view's picker (a company has a handful; staff search by number), the
    active ones ('aktiv' sorts first) on top."""
    permissions.require_role(actor, Action.VIEW_BILLING)
    rows = await permissions.scoped(Contract.all(), actor).order_by('status', 'vertragsnummer').limit(limit) \
        .values_list('id', 'vertragsnummer', 'firma')
    return [(contract_id, f'{number} – {firma}') for contract_id, number, firma in rows]


async def find_contract(actor: PortalUser, vertragsnummer: str) -> int:
    """A contract's id by its Vertragsnummer, within what the actor may see."""
    permissions.require_role(actor, Action.VIEW_BILLING)
    number = search_term(vertragsnummer, field_length(Contract, 'vertragsnummer'))
    found = await permissions.scoped(Contract.filter(vertragsnummer=number), actor).first() if number else None
    if found is None:
        raise NotFound('Der Vertrag wurde nicht gefunden.')
    return found.id


async def statement(actor: PortalUser, contract_id: int, month: date) -> Statement:
    """The contract's month, if the actor may see its billing: the snapshot when closed, else the preview."""
    contract = await get_contract(actor, contract_id)
    permissions.require(actor, Action.VIEW_BILLING, contract.customer_id)
    month = abo_dates.first_of_month(month)
    run = await BillingRun.get_or_none(monat=month)
    if run is not None:
        rows = await permissions.scoped(BillingLine.filter(run_id=run.id, contract_id=contract.id), actor) \
            .order_by('id')
        lines = _from_rows(rows)
    else:
        lines = await _Calculator(month, permissions.scoped(Abo.filter(contract_id=contract.id), actor),
                                  SubsidyChange.filter(contract_id=contract.id), await tarife.current()).lines()
    return Statement(contract, month, cutoff_date(month), run, lines, totals_of(lines))


STATEMENT_COLUMNS = ('Leistungsmonat', 'Art', 'Personalnummer', 'Nachname', 'Vorname', 'Ticketart', 'Beginn', 'Ende',
                     'Preis', 'Arbeitgeberzuschuss', 'Rabatt', 'Eigenanteil')
PAYROLL_COLUMNS = ('Personalnummer', 'Nachname', 'Vorname', 'Eigenanteil', 'Zuschuss', 'Kostenstelle')


def statement_rows(lines: Sequence[Line]) -> list[list[Cell]]:
    """Every line, then the totals ('Summe' in the Art column)."""
    rows: list[list[Cell]] = [[
        line.leistungsmonat, line.art.value, line.personalnummer, line.nachname, line.vorname, line.ticketart,
        line.startmonat, line.endmonat, euro(line.preis_cent), euro(line.zuschuss_cent), euro(line.rabatt_cent),
        euro(line.eigenanteil_cent),
    ] for line in lines]
    totals = totals_of(lines)
    rows.append([None, 'Summe', None, None, None, None, None, None,
                 *(euro(getattr(totals, name)) for name in AMOUNTS)])
    return rows


def payroll_rows(lines: Sequence[Line]) -> list[list[Cell]]:
    """One row per person (an Abo): the month's Eigenanteil to deduct and the tax-free subsidy (§ 3 Nr. 15 EStG),
    corrections of earlier months included; the Kostenstelle is left for payroll to fill."""
    people: dict[int, list[Cell]] = {}
    for line in lines:
        row = people.setdefault(line.abo_id, [line.personalnummer, line.nachname, line.vorname, 0, 0, None])
        row[3] += line.eigenanteil_cent  # type: ignore[operator]
        row[4] += line.zuschuss_cent  # type: ignore[operator]
    return [[*row[:3], euro(row[3]), euro(row[4]), row[5]] for row in people.values()]  # type: ignore[arg-type]


FILES = {
    'abrechnung': ('Abrechnung', STATEMENT_COLUMNS, statement_rows),
    'lohnabrechnung': ('Lohnabrechnung', PAYROLL_COLUMNS, payroll_rows),
}


@dataclass(frozen=True)
class Download:
    content: bytes
    file_name: str


async def month_file(actor: PortalUser, contract_id: int, month: date, kind: str, file_format: str, *,
                     client: str = '') -> Download:
    """A file of the contract's month: 'abrechnung' (the statement, participant list) or 'lohnabrechnung' (payroll),
    as 'csv' or 'xlsx'. An open month's file says 'Vorschau' in its name."""
    if kind not in FILES or file_format not in ('csv', 'xlsx'):
        raise ServiceError('Diese Datei gibt es nicht.')
    found = await statement(actor, contract_id, month)
    title, columns, to_rows = FILES[kind]
    rows = to_rows(found.lines)
    content = csv_bytes(columns, rows) if file_format == 'csv' else xlsx_bytes(title, columns, rows)
    await audit.record(AuditKind.BILLING_EXPORTED, actor=actor, customer_id=found.contract.customer_id,
                       object_type='contract', object_id=found.contract.id,
                       details={'monat': found.monat.isoformat(), 'datei': kind, 'format': file_format}, client=client)
    suffix = '' if found.closed else '_Vorschau'
    return Download(content, f'{title}_{found.contract.vertragsnummer}_{found.monat:%Y-%m}{suffix}.{file_format}')


# --- every customer's month (staff) -----------------------------------------------------------------------------------
#
# The overview lists every contract with something in the month, a page at a time, with the month's totals; all of
# it is computed in the database. bench/abrechnung.py --scale 100000 on PostgreSQL (140,000 Abos, 70,000 in the
# month): with every Abo through Python the open month's overview took p50 9.0 s / p95 10.9 s and held the event loop
# 2.9 s in one step (load average < 1); grouped SQL takes p50 0.81 s / p95 1.08 s with the loop's longest step 1.8 ms,
# measured at load average 11 on 2 cores (the same queries by hand: count 0.1 s, totals 0.9 s, a page 15 ms).
#
# Open month, grouped SQL rather than per-month aggregates kept up to date (no table to maintain on every approval,
# Kündigung, upload and tariff change, no migration): every person of a contract in a month has the same figures
# (the contract's subsidy of that month, the month's tariff), so a contract's month is its number of running Abos
# times one `_figures`, and the totals are the running Abos grouped by their contract's subsidy amount (a few rows)
# times `_figures` — the rules stay in Python, once, applied to grouped counts (tests/services/test_billing_sums.py
# compares them with `_line`/`totals_of`). Corrections of earlier months are the closing's query
# (`_corrections_select`) summed per contract (`_open_corrections`): the Abos created or cancelled after the
# correction window's first closed month, not every Abo, and none of them through Python. Closed month: sums of
# the run's lines grouped per contract. The totals still read every running Abo once per view (in the database):
# the part to replace by maintained sums if it ever gets too slow.


@dataclass(frozen=True)
class OverviewRow:
    contract_id: int
    vertragsnummer: str
    firma: str
    totals: Totals


@dataclass
class MonthOverview:
    monat: date
    run: BillingRun | None
    page: TablePage[Any]  # OverviewRows: the contracts of the requested page, by Vertragsnummer
    totals: Totals  # every contract's

    @property
    def rows(self) -> list[OverviewRow]:
        return self.page.rows


OVERVIEW_COLUMNS = ('Vertragsnummer', 'Firma', 'Personen', 'Preis', 'Arbeitgeberzuschuss', 'Rabatt', 'Eigenanteil')
OVERVIEW_PAGE_SIZE = 50
CSV_BATCH = 1000  # contracts per query of the CSV export


def _figures(rules: tarife.Tariff, zuschuss_cent: int, personen: int) -> Totals:
    """`personen` Abos of one contract in one month: each has `_line`'s figures (the same subsidy and tariff)."""
    return Totals(personen, personen * rules.preis_cent, personen * zuschuss_cent,
                  personen * rules.discount_cent(zuschuss_cent), personen * rules.eigenanteil_cent(zuschuss_cent))


class _Sql:
    """One raw query with numbered parameters for either backend ($1 on PostgreSQL, ?1 on SQLite)."""

    def __init__(self) -> None:
        self.client = Contract._meta.db
        self.postgres = self.client.capabilities.dialect == 'postgres'
        self.values: list[object] = []

    def __call__(self, value: object) -> str:
        self.values.append(value)
        return f'${len(self.values)}' if self.postgres else f'?{len(self.values)}'

    def among(self, ids: Sequence[int]) -> str:
        """`IN` a list of ids as one parameter (an array, or JSON on SQLite): however many, never 32,767 values."""
        if self.postgres:
            return f'= ANY({self(list(ids))}::int[])'
        return f'IN (SELECT value FROM json_each({self(json.dumps(list(ids)))}))'

    def typed(self, value: object, postgres_type: str) -> str:
        """A parameter with its type on PostgreSQL (where nothing else tells it, e.g. in a select list); SQLite
        takes the value as it is (a CAST there would turn a date into a number)."""
        mark = self(value)
        return f'{mark}::{postgres_type}' if self.postgres else mark

    async def rows(self, sql: str) -> list[dict[str, Any]]:
        return await self.client.execute_query_dict(sql, self.values)

    async def execute(self, sql: str) -> None:
        """A statement that writes."""
        await self.client.execute_query(sql, self.values)


def _running(sql: _Sql, month: date) -> str:
    """`in_month` for the Abo `a`."""
    return (f'a.startmonat <= {sql(abo_dates.last_of_month(month))} AND '
            f'(a.endmonat IS NULL OR a.endmonat >= {sql(month)})')


def _subsidy(sql: _Sql, month: date) -> str:
    """The subsidy of the contract `c` in `month`."""
    return subsidy_sql('c', sql(month))


# A closed month's count and totals: its run and lines never change once stored, and reading them means reading every
# line of the run (140,000 lines of ~700 bytes at 100,000 contracts: 4 s on a loaded machine). Keyed by the run's id,
# month and closing time, so a run of another database (tests) never matches; a few entries a year.
_ClosedKey = tuple[int, date, datetime]
_CLOSED_COUNTS: dict[_ClosedKey, tuple[int, bool]] = {}
_CLOSED_TOTALS: dict[_ClosedKey, Totals] = {}


@dataclass
class _Month:
    """What the overview of one month needs besides its pages: the listing condition and each page's figures."""

    month: date
    run: BillingRun | None
    rules: tarife.Tariff
    corrections: dict[int, Totals]  # open month: per contract, its correction lines' sums

    def listed(self, sql: _Sql) -> str:
        """The contracts the overview lists (`c`): with a line in the run, or running Abos or corrections. A scalar
        subquery, not EXISTS: PostgreSQL turned EXISTS into a hash semi-join over every line of the run (140,000
        lines, 1 s for a page of 50 at 100,000 contracts), the subquery is one index probe per contract walked."""
        if self.run is not None:
            return (f'(SELECT 1 FROM billing_line bl WHERE bl.run_id = {sql(self.run.id)} AND '
                    'bl.contract_id = c.id LIMIT 1) IS NOT NULL')
        running = (f'(SELECT 1 FROM abo a WHERE a.contract_id = c.id AND {_running(sql, self.month)} LIMIT 1) '
                   'IS NOT NULL')
        return f'({running} OR c.id {sql.among(sorted(self.corrections))})' if self.corrections else running

    def _closed_key(self) -> _ClosedKey | None:
        return (self.run.id, self.run.monat, self.run.closed_at) if self.run is not None else None

    async def count(self) -> tuple[int, bool]:
        """(listed contracts, more): counted up to COUNT_CAP, as the tables do — the pager needs no more, and an
        exact count reads every running Abo once more. A closed month's, once per process."""
        if (key := self._closed_key()) is not None and key in _CLOSED_COUNTS:
            return _CLOSED_COUNTS[key]
        found = await self._count()
        if key is not None:
            _CLOSED_COUNTS[key] = found
        return found

    async def _count(self) -> tuple[int, bool]:
        sql = _Sql()
        if self.run is not None:  # the index (run_id, contract_id) alone
            listed = f'SELECT DISTINCT bl.contract_id FROM billing_line bl WHERE bl.run_id = {sql(self.run.id)}'
        else:
            listed = f'SELECT c.id FROM contract c WHERE {self.listed(sql)}'
        count = int((await sql.rows(f'SELECT COUNT(*) AS n FROM ({listed} LIMIT {COUNT_CAP + 1}) x'))[0]['n'])
        return (COUNT_CAP, True) if count > COUNT_CAP else (count, False)

    def _figures_sql(self, sql: _Sql) -> str:
        """Open month: the columns of a contract's subsidy and its running Abos (a probe each per contract)."""
        return '' if self.run is not None else (
            f', {_subsidy(sql, self.month)} AS zuschuss, (SELECT COUNT(*) FROM abo a WHERE a.contract_id = c.id AND '
            f'{_running(sql, self.month)}) AS n')

    def _open_row(self, row: dict[str, Any]) -> OverviewRow:
        totals = _figures(self.rules, int(row['zuschuss']), int(row['n']))
        if row['id'] in self.corrections:
            totals.add(self.corrections[row['id']])
        return OverviewRow(row['id'], row['vertragsnummer'], row['firma'], totals)

    async def page(self, *, limit: int, offset: int = 0) -> list[OverviewRow]:
        """`limit` listed contracts by Vertragsnummer from `offset`, each with its figures (open month: one query)."""
        sql = _Sql()
        contracts = await sql.rows(
            f'SELECT c.id, c.vertragsnummer, c.firma{self._figures_sql(sql)} FROM contract c WHERE {self.listed(sql)} '
            f'ORDER BY c.vertragsnummer LIMIT {int(limit)} OFFSET {int(offset)}')
        if self.run is None:
            return [self._open_row(row) for row in contracts]
        stored = await self.stored([row['id'] for row in contracts]) if contracts else {}
        return [OverviewRow(row['id'], row['vertragsnummer'], row['firma'], stored.get(row['id'], Totals()))
                for row in contracts]

    async def batch(self, after: str) -> tuple[list[OverviewRow], str | None]:
        """The CSV's next CSV_BATCH contracts by Vertragsnummer after `after`, every one, listed or not (one index
        range and a probe each: with the listing's EXISTS PostgreSQL scanned every Abo for each batch, 84 ms against
        12 ms at 100,000 contracts), and the ones of them the overview lists; with the last Vertragsnummer read
        (None: no more)."""
        sql = _Sql()
        contracts = await sql.rows(
            f'SELECT c.id, c.vertragsnummer, c.firma{self._figures_sql(sql)} FROM contract c '
            f'WHERE c.vertragsnummer > {sql(after)} ORDER BY c.vertragsnummer LIMIT {CSV_BATCH}')
        if not contracts:
            return [], None
        last = contracts[-1]['vertragsnummer']
        if self.run is None:
            return [self._open_row(row) for row in contracts if row['n'] or row['id'] in self.corrections], last
        stored = await self.stored([row['id'] for row in contracts])
        return [OverviewRow(row['id'], row['vertragsnummer'], row['firma'], stored[row['id']])
                for row in contracts if row['id'] in stored], last

    async def stored(self, ids: list[int]) -> dict[int, Totals]:
        """Closed month: the sums of the run's lines of a page's contracts."""
        assert self.run is not None
        sql = _Sql()
        found: dict[int, Totals] = defaultdict(Totals)
        sums = ', '.join(f'SUM(bl.{name}) AS {name}' for name in AMOUNTS)
        for row in await sql.rows(
            f'SELECT bl.contract_id, bl.art, COUNT(*) AS n, {sums} FROM billing_line bl '
            f'WHERE bl.run_id = {sql(self.run.id)} AND bl.contract_id {sql.among(ids)} '
            'GROUP BY bl.contract_id, bl.art'
        ):
            found[row['contract_id']].add(_stored(row))
        return found

    async def totals(self) -> Totals:
        """Every listed contract's sums: grouped by kind of line (closed, once per process), by subsidy amount
        (open)."""
        if (key := self._closed_key()) is not None and key in _CLOSED_TOTALS:
            return replace(_CLOSED_TOTALS[key])
        found = await self._totals()
        if key is not None:
            _CLOSED_TOTALS[key] = replace(found)
        return found

    async def _totals(self) -> Totals:
        sql = _Sql()
        overall = Totals()
        if self.run is not None:
            sums = ', '.join(f'SUM(bl.{name}) AS {name}' for name in AMOUNTS)
            for row in await sql.rows(f'SELECT bl.art, COUNT(*) AS n, {sums} FROM billing_line bl '
                                      f'WHERE bl.run_id = {sql(self.run.id)} GROUP BY bl.art'):
                overall.add(_stored(row))
            return overall
        # Each running Abo with its contract's subsidy of the month, counted per amount; the subquery of
        # `_subsidy` only for contracts with a change by then (a join instead of 70,000 index probes).
        changed = f'SELECT DISTINCT contract_id FROM subsidy_change WHERE gueltig_ab <= {sql(self.month)}'
        per_abo = (f'SELECT CASE WHEN ch.contract_id IS NULL THEN c.arbeitgeberzuschuss_cent ELSE '
                   f'{_subsidy(sql, self.month)} END AS zuschuss FROM abo a JOIN contract c ON c.id = a.contract_id '
                   f'LEFT JOIN ({changed}) ch ON ch.contract_id = c.id WHERE {_running(sql, self.month)}')
        for row in await sql.rows(f'SELECT y.zuschuss, COUNT(*) AS n FROM ({per_abo}) y GROUP BY y.zuschuss'):
            overall.add(_figures(self.rules, int(row['zuschuss']), int(row['n'])))
        for corrections in self.corrections.values():
            overall.add(corrections)
        return overall


def _stored(row: dict[str, Any]) -> Totals:
    """A group of a run's lines: persons count the lines of kind Monat."""
    return Totals(int(row['n']) if row['art'] == LineKind.MONAT else 0,
                  *(int(row[name] or 0) for name in AMOUNTS))


async def _month(actor: PortalUser, month: date) -> _Month:
    permissions.require(actor, Action.VIEW_MONTH_OVERVIEW, None)
    month = abo_dates.first_of_month(month)
    run = await BillingRun.get_or_none(monat=month)
    tariffs = await tarife.current()
    corrections = await _open_corrections(month, tariffs) if run is None else {}
    return _Month(month, run, tariffs.on(month), corrections)


async def _open_corrections(month: date, tariffs: Tariffs) -> dict[int, Totals]:
    """The open month's correction lines summed per contract: the closing's query (`_corrections_select`) grouped,
    so no Abo passes through Python (as `_Calculator.corrections` did for every Abo changed in the window)."""
    runs = await _window_runs(month)
    if not runs:
        return {}
    sql = _Sql()
    sums = ', '.join(f'SUM(x.{name}) AS {name}' for name in AMOUNTS)
    async with _figures_table(sql, [closed.monat for closed in runs], tariffs) as figures:
        found = await sql.rows(f'SELECT x.contract_id, {sums} FROM '
                               f'({_corrections_select(sql, 0, month, runs, figures)}) x GROUP BY x.contract_id')
    return {row['contract_id']: Totals(0, *(int(row[name]) for name in AMOUNTS)) for row in found}


@dataclass(frozen=True)
class OverviewPage(TablePage[Any]):
    @property
    def limit_note(self) -> str:
        if not self.more:
            return ''
        return f'Geblättert werden die ersten {format_count(self.total)} Verträge; alle stehen in der CSV-Datei.'


async def overview_page(actor: PortalUser, month: date, request: TableRequest | None = None,
                        found: _Month | None = None) -> OverviewPage:
    """One page of the month's contracts by Vertragsnummer, each with its persons and sums."""
    found = found or await _month(actor, month)
    request = (request or TableRequest(page_size=OVERVIEW_PAGE_SIZE)).normalized(('vertragsnummer',))
    total, more = await found.count()
    page = min(request.page, max(1, -(-total // request.page_size)))
    request = replace(request, page=page, search='')
    offset = (page - 1) * request.page_size
    rows = await found.page(limit=min(request.page_size, total - offset), offset=offset) if total else []
    return OverviewPage(rows, total, request, more)


async def month_overview(actor: PortalUser, month: date, request: TableRequest | None = None) -> MonthOverview:
    """A page of the month's contracts and the month's totals. Closed: from the run's lines; open: the preview."""
    found = await _month(actor, month)
    page = await overview_page(actor, month, request, found)
    return MonthOverview(found.month, found.run, page, await found.totals())


def _overview_cells(row: OverviewRow) -> list[Cell]:
    return [row.vertragsnummer, row.firma, row.totals.personen, *(euro(getattr(row.totals, name)) for name in AMOUNTS)]


async def overview_csv(actor: PortalUser, month: date, *, client: str = '') -> Download:
    """Every listed contract, read CSV_BATCH contracts at a time by Vertragsnummer and written out in a thread, then
    the totals: never every row at once, never seconds on the event loop."""
    found = await _month(actor, month)
    file = CsvFile(OVERVIEW_COLUMNS)
    after: str | None = ''
    while after is not None:
        batch, after = await found.batch(after)
        await asyncio.to_thread(file.add, map(_overview_cells, batch))  # formatting 1,000 rows: 20 ms and more
    totals = await found.totals()
    file.add([['Summe', None, totals.personen, *(euro(getattr(totals, name)) for name in AMOUNTS)]])
    await audit.record(AuditKind.BILLING_EXPORTED, actor=actor, object_type='billing_month',
                       object_id=found.month.isoformat(), details={'datei': 'monatsuebersicht'}, client=client)
    suffix = '' if found.run else '_Vorschau'
    content = await asyncio.to_thread(lambda: file.content)  # megabytes joined and encoded: off the loop too
    return Download(content, f'Monatsuebersicht_{found.month:%Y-%m}{suffix}.csv')
