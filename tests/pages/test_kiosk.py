"""The kiosk in the simulation: the same application flow, the reset after the idle time wipes everything, and
wrong Kundencodes count per kiosk (its device cookie) across visits."""

import asyncio
from datetime import date, timedelta

import pytest
from nicegui import ui
from nicegui.element_filter import ElementFilter
from nicegui.testing import User
from nicegui.testing.user_interaction import UserInteraction

from models import Contract, PortalUser, Role
from services import codes, devices
from services.settings import get_settings, reset_settings
from tests.pages.conftest import demo_login
from tests.pages.test_self_service import click, error_text, type_into

TODAY = date(2030, 6, 14)


IDLE_SECONDS = 60
COUNTDOWN_SECONDS = 10
TICK_SECONDS = 1.0  # the kiosk looks at its clock once a second (ui.timer)


class SteadyClock:
    """services.clock.monotonic for the kiosk tests: time passes only when a test moves it."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds

    def advance(self, seconds: float) -> None:
        self.seconds += seconds


@pytest.fixture(autouse=True)
def steady_clock(monkeypatch: pytest.MonkeyPatch) -> SteadyClock:
    monkeypatch.setenv('KIOSK_IDLE_SECONDS', str(IDLE_SECONDS))
    monkeypatch.setenv('KIOSK_COUNTDOWN_SECONDS', str(COUNTDOWN_SECONDS))
    monkeypatch.setattr('services.clock.today', lambda: TODAY)
    reset_settings()
    clock = SteadyClock()
    monkeypatch.setattr('services.clock.monotonic', clock)
    return clock


async def formatted_code() -> str:
    admin = await PortalUser.get(email=demo_login(Role.ADMIN).email)
    contract = await Contract.get(vertragsnummer='DJ-2024-0117')
    code = await codes.generate_code(admin, contract.id, TODAY + timedelta(days=90), replace_current=True)
    return codes.format_code(code.code)


def press(user: User, label: str) -> None:
    """Click the visible button with exactly this text (the countdown dialog has a 'Weiter ausfüllen' too)."""
    with user.client:
        buttons = {button for button in ElementFilter(kind=ui.button, local_scope=False, only_visible=True)
                   if button.text == label}
    assert buttons, label
    UserInteraction(user, buttons, label).click()


def field(user: User, label: str) -> ui.input:
    (element,) = [element for element in user.find(ui.input).elements if element.props.get('label') == label]
    return element


async def test_kiosk_has_no_navigation_and_no_autofill(user: User) -> None:
    await user.open('/kiosk')
    await user.should_see('D-Ticket Job beantragen')
    await user.should_see('Kundencode eingeben')
    await user.should_not_see(ui.link)
    await user.should_not_see(ui.left_drawer)
    assert field(user, 'Kundencode').props['autocomplete'] == 'off'


async def test_the_kiosk_resets_after_the_idle_time(user: User, steady_clock: SteadyClock) -> None:
    code = await formatted_code()
    await user.open('/kiosk')
    user.find(marker='kundencode-eingabe').type(code)
    press(user, 'Weiter')
    await user.should_see('Kundencode gültig', retries=30)
    user.find('Vorname').type('Max')
    assert field(user, 'Vorname').props['autocomplete'] == 'off'
    steady_clock.advance(IDLE_SECONDS)
    await user.should_see(f'Ihre Eingaben werden in {COUNTDOWN_SECONDS} Sekunden gelöscht.', retries=30)
    steady_clock.advance(COUNTDOWN_SECONDS)
    await user.should_not_see('Kundencode gültig', retries=30)
    await user.should_see('Kundencode eingeben')
    await user.should_not_see('Kundencode gültig')
    assert field(user, 'Kundencode').value == ''
    assert not [element for element in user.find(ui.input).elements if element.value == 'Max']


async def test_a_touch_keeps_the_kiosk_from_resetting(user: User, steady_clock: SteadyClock) -> None:
    code = await formatted_code()
    await user.open('/kiosk')
    user.find(marker='kundencode-eingabe').type(code)
    press(user, 'Weiter')
    await user.should_see('Kundencode gültig', retries=30)
    steady_clock.advance(IDLE_SECONDS)
    await user.should_see('Ihre Eingaben werden in', retries=30)
    press(user, 'Weiter ausfüllen')
    steady_clock.advance(COUNTDOWN_SECONDS)  # when the kiosk would have reset without the touch
    await asyncio.sleep(2 * TICK_SECONDS)  # nothing changes on the page to wait for: give the timer two looks
    await user.should_see('Kundencode gültig', retries=30)


async def test_neu_beginnen_clears_the_screen(user: User) -> None:
    code = await formatted_code()
    await user.open('/kiosk')
    user.find(marker='kundencode-eingabe').type(code)
    press(user, 'Weiter')
    await user.should_see('Kundencode gültig', retries=30)
    press(user, 'Neu beginnen')
    await user.should_see('Kundencode eingeben')
    await user.should_not_see('Kundencode gültig')


# --- wrong codes count per kiosk, across visits ----------------------------------------------------------------------


async def enter(user: User, code: str) -> str:
    """Type a code, press "Weiter", wait until the check has run; the error shown ('' when none)."""
    type_into(user, 'Kundencode', code)
    await click(user, 'Weiter')
    return error_text(user)


async def wrong_codes(user: User, count: int) -> list[str]:
    return [await enter(user, codes.format_code(codes.new_code())) for _ in range(count)]


async def test_wrong_codes_count_for_the_kiosk_across_visits(user: User) -> None:
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
    user: User, create_user
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
