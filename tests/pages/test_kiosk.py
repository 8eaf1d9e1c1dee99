"""The kiosk in the simulation: the same application flow; after a sent Antrag only its reference and "Fertig"
remain, wiped within 30 s; the idle countdown (≥ 20 s, announced politely, not every second) wipes everything; and
wrong Kundencodes count per kiosk (its device cookie) across visits.

The kiosk's clock is services/clock.py `monotonic`: the tests move it instead of waiting idle minutes, and wait until
the kiosk has looked at it again (its timer ticks every 0.05 s here instead of every second)."""

import asyncio
import logging
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from nicegui import ui
from nicegui.element_filter import ElementFilter
from nicegui.testing import User
from nicegui.testing.user_interaction import UserInteraction

from models import Antrag, Contract, PortalUser, Role
from pages import kiosk
from services import code_entry, devices, kundencode
from services.settings import get_settings, reset_settings
from tests.pages.conftest import demo_login, wait_until
from tests.pages.test_self_service import EMAIL, PERSON, click, error_text, fill_form, type_into

TODAY = date(2030, 6, 14)
IDLE_SECONDS = 60


class SteadyClock:
    """Stands in for clock.monotonic: time passes only when a test says so. `looks` counts the kiosk's ticks."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.looks = 0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def looked_at(self) -> None:
        """Until the kiosk has looked at the clock since this call: it has seen the time as the test set it."""
        looks = self.looks
        await wait_until(lambda: self.looks > looks, "the kiosk's next tick")


@pytest.fixture(autouse=True)
def steady_clock(monkeypatch: pytest.MonkeyPatch) -> SteadyClock:
    clock = SteadyClock()
    monkeypatch.setattr('services.clock.monotonic', clock)
    tick = kiosk.Kiosk.tick

    def counted_tick(screen: kiosk.Kiosk) -> None:
        tick(screen)
        clock.looks += 1

    monkeypatch.setattr(kiosk.Kiosk, 'tick', counted_tick)
    monkeypatch.setattr(kiosk, 'TICK_SECONDS', 0.05)
    monkeypatch.setenv('KIOSK_IDLE_SECONDS', str(IDLE_SECONDS))
    monkeypatch.delenv('KIOSK_COUNTDOWN_SECONDS', raising=False)  # the default: 20 s
    monkeypatch.delenv('KIOSK_DONE_SECONDS', raising=False)  # the default: 30 s
    monkeypatch.setattr('services.clock.today', lambda: TODAY)
    reset_settings()
    return clock


async def formatted_code() -> str:
    admin = await PortalUser.get(email=demo_login(Role.ADMIN).email)
    contract = await Contract.get(vertragsnummer='DJ-2024-0117')
    code = await kundencode.generate_code(admin, contract.id, TODAY + timedelta(days=90), replace_current=True)
    return kundencode.format_code(code.code)


def press(user: User, label: str) -> None:
    """Click the visible button with exactly this text (the countdown dialog has a 'Weiter ausfüllen' too)."""
    with user:
        buttons = {button for button in ElementFilter(kind=ui.button, local_scope=False, only_visible=True)
                   if button.text == label}
    assert buttons, label
    UserInteraction(user, buttons, label).click()


def field(user: User, label: str) -> ui.input:
    (element,) = [element for element in user.find(ui.input).elements if element.props.get('label') == label]
    return element


def label_with(user: User, **props: str) -> ui.label:
    """The one label with these properties (e.g. aria_live='polite')."""
    wanted = {name.replace('_', '-'): value for name, value in props.items()}
    with user:
        (found,) = [label for label in ElementFilter(kind=ui.label, local_scope=False)
                    if all(label.props.get(name) == value for name, value in wanted.items())]
    return found


async def shows(user: User, text: str) -> None:
    await user.should_see(text)


async def wiped(user: User) -> None:
    """Wait (bounded) for the first step again: its Kundencode field, empty ('Anderen Kundencode eingeben' of the
    form step contains the first step's heading, so the text alone does not tell)."""
    def code_field_shown() -> bool:
        with user:
            return any(element.props.get('label') == 'Kundencode'
                       for element in ElementFilter(kind=ui.input, local_scope=False))
    await wait_until(code_field_shown, 'the first step')
    await user.should_not_see('Kundencode gültig')
    assert field(user, 'Kundencode').value == ''


async def open_form(user: User) -> None:
    code = await formatted_code()
    await user.open('/kiosk')
    user.find(marker='kundencode-eingabe').type(code)
    press(user, 'Weiter')
    await user.should_see('Kundencode gültig', retries=30)


async def test_kiosk_has_no_navigation_and_no_autofill(user: User) -> None:
    await user.open('/kiosk')
    await user.should_see('D-Ticket Job beantragen')
    await user.should_see('Kundencode eingeben')
    await user.should_not_see(ui.link)
    await user.should_not_see(ui.left_drawer)
    assert field(user, 'Kundencode').props['autocomplete'] == 'off'


async def test_the_kiosk_resets_after_the_idle_time_and_a_countdown_of_20_seconds(
    user: User, steady_clock: SteadyClock
) -> None:
    await open_form(user)
    user.find('Vorname').type('Max')
    assert field(user, 'Vorname').props['autocomplete'] == 'off'
    steady_clock.advance(IDLE_SECONDS - 1)
    await steady_clock.looked_at()
    assert label_with(user, role='timer').text == ''  # no countdown yet
    steady_clock.advance(1)
    await shows(user, 'Ihre Eingaben werden in 20 Sekunden gelöscht.')
    steady_clock.advance(19)
    await shows(user, 'Ihre Eingaben werden in 1 Sekunden gelöscht.')
    await user.should_see('Kundencode gültig')  # 19 s into the countdown, nothing is lost yet
    steady_clock.advance(1)
    await wiped(user)
    assert not [element for element in user.find(ui.input).elements if element.value == 'Max']


async def test_the_countdown_is_announced_politely_when_it_appears_and_at_10_seconds_not_every_second(
    user: User, steady_clock: SteadyClock
) -> None:
    """Finding: a 15 s countdown in an assertive live region, read out every second."""
    await open_form(user)
    steady_clock.advance(IDLE_SECONDS)
    await shows(user, 'Ihre Eingaben werden in 20 Sekunden gelöscht.')
    timer = label_with(user, role='timer')
    assert timer.props.get('aria-live') == 'off'
    announcement = label_with(user, aria_live='polite')
    first = announcement.text
    assert first.startswith('Ihre Eingaben werden in 20 Sekunden gelöscht.')
    heard = {first}
    for _ in range(12):  # 19 … 8 seconds left, tick by tick
        steady_clock.advance(1)
        await steady_clock.looked_at()
        heard.add(announcement.text)
    await shows(user, 'Ihre Eingaben werden in 8 Sekunden gelöscht.')
    assert heard == {first, announcement.text}
    assert announcement.text.startswith('Ihre Eingaben werden in 10 Sekunden gelöscht.')


async def test_a_touch_keeps_the_kiosk_from_resetting(user: User, steady_clock: SteadyClock) -> None:
    await open_form(user)
    steady_clock.advance(IDLE_SECONDS)
    await shows(user, 'Ihre Eingaben werden in')
    press(user, 'Weiter ausfüllen')
    steady_clock.advance(30)  # past the old countdown's end, but counted from the touch
    await steady_clock.looked_at()
    await user.should_see('Kundencode gültig')


async def test_neu_beginnen_clears_the_screen(user: User) -> None:
    await open_form(user)
    press(user, 'Neu beginnen')
    await wiped(user)


async def send_antrag(user: User) -> Antrag:
    await open_form(user)
    fill_form(user)
    await click(user, 'Antrag absenden')
    await user.should_see('Vielen Dank! Ihr Antrag ist eingegangen.')
    return await Antrag.get(email=EMAIL)


async def test_after_sending_only_the_reference_and_fertig_stay_and_go_within_30_seconds(
    user: User, steady_clock: SteadyClock
) -> None:
    """Finding: the previous visitor's birth date, e-mail and address stayed on screen until the idle reset."""
    antrag = await send_antrag(user)
    await user.should_see(f'Ihre Antragsnummer: {antrag.reference}')
    await user.should_see('Fertig')
    for typed in (PERSON['Vorname'], PERSON['Nachname'], PERSON['Geburtsdatum'], EMAIL, PERSON['E-Mail-Adresse'],
                  PERSON['Straße und Hausnummer'], PERSON['Ort'], PERSON['Personalnummer (optional)']):
        await user.should_not_see(typed)
    steady_clock.advance(get_settings().kiosk_done_seconds - 1)
    await steady_clock.looked_at()
    await user.should_see(antrag.reference)
    steady_clock.advance(1)
    await wiped(user)
    await user.should_not_see(antrag.reference)


async def test_fertig_starts_over_at_once(user: User) -> None:
    antrag = await send_antrag(user)
    press(user, 'Fertig')
    await wiped(user)
    await user.should_not_see(antrag.reference)


async def test_an_idle_reset_during_a_code_check_shows_nothing_and_logs_no_error(
    user: User, steady_clock: SteadyClock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Finding: the check of a code came back after the idle reset had wiped the screen, and show_error failed with
    an IndexError on the deleted error banner."""
    release = asyncio.Event()
    checking = asyncio.Event()
    check = code_entry.enter_code

    async def slow_check(*args: Any, **kwargs: Any) -> code_entry.CodeEntry:
        checking.set()
        await release.wait()
        return await check(*args, **kwargs)

    monkeypatch.setattr(code_entry, 'enter_code', slow_check)
    await user.open('/kiosk')
    type_into(user, 'Kundencode', kundencode.format_code(kundencode.new_code()))  # a code that does not exist
    press(user, 'Weiter')
    await asyncio.wait_for(checking.wait(), 5)
    first_input = field(user, 'Kundencode')
    steady_clock.advance(IDLE_SECONDS + get_settings().kiosk_countdown_seconds)
    await wait_until(lambda: first_input.is_deleted, 'the idle reset')
    release.set()
    await asyncio.sleep(0.3)
    assert error_text(user) == ''
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR], caplog.text


# --- wrong codes count per kiosk, across visits ----------------------------------------------------------------------


@pytest.fixture
def no_idle_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests type many codes: the kiosk must not reset itself in between."""
    monkeypatch.setenv('KIOSK_IDLE_SECONDS', '600')
    reset_settings()


async def enter(user: User, code: str) -> str:
    """Type a code, press "Weiter", wait until the check has run; the error shown ('' when none)."""
    type_into(user, 'Kundencode', code)
    await click(user, 'Weiter')
    return error_text(user)


async def wrong_codes(user: User, count: int) -> list[str]:
    return [await enter(user, kundencode.format_code(kundencode.new_code())) for _ in range(count)]


async def test_wrong_codes_count_for_the_kiosk_across_visits(user: User, no_idle_reset: None) -> None:
    """Finding: the kiosk counted per visit, so "Neu beginnen" or a reload gave a walk-in ten fresh guesses."""
    code = await formatted_code()
    limit = get_settings().code_max_failures
    await user.open('/kiosk')
    assert all(message.startswith('Diesen Kundencode gibt es nicht') for message in await wrong_codes(user, limit - 1))
    await click(user, 'Neu beginnen')  # a new visit on the same kiosk
    assert error_text(user) == ''
    assert (await wrong_codes(user, 1))[0].startswith('Zu viele ungültige Eingaben')

    await user.open('/kiosk')  # a reload: still the same kiosk
    assert (await enter(user, code)).startswith('Zu viele ungültige Eingaben')
    await user.should_not_see('Kundencode gültig')


async def test_another_kiosk_behind_the_same_address_is_not_locked(
    user: User, create_user: Callable[[], User], no_idle_reset: None
) -> None:
    code = await formatted_code()
    await user.open('/kiosk')
    assert (await wrong_codes(user, get_settings().code_max_failures))[-1].startswith('Zu viele ungültige Eingaben')

    other: User = create_user()
    await other.open('/kiosk')
    assert await enter(other, code) == ''
    await other.should_see('Kundencode gültig')


async def test_the_kiosk_cookie_is_signed_http_only_and_long_lived(user: User) -> None:
    first = await user.http_client.get('/kiosk', follow_redirects=False)
    assert first.status_code == 303
    cookie = first.headers['set-cookie']
    assert cookie.startswith(f'{devices.KIOSK_COOKIE}=')
    attributes = {part.strip().split('=')[0].lower() for part in cookie.split(';')[1:]}
    assert {'httponly', 'max-age', 'path'} <= attributes
    assert 'samesite=strict' in cookie.lower() and 'path=/kiosk' in cookie.lower()
    value = cookie.split(';')[0].split('=', 1)[1]
    assert devices.kiosk_device(value) is not None
    assert devices.kiosk_device(value.split('.')[0] + '.forged') is None

    # With its cookie the kiosk is shown at once; a forged cookie gets a new one.
    user.http_client.cookies.set(devices.KIOSK_COOKIE, value, path='/kiosk')
    assert (await user.http_client.get('/kiosk')).status_code == 200
    user.http_client.cookies.set(devices.KIOSK_COOKIE, 'abc.def', path='/kiosk')
    assert (await user.http_client.get('/kiosk', follow_redirects=False)).status_code == 303
