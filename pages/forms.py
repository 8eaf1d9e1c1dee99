"""Form parts used on several pages."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from enum import Enum
from typing import Final, TypeVar

from nicegui import app, ui

from pages.language import _, error_text, tr
from services import abo_dates, devices
from services.errors import ServiceError, ValidationError
from services.passwords import MAX_LENGTH, MIN_LENGTH

T = TypeVar('T')


def browser_device() -> str:
    """This browser's key for the throttles; read while the page is built (event handlers have no request)."""
    return devices.browser_device(app.storage.browser.get('id'))


def password_field(label: str, autocomplete: str, max_length: int = 256, hint: str = '') -> ui.input:
    """A password input with a show/hide button that keyboard and screen-reader users can reach."""
    field = ui.input(label, password=True).props(f'outlined autocomplete={autocomplete} maxlength={max_length}')
    field.classes('w-full')
    if hint:
        field.props['hint'] = hint

    def toggle() -> None:
        hidden = field.props.get('type') != 'password'
        field.props['type'] = 'password' if hidden else 'text'
        button.props['icon'] = 'visibility' if hidden else 'visibility_off'
        button.props['aria-label'] = _('Passwort anzeigen') if hidden else _('Passwort verbergen')

    with field.add_slot('append'):
        button = ui.button(icon='visibility', on_click=toggle).props('flat round dense color=grey-8')
        button.props['aria-label'] = _('Passwort anzeigen')
    return field


PORTAL_PASSWORD_HINT = f'Mindestens {MIN_LENGTH} Zeichen; kein verbreitetes Passwort und nicht Ihr Name.'


def new_password_fields(name: str, hint: str = PORTAL_PASSWORD_HINT) -> dict[str, ui.input]:
    """„Neues Passwort“ and „Neues Passwort wiederholen“, keyed as the service names their messages (`name`,
    'confirmation'): the invitation link, „Passwort ändern“ and the Self-Service's account links."""
    return {
        name: password_field(_('Neues Passwort'), 'new-password', MAX_LENGTH, hint=hint),
        'confirmation': password_field(_('Neues Passwort wiederholen'), 'new-password', MAX_LENGTH),
    }


def error_banner() -> ui.row:
    """A hidden, announced error box; set its text with `show_error`."""
    with ui.row().classes('w-full items-center no-wrap gap-2 q-pa-sm rounded-borders bg-red-1 text-negative') as banner:
        ui.icon('error', size='sm').props('aria-hidden=true')
        ui.label().classes('text-body2').props('role=alert')
    banner.visible = False
    return banner


def show_error(banner: ui.row, message: str | None) -> None:
    label = banner.default_slot.children[1]
    assert isinstance(label, ui.label)
    label.text = message or ''
    banner.visible = bool(message)


async def confirm(title: str, text: str, confirm_label: str, body: Callable[[], object] | None = None) -> bool:
    """Ask before an action that cannot be undone; True when the person chose `confirm_label`. `body` adds fields
    below the text (their values stay readable after the dialog has gone)."""
    with ui.dialog() as dialog, ui.card().classes('q-pa-md gap-3').style('width: min(460px, 95vw)'):
        ui.label(title).classes('text-h6')
        ui.label(text).classes('text-body2')
        if body is not None:
            body()
        with ui.row().classes('w-full justify-end'):
            ui.button(_('Abbrechen'), on_click=lambda: dialog.submit(False)).props('flat no-caps')
            ui.button(confirm_label, on_click=lambda: dialog.submit(True)).props('unelevated no-caps color=negative')
    result = await dialog
    dialog.delete()
    return bool(result)


class Refused(Enum):
    """A one-member enum, so that type checkers narrow `result is REFUSED` to the call's own result type."""

    REFUSED = 'refused'


REFUSED: Final = Refused.REFUSED
"""What `run_form` returns when the service refused the input (a service may itself return None)."""


def show_field_errors(fields: Mapping[str, ui.element], errors: Mapping[str, str]) -> list[str]:
    """Put each message at its field and move the focus to the first invalid field, in the form's order, so a
    keyboard or screen-reader user lands where the first correction is due (the field's aria-invalid and the
    aria-describedby of its message come from pages/a11y.js). Returns the messages that have no field."""
    first: ui.element | None = None
    for name, field in fields.items():
        if name in errors and hasattr(field, 'error'):
            field.error = tr(errors[name])
            first = first or field
    if first is not None:
        first.run_method('focus')
    return [tr(message) for name, message in errors.items()
            if name not in fields or not hasattr(fields[name], 'error')]


Answer = Callable[[ServiceError], object]
"""A page's answer to a refusal; what it returns is awaited when it can be (a refresh, a second confirmation)."""


async def _settle(outcome: object) -> None:
    if inspect.isawaitable(outcome):
        await outcome


async def run_call(call: Awaitable[T], answer: Answer) -> T | Refused:
    """The one place that catches a service's refusal (a ServiceError, ValidationError included): run the call; on a
    refusal hand the error to `answer` and return REFUSED. `run_form` and `run_action` answer in the usual way
    (`show_refusal`); a page calls this itself only where its answer is its own: another card instead of the form, a
    message in a label, a confirmation and a second try. Anything else (a bug, the CancelledError of a lost
    connection) passes on."""
    try:
        return await call
    except ServiceError as error:
        refusal = error
    # Answered outside the except block, so that an answer's own await (a refresh, a dialog) runs without the
    # refusal as the context of whatever it raises.
    await _settle(answer(refusal))
    return REFUSED


def show_refusal(error: ServiceError, fields: Mapping[str, ui.element] | None = None, invalid_notice: str = '',
                 banner: ui.row | None = None) -> None:
    """The usual way to show a refusal: a ValidationError's messages at their `fields` (focus on the first; any
    without a field, and `invalid_notice`, as notifications), any other refusal as a notification, or in `banner`
    (an `error_banner`) when the page has one."""
    if isinstance(error, ValidationError):
        unplaced = show_field_errors(fields or {}, error.errors)
        if banner is not None and unplaced:
            show_error(banner, ' '.join(unplaced))
        else:
            for message in unplaced:
                ui.notify(message, type='negative')
        if invalid_notice:
            ui.notify(invalid_notice, type='warning')
    elif banner is not None:
        show_error(banner, error_text(error))
    else:
        ui.notify(error_text(error), type='negative')


async def run_form(fields: Mapping[str, ui.element], call: Awaitable[T], invalid_notice: str = '',
                   banner: ui.row | None = None, on_refused: Answer | None = None) -> T | Refused:
    """One way for every form and action to call its service: clear the field messages (and `banner`), run the
    call and show a refusal as `show_refusal` does; then `on_refused(error)`, the page's own follow-up to a refusal
    once it is shown (close a dialog and refresh its table after a conflict, mark a checkbox's message, forget a
    filter). Returns the call's result, or REFUSED."""
    for field in fields.values():
        if hasattr(field, 'error'):  # a checkbox has none; giving it one would make it take its message unseen
            field.error = None
    if banner is not None:
        show_error(banner, None)

    async def answer(error: ServiceError) -> None:
        show_refusal(error, fields, invalid_notice, banner)
        if on_refused is not None:
            await _settle(on_refused(error))

    return await run_call(call, answer)


async def run_action(call: Awaitable[T]) -> T | Refused:
    """A service call behind a button with no form fields (a download, a confirmation): a refusal is a notification."""
    return await run_form({}, call)


def month_options(first: date, count: int) -> dict[str, str]:
    """`count` months from `first` for a select: ISO date of the 1st → 'Januar 2027'."""
    months = (abo_dates.first_of_month(first, offset) for offset in range(count))
    return {month.isoformat(): abo_dates.month_label(month) for month in months}


def chosen_month(value: object) -> date | None:
    """A select's month back as a date; None when nothing (or something else) was chosen."""
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def forgotten_password_form(intro: str, request_link: Callable[[str], Awaitable[str]], login_path: str,
                            max_input: int = 1024) -> None:
    """„Passwort vergessen“ of the portal and of the Self-Service: one address field and the answer in place (the
    services give the same answer whether or not the address has an account)."""

    async def send() -> None:
        answer = await run_form({'email': email}, request_link(email.value or ''))
        if answer is REFUSED:
            return
        email.value = ''
        result.text = tr(answer)
        result.visible = True

    ui.label(intro).classes('text-body2')
    email = ui.input(_('E-Mail-Adresse')).props(
        f'outlined autofocus type=email autocomplete=username maxlength={max_input}').classes('w-full')
    email.on('keydown.enter', send)
    ui.button(_('Link anfordern'), on_click=send).props('unelevated size=lg no-caps').classes('w-full')
    result = ui.label().classes('text-body2 q-pa-sm rounded-borders bg-blue-1').props('role=status')
    result.visible = False
    ui.link(_('Zurück zur Anmeldung'), login_path).classes('text-body2')
