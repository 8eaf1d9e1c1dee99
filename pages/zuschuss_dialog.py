"""„Zuschuss ändern“: a contract's employer subsidy from a future month on, from the Infos drawer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from models import Contract, PortalUser
from pages.forms import REFUSED, chosen_month, month_options, run_form
from services import abo_dates, clock, zuschuesse
from services.validation import format_euro, parse_euro_cents

OFFERED_MONTHS = 24


def open_subsidy_dialog(actor: PortalUser, contract: Contract, client: str,
                        on_saved: Callable[[], Awaitable[None]]) -> None:
    async def save() -> None:
        month = chosen_month(fields['ab_monat'].value)
        cents = parse_euro_cents(fields['zuschuss'].value or '')
        if await run_form(fields, zuschuesse.change_subsidy(
            actor, contract.id, ab_monat=month, zuschuss_cent=cents, client=client,
        )) is REFUSED:
            return
        dialog.close()
        assert month is not None and cents is not None
        ui.notify(f'Ab {abo_dates.month_label(month)} beträgt der Zuschuss {format_euro(cents)}.', type='positive')
        await on_saved()

    with ui.dialog().on('hide', lambda e: e.sender.delete()) as dialog, ui.card().classes('q-pa-md gap-3').style(
        'width: min(460px, 95vw)'
    ):
        ui.label('Arbeitgeberzuschuss ändern').classes('text-h6')
        ui.label('Der neue Zuschuss gilt ab dem 1. des gewählten Monats. Er beträgt mindestens den Mindestzuschuss '
                 'des dann gültigen Tarifs (25 % des Deutschlandticket-Preises).').classes('text-body2 muted')
        fields = {
            'ab_monat': ui.select(month_options(abo_dates.first_change_month(clock.today()), OFFERED_MONTHS),
                                  label='Ab Monat').props('outlined').classes('w-full'),
            'zuschuss': ui.input('Zuschuss (€ monatlich)').props('outlined maxlength=12').classes('w-full'),
        }
        with ui.row().classes('w-full justify-end'):
            ui.button('Abbrechen', on_click=dialog.close).props('flat no-caps')
            ui.button('Speichern', on_click=save).props('unelevated no-caps')
    dialog.open()
