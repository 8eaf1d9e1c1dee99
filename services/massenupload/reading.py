"""Reading a Massenupload file: bytes → rows of text per column (`parse_upload`), pure and off the event loop.

The bytes are read as the file a real spreadsheet program wrote (Excel date cells, numbers for PLZ, UTF-8 with or
without BOM or Windows-1252, ';' or ',', columns in any order). Files are hostile until read: every limit counts what
is actually read (bytes unpacked, rows, cells, lines), never what the file claims, and an .xlsx is checked as a ZIP
before openpyxl opens it. Reads run in a pool of their own (`READING_POOL`).
"""

from __future__ import annotations

import asyncio
import codecs
import csv
import hashlib
import io
import re
import threading
import zipfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import IO, Any, TypeVar

from openpyxl import load_workbook
from openpyxl.utils.datetime import from_excel

from models import UploadMode
from services import abo_dates
from services.antraege import ApplicationInput
from services.errors import ServiceError
from services.massenupload.columns import (
    DATE_FIELDS,
    HEADER_KEYS,
    MODE_COLUMNS,
    MODE_HEADER_KEYS,
    MONTH_FIELDS,
    Column,
    header_key,
)
from services.settings import get_settings
from services.table_query import format_count
from services.validation import format_german_date

T = TypeVar('T')
Progress = Callable[[int, int], None]
APPLICATION_FIELDS = tuple(ApplicationInput.__dataclass_fields__)
HEADER_SEARCH_ROWS = 20  # the header may sit below a title line or two
PROGRESS_EVERY = 250

# ---------------------------------------------------------------------------------------------------------------------
# Messages

NOT_XLSX = 'Die Datei ist keine gültige Excel-Datei.'
NOT_CSV = 'Die Datei ist keine gültige CSV-Datei.'
OLD_EXCEL = 'Das alte Excel-Format (.xls) wird nicht unterstützt. Bitte speichern Sie die Datei als .xlsx oder .csv.'
WRONG_TYPE = 'Bitte laden Sie eine Excel-Datei (.xlsx) oder eine CSV-Datei (.csv) hoch.'
EMPTY_FILE = 'Die Datei ist leer.'
NO_ROWS = 'Die Datei enthält unter der Kopfzeile keine Zeilen mit Daten.'
BUSY = ('Zurzeit werden sehr viele Dateien gleichzeitig geprüft. Bitte laden Sie die Datei in einigen Minuten erneut '
        'hoch.')
SAVE_ANEW = 'Bitte speichern Sie nur die Liste in einer neuen Datei (.xlsx oder .csv) und laden Sie diese hoch.'
ONLY_DATA_ROWS = 'Bitte kopieren Sie nur die Zeilen mit Daten in eine neue Datei.'
TOO_MANY_PARTS = f'Die Excel-Datei besteht aus ungewöhnlich vielen Teilen und wird nicht gelesen. {SAVE_ANEW}'
PACKED_TOO_TIGHT = f'Die Excel-Datei ist ungewöhnlich stark gepackt und wird nicht gelesen. {SAVE_ANEW}'


def megabytes_label(size: int) -> str:
    megabytes = size / (1024 * 1024)
    return f'{megabytes:g}'.replace('.', ',') + ' MB'


def too_large_message(max_bytes: int) -> str:
    return f'Die Datei ist größer als {megabytes_label(max_bytes)}. Bitte teilen Sie die Liste auf mehrere Dateien auf.'


def too_many_rows_message(max_rows: int) -> str:
    return (f'Die Datei enthält mehr als {format_count(max_rows)} Zeilen. Bitte teilen Sie die Liste auf mehrere '
            'Dateien auf.')


def unpacked_too_large_message(max_unpacked: int) -> str:
    return f'Die Excel-Datei ist entpackt größer als {megabytes_label(max_unpacked)}. {SAVE_ANEW}'


def too_many_lines_message(max_lines: int) -> str:
    return (f'Die Datei hat mehr als {format_count(max_lines)} Zeilen (leere und formatierte Zeilen zählen mit). '
            f'{ONLY_DATA_ROWS}')


def too_many_cells_message(max_cells: int) -> str:
    return (f'Die Tabelle hat mehr als {format_count(max_cells)} Zellen (leere und formatierte Zellen zählen mit). '
            f'{ONLY_DATA_ROWS}')


def too_many_columns_message(max_columns: int) -> str:
    return f'Eine Zeile der Datei hat mehr als {format_count(max_columns)} Spalten. {ONLY_DATA_ROWS}'


def cell_too_long_message(row: int, column: str) -> str:
    return (f'Zeile {format_count(row)}, Spalte „{column}“: Der Wert ist länger als '
            f'{format_count(MAX_CELL_CHARS)} Zeichen. Bitte korrigieren Sie die Datei.')


def line_too_long_message(line: int) -> str:
    return (f'Zeile {format_count(line)} der Datei ist länger als {format_count(MAX_LINE_CHARS)} Zeichen. '
            'Bitte korrigieren Sie die Datei.')


def missing_columns_message(missing: Sequence[str]) -> str:
    label = 'fehlt die Spalte' if len(missing) == 1 else 'fehlen die Spalten'
    return (f'In der Kopfzeile {label} {", ".join(f"„{name}“" for name in missing)}. '
            'Bitte verwenden Sie die Vorlage.')


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
    values: dict[str, str]  # the text of each mapped column, by field
    formulas: tuple[str, ...] = ()  # columns whose cell held a formula

    @property
    def data(self) -> ApplicationInput:
        """The row as the Self-Service form's input (fields the file lacks are empty)."""
        return ApplicationInput(**{name: self.values.get(name, '') for name in APPLICATION_FIELDS})

    def text(self, field_name: str) -> str:
        return self.values.get(field_name, '')


@dataclass(frozen=True)
class ParsedFile:
    file_name: str
    sha256: str
    rows: list[ParsedRow]
    mode: UploadMode = UploadMode.NEU


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
    a PLZ that Excel stored as a number and so shortened to four digits (01067 → 1067) gets its zero back; a PLZ
    typed as text keeps what was typed (four digits there are a fault, not padded: see checking.py)."""
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
        if field_name == 'plz' and FOUR_DIGITS.fullmatch(text):
            text = '0' + text
    else:
        text = str(value)
    text = text.replace('\xa0', ' ').strip()
    if field_name in DATE_FIELDS:
        text = MIDNIGHT_SUFFIX.sub('', text)
        if field_name in MONTH_FIELDS:
            text = _month_text(text)
    return text


def _month_text(text: str) -> str:
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

    def __init__(self, mode: UploadMode, max_rows: int, progress: Progress | None, estimate: int) -> None:
        self.columns = MODE_COLUMNS[mode]
        self.keys = MODE_HEADER_KEYS[mode]
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
        self.rows.append(ParsedRow(number, values, tuple(formulas)))
        if self.progress is not None and len(self.rows) % PROGRESS_EVERY == 0:
            self.progress(number, self.estimate)

    def _find_header(self, cells: Sequence[object]) -> None:
        if self.first_row is None:
            self.first_row = cells
        found: dict[str, int] = {}
        for index, cell in enumerate(cells):
            column = self.keys.get(header_key(cell)) if cell is not None else None
            if column is None:
                continue
            if column.name in found:
                raise UploadError(f'Die Spalte „{column.name}“ steht zweimal in der Kopfzeile.')
            found[column.name] = index
        missing = [column.name for column in self.columns if column.required and column.name not in found]
        if not missing:
            self.mapping = [(index, next(c for c in self.columns if c.name == name)) for name, index in found.items()]
            return
        self.rows_before_header += 1
        if self.rows_before_header >= HEADER_SEARCH_ROWS:
            self.fail_without_header()

    def fail_without_header(self) -> None:
        first = self.first_row or ()
        present = {self.keys[key].name for cell in first if cell is not None
                   and (key := header_key(cell)) in self.keys}
        raise _MissingColumns(missing_columns_message(
            [column.name for column in self.columns if column.required and column.name not in present]
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
            hits = sum(header_key(cell.strip().strip('"')) in HEADER_KEYS for cell in line.split(delimiter))
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
    max_rows: int | None = None, cancel: threading.Event | None = None, mode: UploadMode = UploadMode.NEU,
) -> ParsedFile:
    """The rows of an uploaded .xlsx or .csv as text per column (the columns of `mode`); `UploadError` with a German
    message otherwise.

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
        return _RowCollector(mode, max_rows, progress, estimate)

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
    return ParsedFile(file_name=file_name, sha256=sha256_of(data), rows=rows, mode=mode)



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

