"""Small widgets and helpers shared by several pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, TypeVar
from urllib.parse import urlencode

import segno
from nicegui import ui

from models import InvitationPurpose, PortalUser
from pages.forms import REFUSED, run_call
from pages.language import _, current, error_text
from pages.theme import MAIN_ID, SIDEBAR
from services import legal, second_factor
from services.anwender import IssuedLink
from services.table_query import TableRequest
from services.validation import format_german_date, format_german_datetime

E = TypeVar('E', bound=ui.element)


def set_props(element: E, **values: str | bool) -> E:
    """Set properties from values, never by parsing a string: `.props(f'aria-label="{name}"')` lets a name with a
    quote add properties of its own (even `:`-bound JavaScript). Underscores become dashes (aria_label →
    aria-label)."""
    for name, value in values.items():
        element.props[name.replace('_', '-')] = value
    return element


class Table(ui.table):
    """`ui.table` that does not send itself back when the browser reports the pagination it was given.

    Quasar emits `update:pagination` once when a table mounts; NiceGUI stores the value and sends the whole table
    again (with every row), and Vue renders the page once more. A pagination that really changed still goes out."""

    @property
    def pagination(self) -> dict[str, Any]:
        return self._props['pagination']

    @pagination.setter
    def pagination(self, value: dict[str, Any]) -> None:
        if value != self._props.get('pagination'):
            self._props['pagination'] = value


def second_factor_enrolment(
    user: PortalUser, client: str, on_enrolled: Callable[[list[str]], Awaitable[None] | None],
    before: Callable[[], bool] = lambda: True,
) -> None:
    """Set up the authenticator app: QR code and key, then the first code confirms it (login and Profil)."""
    secret = second_factor.new_secret()
    ui.label(
        'Scannen Sie den QR-Code mit einer Authenticator-App (z. B. FreeOTP, Google oder Microsoft Authenticator) '
        'und geben Sie den angezeigten Code ein.'
    ).classes('text-body2')
    qr = segno.make(second_factor.provisioning_uri(user, secret), error='m')
    set_props(ui.image(qr.svg_data_uri(scale=5, border=2)).style('width: 200px; height: 200px'),
              alt='QR-Code zum Einrichten der Authenticator-App')
    ui.label('Oder den Schlüssel von Hand eingeben:').classes('text-body2 muted')
    ui.label(' '.join(secret[i:i + 4] for i in range(0, len(secret), 4))).classes('font-mono text-body1').mark(
        'totp-secret')
    code = second_factor_code_input()
    problem = ui.label().classes('text-negative text-body2').props('role=alert')

    async def confirm() -> None:
        if not before():
            return
        problem.text = ''
        codes = await run_call(second_factor.enrol(user, secret, code.value or '', client=client),
                               lambda error: problem.set_text(error_text(error)))
        if codes is REFUSED:
            return
        result = on_enrolled(codes)
        if result is not None:
            await result

    code.on('keydown.enter', confirm)
    ui.button('Einrichten', on_click=confirm).props('unelevated size=lg no-caps').classes('w-full')


def second_factor_code_input() -> ui.input:
    return ui.input('Bestätigungscode').props(
        'outlined autofocus autocomplete=one-time-code inputmode=numeric maxlength=20 '
        'hint="6 Ziffern aus der App – oder ein Wiederherstellungscode"'
    ).classes('w-full')


def recovery_codes(codes: list[str]) -> None:
    """The ten recovery codes, shown once after a set-up."""
    ui.label(
        'Bewahren Sie diese Wiederherstellungscodes sicher auf (ausdrucken oder im Passwort-Manager). Jeder gilt '
        'einmal, falls Sie Ihr Telefon nicht zur Hand haben. Sie werden nur jetzt angezeigt.'
    ).classes('text-body2')
    with ui.grid(columns=2).classes('w-full gap-1 font-mono text-body1').mark('recovery-codes'):
        for value in codes:
            ui.label(value)


def public_frame(max_width: str = '480px') -> ui.column:
    """The frame of the public one-card pages (invitation link, Passwort vergessen, the legal pages): a brand bar, a
    centred column."""
    ui.context.client.content.classes('p-0 gap-0')
    legal_footer()
    with ui.row().classes('w-full items-center gap-2 q-px-lg q-py-md text-white').style(f'background: {SIDEBAR}'):
        ui.icon('directions_bus', size='32px')
        ui.label('D-Ticket Job · Firmenportal').classes('text-h6 text-white')
    with ui.column().classes('w-full items-center q-pa-lg'):
        return ui.column().classes('w-full gap-4').style(f'max-width: {max_width}')


LEGAL_CSS = '''
.legal-footer { border-top: 1px solid #DDE4EE; }
.legal-text h2 { font-size: 1.2rem; line-height: 1.6rem; font-weight: 600; color: #12263F; margin: 1.2rem 0 0.4rem; }
.legal-text p, .legal-text li { font-size: 1rem; line-height: 1.5; }
'''


def legal_footer(*, kiosk: bool = False) -> ui.footer:
    """The footer of every page: Impressum, Datenschutz, Barrierefreiheit, Hilfe (a Quasar footer that scrolls with
    the page; call it at the page's top level). On the kiosk, which nobody may leave, the texts open in a dialog and
    their links are plain text. The legal texts are German only: on an English page the footer says so (lang=de)."""
    ui.add_css(LEGAL_CSS)
    with ui.footer(fixed=False).classes('legal-footer bg-white q-px-md q-py-sm') as footer, ui.row().classes(
        'w-full justify-center items-center gap-x-4 gap-y-1'
    ):
        if current() != 'de':
            footer.props['lang'] = 'de'
        for entry in legal.PAGES:
            if kiosk:
                ui.button(entry.title, on_click=lambda entry=entry: _legal_dialog(entry)).props(
                    'flat no-caps color=primary')
            else:
                ui.link(entry.title, entry.path).classes('text-body2 q-py-xs')
    return footer


def _legal_dialog(entry: legal.LegalPage) -> None:
    with ui.dialog() as dialog, ui.card().classes('kiosk-dialog q-pa-lg gap-2').style(
        'width: min(760px, 96vw); max-width: 96vw'
    ):
        with ui.row().classes('w-full items-center no-wrap'):
            set_props(ui.label(entry.title).classes('text-h5 col').props('role=heading aria-level=2'), lang='de')
            set_props(ui.button(icon='close', on_click=dialog.close).props('flat round'), aria_label=_('Schließen'))
        set_props(ui.markdown(legal.without_links(legal.text(entry.slug))).classes('legal-text w-full'), lang='de')
        ui.button(_('Schließen'), on_click=dialog.close).props('unelevated no-caps').classes('self-end')
    dialog.on('hide', dialog.delete)
    dialog.open()


def skip_link() -> None:
    """The first tab stop of a page with navigation before its content: „Zum Inhalt springen“."""
    ui.link(_('Zum Inhalt springen'), f'#{MAIN_ID}').classes('skip-link')


def main_anchor() -> None:
    """Where the skip link lands: focusable by script only, so the next Tab goes on into the content."""
    ui.element('span').props(f'id={MAIN_ID} tabindex=-1')


def german_date_input(label: str, value: date, hint: str) -> ui.input:
    """A text field for DD.MM.YYYY with a calendar to pick from; typing and picking both work."""
    with ui.input(label, value=format_german_date(value)).props(
        f'outlined mask="##.##.####" hint="{hint}" aria-label="{label} (TT.MM.JJJJ)"'
    ).classes('w-full') as field:
        with field.add_slot('append'):
            # a real button (Quasar hides icons from screen readers with aria-hidden, a focusable one included)
            picker_button = ui.button(icon='event').props('flat round dense color=primary aria-label="Kalender öffnen"')
        with set_props(ui.menu(), role='dialog', aria_label=f'Kalender: {label}').props('no-parent-event') as menu:
            ui.date(mask='DD.MM.YYYY').bind_value(field).props('first-day-of-week=1 today-btn').on(
                'update:model-value', menu.close
            )
        picker_button.on_click(menu.open)
    return field


def show_link(issued: IssuedLink, on_close: Callable[[], object]) -> None:
    """The fresh one-time link, shown once, with a copy button and whether it was mailed."""
    user = issued.user
    invitation = issued.purpose == InvitationPurpose.EINLADUNG
    with ui.row().classes('items-center no-wrap gap-2'):
        ui.icon('check_circle', color='positive', size='md').props('aria-hidden=true')
        ui.label(f'Die Einladung für {user.name} ist erstellt.' if invitation
                 else f'Der Passwort-Link für {user.name} ist erstellt.').classes('text-subtitle1 text-weight-medium')
    ui.label(
        f'Geben Sie diesen Link an {user.email} weiter. Er gilt bis {format_german_datetime(issued.expires_at)} Uhr '
        'und nur einmal; damit legt die Person ihr Passwort fest.'
    ).classes('text-body2')
    ui.textarea(value=issued.link).props('outlined dense readonly autogrow aria-label="Einladungslink"').classes(
        'w-full font-mono').style('word-break: break-all').mark('einladungslink')

    def copy() -> None:
        ui.clipboard.write(issued.link)
        ui.notify('Link kopiert.', type='positive')

    ui.button('Link kopieren', icon='content_copy', on_click=copy).props('unelevated no-caps')
    if issued.mailed:
        note, icon, colour = f'Der Link wird außerdem per E-Mail an {user.email} gesendet.', 'mail', 'bg-green-1'
    else:
        note, icon, colour = ('Es ist kein E-Mail-Versand eingerichtet: Bitte geben Sie den Link selbst weiter, '
                              'zum Beispiel per E-Mail oder Chat.', 'info', 'bg-blue-1')
    with ui.row().classes(f'w-full items-center no-wrap gap-2 q-pa-sm rounded-borders {colour}'):
        ui.icon(icon, color='primary').props('aria-hidden=true')
        ui.label(note).classes('text-body2')
    with ui.row().classes('w-full justify-end'):
        ui.button('Schließen', on_click=on_close).props('unelevated no-caps')


def state_url(kundennummer: str, only_active: bool, request: TableRequest) -> str:
    query = {
        'kundennummer': kundennummer, 'aktiv': '1' if only_active else '0', 'suche': request.search,
        'sort': request.sort, 'absteigend': '1' if request.descending else '0', 'seite': request.page,
        'anzahl': request.page_size,
    }
    return '/vertragsverwaltung?' + urlencode({key: value for key, value in query.items() if value != ''})
