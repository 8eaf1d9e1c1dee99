"""Vertragsverwaltung through NiceGUI's simulated user: the table and its filters, the state in the URL, the Infos
drawer and the Code dialog. The simulation shares the process and the database with the test, so the test can ask
the services what the page should show."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any, cast

import pytest
from nicegui import ElementFilter, ui
from nicegui.functions.navigate import History
from nicegui.testing import User
from nicegui.testing.user_interaction import UserInteraction

from models import Contract, Kundencode, Role
from models.searchable import sort_key
from services import kundencode
from services.kundencode import CodeStatus
from services.validation import format_german_date
from services.vertraege import NOT_FOUND
from tests.conftest import order_value
from tests.pages.conftest import log_in, only
from tests.support import wait_until

pytestmark = pytest.mark.both_databases  # the company's main pages, also on PostgreSQL
TODAY = date(2030, 6, 14)  # far from the real date: every date rule below must follow services.clock.today
CODE_SHAPE = re.compile(r'^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$')


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch: pytest.MonkeyPatch) -> date:
    monkeypatch.setattr('services.clock.today', lambda: TODAY)
    return TODAY


@pytest.fixture
def visited_urls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The addresses the page writes into the browser's history (history.replaceState in a real browser)."""
    urls: list[str] = []
    original = History.replace

    def record(self: History, url: str) -> None:
        urls.append(url)
        original(self, url)

    monkeypatch.setattr(History, 'replace', record)
    return urls


async def open_contracts(user: User, role: str = Role.ADMIN, query: str = '') -> None:
    await log_in(user, role)
    await user.should_see('Willkommen')
    await user.open('/vertragsverwaltung' + query)
    await user.should_see('Ihre Verträge')


def the_table(user: User) -> ui.table:
    (table,) = user.find(ui.table).elements
    return table


def table_element(user: User) -> ui.table:
    """The table also while it is hidden (an empty result hides it and shows the 'Keine Verträge gefunden' line)."""
    with user:
        (table,) = ElementFilter(kind=ui.table, local_scope=False)
    return table


def vertragsnummern(user: User) -> list[str]:
    return [row['vertragsnummer'] for row in the_table(user).rows]


def button(user: User, label: str) -> UserInteraction:
    """The buttons labelled exactly `label` ('Code', not also 'Code widerrufen')."""
    with user:
        found = {element for element in ElementFilter(kind=ui.button, content=label, local_scope=False)
                 if element.text == label}
    return UserInteraction(user, found, label)


async def expected_rows(*, sort: str, descending: bool, only_active: bool) -> list[str]:
    """Every contract of the demo data (staff view), sorted in Python with ties broken by id: names in German order
    (DIN 5007 variant 1, models/searchable.py), the other columns by value."""
    contracts = Contract.all()
    if only_active:
        contracts = contracts.filter(status='aktiv')
    ordered = sorted(await contracts, key=lambda c: (str(order_value(c, sort)), c.id), reverse=descending)
    return [contract.vertragsnummer for contract in ordered]


async def open_infos(user: User, vertragsnummer: str) -> None:
    row = next(row for row in the_table(user).rows if row['vertragsnummer'] == vertragsnummer)
    user.find(ui.table).trigger('infos', row)
    await user.should_see('Firmendaten')


def open_dialogs(user: User) -> list[ui.dialog]:
    return sorted((dialog for dialog in user.find(ui.dialog).elements if dialog.value), key=lambda dialog: dialog.id)


async def dialog_with(user: User, text: str) -> ui.dialog:
    """The open dialog that shows `text`."""
    def matching() -> list[ui.dialog]:
        return [dialog for dialog in open_dialogs(user) if inside(user, dialog, content=text).elements]

    await wait_until(lambda: len(matching()) == 1, text)
    return matching()[0]


# --- the table ------------------------------------------------------------------------------------------------------


async def test_admin_sees_only_the_active_contracts_of_their_company(user: User) -> None:
    await open_contracts(user)
    assert vertragsnummern(user) == ['DJ-2024-0117']
    row = the_table(user).rows[0]
    assert {key: row[key] for key in ('firma', 'plz', 'ort', 'produktangebot', 'status')} == {
        'firma': 'Fahrradmanufaktur Kassel GmbH', 'plz': '34131', 'ort': 'Kassel',
        'produktangebot': 'D-Ticket Job (Rechnung)', 'status': 'aktiv',
    }
    await user.should_see('angezeigt 1 bis 1 von 1 Einträge')
    await user.should_not_see(NOT_FOUND)
    assert 'DJ-2024-0233' not in vertragsnummern(user)
    assert not any('Nordhessische' in row['firma'] for row in the_table(user).rows)


async def test_unchecking_aktive_vertraege_shows_the_ended_contract(user: User, visited_urls: list[str]) -> None:
    await open_contracts(user)
    assert 'DJ-2023-0042' not in vertragsnummern(user)
    user.find('Aktive Verträge').click()
    await user.should_see('angezeigt 1 bis 2 von 2 Einträge')
    assert vertragsnummern(user) == ['DJ-2023-0042', 'DJ-2024-0117']
    assert 'aktiv=0' in visited_urls[-1]
    user.find('Aktive Verträge').click()
    await user.should_see('angezeigt 1 bis 1 von 1 Einträge')
    assert vertragsnummern(user) == ['DJ-2024-0117']


async def test_staff_see_several_companies_and_narrow_down_by_kundennummer(
    user: User, visited_urls: list[str]
) -> None:
    await open_contracts(user, Role.STAFF)
    await user.should_see('Alle Kunden des Verkehrsunternehmens')
    assert vertragsnummern(user) == await expected_rows(sort='vertragsnummer', descending=False, only_active=True)
    assert len({row['firma'] for row in the_table(user).rows}) > 3
    user.find('Kundennummer').type('100317')
    button(user, 'Suchen').click()
    await user.should_see('angezeigt 1 bis 1 von 1 Einträge')
    assert vertragsnummern(user) == ['DJ-2024-0233']
    assert the_table(user).rows[0]['firma'] == 'Nordhessische Bauelemente AG'
    assert 'kundennummer=100317' in visited_urls[-1]


async def test_staff_kundennummer_search_by_enter_and_clearing_it_again(user: User) -> None:
    await open_contracts(user, Role.STAFF)
    everything = vertragsnummern(user)
    user.find('Kundennummer').type('100234').trigger('keydown.enter')
    await user.should_see('angezeigt 1 bis 1 von 1 Einträge')
    assert vertragsnummern(user) == ['DJ-2024-0117']
    user.find('Kundennummer').clear().trigger('clear')
    await user.should_see(f'angezeigt 1 bis {len(everything)} von {len(everything)} Einträge')
    assert vertragsnummern(user) == everything


@pytest.mark.parametrize('kundennummer', ['100317', '999999'])
async def test_admin_typing_another_kundennummer_finds_nothing(user: User, kundennummer: str) -> None:
    await open_contracts(user)
    await user.should_not_see(NOT_FOUND)
    user.find('Kundennummer').type(kundennummer)
    button(user, 'Suchen').click()
    await user.should_see(NOT_FOUND)
    await user.should_see('angezeigt 0 bis 0 von 0 Einträge')
    await user.should_not_see(ui.table)


async def test_the_search_field_filters_the_table(user: User, visited_urls: list[str]) -> None:
    await open_contracts(user, Role.STAFF)
    user.find(kind=ui.input, content='Suchen …').type('KASSEL rechnung')
    await user.should_see('angezeigt 1 bis 3 von 3 Einträge')
    assert vertragsnummern(user) == ['DJ-2023-0388', 'DJ-2024-0117', 'DJ-2024-0233']
    assert 'suche=KASSEL+rechnung' in visited_urls[-1]


async def test_sorting_by_a_column_header_reorders_and_is_kept_in_the_url(user: User, visited_urls: list[str]) -> None:
    await open_contracts(user, Role.STAFF)
    user.find(ui.table).trigger('request', {'pagination': {'sortBy': 'ort', 'descending': True, 'page': 1}})
    expected = await expected_rows(sort='ort', descending=True, only_active=True)
    await wait_until(lambda: vertragsnummern(user) == expected, 'the sorted rows')
    assert vertragsnummern(user) == expected
    assert the_table(user).pagination['sortBy'] == 'ort'
    assert the_table(user).pagination['descending'] is True
    assert 'sort=ort' in visited_urls[-1]
    assert 'absteigend=1' in visited_urls[-1]


# --- the state in the URL -------------------------------------------------------------------------------------------


async def test_the_url_reproduces_the_view(user: User) -> None:
    await open_contracts(user, Role.STAFF, '?aktiv=0&sort=firma&absteigend=1')
    expected = await expected_rows(sort='firma', descending=True, only_active=False)
    assert len(expected) == 9
    assert vertragsnummern(user) == expected
    assert [row['firma'] for row in the_table(user).rows] == sorted(
        (row['firma'] for row in the_table(user).rows), key=sort_key, reverse=True
    )
    assert the_table(user).pagination['sortBy'] == 'firma'
    assert the_table(user).pagination['descending'] is True
    (checkbox,) = user.find(kind=ui.checkbox, content='Aktive Verträge').elements
    assert checkbox.value is False
    await user.should_see('angezeigt 1 bis 9 von 9 Einträge')


async def test_the_url_the_page_writes_reproduces_the_view(user: User, visited_urls: list[str]) -> None:
    await open_contracts(user, Role.STAFF)
    user.find('Aktive Verträge').click()
    await user.should_see('angezeigt 1 bis 9 von 9 Einträge')
    user.find(ui.table).trigger('request', {'pagination': {'sortBy': 'status', 'descending': True}})
    expected = await expected_rows(sort='status', descending=True, only_active=False)
    await wait_until(lambda: vertragsnummern(user) == expected, 'the sorted rows')
    assert vertragsnummern(user) == expected
    url = visited_urls[-1]
    assert url.startswith('/vertragsverwaltung?')

    await user.open(url)
    await user.should_see('angezeigt 1 bis 9 von 9 Einträge')
    assert vertragsnummern(user) == expected


async def test_a_page_size_and_page_from_the_url(user: User) -> None:
    await open_contracts(user, Role.STAFF, '?aktiv=0&anzahl=25&seite=1&suche=kassel')
    expected = [nummer for nummer in await expected_rows(sort='vertragsnummer', descending=False, only_active=False)
                if nummer in {'DJ-2023-0042', 'DJ-2023-0388', 'DJ-2024-0117', 'DJ-2024-0233', 'DJ-2025-0318'}]
    assert vertragsnummern(user) == expected
    (size,) = user.find(kind=ui.select).elements
    assert size.value == 25
    await user.should_see(f'angezeigt 1 bis {len(expected)} von {len(expected)} Einträge')


@pytest.mark.parametrize(
    ('query', 'summary'),
    [
        ('?seite=abc&anzahl=x&sort=evil&absteigend=ja', 'angezeigt 1 bis 6 von 6 Einträge'),
        ('?seite=-3&sort=search_text', 'angezeigt 1 bis 6 von 6 Einträge'),
        ('?anzahl=7', 'angezeigt 1 bis 6 von 6 Einträge'),  # not offered by the select: 10
        ('?anzahl=0&seite=2', 'angezeigt 1 bis 6 von 6 Einträge'),
        ('?seite=999999999999999999999&anzahl=100', 'angezeigt 1 bis 6 von 6 Einträge'),
        ('?aktiv=&sort=&absteigend=', 'angezeigt 1 bis 6 von 6 Einträge'),
        ('?suche=' + 'x' * 5000, 'angezeigt 0 bis 0 von 0 Einträge'),
        ('?suche=%25&kundennummer=' + '1' * 500, 'angezeigt 0 bis 0 von 0 Einträge'),
    ],
)
async def test_garbage_in_the_url_falls_back_to_defaults(user: User, query: str, summary: str) -> None:
    await open_contracts(user, Role.STAFF, query)
    await user.should_see(summary)
    table = table_element(user)
    (size,) = user.find(kind=ui.select).elements
    assert size.value == table.pagination['rowsPerPage'] == (100 if 'anzahl=100' in query else 10)
    assert table.pagination['sortBy'] == 'vertragsnummer'
    assert table.pagination['page'] == 1
    if summary.startswith('angezeigt 0'):
        await user.should_see(NOT_FOUND)


async def test_the_footer_says_mehr_als_when_the_count_is_capped(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the cap (10,000; 4 here) the count stops: the footer says so in German and the pager ends at the cap."""
    monkeypatch.setattr('services.table_query.COUNT_CAP', 4)
    await open_contracts(user, Role.STAFF, '?aktiv=0')
    await user.should_see('angezeigt 1 bis 4 von mehr als 4 Einträge')
    await user.should_see('Geblättert werden die ersten 4 Einträge: für die übrigen die Sortierung umkehren')
    expected = await expected_rows(sort='vertragsnummer', descending=False, only_active=False)
    assert vertragsnummern(user) == expected[:4]
    (pager,) = user.find(kind=ui.pagination).elements
    assert pager.max == 1

    user.find(ui.table).trigger('request', {'pagination': {'sortBy': 'vertragsnummer', 'descending': True}})
    await wait_until(lambda: vertragsnummern(user) == expected[::-1][:4], 'the reversed rows')  # the last rows


# --- the Infos drawer -----------------------------------------------------------------------------------------------


async def test_infos_show_company_contract_and_the_code_button(user: User) -> None:
    await open_contracts(user)
    assert open_dialogs(user) == []
    await open_infos(user, 'DJ-2024-0117')
    (drawer,) = open_dialogs(user)
    for text in ('Firmendaten', 'Kundennummer', '100234', 'Fahrradmanufaktur Kassel GmbH',
                 'Wilhelmshöher Allee 273, 34131 Kassel', 'Anna Dietrich', 'DJ-2024-0117', 'Arbeitgeberzuschuss',
                 '20,00 € monatlich', '01.01.2024', 'unbefristet',
                 'Für diesen Vertrag gibt es noch keinen Kundencode.'):
        assert user.find(content=text).elements & set(drawer.descendants()), text
    assert button(user, 'Code').elements
    await user.should_not_see(marker='kundencode')


async def test_infos_of_another_companys_contract_are_not_found(user: User) -> None:
    await open_contracts(user)
    foreign = await Contract.get(vertragsnummer='DJ-2024-0233')
    user.find(ui.table).trigger('infos', {'id': foreign.id, 'label': 'DJ-2024-0233'})
    await user.should_see('Der Vertrag wurde nicht gefunden.')
    assert open_dialogs(user) == []
    await user.should_not_see('Nordhessische Bauelemente AG')
    await user.should_not_see('100317')


@pytest.mark.parametrize('role', [Role.READONLY, Role.CLERK])
async def test_readers_and_clerks_see_the_infos_but_no_code_button(user: User, role: Role) -> None:
    await open_contracts(user, role)
    await open_infos(user, 'DJ-2024-0117')
    await user.should_see('20,00 € monatlich')
    await user.should_not_see(kind=ui.button, content='Code')


async def test_staff_see_the_code_button_for_any_company(user: User) -> None:
    await open_contracts(user, Role.STAFF)
    await open_infos(user, 'DJ-2024-0233')
    await user.should_see('Nordhessische Bauelemente AG')
    await user.should_see('15,75 € monatlich')
    assert button(user, 'Code').elements


# --- the Code dialog ------------------------------------------------------------------------------------------------


async def open_code_dialog(user: User, vertragsnummer: str = 'DJ-2024-0117') -> ui.dialog:
    await open_infos(user, vertragsnummer)
    return await open_code_dialog_of_open_drawer(user)


async def open_code_dialog_of_open_drawer(user: User) -> ui.dialog:
    button(user, 'Code').click()
    return await dialog_with(user, 'Kundencode generieren')


def inside(user: User, dialog: ui.dialog, **filters: Any) -> UserInteraction[ui.element]:
    """Elements of one dialog only: closed dialogs stay in the page until their canary is collected, and the
    simulation would otherwise type into their fields, too, and click the older 'Generieren'."""
    with user:
        elements = set(ElementFilter(local_scope=False, **filters).within(instance=dialog))
    return UserInteraction(user, elements, filters.get('content'))


def date_field(user: User, dialog: ui.dialog) -> ui.input:
    return only(inside(user, dialog, kind=ui.input, content='Gültigkeitsdatum'), ui.input)


async def generate(user: User, dialog: ui.dialog, typed: str) -> None:
    inside(user, dialog, kind=ui.input, content='Gültigkeitsdatum').clear().type(typed)
    inside(user, dialog, kind=ui.button, content='Generieren').click()


async def test_generating_a_code_shows_it_and_it_validates(user: User) -> None:
    await open_contracts(user)
    dialog = await open_code_dialog(user)
    field = date_field(user, dialog)
    assert field.value == format_german_date(date(TODAY.year, 12, 31))  # the proposal: end of this year
    assert field.props['mask'] == '##.##.####'
    valid_until = TODAY + timedelta(days=200)
    await generate(user, dialog, format_german_date(valid_until))
    await user.should_see('Der Kundencode wurde generiert.')
    await user.should_see(marker='kundencode')
    label = only(user.find(marker='kundencode'), ui.label)
    assert CODE_SHAPE.match(label.text), label.text
    await user.should_see(f'gültig bis {format_german_date(valid_until)}')
    assert not dialog.value  # closed; the drawer stays open and shows the new code
    assert len(open_dialogs(user)) == 1

    check = await kundencode.validate(label.text)
    assert check.status is CodeStatus.VALID
    assert check.code is not None and check.contract is not None
    assert check.code.valid_until == valid_until
    assert check.contract.vertragsnummer == 'DJ-2024-0117'


async def test_replacing_the_code_asks_first(user: User) -> None:
    await open_contracts(user)
    await generate(user, await open_code_dialog(user), format_german_date(TODAY + timedelta(days=30)))
    await user.should_see(marker='kundencode')
    first = only(user.find(marker='kundencode'), ui.label)
    first_code = first.text
    later = TODAY + timedelta(days=60)

    dialog = await open_code_dialog_of_open_drawer(user)
    await generate(user, dialog, format_german_date(later))
    confirm = await dialog_with(user, 'Aktuellen Kundencode ersetzen?')
    assert inside(user, confirm, content=f'Der bisherige Kundencode {first_code}').elements
    inside(user, confirm, kind=ui.button, content='Abbrechen').click()
    await wait_until(lambda: not confirm.value)
    assert dialog.value  # back in the code dialog, nothing changed
    assert (await kundencode.validate(first_code)).status is CodeStatus.VALID
    assert await Kundencode.all().count() == 1

    inside(user, dialog, kind=ui.button, content='Generieren').click()
    confirm = await dialog_with(user, 'Aktuellen Kundencode ersetzen?')
    inside(user, confirm, kind=ui.button, content='Ersetzen').click()
    await user.should_see(f'gültig bis {format_german_date(later)}')
    second = only(user.find(marker='kundencode'), ui.label)
    assert second.text != first_code
    assert (await kundencode.validate(second.text)).status is CodeStatus.VALID
    assert (await kundencode.validate(first_code)).status is CodeStatus.REVOKED
    assert len(open_dialogs(user)) == 1  # only the drawer


async def test_a_date_in_the_past_is_refused_at_the_field(user: User) -> None:
    await open_contracts(user)
    dialog = await open_code_dialog(user)
    field = date_field(user, dialog)
    await generate(user, dialog, format_german_date(TODAY - timedelta(days=1)))
    await user.should_see('Das Gültigkeitsdatum darf nicht in der Vergangenheit liegen.')
    assert field.error == 'Das Gültigkeitsdatum darf nicht in der Vergangenheit liegen.'
    assert not await Kundencode.exists()
    assert dialog.value  # the dialog stays open for a correction

    await generate(user, dialog, format_german_date(TODAY))  # today is the earliest allowed date
    await user.should_see(marker='kundencode')
    assert cast(str | None, field.error) is None  # mypy keeps the narrowing from before the awaits
    assert await Kundencode.filter(valid_until=TODAY).count() == 1


async def test_typing_into_the_masked_field_appends_in_the_simulation(user: User) -> None:
    """The browser's mask (##.##.####) would stop at ten characters; the simulation appends to the proposed date,
    so the server gets an impossible date and answers with the format message, not an exception."""
    await open_contracts(user)
    dialog = await open_code_dialog(user)
    field = date_field(user, dialog)
    proposal = field.value
    inside(user, dialog, kind=ui.input, content='Gültigkeitsdatum').type('31.12.2030')
    assert field.value == proposal + '31.12.2030'
    inside(user, dialog, kind=ui.button, content='Generieren').click()
    await user.should_see('Bitte geben Sie ein Gültigkeitsdatum im Format TT.MM.JJJJ an.')
    assert not await Kundencode.exists()


async def test_no_code_for_an_ended_contract(user: User) -> None:
    await open_contracts(user, query='?aktiv=0')
    await open_infos(user, 'DJ-2023-0042')
    await user.should_see('beendet')
    await user.should_see('31.12.2023')
    await user.should_see('Kundencodes gibt es nur für aktive Verträge.')
    assert not [button for button in user.find(ui.button).elements if button.text == 'Code']
    assert not await Kundencode.exists()
