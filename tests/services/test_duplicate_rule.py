"""Issue 13 item 2, "each rule once": the Self-Service's duplicate check (one person) and the Massenupload's (a whole
file) are one function, `antraege.taken_persons`; the Antrag → Abo copy is one constructor, `abos.abo_from`.
Here both sides answer alike for every state an Antrag or Abo can be in, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

from models import Abo, Antrag, Contract, PortalUser
from services import abos, antraege, clock
from tests.services.test_massenupload import (
    birthday_of,
    checked_preview,
    csv_file,
    existing,
    person,
    pinned_today,
)

__all__ = ['pinned_today']  # a fixture of the Massenupload tests

STATES: tuple[tuple[str, dict[str, date], bool], ...] = (  # kind, changes, taken?
    ('antrag-offen', {}, True),
    ('antrag-abgelehnt', {}, False),
    ('antrag-genehmigt', {}, False),  # its Abo is what counts
    ('abo-aktiv', {}, True),
    ('abo-gekündigt', {'endmonat': date(2026, 3, 31)}, True),  # runs to the end of this month
    ('abo-gekündigt', {'endmonat': date(2026, 2, 28)}, False),  # has ended
    ('abo-beendet', {'endmonat': date(2025, 12, 31)}, False),
)


async def test_single_and_bulk_apply_the_same_duplicate_rule(
    db: str, admin: PortalUser, contract: Contract
) -> None:
    rows = [person(index) for index in range(len(STATES))]
    for row, (kind, changes, _) in zip(rows, STATES, strict=True):
        await existing(contract, row, kind, **changes)
    keys = [antraege.person_key(str(row['Vorname']), str(row['Nachname']), birthday_of(row))
            for row in rows]
    expected = [taken for *_, taken in STATES]
    single = [await antraege.has_open_application_or_abo(contract.id, key) for key in keys]
    persons, _ = await antraege.taken_persons(contract.id, keys)
    preview = await checked_preview(admin, contract, csv_file(rows))
    flagged_rows = {fault.row for fault in preview.faults}
    assert single == expected
    assert [key in persons for key in keys] == expected
    assert [index + 2 in flagged_rows for index in range(len(rows))] == expected


async def test_one_constructor_for_the_abo_of_an_antrag(db: str, contract: Contract) -> None:
    await existing(contract, person(0), 'antrag-genehmigt')
    antrag = await Antrag.get(contract_id=contract.id)
    now = clock.now()
    abo = abos.abo_from(antrag, now)
    assert (abo.contract_id, abo.antrag_id, abo.person_key, abo.startmonat, abo.created_at) == (
        contract.id, antrag.id, antrag.person_key, antrag.startmonat, now)
    await Abo.bulk_create([abo])  # bulk_create fills the search keys (models/searchable.py)
    assert all(await Abo.filter(antrag_id=antrag.id).values_list('search_text', flat=True))
