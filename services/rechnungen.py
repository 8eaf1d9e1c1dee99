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

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from models import BillingRun, Contract, Invoice, InvoiceCounter, LineKind, Produktangebot
from services import abo_dates, clock
from services.settings import get_settings

if TYPE_CHECKING:
    from services.abrechnung import Line

ID_CHUNK = 5000


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


def invoice_amounts(lines: Sequence[Line], vat_percent: int) -> Amounts:
    """The positions and sums of a contract's month from its lines (stored lines of a run: always the same)."""
    groups: dict[tuple[date, LineKind, int], int] = defaultdict(int)
    for line in lines:
        unit = line.preis_cent - line.rabatt_cent
        if unit:
            groups[(line.leistungsmonat, line.art, unit)] += 1
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
    return Amounts(
        lines=positions, vat_percent=vat_percent, net_cent=net, vat_cent=vat, rounding_cent=gross - net - vat,
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


async def reserve_numbers(count: int, year: int) -> list[str]:
    """`count` consecutive numbers of the issuer's series. Call inside a transaction: the counter row stays locked
    (PostgreSQL: FOR UPDATE; SQLite: one writer) until it commits, and a rollback returns the numbers."""
    prefix = get_settings().invoice_number_prefix
    await InvoiceCounter.bulk_create([InvoiceCounter(series=prefix)], ignore_conflicts=True)
    counter = await InvoiceCounter.filter(series=prefix).select_for_update().get()
    first = counter.last_number + 1
    counter.last_number += count
    await counter.save(update_fields=['last_number'])
    return [f'{prefix}-{year}-{number:06d}' for number in range(first, first + count)]


async def issue_for_run(run: BillingRun, lines: Sequence[Line]) -> int:
    """Inside the closing transaction: one invoice per "(Rechnung)" contract with something to bill in the run,
    numbered in the order of the Vertragsnummer. Returns how many were issued."""
    per_contract: dict[int, list[Line]] = defaultdict(list)
    for line in lines:
        per_contract[line.contract_id].append(line)
    ids = sorted(per_contract)
    recipients: list[dict[str, object]] = []
    for start in range(0, len(ids), ID_CHUNK):
        recipients += await Contract.filter(
            id__in=ids[start:start + ID_CHUNK], produktangebot=Produktangebot.RECHNUNG,
        ).values('id', 'vertragsnummer', 'firma', 'strasse', 'plz', 'ort', kundennummer='customer__kundennummer')
    vat_percent = get_settings().invoice_vat_percent
    billed = []
    for recipient in sorted(recipients, key=lambda row: str(row['vertragsnummer'])):
        amounts = invoice_amounts(per_contract[recipient['id']], vat_percent)  # type: ignore[index]
        if amounts.lines:
            billed.append((recipient, amounts))
    if not billed:
        return 0
    today = clock.today()
    numbers = await reserve_numbers(len(billed), today.year)
    issuer = issuer_snapshot()
    await Invoice.bulk_create([
        Invoice(number=number, run_id=run.id, contract_id=recipient.pop('id'), issued_on=today, issuer=issuer,
                recipient=recipient, vat_percent=vat_percent, net_cent=amounts.net_cent, vat_cent=amounts.vat_cent,
                rounding_cent=amounts.rounding_cent, gross_cent=amounts.gross_cent)
        for number, (recipient, amounts) in zip(numbers, billed, strict=True)
    ], batch_size=1000)
    return len(billed)
