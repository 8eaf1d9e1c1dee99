"""Small checks and conversions shared by every form, the URLs and the command line: record ids, e-mail, PLZ,
German dates, euro amounts, text length.

Whatever comes from outside (a URL, an event's arguments, a form, a spreadsheet cell, the command line) passes through
here before it reaches a query: PostgreSQL refuses ids beyond its 32-bit integers and text holding NUL, Python's dates
end in the year 9999, and Tortoise refuses a value longer than its column, also in a filter. Each of these would be a
500 or a silently failing form; here they become "nicht gefunden" or a German message at the field.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from tortoise.models import Model

from services.clock import BERLIN
from services.i18n import N_

EMAIL_PATTERN = re.compile(r'[^@\s<>"\x00-\x1f\x7f]{1,64}@[^@\s<>"\x00-\x1f\x7f]+\.[^@\s<>"\x00-\x1f\x7f]{2,}')
PLZ_PATTERN = re.compile(r'[0-9]{5}')
CONTROL_CHARACTERS = re.compile(r'[\x00-\x1f\x7f]')
EURO = re.compile(r'(\d{1,6})(?:[,.](\d{1,2}))?')
GERMAN_DATE = '%d.%m.%Y'
MAX_ID = 2**31 - 1  # the largest id a database column can hold (PostgreSQL `integer`)
# The dates the portal reads at all; each form has its own narrower rule (a birthday, a code's validity) with its own
# message. The bounds keep date arithmetic (a day or a month later) far from the end of Python's range (9999).
MIN_DATE = date(1000, 1, 1)
MAX_DATE = date(2999, 12, 31)


def parse_id(value: object) -> int | None:
    """A record id from a URL or an event: a whole number between 1 and MAX_ID, as int or decimal text; None for
    anything else (booleans, floats, negative or too large numbers), which callers treat as "nicht gefunden"."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not (value.isascii() and value.isdecimal() and len(value) <= 10):
            return None
        value = int(value)
    if isinstance(value, int) and 1 <= value <= MAX_ID:
        return value
    return None


def without_control_characters(value: str) -> str:
    """Text without NUL and the other C0 control characters (PostgreSQL refuses NUL in any text)."""
    return CONTROL_CHARACTERS.sub('', value or '')


def search_term(value: str, max_length: int) -> str:
    """What a search or lookup field may send to a query: one line, no control characters, at most `max_length`
    characters (a longer value could match nothing anyway, and Tortoise refuses it for a shorter column)."""
    return ' '.join(without_control_characters(value).split())[:max_length]


def normalize_email(email: str) -> str:
    """How an e-mail address is compared and stored: trimmed, lower case, without control characters (nobody types
    them; PostgreSQL refuses a NUL in any lookup). `is_email` then checks what is left."""
    return without_control_characters(email).strip().lower()


def field_length(model: type[Model], field: str) -> int:
    """The column's max_length, so a service's message and the database agree on the limit."""
    return model._meta.fields_map[field].max_length  # type: ignore[attr-defined]


def is_email(value: str) -> bool:
    return len(value) <= 254 and bool(EMAIL_PATTERN.fullmatch(value))


def is_plz(value: str) -> bool:
    return bool(PLZ_PATTERN.fullmatch(value))


def parse_german_date(value: str) -> date | None:
    """'31.12.2026' → date; also accepts ISO '2026-12-31' (what date pickers send). None when it is no date or lies
    outside MIN_DATE…MAX_DATE (31.12.9999 would overflow the first "a day later")."""
    value = (value or '').strip()
    for pattern in (GERMAN_DATE, '%Y-%m-%d'):
        try:
            parsed = datetime.strptime(value, pattern).date()
        except ValueError:
            continue
        return parsed if MIN_DATE <= parsed <= MAX_DATE else None
    return None


def format_german_date(value: date | None) -> str:
    return value.strftime(GERMAN_DATE) if value else ''


def format_german_datetime(value: datetime | None) -> str:
    """A stored moment as Berlin time, '14.06.2030 09:05'; '' for none."""
    return value.astimezone(BERLIN).strftime(f'{GERMAN_DATE} %H:%M') if value else ''


def parse_euro_cents(text: str) -> int | None:
    """'15,75' / '15.75' / '20' / '20,- €' → cents; None when it is no amount (also negative or above 999.999,99 €).
    The one euro parser of the web forms, the command line and uploads."""
    cleaned = (text or '').replace('€', '').replace(',-', '').replace(' ', '').strip()
    match = EURO.fullmatch(cleaned)
    if not match:
        return None
    return int(match.group(1)) * 100 + int((match.group(2) or '0').ljust(2, '0'))


def format_euro(cents: int) -> str:
    """1575 → '15,75 €' (German notation)."""
    euros, rest = divmod(abs(cents), 100)
    sign = '-' if cents < 0 else ''
    return f'{sign}{euros:,}'.replace(',', '.') + f',{rest:02d} €'


def require_text(
    errors: dict[str, str], field: str, value: str, label: str, max_length: int, *, optional: bool = False
) -> str:
    """Text on one line (line breaks and tabs from spreadsheet cells become spaces), with a German message in
    `errors` when it is empty (unless `optional`), too long or holds other control characters."""
    value = ' '.join((value or '').split())
    if not value:
        if not optional:
            errors[field] = N_('Bitte geben Sie {label} an.', label=label)
    elif len(value) > max_length:
        errors[field] = N_('Die Eingabe darf höchstens {limit} Zeichen lang sein.', limit=max_length)
    elif any(ord(character) < 32 or ord(character) == 127 for character in value):
        errors[field] = N_('Die Eingabe enthält unzulässige Steuerzeichen.')
    return value
