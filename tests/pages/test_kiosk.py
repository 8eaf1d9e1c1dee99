"""The kiosk in the simulation: the same application flow, and the reset after the idle time wipes everything."""

import asyncio
from datetime import date, timedelta

import pytest
from nicegui import ui
from nicegui.element_filter import ElementFilter
from nicegui.testing import User
from nicegui.testing.user_interaction import UserInteraction

from models import Contract, PortalUser, Role
from services import codes
from services.settings import reset_settings
from tests.pages.conftest import demo_login

TODAY = date(2030, 6, 14)


@pytest.fixture(autouse=True)
def short_idle_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('KIOSK_IDLE_SECONDS', '2')
    monkeypatch.setenv('KIOSK_COUNTDOWN_SECONDS', '2')
    monkeypatch.setattr('services.clock.today', lambda: TODAY)
    reset_settings()


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


async def test_the_kiosk_resets_after_the_idle_time(user: User) -> None:
    code = await formatted_code()
    await user.open('/kiosk')
    user.find(marker='kundencode-eingabe').type(code)
    press(user, 'Weiter')
    await user.should_see('Kundencode gültig', retries=30)
    user.find('Vorname').type('Max')
    assert field(user, 'Vorname').props['autocomplete'] == 'off'
    await user.should_see('Ihre Eingaben werden in', retries=60)
    await asyncio.sleep(3.0)
    await user.should_see('Kundencode eingeben')
    await user.should_not_see('Kundencode gültig')
    assert field(user, 'Kundencode').value == ''
    assert not [element for element in user.find(ui.input).elements if element.value == 'Max']


async def test_a_touch_keeps_the_kiosk_from_resetting(user: User) -> None:
    code = await formatted_code()
    await user.open('/kiosk')
    user.find(marker='kundencode-eingabe').type(code)
    press(user, 'Weiter')
    await user.should_see('Kundencode gültig', retries=30)
    await user.should_see('Ihre Eingaben werden in', retries=60)
    press(user, 'Weiter ausfüllen')
    await asyncio.sleep(1.0)
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
