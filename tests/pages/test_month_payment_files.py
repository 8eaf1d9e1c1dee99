"""The closed month's payment files from the Abrechnung page (simulated user, demo data): the company's clerk
downloads the invoice PDF of a "(Rechnung)" contract and finds its number and total; staff get the month's pain.008
file, checked against its XSD."""

from __future__ import annotations

import io

import pytest
from lxml import etree
from nicegui.testing import User
from pypdf import PdfReader

from models import Abo, Antrag, BillingLine, Contract, Invoice, Produktangebot, Role, SepaMandate
from services import abrechnung, clock, sepa
from tests.pages.conftest import log_in
from tests.pages.test_abrechnung_pages import MAY, add_abo, pinned_today  # noqa: F401 - autouse fixture
from tests.pages.test_antraege_page import download
from tests.services.test_rechnungen import embedded_xml

pytestmark = pytest.mark.both_databases  # the month's files, also on PostgreSQL


async def close_may() -> tuple[Contract, Invoice]:
    """May closed with one Abo of the invoiced demo contract and one, with a mandate, of a SEPA contract."""
    invoiced = await Contract.get(vertragsnummer='DJ-2024-0117')
    await add_abo(invoiced, 'Becker', 'P-0815')
    debited = await Contract.get(vertragsnummer='DJ-2024-0233')
    await Contract.filter(id=debited.id).update(produktangebot=Produktangebot.SEPA)
    await add_abo(debited, 'Fremd', 'X-1')
    abo = await Abo.get(nachname='Fremd')
    antrag = await Antrag.create(
        reference='A-2026-SEPA01', contract=debited, anrede='Frau', vorname=abo.vorname, nachname=abo.nachname,
        geburtsdatum=abo.geburtsdatum, email='mia.fremd@example.org', strasse=abo.strasse, plz=abo.plz, ort=abo.ort,
        startmonat=abo.startmonat, ticketart=abo.ticketart, person_key=abo.person_key, created_at=clock.now())
    await Abo.filter(id=abo.id).update(antrag_id=antrag.id)
    checked, _ = sepa.check_mandate('DE89 3704 0044 0532 0130 00', 'Mia Fremd', True)
    assert checked is not None
    await sepa.mandate_for(antrag.id, debited.id, checked, sepa.mandate_text()).save()
    await abrechnung.close_month(MAY)
    (invoice,) = await Invoice.all()
    return invoiced, invoice


async def test_the_clerk_downloads_the_invoice(user: User) -> None:
    invoiced, invoice = await close_may()
    await log_in(user, Role.CLERK)
    await user.open(f'/abrechnung?vertrag={invoiced.id}&monat=2026-05-01')
    await user.should_see(content='abgeschlossen', marker='status')
    pdf = await download(user, 'Rechnung (PDF, ZUGFeRD)')
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert f'Rechnung {invoice.number}' in text and '59,85 €' in text
    assert invoice.number.encode() in embedded_xml(pdf)
    await user.should_not_see('Lastschriften (pain.008)')


async def test_staff_download_the_direct_debits(user: User) -> None:
    await close_may()
    await log_in(user, Role.STAFF)
    await user.open('/abrechnung?monat=2026-05-01')
    xml = await download(user, 'Lastschriften (pain.008)')
    sepa._schema().assertValid(etree.fromstring(xml))
    mandate = await SepaMandate.get()
    line = await BillingLine.get(contract_id=mandate.contract_id)
    assert mandate.reference.encode() in xml
    assert f'<InstdAmt Ccy="EUR">{line.eigenanteil_cent / 100:.2f}</InstdAmt>'.encode() in xml
