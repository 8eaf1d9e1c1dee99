"""English for employees: the German texts of the Self-Service, Meine Abos and the kiosk in other languages.

German is the source of truth: every msgid is the German text, and services/locale/<language>/LC_MESSAGES/messages.po
holds the translations (gettext catalogues, read with Babel at the first use; no compiled .mo, so a clean clone needs
no build step). Pages mark their texts with `_` (pages/language.py), services theirs with `N_`: a `Message` is the
German text itself (a str, so logs, mails, the portal and every German test see what they saw before) and keeps its
msgid and values, so a page can show it in the visitor's language. Values are formatted per language: a `date` as
01.12.2026 or 1 Dec 2026, a `Month` as Dezember 2026 or December 2026, a `Euro` as 44,10 € or €44.10, a `Message`
translated in turn. The company portal and the mails stay German.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel.dates import format_date as babel_format_date
from babel.messages.pofile import read_po
from babel.numbers import format_currency

GERMAN = 'de'
ENGLISH = 'en'
LANGUAGES = (GERMAN, ENGLISH)
"""The languages of the employees' pages, the source language first."""
NAMES = {GERMAN: 'Deutsch', ENGLISH: 'English'}
LOCALE_DIR = Path(__file__).with_name('locale')
BABEL_LOCALES = {ENGLISH: 'en_GB'}  # day before month, unambiguous: 1 Dec 2026


@dataclass(frozen=True)
class Month:
    """A month as a value of a message: Dezember 2026 / December 2026."""

    day: date


@dataclass(frozen=True)
class Euro:
    """An amount in cents as a value of a message: 44,10 € / €44.10."""

    cents: int


class Message(str):
    """A service's German text that remembers how it was made (`msgid`, `values`, `context`), so that pages can
    translate it. Made with `N_` (or `NC_`)."""

    msgid: str
    values: Mapping[str, object]
    context: str | None

    def __new__(cls, msgid: str, values: Mapping[str, object] | None = None, context: str | None = None) -> Message:
        values = values or {}
        message = super().__new__(cls, render(msgid, values, GERMAN))
        message.msgid = msgid
        message.values = values
        message.context = context
        return message


def N_(msgid: str, **values: object) -> Message:
    """Mark a service's German text for translation; `values` fill its {placeholders}."""
    return Message(msgid, values)


def NC_(context: str, msgid: str, **values: object) -> Message:  # like gettext's pgettext
    """`N_` for a German text that needs another translation in another place (msgctxt): the field label
    'Straße und Hausnummer' is 'Street and house number', inside 'Bitte geben Sie … an.' it is 'the street …'."""
    return Message(msgid, values, context)


def normalized(language: str | None) -> str:
    """One of LANGUAGES; anything else is German."""
    return language if language in LANGUAGES else GERMAN


@cache
def catalogue(language: str) -> dict[tuple[str | None, str], str]:
    """(msgctxt, msgid) → translation of a language's catalogue; untranslated and fuzzy entries are left out (the
    German text shows)."""
    with (LOCALE_DIR / language / 'LC_MESSAGES' / 'messages.po').open('rb') as file:
        po = read_po(file, locale=BABEL_LOCALES.get(language, language))
    return {(entry.context, str(entry.id)): str(entry.string) for entry in po
            if entry.id and isinstance(entry.id, str) and entry.string and not entry.fuzzy}


def gettext(language: str, msgid: str, values: Mapping[str, object] | None = None, context: str | None = None) -> str:
    """The text `msgid` (in `context`) in `language`, its values formatted for that language."""
    language = normalized(language)
    template = msgid if language == GERMAN else catalogue(language).get((context, msgid), msgid)
    return render(template, values or {}, language)


def translate(text: str, language: str) -> str:
    """A service's text in `language`: a `Message` by its msgid and values, any other text by an exact look-up
    (the values of enums such as 'Chipkarte'); unknown text stays as it is."""
    if isinstance(text, Message):
        return gettext(language, text.msgid, text.values, text.context)
    return gettext(language, str(text))


def render(template: str, values: Mapping[str, object], language: str) -> str:
    if not values:
        return template
    return template.format(**{name: format_value(value, language) for name, value in values.items()})


def format_value(value: object, language: str) -> str:
    if isinstance(value, Message):
        return translate(value, language)
    if isinstance(value, Month):
        return format_month(value.day, language)
    if isinstance(value, Euro):
        return format_euro(value.cents, language)
    if isinstance(value, date):
        return format_date(value, language)
    return str(value)


def format_date(day: date | None, language: str) -> str:
    """01.12.2026 in German (the portal's format), 1 Dec 2026 in English."""
    if day is None:
        return ''
    if normalized(language) == GERMAN:
        from services.validation import format_german_date  # validation's messages use this module

        return format_german_date(day)
    return babel_format_date(day, 'medium', locale=BABEL_LOCALES[language])


def format_month(day: date, language: str) -> str:
    """Dezember 2026 / December 2026."""
    if normalized(language) == GERMAN:
        from services.abo_dates import month_label  # abo_dates' messages use this module

        return month_label(day)
    return babel_format_date(day, 'MMMM y', locale=BABEL_LOCALES[language])


def format_euro(cents: int, language: str) -> str:
    """44,10 € (the portal's notation) / €44.10."""
    if normalized(language) == GERMAN:
        from services.validation import format_euro as german_euro  # validation's messages use this module

        return german_euro(cents)
    return format_currency(Decimal(cents) / 100, 'EUR', locale=BABEL_LOCALES[language])


ENUM_WORDS = (
    N_('Frau'), N_('Herr'), N_('Divers'), N_('Keine Angabe'),  # models.Anrede
    N_('Chipkarte'), N_('Handyticket'),  # models.Ticketart
    N_('unbestätigt'), N_('offen'), N_('genehmigt'), N_('abgelehnt'),  # models.AntragStatus
    N_('D-Ticket Job (Rechnung)'), N_('D-Ticket Job (SEPA-Lastschrift)'),  # models.Produktangebot
    N_('künftig'), N_('aktiv'), N_('gekündigt'), N_('beendet'),  # services.abo_status.AboState
)
"""The words of the enums that employees' pages show, marked here so the extraction finds them (pages translate the
enum's value with `translate`); tests/test_i18n.py checks that this list and the enums agree."""
