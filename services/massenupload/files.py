"""The files the Massenupload hands out: a template per mode (Excel and CSV) and the list of faults."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from models import Anrede, Ticketart, UploadMode
from services import abo_dates
from services.massenupload.checking import EXAMPLE, EXAMPLE_NUMBER, Preview
from services.massenupload.columns import FILE_COLUMN, template_columns
from services.spreadsheet import Cell, csv_bytes
from services.validation import format_german_date, parse_german_date

SEPA_EXAMPLE = ('DE02120300000000202051', 'Erika Mustermann')
SEPA_HINTS = (
    ('IBAN', 'das Konto, von dem der Eigenanteil abgebucht wird (Prüfziffer wird geprüft)'),
    ('Kontoinhaber', 'wie bei der Bank; darf vom Ticketinhaber abweichen. Das unterschriebene Mandat bleibt bei '
                     'Ihnen.'),
)
EXAMPLE_HINT = ('Beispielzeile', 'Bitte ersetzen oder löschen Sie die Beispielzeile vor dem Hochladen.')
WIDTHS = {'Anrede': 14, 'Vorname': 16, 'Nachname': 18, 'Geburtsdatum': 14, 'E-Mail-Adresse': 32,
          'Straße und Hausnummer': 30, 'PLZ': 9, 'Ort': 18, 'Personalnummer': 16, 'Startmonat': 13, 'Ticketart': 14,
          'IBAN': 28, 'Kontoinhaber': 24, 'Endmonat': 13}
TEXT_COLUMNS = ('PLZ', 'Personalnummer')  # text cells: Excel keeps leading zeros
CHOICES = {'Anrede': tuple(value.value for value in Anrede), 'Ticketart': tuple(value.value for value in Ticketart)}
TEMPLATE_ROWS = 10_000  # formats and drop-downs reach this far


def error_list_csv(preview: Preview) -> bytes:
    """The faults as CSV for Excel (semicolon, UTF-8 with BOM); every cell safe from formula injection."""
    return csv_bytes(('Zeile', 'Spalte', 'Grund'), (
        (str(fault.row) if fault.row else FILE_COLUMN, fault.column, fault.reason) for fault in preview.faults
    ))


def template_row(today: date, mode: UploadMode = UploadMode.NEU) -> list[Cell]:
    """The example row. New people: Startmonat is the first month still open for an application. Leavers: the
    Endmonat is the next possible end."""
    if mode == UploadMode.AENDERUNG:
        return [EXAMPLE_NUMBER, 'Kölnische Straße 8', '34119', 'Kassel', 'Chipkarte']
    if mode == UploadMode.AUSTRITT:
        return [EXAMPLE_NUMBER, abo_dates.cancellation_end(today, today)]
    return [EXAMPLE.anrede, EXAMPLE.vorname, EXAMPLE.nachname, parse_german_date(EXAMPLE.geburtsdatum),
            EXAMPLE.email, EXAMPLE.strasse, EXAMPLE.plz, EXAMPLE.ort, EXAMPLE.personalnummer,
            abo_dates.first_open_start_month(today), EXAMPLE.ticketart]


def _example(today: date, sepa_contract: bool, mode: UploadMode) -> list[Cell]:
    row = template_row(today, mode)
    return [*row, *SEPA_EXAMPLE] if sepa_contract and mode == UploadMode.NEU else row


def template_csv(today: date, sepa_contract: bool = False, mode: UploadMode = UploadMode.NEU) -> bytes:
    return csv_bytes(template_columns(sepa_contract, mode), [_example(today, sepa_contract, mode)])


def template_hints(today: date, sepa_contract: bool = False,
                   mode: UploadMode = UploadMode.NEU) -> tuple[tuple[str, str], ...]:
    if mode == UploadMode.AENDERUNG:
        return (
            ('Personalnummer', 'wie beim Abo gespeichert; sie bestimmt das Abo, das geändert wird'),
            ('Straße und Hausnummer, PLZ, Ort', 'die neue Wohnanschrift, vollständig; leer: bleibt wie sie ist. '
                                                'Die PLZ hat 5 Ziffern'),
            ('Ticketart', 'Chipkarte oder Handyticket; leer: bleibt wie sie ist'),
            EXAMPLE_HINT,
        )
    if mode == UploadMode.AUSTRITT:
        end = format_german_date(abo_dates.cancellation_end(today, today))
        return (
            ('Personalnummer', 'wie beim Abo gespeichert; sie bestimmt das Abo, das endet'),
            ('Endmonat', f'der letzte Monat des Abos (MM.JJJJ oder ein Datum darin), frühestens zum {end}, '
                         f'höchstens {abo_dates.MAX_END_MONTHS_AHEAD} Monate später'),
            EXAMPLE_HINT,
        )
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
        EXAMPLE_HINT,
    )


def template_xlsx(today: date, sepa_contract: bool = False, mode: UploadMode = UploadMode.NEU) -> bytes:
    """The template for Excel: PLZ and Personalnummer as text cells (Excel keeps leading zeros), dates as date cells,
    drop-downs for Anrede and Ticketart, and a sheet 'Hinweise'."""
    columns = template_columns(sepa_contract, mode)
    example = _example(today, sepa_contract, mode)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = 'Mitarbeitende'
    sheet.append(columns)
    sheet.append(example)
    header_fill = PatternFill('solid', fgColor='0B4F8A')
    for cell in sheet[1]:
        cell.font = Font(bold=True, color='FFFFFF')
        cell.fill = header_fill
        cell.alignment = Alignment(vertical='center')
    for index, (name, value) in enumerate(zip(columns, example, strict=True), start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = WIDTHS.get(name, 16)
        number_format = 'DD.MM.YYYY' if isinstance(value, date) else '@' if name in TEXT_COLUMNS else ''
        if number_format:
            for row in range(2, 1002):
                sheet[f'{letter}{row}'].number_format = number_format
        if name in CHOICES:
            choice = DataValidation(type='list', formula1='"' + ','.join(CHOICES[name]) + '"', allow_blank=True)
            sheet.add_data_validation(choice)
            choice.add(f'{letter}2:{letter}{TEMPLATE_ROWS + 1}')
    sheet.freeze_panes = 'A2'
    hints = workbook.create_sheet('Hinweise')
    hints.append(('Spalte', 'Hinweis'))
    for hint in template_hints(today, sepa_contract, mode):
        hints.append(hint)
    hints['A1'].font = hints['B1'].font = Font(bold=True)
    hints.column_dimensions['A'].width = 32
    hints.column_dimensions['B'].width = 80
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
