"""Small checks and conversions shared by every form: e-mail, PLZ, German dates, text length."""

from __future__ import annotations

import re
from datetime import date, datetime

from services.clock import BERLIN

EMAIL_PATTERN = re.compile(r'[^@\s<>"]{1,64}@[^@\s<>"]+\.[^@\s<>"]{2,}')
PLZ_PATTERN = re.compile(r'[0-9]{5}')
GERMAN_DATE = '%d.%m.%Y'


def is_email(value: str) -> bool:
    return len(value) <= 254 and bool(EMAIL_PATTERN.fullmatch(value))


def is_plz(value: str) -> bool:
    return bool(PLZ_PATTERN.fullmatch(value))


def parse_german_date(value: str) -> date | None:
    """'31.12.2026' → date; also accepts ISO '2026-12-31' (what date pickers send). None when it is no date."""
    value = value.strip()
    for pattern in (GERMAN_DATE, '%Y-%m-%d'):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    return None


def format_german_date(value: date | None) -> str:
    return value.strftime(GERMAN_DATE) if value else ''


def format_german_datetime(value: datetime | None) -> str:
    """A stored moment as Berlin time, '14.06.2030 09:05'; '' for none."""
    return value.astimezone(BERLIN).strftime(f'{GERMAN_DATE} %H:%M') if value else ''


def format_euro(cents: int) -> str:
    """1575 → '15,75 €' (German notation)."""
    euros, rest = divmod(abs(cents), 100)
    sign = '-' if cents < 0 else ''
    return f'{sign}{euros:,}'.replace(',', '.') + f',{rest:02d} €'


def require_text(errors: dict[str, str], field: str, value: str, label: str, max_length: int) -> str:
    """Text on one line (line breaks and tabs from spreadsheet cells become spaces), with a German message in
    `errors` when it is empty, too long or holds other control characters."""
    value = ' '.join((value or '').split())
    if not value:
        errors[field] = f'Bitte geben Sie {label} an.'
    elif len(value) > max_length:
        errors[field] = f'Die Eingabe darf höchstens {max_length} Zeichen lang sein.'
    elif any(ord(character) < 32 or ord(character) == 127 for character in value):
        errors[field] = 'Die Eingabe enthält unzulässige Steuerzeichen.'
    return value
