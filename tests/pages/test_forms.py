"""pages/forms.py's one way to call a service (issue 13, item 3): `run_form` shows a refusal as usual and then hands
it to the page's `on_refused`; `run_call` leaves the answer wholly to the page; a checkbox among the fields keeps its
message unplaced (for the page's own label), also on the second try."""

from __future__ import annotations

from typing import Any

from nicegui import ui
from nicegui.testing import User

from pages.forms import REFUSED, run_call, run_form
from services.errors import ServiceError, ValidationError


async def refused(error: ServiceError) -> Any:
    raise error


async def accepted() -> str:
    return 'gespeichert'


async def a_form(user: User) -> dict[str, Any]:
    """A page with a field and a checkbox, built without a login."""
    form: dict[str, Any] = {}

    @ui.page('/formular-probe')
    def probe() -> None:
        form['name'] = ui.input('Name')
        form['agreed'] = ui.checkbox('Einverstanden')
        form['label'] = ui.label()

    await user.open('/formular-probe')
    return form


async def test_on_refused_follows_the_usual_showing_of_a_refusal(user: User) -> None:
    form = await a_form(user)
    fields = {'name': form['name'], 'agreed': form['agreed']}
    followed: list[tuple[str, str | None, int]] = []

    async def follow(error: ServiceError) -> None:  # a coroutine function: awaited before run_form returns
        followed.append((str(error), form['name'].error, len(user.notify.messages)))

    with user:
        invalid = ValidationError({'name': 'Bitte geben Sie Ihren Namen an.', 'agreed': 'Bitte stimmen Sie zu.'})
        assert await run_form(fields, refused(invalid), on_refused=follow) is REFUSED
        # shown first: the name's message at its field, the checkbox's (it has no place) as a notification
        assert followed == [(str(invalid), 'Bitte geben Sie Ihren Namen an.', 1)]
        assert user.notify.messages == ['Bitte stimmen Sie zu.']

        assert await run_form(fields, refused(invalid), on_refused=follow) is REFUSED
        assert user.notify.messages == ['Bitte stimmen Sie zu.'] * 2  # the checkbox got no message slot meanwhile

        assert await run_form(fields, refused(ServiceError('Der Antrag wurde schon entschieden.')),
                              on_refused=follow) is REFUSED
        assert followed[-1] == ('Der Antrag wurde schon entschieden.', None, 3)  # field cleared, notified, then here

        assert await run_form(fields, accepted(), on_refused=follow) == 'gespeichert'
    assert len(followed) == 3  # no follow-up without a refusal


async def test_run_call_leaves_the_answer_to_the_page(user: User) -> None:
    form = await a_form(user)
    with user:
        answer = await run_call(refused(ServiceError('Der Link ist abgelaufen.')),
                                lambda error: form['label'].set_text(str(error)))
        assert answer is REFUSED
        assert form['label'].text == 'Der Link ist abgelaufen.'
        assert await run_call(accepted(), lambda error: form['label'].set_text('falsch')) == 'gespeichert'
    assert form['label'].text == 'Der Link ist abgelaufen.'
    assert user.notify.messages == []  # nothing shown but what the page chose
