"""SEPA-Lastschrift on SQLite and PostgreSQL: the IBAN check (check digits, country) with German messages, the
mandate given with a Self-Service Antrag (account holder may differ, reference, date and consent text stored; a bad
IBAN saves nothing), masking, and the closed month's pain.008 file read back and validated against sepaxml's XSD."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sepaxml
import xmlschema
from lxml import etree

from models import Antrag, Contract, Customer, Employee, PortalUser, Produktangebot, Role, SepaMandate
from services import abrechnung, antraege, kundencode, sepa
from services.errors import PermissionDenied, ServiceError, ValidationError
from services.kundencode import CodeCheck
from services.vertraege import create_contract
from tests.services.test_abrechnung import make_abo, new_contract
from tests.services.test_antraege_self_service import EMPLOYEE_PASSWORD, TODAY, VALID
from tests.support import confirm_by_mail

GOOD_IBAN = 'DE89 3704 0044 0532 0130 00'
APRIL = date(2026, 4, 1)
XSD = Path(sepaxml.__file__).parent / 'schemas' / f'{sepa.SCHEMA}.xsd'
NS = {'p': f'urn:iso:std:iso:20022:tech:xsd:{sepa.SCHEMA}'}


@pytest.fixture(autouse=True)
def set_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr('services.clock.today', lambda: TODAY)


@pytest.fixture
async def contract(company: Customer) -> Contract:
    return await create_contract(customer=company, vertragsnummer='DJ-2026-0007', produktangebot=Produktangebot.SEPA,
                                 beginn=date(2025, 1, 1), arbeitgeberzuschuss_cent=1575)


@pytest.fixture
async def check(admin: PortalUser, contract: Contract) -> CodeCheck:
    code = await kundencode.generate_code(admin, contract.id, date(2026, 12, 31))
    return await kundencode.validate(code.code)


async def apply(check: CodeCheck, iban: str = GOOD_IBAN, holder: str = 'Jonas Schäfer',
                mandate_consent: bool = True) -> Antrag:
    antrag = await antraege.submit_application(
        check, replace(VALID, iban=iban, kontoinhaber=holder), consent=True, password=EMPLOYEE_PASSWORD,
        password_confirmation=EMPLOYEE_PASSWORD, mandate_consent=mandate_consent)
    await confirm_by_mail(antrag.email)  # the Antrag reaches the company
    return antrag


@pytest.mark.parametrize(('text', 'message'), [
    ('DE88 3704 0044 0532 0130 00', 'Die IBAN ist ungültig: Die Prüfziffer stimmt nicht.'),
    ('XX89 3704 0044 0532 0130 00', 'Die IBAN beginnt nicht mit einem gültigen Ländercode'),
    ('DE89 3704 0044 0532 0130 0', 'Die IBAN hat nicht die richtige Länge'),
    ('', 'Bitte geben Sie die IBAN an.'),
])
def test_a_bad_iban_gets_a_german_message(text: str, message: str) -> None:
    iban, problem = sepa.check_iban(text)
    assert iban == ''
    assert problem.startswith(message)


def test_a_good_iban_is_kept_without_spaces_and_shown_masked_except_to_staff() -> None:
    assert sepa.check_iban(' de89 3704 0044 0532 0130 00 ') == ('DE89370400440532013000', '')
    assert sepa.masked_iban('DE89370400440532013000') == 'DE89 **** **** **** **** 00'
    staff = PortalUser(role=Role.STAFF)
    assert sepa.shown_iban(staff, 'DE89370400440532013000') == GOOD_IBAN
    assert sepa.shown_iban(PortalUser(role=Role.ADMIN), 'DE89370400440532013000') == 'DE89 **** **** **** **** 00'
    assert sepa.shown_iban(None, 'DE89370400440532013000') == 'DE89 **** **** **** **** 00'


async def test_the_antrag_stores_its_mandate(check: CodeCheck, contract: Contract) -> None:
    antrag = await apply(check)
    mandate = await SepaMandate.get(antrag_id=antrag.id)
    assert (mandate.iban, mandate.kontoinhaber, mandate.signed_on, mandate.contract_id) == (
        'DE89370400440532013000', 'Jonas Schäfer', TODAY, contract.id)  # the holder is not the ticket holder
    assert mandate.reference.startswith('DTJ-') and len(mandate.reference) == 16
    assert mandate.consent_text == sepa.mandate_text()
    assert 'Gläubiger-Identifikationsnummer DE98ZZZ09999999999' in mandate.consent_text


@pytest.mark.parametrize(('changes', 'field', 'message'), [
    ({'iban': 'DE88 3704 0044 0532 0130 00'}, 'iban', 'Die Prüfziffer stimmt nicht'),
    ({'holder': ''}, 'kontoinhaber', 'Kontoinhabers'),
    ({'mandate_consent': False}, 'mandate_consent', 'Bitte erteilen Sie das SEPA-Lastschriftmandat.'),
])
async def test_a_bad_mandate_is_refused_and_nothing_is_saved(
    check: CodeCheck, changes: dict[str, Any], field: str, message: str,
) -> None:
    with pytest.raises(ValidationError) as raised:
        await apply(check, **changes)
    assert message in raised.value.errors[field]
    assert await Antrag.all().count() == 0
    assert await SepaMandate.all().count() == 0
    assert await Employee.all().count() == 0


async def test_an_invoice_contract_asks_no_mandate(admin: PortalUser, company: Customer) -> None:
    invoiced = await new_contract(company, 'DJ-2026-0008')
    code = await kundencode.generate_code(admin, invoiced.id, date(2026, 12, 31))
    antrag = await apply(await kundencode.validate(code.code), iban='', holder='', mandate_consent=False)
    assert not await SepaMandate.filter(antrag_id=antrag.id).exists()


async def test_the_closed_months_pain008_debits_each_eigenanteil_under_its_mandate(
    check: CodeCheck, admin: PortalUser, staff: PortalUser, contract: Contract, monkeypatch: pytest.MonkeyPatch,
) -> None:
    antrag = await apply(check)
    await antraege.decide(admin, antrag.id, approve=True, reason='')
    await make_abo(contract, 'Ohnemandat', APRIL)  # e.g. from before mandates were collected
    monkeypatch.setattr('services.clock.today', lambda: date(2026, 5, 14))
    with pytest.raises(ServiceError, match='erst, wenn der Monat abgeschlossen ist'):
        await sepa.direct_debit_file(staff, APRIL)
    await abrechnung.close_month(APRIL, actor=staff)
    with pytest.raises(PermissionDenied):
        await sepa.direct_debit_file(admin, APRIL)

    file = await sepa.direct_debit_file(staff, APRIL)
    assert (file.debits, file.total_cent, file.without_mandate, file.file_name) == (
        1, 4410, 1, 'Lastschriften_2026-04.xml')
    xmlschema.XMLSchema(str(XSD)).validate(file.content.decode())
    tree = etree.fromstring(file.content)
    value = lambda path: tree.findtext(path, namespaces=NS)  # noqa: E731
    mandate = await SepaMandate.get(antrag_id=antrag.id)
    assert value('.//p:GrpHdr/p:NbOfTxs') == '1'
    assert value('.//p:GrpHdr/p:CtrlSum') == '44.10'
    assert value('.//p:CdtrSchmeId//p:Othr/p:Id') == 'DE98ZZZ09999999999'
    assert value('.//p:ReqdColltnDt') == '2026-05-19'
    transaction = './/p:DrctDbtTxInf/'
    assert value(transaction + 'p:InstdAmt') == '44.10'
    assert value(transaction + 'p:DrctDbtTx/p:MndtRltdInf/p:MndtId') == mandate.reference
    assert value(transaction + 'p:DrctDbtTx/p:MndtRltdInf/p:DtOfSgntr') == TODAY.isoformat()
    assert value(transaction + 'p:Dbtr/p:Nm') == 'Jonas Schafer'  # SEPA's character set
    assert value(transaction + 'p:DbtrAcct/p:Id/p:IBAN') == 'DE89370400440532013000'
    assert value(transaction + 'p:RmtInf/p:Ustrd') == 'D-Ticket Job April 2026, Vertrag DJ-2026-0007'


@pytest.mark.parametrize(('name', 'value', 'message'), [
    ('SEPA_CREDITOR_ID', 'DE97ZZZ09999999999', 'Prüfziffer der Gläubiger-Identifikationsnummer'),
    ('INVOICE_ISSUER_IBAN', 'DE88370400440532013000', 'keine gültige IBAN'),
])
def test_a_wrong_creditor_id_or_issuer_iban_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str,
) -> None:
    from services.settings import InvalidSettings, load_settings

    monkeypatch.setenv(name, value)
    with pytest.raises(InvalidSettings, match=message):
        load_settings()


async def test_the_pain008_file_is_built_off_the_event_loop(
    check: CodeCheck, admin: PortalUser, staff: PortalUser, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Building and schema-checking the XML takes seconds for tens of thousands of debits (bench/sepa.py): on the
    event loop that would stall every user of the process; it runs in a thread."""
    antrag = await apply(check)
    await antraege.decide(admin, antrag.id, approve=True, reason='')
    monkeypatch.setattr('services.clock.today', lambda: date(2026, 5, 14))
    await abrechnung.close_month(APRIL, actor=staff)
    built_in: list[int] = []
    original = sepa.pain008

    def recorded(*args: Any) -> bytes:
        built_in.append(threading.get_ident())
        return original(*args)

    monkeypatch.setattr(sepa, 'pain008', recorded)
    assert (await sepa.direct_debit_file(staff, APRIL)).debits == 1
    assert built_in and built_in[0] != threading.get_ident()
