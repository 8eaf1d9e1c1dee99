"""Massenupload in a real Chromium (issue 6): the demo administrator opens the row menu's „Massenupload“, uploads a
small CSV through the upload's file input, sees the preview, imports and finds the upload in the history; a faulty
file shows its error table and cannot be imported.

The portal process is shared by every browser test, so each run uploads persons of its own (a random suffix).
"""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from models import Role
from services import abo_dates, clock
from services.demo_data import DEMO_LOGINS
from services.massenupload import TEMPLATE_COLUMNS
from tests.browser.conftest import (
    DEFAULT_TIMEOUT_MS,
    DESKTOP,
    choose_from_row_menu,
    log_in,
    open_mailed_link,
    screenshot,
    submit_login,
)
from tests.browser.test_self_service_journey import VERTRAGSNUMMER
from tests.smtp_server import MailCatcher

ADMIN = next(login for login in DEMO_LOGINS if login.role == Role.ADMIN)
CLAIMED_PASSWORD = 'Drahtesel-am-Fuldaufer-9'


def server_today() -> date:
    return datetime.now(clock.BERLIN).date()


def employee_csv(path: Path, suffix: str, *, faulty: bool = False) -> Path:
    """A small list as German Excel saves it: semicolons, Windows-1252, German dates."""
    start = abo_dates.first_open_start_month(server_today()).strftime('%d.%m.%Y')
    lines = [';'.join(TEMPLATE_COLUMNS)]
    for index, (anrede, vorname, nachname) in enumerate(
        (('Frau', 'Jörg-Marie', 'Weiß'), ('Herr', 'Sören', 'Großmann'), ('Divers', 'Kim', 'Öztürk'))
    ):
        plz = '3411X' if faulty and index == 1 else '34117'
        lines.append(';'.join((
            anrede, vorname, f'{nachname}-{suffix}', f'{10 + index}.0{index + 1}.1985',
            f'mu.{suffix}.{index}@example.org', f'Königstor {index + 1}', plz, 'Kassel', f'MU-{suffix}-{index}',
            start, 'Handyticket',
        )))
    path.write_bytes(('\r\n'.join(lines) + '\r\n').encode('cp1252'))
    return path


def open_massenupload(page: Page, portal_url: str) -> None:
    log_in(page, portal_url, ADMIN.email, ADMIN.password)
    expect(page).to_have_url(f'{portal_url}/')
    page.get_by_role('navigation', name='Hauptnavigation').get_by_text('Vertragsverwaltung', exact=True).click()
    expect(page.get_by_role('heading', name='Vertragsverwaltung')).to_be_visible()
    row = page.get_by_role('row').filter(has_text=VERTRAGSNUMMER)
    expect(row).to_have_count(1)
    choose_from_row_menu(page, row, 'Massenupload')
    expect(page).to_have_url(re.compile(r'/vertragsverwaltung/\d+/massenupload$'))
    expect(page.get_by_role('heading', name=f'Massenupload – Vertrag {VERTRAGSNUMMER}')).to_be_visible()


def shot(page: Page, name: str) -> None:
    page.evaluate('window.scrollTo(0, 0)')
    screenshot(page, name)


def test_a_small_list_is_uploaded_previewed_and_imported(page: Page, portal_url: str, tmp_path: Path) -> None:
    open_massenupload(page, portal_url)
    shot(page, 'massenupload-01-page')

    suffix = secrets.token_hex(3)
    file = employee_csv(tmp_path / f'Mitarbeitende-{suffix}.csv', suffix)
    page.locator('input[type=file]').set_input_files(file)
    expect(page.get_by_text('Alle 3 Zeilen sind in Ordnung.', exact=False)).to_be_visible()
    expect(page.get_by_text(f'„{file.name}“', exact=True)).to_be_visible()
    importieren = page.get_by_role('button', name='Importieren', exact=True)
    expect(importieren).to_be_enabled()
    shot(page, 'massenupload-02-vorschau')

    importieren.click()
    expect(page.get_by_text('3 Mitarbeitende importieren?')).to_be_visible()
    screenshot(page, 'massenupload-03-bestaetigen')
    page.get_by_role('button', name='Jetzt importieren').click()
    expect(page.get_by_text('Import abgeschlossen: „', exact=False)).to_be_visible()
    history_row = page.get_by_role('row').filter(has_text=file.name)
    expect(history_row).to_have_count(1)
    expect(history_row).to_contain_text('importiert')
    expect(history_row).to_contain_text(ADMIN.name)
    expect(history_row).to_contain_text('3 Abos angelegt.')
    shot(page, 'massenupload-04-importiert')

    # the Abos are there, under „Anträge“ → Abos
    page.goto(page.url.replace('/massenupload', '/antraege?tab=abos'))
    expect(page.get_by_role('cell', name=f'Weiß-{suffix}, Jörg-Marie')).to_be_visible()


def test_a_faulty_list_shows_its_faults_and_is_not_imported(page: Page, portal_url: str, tmp_path: Path) -> None:
    open_massenupload(page, portal_url)
    suffix = secrets.token_hex(3)
    file = employee_csv(tmp_path / f'Fehlerhaft-{suffix}.csv', suffix, faulty=True)
    page.locator('input[type=file]').set_input_files(file)
    expect(page.get_by_text('Fehlerhafte Zeilen', exact=True)).to_be_visible()
    fault = page.get_by_role('row').filter(has_text='Die PLZ besteht aus genau 5 Ziffern.')
    expect(fault).to_have_count(1)
    expect(fault).to_contain_text('3')
    expect(fault).to_contain_text('PLZ')
    expect(page.get_by_role('button', name='Importieren', exact=True)).to_be_disabled()
    expect(page.get_by_role('button', name='Fehlerliste herunterladen (CSV)')).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role('button', name='Fehlerliste herunterladen (CSV)').click()
    content = Path(download_info.value.path()).read_bytes().decode('utf-8-sig')
    assert content.splitlines()[1] == '3;PLZ;Die PLZ besteht aus genau 5 Ziffern.'
    expect(page.get_by_role('row').filter(has_text=file.name)).to_contain_text('fehlerhaft')
    shot(page, 'massenupload-05-fehler')


def test_a_progress_bar_shows_while_a_large_file_is_read(page: Page, portal_url: str, tmp_path: Path) -> None:
    from openpyxl import Workbook

    open_massenupload(page, portal_url)
    suffix = secrets.token_hex(3)
    start = abo_dates.first_open_start_month(server_today())
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet('Mitarbeitende')
    sheet.append(TEMPLATE_COLUMNS)
    for index in range(6_000):
        sheet.append(('Frau', f'Anna{index}', f'Groß-{suffix}', date(1970 + index % 30, 1 + index % 12, 3),
                      f'gross.{suffix}.{index}@example.org', 'Ständeplatz 1', 34117, 'Kassel', '', start, 'Chipkarte'))
    file = tmp_path / f'Gross-{suffix}.xlsx'
    workbook.save(file)
    page.locator('input[type=file]').set_input_files(file)
    busy = page.get_by_text(f'„{file.name}“ wird gelesen und geprüft …')
    expect(busy).to_be_visible()
    expect(page.get_by_role('progressbar', name='Fortschritt beim Lesen und Prüfen')).to_be_visible()
    screenshot(page, 'massenupload-06-fortschritt')
    expect(page.get_by_text('Alle 6.000 Zeilen sind in Ordnung.', exact=False)).to_be_visible(timeout=30_000)
    expect(busy).to_be_hidden()


def test_leavers_end_their_abos_by_file(page: Page, portal_url: str, tmp_path: Path) -> None:
    """Issue 15: the company imports three people, then chooses „Austritte (Abo beenden)“, uploads a list of two
    Personalnummern with their Endmonat, imports it, and the two Abos end with that month."""
    open_massenupload(page, portal_url)
    suffix = secrets.token_hex(3)
    joiners = employee_csv(tmp_path / f'Neu-{suffix}.csv', suffix)
    page.locator('input[type=file]').set_input_files(joiners)
    expect(page.get_by_text('Alle 3 Zeilen sind in Ordnung.', exact=False)).to_be_visible()
    page.get_by_role('button', name='Importieren', exact=True).click()
    page.get_by_role('button', name='Jetzt importieren').click()
    expect(page.get_by_text('Import abgeschlossen: „', exact=False)).to_be_visible()

    page.get_by_role('radio', name='Austritte (Abo beenden)').click()
    expect(page.get_by_text('Endmonat frühestens', exact=False)).to_be_visible()
    start = abo_dates.first_open_start_month(server_today())
    end = abo_dates.cancellation_end(server_today(), start)
    leavers = tmp_path / f'Austritte-{suffix}.csv'
    leavers.write_bytes((f'Personalnummer;Endmonat\r\nMU-{suffix}-0;{end:%m.%Y}\r\nMU-{suffix}-1;{end:%d.%m.%Y}\r\n')
                        .encode('cp1252'))
    page.locator('input[type=file]').set_input_files(leavers)
    expect(page.get_by_text('Alle 2 Zeilen sind in Ordnung. Mit „Importieren“ werden die Abos beendet.')) \
        .to_be_visible()
    shot(page, 'massenupload-07-austritte')
    page.get_by_role('button', name='Importieren', exact=True).click()
    expect(page.get_by_text('2 Abos beenden?')).to_be_visible()
    page.get_by_role('button', name='Jetzt importieren').click()
    history_row = page.get_by_role('row').filter(has_text=leavers.name)
    expect(history_row).to_contain_text('2 Abos beendet.')
    expect(history_row).to_contain_text('Austritte')

    page.goto(page.url.replace('/massenupload', '/antraege?tab=abos'))
    for name in (f'Weiß-{suffix}, Jörg-Marie', f'Großmann-{suffix}, Sören'):
        expect(page.get_by_role('row').filter(has_text=name)).to_contain_text(f'{end:%d.%m.%Y}')
    expect(page.get_by_role('row').filter(has_text=f'Öztürk-{suffix}, Kim')).not_to_contain_text(f'{end:%d.%m.%Y}')


def test_an_imported_person_claims_the_account_by_mail_and_cancels(
    page: Page, browser: Browser, portal_url: str, mail_server: MailCatcher, tmp_path: Path
) -> None:
    """Issue 15: a person on an imported list gets the invitation mail (from the local SMTP server), sets a password
    through its link, finds the Abo in Meine Abos, cancels it and gets the Kündigung confirmed by mail."""
    open_massenupload(page, portal_url)
    suffix = secrets.token_hex(3)
    file = employee_csv(tmp_path / f'Eingeladen-{suffix}.csv', suffix)
    page.locator('input[type=file]').set_input_files(file)
    page.get_by_role('button', name='Importieren', exact=True).click()
    page.get_by_role('button', name='Jetzt importieren').click()
    expect(page.get_by_text('Import abgeschlossen: „', exact=False)).to_be_visible()

    email = f'mu.{suffix}.0@example.org'
    context = browser.new_context(viewport=DESKTOP, locale='de-DE')
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        employee = context.new_page()
        employee.goto(f'{portal_url}/self-service/anmelden')
        open_mailed_link(employee, mail_server, email, '/self-service/konto/')
        expect(employee.get_by_text('Legen Sie Ihr Passwort für den Self-Service fest.')).to_be_visible()
        employee.get_by_label('Neues Passwort', exact=True).fill(CLAIMED_PASSWORD)
        employee.get_by_label('Neues Passwort wiederholen', exact=True).fill(CLAIMED_PASSWORD)
        employee.get_by_role('button', name='Passwort speichern').click()
        expect(employee.get_by_text('Ihr Passwort ist gespeichert.')).to_be_visible()

        employee.goto(f'{portal_url}/self-service/anmelden')
        submit_login(employee, email, CLAIMED_PASSWORD)
        expect(employee).to_have_url(f'{portal_url}/self-service/meine-abos')
        expect(employee.get_by_text('Königstor 1, 34117 Kassel')).to_be_visible()  # the imported row's Abo
        employee.get_by_role('button', name='Kündigen').click()
        employee.get_by_role('dialog').get_by_role('button', name='Kündigen').click()
        expect(employee.get_by_text('Ihr Abo ist zum', exact=False)).to_be_visible()
        confirmation = mail_server.wait_for(email, 2)[1]
        assert 'Kündigung' in str(confirmation['Subject'])
    finally:
        context.close()
