"""The "Code" dialog of the Infos drawer: choose the Gültigkeitsdatum and "Generieren"."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from models import Contract, PortalUser
from pages.components import german_date_input
from pages.forms import REFUSED, confirm, run_call, show_refusal
from services import kundencode
from services.errors import ServiceError
from services.kundencode import ReplaceConfirmationNeeded
from services.validation import format_german_date, parse_german_date


async def open_code_dialog(
    actor: PortalUser, contract: Contract, client: str, on_generated: Callable[[], Awaitable[None]]
) -> None:
    latest = kundencode.latest_valid_until(contract)

    async def generate(replace_current: bool = False) -> None:
        valid_until.error = None
        generate_button.disable()
        try:
            await attempt(replace_current)
        finally:
            generate_button.enable()

    async def refused(error: ServiceError) -> None:
        """A current code is not a mistake: ask, and replace it on a yes; any other refusal is shown as usual."""
        if isinstance(error, ReplaceConfirmationNeeded):
            if await confirm_replacement(error):
                await attempt(replace_current=True)
        else:
            show_refusal(error, {'valid_until': valid_until})

    async def attempt(replace_current: bool) -> None:
        if await run_call(kundencode.generate_code(
            actor, contract.id, parse_german_date(valid_until.value or ''), replace_current=replace_current,
            client=client,
        ), refused) is REFUSED:
            return
        dialog.close()
        ui.notify('Der Kundencode wurde generiert.', type='positive')
        await on_generated()

    async def confirm_replacement(error: ReplaceConfirmationNeeded) -> bool:
        return await confirm(
            'Aktuellen Kundencode ersetzen?',
            f'Der bisherige Kundencode {kundencode.format_code(error.current.code)} (gültig bis '
            f'{format_german_date(error.current.valid_until)}) funktioniert danach nicht mehr. Mitarbeitende '
            'brauchen dann den neuen Code.',
            'Ersetzen',
        )

    with ui.dialog().on('hide', lambda e: e.sender.delete()) as dialog, ui.card().classes('q-pa-md').style(
        'width: min(440px, 95vw)'
    ):
        ui.label('Kundencode generieren').classes('text-h6')
        ui.label(f'Vertrag {contract.vertragsnummer} · {contract.firma}').classes('muted')
        valid_until = german_date_input(
            'Gültigkeitsdatum', kundencode.default_valid_until(contract),
            f'TT.MM.JJJJ, frühestens heute, spätestens {format_german_date(latest)}',
        )
        with ui.row().classes('w-full justify-end q-mt-md'):
            ui.button('Abbrechen', on_click=dialog.close).props('flat no-caps')
            generate_button = ui.button('Generieren', icon='vpn_key', on_click=generate).props('unelevated no-caps')
        valid_until.on('keydown.enter', generate)
    dialog.open()
