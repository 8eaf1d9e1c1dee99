"""Massenupload: a company registers many employees at once from an Excel (.xlsx) or CSV file, all or nothing.

Three steps, as the page shows them:

1. `read_upload` (pure, no database, no event loop: it runs in a pool of its own, see `READING_POOL`) reads the
   bytes as the file a real spreadsheet program wrote (Excel date cells, numbers for PLZ, UTF-8 with or without BOM
   or Windows-1252, ';' or ',', columns in any order) and checks every row with `applications.check_application`,
   the rules of the Self-Service form, plus duplicates within the file. It returns a `Preview` or raises
   `UploadError` (German). Files are hostile until read: every limit counts what is actually read (bytes unpacked,
   rows, cells, lines), never what the file claims, and an .xlsx is checked as a ZIP before openpyxl opens it.
2. `check_against_contract` adds what only the database knows: a person who already has an open Antrag or an active
   Abo under the contract (one query per table for the whole file), a file imported before, an inactive contract.
3. `import_upload` writes an approved Antrag (source MASSENUPLOAD) and its Abo for every row, all or nothing. Every
   refused or failed upload is kept in the history (`Upload`) and audited.

How the import writes without anyone waiting for it. The rows go in batches of `BATCH_SIZE`; each batch's models
(Antrag, Abo, search keys) are built in a thread, never on the event loop. On PostgreSQL all batches are one
transaction: readers do not wait for a writer there (MVCC). On SQLite the process has one connection, and a
transaction holds it until it ends (a 10,000-row import held up another user's table for seconds), so each batch
is a transaction of its own, and other users' queries get the connection between batches. All or nothing then
works by compensation, the simplest correct design without a staging column:

- While it runs, the `Upload` row says so (result 'abgebrochen', message `RUNNING`); every Antrag of the import
  carries its `upload_id`, every Abo its Antrag.
- Each batch checks again, inside its transaction, that the contract is active and nobody of the batch has got an
  open Antrag or a running Abo meanwhile (SQLite runs one transaction at a time, so check and insert are atomic);
  a conflict stops the import like any error.
- The end is one short transaction: the count of the upload's Anträge must be the file's, and the Upload flips from
  `RUNNING` to 'importiert' together with the audit event. Until then the import has not happened.
- Any error or cancellation before the flip: `_undo` deletes the upload's Abos and Anträge (by `upload_id`, batch
  by batch, idempotent) and the Upload becomes 'abgebrochen'; the same file can be imported again. A process that
  dies half-way leaves its batches and the `RUNNING` mark: `recover_interrupted_imports` at the next start takes
  them back (and the flip of a still-living import that lost rows to it fails on the count).
- Until the flip, other users may see the batches already written (on SQLite), e.g. in the contract's Abo list;
  they are real, checked rows of an import that either completes within seconds or is taken back.
"""

from __future__ import annotations

import asyncio
import codecs
import csv
import hashlib
import io
import logging
import re
import threading
import zipfile
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import partial
from typing import IO, Any, TypeVar

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.datetime import from_excel
from openpyxl.worksheet.datavalidation import DataValidation
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import (
    Abo,
    AboStatus,
    Anrede,
    Antrag,
    AntragSource,
    AntragStatus,
    Contract,
    ContractStatus,
    PortalUser,
    Produktangebot,
    SepaMandate,
    Ticketart,
    Upload,
    UploadResult,
)
from services import abo_dates, audit, clock, permissions, sepa
from services.abos import neutralise
from services.applications import ApplicationInput, CheckedApplication, check_application, new_reference, person_key
from services.audit import AuditKind
from services.contracts import get_contract
from services.database import flat_values
from services.errors import PermissionDenied, ServiceError
from services.permissions import Action
from services.settings import get_settings
from services.validation import format_german_date, parse_german_date

logger = logging.getLogger(__name__)

T = TypeVar('T')
Progress = Callable[[int, int], None]


# ---------------------------------------------------------------------------------------------------------------------
# Columns


@dataclass(frozen=True)
class Column:
    name: str  # as in the template and in every message
    field: str  # the ApplicationInput field
    required: bool = True
    aliases: tuple[str, ...] = ()


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
    # signed mandate; services/sepa.py checks IBAN and holder, check_against_contract requires them there)
    Column('IBAN', 'iban', required=False),
    Column('Kontoinhaber', 'kontoinhaber', required=False, aliases=('Kontoinhaberin', 'Kontoinhaber/in')),
)
SEPA_COLUMNS = ('IBAN', 'Kontoinhaber')
TEMPLATE_COLUMNS = tuple(column.name for column in COLUMNS if column.name not in SEPA_COLUMNS)


def template_columns(sepa_contract: bool = False) -> tuple[str, ...]:
    """The template's header: IBAN and Kontoinhaber only for "(SEPA-Lastschrift)" contracts."""
    return (*TEMPLATE_COLUMNS, *SEPA_COLUMNS) if sepa_contract else TEMPLATE_COLUMNS
COLUMN_OF_FIELD = {column.field: column.name for column in COLUMNS}
COLUMN_ORDER = {column.name: index for index, column in enumerate(COLUMNS)}
PERSON_COLUMN = 'Vorname, Nachname, Geburtsdatum'
FILE_COLUMN = '–'
DATE_FIELDS = ('geburtsdatum', 'startmonat')
HEADER_SEARCH_ROWS = 20  # the header may sit below a title line or two
PROGRESS_EVERY = 250


def _header_key(text: object) -> str:
    """'E-Mail-Adresse', 'e-mail adresse ', 'EMAILADRESSE' → one key; 'Straße' = 'Strasse' (casefold)."""
    return re.sub(r'[\s\-_.]+', '', str(text)).casefold()


HEADER_KEYS = {
    _header_key(name): column for column in COLUMNS for name in (column.name, *column.aliases)
}

# ---------------------------------------------------------------------------------------------------------------------
# Messages

NOT_XLSX = 'Die Datei ist keine gültige Excel-Datei.'
NOT_CSV = 'Die Datei ist keine gültige CSV-Datei.'
OLD_EXCEL = 'Das alte Excel-Format (.xls) wird nicht unterstützt. Bitte speichern Sie die Datei als .xlsx oder .csv.'
WRONG_TYPE = 'Bitte laden Sie eine Excel-Datei (.xlsx) oder eine CSV-Datei (.csv) hoch.'
EMPTY_FILE = 'Die Datei ist leer.'
NO_ROWS = 'Die Datei enthält unter der Kopfzeile keine Zeilen mit Daten.'
FORMULA = 'Die Zelle enthält eine Formel. Bitte tragen Sie den Wert selbst ein (in Excel: „Werte einfügen“).'
EXISTING_PERSON = 'Person hat bereits einen offenen Antrag oder ein aktives Abo unter diesem Vertrag.'
EXISTING_NUMBER = ('Diese Personalnummer gehört unter diesem Vertrag bereits zu einem offenen Antrag oder einem '
                   'aktiven Abo.')
EXAMPLE_ROW = 'Dies ist die Beispielzeile der Vorlage. Bitte löschen Sie sie.'
INACTIVE_CONTRACT = 'Der Vertrag ist nicht aktiv; es können keine Abos angelegt werden.'
MANDATE_MISSING = ('Der Vertrag wird per SEPA-Lastschrift abgerechnet: Bitte geben Sie IBAN und Kontoinhaber an '
                   '(das unterschriebene Mandat liegt Ihnen vor).')
MANDATE_NOT_WANTED = 'Der Vertrag wird per Rechnung abgerechnet: Bitte lassen Sie IBAN und Kontoinhaber leer.'
UPLOAD_MANDATE_NOTE = ('Per Massenupload übermittelt: Das vom Kontoinhaber unterschriebene SEPA-Lastschriftmandat '
                       'liegt dem Arbeitgeber vor.')
FAULTY_FILE = 'Die Datei enthält Fehler und kann nicht importiert werden. Bitte korrigieren Sie die Datei.'
NOTHING_TO_IMPORT = 'Die Datei enthält keine Zeilen zum Importieren.'
STALE_PREVIEW = 'Die Prüfung ist nicht mehr aktuell. Bitte laden Sie die Datei erneut hoch.'
WRONG_PREVIEW = 'Die Prüfung gehört nicht zu dieser Datei oder diesem Vertrag. Bitte laden Sie die Datei erneut hoch.'
ABORTED = 'Der Import wurde abgebrochen; es wurde nichts gespeichert. Bitte versuchen Sie es erneut.'
RUNNING = 'Import läuft …'
BUSY = ('Zurzeit werden sehr viele Dateien gleichzeitig geprüft. Bitte laden Sie die Datei in einigen Minuten erneut '
        'hoch.')
SAVE_ANEW = 'Bitte speichern Sie nur die Liste in einer neuen Datei (.xlsx oder .csv) und laden Sie diese hoch.'
ONLY_DATA_ROWS = 'Bitte kopieren Sie nur die Zeilen mit Daten in eine neue Datei.'
TOO_MANY_PARTS = f'Die Excel-Datei besteht aus ungewöhnlich vielen Teilen und wird nicht gelesen. {SAVE_ANEW}'
PACKED_TOO_TIGHT = f'Die Excel-Datei ist ungewöhnlich stark gepackt und wird nicht gelesen. {SAVE_ANEW}'
# `check_application` speaks of the form's drop-downs; in a spreadsheet the same rule reads like this.
SPREADSHEET_REASONS = {
    'Bitte wählen Sie eine Anrede.': 'Bitte geben Sie als Anrede Frau, Herr, Divers oder Keine Angabe an.',
    'Bitte wählen Sie einen Startmonat.': 'Bitte geben Sie den Startmonat als Monatsersten an (01.MM.JJJJ).',
    'Bitte wählen Sie Chipkarte oder Handyticket.': 'Bitte geben Sie als Ticketart Chipkarte oder Handyticket an.',
}


def _german_count(number: int) -> str:
    return f'{number:,}'.replace(',', '.')


def megabytes_label(size: int) -> str:
    megabytes = size / (1024 * 1024)
    return f'{megabytes:g}'.replace('.', ',') + ' MB'


def too_large_message(max_bytes: int) -> str:
    return f'Die Datei ist größer als {megabytes_label(max_bytes)}. Bitte teilen Sie die Liste auf mehrere Dateien auf.'


def too_many_rows_message(max_rows: int) -> str:
    return (f'Die Datei enthält mehr als {_german_count(max_rows)} Zeilen. Bitte teilen Sie die Liste auf mehrere '
            'Dateien auf.')


def unpacked_too_large_message(max_unpacked: int) -> str:
    return f'Die Excel-Datei ist entpackt größer als {megabytes_label(max_unpacked)}. {SAVE_ANEW}'


def too_many_lines_message(max_lines: int) -> str:
    return (f'Die Datei hat mehr als {_german_count(max_lines)} Zeilen (leere und formatierte Zeilen zählen mit). '
            f'{ONLY_DATA_ROWS}')


def too_many_cells_message(max_cells: int) -> str:
    return (f'Die Tabelle hat mehr als {_german_count(max_cells)} Zellen (leere und formatierte Zellen zählen mit). '
            f'{ONLY_DATA_ROWS}')


def too_many_columns_message(max_columns: int) -> str:
    return f'Eine Zeile der Datei hat mehr als {_german_count(max_columns)} Spalten. {ONLY_DATA_ROWS}'


def cell_too_long_message(row: int, column: str) -> str:
    return (f'Zeile {_german_count(row)}, Spalte „{column}“: Der Wert ist länger als '
            f'{_german_count(MAX_CELL_CHARS)} Zeichen. Bitte korrigieren Sie die Datei.')


def line_too_long_message(line: int) -> str:
    return (f'Zeile {_german_count(line)} der Datei ist länger als {_german_count(MAX_LINE_CHARS)} Zeichen. '
            'Bitte korrigieren Sie die Datei.')


def missing_columns_message(missing: Sequence[str]) -> str:
    label = 'fehlt die Spalte' if len(missing) == 1 else 'fehlen die Spalten'
    return (f'In der Kopfzeile {label} {", ".join(f"„{name}“" for name in missing)}. '
            'Bitte verwenden Sie die Vorlage.')


def already_imported_message(upload: Upload) -> str:
    when = clock_label(upload.created_at)
    who = f' von {upload.uploaded_by.name}' if upload.uploaded_by else ''
    return f'Diese Datei wurde bereits am {when}{who} importiert.'


def clock_label(moment: datetime) -> str:
    local = moment.astimezone(clock.BERLIN)
    return f'{format_german_date(local.date())} um {local:%H:%M} Uhr'


class UploadError(ServiceError):
    """The file cannot be read as an employee list; the message says why, in German."""


class _MissingColumns(UploadError):
    pass


class Busy(ServiceError):
    """The reading pool and its queue are full: the upload is asked to come back later (not recorded as a fault)."""


class ReadCancelled(Exception):
    """The page that waited for the file has gone: the reading thread stops at its next row."""


# ---------------------------------------------------------------------------------------------------------------------
# Limits: counted in what is actually read, never in what a file claims (its <dimension>, its row numbers)

UNPACKED_FACTOR = 4  # an .xlsx may unpack to 4 × the upload limit; 10,000 rows written by openpyxl unpack to 6 MB
MAX_PACKING_RATIO = 100  # sheets pack 5–20 : 1; 20 million empty rows pack 660 : 1
RATIO_FROM_BYTES = 1024 * 1024  # small parts (styles, relations) may pack better than that
MAX_ARCHIVE_MEMBERS = 200  # an .xlsx from Excel has 10 to 40 parts
MAX_COLUMNS = 200
MAX_CELL_CHARS = 1_000  # the longest field of an Antrag is far shorter; longer is no employee list
MAX_LINE_CHARS = 10_000  # a CSV line
CELLS_PER_ROW = 20  # cells a sheet may hold per allowed data row (the template has 11 columns)


@dataclass(frozen=True)
class Limits:
    max_bytes: int  # the uploaded file
    max_rows: int  # data rows

    @property
    def max_lines(self) -> int:
        """Rows as the file has them, empty and formatted ones included: the data rows, as many again, and the rows
        above a header."""
        return 2 * self.max_rows + HEADER_SEARCH_ROWS

    @property
    def max_cells(self) -> int:
        return CELLS_PER_ROW * self.max_rows

    @property
    def max_unpacked(self) -> int:
        return UNPACKED_FACTOR * self.max_bytes


class _Reading:
    """One read of one file: the lines it may still read (across every sheet), and whether its page has gone."""

    def __init__(self, limits: Limits, cancel: threading.Event | None) -> None:
        self.limits = limits
        self.cancel = cancel
        self.lines = 0

    def line(self) -> None:
        self.lines += 1
        if self.lines > self.limits.max_lines:
            raise UploadError(too_many_lines_message(self.limits.max_lines))
        self.check_cancel()

    def check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise ReadCancelled


# ---------------------------------------------------------------------------------------------------------------------
# The result of reading and checking


@dataclass(frozen=True)
class Fault:
    row: int  # the row number as the spreadsheet program shows it; 0 for the file as a whole
    column: str
    reason: str


@dataclass(frozen=True)
class ParsedRow:
    row: int
    data: ApplicationInput
    formulas: tuple[str, ...] = ()  # columns whose cell held a formula


@dataclass(frozen=True)
class ParsedFile:
    file_name: str
    sha256: str
    rows: list[ParsedRow]


@dataclass(frozen=True)
class UploadRow:
    row: int
    data: CheckedApplication
    mandate: sepa.CheckedMandate | None = None  # the row's IBAN and holder, when it has any


@dataclass(frozen=True)
class RowKey:
    """Who a row is, as far as it can tell: for the duplicate checks against the contract's Anträge and Abos."""

    row: int
    person_key: str
    personalnummer: str


@dataclass(frozen=True)
class Preview:
    file_name: str
    sha256: str
    checked_on: date
    row_count: int
    rows: list[UploadRow]  # the rows without a fault, ready to import
    faults: list[Fault]
    keys: list[RowKey] = field(default_factory=list, repr=False)
    contract_id: int | None = None  # set by `check_against_contract`

    @property
    def faulty_count(self) -> int:
        return len({fault.row for fault in self.faults if fault.row})

    @property
    def valid_count(self) -> int:
        return len(self.rows)

    @property
    def file_faults(self) -> list[Fault]:
        return [fault for fault in self.faults if not fault.row]

    @property
    def importable(self) -> bool:
        return self.contract_id is not None and not self.faults and bool(self.rows)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------------------------------------------------
# Reading: cells → text


def _excel_serial_date(value: float) -> date | None:
    """A date column holding a bare number (a date cell that lost its format): Excel's day count since 1900."""
    if not 1 <= value < 2_958_466:
        return None
    try:
        result = from_excel(value)
    except (ValueError, OverflowError, TypeError):
        return None
    return result.date() if isinstance(result, datetime) else result if isinstance(result, date) else None


MONTH_NUMBER = {name.casefold(): index for index, name in enumerate(abo_dates.GERMAN_MONTHS, start=1)}
MONTH_YEAR = re.compile(r'(\d{1,2})\s*[./-]\s*(\d{4})')
MONTH_NAME_YEAR = re.compile(r'([^\W\d_]+)\.?\s+(\d{4})')
MIDNIGHT_SUFFIX = re.compile(r'\s+0?0:00(:00)?$')
FOUR_DIGITS = re.compile(r'[0-9]{4}')


def cell_text(value: object, field_name: str) -> str:
    """One cell as the text the form would have received. Excel dates become DD.MM.YYYY, whole numbers lose '.0',
    a PLZ that Excel shortened to four digits (01067 → 1067) gets its zero back."""
    if value is None:
        return ''
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return format_german_date(value)
    if isinstance(value, bool):
        text = 'ja' if value else 'nein'
    elif isinstance(value, int | float):
        if field_name in DATE_FIELDS and (serial := _excel_serial_date(value)) is not None:
            return format_german_date(serial)
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
            value = int(value)
        text = str(value)
    else:
        text = str(value)
    text = text.replace('\xa0', ' ').strip()
    if field_name == 'plz' and FOUR_DIGITS.fullmatch(text):
        text = '0' + text
    elif field_name in DATE_FIELDS:
        text = MIDNIGHT_SUFFIX.sub('', text)
        if field_name == 'startmonat':
            text = _start_month_text(text)
    return text


def _start_month_text(text: str) -> str:
    """'05.2026', '5/2026' and 'Mai 2026' (how the portal names months) mean the 1st of that month."""
    if match := MONTH_YEAR.fullmatch(text):
        number, year = int(match[1]), match[2]
        return f'01.{number:02d}.{year}' if 1 <= number <= 12 else text
    if (match := MONTH_NAME_YEAR.fullmatch(text)) and (month := MONTH_NUMBER.get(match[1].casefold())):
        return f'01.{month:02d}.{match[2]}'
    return text


# ---------------------------------------------------------------------------------------------------------------------
# Reading: rows → ParsedRow


class _RowCollector:
    """Takes the rows of a sheet in order: finds the header, maps columns by name, keeps the non-empty data rows."""

    def __init__(self, max_rows: int, progress: Progress | None, estimate: int) -> None:
        self.max_rows = max_rows
        self.progress = progress
        self.estimate = estimate
        self.mapping: list[tuple[int, Column]] | None = None
        self.rows: list[ParsedRow] = []
        self.first_row: Sequence[object] | None = None
        self.rows_before_header = 0

    def feed(self, number: int, cells: Sequence[object]) -> None:
        if cells.count(None) == len(cells):  # the many empty rows of a sheet, at C speed
            return
        if not any(cell is not None and str(cell).strip() for cell in cells):
            return
        if self.mapping is None:
            self._find_header(cells)
            return
        if len(self.rows) >= self.max_rows:
            raise UploadError(too_many_rows_message(self.max_rows))
        values: dict[str, str] = {}
        formulas = []
        for index, column in self.mapping:
            value = cells[index] if index < len(cells) else None
            if isinstance(value, str) and len(value) > MAX_CELL_CHARS:  # before any pattern looks at it
                raise UploadError(cell_too_long_message(number, column.name))
            text = cell_text(value, column.field)
            if text.startswith('=') and len(text) > 1:
                formulas.append(column.name)
            values[column.field] = text
        self.rows.append(ParsedRow(number, ApplicationInput(**values), tuple(formulas)))
        if self.progress is not None and len(self.rows) % PROGRESS_EVERY == 0:
            self.progress(number, self.estimate)

    def _find_header(self, cells: Sequence[object]) -> None:
        if self.first_row is None:
            self.first_row = cells
        found: dict[str, int] = {}
        for index, cell in enumerate(cells):
            column = HEADER_KEYS.get(_header_key(cell)) if cell is not None else None
            if column is None:
                continue
            if column.name in found:
                raise UploadError(f'Die Spalte „{column.name}“ steht zweimal in der Kopfzeile.')
            found[column.name] = index
        missing = [column.name for column in COLUMNS if column.required and column.name not in found]
        if not missing:
            self.mapping = [(index, next(c for c in COLUMNS if c.name == name)) for name, index in found.items()]
            return
        self.rows_before_header += 1
        if self.rows_before_header >= HEADER_SEARCH_ROWS:
            self.fail_without_header()

    def fail_without_header(self) -> None:
        first = self.first_row or ()
        present = {HEADER_KEYS[key].name for cell in first if cell is not None
                   and (key := _header_key(cell)) in HEADER_KEYS}
        raise _MissingColumns(missing_columns_message(
            [column.name for column in COLUMNS if column.required and column.name not in present]
        ))

    def finish(self) -> list[ParsedRow]:
        if self.mapping is None:
            if self.first_row is None:
                raise _MissingColumns(EMPTY_FILE)
            self.fail_without_header()
        if not self.rows:
            raise UploadError(NO_ROWS)
        return self.rows


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM (Excel's 'Unicode-Text'), else Windows-1252 (German Excel's
    'CSV (Trennzeichen-getrennt)'); Latin-1 as the last resort, which decodes any byte."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode('utf-16')
        except UnicodeDecodeError:
            raise UploadError(NOT_CSV) from None
    for encoding in ('utf-8-sig', 'cp1252'):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode('latin-1')


SEP_LINE = re.compile(r'"?sep=(.)"?\s*')


def _delimiter(lines: list[str]) -> str:
    """Semicolon (German Excel), comma or tab: the one that splits a line of the first few into the most known
    column names (a title line above the header may hold commas); else whichever the first line has most of."""
    best, best_hits = '', 0
    for line in lines:
        for delimiter in (';', ',', '\t'):
            hits = sum(_header_key(cell.strip().strip('"')) in HEADER_KEYS for cell in line.split(delimiter))
            if hits > best_hits:
                best, best_hits = delimiter, hits
    if best_hits > 1:
        return best
    header = next((line for line in lines if line.strip()), '')
    counts = {delimiter: header.count(delimiter) for delimiter in (';', ',', '\t')}
    most = max(counts, key=lambda delimiter: counts[delimiter])
    return most if counts[most] else ';'


def _csv_lines(text: str, reading: _Reading) -> Iterator[str]:
    """The lines for the csv reader, each counted and bounded before the reader splits it into fields."""
    for number, line in enumerate(io.StringIO(text, newline=''), start=1):
        if len(line) > MAX_LINE_CHARS + 2 and len(line.rstrip('\r\n')) > MAX_LINE_CHARS:
            raise UploadError(line_too_long_message(number))
        reading.line()
        yield line


def _read_csv(data: bytes, collector_for: Callable[[int], _RowCollector], reading: _Reading) -> list[ParsedRow]:
    text = _decode(data)
    if '\x00' in text:
        raise UploadError(NOT_CSV)
    first_line, _, rest = text.partition('\n')
    if match := SEP_LINE.fullmatch(first_line.strip('\r')):  # Excel's 'sep=;' line: not shown as a row there
        delimiter, text = match[1], rest
    else:
        delimiter = _delimiter(text[:20_000].splitlines()[:HEADER_SEARCH_ROWS])
    collector = collector_for(text.count('\n') + 1)
    number = 0
    try:
        reader = csv.reader(_csv_lines(text, reading), delimiter=delimiter)
        for number, record in enumerate(reader, start=1):
            if len(record) > MAX_COLUMNS:
                raise UploadError(too_many_columns_message(MAX_COLUMNS))
            collector.feed(number, record)
    except csv.Error:
        raise UploadError(f'Die CSV-Datei kann ab Zeile {number + 1} nicht gelesen werden.') from None
    return collector.finish()


# The elements that cost memory and time when openpyxl reads them (rows, cells, shared strings), with or without a
# namespace prefix, and any DTD (no workbook needs one; entities are how XML bombs grow). Counting them in the raw
# bytes finds at least as many as the parser will: a tag cannot be written any other way in an ASCII-compatible
# encoding, which `_check_encoding` demands.
XML_TOKENS = re.compile(rb'<(?:[A-Za-z_][\w.-]{0,30}:)?(row|c|si)(?=[\s/>])|<!(?:DOCTYPE|ENTITY)')
TOKEN_SPAN = 48  # no token is longer: a chunk's last bytes are kept for the next
SCAN_CHUNK = 1024 * 1024
XML_ENCODING = re.compile(rb'(?:\xef\xbb\xbf)?<\?xml[^>]{0,200}?encoding\s*=\s*["\']([A-Za-z0-9._-]{1,40})["\']')
ASCII_PROBE = '<row><c r="A1"/></row>'


def _check_encoding(head: bytes) -> None:
    """UTF-16/32 or a declared encoding that writes '<row' otherwise would hide the elements from the count."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)) or b'\x00' in head[:4]:
        raise UploadError(NOT_XLSX)
    if match := XML_ENCODING.match(head):
        try:
            same = ASCII_PROBE.encode(match[1].decode('ascii')) == ASCII_PROBE.encode('ascii')
        except (LookupError, UnicodeError):
            same = False
        if not same:
            raise UploadError(NOT_XLSX)


class _TokenCount:
    """Rows, cells and shared strings of every part of a workbook, counted while unpacking it in chunks."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.rows = self.cells = self.cells_in_row = self.strings = 0

    def scan(self, stream: IO[bytes]) -> None:
        carry = b''
        first = True
        while True:
            chunk = stream.read(SCAN_CHUNK)
            if first:
                _check_encoding(chunk[:256])
                first = False
            buffer = carry + chunk
            end = max(0, len(buffer) - TOKEN_SPAN) if chunk else len(buffer)
            for match in XML_TOKENS.finditer(buffer):
                if match.start() >= end:
                    break
                self._count(match[1])
            carry = buffer[end:]
            if not chunk:
                return

    def _count(self, kind: bytes | None) -> None:
        limits = self.limits
        if kind == b'c':
            self.cells += 1
            self.cells_in_row += 1
            if self.cells_in_row > MAX_COLUMNS:
                raise UploadError(too_many_columns_message(MAX_COLUMNS))
            if self.cells > limits.max_cells:
                raise UploadError(too_many_cells_message(limits.max_cells))
        elif kind == b'row':
            self.rows += 1
            self.cells_in_row = 0
            if self.rows > limits.max_lines:
                raise UploadError(too_many_lines_message(limits.max_lines))
        elif kind == b'si':
            self.strings += 1
            if self.strings > limits.max_cells:
                raise UploadError(too_many_cells_message(limits.max_cells))
        else:
            raise UploadError(NOT_XLSX)


def check_archive(data: bytes, limits: Limits) -> None:
    """Refuse a ZIP bomb before openpyxl opens it: the parts' sizes from the ZIP directory (zipfile never unpacks
    more than they say), their packing ratio, their number; then every part unpacked in chunks and its rows, cells
    and shared strings counted, so that openpyxl only ever sees a workbook within the limits."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > MAX_ARCHIVE_MEMBERS:
                raise UploadError(TOO_MANY_PARTS)
            if sum(member.file_size for member in members) > limits.max_unpacked:
                raise UploadError(unpacked_too_large_message(limits.max_unpacked))
            if any(member.file_size > max(RATIO_FROM_BYTES, MAX_PACKING_RATIO * member.compress_size)
                   for member in members):
                raise UploadError(PACKED_TOO_TIGHT)
            count = _TokenCount(limits)
            for member in members:
                with archive.open(member) as stream:
                    count.scan(stream)
    except UploadError:
        raise
    except Exception:  # any damage: not a ZIP, a bad CRC, an unknown compression, encryption
        raise UploadError(NOT_XLSX) from None


def _read_xlsx(data: bytes, collector_for: Callable[[int], _RowCollector], reading: _Reading) -> list[ParsedRow]:
    """The active sheet, else the first sheet with the columns. read_only streams the sheet; formulas stay text
    (nothing is evaluated, a cached result is not trusted). Every row openpyxl yields counts, also the empty ones it
    makes up for a gap before a far row number; columns beyond MAX_COLUMNS are not built at all."""
    check_archive(data, reading.limits)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except Exception:  # any damage in a file from outside: zip, XML, missing parts
        raise UploadError(NOT_XLSX) from None
    try:
        active = workbook.active
        sheets = [active, *(sheet for sheet in workbook.worksheets if sheet is not active)]
        missing: UploadError | None = None
        for sheet in sheets:
            if not hasattr(sheet, 'iter_rows'):  # a chart sheet
                continue
            estimate = min(sheet.max_row or 0, reading.limits.max_rows)  # a claim: for the progress bar only
            sheet.reset_dimensions()  # some programs write a wrong <dimension>; read what is there
            collector = collector_for(estimate)
            try:
                for number, cells in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
                    reading.line()
                    collector.feed(number, cells)
                return collector.finish()
            except _MissingColumns as error:
                missing = missing or error
        raise missing or UploadError(NOT_XLSX)
    except UploadError:
        raise
    except Exception:
        raise UploadError(NOT_XLSX) from None
    finally:
        workbook.close()


def parse_upload(
    data: bytes, file_name: str, *, progress: Progress | None = None, max_bytes: int | None = None,
    max_rows: int | None = None, cancel: threading.Event | None = None,
) -> ParsedFile:
    """The rows of an uploaded .xlsx or .csv as text per column; `UploadError` with a German message otherwise.

    Pure and synchronous: run it off the event loop. `progress(done, total)` is called now and then (total 0 when
    unknown). Setting `cancel` stops it at the next row (`ReadCancelled`).
    """
    settings = get_settings()
    max_bytes = settings.massenupload_max_bytes if max_bytes is None else max_bytes
    max_rows = settings.massenupload_max_rows if max_rows is None else max_rows
    if len(data) > max_bytes:
        raise UploadError(too_large_message(max_bytes))
    reading = _Reading(Limits(max_bytes, max_rows), cancel)
    if not data.strip():
        raise UploadError(EMPTY_FILE)
    extension = file_name.rsplit('.', 1)[-1].casefold() if '.' in file_name else ''
    is_zip = data.startswith(b'PK\x03\x04')

    def collector_for(estimate: int) -> _RowCollector:
        return _RowCollector(max_rows, progress, estimate)

    if extension == 'xls':
        raise UploadError(OLD_EXCEL)
    if extension == 'xlsx' or (extension == 'csv' and is_zip):  # an Excel file saved under the wrong name
        if not is_zip:
            raise UploadError(NOT_XLSX)
        rows = _read_xlsx(data, collector_for, reading)
    elif extension in ('csv', 'txt'):
        rows = _read_csv(data, collector_for, reading)
    else:
        raise UploadError(WRONG_TYPE)
    return ParsedFile(file_name=file_name, sha256=sha256_of(data), rows=rows)


# ---------------------------------------------------------------------------------------------------------------------
# Checking the rows (pure)


def _loose_person_key(data: ApplicationInput) -> str:
    """The person of a row even when other cells are wrong, so a duplicate shows in the same round."""
    vorname, nachname = data.vorname.strip(), data.nachname.strip()
    geburtsdatum = parse_german_date(data.geburtsdatum)
    if not vorname or not nachname or geburtsdatum is None:
        return ''
    return person_key(vorname, nachname, geburtsdatum)


EXAMPLE = ApplicationInput(
    anrede='Frau', vorname='Lena', nachname='Schäfer', geburtsdatum='14.07.1988', email='lena.schaefer@example.de',
    strasse='Friedrich-Ebert-Straße 12', plz='34117', ort='Kassel', personalnummer='P-4711', startmonat='',
    ticketart='Handyticket',
)
EXAMPLE_KEY = _loose_person_key(EXAMPLE)


def _sorted(faults: Iterable[Fault]) -> list[Fault]:
    return sorted(faults, key=lambda fault: (fault.row, COLUMN_ORDER.get(fault.column, len(COLUMN_ORDER))))


def check_rows(
    parsed: ParsedFile, today: date, *, progress: Progress | None = None, cancel: threading.Event | None = None,
) -> Preview:
    """Every row through the Self-Service rules (`check_application`), plus the same person or the same
    Personalnummer twice in the file. Pure: no database. Setting `cancel` stops it at the next row."""
    faults: list[Fault] = []
    rows: list[UploadRow] = []
    keys: list[RowKey] = []
    first_of_person: dict[str, int] = {}
    first_of_number: dict[str, int] = {}
    total = len(parsed.rows)
    for done, parsed_row in enumerate(parsed.rows, start=1):
        if cancel is not None and cancel.is_set():
            raise ReadCancelled
        number, data = parsed_row.row, parsed_row.data
        checked, errors = check_application(data, today)
        row_faults = {
            COLUMN_OF_FIELD[name]: SPREADSHEET_REASONS.get(message, message) for name, message in errors.items()
        }
        mandate = None
        if data.iban.strip() or data.kontoinhaber.strip():
            mandate, mandate_errors = sepa.check_mandate(data.iban, data.kontoinhaber, consent=True)
            row_faults.update({COLUMN_OF_FIELD[name]: message for name, message in mandate_errors.items()})
        for column in parsed_row.formulas:
            row_faults[column] = FORMULA
        key = _loose_person_key(data)
        personalnummer = data.personalnummer.strip()
        if key:
            keys.append(RowKey(number, key, personalnummer))
            if key == EXAMPLE_KEY and data.email.strip().casefold() == EXAMPLE.email:
                row_faults[PERSON_COLUMN] = EXAMPLE_ROW
            elif key in first_of_person:
                row_faults[PERSON_COLUMN] = f'Diese Person steht bereits in Zeile {first_of_person[key]} der Datei.'
            else:
                first_of_person[key] = number
        if personalnummer:
            folded = personalnummer.casefold()
            first = first_of_number.setdefault(folded, number)
            if first != number and PERSON_COLUMN not in row_faults:  # the same person twice: one message is enough
                row_faults['Personalnummer'] = f'Die Personalnummer steht bereits in Zeile {first} der Datei.'
        if row_faults or checked is None:
            faults.extend(Fault(number, column, reason) for column, reason in row_faults.items())
        else:
            rows.append(UploadRow(number, checked, mandate))
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, total)
    if progress is not None:
        progress(total, total)
    return Preview(
        file_name=parsed.file_name, sha256=parsed.sha256, checked_on=today, row_count=total, rows=rows,
        faults=_sorted(faults), keys=keys,
    )


def read_upload(
    data: bytes, file_name: str, today: date, progress: Progress | None = None, *,
    cancel: threading.Event | None = None,
) -> Preview:
    """`parse_upload` then `check_rows`, with one progress over both (reading is the first half). Pure."""
    def reading(done: int, total: int) -> None:
        if progress is not None:
            progress(done, 2 * total if total else 0)

    def checking(done: int, total: int) -> None:
        if progress is not None:
            progress(total + done, 2 * total)

    parsed = parse_upload(data, file_name, progress=reading, cancel=cancel)
    return check_rows(parsed, today, progress=checking, cancel=cancel)


class _ReadingPool:
    """Files are read in threads of their own, a few at once with a short queue behind them: a flood of uploads
    waits here or is asked to come back (`Busy`), and never takes the threads that logins, mails and other
    companies' pages use. When the waiting task is cancelled (its page has gone), the read stops at its next row."""

    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None
        self._workers = 0
        self.admitted = 0  # reading or waiting

    def _pool(self, workers: int) -> ThreadPoolExecutor:
        if self._executor is None or self._workers != workers:  # the settings changed (tests)
            if self._executor is not None:
                self._executor.shutdown(wait=False)
            self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix='massenupload')
            self._workers = workers
        return self._executor

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """`function(*args, cancel=event)` in the pool; `Busy` when the pool and its queue are full."""
        settings = get_settings()
        workers = max(1, settings.massenupload_workers)
        if self.admitted >= workers + max(0, settings.massenupload_queue):
            raise Busy(BUSY)
        cancel = threading.Event()
        self.admitted += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._pool(workers), partial(function, *args, cancel=cancel)
            )
        except asyncio.CancelledError:
            cancel.set()  # a queued read never starts (the future is cancelled), a running one stops at its next row
            raise
        finally:
            self.admitted -= 1


READING_POOL = _ReadingPool()


# ---------------------------------------------------------------------------------------------------------------------
# Checking against the contract (database)


def _chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _in_chunk_size() -> int:
    """Keys per IN list: the whole file within the row limit (SQLite allows 32,766 parameters, PostgreSQL 32,767)."""
    return max(1, min(get_settings().massenupload_max_rows, 30_000))


async def taken_persons(contract_id: int, person_keys: Sequence[str], personalnummern: Sequence[str],
                        today: date) -> tuple[set[str], set[str]]:
    """Which of these persons and Personalnummern already have an open Antrag or an Abo that has not ended under
    the contract (the rule of `applications.has_open_application_or_abo`), for a whole file at once."""
    running_abo = Q(status=AboStatus.AKTIV) | Q(status=AboStatus.GEKUENDIGT, endmonat__gte=today)
    persons: set[str] = set()
    numbers: set[str] = set()
    size = _in_chunk_size()
    for chunk in _chunks(sorted(set(person_keys)), size):
        persons.update(await flat_values(Antrag.filter(
            contract_id=contract_id, status=AntragStatus.OFFEN, person_key__in=list(chunk)
        ), 'person_key'))
        persons.update(await flat_values(Abo.filter(
            running_abo, contract_id=contract_id, person_key__in=list(chunk)
        ), 'person_key'))
    for chunk in _chunks(sorted(set(personalnummern)), size):
        numbers.update(await flat_values(Antrag.filter(
            contract_id=contract_id, status=AntragStatus.OFFEN, personalnummer__in=list(chunk)
        ), 'personalnummer'))
        numbers.update(await flat_values(Abo.filter(
            running_abo, contract_id=contract_id, personalnummer__in=list(chunk)
        ), 'personalnummer'))
    return persons, numbers


async def _previous_import(contract_id: int, sha256: str) -> Upload | None:
    return await Upload.filter(
        contract_id=contract_id, file_sha256=sha256, result=UploadResult.IMPORTIERT
    ).select_related('uploaded_by').order_by('-created_at').first()


async def _database_faults(contract: Contract, preview: Preview, today: date) -> list[Fault]:
    faults = []
    if contract.status != ContractStatus.AKTIV:
        faults.append(Fault(0, FILE_COLUMN, INACTIVE_CONTRACT))
    if previous := await _previous_import(contract.id, preview.sha256):
        faults.append(Fault(0, FILE_COLUMN, already_imported_message(previous)))
    persons, numbers = await taken_persons(
        contract.id, [key.person_key for key in preview.keys],
        [key.personalnummer for key in preview.keys if key.personalnummer], today,
    )
    already = {(fault.row, fault.column) for fault in preview.faults}
    sepa_contract = contract.produktangebot == Produktangebot.SEPA
    for row in preview.rows:
        if sepa_contract and row.mandate is None:
            faults.append(Fault(row.row, 'IBAN', MANDATE_MISSING))
        elif not sepa_contract and row.mandate is not None:
            faults.append(Fault(row.row, 'IBAN', MANDATE_NOT_WANTED))
    for key in preview.keys:
        if key.person_key in persons:
            if (key.row, PERSON_COLUMN) not in already:
                faults.append(Fault(key.row, PERSON_COLUMN, EXISTING_PERSON))
        elif key.personalnummer in numbers and (key.row, 'Personalnummer') not in already:
            faults.append(Fault(key.row, 'Personalnummer', EXISTING_NUMBER))
    return faults


async def check_against_contract(actor: PortalUser, contract_id: int, preview: Preview, *, client: str = '') -> Preview:
    """The preview with the database's faults added, bound to the contract. A file with faults is recorded in the
    history ('fehlerhaft') and audited; a file without is recorded only when it is imported."""
    contract = await get_contract(actor, contract_id)
    permissions.require(actor, Action.MASSENUPLOAD, contract.customer_id)
    today = clock.today()
    known = set(preview.faults)
    extra = [fault for fault in await _database_faults(contract, preview, today) if fault not in known]
    faulty_rows = {fault.row for fault in extra}
    checked = replace(
        preview, contract_id=contract.id, faults=_sorted([*preview.faults, *extra]),
        rows=[row for row in preview.rows if row.row not in faulty_rows],
    )
    if checked.faults:
        await _record_refusal(actor, contract, checked, checked.file_name, _fault_summary(checked), client=client)
    return checked


def _fault_summary(preview: Preview) -> str:
    parts = [fault.reason for fault in preview.file_faults]
    if count := preview.faulty_count:
        parts.append(f'{_german_count(count)} fehlerhafte Zeile{"" if count == 1 else "n"}.')
    return ' '.join(parts)


async def preview_upload(
    actor: PortalUser, contract_id: int, data: bytes, file_name: str, *, progress: Progress | None = None,
    client: str = '',
) -> Preview:
    """Read, check and check against the contract: the whole preview. The pure part runs in `READING_POOL`
    (`Busy` when it is full; cancelling this coroutine stops the read). `UploadError` for an unreadable file, which
    is recorded in the history, too."""
    contract = await get_contract(actor, contract_id)
    permissions.require(actor, Action.MASSENUPLOAD, contract.customer_id)
    try:
        preview = await READING_POOL.run(read_upload, data, file_name, clock.today(), progress)
    except UploadError as error:
        unreadable = Preview(file_name, sha256_of(data), clock.today(), 0, [], [Fault(0, FILE_COLUMN, str(error))])
        await _record_refusal(actor, contract, unreadable, file_name, str(error), client=client)
        raise
    return await check_against_contract(actor, contract.id, preview, client=client)


# ---------------------------------------------------------------------------------------------------------------------
# Import


BATCH_SIZE = 200  # rows per batch: on SQLite one transaction of ~40 ms on a busy 2-core machine (500: ~270 ms)
ImportProgress = Callable[[int, int], Awaitable[None]]


class _Refused(ServiceError):
    """During the import: the data changed since the preview; whatever was written is taken back."""


async def _record_refusal(
    actor: PortalUser, contract: Contract, preview: Preview, file_name: str, reason: str, *,
    result: UploadResult = UploadResult.FEHLERHAFT, upload: Upload | None = None, client: str = '',
) -> Upload:
    """A refused or failed upload in the history and the audit trail (outside any import transaction)."""
    values: dict[str, Any] = {
        'row_count': preview.row_count, 'valid_count': preview.valid_count, 'faulty_count': preview.faulty_count,
        'imported_count': 0, 'result': result, 'message': reason[:500],
    }
    if upload is None:
        upload = await Upload.create(
            contract_id=contract.id, uploaded_by=actor, file_name=file_name[:255], file_sha256=preview.sha256,
            created_at=clock.now(), **values,
        )
    else:
        await Upload.filter(id=upload.id).update(**values)
    await audit.record(
        AuditKind.UPLOAD_REFUSED, actor=actor, customer_id=contract.customer_id,
        object_type='upload', object_id=upload.id,
        details={'vertragsnummer': contract.vertragsnummer, 'datei': file_name[:255], 'zeilen': preview.row_count,
                 'ergebnis': result.value, 'grund': reason[:500]},
        client=client,
    )
    return upload


def _draw_references(today: date, count: int) -> set[str]:
    return {new_reference(today) for _ in range(count)}


async def _unused_references(today: date, count: int) -> list[str]:
    """`count` new Antrag references that no Antrag has yet (a few collide at a million Anträge); drawn in a thread,
    checked a batch per query."""
    references: set[str] = set()
    while len(references) < count:
        candidates = await asyncio.to_thread(_draw_references, today, count - len(references)) - references
        taken: set[str] = set()
        for chunk in _chunks(sorted(candidates), BATCH_SIZE):
            taken.update(await flat_values(Antrag.filter(reference__in=list(chunk)), 'reference'))
        references |= candidates - taken
    return sorted(references)


def abo_for(antrag: Antrag) -> Abo:
    """The Abo of an approved Antrag, unsaved (for bulk_create; its antrag_id is set once the Antrag has its id):
    the same fields as `antraege.create_abo_from`."""
    abo = Abo(
        contract_id=antrag.contract_id, employee_id=antrag.employee_id,
        vorname=antrag.vorname, nachname=antrag.nachname, geburtsdatum=antrag.geburtsdatum,
        personalnummer=antrag.personalnummer, strasse=antrag.strasse, plz=antrag.plz, ort=antrag.ort,
        ticketart=antrag.ticketart, startmonat=antrag.startmonat, status=AboStatus.AKTIV,
        person_key=antrag.person_key, created_at=antrag.created_at,
    )
    abo.refresh_search_text()
    return abo


@dataclass(frozen=True)
class _Batch:
    rows: Sequence[UploadRow]
    antraege: list[Antrag]
    abos: list[Abo]  # abos[i] belongs to antraege[i]


def _build_batch(actor_id: int, contract_id: int, upload_id: int, rows: Sequence[UploadRow],
                 references: Sequence[str], now: datetime) -> _Batch:
    """The unsaved models of one batch with their search keys: pure Python work, done in a thread (20,000 models
    built on the event loop stalled it for 146–197 ms)."""
    antraege = []
    for reference, row in zip(references, rows, strict=True):
        antrag = Antrag(
            reference=reference, contract_id=contract_id, upload_id=upload_id, source=AntragSource.MASSENUPLOAD,
            status=AntragStatus.GENEHMIGT, decided_at=now, decided_by_id=actor_id, created_at=now, **vars(row.data),
        )
        antrag.refresh_search_text()
        antraege.append(antrag)
    return _Batch(rows, antraege, [abo_for(antrag) for antrag in antraege])


def _taken_message(count: int) -> str:
    return (f'{_german_count(count)} Person{"" if count == 1 else "en"} der Datei '
            f'{"hat" if count == 1 else "haben"} inzwischen einen offenen Antrag oder ein aktives Abo unter diesem '
            'Vertrag. Bitte laden Sie die Datei erneut hoch, um die Zeilen zu sehen.')


async def _taken_rows(contract_id: int, rows: Sequence[UploadRow], today: date) -> set[int]:
    """The rows whose person or Personalnummer has meanwhile got an open Antrag or a running Abo."""
    persons, numbers = await taken_persons(
        contract_id, [row.data.person_key for row in rows],
        [row.data.personalnummer for row in rows if row.data.personalnummer], today,
    )
    return {row.row for row in rows if row.data.person_key in persons or row.data.personalnummer in numbers}


async def _require_active(contract_id: int) -> None:
    """The contract row, locked on PostgreSQL (two imports into one contract run one after the other)."""
    locked = await Contract.filter(id=contract_id).select_for_update().first()
    if locked is None or locked.status != ContractStatus.AKTIV:
        raise _Refused(INACTIVE_CONTRACT)


async def _write_batch(contract_id: int, batch: _Batch, today: date, *, recheck: bool) -> None:
    """One batch in one transaction; with `recheck` (each batch commits) checked again inside it: the contract still
    active, nobody of the batch meanwhile with an open Antrag or a running Abo (a Self-Service application, another
    import)."""
    async with in_transaction():
        if recheck:
            await _require_active(contract_id)
            if taken := await _taken_rows(contract_id, batch.rows, today):
                raise _Refused(_taken_message(len(taken)))
        await Antrag.bulk_create(batch.antraege)
        # bulk_create leaves the ids unset: read them back by the unique reference (one query per batch).
        ids = dict(await Antrag.filter(reference__in=[antrag.reference for antrag in batch.antraege])
                   .values_list('reference', 'id'))
        if len(ids) != len(batch.antraege):
            raise ServiceError('Die Anträge wurden nicht vollständig gespeichert.')
        for antrag, abo in zip(batch.antraege, batch.abos, strict=True):
            abo.antrag_id = ids[antrag.reference]
        await Abo.bulk_create(batch.abos)
        await SepaMandate.bulk_create([
            sepa.mandate_for(ids[antrag.reference], contract_id, row.mandate, UPLOAD_MANDATE_NOTE)
            for antrag, row in zip(batch.antraege, batch.rows, strict=True) if row.mandate is not None
        ])


def _commits_each_batch() -> bool:
    """SQLite: one connection per process, so a transaction holds up every other user's query until it ends; the
    import commits batch by batch. PostgreSQL: readers never wait for a writer (MVCC); one transaction."""
    return Antrag._meta.db.capabilities.dialect == 'sqlite'


async def _write_rows(actor: PortalUser, contract: Contract, upload: Upload, preview: Preview, today: date,
                      after_batch: ImportProgress | None, client: str) -> int:
    """Checks, then the Anträge and Abos batch by batch (see the module docstring), then the final flip of the
    Upload to 'importiert' together with the audit event. Raises `_Refused` or any error; the caller undoes."""
    total = len(preview.rows)
    each_batch = _commits_each_batch()
    async with nullcontext() if each_batch else in_transaction():
        await _require_active(contract.id)
        if previous := await _previous_import(contract.id, preview.sha256):
            raise _Refused(already_imported_message(previous))
        taken: set[int] = set()
        for rows in _chunks(preview.rows, BATCH_SIZE):  # short queries, small IN lists built on the loop
            taken |= await _taken_rows(contract.id, rows, today)
        if taken:
            raise _Refused(_taken_message(len(taken)))
        references = await _unused_references(today, total)
        now = clock.now()
        for start in range(0, total, BATCH_SIZE):
            batch = await asyncio.to_thread(
                _build_batch, actor.id, contract.id, upload.id, preview.rows[start:start + BATCH_SIZE],
                references[start:start + BATCH_SIZE], now,
            )
            await _write_batch(contract.id, batch, today, recheck=each_batch)
            if after_batch is not None:
                await after_batch(start + len(batch.rows), total)
        async with in_transaction():
            if await Antrag.filter(contract_id=contract.id, upload_id=upload.id).count() != total:
                raise ServiceError('Die Anträge wurden nicht vollständig gespeichert.')
            message = f'{_german_count(total)} Abo{"" if total == 1 else "s"} angelegt.'
            if not await Upload.filter(id=upload.id, message=RUNNING).update(
                    result=UploadResult.IMPORTIERT, imported_count=total, message=message):
                raise ServiceError('Der Import wurde beim Start des Portals als abgebrochen erkannt.')
            await audit.record(
                AuditKind.UPLOAD_IMPORTED, actor=actor, customer_id=contract.customer_id,
                object_type='upload', object_id=upload.id,
                details={'vertragsnummer': contract.vertragsnummer, 'datei': upload.file_name,
                         'zeilen': preview.row_count, 'importiert': total, 'sha256': preview.sha256},
                client=client,
            )
    return total


async def _undo(contract_id: int, upload_id: int) -> int:
    """Delete what an unfinished import of this upload committed (its Abos, then its Anträge), a batch per short
    transaction; idempotent. Returns the number of Anträge deleted."""
    deleted = 0
    while ids := await Antrag.filter(contract_id=contract_id, upload_id=upload_id).limit(BATCH_SIZE) \
            .values_list('id', flat=True):
        async with in_transaction():
            await Abo.filter(contract_id=contract_id, antrag_id__in=list(ids)).delete()
            await SepaMandate.filter(antrag_id__in=list(ids)).delete()
            deleted += await Antrag.filter(id__in=list(ids)).delete()
    return deleted


async def import_upload(
    actor: PortalUser, contract_id: int, preview: Preview, file_name: str, file_bytes: bytes, client: str = '', *,
    after_batch: ImportProgress | None = None,
) -> Upload:
    """Importieren: every row becomes an approved Antrag (source Massenupload, decided by the actor) and its Abo,
    all or nothing (see the module docstring for how, on SQLite, without holding up anyone). Only a checked preview
    without faults of exactly this file is imported; the duplicate rule is checked again while writing. The history
    row and the audit event record the outcome, also when the import is refused or fails. `after_batch(done, total)`
    is awaited after each written batch."""
    contract = await get_contract(actor, contract_id)
    if not permissions.may(actor, Action.MASSENUPLOAD, contract.customer_id):
        refusal = permissions.denied_message(Action.MASSENUPLOAD)
        await audit.record(
            AuditKind.UPLOAD_REFUSED, actor=actor, customer_id=contract.customer_id,
            object_type='contract', object_id=contract.id,
            details={'vertragsnummer': contract.vertragsnummer, 'datei': file_name[:255], 'grund': refusal},
            client=client,
        )
        raise PermissionDenied(refusal)
    today = clock.today()
    reason = ''
    if sha256_of(file_bytes) != preview.sha256 or preview.contract_id != contract.id:
        reason = WRONG_PREVIEW
    elif preview.checked_on != today:
        reason = STALE_PREVIEW
    elif preview.faults:
        reason = FAULTY_FILE
    elif not preview.rows:
        reason = NOTHING_TO_IMPORT
    elif contract.status != ContractStatus.AKTIV:
        reason = INACTIVE_CONTRACT
    elif previous := await _previous_import(contract.id, preview.sha256):
        reason = already_imported_message(previous)
    if reason:
        await _record_refusal(actor, contract, preview, file_name, reason, client=client)
        raise ServiceError(reason)

    upload = await Upload.create(
        contract_id=contract.id, uploaded_by=actor, file_name=file_name[:255], file_sha256=preview.sha256,
        row_count=preview.row_count, valid_count=preview.valid_count, faulty_count=0, imported_count=0,
        result=UploadResult.ABGEBROCHEN, message=RUNNING, created_at=clock.now(),
    )

    async def take_back(reason: str, result: UploadResult) -> None:
        await _undo(contract.id, upload.id)
        await _record_refusal(actor, contract, preview, file_name, reason, result=result, upload=upload,
                              client=client)

    try:
        await _write_rows(actor, contract, upload, preview, today, after_batch, client)
    except _Refused as error:
        await asyncio.shield(take_back(str(error), UploadResult.FEHLERHAFT))
        raise ServiceError(str(error)) from None
    except BaseException as error:  # also a cancelled import (the page's teardown at shutdown): nothing may stay
        logger.log(logging.ERROR if isinstance(error, Exception) else logging.WARNING,
                   'Massenupload %s for contract %s failed', upload.id, contract.id, exc_info=True)
        await asyncio.shield(take_back(ABORTED, UploadResult.ABGEBROCHEN))
        if isinstance(error, Exception):
            raise ServiceError(ABORTED) from error
        raise
    await upload.refresh_from_db()
    return upload


async def recover_interrupted_imports() -> int:
    """At start-up, before any request: take back the committed batches of imports that a dead process left
    'running' (SQLite only: on PostgreSQL an import is one transaction, which the server rolls back itself).
    Returns the number of such uploads; each becomes 'abgebrochen' and can be imported again."""
    if not _commits_each_batch():
        return 0
    interrupted = await Upload.filter(result=UploadResult.ABGEBROCHEN, message=RUNNING)
    for upload in interrupted:
        deleted = await _undo(upload.contract_id, upload.id)
        await Upload.filter(id=upload.id).update(message=ABORTED)
        logger.warning('Massenupload %s was interrupted; %s Anträge and their Abos taken back', upload.id, deleted)
    return len(interrupted)


# ---------------------------------------------------------------------------------------------------------------------
# History, error list, templates


async def upload_history(actor: PortalUser, contract_id: int, limit: int = 50) -> list[Upload]:
    """The contract's uploads, newest first (readers see them, too)."""
    contract = await get_contract(actor, contract_id)
    permissions.require(actor, Action.VIEW_UPLOADS, contract.customer_id)
    return await permissions.scoped(Upload.filter(contract_id=contract.id), actor).select_related('uploaded_by') \
        .order_by('-created_at', '-id').limit(limit)


def error_list_csv(preview: Preview) -> bytes:
    """The faults as CSV for Excel (semicolon, UTF-8 with BOM); every cell safe from formula injection."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=';', lineterminator='\r\n')
    writer.writerow(('Zeile', 'Spalte', 'Grund'))
    for fault in preview.faults:
        writer.writerow([neutralise(value) for value in (
            str(fault.row) if fault.row else FILE_COLUMN, fault.column, fault.reason,
        )])
    return buffer.getvalue().encode('utf-8-sig')


def template_row(today: date) -> list[object]:
    """The example row; Startmonat is the first month still open for an application."""
    start = abo_dates.first_open_start_month(today)
    return [EXAMPLE.anrede, EXAMPLE.vorname, EXAMPLE.nachname, parse_german_date(EXAMPLE.geburtsdatum),
            EXAMPLE.email, EXAMPLE.strasse, EXAMPLE.plz, EXAMPLE.ort, EXAMPLE.personalnummer, start,
            EXAMPLE.ticketart]


def template_csv(today: date, sepa_contract: bool = False) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=';', lineterminator='\r\n')
    writer.writerow(template_columns(sepa_contract))
    row = [format_german_date(value) if isinstance(value, date) else value for value in template_row(today)]
    writer.writerow([*row, *SEPA_EXAMPLE] if sepa_contract else row)
    return buffer.getvalue().encode('utf-8-sig')


SEPA_EXAMPLE = ('DE02120300000000202051', 'Erika Mustermann')
SEPA_HINTS = (
    ('IBAN', 'das Konto, von dem der Eigenanteil abgebucht wird (Prüfziffer wird geprüft)'),
    ('Kontoinhaber', 'wie bei der Bank; darf vom Ticketinhaber abweichen. Das unterschriebene Mandat bleibt bei '
                     'Ihnen.'),
)


def template_hints(today: date, sepa_contract: bool = False) -> tuple[tuple[str, str], ...]:
    start = format_german_date(abo_dates.first_open_start_month(today))
    return (*(SEPA_HINTS if sepa_contract else ()),
        ('Anrede', 'Frau, Herr, Divers oder Keine Angabe'),
        ('Vorname, Nachname', 'wie im Ausweis'),
        ('Geburtsdatum', 'TT.MM.JJJJ, z. B. 14.07.1988 (oder eine Datumszelle)'),
        ('E-Mail-Adresse', 'für die Nachrichten zum Abo'),
        ('Straße und Hausnummer, PLZ, Ort', 'Wohnanschrift; die PLZ hat 5 Ziffern'),
        ('Personalnummer', 'freiwillig; darf in der Datei nur einmal vorkommen'),
        ('Startmonat', f'der Monatserste, ab dem das Abo gilt, frühestens {start} (auch als Datumszelle)'),
        ('Ticketart', 'Chipkarte oder Handyticket'),
        ('Beispielzeile', 'Bitte ersetzen oder löschen Sie die Beispielzeile vor dem Hochladen.'),
    )


def template_xlsx(today: date, sepa_contract: bool = False) -> bytes:
    """The template for Excel: PLZ and Personalnummer as text cells (Excel keeps leading zeros), dates as date cells,
    drop-downs for Anrede and Ticketart, and a sheet 'Hinweise'."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = 'Mitarbeitende'
    sheet.append(template_columns(sepa_contract))
    sheet.append([*template_row(today), *SEPA_EXAMPLE] if sepa_contract else template_row(today))
    header_fill = PatternFill('solid', fgColor='0B4F8A')
    for cell in sheet[1]:
        cell.font = Font(bold=True, color='FFFFFF')
        cell.fill = header_fill
        cell.alignment = Alignment(vertical='center')
    widths = (14, 16, 18, 14, 32, 30, 9, 18, 16, 13, 14, 28, 24)
    for index, width in enumerate(widths):
        letter = chr(ord('A') + index)
        sheet.column_dimensions[letter].width = width
    for letter in ('D', 'J'):
        for row in range(2, 1002):
            sheet[f'{letter}{row}'].number_format = 'DD.MM.YYYY'
    for letter in ('G', 'I'):
        for row in range(2, 1002):
            sheet[f'{letter}{row}'].number_format = '@'
    anrede = DataValidation(type='list', formula1='"' + ','.join(value.value for value in Anrede) + '"',
                            allow_blank=True)
    ticketart = DataValidation(type='list', formula1='"' + ','.join(value.value for value in Ticketart) + '"',
                               allow_blank=True)
    sheet.add_data_validation(anrede)
    sheet.add_data_validation(ticketart)
    anrede.add('A2:A10001')
    ticketart.add('K2:K10001')
    sheet.freeze_panes = 'A2'
    hints = workbook.create_sheet('Hinweise')
    hints.append(('Spalte', 'Hinweis'))
    for hint in template_hints(today, sepa_contract):
        hints.append(hint)
    hints['A1'].font = hints['B1'].font = Font(bold=True)
    hints.column_dimensions['A'].width = 32
    hints.column_dimensions['B'].width = 80
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
