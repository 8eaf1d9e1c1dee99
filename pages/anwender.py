"""Anwender: the company's portal users — the table, 'Anwender einladen', and each row's menu (Rolle ändern,
Deaktivieren/Reaktivieren, Passwort-Link senden). Readers and clerks see the table without actions; staff choose the
company by Kundennummer (kept in the URL)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from fastapi import Request
from nicegui import APIRouter, events, ui

from models import Customer, PortalUser, Role
from pages.components import show_link
from pages.forms import REFUSED, confirm, error_banner, run_action, run_call, run_form
from pages.language import error_text
from pages.layout import client_address, page_heading, portal_page
from pages.server_table import Column, RowAction, ServerTable, event_row
from services import anwender, permissions, second_factor
from services.errors import NotFound, ServiceError
from services.permissions import Action
from services.table_query import TablePage, TableRequest
from services.validation import format_german_datetime

router = APIRouter()

COLUMNS = (
    Column('name', 'Name', on_phone=True),
    Column('email', 'E-Mail-Adresse'),
    Column('role', 'Rolle'),
    Column('is_active', 'Status', on_phone=True),
    Column('last_login_at', 'letzte Anmeldung'),
)
ROW_ACTIONS = (
    RowAction('Rolle ändern', 'manage_accounts', 'change_role'),
    RowAction('Deaktivieren', 'person_off', 'deactivate', show_if='may_deactivate'),
    RowAction('Reaktivieren', 'person_add', 'reactivate', show_if='inactive'),
    RowAction('Passwort-Link senden', 'link', 'password_link', show_if='active'),
    RowAction('Zweiten Faktor zurücksetzen', 'phonelink_erase', 'reset_second_factor',
              show_if='may_reset_second_factor'),
)
ROLE_OPTIONS = {role.value: role.label for role in permissions.COMPANY_ROLES}
ROLE_HELP = {
    Role.ADMIN: 'alles, auch Kundencodes generieren und Anwender verwalten',
    Role.CLERK: 'Anträge entscheiden, Abos beenden, Massenupload',
    Role.READONLY: 'nur ansehen',
}
STATUS_CELL = '''
<q-td :props="props">
  <q-badge :color="props.value === 'aktiv' ? 'positive' : (props.value === 'eingeladen' ? 'orange-9' : 'grey-7')"
           :label="props.value" class="text-body2 q-px-sm" />
</q-td>
'''


def user_row(user: PortalUser, actor: PortalUser) -> dict[str, object]:
    own = user.id == actor.id
    return {
        'id': user.id, 'label': user.name, 'name': f'{user.name} (Sie)' if own else user.name, 'email': user.email,
        'role': user.role_label, 'role_value': user.role.value, 'is_active': user.status,
        'last_login_at': format_german_datetime(user.last_login_at) or '–',
        'active': user.is_active, 'inactive': not user.is_active, 'may_deactivate': user.is_active and not own,
        'may_reset_second_factor': second_factor.is_enrolled(user) and not own
        and permissions.role_may(actor, Action.RESET_SECOND_FACTOR),
    }


def _dialog(width: int = 560) -> tuple[ui.dialog, ui.card]:
    """A dialog that removes itself when closed, and its card to fill."""
    with ui.dialog().on('hide', lambda e: e.sender.delete()) as dialog:
        card = ui.card().classes('q-pa-lg gap-3').style(f'width: min({width}px, 95vw)')
    return dialog, card


async def open_invite_dialog(
    actor: PortalUser, customer: Customer, base_url: str, client: str, on_done: Callable[[], Awaitable[None]]
) -> None:
    dialog, card = _dialog()

    async def invite() -> None:
        button.props('loading')
        try:
            issued = await run_form(fields, anwender.invite(
                actor, name=fields['name'].value or '', email=fields['email'].value or '',
                role=fields['role'].value or '', base_url=base_url, customer_id=customer.id, client=client,
            ))
        finally:
            button.props(remove='loading')
        if issued is REFUSED:
            return
        card.clear()
        with card:
            ui.label('Anwender einladen').classes('text-h6').props('role=heading aria-level=2')
            show_link(issued, dialog.close)
        await on_done()

    with card:
        ui.label('Anwender einladen').classes('text-h6').props('role=heading aria-level=2')
        ui.label(f'Für {customer.name}. Die Person bekommt einen Link, der 72 Stunden gilt und mit dem sie ihr '
                 'Passwort festlegt.').classes('text-body2 muted')
        fields = {
            'name': ui.input('Name').props('outlined autofocus maxlength=200').classes('w-full'),
            'email': ui.input('E-Mail-Adresse').props('outlined type=email maxlength=254').classes('w-full'),
            'role': ui.select(ROLE_OPTIONS, value=Role.CLERK.value, label='Rolle').props('outlined').classes('w-full'),
        }
        with ui.column().classes('gap-0 text-caption muted'):
            for role, text in ROLE_HELP.items():
                ui.label(f'{role.label}: {text}')
        with ui.row().classes('w-full justify-end'):
            ui.button('Abbrechen', on_click=dialog.close).props('flat no-caps')
            button = ui.button('Einladen', icon='send', on_click=invite).props('unelevated no-caps')
        fields['email'].on('keydown.enter', invite)
    dialog.open()


async def open_role_dialog(
    actor: PortalUser, row: dict, client: str, on_done: Callable[[], Awaitable[None]]
) -> None:
    dialog, card = _dialog(440)

    async def save() -> None:
        if await run_form({'role': role}, anwender.change_role(actor, row['id'], role.value or '', client=client),
                          banner=banner) is REFUSED:
            return
        ui.notify(f'Die Rolle von {row["label"]} ist jetzt „{ROLE_OPTIONS.get(role.value, "")}“.', type='positive')
        dialog.close()
        await on_done()

    with card:
        ui.label(f'Rolle von {row["label"]} ändern').classes('text-h6').props('role=heading aria-level=2')
        banner = error_banner()
        role = ui.select(ROLE_OPTIONS, value=row.get('role_value'), label='Rolle').props('outlined').classes('w-full')
        with ui.row().classes('w-full justify-end'):
            ui.button('Abbrechen', on_click=dialog.close).props('flat no-caps')
            ui.button('Speichern', on_click=save).props('unelevated no-caps')
    dialog.open()


async def open_link_dialog(actor: PortalUser, row: dict, base_url: str, client: str) -> None:
    issued = await run_action(anwender.send_password_link(actor, row['id'], base_url=base_url, client=client))
    if issued is REFUSED:
        return
    dialog, card = _dialog()
    with card:
        ui.label('Passwort-Link').classes('text-h6').props('role=heading aria-level=2')
        show_link(issued, dialog.close)
    dialog.open()


def users_url(kundennummer: str) -> str:
    return '/anwender' + (f'?{urlencode({"kundennummer": kundennummer})}' if kundennummer else '')


@portal_page(router, '/anwender', 'Anwender')
async def users_page(user: PortalUser, request: Request) -> None:
    kundennummer = request.query_params.get('kundennummer', '').strip()[:20]
    client = client_address(request)
    base_url = str(request.base_url)
    page_heading('Anwender', user.customer.name if user.customer else 'Anwender eines Kunden verwalten')
    sees_all = permissions.role_may(user, Action.VIEW_ALL_CUSTOMERS)

    if sees_all:
        def choose() -> None:
            ui.navigate.to(users_url((number.value or '').strip()[:20]))

        with ui.card().classes('portal-card w-full'), ui.row().classes('items-center gap-3 w-full'):
            number = ui.input('Kundennummer', value=kundennummer).props('outlined dense clearable maxlength=20') \
                .classes('w-64')
            ui.button('Suchen', icon='search', on_click=choose).props('unelevated no-caps')
            number.on('keydown.enter', choose)
    try:
        customer = await anwender.company(user, kundennummer)
    except NotFound as error:
        with ui.card().classes('portal-card w-full'), ui.row().classes('items-center gap-2 muted'):
            ui.icon('info', color='primary')
            ui.label(str(error))
        return

    may_manage = permissions.may(user, Action.INVITE_USER, customer.id)

    async def fetch(table_request: TableRequest) -> TablePage[PortalUser]:
        return await anwender.list_users(user, table_request, customer_id=customer.id)

    async def change_role(event: events.GenericEventArguments) -> None:
        if row := event_row(event):
            await open_role_dialog(user, row, client, table.refresh)

    async def act(row: dict | None, call: Callable[[int], Awaitable[object]], done: str,
                  question: tuple[str, str, str] | None = None) -> None:
        """A row action: ask first (if it cannot simply be undone), call the service, say what happened."""
        if row is None or (question is not None and not await confirm(*question)):
            return
        def refused(error: ServiceError) -> None:  # a long reason (the last administrator…) wraps
            ui.notify(error_text(error), type='negative', multi_line=True)

        if await run_call(call(row['id']), refused) is not REFUSED:
            ui.notify(done, type='positive')
        await table.refresh()

    async def deactivate(event: events.GenericEventArguments) -> None:
        if (row := event_row(event)) is not None:
            await act(row, lambda user_id: anwender.deactivate(user, user_id, client=client),
                      f'Der Zugang von {row["label"]} ist deaktiviert.', (
                          f'Zugang von {row["label"]} deaktivieren?',
                          'Die Person kann sich danach nicht mehr anmelden; laufende Sitzungen enden sofort. Sie '
                          'können den Zugang später wieder reaktivieren.',
                          'Deaktivieren',
                      ))

    async def reactivate(event: events.GenericEventArguments) -> None:
        if (row := event_row(event)) is not None:
            await act(row, lambda user_id: anwender.reactivate(user, user_id, client=client),
                      f'Der Zugang von {row["label"]} ist wieder aktiv.')

    async def password_link(event: events.GenericEventArguments) -> None:
        if row := event_row(event):
            await open_link_dialog(user, row, base_url, client)
            await table.refresh()

    async def reset_second_factor(event: events.GenericEventArguments) -> None:
        if (row := event_row(event)) is not None:
            await act(row, lambda user_id: second_factor.reset(user, user_id, client=client),
                      f'Der zweite Faktor von {row["label"]} ist zurückgesetzt.', (
                          f'Zweiten Faktor von {row["label"]} zurücksetzen?',
                          'Zum Beispiel, wenn das Telefon und die Wiederherstellungscodes verloren sind. Laufende '
                          'Sitzungen der Person enden; bei der nächsten Anmeldung richtet sie den zweiten Faktor neu '
                          'ein.',
                          'Zurücksetzen',
                      ))

    with ui.card().classes('portal-card w-full gap-2'):
        with ui.row().classes('items-center w-full gap-4'):
            ui.label(f'Anwender von {customer.name}' if sees_all else 'Anwender Ihrer Firma').classes(
                'text-h6').props('role=heading aria-level=2')
            ui.space()
            search = ui.input(placeholder='Suchen …').props(
                'outlined dense clearable debounce=350 maxlength=100 aria-label="In Anwendern suchen"'
            ).classes('w-64')
            with search.add_slot('prepend'):
                ui.icon('search')
            if may_manage:
                ui.button('Anwender einladen', icon='person_add', on_click=lambda: open_invite_dialog(
                    user, customer, base_url, client, table.refresh
                )).props('unelevated no-caps')
        table: ServerTable = ServerTable(
            columns=COLUMNS, fetch=fetch, to_row=lambda row: user_row(row, user), request=TableRequest(sort='name'),
            on_change=lambda _: None, empty_text='Keine Anwender gefunden', actions=ROW_ACTIONS if may_manage else (),
        )
        table.table.add_slot('body-cell-is_active', STATUS_CELL)
        for name, handler in (('change_role', change_role), ('deactivate', deactivate), ('reactivate', reactivate),
                              ('password_link', password_link), ('reset_second_factor', reset_second_factor)):
            table.table.on(name, handler)
        search.on_value_change(lambda event: table.update(search=event.value or '', page=1))
    if not may_manage:
        ui.label('Anwender einladen und Rollen ändern können nur die Administratoren Ihrer Firma.').classes(
            'muted text-body2')
    await table.refresh()
