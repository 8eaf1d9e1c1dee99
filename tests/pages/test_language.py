"""English for employees in the simulation: the Self-Service, Meine Abos and the kiosk follow the browser's
Accept-Language, the switch (a link that comes back to the same page, remembered in a cookie; on the kiosk a button,
forgotten at every reset), with English dates and amounts and the services' messages in English. The company portal
stays German."""

from __future__ import annotations

import re
from datetime import date

import pytest
from nicegui import ElementFilter, ui
from nicegui.testing import User
from nicegui.testing.user_interaction import UserInteraction

from models import Contract
from pages.language import COOKIE
from services import abo_dates
from services.i18n import format_euro
from services.tarife import tariff_on
from tests.pages.test_kiosk import SteadyClock, formatted_code, label_with, press, steady_clock  # noqa: F401
from tests.pages.test_self_service import (
    EMAIL,
    PASSWORD,
    _click_in,
    click,
    demo_contract,
    error_text,
    formatted,
    make_abo,
    make_code,
    marked_text,
    open_dialog,
    submit_application_directly,
    the_field,
    type_into,
)

TODAY = date(2030, 6, 14)
ENGLISH = {'Accept-Language': 'en-GB,en;q=0.9'}


def speak(user: User, header: str = 'en-GB,en;q=0.9') -> None:
    user.http_client.headers['Accept-Language'] = header


def the_switch(user: User) -> ui.link:
    (link,) = [link for link in user.find(ui.link).elements if 'language-switch' in link.classes]
    return link


def follow_switch(user: User) -> None:
    UserInteraction(user, {the_switch(user)}, 'switch').click()


async def html_lang(user: User, path: str) -> str:
    page = (await user.http_client.get(path)).text
    return page.split('<html', 1)[1].split('>', 1)[0].strip()


async def test_accept_language_en_gives_the_english_self_service_with_english_amounts_and_months(
        user: User) -> None:
    speak(user)
    assert await html_lang(user, '/self-service') == 'lang="en-GB"'
    code = await make_code()
    await user.open(f'/self-service?code={formatted(code)}')
    await user.should_see('Apply for the D-Ticket Job')
    await user.should_see('Customer code valid')
    contract = await demo_contract()
    tariff = tariff_on(abo_dates.first_open_start_month(TODAY))
    share = tariff.eigenanteil_cent(contract.arbeitgeberzuschuss_cent)
    assert marked_text(user, 'eigenanteil') == format_euro(share, 'en')
    assert tariff.preis_cent != 6300 or marked_text(user, 'eigenanteil') == '€39.85'
    await user.should_see(f'Deutschlandticket {format_euro(tariff.preis_cent, "en")}, less your employer’s subsidy '
                          f'({format_euro(contract.arbeitgeberzuschuss_cent, "en")}) and the job ticket discount')
    await user.should_see('Product: D-Ticket Job (invoice)')
    startmonat = the_field(user, 'Start month', ui.select)
    assert isinstance(startmonat.options, dict)
    assert startmonat.value == '01.08.2030'  # what the service reads stays German
    assert next(iter(startmonat.options.values())) == 'August 2030'
    assert the_field(user, 'Title', ui.select).options == {
        'Frau': 'Ms', 'Herr': 'Mr', 'Divers': 'Mx', 'Keine Angabe': 'Not specified'}
    await user.should_not_see('Antrag absenden')


async def test_the_services_messages_are_shown_in_english(user: User) -> None:
    speak(user)
    await user.open('/self-service')
    type_into(user, 'Customer code', 'ABCD')
    await click(user, 'Next')
    assert error_text(user) == ('The customer code is incomplete or contains a typo. Please check your entry.')

    code = await make_code()
    await user.open(f'/self-service?code={formatted(code)}')
    await user.should_see('Send application')
    type_into(user, 'Postcode', '123')
    type_into(user, 'Date of birth', '01.01.2025')
    await click(user, 'Send application')
    assert 'Please check the marked entries.' in error_text(user)
    assert the_field(user, 'Title', ui.select).error == 'Please choose a title.'
    assert the_field(user, 'First name').error == 'Please enter your first name.'
    assert the_field(user, 'Postcode').error == 'The postcode has exactly 5 digits.'
    assert the_field(user, 'Date of birth').error == 'The date of birth is not plausible (age 14 to 100 years).'
    assert the_field(user, 'Password').error == 'The password must be at least 12 characters long.'
    assert 'Please confirm that you have read the privacy notice.' in error_text(user)


async def test_the_switch_is_a_link_that_keeps_the_page_and_is_remembered(user: User) -> None:
    code = await make_code()
    page = f'/self-service?code={formatted(code)}'
    await user.open(page)
    await user.should_see('D-Ticket Job beantragen')
    switch = the_switch(user)
    assert (switch.props['lang'], switch.props['hreflang']) == ('en', 'en')
    answer = await user.http_client.get(switch.props['href'], follow_redirects=False)
    assert (answer.status_code, answer.headers['location']) == (303, page)  # back to this page, its code included
    follow_switch(user)  # a real link: /sprache/en?zurueck=<this page>, then back here
    await user.should_see('Apply for the D-Ticket Job')
    await user.should_see('Customer code valid')
    assert user.http_client.cookies.get(COOKIE) == 'en'

    await user.open('/self-service/anmelden')  # remembered over the browser's German
    await user.should_see('My subscriptions – log in')
    assert await html_lang(user, '/self-service/anmelden') == 'lang="en-GB"'
    assert the_switch(user).props['lang'] == 'de'
    follow_switch(user)
    await user.should_see('Meine Abos – Anmeldung')

    speak(user)  # a chosen German outweighs an English browser
    await user.open('/self-service')
    await user.should_see('D-Ticket Job beantragen')


async def test_the_switch_does_not_send_anyone_to_another_site(user: User) -> None:
    response = await user.http_client.get('/sprache/en?zurueck=//evil.example/', follow_redirects=False)
    assert response.status_code == 303
    assert response.headers['location'] == '/self-service'
    response = await user.http_client.get('/sprache/xx?zurueck=/self-service', follow_redirects=False)
    assert COOKIE not in response.cookies


async def test_meine_abos_in_english_with_english_dates_and_amounts(user: User) -> None:
    antrag = await submit_application_directly(await make_code())
    startmonat = date(2030, 5, 1)
    await make_abo(antrag, startmonat)
    end = abo_dates.cancellation_end(TODAY, startmonat)
    speak(user)
    await user.open('/self-service/anmelden')
    type_into(user, 'Email address', EMAIL)
    type_into(user, 'Password', PASSWORD + '!')
    await click(user, 'Log in')
    assert error_text(user) == 'Email address or password is wrong.'
    type_into(user, 'Password', PASSWORD)
    await click(user, 'Log in')
    await user.should_see('My subscriptions')
    await user.should_see(f'Logged in as {EMAIL}')
    await user.should_see('open-ended')
    assert marked_text(user, 'abo-status') == 'active'
    await user.should_see('May 2030')
    await user.should_see('Chip card')
    contract = await Contract.get(id=antrag.contract_id)
    share = tariff_on(TODAY).eigenanteil_cent(contract.arbeitgeberzuschuss_cent)
    await user.should_see(f'{format_euro(share, "en")} a month (price')
    await user.should_see(f'Application {antrag.reference}')
    await user.should_see(f'{antrag.created_at:%-d %b %Y}')  # received: 14 Jun 2030

    await click(user, 'End subscription', opens_question=True)
    dialog = open_dialog(user, 'End your subscription?')
    with user:
        assert list(ElementFilter(kind=ui.label, content='Your D-Ticket Job will then end on 31 Jul 2030.',
                                  local_scope=False).within(instance=dialog))
    await _click_in(user, dialog, 'End subscription')
    await user.should_see(f'Your subscription is cancelled as of {end:%-d %b %Y}.')
    # the list is drawn anew once its query is back (on PostgreSQL under load after the message above)
    await user.should_see(content='cancelled as of 31 Jul 2030', marker='abo-status')
    assert marked_text(user, 'abo-status') == 'cancelled as of 31 Jul 2030'


async def test_the_portal_stays_german_for_an_english_browser(user: User) -> None:
    speak(user)
    assert await html_lang(user, '/login') == 'lang="de"'
    await user.open('/login')
    await user.should_see('Anmelden')
    await user.should_not_see('Log in')


# --- the kiosk --------------------------------------------------------------------------------------------------------


async def test_the_kiosk_follows_its_browser_and_the_switch_until_the_next_reset(
        user: User, steady_clock: SteadyClock) -> None:  # noqa: F811
    speak(user, 'de-DE,de;q=0.9')
    await user.open('/kiosk')
    await user.should_see('Mit dem Kundencode Ihres Arbeitgebers – in wenigen Minuten erledigt.')
    (switch,) = [button for button in user.find(ui.button).elements if button.text == 'English']
    assert switch.props['lang'] == 'en'
    press(user, 'English')
    await user.should_see('With your employer’s customer code – done in a few minutes.')
    await user.should_see('Enter customer code')
    type_into(user, 'Customer code', await formatted_code())
    await click(user, 'Next')
    await user.should_see('Send application')
    await user.should_see('less your employer’s subsidy')
    with user:  # English amounts (€39.85), no German one (39,85 €)
        texts = [label.text for label in ElementFilter(kind=ui.label, local_scope=False)]
    assert [text for text in texts if re.search(r'€\d+\.\d\d', text)]
    assert not [text for text in texts if re.search(r'\d,\d\d €', text)]

    press(user, 'Start over')  # the next person: German again
    await user.should_see('Kundencode eingeben')
    await user.should_not_see('Enter customer code')

    press(user, 'English')
    await user.should_see('Enter customer code')
    steady_clock.advance(60 + 20)  # idle and the whole countdown: the kiosk's reset
    await user.should_see('Kundencode eingeben', retries=100)
    await user.should_not_see('Enter customer code')


async def test_an_english_kiosk_counts_down_in_english_and_resets_to_english(
        user: User, steady_clock: SteadyClock) -> None:  # noqa: F811
    speak(user)
    await user.open('/kiosk')
    await user.should_see('Apply for the D-Ticket Job')
    steady_clock.advance(60)
    await user.should_see('Your entries will be cleared in 20 seconds.', retries=100)
    await user.should_see('Are you still there?')
    assert label_with(user, aria_live='polite').text == (
        'Your entries will be cleared in 20 seconds. Tap “Continue” to keep your entries.')
    press(user, 'Deutsch')  # switching is a touch: the German screen
    await user.should_see('Kundencode eingeben')
    press(user, 'Neu beginnen')
    await user.should_see('Enter customer code')  # the kiosk's own default (its browser's English)


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch: pytest.MonkeyPatch) -> date:
    monkeypatch.setattr('services.clock.today', lambda: TODAY)
    return TODAY
