"""Anwender, the invitation link page, Protokoll, Verwaltung and Profil through NiceGUI's simulated user, with the
demo data (issue 7). Quasar's slot menus cannot be clicked in the simulation, so row actions are triggered as the
menu would emit them; the outcome is checked in the database."""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

import pytest
from nicegui import ElementFilter, ui
from nicegui.testing import User
from nicegui.testing.user_interaction import UserInteraction

from models import AuditEvent, Contract, ContractStatus, Customer, Invitation, PortalUser, Role
from services import anwender, one_time_links
from services.audit import AuditKind
from tests.pages.conftest import demo_login, log_in
from tests.support import wait_until

pytestmark = pytest.mark.both_databases  # the company's main pages, also on PostgreSQL
E = TypeVar('E', bound=ui.element)
NEW_PASSWORD = 'Auepark-Sommer-Abend-31'
ADMIN_EMAIL = 'admin@fahrradmanufaktur-kassel.de'
CLERK_EMAIL = 'sachbearbeitung@fahrradmanufaktur-kassel.de'


# --- helpers --------------------------------------------------------------------------------------------------------


def all_of(user: User, kind: type[E], **filters: Any) -> list[E]:
    with user:
        return sorted(ElementFilter(kind=kind, local_scope=False, **filters), key=lambda element: element.id)


def open_dialogs(user: User) -> list[ui.dialog]:
    return [dialog for dialog in all_of(user, ui.dialog) if dialog.value]


def the_table(user: User) -> ui.table:
    (table,) = all_of(user, ui.table)
    return table


def rows_by_email(user: User) -> dict[str, dict]:
    return {row['email']: row for row in the_table(user).rows}


def field(user: User, kind: type[E], label: str) -> E:
    """The visible field with exactly this label (the page may hold closed dialogs' fields too)."""
    (element,) = [element for element in all_of(user, kind) if element.props.get('label') == label
                  and element.visible and not element.is_deleted]
    return element


async def open_users(user: User, role: Role = Role.ADMIN, query: str = '') -> None:
    await log_in(user, role)
    await user.should_see('Willkommen', retries=50)
    await user.open('/anwender' + query)
    await user.should_see('Anwender', retries=50)


def trigger(user: User, event: str, row: dict) -> None:
    UserInteraction(user, {the_table(user)}, None).trigger(event, row)


def click(user: User, label: str) -> None:
    buttons = {button for button in all_of(user, ui.button) if button.text == label and button.visible}
    assert len(buttons) == 1, f'{len(buttons)} buttons {label!r}'
    UserInteraction(user, buttons, label).click()


# --- the Anwender table ---------------------------------------------------------------------------------------------


async def test_the_admin_sees_the_companys_users_with_actions(user: User) -> None:
    await open_users(user)
    await user.should_see('Anwender Ihrer Firma')
    await wait_until(lambda: len(the_table(user).rows) == 3, 'three demo users')
    rows = rows_by_email(user)
    assert set(rows) == {ADMIN_EMAIL, CLERK_EMAIL, 'lesen@fahrradmanufaktur-kassel.de'}
    assert (rows[ADMIN_EMAIL]['name'], rows[ADMIN_EMAIL]['role'], rows[ADMIN_EMAIL]['is_active']) == (
        'Anna Dietrich (Sie)', 'Administrator', 'aktiv')
    assert rows[ADMIN_EMAIL]['last_login_at'] != '–'  # this login
    assert rows[CLERK_EMAIL]['role'] == 'Sachbearbeitung'
    assert rows[ADMIN_EMAIL]['may_deactivate'] is False and rows[CLERK_EMAIL]['may_deactivate'] is True
    assert [column['label'] for column in the_table(user).columns] == [
        'Name', 'E-Mail-Adresse', 'Rolle', 'Status', 'letzte Anmeldung', '']
    await user.should_see(kind=ui.button, content='Anwender einladen')
    await user.should_not_see('Kaufunger')


@pytest.mark.parametrize('role', [Role.CLERK, Role.READONLY])
async def test_clerks_and_readers_see_the_list_without_actions(user: User, role: Role) -> None:
    await open_users(user, role)
    await wait_until(lambda: len(the_table(user).rows) == 3, 'three demo users')
    assert 'aktionen' not in [column['name'] for column in the_table(user).columns]
    await user.should_not_see(kind=ui.button, content='Anwender einladen')
    await user.should_see('Anwender einladen und Rollen ändern können nur die Administratoren Ihrer Firma.')
    row = rows_by_email(user)[ADMIN_EMAIL]
    trigger(user, 'deactivate', row)  # a forged event changes nothing: there is no handler … and no permission
    await asyncio.sleep(0.2)
    assert (await PortalUser.get(email=ADMIN_EMAIL)).is_active


async def test_invite_shows_the_link_once(user: User) -> None:
    await open_users(user)
    click(user, 'Anwender einladen')
    await user.should_see('Die Person bekommt einen Link')
    field(user, ui.input, 'Name').set_value('Eva Kollegin')
    field(user, ui.input, 'E-Mail-Adresse').set_value('Eva@Fahrradmanufaktur-Kassel.de')
    assert field(user, ui.select, 'Rolle').value == 'clerk'
    click(user, 'Einladen')
    await user.should_see('Die Einladung für Eva Kollegin ist erstellt.', retries=50)
    await user.should_see('Es ist kein E-Mail-Versand eingerichtet', retries=5)
    (link_field,) = [element for element in all_of(user, ui.textarea) if element.props.get('aria-label')
                     == 'Einladungslink']
    link = link_field.value
    assert link.startswith('http://') and '/einladung/' in link
    invited = await PortalUser.get(email='eva@fahrradmanufaktur-kassel.de')
    assert (invited.role, invited.status) == (Role.CLERK, 'eingeladen')
    await anwender.check_link(link.rsplit('/', 1)[1])
    await wait_until(lambda: 'eva@fahrradmanufaktur-kassel.de' in rows_by_email(user), 'the table refreshed')
    assert rows_by_email(user)['eva@fahrradmanufaktur-kassel.de']['is_active'] == 'eingeladen'
    event = await AuditEvent.get(kind=AuditKind.USER_INVITED)
    assert event.client  # the browser's address


async def test_a_bad_invitation_shows_the_message_at_the_field(user: User) -> None:
    await open_users(user)
    click(user, 'Anwender einladen')
    await user.should_see('Die Person bekommt einen Link')
    field(user, ui.input, 'Name').set_value('Doppelt')
    field(user, ui.input, 'E-Mail-Adresse').set_value(CLERK_EMAIL)
    click(user, 'Einladen')
    email = field(user, ui.input, 'E-Mail-Adresse')
    await wait_until(lambda: email.error == anwender.EMAIL_TAKEN, 'the field error')
    assert await PortalUser.filter(name='Doppelt').count() == 0
    assert len(open_dialogs(user)) == 1


async def test_deactivate_and_reactivate_from_the_row_menu(user: User) -> None:
    await open_users(user)
    await wait_until(lambda: CLERK_EMAIL in rows_by_email(user))
    trigger(user, 'deactivate', rows_by_email(user)[CLERK_EMAIL])
    await user.should_see('Zugang von Jonas Weber deaktivieren?')
    click(user, 'Deaktivieren')
    await user.should_see('Der Zugang von Jonas Weber ist deaktiviert.', retries=50)
    assert not (await PortalUser.get(email=CLERK_EMAIL)).is_active
    await wait_until(lambda: rows_by_email(user)[CLERK_EMAIL]['is_active'] == 'deaktiviert')
    assert rows_by_email(user)[CLERK_EMAIL]['inactive'] is True

    trigger(user, 'reactivate', rows_by_email(user)[CLERK_EMAIL])
    await user.should_see('Der Zugang von Jonas Weber ist wieder aktiv.', retries=50)
    assert (await PortalUser.get(email=CLERK_EMAIL)).is_active


async def test_the_last_admin_cannot_demote_themselves(user: User) -> None:
    await open_users(user)
    await wait_until(lambda: ADMIN_EMAIL in rows_by_email(user))
    trigger(user, 'change_role', rows_by_email(user)[ADMIN_EMAIL])
    await user.should_see('Rolle von Anna Dietrich ändern')
    field(user, ui.select, 'Rolle').set_value('readonly')
    click(user, 'Speichern')
    await user.should_see(anwender.LAST_ADMIN, retries=50)
    assert (await PortalUser.get(email=ADMIN_EMAIL)).role == Role.ADMIN


async def test_change_a_role(user: User) -> None:
    await open_users(user)
    await wait_until(lambda: CLERK_EMAIL in rows_by_email(user))
    trigger(user, 'change_role', rows_by_email(user)[CLERK_EMAIL])
    await user.should_see('Rolle von Jonas Weber ändern')
    field(user, ui.select, 'Rolle').set_value('admin')
    click(user, 'Speichern')
    await user.should_see('Die Rolle von Jonas Weber ist jetzt „Administrator“.', retries=50)
    assert (await PortalUser.get(email=CLERK_EMAIL)).role == Role.ADMIN
    await wait_until(lambda: rows_by_email(user)[CLERK_EMAIL]['role'] == 'Administrator')


async def test_a_password_link_from_the_row_menu(user: User) -> None:
    await open_users(user)
    await wait_until(lambda: CLERK_EMAIL in rows_by_email(user))
    trigger(user, 'password_link', rows_by_email(user)[CLERK_EMAIL])
    await user.should_see('Der Passwort-Link für Jonas Weber ist erstellt.', retries=50)
    clerk = await PortalUser.get(email=CLERK_EMAIL)
    assert await Invitation.filter(user_id=clerk.id, purpose='passwort').count() == 1


async def test_another_companys_user_id_is_not_found(user: User) -> None:
    foreign_company = await Customer.get(kundennummer='200418')
    foreign = await PortalUser.create(email='chef@kaufunger-holzbau.de', name='Martin Lange', role=Role.ADMIN,
                                      customer=foreign_company, password_hash='x')
    await open_users(user)
    await wait_until(lambda: len(the_table(user).rows) == 3)
    trigger(user, 'reactivate', {'id': foreign.id, 'label': 'Martin Lange'})
    await user.should_see(anwender.NOT_FOUND, retries=50)
    trigger(user, 'password_link', {'id': foreign.id, 'label': 'Martin Lange'})
    await asyncio.sleep(0.2)
    assert not await Invitation.exists(user_id=foreign.id)


async def test_staff_choose_the_company_by_kundennummer(user: User) -> None:
    await open_users(user, Role.STAFF)
    await user.should_see(anwender.NO_CUSTOMER_CHOSEN)
    await user.open('/anwender?kundennummer=999999')
    await user.should_see(anwender.CUSTOMER_NOT_FOUND)
    await user.open('/anwender?kundennummer=100234')
    await user.should_see('Anwender von Fahrradmanufaktur Kassel GmbH')
    await wait_until(lambda: len(the_table(user).rows) == 3)
    await user.should_see(kind=ui.button, content='Anwender einladen')


async def test_a_company_user_cannot_look_at_another_company(user: User) -> None:
    await open_users(user, Role.ADMIN, '?kundennummer=200418')
    await user.should_see(anwender.CUSTOMER_NOT_FOUND)
    await user.should_not_see('Kaufunger')


# --- the link page --------------------------------------------------------------------------------------------------


async def invitation_token() -> str:
    admin = await PortalUser.get(email=ADMIN_EMAIL)
    issued = await anwender.invite(admin, name='Eva Kollegin', email='eva@fahrradmanufaktur-kassel.de',
                                   role=Role.CLERK, base_url='http://test')
    return issued.link.rsplit('/', 1)[1]


async def test_the_link_page_sets_the_password_once(user: User) -> None:
    await user.open('/')  # start the app (and load the demo data)
    token = await invitation_token()
    await user.open(f'/einladung/{token}')
    await user.should_see('Willkommen im Firmenportal')
    await user.should_see('eva@fahrradmanufaktur-kassel.de')
    field(user, ui.input, 'Neues Passwort').set_value(NEW_PASSWORD)
    field(user, ui.input, 'Neues Passwort wiederholen').set_value(NEW_PASSWORD + 'x')
    click(user, 'Passwort speichern')
    confirmation = field(user, ui.input, 'Neues Passwort wiederholen')
    await wait_until(lambda: confirmation.error == 'Die Passwörter stimmen nicht überein.')
    confirmation.set_value(NEW_PASSWORD)
    click(user, 'Passwort speichern')
    await user.should_see('Ihr Passwort ist gespeichert.', retries=50)
    await user.should_see(kind=ui.button, content='Zur Anmeldung')
    assert (await PortalUser.get(email='eva@fahrradmanufaktur-kassel.de')).status == 'aktiv'

    await user.open(f'/einladung/{token}')
    await user.should_see('Link nicht gültig')
    await user.should_see(one_time_links.LINK_USED)


async def test_an_unknown_link_says_so(user: User) -> None:
    await user.open('/einladung/ausgedacht')
    await user.should_see('Link nicht gültig')
    await user.should_see(one_time_links.LINK_UNKNOWN)
    await user.should_not_see('Passwort speichern')


# --- Protokoll, Verwaltung, Profil ----------------------------------------------------------------------------------


async def test_the_protocol_for_admins_not_for_clerks(user: User) -> None:
    await log_in(user, Role.ADMIN)
    await user.should_see('Protokoll', retries=50)  # in the sidebar
    await user.open('/protokoll')
    await user.should_see('Filtern')
    await wait_until(lambda: the_table(user).rows, 'events')
    assert the_table(user).columns[0]['label'] == 'Zeitpunkt'
    kinds = {row['kind'] for row in the_table(user).rows}
    assert 'Anmeldung' in kinds
    field(user, ui.select, 'Ereignis').set_value('login')
    await wait_until(lambda: {row['kind'] for row in the_table(user).rows} == {'Anmeldung'})


async def test_clerks_have_no_protocol(user: User) -> None:
    await log_in(user, Role.CLERK)
    await user.should_see('Willkommen', retries=50)
    await user.should_not_see(kind=ui.label, content='Protokoll')  # the sidebar's entry
    await user.open('/protokoll')
    await user.should_see('Dazu fehlt Ihnen die Berechtigung.')
    await user.should_not_see('Filtern')


async def test_verwaltung_is_for_staff_only(user: User) -> None:
    await log_in(user, Role.ADMIN)
    await user.should_see('Willkommen', retries=50)
    await user.should_not_see(kind=ui.label, content='Verwaltung')  # the sidebar's entry
    await user.open('/verwaltung')
    await user.should_see('Dazu fehlt Ihnen die Berechtigung.')
    await user.should_not_see('Neuer Kunde')


async def test_staff_create_a_customer_and_change_a_contracts_status(user: User) -> None:
    await log_in(user, Role.STAFF)
    await user.should_see('Willkommen', retries=50)
    await user.open('/verwaltung')
    await user.should_see('Neuer Kunde')
    for label, value in (
        ('Kundennummer', '300100'), ('Firmenname', 'Muster GmbH'), ('Straße und Hausnummer', 'Königsplatz 1'),
        ('PLZ', '34117'), ('Ort', 'Kassel'), ('Arbeitgeberzuschuss (€)', '15,75'), ('Name', 'Petra Muster'),
        ('E-Mail-Adresse', 'petra@muster.de'),
    ):
        field(user, ui.input, label).set_value(value)
    (vertragsnummer, _) = [element for element in all_of(user, ui.input) if element.props.get('label')
                           == 'Vertragsnummer']
    vertragsnummer.set_value('DJ-2026-0900')
    click(user, 'Anlegen und einladen')
    await user.should_see('Muster GmbH (300100) ist angelegt, mit Vertrag DJ-2026-0900.', retries=50)
    await user.should_see('Die Einladung für Petra Muster ist erstellt.')
    admin = await PortalUser.get(email='petra@muster.de')
    assert (admin.role, admin.status) == (Role.ADMIN, 'eingeladen')

    (_, search) = [element for element in all_of(user, ui.input) if element.props.get('label') == 'Vertragsnummer']
    search.set_value('DJ-2026-0900')
    click(user, 'Suchen')
    await user.should_see('Neuer Status', retries=50)
    field(user, ui.select, 'Neuer Status').set_value('beendet')
    click(user, 'Status ändern')
    await user.should_see('Vertrag DJ-2026-0900 auf „beendet“ setzen?', retries=50)
    (confirm_button,) = [button for button in all_of(user, ui.button) if button.text == 'Status ändern'
                         and any(button in dialog.descendants() for dialog in open_dialogs(user))]
    UserInteraction(user, {confirm_button}, 'Status ändern').click()
    await user.should_see('Vertrag DJ-2026-0900 ist jetzt „beendet“.', retries=50)
    assert (await Contract.get(vertragsnummer='DJ-2026-0900')).status == ContractStatus.BEENDET


async def test_the_profile_shows_the_users_own_logins(user: User) -> None:
    login = demo_login(Role.CLERK)
    await log_in(user, Role.CLERK)
    await user.should_see('Willkommen', retries=50)
    await user.open('/profil')
    await user.should_see('Ihre letzten Anmeldungen')
    await user.should_see(login.email)
    await user.should_see('Sachbearbeitung')
    (table,) = all_of(user, ui.table)
    clerk = await PortalUser.get(email=login.email)
    assert len(table.rows) == await AuditEvent.filter(kind=AuditKind.LOGIN, actor_id=clerk.id).count() == 1
