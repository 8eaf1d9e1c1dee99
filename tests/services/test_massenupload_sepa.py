"""Massenupload under a "(SEPA-Lastschrift)" contract: IBAN and Kontoinhaber per row (issue 14), checked like the
Self-Service form, required there and refused under an invoice contract; the mandate is stored with each imported
Antrag and undone with it."""

from __future__ import annotations

from datetime import date

import pytest

from models import Antrag, Contract, Customer, PortalUser, Produktangebot, SepaMandate
from services import massenupload
from services.massenupload import SEPA_COLUMNS, TEMPLATE_COLUMNS, workflow
from tests.conftest import flat
from tests.services.test_massenupload import (
    checked_preview,
    csv_file,
    faults_of,
    new_contract,
    people,
    pinned_today,  # noqa: F401  (autouse: the portal's today)
)

COLUMNS = (*TEMPLATE_COLUMNS, *SEPA_COLUMNS)
GOOD_IBAN = 'DE89 3704 0044 0532 0130 00'
WRONG_CHECK_DIGIT = 'DE88 3704 0044 0532 0130 00'


@pytest.fixture
async def sepa_contract(company: Customer) -> Contract:
    return await new_contract(company, 'V-2026-0002', produktangebot=Produktangebot.SEPA)


@pytest.fixture
async def invoice_contract(company: Customer) -> Contract:
    return await new_contract(company)


def with_accounts(count: int, **changes: str) -> list[dict[str, object]]:
    rows = people(count)
    for index, row in enumerate(rows):
        row.update({'IBAN': GOOD_IBAN, 'Kontoinhaber': f'Konto {index}'}, **changes)
    return rows


def test_the_sepa_template_has_the_account_columns() -> None:
    header = massenupload.template_csv(date(2026, 3, 5), sepa_contract=True).decode('utf-8-sig').splitlines()[0]
    assert header.split(';') == list(COLUMNS)
    assert 'IBAN' not in massenupload.template_csv(date(2026, 3, 5)).decode('utf-8-sig')


async def test_rows_with_accounts_become_antraege_with_their_mandates(
    db: str, admin: PortalUser, sepa_contract: Contract
) -> None:
    data = csv_file(with_accounts(3), COLUMNS)
    preview = await checked_preview(admin, sepa_contract, data)
    assert preview.importable, preview.faults
    await massenupload.import_upload(admin, sepa_contract.id, preview.upload_id)
    mandates = await SepaMandate.filter(contract_id=sepa_contract.id).order_by('kontoinhaber')
    assert [(mandate.iban, mandate.kontoinhaber) for mandate in mandates] == [
        ('DE89370400440532013000', f'Konto {index}') for index in range(3)]
    assert {mandate.antrag_id for mandate in mandates} == set(
        await flat(Antrag.filter(contract_id=sepa_contract.id).values_list('id', flat=True)))
    assert all('Massenupload' in mandate.consent_text and mandate.reference.startswith('DTJ-') for mandate in mandates)


async def test_a_wrong_check_digit_is_a_fault_at_its_cell_and_nothing_is_imported(
    db: str, admin: PortalUser, sepa_contract: Contract
) -> None:
    rows = with_accounts(2)
    rows[1]['IBAN'] = WRONG_CHECK_DIGIT
    preview = await checked_preview(admin, sepa_contract, csv_file(rows, COLUMNS))
    assert faults_of(preview) == {(3, 'IBAN', 'Die IBAN ist ungültig: Die Prüfziffer stimmt nicht. Bitte prüfen Sie '
                                              'jede Stelle.')}
    assert not preview.importable
    assert await Antrag.all().count() == 0 and await SepaMandate.all().count() == 0


async def test_a_sepa_contract_needs_an_account_on_every_row(
    db: str, admin: PortalUser, sepa_contract: Contract
) -> None:
    preview = await checked_preview(admin, sepa_contract, csv_file(people(1)))
    assert faults_of(preview) == {(2, 'IBAN', massenupload.MANDATE_MISSING)}
    rows = with_accounts(1, Kontoinhaber='')
    preview = await checked_preview(admin, sepa_contract, csv_file(rows, COLUMNS))
    assert {(fault.row, fault.column) for fault in preview.faults} == {(2, 'Kontoinhaber')}


async def test_an_invoice_contract_refuses_accounts(db: str, admin: PortalUser, invoice_contract: Contract) -> None:
    preview = await checked_preview(admin, invoice_contract, csv_file(with_accounts(1), COLUMNS))
    assert faults_of(preview) == {(2, 'IBAN', massenupload.MANDATE_NOT_WANTED)}


async def test_an_undone_import_takes_its_mandates_along(
    db: str, admin: PortalUser, sepa_contract: Contract
) -> None:
    data = csv_file(with_accounts(3), COLUMNS)
    preview = await checked_preview(admin, sepa_contract, data)
    upload = await massenupload.import_upload(admin, sepa_contract.id, preview.upload_id)
    assert await SepaMandate.all().count() == 3
    await workflow._undo(upload)
    assert await SepaMandate.all().count() == 0 and await Antrag.all().count() == 0
