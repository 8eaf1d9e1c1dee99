"""Issue 12, search and sort that scale and agree, on SQLite and PostgreSQL (`db` runs each test on both):

- the trigram search (SQLite FTS5, PostgreSQL pg_trgm) finds exactly what a plain match of the search key finds (a
  substring; a word start for words of 1–2 characters), also for umlauts and ß, and stays current when rows change
  or go;
- names sort by DIN 5007 variant 1 (Ä with A, ß as ss, case ignored), in the same order on both databases;
- the count stops at COUNT_CAP: 'mehr als …', and the pager ends at the cap.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from models import Abo, Antrag, Contract, ContractStatus, Customer, PortalUser, Produktangebot
from models.searchable import search_key, sort_key
from services import table_query
from services.table_query import COUNT_CAP, TablePage, TableRequest
from services.vertraege import create_contract, list_contracts

# Written out by hand (not computed with sort_key): ties ('aachen'/'Aachen', 'Braun'/'BRAUN', 'Straße'/'Strasse')
# keep the order of creation, which is the id order.
TRICKY_IN_CREATION_ORDER = ('Zahn', 'Straße', 'Braun', 'étude', 'Ärzte', 'aachen', 'Böhm', 'Strasse', 'BRAUN',
                            'Aachen', 'Öko', 'oben', 'Übel', 'ulm')
TRICKY_IN_GERMAN_ORDER = ('aachen', 'Aachen', 'Ärzte', 'Böhm', 'Braun', 'BRAUN', 'étude', 'oben', 'Öko', 'Straße',
                          'Strasse', 'Übel', 'ulm', 'Zahn')

SYLLABLES = ('ma', 'ße', 'ss', 'ö', 'oe', 'ü', 'ä', 'Ä', 'é', 'x', 'qu', 'st', 'rin', 'GmbH', ' ', '-', 'ka', 'Ka')
TERMS = ('gmbh', 'GMBH', 'ß', 'ss', 'STRASSE', 'straße', 'ö', 'Ö', 'oe', 'ä', 'ü', 'é', 'e', 'x', 'qu', 'ka', 'maß',
         'mass', 'öka', 'ss-', 'äk', 'rin st', 'x ka', 'gmbh ö', 'zzz', 'a b c', 'ma ße', 'kaka', 'DJ-1', '-0')


async def make_contract(customer: Customer, number: int, **changes: Any) -> Contract:
    return await create_contract(
        customer=customer, vertragsnummer=f'DJ-{number:05d}', produktangebot=Produktangebot.RECHNUNG,
        beginn=date(2026, 1, 1), arbeitgeberzuschuss_cent=1575, **changes,
    )


async def customer_named(index: int, name: str, strasse: str = 'Hauptstraße 1', ort: str = 'Kassel') -> Customer:
    return await Customer.create(kundennummer=str(500_000 + index), name=name, strasse=strasse, plz='34117', ort=ort)


async def all_ids(actor: PortalUser, request: TableRequest, **options: Any) -> list[int]:
    """Every row of every page, in order."""
    first = await list_contracts(actor, replace(request, page_size=100), **options)
    assert not first.more
    collected = [contract.id for contract in first.rows]
    for number in range(2, first.page_count + 1):
        page = await list_contracts(actor, replace(request, page_size=100, page=number), **options)
        collected += [contract.id for contract in page.rows]
    assert len(collected) == first.total
    return collected


# --- search ---------------------------------------------------------------------------------------------------------


@pytest.fixture
async def random_contracts(db: str) -> list[Contract]:
    """300 contracts of 60 customers with names, streets and places glued from syllables with umlauts, ß, é."""
    rng = random.Random(12)

    def word(parts: int) -> str:
        return ''.join(rng.choice(SYLLABLES) for _ in range(parts)).strip() or 'x'

    customers = [await customer_named(index, word(5), f'{word(3)}straße {index}', word(2)) for index in range(60)]
    return [await make_contract(rng.choice(customers), number, status=rng.choice(tuple(ContractStatus)))
            for number in range(300)]


@pytest.mark.parametrize('only_active', [False, True])
async def test_search_finds_exactly_the_substring_matches(
    random_contracts: list[Contract], staff: PortalUser, only_active: bool
) -> None:
    for term in TERMS:
        assert await all_ids(staff, TableRequest(search=term), only_active=only_active) == substring_matches(
            random_contracts, term, only_active), term


def matches_word(text: str, word: str) -> bool:
    """The search's rule written plainly: 3 characters or more anywhere, fewer at the start of a word."""
    if len(word) >= table_query.TRIGRAM or not word[0].isalnum():
        return word in text
    return text.startswith(word) or any(separator + word in text for separator in table_query.WORD_SEPARATORS)


def substring_matches(contracts: list[Contract], term: str, only_active: bool) -> list[int]:
    """What a plain match of every word finds (`matches_word`), in the table's default order."""
    return [
        contract.id for contract in sorted(contracts, key=lambda c: (c.vertragsnummer, c.id))
        if all(matches_word(contract.search_text, word) for word in search_key(term).split())
        and (contract.status is ContractStatus.AKTIV or not only_active)
    ]


@pytest.mark.parametrize('only_active', [False, True])
async def test_a_search_with_many_matches_shows_the_first_in_order_and_says_more(
    random_contracts: list[Contract], staff: PortalUser, only_active: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above PROBE matches (here 5; SQLite's FTS5 probe too) the words are a substring filter read along the order,
    and the count stops at PROBE: 'mehr als 5', the first 5 rows in order; at most 5 matches: all of them."""
    monkeypatch.setattr(table_query, 'PROBE', 5)
    monkeypatch.setattr(table_query, 'FTS_PROBE', 5)
    for term in TERMS:
        expected = substring_matches(random_contracts, term, only_active)
        page = await list_contracts(staff, TableRequest(search=term, page_size=100), only_active=only_active)
        assert [contract.id for contract in page.rows] == expected[:5], term
        assert (page.total, page.more) == ((5, True) if len(expected) > 5 else (len(expected), False)), term


async def test_postgres_plans_each_search_for_its_words(db: str) -> None:
    """A generic plan of `LIKE $1` (PostgreSQL's choice after five runs of a prepared statement) reads the whole
    trigram index for a 2-character word: services/database.POSTGRES_SETTINGS turns generic plans off."""
    if db != 'postgres':
        pytest.skip('PostgreSQL only')
    rows = await Contract._meta.db.execute_query_dict('SHOW plan_cache_mode')
    assert rows == [{'plan_cache_mode': 'force_custom_plan'}]


async def test_the_search_index_follows_changes_and_deletions(db: str, company: Customer, staff: PortalUser) -> None:
    contract = await make_contract(company, 1)
    assert await all_ids(staff, TableRequest(search='fahrradmanufaktur')) == [contract.id]
    if db == 'sqlite':  # the search went through the FTS5 table, which the insert trigger filled
        _, rows = await Contract._meta.db.execute_query(
            "SELECT rowid FROM contract_fts WHERE contract_fts MATCH '\"fahrradmanufaktur\"'")
        assert [row['rowid'] for row in rows] == [contract.id]
    contract.firma = 'Übergrößen Müßig KG'
    await contract.save()
    assert await all_ids(staff, TableRequest(search='fahrradmanufaktur')) == []
    assert await all_ids(staff, TableRequest(search='ÜBERGRÖSSEN müssig')) == [contract.id]
    await contract.delete()
    assert await all_ids(staff, TableRequest(search='übergrößen'), only_active=False) == []


# --- sort -----------------------------------------------------------------------------------------------------------


def test_sort_key_follows_din_5007_variant_1() -> None:
    assert sorted(TRICKY_IN_GERMAN_ORDER, key=sort_key) == list(TRICKY_IN_GERMAN_ORDER)  # stable: ties keep order
    assert sort_key('Straße') == sort_key('STRASSE') == sort_key('strasse') == 'strasse'
    assert sort_key('Ärzte') == 'arzte' and sort_key('étude') == 'etude' and sort_key('Øresund') == 'oresund'
    assert sorted(['Zahn', 'Ärzte', 'Braun', 'Böhm']) != sorted(['Zahn', 'Ärzte', 'Braun', 'Böhm'], key=sort_key)


@pytest.mark.parametrize('values', [tuple(Produktangebot), tuple(ContractStatus)])
def test_fixed_values_sort_bytewise_in_german_order(values: tuple[str, ...]) -> None:
    """Produktangebot and Status sort by their stored value: that must already be the German order."""
    assert sorted(values) == sorted(values, key=sort_key)


@pytest.mark.parametrize('column', ['firma', 'strasse', 'ort'])
async def test_names_sort_in_german_order_on_both_databases(db: str, staff: PortalUser, column: str) -> None:
    for index, name in enumerate(TRICKY_IN_CREATION_ORDER):
        fields: dict[str, Any] = {
            'name': 'Firma', 'strasse': 'Weg 1', 'ort': 'Ort', {'firma': 'name'}.get(column, column): name}
        await make_contract(await Customer.create(kundennummer=str(600_000 + index), plz='34117', **fields), index)
    for descending in (False, True):
        ids = await all_ids(staff, TableRequest(sort=column, descending=descending))
        shown = [getattr(await Contract.get(id=contract_id), column) for contract_id in ids]
        expected = list(TRICKY_IN_GERMAN_ORDER)
        assert shown == (expected[::-1] if descending else expected), (db, descending)


async def test_every_searchable_model_fills_its_sort_keys_on_save(company: Customer, admin: PortalUser) -> None:
    contract = await make_contract(company, 1)
    stored = await Contract.get(id=contract.id)
    assert (stored.firma_sort, stored.strasse_sort, stored.ort_sort) == (
        'fahrradmanufaktur kassel gmbh', 'wilhelmshoher allee 273', 'kassel')
    admin.name = 'Jürgen Weiß'
    await admin.save(update_fields=['name'])
    assert (await PortalUser.get(id=admin.id)).name_sort == 'jurgen weiss'
    assert Abo.SORT_KEYS == Antrag.SORT_KEYS == {'nachname': 'nachname_sort'}


# --- capped count ---------------------------------------------------------------------------------------------------


async def test_the_count_stops_at_the_cap_and_the_pager_with_it(
    company: Customer, staff: PortalUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(table_query, 'COUNT_CAP', 15)
    contracts = [await make_contract(company, number) for number in range(23)]
    page = await list_contracts(staff, TableRequest())
    assert (page.total, page.more, page.page_count) == (15, True, 2)
    assert page.summary == 'angezeigt 1 bis 10 von mehr als 15 Einträge'
    assert page.limit_note.startswith('Geblättert werden die ersten 15 Einträge')

    last = await list_contracts(staff, TableRequest(page=99))
    assert last.request.page == 2
    assert [contract.id for contract in last.rows] == [contract.id for contract in contracts[10:15]]
    assert last.summary == 'angezeigt 11 bis 15 von mehr als 15 Einträge'

    reversed_first = await list_contracts(staff, TableRequest(descending=True))
    assert reversed_first.rows[0].id == contracts[-1].id  # the rows beyond the cap: by reversing the order

    exact = await list_contracts(staff, TableRequest(search='DJ-0001'))  # DJ-00010 … DJ-00019
    assert (exact.total, exact.more, exact.limit_note) == (10, False, '')
    assert exact.summary == 'angezeigt 1 bis 10 von 10 Einträge'


def test_the_summary_groups_digits_the_german_way() -> None:
    request = TableRequest(page=1000)
    assert TablePage[Any](rows=[object()] * 10, total=COUNT_CAP, request=request, more=True).summary == (
        'angezeigt 9.991 bis 10.000 von mehr als 10.000 Einträge')
    assert TablePage[Any](rows=[object()] * 10, total=COUNT_CAP, request=request).summary == (
        'angezeigt 9.991 bis 10.000 von 10.000 Einträge')
    assert TablePage(rows=[], total=0, request=TableRequest()).summary == 'angezeigt 0 bis 0 von 0 Einträge'
