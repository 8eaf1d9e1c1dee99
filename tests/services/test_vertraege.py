"""The Vertragsverwaltung table query on SQLite and PostgreSQL: sorting, the 'Aktive Verträge' filter, search, paging
and tenant isolation. Expectations are computed in Python from the contracts each test creates."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import pytest

from models import Contract, ContractStatus, Customer, PortalUser, Produktangebot
from models.contract import SORTABLE_COLUMNS
from services.errors import NotFound
from services.kunden import create_customer
from services.table_query import MAX_SEARCH_LENGTH, PAGE_SIZES, TablePage, TableRequest
from services.vertraege import create_contract, get_contract, list_contracts
from tests.conftest import order_value

CONTRACTS_PER_COMBINATION = 2  # 3 customers x 2 Produktangebote x 3 statuses x 2 = 36 contracts


@dataclass
class Dataset:
    customers: list[Customer]
    contracts: list[Contract]

    def of(self, customer: Customer) -> list[Contract]:
        return [contract for contract in self.contracts if contract.customer_id == customer.id]


@pytest.fixture
async def third_company(db: str) -> Customer:
    return await create_customer(
        kundennummer='100589', name='Auepark Klinikum gGmbH', strasse='Frankfurter Straße 52', plz='34121',
        ort='Kassel', ansprechpartner='Dr. Peter Vogt',
    )


@pytest.fixture
async def dataset(company: Customer, other_company: Customer, third_company: Customer) -> Dataset:
    """36 contracts of three companies, every Produktangebot and status for each, created in shuffled order and with
    shuffled Vertragsnummern, so that neither the id order nor the insertion order happens to be a sorted one."""
    rng = random.Random(20261125)
    customers = [company, other_company, third_company]
    specs = [
        (customer, produkt, status)
        for customer in customers
        for produkt in Produktangebot
        for status in ContractStatus
        for _ in range(CONTRACTS_PER_COMBINATION)
    ]
    rng.shuffle(specs)
    numbers = rng.sample(range(1, 10_000), len(specs))
    contracts = []
    for (customer, produkt, status), number in zip(specs, numbers, strict=True):
        ended = status is ContractStatus.BEENDET
        contracts.append(await create_contract(
            customer=customer, vertragsnummer=f'DJ-{2020 + number % 7}-{number:04d}', produktangebot=produkt,
            status=status, beginn=date(2023, 1 + number % 12, 1), ende=date(2025, 12, 31) if ended else None,
            arbeitgeberzuschuss_cent=1450 + number % 4000,  # within every tariff's range
        ))
    return Dataset(customers, contracts)


# --- helpers --------------------------------------------------------------------------------------------------------


def shown(contract: Contract) -> list[str]:
    """The table's columns as the page shows them (enum members as their German values)."""
    return [str(getattr(contract, column)) for column in SORTABLE_COLUMNS]


def expected_order(contracts: list[Contract], column: str, descending: bool) -> list[int]:
    """Names in German order (DIN 5007 variant 1), the other columns by their shown value; ties by id."""
    ordered = sorted(
        contracts, key=lambda contract: (str(order_value(contract, column)), contract.id), reverse=descending
    )
    return [contract.id for contract in ordered]


def matches(contract: Contract, search: str) -> bool:
    """Every word occurs, case-insensitively, in at least one shown column."""
    return all(any(word.casefold() in value.casefold() for value in shown(contract)) for word in search.split())


def shout(text: str) -> str:
    """Upper case, character for character ('ß' stays: its upper case 'SS' is two characters, see the xfail below)."""
    return ''.join(character.upper() if len(character.upper()) == 1 else character for character in text)


def ids(page: TablePage[Contract]) -> list[int]:
    return [contract.id for contract in page.rows]


async def fetch(actor: PortalUser, request: TableRequest, **options: Any) -> TablePage[Contract]:
    page = await list_contracts(actor, request, **options)
    assert len(page.rows) <= page.request.page_size
    assert page.request.page_size in PAGE_SIZES
    return page


async def fetch_all_pages(actor: PortalUser, request: TableRequest, **options: Any) -> tuple[list[int], int]:
    """Walk page after page (as the pager does) and return the ids in order and the total."""
    first = await fetch(actor, replace(request, page=1), **options)
    collected = ids(first)
    for number in range(2, first.page_count + 1):
        page = await fetch(actor, replace(request, page=number), **options)
        assert page.request.page == number
        assert page.total == first.total
        assert page.first == (number - 1) * page.request.page_size + 1
        assert page.last == page.first + len(page.rows) - 1
        collected += ids(page)
    assert len(collected) == first.total
    return collected, first.total


# --- creation -------------------------------------------------------------------------------------------------------


async def test_contracts_copy_the_customer_address_and_fill_the_search_text(dataset: Dataset) -> None:
    for contract in dataset.contracts:
        stored = await Contract.get(id=contract.id).prefetch_related('customer')
        customer = stored.customer
        assert (stored.firma, stored.strasse, stored.plz, stored.ort) == (
            customer.name, customer.strasse, customer.plz, customer.ort
        )
        assert stored.search_text == ' '.join(shown(stored)).casefold()


# --- sorting --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize('column', SORTABLE_COLUMNS)
async def test_every_sortable_column_sorts_both_ways_with_ties_broken_by_id(
    dataset: Dataset, staff: PortalUser, admin: PortalUser, company: Customer, column: str
) -> None:
    for descending in (False, True):
        request = TableRequest(sort=column, descending=descending)
        everything, total = await fetch_all_pages(staff, request, only_active=False)
        assert total == len(dataset.contracts)
        assert everything == expected_order(dataset.contracts, column, descending), (column, descending)

        active = [contract for contract in dataset.of(company) if contract.status is ContractStatus.AKTIV]
        own_active, _ = await fetch_all_pages(admin, request)
        assert own_active == expected_order(active, column, descending), (column, descending)


async def test_descending_is_the_exact_reverse_of_ascending(dataset: Dataset, staff: PortalUser) -> None:
    for column in SORTABLE_COLUMNS:
        ascending, _ = await fetch_all_pages(staff, TableRequest(sort=column), only_active=False)
        descending, _ = await fetch_all_pages(staff, TableRequest(sort=column, descending=True), only_active=False)
        assert descending == ascending[::-1]


@pytest.mark.parametrize('sort', ['', 'id', 'search_text', 'customer_id', 'arbeitgeberzuschuss_cent', '-firma',
                                  'Firma', 'firma; DROP TABLE contract', 'customer__kundennummer'])
async def test_an_unknown_sort_column_falls_back_to_vertragsnummer(
    dataset: Dataset, staff: PortalUser, sort: str
) -> None:
    page = await fetch(staff, TableRequest(sort=sort, page_size=100), only_active=False)
    assert page.request.sort == 'vertragsnummer'
    assert ids(page) == expected_order(dataset.contracts, 'vertragsnummer', False)


# --- Aktive Verträge ------------------------------------------------------------------------------------------------


async def test_only_active_contracts_by_default(dataset: Dataset, staff: PortalUser, admin: PortalUser,
                                                company: Customer) -> None:
    page = await fetch(staff, TableRequest(page_size=100))
    assert {contract.status for contract in page.rows} == {ContractStatus.AKTIV}
    assert set(ids(page)) == {contract.id for contract in dataset.contracts if contract.status is ContractStatus.AKTIV}
    assert page.total == len(dataset.contracts) // 3

    own = await fetch(admin, TableRequest(page_size=100))
    assert set(ids(own)) == {
        contract.id for contract in dataset.of(company) if contract.status is ContractStatus.AKTIV
    }


async def test_unchecking_aktive_vertraege_shows_ended_and_cancelled_ones(
    dataset: Dataset, staff: PortalUser, admin: PortalUser, company: Customer
) -> None:
    page = await fetch(staff, TableRequest(page_size=100), only_active=False)
    assert set(ids(page)) == {contract.id for contract in dataset.contracts}
    assert {contract.status for contract in page.rows} == set(ContractStatus)

    own = await fetch(admin, TableRequest(page_size=100), only_active=False)
    assert set(ids(own)) == {contract.id for contract in dataset.of(company)}


# --- search ---------------------------------------------------------------------------------------------------------


async def search_ids(actor: PortalUser, search: str, *, only_active: bool = False) -> set[int]:
    page = await fetch(actor, TableRequest(search=search, page_size=100), only_active=only_active)
    assert page.total == len(page.rows)
    return set(ids(page))


@pytest.mark.parametrize(
    'search',
    [
        'wilhelmshö',  # part of a street, with an umlaut
        'LEIPZIGER STR',  # upper case, two words
        'frankfurter straße 52',
        '34260',  # a PLZ
        '3412',  # part of a PLZ
        'kaufungen',
        'KASSEL',  # Ort of two companies and part of a Firma
        'gGmbH',
        'rechnung',
        'SEPA-Lastschrift',
        'd-ticket job',
        'GEKÜNDIGT',  # upper-case umlaut
        'Beendet',
        'AkTiV',
        'kassel rechnung',  # words AND together
        'rechnung kassel gekündigt',
        'klinikum leipziger',  # each word matches, but never in the same contract
        'kassel   sepa\t aktiv ',  # any whitespace separates words
        'kein-treffer',
    ],
)
async def test_search_is_case_insensitive_over_the_shown_columns_and_ands_words(
    dataset: Dataset, staff: PortalUser, search: str
) -> None:
    expected = {contract.id for contract in dataset.contracts if matches(contract, search)}
    assert await search_ids(staff, search) == expected


async def test_search_reaches_every_shown_column(dataset: Dataset, staff: PortalUser) -> None:
    for customer in dataset.customers:
        sample = dataset.of(customer)[0]
        for column, value in zip(SORTABLE_COLUMNS, shown(sample), strict=True):
            for fragment in (value, shout(value[1:-1]), shout(value[2:]).casefold()):
                expected = {contract.id for contract in dataset.contracts if matches(contract, fragment)}
                found = await search_ids(staff, fragment)
                assert sample.id in found, (column, fragment)
                assert found == expected, (column, fragment)


async def test_search_treats_sharp_s_like_its_upper_case(other_company: Customer, staff: PortalUser) -> None:
    await create_contract(
        customer=other_company, vertragsnummer='DJ-2026-0001', produktangebot=Produktangebot.SEPA,
        beginn=date(2026, 1, 1), arbeitgeberzuschuss_cent=1575,
    )
    assert other_company.strasse.upper() == 'LEIPZIGER STRASSE 180'
    page = await fetch(staff, TableRequest(search=other_company.strasse.upper()))
    assert [contract.vertragsnummer for contract in page.rows] == ['DJ-2026-0001']


async def test_search_a_whole_vertragsnummer_finds_exactly_that_contract(dataset: Dataset, staff: PortalUser) -> None:
    for contract in dataset.contracts[:5]:
        assert await search_ids(staff, contract.vertragsnummer.casefold()) == {contract.id}


async def test_search_ignores_what_the_table_does_not_show(dataset: Dataset, staff: PortalUser) -> None:
    assert await search_ids(staff, '100234') == set()  # Kundennummer
    assert await search_ids(staff, 'Dietrich') == set()  # Ansprechpartner
    assert await search_ids(staff, 'fahrradmanufaktur-kassel.de') == set()  # e-mail address


async def test_search_combines_with_the_active_filter(dataset: Dataset, staff: PortalUser) -> None:
    expected = {
        contract.id for contract in dataset.contracts
        if matches(contract, 'kassel sepa') and contract.status is ContractStatus.AKTIV
    }
    assert expected
    assert await search_ids(staff, 'kassel sepa', only_active=True) == expected


async def test_search_is_limited_in_length_and_normalised(dataset: Dataset, staff: PortalUser) -> None:
    page = await fetch(staff, TableRequest(search='  Kassel \n  Rechnung  '), only_active=False)
    assert page.request.search == 'Kassel Rechnung'
    page = await fetch(staff, TableRequest(search='x' * 10_000), only_active=False)
    assert len(page.request.search) == MAX_SEARCH_LENGTH
    assert page.total == 0
    everything = await fetch(staff, TableRequest(search=' \t\n '), only_active=False)
    assert everything.total == len(dataset.contracts)


@pytest.mark.parametrize(
    ('search', 'expected'),
    [
        ('%', {'RB-50%-A'}),
        ('50%', {'RB-50%-A'}),
        ('50%-a', {'RB-50%-A'}),
        ('_', {'NR_1'}),
        ('nr_1', {'NR_1'}),
        ('\\', {'BS\\1'}),
        ('bs\\1', {'BS\\1'}),
        ('%%', set()),
        ('rb-5_0', set()),
        ('"', set()),
        ("'", set()),
    ],
)
async def test_like_wildcards_in_the_search_match_literally(
    company: Customer, staff: PortalUser, search: str, expected: set[str]
) -> None:
    """Tortoise's __contains escapes % _ and \\ (LIKE … ESCAPE '\\'), so they are ordinary characters here."""
    for vertragsnummer in ('RB-50%-A', 'RB-500-A', 'RB-5X0-A', 'NR_1', 'NRX1', 'NR-1', 'BS\\1', 'BSX1'):
        await create_contract(
            customer=company, vertragsnummer=vertragsnummer, produktangebot=Produktangebot.RECHNUNG,
            beginn=date(2025, 1, 1), arbeitgeberzuschuss_cent=1575,
        )
    page = await fetch(staff, TableRequest(search=search, page_size=100))
    assert {contract.vertragsnummer for contract in page.rows} == expected


# --- paging ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ('page', 'page_size', 'shown_page', 'first', 'last'),
    [
        (1, 10, 1, 1, 10),
        (0, 10, 1, 1, 10),
        (-5, 10, 1, 1, 10),
        (2, 10, 2, 11, 20),
        (4, 10, 4, 31, 36),
        (5, 10, 4, 31, 36),
        (10**9, 10, 4, 31, 36),
        (2, 25, 2, 26, 36),
        (1, 50, 1, 1, 36),
        (3, 100, 1, 1, 36),
        (2, 7, 2, 11, 20),  # not an offered page size: 10
        (2, 0, 2, 11, 20),
        (2, -25, 2, 11, 20),
        (2, 1000, 2, 11, 20),
    ],
)
async def test_paging_edges(
    dataset: Dataset, staff: PortalUser, page: int, page_size: int, shown_page: int, first: int, last: int
) -> None:
    result = await fetch(staff, TableRequest(page=page, page_size=page_size), only_active=False)
    total = len(dataset.contracts)
    assert result.total == total
    assert result.request.page == shown_page
    assert (result.first, result.last) == (first, last)
    size = page_size if page_size in PAGE_SIZES else 10
    assert result.request.page_size == size
    assert result.page_count == -(-total // size)
    assert len(result.rows) == last - first + 1
    ordered = expected_order(dataset.contracts, 'vertragsnummer', False)
    assert ids(result) == ordered[first - 1:last]


async def test_a_full_last_page(company: Customer, staff: PortalUser) -> None:
    for number in range(20):
        await create_contract(
            customer=company, vertragsnummer=f'DJ-2026-{number:04d}', produktangebot=Produktangebot.SEPA,
            beginn=date(2026, 1, 1), arbeitgeberzuschuss_cent=1575,
        )
    page = await fetch(staff, TableRequest(page=3))
    assert (page.request.page, page.page_count, page.first, page.last, page.total) == (2, 2, 11, 20, 20)


@pytest.mark.parametrize('page', [-1, 0, 1, 2, 99])
async def test_an_empty_result_is_page_1_of_1_showing_0_to_0(dataset: Dataset, staff: PortalUser, page: int) -> None:
    result = await fetch(staff, TableRequest(search='gibt es nicht', page=page), only_active=False)
    assert result.rows == []
    assert (result.total, result.page_count, result.first, result.last, result.request.page) == (0, 1, 0, 0, 1)


async def test_an_empty_database_gives_an_empty_page(staff: PortalUser) -> None:
    result = await fetch(staff, TableRequest(), only_active=False)
    assert (result.rows, result.total, result.page_count, result.first, result.last) == ([], 0, 1, 0, 0)


# --- tenant isolation -----------------------------------------------------------------------------------------------


async def test_company_users_see_only_their_company(
    dataset: Dataset, admin: PortalUser, reader: PortalUser, other_admin: PortalUser, company: Customer,
    other_company: Customer,
) -> None:
    for actor, customer in ((admin, company), (reader, company), (other_admin, other_company)):
        seen, total = await fetch_all_pages(actor, TableRequest(), only_active=False)
        assert set(seen) == {contract.id for contract in dataset.of(customer)}
        assert total == len(dataset.contracts) // 3


async def test_another_companys_kundennummer_looks_exactly_like_an_unknown_one(
    dataset: Dataset, admin: PortalUser, other_company: Customer, third_company: Customer
) -> None:
    def outcome(page: TablePage[Contract]) -> tuple:
        return page.rows, page.total, page.page_count, page.first, page.last, page.request

    unknown = await fetch(admin, TableRequest(), kundennummer='999999', only_active=False)
    assert unknown.total == 0
    for kundennummer in (other_company.kundennummer, third_company.kundennummer, f' {other_company.kundennummer} '):
        page = await fetch(admin, TableRequest(), kundennummer=kundennummer, only_active=False)
        assert outcome(page) == outcome(unknown)


async def test_a_company_user_with_their_own_kundennummer_sees_their_contracts(
    dataset: Dataset, admin: PortalUser, company: Customer
) -> None:
    page = await fetch(admin, TableRequest(page_size=100), kundennummer=company.kundennummer, only_active=False)
    assert set(ids(page)) == {contract.id for contract in dataset.of(company)}


async def test_a_company_user_cannot_search_into_another_company(
    dataset: Dataset, admin: PortalUser, other_company: Customer
) -> None:
    for search in ('kaufunger', other_company.strasse, other_company.plz, dataset.of(other_company)[0].vertragsnummer):
        page = await fetch(admin, TableRequest(search=search), only_active=False)
        assert page.total == 0, search


async def test_get_contract_of_another_company_is_not_found_like_a_missing_one(
    dataset: Dataset, admin: PortalUser, company: Customer, other_company: Customer
) -> None:
    foreign = dataset.of(other_company)[0]
    with pytest.raises(NotFound) as missing:
        await get_contract(admin, max(contract.id for contract in dataset.contracts) + 1)
    with pytest.raises(NotFound) as hidden:
        await get_contract(admin, foreign.id)
    assert str(hidden.value) == str(missing.value)

    own = dataset.of(company)[0]
    loaded = await get_contract(admin, own.id)
    assert loaded.vertragsnummer == own.vertragsnummer
    assert loaded.customer.kundennummer == company.kundennummer  # customer is loaded with it


async def test_staff_see_every_company_and_filter_by_any_kundennummer(dataset: Dataset, staff: PortalUser) -> None:
    seen, _ = await fetch_all_pages(staff, TableRequest(), only_active=False)
    assert set(seen) == {contract.id for contract in dataset.contracts}
    for customer in dataset.customers:
        for kundennummer in (customer.kundennummer, f'  {customer.kundennummer}\t'):
            page = await fetch(staff, TableRequest(page_size=100), kundennummer=kundennummer, only_active=False)
            assert set(ids(page)) == {contract.id for contract in dataset.of(customer)}
        active = await fetch(staff, TableRequest(page_size=100), kundennummer=customer.kundennummer)
        assert set(ids(active)) == {
            contract.id for contract in dataset.of(customer) if contract.status is ContractStatus.AKTIV
        }
    unknown = await fetch(staff, TableRequest(), kundennummer='999999', only_active=False)
    assert unknown.total == 0
    for contract in dataset.contracts[:3]:
        assert (await get_contract(staff, contract.id)).id == contract.id


async def test_kundennummer_filter_sorts_and_pages_like_the_rest(
    dataset: Dataset, staff: PortalUser, other_company: Customer
) -> None:
    request = TableRequest(sort='status', descending=True)
    seen, total = await fetch_all_pages(staff, request, kundennummer=other_company.kundennummer, only_active=False)
    assert total == len(dataset.of(other_company))
    assert seen == expected_order(dataset.of(other_company), 'status', True)
