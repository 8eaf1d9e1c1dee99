"""The columns of a Massenupload file, per mode: their names as in the templates and every message, the field each
fills, which are required, and the spellings a header may use."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from models import UploadMode


@dataclass(frozen=True)
class Column:
    name: str  # as in the template and in every message
    field: str  # the ApplicationInput field (or 'endmonat')
    required: bool = True
    aliases: tuple[str, ...] = ()


MODE_LABELS = {
    UploadMode.NEU: 'Neue Mitarbeitende',
    UploadMode.AENDERUNG: 'Änderungen (Anschrift, Ticketart)',
    UploadMode.AUSTRITT: 'Austritte (Abo beenden)',
}

COLUMNS = (
    Column('Anrede', 'anrede'),
    Column('Vorname', 'vorname'),
    Column('Nachname', 'nachname'),
    Column('Geburtsdatum', 'geburtsdatum', aliases=('Geburtstag',)),
    Column('E-Mail-Adresse', 'email', aliases=('E-Mail', 'Email', 'Mail')),
    Column('Straße und Hausnummer', 'strasse', aliases=('Straße', 'Straße Hausnummer', 'Straße und Hausnr.')),
    Column('PLZ', 'plz', aliases=('Postleitzahl',)),
    Column('Ort', 'ort', aliases=('Wohnort',)),
    Column('Personalnummer', 'personalnummer', required=False, aliases=('Personalnr.', 'Pers.-Nr.')),
    Column('Startmonat', 'startmonat'),
    Column('Ticketart', 'ticketart'),
    # "(SEPA-Lastschrift)" contracts only: the account the Eigenanteil is collected from (the employer holds the
    # signed mandate; services/sepa.py checks IBAN and holder, the database check requires them there)
    Column('IBAN', 'iban', required=False),
    Column('Kontoinhaber', 'kontoinhaber', required=False, aliases=('Kontoinhaberin', 'Kontoinhaber/in')),
)
_BY_NAME = {column.name: column for column in COLUMNS}
ENDMONAT = Column('Endmonat', 'endmonat', aliases=('Letzter Monat', 'Abo-Ende', 'Austrittsmonat'))
PERSONALNUMMER_KEY = replace(_BY_NAME['Personalnummer'], required=True)  # the key of changes and leavers
# A change row names the Personalnummer and what changes; an empty cell leaves that value as it is.
CHANGE_COLUMNS = (
    PERSONALNUMMER_KEY,
    *(replace(_BY_NAME[name], required=False) for name in ('Straße und Hausnummer', 'PLZ', 'Ort', 'Ticketart')),
)
LEAVER_COLUMNS = (PERSONALNUMMER_KEY, ENDMONAT)
MODE_COLUMNS: dict[UploadMode, tuple[Column, ...]] = {
    UploadMode.NEU: COLUMNS, UploadMode.AENDERUNG: CHANGE_COLUMNS, UploadMode.AUSTRITT: LEAVER_COLUMNS,
}
SEPA_COLUMNS = ('IBAN', 'Kontoinhaber')
TEMPLATE_COLUMNS = tuple(column.name for column in COLUMNS if column.name not in SEPA_COLUMNS)


def template_columns(sepa_contract: bool = False, mode: UploadMode = UploadMode.NEU) -> tuple[str, ...]:
    """The template's header: IBAN and Kontoinhaber only for new people under "(SEPA-Lastschrift)" contracts."""
    if mode != UploadMode.NEU:
        return tuple(column.name for column in MODE_COLUMNS[mode])
    return (*TEMPLATE_COLUMNS, *SEPA_COLUMNS) if sepa_contract else TEMPLATE_COLUMNS


COLUMN_OF_FIELD = {column.field: column.name for column in (*COLUMNS, ENDMONAT)}
COLUMN_ORDER = {column.name: index for index, column in enumerate((*COLUMNS, ENDMONAT))}
PERSON_COLUMN = 'Vorname, Nachname, Geburtsdatum'
FILE_COLUMN = '–'
DATE_FIELDS = ('geburtsdatum', 'startmonat', 'endmonat')
MONTH_FIELDS = ('startmonat', 'endmonat')


def header_key(text: object) -> str:
    """'E-Mail-Adresse', 'e-mail adresse ', 'EMAILADRESSE' → one key; 'Straße' = 'Strasse' (casefold)."""
    return re.sub(r'[\s\-_.]+', '', str(text)).casefold()


def header_keys(columns: tuple[Column, ...]) -> dict[str, Column]:
    return {header_key(name): column for column in columns for name in (column.name, *column.aliases)}


MODE_HEADER_KEYS = {mode: header_keys(columns) for mode, columns in MODE_COLUMNS.items()}
HEADER_KEYS = header_keys((*COLUMNS, ENDMONAT))  # every known name: what finds a CSV's delimiter
