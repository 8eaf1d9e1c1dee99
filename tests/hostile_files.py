"""Hostile Massenupload files, written byte by byte (issue 11): what an attacker sends instead of an employee list.

Shared by tests/services/test_hostile_files.py (small variants, just over and under each limit) and
bench/hostile_uploads.py (the sizes of the issue). Sheets are streamed into the ZIP in chunks, so even a 300 MB cell
or 20 million rows never sit in memory here as one string.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Iterable, Iterator
from xml.sax.saxutils import escape

from services.massenupload import TEMPLATE_COLUMNS

NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main'
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    '</Types>'
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="xl/workbook.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
    '</Relationships>'
)
WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Mitarbeitende" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
    '<Relationship Id="rId2" Target="sharedStrings.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
    '</Relationships>'
)
CHUNK = 1 << 20
SHEET_START = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}"><sheetData>'.encode()
SHEET_END = b'</sheetData></worksheet>'
# A data row the Self-Service rules accept (Startmonat far ahead, so the day of the run does not matter).
GOOD_VALUES = ('Frau', 'Lena', 'Brandt', '14.07.1988', 'lena.brandt@example.org', 'Königsplatz 1', '34117', 'Kassel',
               'P-1', '01.01.2099', 'Handyticket')


def column_letter(index: int) -> str:
    """1 → A, 27 → AA."""
    letters = ''
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def row_xml(number: int, values: Iterable[str]) -> bytes:
    cells = ''.join(f'<c r="{column_letter(column)}{number}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
                    for column, value in enumerate(values, start=1))
    return f'<row r="{number}">{cells}</row>'.encode()


HEADER = row_xml(1, TEMPLATE_COLUMNS)


EMPTY_SHARED_STRINGS = f'<sst xmlns="{NS}" count="0" uniqueCount="0"/>'.encode()


def xlsx(sheet: Iterable[bytes], *, shared_strings: Iterable[bytes] = (EMPTY_SHARED_STRINGS,),
         extra: dict[str, bytes] | None = None, compresslevel: int = 9) -> bytes:
    """A minimal workbook (what openpyxl needs) around the sheet XML `sheet`, given in chunks."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as archive:
        archive.writestr('[Content_Types].xml', CONTENT_TYPES)
        archive.writestr('_rels/.rels', ROOT_RELS)
        archive.writestr('xl/workbook.xml', WORKBOOK)
        archive.writestr('xl/_rels/workbook.xml.rels', WORKBOOK_RELS)
        for name, parts in (('xl/worksheets/sheet1.xml', sheet), ('xl/sharedStrings.xml', shared_strings)):
            with archive.open(name, 'w', force_zip64=True) as member:
                for part in parts:
                    member.write(part)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def sheet(*rows: bytes | Iterable[bytes]) -> Iterator[bytes]:
    yield SHEET_START
    for row in rows:
        if isinstance(row, bytes):
            yield row
        else:
            yield from row
    yield SHEET_END


def repeated(piece: bytes, count: int) -> Iterator[bytes]:
    """`piece` `count` times, in chunks of about a megabyte."""
    per_chunk = max(1, CHUNK // len(piece))
    while count > 0:
        batch = min(count, per_chunk)
        yield piece * batch
        count -= batch


# --- XLSX -------------------------------------------------------------------------------------------------------------


def good_xlsx(data_rows: int = 1, *, after: Iterable[bytes] = ()) -> bytes:
    return xlsx(sheet(HEADER, (row_xml(2 + index, GOOD_VALUES) for index in range(data_rows)), after))


def huge_row_number(number: int) -> bytes:
    """One good data row, numbered `number` (openpyxl fills every row above it)."""
    return xlsx(sheet(HEADER, row_xml(number, GOOD_VALUES)))


def empty_rows(count: int, *, compresslevel: int = 9) -> bytes:
    """`count` empty <row/> elements under the header (20 million make 120 MB that pack into 180 KB)."""
    return xlsx(sheet(HEADER, row_xml(2, GOOD_VALUES), repeated(b'<row/>', count)), compresslevel=compresslevel)


def numbered_empty_rows(first: int, count: int) -> bytes:
    """Empty rows that carry their numbers: they pack far less than bare <row/> elements."""
    rows = (f'<row r="{number}" s="1" customFormat="1"/>'.encode() for number in range(first, first + count))
    return xlsx(sheet(HEADER, row_xml(2, GOOD_VALUES), rows))


def huge_cell(size: int) -> bytes:
    """A data row whose Vorname is `size` characters long (300 MB pack into about 300 KB)."""
    values = list(GOOD_VALUES)
    before = row_xml(2, values[:1])[:-len(b'</row>')]
    return xlsx(sheet(HEADER, before, b'<c r="B2" t="inlineStr"><is><t>', repeated(b'x', size),
                      b'</t></is></c></row>'))


def huge_shared_string(size: int) -> bytes:
    return xlsx(sheet(HEADER, b'<row r="2"><c r="A2" t="s"><v>0</v></c></row>'),
                shared_strings=(f'<sst xmlns="{NS}" count="1" uniqueCount="1"><si><t>'.encode(),
                                *repeated(b'x', size), b'</t></si></sst>'))


def wide_row(cells: int) -> bytes:
    """A header row followed by a row of `cells` cells."""
    return xlsx(sheet(HEADER, b'<row r="2">', (f'<c r="{column_letter(column)}2"/>'.encode()
                                               for column in range(1, cells + 1)), b'</row>'))


def many_cells(rows: int, cells_per_row: int) -> bytes:
    row = b''.join(f'<c r="{column_letter(column)}NUM" t="inlineStr"><is><t>1</t></is></c>'.encode()
                   for column in range(1, cells_per_row + 1))
    return xlsx(sheet(HEADER, (b'<row r="%d">' % number + row.replace(b'NUM', b'%d' % number) + b'</row>'
                               for number in range(2, rows + 2))))


def many_members(count: int) -> bytes:
    return xlsx(sheet(HEADER, row_xml(2, GOOD_VALUES)),
                extra={f'xl/media/image{index}.xml': b'<x/>' for index in range(count)})


def entity_bomb() -> bytes:
    """The billion laughs in the sheet: ten levels of ten references."""
    entities = '<!ENTITY a0 "ha">' + ''.join(
        f'<!ENTITY a{level} "{f"&a{level - 1};" * 10}">' for level in range(1, 10))
    bomb = (f'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE worksheet [{entities}]><worksheet xmlns="{NS}">'
            '<sheetData>').encode()
    return xlsx([bomb, HEADER, b'<row r="2"><c r="A2" t="inlineStr"><is><t>&a9;</t></is></c></row>', SHEET_END])


def utf16_sheet(count: int) -> bytes:
    """The empty-rows sheet in UTF-16: no '<row' byte string in it for a naive counter to find."""
    text = b''.join(sheet(HEADER, repeated(b'<row/>', count))).decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    return xlsx([text.encode('utf-16')])


def claimed_size(data: bytes, member: str, size: int) -> bytes:
    """The workbook with `member`'s uncompressed size in the central directory replaced by `size` (a lie)."""
    name = member.encode()
    at = data.rindex(b'PK\x01\x02', 0, data.rindex(name))
    return data[:at + 24] + struct.pack('<I', size) + data[at + 28:]


# --- CSV --------------------------------------------------------------------------------------------------------------


CSV_HEADER = ';'.join(TEMPLATE_COLUMNS).encode() + b'\r\n'
CSV_ROW = ';'.join(GOOD_VALUES).encode() + b'\r\n'


def csv_long_line(length: int) -> bytes:
    return CSV_HEADER + CSV_ROW + b'x' * length + b'\r\n'


def csv_empty_lines(count: int) -> bytes:
    return CSV_HEADER + CSV_ROW + b'\r\n' * count


def csv_many_fields(count: int) -> bytes:
    return CSV_HEADER + CSV_ROW + b';' * (count - 1) + b'\r\n'


def csv_quoted_field(size: int) -> bytes:
    """One quoted Vorname over many short lines: no line is long, the field is."""
    return CSV_HEADER + b'Frau;"' + b'ab\r\n' * (size // 4) + b'";Brandt' + CSV_ROW[len('Frau;Lena;Brandt'):]
