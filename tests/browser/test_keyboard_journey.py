"""The portal by keyboard alone, in Chromium (issue 16): the skip link, a visible two-tone focus ring on every tab
stop, the guide's flow (log in → Vertragsverwaltung → row menu → Infos → Code → date → Generieren) with focus going
back to the control that opened the menu and the drawer, the Massenupload, a failed form putting the focus on its
first invalid field, and the password show/hide button.

Every key is a real key press (Tab, Enter, arrows, Escape); no click. Each Tab loop is bounded.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.test_accessibility import ADMIN
from tests.browser.test_approval_journey import VERTRAGSNUMMER, german
from tests.browser.test_massenupload_journey import employee_csv

MAX_TABS = 80
ROW_MENU = f'Aktionen für {VERTRAGSNUMMER}'
FOCUS_DARK = 'rgb(18, 38, 63)'
FOCUS_LIGHT = 'rgb(255, 255, 255)'
# The focused element's name as a person hears it: aria-label, else its text without the icons' ligature names.
FOCUSED_NAME = '''() => {
  const element = document.activeElement;
  if (!element || element === document.body) return '';
  const copy = element.cloneNode(true);
  copy.querySelectorAll('.q-icon, .material-icons').forEach((icon) => icon.remove());
  return (element.getAttribute('aria-label') || copy.textContent || '').trim();
}'''
# The ring drawn around the focused control (a field draws it on its Quasar frame): outline and halo colours, widths.
FOCUS_RING = '''() => {
  const element = document.activeElement;
  const frame = element.closest('.q-field') ? element.closest('.q-field').querySelector('.q-field__control') : element;
  const style = getComputedStyle(frame);
  return {outline: style.outlineStyle + ' ' + style.outlineWidth + ' ' + style.outlineColor,
          shadow: style.boxShadow, tag: element.tagName, visible: element.getBoundingClientRect().width > 0};
}'''


def focused_name(page: Page) -> str:
    return page.evaluate(FOCUSED_NAME)


def tab_to(page: Page, name: str | re.Pattern[str], key: str = 'Tab') -> None:
    """Press Tab until the focused control is called `name`; fails after MAX_TABS presses."""
    seen = []
    for _ in range(MAX_TABS):
        page.keyboard.press(key)
        current = focused_name(page)
        seen.append(current)
        if (name.search(current) if isinstance(name, re.Pattern) else current == name):
            return
    raise AssertionError(f'{name!r} not reached by {key} within {MAX_TABS} presses: {seen}')


def assert_focus_ring(page: Page) -> None:
    ring = page.evaluate(FOCUS_RING)
    assert ring['outline'] == f'solid 3px {FOCUS_DARK}', (focused_name(page), ring)
    assert FOCUS_LIGHT in ring['shadow'] and '6px' in ring['shadow'], (focused_name(page), ring)


def keyboard_login(page: Page, portal_url: str, path: str = '/login') -> None:
    page.goto(portal_url + path)
    expect(page.get_by_label('E-Mail-Adresse', exact=True)).to_be_focused()  # autofocus
    page.keyboard.type(ADMIN.email)
    page.keyboard.press('Tab')
    page.keyboard.type(ADMIN.password)
    page.keyboard.press('Enter')


def test_skip_link_and_a_focus_ring_on_every_tab_stop(page: Page, portal_url: str) -> None:
    keyboard_login(page, portal_url, '/login?redirect_to=%2Fvertragsverwaltung')
    expect(page.get_by_role('heading', name='Vertragsverwaltung')).to_be_visible()
    expect(page.get_by_role('row').filter(has_text=VERTRAGSNUMMER)).to_have_count(1)
    page.evaluate('document.activeElement && document.activeElement.blur()')

    page.keyboard.press('Tab')
    assert focused_name(page) == 'Zum Inhalt springen'
    expect(page.get_by_role('link', name='Zum Inhalt springen')).to_be_in_viewport()
    assert_focus_ring(page)
    page.keyboard.press('Enter')
    page.keyboard.press('Tab')
    assert focused_name(page) == 'Kundennummer', 'the skip link did not lead past the navigation'

    names, missing = [], []
    for _ in range(MAX_TABS):
        page.keyboard.press('Tab')
        name = focused_name(page)
        if not name:  # past the last control: the browser's own controls come next
            break
        names.append(name)
        ring = page.evaluate(FOCUS_RING)
        if ring['outline'] != f'solid 3px {FOCUS_DARK}' or FOCUS_LIGHT not in ring['shadow']:
            missing.append((name, ring))
    screenshot(page, 'keyboard-focus-ring')
    for header in ('Vertragsnummer', 'Firma', 'Status'):
        assert header in names, f'sortable header {header!r} is no tab stop: {names}'
    assert ROW_MENU in names
    assert not missing, f'{len(missing)} of {len(names)} tab stops without the focus ring: {missing}'


def test_sorting_by_keyboard_says_aria_sort(page: Page, portal_url: str) -> None:
    keyboard_login(page, portal_url, '/login?redirect_to=%2Fvertragsverwaltung')
    expect(page.get_by_role('heading', name='Vertragsverwaltung')).to_be_visible()
    header = page.get_by_role('columnheader', name='Firma')
    tab_to(page, 'Firma')
    page.keyboard.press('Enter')
    expect(header).to_have_attribute('aria-sort', 'ascending')
    expect(page).to_have_url(re.compile('sort=firma'))
    expect(header.get_by_role('button', name='Firma')).to_be_focused()  # the redraw keeps the keyboard's place
    page.keyboard.press('Enter')
    expect(header).to_have_attribute('aria-sort', 'descending')
    expect(page.get_by_role('columnheader', name='Ort')).not_to_have_attribute('aria-sort', re.compile('.'))


def test_the_guide_by_keyboard_alone(page: Page, portal_url: str) -> None:
    valid_until = max(date(2026, 12, 31), date.today() + timedelta(days=7))
    keyboard_login(page, portal_url)
    expect(page.get_by_role('heading', name=re.compile('^Willkommen'))).to_be_visible()

    tab_to(page, 'Vertragsverwaltung')
    page.keyboard.press('Enter')
    expect(page.get_by_role('heading', name='Vertragsverwaltung')).to_be_visible()
    expect(page.get_by_role('row').filter(has_text=VERTRAGSNUMMER)).to_have_count(1)

    # the row menu: Enter opens it with the focus on its first item; arrows move, Escape closes onto the button
    tab_to(page, ROW_MENU)
    page.keyboard.press('Enter')
    expect(page.get_by_role('menuitem', name='Infos')).to_be_focused()
    page.keyboard.press('ArrowDown')
    expect(page.get_by_role('menuitem', name=re.compile('^Anträge'))).to_be_focused()
    page.keyboard.press('End')
    expect(page.get_by_role('menuitem', name='Massenupload')).to_be_focused()
    page.keyboard.press('ArrowDown')
    expect(page.get_by_role('menuitem', name='Infos')).to_be_focused()
    page.keyboard.press('Escape')
    expect(page.get_by_role('button', name=ROW_MENU)).to_be_focused()

    # Infos → Code → Gültigkeitsdatum → Generieren
    page.keyboard.press('Enter')
    expect(page.get_by_role('menuitem', name='Infos')).to_be_focused()
    page.keyboard.press('Enter')
    drawer = page.get_by_role('dialog', name='Infos')
    expect(drawer).to_be_visible()
    tab_to(page, 'Code')
    page.keyboard.press('Enter')
    expect(page.get_by_role('dialog', name='Kundencode generieren')).to_be_visible()
    tab_to(page, 'Gültigkeitsdatum (TT.MM.JJJJ)')
    page.keyboard.press('Control+a')
    page.keyboard.press('Backspace')
    page.keyboard.type(german(valid_until))
    tab_to(page, 'Kalender öffnen')
    screenshot(page, 'keyboard-code-dialog')
    tab_to(page, 'Generieren')
    page.keyboard.press('Enter')
    generated = page.get_by_text('Der Kundencode wurde generiert.')
    replace = page.get_by_role('dialog', name='Aktuellen Kundencode ersetzen?')
    expect(generated.or_(replace).first).to_be_visible()
    if replace.is_visible():
        tab_to(page, 'Ersetzen')
        page.keyboard.press('Enter')
    expect(generated).to_be_visible()
    expect(drawer.get_by_text(f'gültig bis {german(valid_until)}', exact=True)).to_be_visible()
    expect(drawer.get_by_role('button', name='Code', exact=True)).to_be_focused()  # back where the dialog opened
    screenshot(page, 'keyboard-code')

    # Escape closes the drawer; the focus returns to the row's menu button
    page.keyboard.press('Escape')
    expect(drawer).to_be_hidden()
    expect(page.get_by_role('button', name=ROW_MENU)).to_be_focused()


def test_massenupload_by_keyboard_alone(page: Page, portal_url: str, tmp_path: Path) -> None:
    keyboard_login(page, portal_url, '/login?redirect_to=%2Fvertragsverwaltung')
    expect(page.get_by_role('row').filter(has_text=VERTRAGSNUMMER)).to_have_count(1)
    tab_to(page, ROW_MENU)
    page.keyboard.press('Enter')
    expect(page.get_by_role('menuitem', name='Infos')).to_be_focused()
    page.keyboard.press('End')
    expect(page.get_by_role('menuitem', name='Massenupload')).to_be_focused()
    page.keyboard.press('Enter')
    expect(page.get_by_role('heading', name=f'Massenupload – Vertrag {VERTRAGSNUMMER}')).to_be_visible()

    suffix = uuid.uuid4().hex[:6]
    file = employee_csv(tmp_path / f'tastatur-{suffix}.csv', suffix)
    # A listener of its own switches Chromium's file-chooser interception on now: expect_file_chooser alone asks for it
    # without waiting for the answer, and under load the Enter below came first (no event within 10 s, CI).
    page.on('filechooser', lambda _: None)
    tab_to(page, 'Datei auswählen')
    assert_focus_ring(page)
    with page.expect_file_chooser() as chooser:
        page.keyboard.press('Enter')
    chooser.value.set_files(str(file))
    expect(page.get_by_role('heading', name='Vorschau')).to_be_visible(timeout=20_000)
    tab_to(page, 'Importieren')
    page.keyboard.press('Enter')
    expect(page.get_by_role('dialog', name='3 Mitarbeitende importieren?')).to_be_visible()
    tab_to(page, 'Jetzt importieren')
    page.keyboard.press('Enter')
    expect(page.get_by_role('row').filter(has_text=file.name)).to_contain_text('importiert')
    screenshot(page, 'keyboard-massenupload')


def test_a_failed_form_puts_the_focus_on_its_first_invalid_field(page: Page, portal_url: str) -> None:
    keyboard_login(page, portal_url, '/login?redirect_to=%2Fpasswort')
    expect(page.get_by_role('heading', name='Passwort ändern')).to_be_visible()
    tab_to(page, 'Passwort speichern')
    page.keyboard.press('Enter')
    first = page.get_by_label('Aktuelles Passwort', exact=True)
    expect(first).to_be_focused()
    expect(first).to_have_attribute('aria-invalid', 'true')
    message_id = first.get_attribute('aria-describedby')
    assert message_id
    expect(page.locator(f'#{message_id}')).to_have_text(re.compile('.+'))
    expect(first).to_have_accessible_description(page.locator(f'#{message_id}').inner_text())
    assert_focus_ring(page)
    screenshot(page, 'keyboard-form-error')


def test_the_password_toggle_shows_and_hides_the_password(page: Page, portal_url: str) -> None:
    page.goto(f'{portal_url}/login')
    field = page.get_by_label('Passwort', exact=True)
    field.fill('Radweg-Fulda-2026')
    expect(field).to_have_attribute('type', 'password')
    field.focus()
    tab_to(page, 'Passwort anzeigen')
    assert_focus_ring(page)
    page.keyboard.press('Enter')
    expect(field).to_have_attribute('type', 'text')
    expect(field).to_have_value('Radweg-Fulda-2026')
    expect(page.get_by_role('button', name='Passwort verbergen')).to_be_focused()
    page.keyboard.press('Space')
    expect(field).to_have_attribute('type', 'password')
    expect(field).to_have_value('Radweg-Fulda-2026')
    expect(page.get_by_role('button', name='Passwort anzeigen')).to_be_visible()
