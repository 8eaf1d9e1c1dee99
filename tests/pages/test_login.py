"""Login page, redirects and the shell, through NiceGUI's simulated user."""

import pytest
from nicegui import ui
from nicegui.testing import User
from nicegui.testing.user_interaction import UserInteraction

from services.auth import WRONG_CREDENTIALS
from tests.pages.conftest import demo_login, log_in
from tests.support import wait_until


@pytest.mark.parametrize('path', ['/', '/vertragsverwaltung', '/anwender', '/passwort'])
async def test_pages_redirect_to_login_without_session(user: User, path: str) -> None:
    await user.open(path)
    await user.should_see('Anmeldung')
    await user.should_see('E-Mail-Adresse')
    await user.should_not_see('Vertragsverwaltung')


async def test_login_shows_shell_with_initials_and_sidebar(user: User) -> None:
    await log_in(user)
    await user.should_see('Willkommen, Anna Dietrich')
    await user.should_see('AD')
    for item in ('Dashboard', 'Vertragsverwaltung', 'Anwender'):
        await user.should_see(item)


async def test_login_returns_to_the_requested_page(user: User) -> None:
    await user.open('/anwender')
    login = demo_login('admin')
    user.find('E-Mail-Adresse').type(login.email)
    user.find(kind=ui.input, content='Passwort').type(login.password)
    user.find('Anmelden').click()
    await user.should_see('Anwender Ihrer Firma')


async def test_redirect_target_must_be_local(user: User) -> None:
    await log_in(user, target='/login?redirect_to=https://example.com/')
    await user.should_see('Willkommen, Anna Dietrich')


@pytest.mark.parametrize(
    ('email', 'password', 'message'),
    [
        ('admin@fahrradmanufaktur-kassel.de', 'falsches-Passwort', WRONG_CREDENTIALS),
        ('niemand@example.de', 'irgendein-Passwort', WRONG_CREDENTIALS),
        ('', '', 'Bitte geben Sie E-Mail-Adresse und Passwort ein.'),
        ('x' * 10_000, 'y' * 10_000, WRONG_CREDENTIALS),
    ],
)
async def test_bad_input_gets_a_german_message(user: User, email: str, password: str, message: str) -> None:
    await user.open('/login')
    if email:
        user.find('E-Mail-Adresse').type(email)
    if password:
        user.find(kind=ui.input, content='Passwort').type(password)
    user.find('Anmelden').click()
    await user.should_see(message)
    await user.should_not_see('Willkommen')


async def test_logout_ends_the_session(user: User) -> None:
    await log_in(user)
    await user.should_see('Willkommen, Anna Dietrich')
    user.find('Abmelden').click()
    # not only the text: the dashboard's latest events say 'Anmeldung' too
    await wait_until(lambda: user.back_history[-1] == '/abmelden', 'the way to the login')
    await user.should_see('Anmeldung')
    await user.open('/')
    await user.should_see('E-Mail-Adresse')


async def test_change_password_validates_and_saves(user: User) -> None:
    await log_in(user)
    await user.should_see('Willkommen')
    await user.open('/passwort')
    user.find('Aktuelles Passwort').type('falsch')
    user.find('Neues Passwort').type('kurz')
    user.find('Neues Passwort wiederholen').type('anders')
    user.find('Passwort speichern').click()
    await user.should_see('Das aktuelle Passwort ist nicht richtig.')
    await user.should_see('mindestens 12 Zeichen')
    await user.should_see('Die Passwörter stimmen nicht überein.')


async def test_the_password_can_be_shown_and_hidden_again(user: User) -> None:
    """Finding (issue 16): the show/hide button raised "'Input' object has no attribute 'password'"."""
    await user.open('/login')
    field = user.find(kind=ui.input, content='Passwort').elements.pop()
    (toggle,) = [button for button in field.descendants() if isinstance(button, ui.button)]
    assert field.props['type'] == 'password'
    UserInteraction(user, {toggle}, 'toggle').click()
    assert field.props['type'] == 'text'
    assert toggle.props['aria-label'] == 'Passwort verbergen'
    UserInteraction(user, {toggle}, 'toggle').click()
    assert field.props['type'] == 'password'
    assert toggle.props['aria-label'] == 'Passwort anzeigen'
