"""Benchmark of the month's payment files, no database needed:

    pain.008   services.sepa.pain008 for 5,000 direct debits, including sepaxml's XSD check of the whole file
               (aim: under 5 s), and the same file checked once more as the tests do (xmlschema)
    invoice    services.rechnung_pdf.render: one invoice PDF with its Factur-X XML (schema-checked) for a
               contract of 1,000 people, made 20 times (median)

Run from the project directory:  .venv/bin/python bench/sepa.py [--debits 5000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, datetime
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
os.environ.setdefault('DEMO_DATA', '0')
os.environ.setdefault('STORAGE_SECRET', 'bench-sepa-files')

import sepaxml  # noqa: E402
import xmlschema  # noqa: E402
from schwifty import IBAN  # noqa: E402

from models import Invoice, LineKind, SepaMandate  # noqa: E402
from services import rechnung_pdf, rechnungen, sepa  # noqa: E402
from services.abrechnung import Line  # noqa: E402

MONTH = date(2026, 5, 1)


def debits(count: int) -> list[sepa._Debit]:
    return [sepa._Debit(SepaMandate(
        reference=sepa.new_reference(), antrag_id=index, contract_id=1, kontoinhaber=f'Müller-Lüdenscheidt {index}',
        iban=IBAN.generate('DE', bank_code='37040044', account_code=str(10_000_000 + index)).compact,
        signed_on=date(2026, 3, 5), consent_text='', created_at=datetime(2026, 3, 5),
    ), 4410, f'DJ-2026-{index % 1000:04d}') for index in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--debits', type=int, default=5000)
    args = parser.parse_args()

    items = debits(args.debits)
    started = time.perf_counter()
    content = sepa.pain008(items, MONTH, date(2026, 6, 19))
    made = time.perf_counter() - started
    schema = xmlschema.XMLSchema(str(Path(sepaxml.__file__).parent / 'schemas' / f'{sepa.SCHEMA}.xsd'))
    started = time.perf_counter()
    schema.validate(content.decode())
    checked = time.perf_counter() - started
    print(f'pain.008  {args.debits:>6,} debits  {made:6.2f} s (made and XSD-checked)  '
          f'{checked:5.2f} s (checked again)  {len(content) / 1e6:5.1f} MB')

    lines = [Line(abo_id=index, contract_id=1, leistungsmonat=MONTH, art=LineKind.MONAT, personalnummer='',
                  vorname='Lena', nachname='Schäfer', ticketart='Chipkarte', startmonat=MONTH, endmonat=None,
                  preis_cent=6300, zuschuss_cent=2000, rabatt_cent=315, eigenanteil_cent=3985)
             for index in range(1000)]
    amounts = rechnungen.invoice_amounts(lines, 7)
    invoice = Invoice(number='RE-2026-000001', run_id=1, contract_id=1, issued_on=date(2026, 6, 14),
                      issuer=rechnungen.issuer_snapshot(), recipient={
                          'firma': 'Fahrradmanufaktur Kassel GmbH', 'strasse': 'Wilhelmshöher Allee 273',
                          'plz': '34131', 'ort': 'Kassel', 'vertragsnummer': 'DJ-2025-0001', 'kundennummer': '100234'},
                      vat_percent=7, net_cent=amounts.net_cent, vat_cent=amounts.vat_cent,
                      gross_cent=amounts.gross_cent)
    times = []
    for _ in range(20):
        started = time.perf_counter()
        pdf = rechnung_pdf.render(invoice, amounts, MONTH, 14)
        times.append(time.perf_counter() - started)
    print(f'invoice   1,000 people  {statistics.median(times) * 1000:6.1f} ms median per PDF with XML  '
          f'({len(pdf) / 1000:.0f} KB)')


if __name__ == '__main__':
    main()
