"""The "Infos" drawer of a contract: Firmendaten, the contract, and the current Kundencode with "Code"."""

from __future__ import annotations

import segno
from fastapi import Request
from nicegui import ui

from models import Contract, ContractStatus, Kundencode, PortalUser
from pages.code_dialog import open_code_dialog
from pages.forms import REFUSED, confirm, run_action
from pages.layout import client_address
from pages.zuschuss_dialog import open_subsidy_dialog
from services import abo_dates, aushang, clock, kundencode, permissions, vertraege, zuschuesse
from services.errors import NotFound
from services.permissions import Action
from services.self_service_link import self_service_link
from services.validation import format_euro, format_german_date

QR_SIZE = '176px'  # a Self-Service link is a version 3–4 code (≈ 37 modules with the quiet zone): ≈ 4.7 px a module


def _facts(rows: list[tuple[str, str]]) -> None:
    # minmax(0, 1fr) and 'anywhere': a long e-mail address breaks instead of widening a 320 px drawer by 14 px.
    with ui.grid(columns='auto minmax(0, 1fr)').classes('w-full gap-x-6 gap-y-1 text-body2'):
        for label, value in rows:
            ui.label(label).classes('muted')
            ui.label(value or '–').style('overflow-wrap: anywhere')


def _section(title: str, icon: str) -> None:
    with ui.row().classes('items-center gap-2 q-mt-md'):
        ui.icon(icon, color='primary')
        ui.label(title).classes('text-subtitle1 text-weight-medium').props('role=heading aria-level=3')


class ContractInfoDrawer:
    """A side panel over the table (Quasar dialog at the right edge), so the table stays where it was."""

    def __init__(self, actor: PortalUser, request: Request) -> None:
        self.actor = actor
        self.request = request
        self.contract_id: int | None = None
        with ui.dialog().props('position=right full-height') as self.dialog, ui.card().classes(
            'h-full q-pa-lg no-border-radius'
        ).style('width: min(520px, 100vw); max-width: 100vw'):
            self.content = ui.column().classes('w-full gap-1')

    async def open(self, contract_id: int) -> None:
        self.contract_id = contract_id
        try:
            await self.render()
        except NotFound as error:
            ui.notify(str(error), type='negative')
            return
        self.dialog.open()

    async def render(self) -> None:
        contract = await vertraege.get_contract(self.actor, self.contract_id or 0)
        code = await kundencode.current_code(self.actor, contract.id)
        subsidy = await zuschuesse.history(self.actor, contract.id)
        self.content.clear()
        with self.content:
            with ui.row().classes('w-full items-center'):
                ui.label('Infos').classes('text-h6').props('role=heading aria-level=2')
                ui.space()
                ui.button(icon='close', on_click=self.dialog.close).props('flat round dense aria-label="Schließen"')
            customer = contract.customer
            _section('Firmendaten', 'business')
            _facts([
                ('Firma', customer.name), ('Kundennummer', customer.kundennummer),
                ('Anschrift', f'{customer.strasse}, {customer.plz} {customer.ort}'),
                ('Ansprechpartner', customer.ansprechpartner), ('E-Mail', customer.email),
                ('Telefon', customer.telefon),
            ])
            _section('Vertrag', 'description')
            _facts([
                ('Vertragsnummer', contract.vertragsnummer), ('Produktangebot', contract.produktangebot.value),
                ('Status', contract.status.value), ('Beginn', format_german_date(contract.beginn)),
                ('Ende', format_german_date(contract.ende) or 'unbefristet'),
                ('Arbeitgeberzuschuss', f'{format_euro(subsidy.current_cent)} monatlich'),
            ])
            _section('Arbeitgeberzuschuss', 'euro')
            self._subsidy(contract, subsidy)
            _section('Kundencode', 'vpn_key')
            self._code(contract, code)

    def _subsidy(self, contract: Contract, subsidy: zuschuesse.SubsidyHistory) -> None:
        """The history „ab Monat X: Y €“ and, for administrators and staff, „Zuschuss ändern“."""
        _facts([(f'ab {abo_dates.month_label(start)}', f'{format_euro(cents)} monatlich')
                for start, cents in subsidy.entries])
        if permissions.may(self.actor, Action.CHANGE_SUBSIDY, contract.customer_id):
            ui.button('Zuschuss ändern', icon='edit', on_click=lambda: open_subsidy_dialog(
                self.actor, contract, client_address(self.request), self.render
            )).props('outline no-caps').classes('q-mt-sm')

    def _code(self, contract: Contract, code: Kundencode | None) -> None:
        if code is None:
            ui.label('Für diesen Vertrag gibt es noch keinen Kundencode.').classes('muted')
        else:
            formatted = kundencode.format_code(code.code)
            expired = code.valid_until < clock.today()
            with ui.card().classes('w-full bg-blue-1 q-pa-md').props('flat bordered'):
                with ui.row().classes('items-center w-full no-wrap'):
                    ui.label(formatted).classes('text-h5 text-weight-bold font-mono').style(
                        'letter-spacing: 0.08em; color: #0A3A66'
                    ).props('aria-label="Kundencode"').mark('kundencode')
                    ui.space()
                    ui.button(icon='content_copy', on_click=lambda: self._copy(formatted)).props(
                        'flat round aria-label="Kundencode kopieren"'
                    )
                validity = f'gültig bis {format_german_date(code.valid_until)}'
                ui.label(f'{validity} – abgelaufen' if expired else validity).classes(
                    'text-negative text-weight-medium' if expired else 'text-body2'
                )
            link = self_service_link(str(self.request.base_url), code.code)
            # The QR code keeps its square whatever the drawer's width: beside the link in a no-wrap row it was
            # squeezed to 110×128 px and cropped (object-fit cover), and no phone could read it.
            with ui.row().classes('w-full items-center gap-4 q-mt-sm'):
                ui.image(segno.make(link, error='m').svg_data_uri(scale=4, border=4)).props(
                    'fit=contain no-spinner no-transition alt="QR-Code mit dem Link zum Self-Service"'
                ).style(f'width: {QR_SIZE}; height: {QR_SIZE}; flex: none').mark('self-service-qr')
                with ui.column().classes('gap-1').style('flex: 1 1 12rem; min-width: 12rem'):  # beside it if room
                    ui.label('Link zum Self-Service für Ihre Mitarbeitenden:').classes('text-body2')
                    ui.link(link, link, new_tab=True).classes('text-body2 break-all')
            with ui.row().classes('gap-2 q-mt-sm'):
                if not expired:
                    ui.button('Aushang (PDF)', icon='print', on_click=lambda: self._notice(contract)).props(
                        'outline no-caps')
                if permissions.may(self.actor, Action.REVOKE_CODE, contract.customer_id):
                    ui.button('Code widerrufen', icon='block', on_click=lambda: self._revoke(contract, formatted)
                              ).props('outline no-caps color=negative')
        if contract.status != ContractStatus.AKTIV:
            ui.label('Kundencodes gibt es nur für aktive Verträge.').classes('muted text-body2 q-mt-sm')
        elif permissions.may(self.actor, Action.GENERATE_CODE, contract.customer_id):
            ui.button('Code', icon='vpn_key', on_click=lambda: open_code_dialog(
                self.actor, contract, client_address(self.request), self.render
            )).props('unelevated no-caps').classes('q-mt-md')

    async def _notice(self, contract: Contract) -> None:
        """The printable A4 notice for the staff room."""
        content = await run_action(aushang.code_notice_pdf(self.actor, contract.id, str(self.request.base_url)))
        if content is REFUSED:
            return
        ui.download.content(content, aushang.notice_filename(contract.vertragsnummer), 'application/pdf')

    async def _revoke(self, contract: Contract, formatted: str) -> None:
        if not await confirm(
            'Kundencode widerrufen?',
            f'Der Kundencode {formatted} funktioniert danach sofort nicht mehr: Mitarbeitende können mit ihm keine '
            'Anträge mehr stellen. Bereits gestellte Anträge und bestehende Abos bleiben. Einen neuen Code erzeugen '
            'Sie mit „Code“.',
            'Code widerrufen',
        ):
            return
        if await run_action(kundencode.revoke_code(self.actor, contract.id, client=client_address(self.request))) \
                is not REFUSED:
            ui.notify('Der Kundencode wurde widerrufen.', type='positive')
        await self.render()

    @staticmethod
    def _copy(text: str) -> None:
        ui.clipboard.write(text)
        ui.notify('Kundencode kopiert.', type='positive')
