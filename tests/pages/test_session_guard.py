"""Trust on every click: an open page acts as the session says *now* (pages/session_guard.py), the cookie hand-over
(pages/session_cookie.py) makes a planted or copied cookie worthless, redirects stay on the portal, and names are
never parsed as properties.

Events are sent the way the browser's websocket sends them, through the page's `Client.handle_event` (NiceGUI's
simulated clicks call the handlers directly and would skip the guard, as no browser can)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from nicegui import ElementFilter, ui
from nicegui.testing import User

from models import Antrag, AntragStatus, PortalUser, Role, Session
from pages import session_guard
from pages.session_cookie import Area, safe_redirect_target
from services import anwender, clock, sessions
from tests.pages.conftest import arrived_after_login, demo_login, log_in
from tests.pages.test_antraege_page import LENA, MIA, antraege_table, demo_contract, demo_user, make_antraege
from tests.support import wait_until

pytestmark = pytest.mark.usefixtures('pinned_today')

HOSTILE_NAME = 'Eva "Zeh" :onclick="alert(1)" label=x <img src=x onerror=alert(2)>'


@pytest.fixture
def pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.pages.test_antraege_page import TODAY

    monkeypatch.setattr('services.clock.today', lambda: TODAY)


def on_login_page(user: User) -> bool:
    return bool(user.back_history) and user.back_history[-1].startswith('/login')


def button(user: User, text: str) -> ui.button:
    with user:
        (found,) = [element for element in ElementFilter(kind=ui.button, local_scope=False) if element.text == text]
    return found


def warning_open(user: User) -> bool:
    with user:
        return any(dialog.value for dialog in ElementFilter(kind=ui.dialog, local_scope=False))


def socket_click(user: User, element: ui.element) -> None:
    """A click as it arrives from the browser: through the client's event entry point."""
    listener = next(listener for listener in element._event_listeners.values() if listener.type == 'click')
    assert user.client is not None
    user.client.handle_event({'id': element.id, 'listener_id': listener.id, 'args': []})


async def clerk_on_the_antraege_page(user: User) -> tuple[Antrag, Antrag]:
    lena, mia = await make_antraege(LENA, MIA)
    contract = await demo_contract()
    await log_in(user, Role.CLERK)
    await user.open(f'/vertragsverwaltung/{contract.id}/antraege')
    await user.should_see('Auswahl genehmigen')
    table = antraege_table(user)
    table.selected = [row for row in table.rows if row['id'] == lena.id]
    return lena, mia


async def the_session_of(role: Role) -> Session:
    return await Session.get(user__email=demo_login(role).email, ended_at=None, pending_until=None)


async def test_an_active_clerk_approves_through_the_socket(user: User) -> None:
    """The control case: the same click, with a valid session, does approve (so the refusals below mean something)."""
    lena, _ = await clerk_on_the_antraege_page(user)
    socket_click(user, button(user, 'Auswahl genehmigen'))
    await wait_until(lambda: user.notify.contains('1 Antrag genehmigt.'), 'the approval')
    assert (await Antrag.get(id=lena.id)).status == AntragStatus.GENEHMIGT


async def test_a_deactivated_clerks_open_page_approves_nothing(user: User) -> None:
    """Finding: a deactivated clerk's open tab approved an Antrag."""
    lena, _ = await clerk_on_the_antraege_page(user)
    clerk = await demo_user(Role.CLERK)
    await anwender.deactivate(await demo_user(Role.ADMIN), clerk.id)
    socket_click(user, button(user, 'Auswahl genehmigen'))
    await wait_until(lambda: on_login_page(user), 'the login page')
    assert (await Antrag.get(id=lena.id)).status == AntragStatus.OFFEN


async def test_a_demoted_clerks_open_page_approves_nothing(user: User) -> None:
    """Finding: a demoted clerk rejected an Antrag. A role change ends the person's sessions."""
    lena, _ = await clerk_on_the_antraege_page(user)
    await anwender.change_role(await demo_user(Role.ADMIN), (await demo_user(Role.CLERK)).id, Role.READONLY)
    socket_click(user, button(user, 'Auswahl genehmigen'))
    await wait_until(lambda: on_login_page(user), 'the login page')
    assert (await Antrag.get(id=lena.id)).status == AntragStatus.OFFEN


async def test_the_page_acts_with_the_role_the_database_has_now(user: User) -> None:
    """Even a role changed behind the services' back (no session ended) is the role the click acts with."""
    lena, _ = await clerk_on_the_antraege_page(user)
    await PortalUser.filter(email=demo_login(Role.CLERK).email).update(role=Role.READONLY)
    socket_click(user, button(user, 'Auswahl genehmigen'))
    await wait_until(lambda: user.notify.messages, 'the refusal')
    assert (await Antrag.get(id=lena.id)).status == AntragStatus.OFFEN
    assert not on_login_page(user)


async def test_a_page_left_open_after_abmelden_elsewhere_does_nothing(user: User) -> None:
    """Finding: a tab left open after 'Abmelden' in another tab generated a new Kundencode."""
    lena, _ = await clerk_on_the_antraege_page(user)
    session = await the_session_of(Role.CLERK)
    await Session.filter(id=session.id).update(ended_at=clock.now(), end_reason='logout')  # the other tab's Abmelden
    socket_click(user, button(user, 'Auswahl genehmigen'))
    await wait_until(lambda: on_login_page(user), 'the login page')
    assert (await Antrag.get(id=lena.id)).status == AntragStatus.OFFEN


async def test_an_expired_session_does_nothing(user: User) -> None:
    lena, _ = await clerk_on_the_antraege_page(user)
    session = await the_session_of(Role.CLERK)
    await Session.filter(id=session.id).update(last_seen_at=clock.now() - timedelta(minutes=31))
    socket_click(user, button(user, 'Auswahl genehmigen'))
    await wait_until(lambda: on_login_page(user), 'the login page')
    assert (await Antrag.get(id=lena.id)).status == AntragStatus.OFFEN
    assert (await Session.get(id=session.id)).end_reason == 'idle'


async def test_the_watcher_sends_an_ended_session_to_the_login_without_a_click(user: User) -> None:
    await clerk_on_the_antraege_page(user)
    await anwender.deactivate(await demo_user(Role.ADMIN), (await demo_user(Role.CLERK)).id)
    await session_guard.check_open_pages()
    # the simulation keeps the dashboard of the login open beside the Anträge page; both go to the login, the
    # Anträge page with the way back
    await wait_until(lambda: any(path.startswith('/login?redirect_to=%2Fvertragsverwaltung')
                                 for path in user.back_history), 'the login page with the way back')


async def test_a_warning_before_the_idle_timeout_and_staying_logged_in(user: User) -> None:
    await clerk_on_the_antraege_page(user)
    session = await the_session_of(Role.CLERK)
    await Session.filter(id=session.id).update(last_seen_at=clock.now() - timedelta(minutes=29))
    await session_guard.check_open_pages()
    await user.should_see('Sie werden gleich abgemeldet')
    socket_click(user, button(user, 'Angemeldet bleiben'))
    await wait_until(lambda: not warning_open(user), 'the closed warning')
    assert clock.now() - (await Session.get(id=session.id)).last_seen_at < timedelta(seconds=10)
    assert not on_login_page(user)


async def test_activity_in_the_page_moves_the_idle_clock(user: User) -> None:
    """Finding: clicks inside a page did not count as activity."""
    await clerk_on_the_antraege_page(user)
    session = await the_session_of(Role.CLERK)
    await Session.filter(id=session.id).update(last_seen_at=clock.now() - timedelta(minutes=20))
    socket_click(user, button(user, 'Auswahl genehmigen'))
    await wait_until(lambda: user.notify.messages, 'the approval')
    assert clock.now() - (await Session.get(id=session.id)).last_seen_at < timedelta(seconds=10)


# --- the session cookie ---------------------------------------------------------------------------------------------


async def test_a_session_cookie_planted_before_the_login_is_worthless_afterwards(user: User) -> None:
    """Finding: NiceGUI's `session` id never changed, so a cookie planted before the login was logged in after it."""
    await user.open('/login')
    planted = user.http_client.cookies.get('session')
    assert planted
    await log_in(user, Role.ADMIN)
    await user.should_see('Willkommen')
    assert user.http_client.cookies.get('session') != planted
    assert user.http_client.cookies.get(Area.PORTAL.value)
    async with httpx.AsyncClient(transport=user.http_client._transport, base_url='http://test',
                                 cookies={'session': planted}) as attacker:
        response = await attacker.get('/', follow_redirects=False)
    assert response.status_code == 303 and response.headers['location'].startswith('/login')


async def test_a_copied_cookie_is_worthless_after_abmelden(user: User) -> None:
    await log_in(user, Role.ADMIN)
    await user.should_see('Willkommen')
    copied = dict(user.http_client.cookies)
    user.find('Abmelden').click()
    await wait_until(lambda: user.back_history[-1] == '/abmelden', 'the way to the login page')
    await user.should_see('Anmeldung')
    assert Area.PORTAL.value not in user.http_client.cookies
    async with httpx.AsyncClient(transport=user.http_client._transport, base_url='http://test',
                                 cookies=copied) as thief:
        response = await thief.get('/', follow_redirects=False)
    assert response.status_code == 303


async def test_the_token_is_not_in_nicegui_storage(user: User) -> None:
    """Finding: live session tokens sat in clear in .nicegui/storage-user-*.json."""
    from nicegui import app

    await log_in(user, Role.ADMIN)
    await user.should_see('Willkommen')
    token = user.http_client.cookies.get(Area.PORTAL.value)
    assert token and await sessions.user_for_token(token)
    stored = [str(storage) for storage in app.storage._users.values()]
    assert not any(token in text for text in stored)


# --- redirects and names --------------------------------------------------------------------------------------------


@pytest.mark.parametrize('target', [
    '/\t/evil.example', '//evil.example', '/\\evil.example', 'https://evil.example/', '/\n/evil.example',
    'javascript:alert(1)', '', None, 'evil.example',
])
def test_redirect_targets_off_the_site_fall_back(target: str | None) -> None:
    assert safe_redirect_target(target) == '/'


@pytest.mark.parametrize('target', ['/vertragsverwaltung?seite=2&suche=m%C3%BCller', '/anwender', '/'])
def test_redirect_targets_on_the_site_pass(target: str) -> None:
    assert safe_redirect_target(target) == target


async def test_the_login_never_sends_the_browser_off_the_portal(user: User) -> None:
    """Finding: /login?redirect_to=/%09/evil.example landed on evil.example after the login."""
    await log_in(user, Role.ADMIN, target='/login?redirect_to=/%09/evil.example')
    await wait_until(lambda: arrived_after_login(user), 'the page after the login')
    assert parse_qs(urlsplit(user.back_history[-1]).query)['weiter'] == ['/']
    await user.should_see('Willkommen')


async def test_a_name_with_quotes_and_markup_stays_text(user: User) -> None:
    """Finding: `aria-label="Benutzermenü {user.name}"` in a props string let a name add properties."""
    await PortalUser.filter(email=demo_login(Role.ADMIN).email).update(name=HOSTILE_NAME)
    await log_in(user, Role.ADMIN)
    await user.should_see('Willkommen')
    with user:
        menu_button = next(element for element in ElementFilter(kind=ui.button, local_scope=False)
                           if str(element.props.get('aria-label', '')).startswith('Benutzermenü'))
    assert menu_button.props['aria-label'] == f'Benutzermenü {HOSTILE_NAME}'
    assert not any(name.startswith(':') or name in ('onclick', 'onerror', 'src') for name in menu_button.props)
    assert menu_button.props.get('label') == 'EO'  # the initials of the first and last word, not 'x' from the name
