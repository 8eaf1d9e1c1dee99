"""Closing a month in the database (services/abrechnung.py `_store_lines`: INSERT … SELECT with a table of figures per
month and subsidy amount, and the invoices from grouped queries) against the per-line computation in Python it
replaced (`_Calculator.lines`, `rechnungen.invoice_amounts`), on SQLite and PostgreSQL: every stored line, field by
field and in order, and every invoice, month after month over a varied year with corrections of closed months
(late approvals, Abos ended back, a contract whose only lines are corrections, a renamed person, a subsidy change
into a closed month written directly), names that sort by case, umlaut and id, and a SEPA contract (no invoice)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date

import pytest

from models import (
    Abo,
    AboStatus,
    BillingLine,
    BillingRun,
    Contract,
    Customer,
    Invoice,
    LineKind,
    PortalUser,
    Produktangebot,
    SubsidyChange,
    Ticketart,
)
from services import abrechnung, clock, rechnungen, tarife
from services.settings import get_settings
from tests.services.test_abrechnung import make_abo
from tests.services.test_abrechnung_sums import a_varied_year

pytestmark = pytest.mark.today(date(2026, 2, 20))


async def close_and_compare(staff: PortalUser, month: date) -> list[abrechnung.Line]:
    """Close `month`, asserting that the stored lines and invoices are what Python computes from the same data."""
    expected = await abrechnung._Calculator(month, Abo.all(), SubsidyChange.all(), await tarife.current()).lines()
    closing = await abrechnung.close_month(month, actor=staff)
    assert closing.created
    stored = abrechnung._from_rows(await BillingLine.filter(run_id=closing.run.id).order_by('id'))
    assert stored == expected, month
    assert closing.run.line_count == len(expected)

    per_contract: dict[int, list[abrechnung.Line]] = defaultdict(list)
    for line in expected:
        per_contract[line.contract_id].append(line)
    vat = get_settings().invoice_vat_percent
    rechnung = dict(await Contract.filter(produktangebot=Produktangebot.RECHNUNG).values_list('id', 'vertragsnummer'))
    billed = sorted((rechnung[contract_id], contract_id) for contract_id, lines in per_contract.items()
                    if contract_id in rechnung and rechnungen.invoice_amounts(lines, vat).lines)
    issued = await Invoice.filter(run_id=closing.run.id).order_by('number')
    assert [invoice.contract_id for invoice in issued] == [contract_id for _, contract_id in billed]
    for invoice in issued:
        amounts = rechnungen.invoice_amounts(per_contract[invoice.contract_id], vat)
        assert (invoice.net_cent, invoice.vat_cent, invoice.rounding_cent, invoice.gross_cent) == (
            amounts.net_cent, amounts.vat_cent, amounts.rounding_cent, amounts.gross_cent)
        assert invoice.recipient['vertragsnummer'] == rechnung[invoice.contract_id]
        assert invoice.recipient['kundennummer'] == '100234'
    numbers = [int(invoice.number[-6:]) for invoice in issued]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers))) if numbers else True
    return stored


async def test_the_stored_lines_and_invoices_equal_the_per_line_computation(
    staff: PortalUser, company: Customer, set_today: Callable[[date], None]
) -> None:
    contracts = await a_varied_year(company)
    await Contract.filter(id=contracts[20].id).update(produktangebot=Produktangebot.SEPA)
    # Names that sort by case, umlaut and (equal names) id: the order of the lines is the database's, as the ORM's.
    for nachname in ('Öztürk', 'Ozturk', 'zahn', 'Zahn', 'Äbi', 'Abi', 'Zahn'):
        await make_abo(contracts[1], nachname, date(2025, 12, 1))

    set_today(date(2026, 4, 20))
    for month in (date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)):
        await close_and_compare(staff, month)

    # Changes to closed months: a late approval into January, an Abo ended back into February, a contract's first
    # Abo running only in closed months, a person renamed after a correction-causing change, and a subsidy change
    # into a closed month written directly (older data): corrections use today's figures of each closed month.
    await make_abo(contracts[3], 'Spaet', date(2026, 1, 1), personalnummer='0815')
    ended = await Abo.get(nachname='Lauf5')
    ended.endmonat, ended.status, ended.cancelled_at = date(2026, 2, 28), AboStatus.BEENDET, clock.now()
    await ended.save()
    await Abo.create(
        contract=contracts[22], vorname='Nur', nachname='Korrektur', geburtsdatum=date(1990, 1, 1),
        strasse='Königsplatz 1', plz='34117', ort='Kassel', ticketart=Ticketart.HANDYTICKET,
        startmonat=date(2026, 2, 1), endmonat=date(2026, 3, 31), status=AboStatus.GEKUENDIGT,
        person_key='nur|korrektur', created_at=clock.now(), cancelled_at=clock.now())
    renamed = await Abo.get(nachname='Lauf9')
    renamed.endmonat, renamed.status, renamed.cancelled_at = date(2026, 1, 31), AboStatus.BEENDET, clock.now()
    renamed.nachname, renamed.personalnummer = 'Lauf-Neu', '4711'
    await renamed.save()
    await SubsidyChange.create(contract=contracts[9], gueltig_ab=date(2026, 1, 1), zuschuss_cent=1000,
                               created_at=clock.now())
    await make_abo(contracts[9], 'Neu-Januar', date(2026, 1, 1))  # figured with the changed January subsidy
    await make_abo(contracts[20], 'Sepa-Spaet', date(2026, 2, 1))  # a correction, but no invoice

    set_today(date(2026, 5, 20))
    april = await close_and_compare(staff, date(2026, 4, 1))
    corrections = [line for line in april if line.art == LineKind.KORREKTUR]
    assert {line.nachname for line in corrections} == {'Spaet', 'Lauf5', 'Korrektur', 'Lauf-Neu', 'Neu-Januar',
                                                       'Sepa-Spaet'}
    assert any(line.preis_cent < 0 for line in corrections) and any(line.preis_cent > 0 for line in corrections)
    assert {line.contract_id for line in corrections} >= {contracts[22].id, contracts[20].id}

    # The following months (a price rise in July with a higher minimum) find nothing more to correct.
    for day, month in ((date(2026, 6, 20), date(2026, 5, 1)), (date(2026, 7, 20), date(2026, 6, 1)),
                       (date(2026, 8, 20), date(2026, 7, 1))):
        set_today(day)
        lines = await close_and_compare(staff, month)
        assert all(line.art == LineKind.MONAT for line in lines)
    assert await BillingRun.all().count() == 9


async def test_a_month_without_any_contract_closes_empty(staff: PortalUser, set_today: Callable[[date], None]) -> None:
    set_today(date(2026, 4, 20))
    await abrechnung.close_month(date(2026, 2, 1), actor=staff)
    closing = await abrechnung.close_month(date(2026, 3, 1), actor=staff)  # with a closed month to correct
    assert closing.created and closing.run.line_count == 0
    assert not await BillingLine.exists() and not await Invoice.exists()
    assert (await abrechnung.month_overview(staff, date(2026, 4, 1))).totals == abrechnung.Totals()
