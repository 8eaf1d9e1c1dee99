"""The English catalogue is complete and the German texts stay the source: every text marked with `_` or `N_` in
pages/ and services/ (Babel's own extraction) has a non-empty, non-fuzzy English msgstr with the same placeholders;
marks are literal (an f-string or a variable would escape the extraction); the enums' words are marked; dates and
amounts come out per language."""

from __future__ import annotations

import ast
import string
from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from models import Anrede, AntragStatus, Produktangebot, Ticketart
from pages.language import accepted
from pages.session_cookie import safe_redirect_target
from services import i18n
from services.abo_status import AboState
from services.i18n import N_, Euro, Month

PROJECT = Path(__file__).resolve().parent.parent
KEYWORDS = {'_': None, 'N_': None, 'NC_': ((1, 'c'), 2)}  # pybabel extract -k NC_:1c,2
SOURCES = ('pages', 'services')


Key = tuple[str | None, str]  # (msgctxt, msgid)


def marked_texts() -> dict[Key, str]:
    """(msgctxt, msgid) → where it is marked, as `pybabel extract -k NC_:1c,2 pages services` finds them."""
    found: dict[Key, str] = {}
    for folder in SOURCES:
        for filename, lineno, message, _comments, context in extract_from_dir(
            PROJECT / folder, keywords=KEYWORDS, comment_tags=()
        ):
            assert isinstance(message, str), f'{folder}/{filename}:{lineno}: plural forms are not used here'
            found.setdefault((context, message), f'{folder}/{filename}:{lineno}')
    return found


def english_entries() -> dict[Key, tuple[str, bool]]:
    path = i18n.LOCALE_DIR / 'en' / 'LC_MESSAGES' / 'messages.po'
    with path.open('rb') as file:
        catalogue = read_po(file)
    assert not catalogue.obsolete, f'obsolete entries: {sorted(catalogue.obsolete)}'
    return {(entry.context, str(entry.id)): (str(entry.string or ''), entry.fuzzy) for entry in catalogue if entry.id}


def placeholders(text: str) -> set[str]:
    return {name for _literal, name, _spec, _conversion in string.Formatter().parse(text) if name is not None}


def test_the_extraction_finds_the_employee_pages_texts() -> None:
    texts = marked_texts()
    assert (None, 'Antrag absenden') in texts  # pages: application_form
    assert (None, 'Die PLZ besteht aus genau 5 Ziffern.') in texts  # services: a validation message
    assert ('Bitte geben Sie … an.', 'Straße und Hausnummer') in texts  # with a msgctxt
    assert len(texts) > 150


def test_every_marked_text_has_an_english_translation() -> None:
    entries = english_entries()
    missing = {msgid: where for msgid, where in marked_texts().items()
               if msgid not in entries or not entries[msgid][0].strip()}
    assert missing == {}, 'untranslated (run the pybabel commands of the README, then translate):\n' + '\n'.join(
        f'  {where}: {msgid!r}' for msgid, where in sorted(missing.items(), key=lambda item: item[1]))


def test_no_english_entry_is_fuzzy_or_unused_or_has_other_placeholders() -> None:
    texts = marked_texts()
    for key, (msgstr, fuzzy) in english_entries().items():
        assert not fuzzy, f'fuzzy: {key!r}'
        assert key in texts, f'no longer marked anywhere (pybabel update): {key!r}'
        assert placeholders(msgstr) == placeholders(key[1]), f'placeholders differ: {key!r} → {msgstr!r}'


def test_marks_are_literal_texts() -> None:
    """`_(f'…')` or `_(name)` would be invisible to the extraction and so never translated."""
    dynamic = []
    for folder in SOURCES:
        for path in (PROJECT / folder).rglob('*.py'):
            for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in KEYWORDS:
                    texts = node.args[:2] if node.func.id == 'NC_' else node.args[:1]
                    if not texts or not all(isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                                            for arg in texts):
                        dynamic.append(f'{path.relative_to(PROJECT)}:{node.lineno}')
    assert dynamic == []


def test_the_enum_words_shown_to_employees_are_marked() -> None:
    words = {value.value for enum in (Anrede, Ticketart, AntragStatus, Produktangebot, AboState) for value in enum}
    assert set(i18n.ENUM_WORDS) == words


def test_a_text_in_a_context_has_its_own_translation() -> None:
    street = i18n.NC_('Bitte geben Sie … an.', 'Straße und Hausnummer')
    message = N_('Bitte geben Sie {label} an.', label=street)
    assert message == 'Bitte geben Sie Straße und Hausnummer an.'
    assert i18n.translate(message, 'en') == 'Please enter the street and house number.'
    assert i18n.gettext('en', 'Straße und Hausnummer') == 'Street and house number'  # the field's label


def test_a_service_message_is_its_german_text_and_translates_with_its_values() -> None:
    label = N_('Ihren Vornamen')
    message = N_('Bitte geben Sie {label} an.', label=label)
    assert message == 'Bitte geben Sie Ihren Vornamen an.'
    assert i18n.translate(message, 'en') == 'Please enter your first name.'
    assert i18n.translate(message, 'de') == 'Bitte geben Sie Ihren Vornamen an.'
    start = N_('Dieser Startmonat ist nicht mehr oder noch nicht wählbar (frühestens {first}).',
               first=Month(date(2027, 1, 1)))
    assert start.endswith('(frühestens Januar 2027).')
    assert i18n.translate(start, 'en').endswith('(earliest January 2027).')
    assert i18n.translate('Chipkarte', 'en') == 'Chip card'  # an enum's value, by look-up
    assert i18n.translate('Erika Mustermann', 'en') == 'Erika Mustermann'  # not a text of ours: as it is


def test_dates_months_and_amounts_per_language() -> None:
    day = date(2026, 12, 1)
    assert (i18n.format_date(day, 'de'), i18n.format_date(day, 'en')) == ('01.12.2026', '1 Dec 2026')
    assert (i18n.format_month(day, 'de'), i18n.format_month(day, 'en')) == ('Dezember 2026', 'December 2026')
    assert (i18n.format_euro(4410, 'de'), i18n.format_euro(4410, 'en')) == ('44,10 €', '€44.10')
    assert i18n.format_euro(123456, 'en') == '€1,234.56'
    assert i18n.gettext('en', 'neuer Preis {price}', {'price': Euro(6300)}) == 'new price €63.00'
    assert i18n.gettext('fr', 'Abos') == 'Abos'  # an unknown language is German


@pytest.mark.parametrize(('header', 'language'), [
    ('en', 'en'), ('en-US,en;q=0.9', 'en'), ('de-DE,de;q=0.9,en;q=0.8', 'de'), ('fr-FR,fr;q=0.9,en;q=0.5', 'en'),
    ('fr', 'de'), ('', 'de'), ('en;q=0.2,de;q=0.7', 'de'), ('en;q=abc,de;q=0.1', 'de'), ('*', 'de'),
])
def test_accept_language_picks_the_best_of_ours(header: str, language: str) -> None:
    assert accepted(header) == language


@pytest.mark.parametrize(('path', 'kept'), [
    ('/self-service/meine-abos', True), ('/self-service?code=ABCD-EFGH', True),
    ('//evil.example/x', False), ('https://evil.example/', False), ('/\\evil.example', False), ('', False),
])
def test_the_switch_goes_back_only_to_a_path_of_this_site(path: str, kept: bool) -> None:
    assert (safe_redirect_target(path, '/self-service') == path) is kept
