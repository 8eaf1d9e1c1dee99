"""Invoices of "(Rechnung)" contracts on SQLite and PostgreSQL: issued when the month closes, gap-free numbers (also
when two issue at once), net/VAT/gross in cents, the PDF read back (number and totals in its text), the embedded
Factur-X XML extracted and validated against the EN 16931 schema drafthorse ships, immutability, tenant scoping."""

from __future__ import annotations

import asyncio
import io
from datetime import date
from pathlib import Path
from typing import Any

import drafthorse
import pytest
from lxml import etree
from pypdf import PdfReader
from pypdf.generic import DictionaryObject, StreamObject
from tortoise.transactions import in_transaction

from models import Contract, Customer, Invoice, InvoiceCounter, LineKind, PortalUser, Produktangebot, Role
from services import abrechnung, rechnung_pdf, rechnungen
from services.abrechnung import Line
from services.errors import NotFound, ServiceError
from services.vertraege import create_contract
from tests.conftest import make_user
from tests.services.test_abrechnung import MAY, make_abo, new_contract

AFTER_CUTOFF = date(2026, 6, 14)
SCHEMA = Path(drafthorse.__file__).parent / 'schema' / 'Factur-X_1.0.07_EN16931.xsd'
CII = {'rsm': 'urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100',
       'ram': 'urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100'}


@pytest.fixture(autouse=True)
def today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr('services.clock.today', lambda: AFTER_CUTOFF)


@pytest.fixture
async def contract(company: Customer) -> Contract:
    return await new_contract(company, 'DJ-2025-0001')


async def sepa_contract(customer: Customer) -> Contract:
    return await create_contract(customer=customer, vertragsnummer='DJ-2025-0009',
                                 produktangebot=Produktangebot.SEPA, beginn=date(2025, 1, 1),
                                 arbeitgeberzuschuss_cent=2000)


def line(preis: int = 6300, rabatt: int = 315, zuschuss: int = 2000, art: LineKind = LineKind.MONAT,
         month: date = MAY) -> Line:
    return Line(abo_id=1, contract_id=1, leistungsmonat=month, art=art, personalnummer='', vorname='Lena',
                nachname='Schäfer', ticketart='Chipkarte', startmonat=MAY, endmonat=None, preis_cent=preis,
                zuschuss_cent=zuschuss, rabatt_cent=rabatt, eigenanteil_cent=preis - rabatt - zuschuss)


# --- amounts (pure) ---------------------------------------------------------------------------------------------------


def test_the_employer_pays_price_minus_discount_with_7_percent_vat_included() -> None:
    amounts = rechnungen.invoice_amounts([line()] * 3, 7)
    assert amounts.gross_cent == 3 * 5985
    assert amounts.net_cent == 16780  # 17955 / 1.07 = 16780.37
    assert amounts.vat_cent == 1175  # 16780 × 7 % = 1174.6
    assert amounts.net_cent + amounts.vat_cent + amounts.rounding_cent == amounts.gross_cent
    assert (amounts.zuschuss_cent, amounts.eigenanteil_cent) == (6000, 11955)
    assert [(p.text, p.quantity, p.unit_gross_cent) for p in amounts.lines] == [('D-Ticket Job Mai 2026', 3, 5985)]


@pytest.mark.parametrize('count', [1, 2, 7, 13, 100])
def test_net_vat_and_rounding_always_add_up_to_the_tickets(count: int) -> None:
    amounts = rechnungen.invoice_amounts([line()] * count + [line(preis=5800, rabatt=290)], 7)
    assert amounts.net_cent + amounts.vat_cent + amounts.rounding_cent == count * 5985 + 5510
    assert abs(amounts.rounding_cent) <= 1
    assert amounts.vat_cent == round(amounts.net_cent * 7 / 100)


def test_a_credit_has_a_negative_quantity_and_a_positive_price() -> None:
    amounts = rechnungen.invoice_amounts([line(), line(preis=-6300, rabatt=-315, zuschuss=-2000,
                                                     art=LineKind.KORREKTUR, month=date(2026, 4, 1))], 7)
    assert [(p.text, p.quantity, p.unit_gross_cent, p.gross_cent) for p in amounts.lines] == [
        ('Korrektur D-Ticket Job April 2026', -1, 5985, -5985), ('D-Ticket Job Mai 2026', 1, 5985, 5985)]
    assert amounts.gross_cent == 0


# --- issuing ----------------------------------------------------------------------------------------------------------


async def test_closing_issues_one_invoice_per_rechnung_contract_with_consecutive_numbers(
    staff: PortalUser, company: Customer, other_company: Customer, contract: Contract,
) -> None:
    second = await new_contract(other_company, 'DJ-2025-0002')
    sepa = await sepa_contract(company)
    await new_contract(company, 'DJ-2025-0003')  # no Abo in May: nothing to bill
    for target in (contract, contract, second, sepa):
        await make_abo(target, 'Schäfer', date(2026, 4, 1))
    await abrechnung.close_month(MAY, actor=staff)
    rows = await Invoice.all().order_by('number').values_list('number', 'contract_id', 'gross_cent', 'issued_on')
    assert rows == [('RE-2026-000001', contract.id, 2 * 5985, AFTER_CUTOFF),
                    ('RE-2026-000002', second.id, 5985, AFTER_CUTOFF)]
    await abrechnung.close_month(MAY, actor=staff)  # closed already: no new invoice, no number used
    assert await Invoice.all().count() == 2
    assert (await InvoiceCounter.get(series='RE')).last_number == 2


async def test_two_issuing_at_once_get_consecutive_numbers_without_gap_or_duplicate(
    db: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each reads the counter and waits before writing it: without the row lock both would read 0."""
    save = InvoiceCounter.save

    async def slow_save(self: InvoiceCounter, *args: Any, **kwargs: Any) -> None:
        await asyncio.sleep(0.05)
        await save(self, *args, **kwargs)

    monkeypatch.setattr(InvoiceCounter, 'save', slow_save)

    async def issue(count: int) -> list[str]:
        async with in_transaction():
            return await rechnungen.reserve_numbers(count, 2026)

    first, second = await asyncio.gather(issue(3), issue(2))
    numbers = sorted(first + second)
    assert numbers == [f'RE-2026-{n:06d}' for n in range(1, 6)]
    for batch in (first, second):  # each transaction's numbers are a block of their own
        start = int(batch[0][-6:])
        assert [int(number[-6:]) for number in batch] == list(range(start, start + len(batch)))


async def test_a_rolled_back_issue_gives_its_numbers_back(db: str) -> None:
    async def issue_and_fail() -> None:
        async with in_transaction():
            await rechnungen.reserve_numbers(4, 2026)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        await issue_and_fail()
    async with in_transaction():
        assert await rechnungen.reserve_numbers(1, 2026) == ['RE-2026-000001']


# --- the file ---------------------------------------------------------------------------------------------------------


def embedded_xml(pdf: bytes) -> bytes:
    attachments = PdfReader(io.BytesIO(pdf)).attachments
    assert list(attachments) == ['factur-x.xml']
    return attachments['factur-x.xml'][0]


async def test_the_pdf_shows_number_and_totals_and_carries_the_valid_en16931_xml(
    staff: PortalUser, admin: PortalUser, contract: Contract,
) -> None:
    for name in ('Schäfer', 'Öztürk', 'Weiß'):
        await make_abo(contract, name, date(2026, 4, 1))
    await abrechnung.close_month(MAY, actor=staff)
    file = await rechnung_pdf.invoice_file(admin, contract.id, MAY)
    assert file.file_name == 'Rechnung_RE-2026-000001_DJ-2025-0001.pdf'
    reader = PdfReader(io.BytesIO(file.content))
    text = ' '.join(page.extract_text() for page in reader.pages)
    for expected in ('Rechnung RE-2026-000001', 'Fahrradmanufaktur Kassel GmbH', 'Verkehrsbetrieb Demo GmbH',
                     'USt-IdNr. DE123456789', '14.06.2026', '01.05.2026 – 31.05.2026', 'D-Ticket Job Mai 2026',
                     '59,85 €', 'Nettobetrag', '167,80 €', 'Umsatzsteuer 7 %', '11,75 €', 'Rechnungsbetrag',
                     '179,55 €', '60,00 €', '119,55 €', 'DE02120300000000202051'):
        assert expected in text, expected
    xml = embedded_xml(file.content)
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    tree = etree.fromstring(xml)
    schema.assertValid(tree)
    value = lambda path: tree.findtext(path, namespaces=CII)  # noqa: E731
    assert value('rsm:ExchangedDocument/ram:ID') == 'RE-2026-000001'
    assert value('.//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID') == 'urn:cen.eu:en16931:2017'
    summation = './/ram:SpecifiedTradeSettlementHeaderMonetarySummation/'
    assert value(summation + 'ram:TaxBasisTotalAmount') == '167.80'
    assert value(summation + 'ram:TaxTotalAmount') == '11.75'
    assert value(summation + 'ram:DuePayableAmount') == '179.55'
    assert value('.//ram:BuyerReference') == 'DJ-2025-0001'
    root = reader.trailer['/Root']
    assert isinstance(root, DictionaryObject)
    stream = root['/Metadata'].get_object()
    assert isinstance(stream, StreamObject)
    metadata = stream.get_data()
    assert b'<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>' in metadata


async def test_an_issued_invoice_never_changes(
    staff: PortalUser, admin: PortalUser, contract: Contract, monkeypatch: pytest.MonkeyPatch,
) -> None:
    await make_abo(contract, 'Schäfer', date(2026, 4, 1))
    await abrechnung.close_month(MAY, actor=staff)
    first = await rechnung_pdf.invoice_file(admin, contract.id, MAY)
    # The issuer moves and the contract's address changes: the issued invoice stays as it was.
    monkeypatch.setenv('INVOICE_ISSUER_NAME', 'Neuer Name Verkehr AG')
    await Contract.filter(id=contract.id).update(firma='Umbenannt GmbH')
    again = await rechnung_pdf.invoice_file(staff, contract.id, MAY)
    assert again.content == first.content
    # Even when the stored file was lost, it is made again from the stored number, date, parties and lines.
    await Invoice.filter(contract_id=contract.id).update(pdf=None)
    remade = await rechnung_pdf.invoice_file(staff, contract.id, MAY)
    text = PdfReader(io.BytesIO(remade.content)).pages[0].extract_text()
    assert 'Verkehrsbetrieb Demo GmbH' in text and 'Fahrradmanufaktur Kassel GmbH' in text
    assert 'Neuer Name' not in text and 'Umbenannt' not in text
    assert embedded_xml(remade.content) == embedded_xml(first.content)


async def test_no_invoice_for_an_open_month_a_sepa_contract_or_another_company(
    staff: PortalUser, admin: PortalUser, company: Customer, other_company: Customer, contract: Contract,
) -> None:
    sepa = await sepa_contract(company)
    foreign = await new_contract(other_company, 'DJ-2025-0002')
    for target in (contract, sepa, foreign):
        await make_abo(target, 'Schäfer', date(2026, 4, 1))
    with pytest.raises(ServiceError, match='erst, wenn der Monat abgeschlossen ist'):
        await rechnung_pdf.invoice_file(admin, contract.id, MAY)
    await abrechnung.close_month(MAY, actor=staff)
    with pytest.raises(ServiceError, match=rechnung_pdf.NO_INVOICE):
        await rechnung_pdf.invoice_file(admin, sepa.id, MAY)
    with pytest.raises(NotFound):
        await rechnung_pdf.invoice_file(admin, foreign.id, MAY)
    reader = await make_user('lesen@fahrradmanufaktur-kassel.de', Role.READONLY, company)
    with pytest.raises(ServiceError):
        await rechnung_pdf.invoice_file(reader, contract.id, MAY)
