"""The legal and help pages (issue 16, item 5) through the simulated user: reachable from the footer of every kind of
page, their periods and the cut-off day taken from the settings and the code, an operator's file in LEGAL_DIR
replacing the default, and on the kiosk shown in a dialog that leads nowhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from nicegui import ui
from nicegui.element_filter import ElementFilter
from nicegui.testing import User

from services import legal, login_throttle
from services.settings import reset_settings
from tests.pages.conftest import log_in
from tests.pages.test_kiosk import press


def footer_links(user: User) -> dict[str, str]:
    with user:
        return {link.text: link.props.get('href', '') for link in ElementFilter(kind=ui.link, local_scope=False)
                if any(isinstance(parent, ui.footer) for parent in link.ancestors())}


EXPECTED_FOOTER = {entry.title: entry.path for entry in legal.PAGES}


def shown_text(user: User) -> str:
    """The page's Markdown as one line (the files break their lines anywhere)."""
    with user:
        (markdown,) = ElementFilter(kind=ui.markdown, local_scope=False)
    return ' '.join(markdown.content.split())


@pytest.mark.parametrize('entry', legal.PAGES, ids=lambda entry: entry.slug)
async def test_each_legal_page_has_its_heading_text_and_the_footer(user: User, entry: legal.LegalPage) -> None:
    await user.open(entry.path)
    await user.should_see(entry.title)
    text = shown_text(user)
    assert len(text) > 500 and '$' not in text  # every placeholder filled
    assert footer_links(user) == EXPECTED_FOOTER


@pytest.mark.parametrize('path', ['/login', '/passwort-vergessen', '/self-service', '/self-service/anmelden'])
async def test_public_pages_link_the_legal_pages_in_their_footer(user: User, path: str) -> None:
    await user.open(path)
    assert footer_links(user) == EXPECTED_FOOTER


async def test_portal_pages_link_the_legal_pages_in_their_footer(user: User) -> None:
    await log_in(user, 'admin', '/vertragsverwaltung')
    await user.should_see('Ihre Verträge')
    assert footer_links(user) == EXPECTED_FOOTER


async def test_the_german_404_page_has_the_footer_too(user: User) -> None:
    response = await user.http_client.get('/gibt-es-nicht')
    assert response.status_code == 404
    assert 'Seite nicht gefunden' in response.text
    for entry in legal.PAGES:
        assert entry.title in response.text and f'"{entry.path}"' in response.text


async def test_the_help_page_takes_the_cut_off_day_from_the_settings(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv('CUTOFF_DAY', '12')
    reset_settings()
    await user.open('/hilfe')
    text = shown_text(user)
    assert 'bis zum 12. eines Monats vollständig ist, gilt ab dem 1. des Folgemonats' in text
    assert 'bis zum 12. eines Monats eingeht, beendet das Abo zum Ende dieses Monats' in text


async def test_the_privacy_statement_names_the_periods_the_code_applies(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv('SESSION_IDLE_MINUTES', '45')
    monkeypatch.setenv('SESSION_ABSOLUTE_HOURS', '9')
    reset_settings()
    await user.open('/datenschutz')
    text = shown_text(user)
    assert 'nach 45 Minuten ohne Aktivität und spätestens nach 9 Stunden' in text
    assert f'{login_throttle.RETENTION.days} Tage nach dem Ende ihres Zeitfensters gelöscht' in text
    assert 'Einladungen gelten 72 Stunden, Links zum Zurücksetzen des Passworts 24 Stunden' in text
    assert 'nach 30 Sekunden gelöscht' in text  # the kiosk's KIOSK_DONE_SECONDS


async def test_an_operator_file_in_legal_dir_replaces_only_its_default(
    user: User, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / 'impressum.md').write_text('## Anbieter\n\nStadtwerke Musterstadt AöR, vertreten durch '
                                           '$operator_name\n', encoding='utf-8')
    monkeypatch.setenv('LEGAL_DIR', str(tmp_path))
    monkeypatch.setenv('INVOICE_ISSUER_NAME', 'Musterbahn GmbH')
    reset_settings()
    await user.open('/impressum')
    assert shown_text(user) == '## Anbieter Stadtwerke Musterstadt AöR, vertreten durch Musterbahn GmbH'
    await user.open('/barrierefreiheit')  # no file of the operator: the default
    await user.should_see('Feedback und Kontakt')


async def test_the_accessibility_statement_names_the_feedback_contact(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv('ACCESSIBILITY_CONTACT', 'a11y@musterbahn.de')
    reset_settings()
    await user.open('/barrierefreiheit')
    assert '[a11y@musterbahn.de](mailto:a11y@musterbahn.de)' in shown_text(user)


async def test_the_kiosk_shows_the_legal_texts_in_a_dialog_without_links(user: User) -> None:
    await user.open('/kiosk')
    await user.should_not_see(ui.link)
    press(user, 'Datenschutzerklärung')
    text = shown_text(user)
    assert '## Was gespeichert wird' in text
    assert '](' not in text and 'mailto:' not in text
    assert 'rechnung@verkehrsbetrieb-demo.de' in text  # the address stays readable
    press(user, 'Schließen')
    await user.should_see('Kundencode eingeben')


def test_links_become_plain_text_for_the_kiosk() -> None:
    assert legal.without_links('[Mail](mailto:a@b.de), [Seite](https://x.de/y) und <https://z.de> <c@d.de>') == (
        'Mail (a@b.de), Seite (https://x.de/y) und https://z.de c@d.de'
    )
