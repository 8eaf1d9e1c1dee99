"""Invoices of "(Rechnung)" contracts: what the transit company bills the employer for a closed month, and the
gap-free numbers.

The employer pays its employees' tickets: per person the price minus the transit company's discount (gross, VAT
included, since the Deutschlandticket is sold at its gross price). The invoice states for information how that sum
splits into the employer's subsidy and the employees' shares (Eigenanteile), which the employer deducts from
payroll. Public transport carries reduced VAT (INVOICE_VAT_PERCENT, default 7 %): the gross sums are fixed, so the
net amount of each invoice line is derived from its gross amount, the VAT from the sum of the net amounts
(EN 16931: VAT = basis × rate), and a cent that the two roundings leave is stated as the rounding amount (BT-114),
so the amount due is exactly the sum of the people's tickets.

Invoices are issued in the transaction that closes the month (`issue_for_run`): numbers come from one counter row
per series, locked for the transaction, so they are consecutive, without gaps or duplicates, however many processes
close or issue at once; a rolled-back close takes its numbers back with it.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from models import BillingRun, Invoice, InvoiceCounter, LineKind, Produktangebot
from services import abo_dates, clock
from services.settings import get_settings

if TYPE_CHECKING:
    from services.abrechnung import Line


@dataclass(frozen=True)
class InvoiceLine:
    """One position: the people of one kind and month at one price. A credit (a correction that lowers an earlier
    month) has a negative quantity and a positive unit price, as EN 16931 wants prices never below zero."""

    text: str
    quantity: int
    unit_gross_cent: int
    gross_cent: int
    net_cent: int


@dataclass(frozen=True)
class Amounts:
    lines: list[InvoiceLine]
    vat_percent: int
    net_cent: int
    vat_cent: int
    rounding_cent: int
    gross_cent: int
    preis_cent: int
    rabatt_cent: int
    zuschuss_cent: int
    eigenanteil_cent: int


def _cents(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def net_of(gross_cent: int, vat_percent: int) -> int:
    return _cents(Decimal(gross_cent) * 100 / (100 + vat_percent))


Group = tuple[date, LineKind, int]  # (Leistungsmonat, kind, price minus discount per person)


def amounts_of_groups(groups: dict[Group, int], vat_percent: int) -> tuple[list[InvoiceLine], int, int, int, int]:
    """The positions and (net, VAT, rounding, gross) of a contract's month from its lines counted per `Group` (lines
    whose price minus discount is 0 left out): `invoice_amounts` for a file, the closing's grouped query for the
    invoices of a whole run."""
    positions: list[InvoiceLine] = []
    for (month, kind, unit), count in sorted(groups.items(), key=lambda item: (item[0][0], item[0][1] != LineKind.MONAT,
                                                                                -item[0][2])):
        label = abo_dates.month_label(month)
        text = f'D-Ticket Job {label}' if kind == LineKind.MONAT else f'Korrektur D-Ticket Job {label}'
        gross = unit * count
        quantity, unit_price = (count, unit) if unit > 0 else (-count, -unit)
        positions.append(InvoiceLine(text, quantity, unit_price, gross, net_of(gross, vat_percent)))
    net = sum(position.net_cent for position in positions)
    gross = sum(position.gross_cent for position in positions)
    vat = _cents(Decimal(net) * vat_percent / 100)
    return positions, net, vat, gross - net - vat, gross


def invoice_amounts(lines: Sequence[Line], vat_percent: int) -> Amounts:
    """The positions and sums of a contract's month from its lines (stored lines of a run: always the same)."""
    groups: dict[Group, int] = defaultdict(int)
    for line in lines:
        unit = line.preis_cent - line.rabatt_cent
        if unit:
            groups[(line.leistungsmonat, line.art, unit)] += 1
    positions, net, vat, rounding, gross = amounts_of_groups(groups, vat_percent)
    return Amounts(
        lines=positions, vat_percent=vat_percent, net_cent=net, vat_cent=vat, rounding_cent=rounding,
        gross_cent=gross, preis_cent=sum(line.preis_cent for line in lines),
        rabatt_cent=sum(line.rabatt_cent for line in lines), zuschuss_cent=sum(line.zuschuss_cent for line in lines),
        eigenanteil_cent=sum(line.eigenanteil_cent for line in lines),
    )


def issuer_snapshot() -> dict[str, str]:
    """The transit company's sender data as the settings say today; stored with each invoice."""
    settings = get_settings()
    return {
        'name': settings.invoice_issuer_name, 'strasse': settings.invoice_issuer_street,
        'plz': settings.invoice_issuer_plz, 'ort': settings.invoice_issuer_city,
        'ust_id': settings.invoice_issuer_vat_id, 'iban': settings.invoice_issuer_iban,
        'bic': settings.invoice_issuer_bic, 'email': settings.invoice_issuer_email,
    }


async def _locked_counter() -> InvoiceCounter:
    """The counter row of the issuer's series, locked until the transaction ends (PostgreSQL: FOR UPDATE; SQLite:
    one writer)."""
    prefix = get_settings().invoice_number_prefix
    await InvoiceCounter.bulk_create([InvoiceCounter(series=prefix)], ignore_conflicts=True)
    return await InvoiceCounter.filter(series=prefix).select_for_update().get()


async def _reserve(count: int) -> tuple[str, int]:
    """The series' prefix and the first of `count` consecutive numbers (see `reserve_numbers`)."""
    counter = await _locked_counter()
    first = counter.last_number + 1
    counter.last_number += count
    await counter.save(update_fields=['last_number'])
    return counter.series, first


def _number(prefix: str, year: int, number: int) -> str:
    return f'{prefix}-{year}-{number:06d}'


async def reserve_numbers(count: int, year: int) -> list[str]:
    """`count` consecutive numbers of the issuer's series. Call inside a transaction: the counter row stays locked
    (PostgreSQL: FOR UPDATE; SQLite: one writer) until it commits, and a rollback returns the numbers."""
    prefix, first = await _reserve(count)
    return [_number(prefix, year, number) for number in range(first, first + count)]


# Issuing reads the run's stored lines counted per contract and `Group` in the database, INVOICE_BATCH contracts at a
# time by Vertragsnummer, and computes the amounts and the rows to insert in a worker thread: at 10,000 contracts
# (7,000 invoices) building 7,000 Invoice objects and their 14,000 lines on the event loop took 0.9 s of the closing's
# 5.9 s and held the loop 0.4 s in one step (bench/abrechnung.py --scale 10000, PostgreSQL). On PostgreSQL a batch is
# one INSERT … SELECT FROM unnest(…) (executemany took 94 ms a batch of 1,000 at 100,000 contracts, load 11).
INVOICE_BATCH = 1000
INVOICE_COLUMNS = ('number', 'run_id', 'contract_id', 'issued_on', 'issuer', 'recipient', 'vat_percent', 'net_cent',
                   'vat_cent', 'rounding_cent', 'gross_cent')
POSTGRES_TYPES = ('text', 'int', 'int', 'date', 'jsonb', 'jsonb', 'int', 'int', 'int', 'int', 'int')
RECIPIENT_COLUMNS = ('vertragsnummer', 'firma', 'strasse', 'plz', 'ort', 'kundennummer')


def _billable(run_id: str) -> str:
    """A line of the run `run_id` (a parameter) that an invoice bills: price minus discount not 0."""
    return f'bl.run_id = {run_id} AND bl.preis_cent <> bl.rabatt_cent'


def _invoice_rows(contracts: list[dict[str, Any]], groups: list[dict[str, Any]], *, run_id: int, prefix: str,
                  first: int, today: date, issuer: dict[str, str], vat_percent: int) -> list[list[Any]]:
    """The rows to insert for one batch, in INVOICE_COLUMNS (pure arithmetic and encoding: run in a worker
    thread)."""
    counted: dict[int, dict[Group, int]] = defaultdict(dict)
    for row in groups:
        month = row['leistungsmonat']
        month = date.fromisoformat(month) if isinstance(month, str) else month
        counted[row['contract_id']][(month, LineKind(row['art']), int(row['unit']))] = int(row['n'])
    fields = Invoice._meta.fields_map
    issuer_json = fields['issuer'].to_db_value(issuer, Invoice)
    rows = []
    known: dict[tuple[tuple[Group, int], ...], tuple[int, int, int, int]] = {}  # contracts alike: computed once
    for offset, contract in enumerate(contracts):
        groups_of = counted[contract['id']]
        key = tuple(sorted(groups_of.items()))
        if key not in known:
            known[key] = amounts_of_groups(groups_of, vat_percent)[1:]
        net, vat, rounding, gross = known[key]
        recipient = {name: contract[name] for name in RECIPIENT_COLUMNS}
        rows.append([_number(prefix, today.year, first + offset), run_id, contract['id'], today, issuer_json,
                     fields['recipient'].to_db_value(recipient, Invoice), vat_percent, net, vat, rounding, gross])
    return rows


async def issue_for_run(run: BillingRun) -> int:
    """Inside the closing transaction, after the run's lines are stored: one invoice per "(Rechnung)" contract with
    something to bill in the run, numbered in the order of the Vertragsnummer. Returns how many were issued. The
    counter row stays locked from the first number to the commit, so the numbers are consecutive however many
    batches it takes."""
    client = Invoice._meta.db
    postgres = client.capabilities.dialect == 'postgres'
    mark = '${}' if postgres else '?{}'
    rechnung = f"'{Produktangebot.RECHNUNG.value}'"  # our constant, not anybody's input
    contracts_sql = (
        'SELECT c.id, c.vertragsnummer, c.firma, c.strasse, c.plz, c.ort, cu.kundennummer FROM contract c '
        f'JOIN customer cu ON cu.id = c.customer_id WHERE c.produktangebot = {rechnung} AND '
        f'c.vertragsnummer > {mark.format(2)} AND (SELECT 1 FROM billing_line bl WHERE {_billable(mark.format(1))} '
        f'AND bl.contract_id = c.id LIMIT 1) IS NOT NULL ORDER BY c.vertragsnummer LIMIT {INVOICE_BATCH}')
    among = '= ANY($2::int[])' if postgres else 'IN (SELECT value FROM json_each(?2))'
    groups_sql = (
        'SELECT bl.contract_id, bl.leistungsmonat, bl.art, bl.preis_cent - bl.rabatt_cent AS unit, COUNT(*) AS n '
        f'FROM billing_line bl WHERE {_billable(mark.format(1))} AND bl.contract_id {among} '
        'GROUP BY bl.contract_id, bl.leistungsmonat, bl.art, bl.preis_cent - bl.rabatt_cent')
    if postgres:
        arrays = ', '.join(f'${n}::{kind}[]' for n, kind in enumerate(POSTGRES_TYPES, 1))
        insert = f'INSERT INTO invoice ({", ".join(INVOICE_COLUMNS)}) SELECT * FROM unnest({arrays})'
    else:
        insert = (f'INSERT INTO invoice ({", ".join(INVOICE_COLUMNS)}) '
                  f'VALUES ({", ".join(mark.format(n) for n in range(1, len(INVOICE_COLUMNS) + 1))})')
    counter: InvoiceCounter | None = None
    today, issuer, vat_percent = clock.today(), issuer_snapshot(), get_settings().invoice_vat_percent
    issued, after = 0, ''
    while contracts := await client.execute_query_dict(contracts_sql, [run.id, after]):
        counter = counter or await _locked_counter()
        ids = [row['id'] for row in contracts]
        groups = await client.execute_query_dict(groups_sql, [run.id, ids if postgres else json.dumps(ids)])
        rows = await asyncio.to_thread(_invoice_rows, contracts, groups, run_id=run.id, prefix=counter.series,
                                       first=counter.last_number + 1 + issued, today=today, issuer=issuer,
                                       vat_percent=vat_percent)
        if postgres:
            await client.execute_query(insert, [list(column) for column in zip(*rows, strict=True)])
        else:
            await client.execute_many(insert, rows)
        issued += len(rows)
        after = contracts[-1]['vertragsnummer']
    if counter is not None:
        counter.last_number += issued
        await counter.save(update_fields=['last_number'])
    return issued
