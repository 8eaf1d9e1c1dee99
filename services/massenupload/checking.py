"""Checking a Massenupload file's rows: first pure (`check_rows`, in the reading pool), then against the contract
(`check_against_contract`, one query per table for the whole file).

Per mode:
- new people: every row through the Self-Service rules (`antraege.check_application`), the same person or
  Personalnummer twice in the file, and the duplicate rule (`antraege.taken_persons`) against the contract;
- changes and leavers: keyed by Personalnummer, which must name exactly one running Abo of the contract; a change
  names at least one new value (a new address complete), a leaver's Endmonat follows `abo_dates.end_month_problem`,
  the rule of "Abo beenden zum …" on the Anträge page.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from models import (
    Abo,
    AboStatus,
    Anrede,
    Contract,
    ContractStatus,
    PortalUser,
    Produktangebot,
    Ticketart,
    Upload,
    UploadMode,
    UploadResult,
)
from services import abo_dates, clock, permissions, sepa
from services.antraege import (
    ApplicationInput,
    CheckedApplication,
    check_application,
    person_key,
    running_abo,
    taken_persons,
)
from services.massenupload.columns import COLUMN_OF_FIELD, COLUMN_ORDER, FILE_COLUMN, PERSON_COLUMN
from services.massenupload.reading import (
    PROGRESS_EVERY,
    Fault,
    ParsedFile,
    ParsedRow,
    Progress,
    ReadCancelled,
    parse_upload,
)
from services.permissions import Action
from services.settings import get_settings
from services.table_query import format_count
from services.validation import field_length, format_german_date, is_plz, parse_german_date, require_text
from services.vertraege import get_contract

FORMULA = 'Die Zelle enthält eine Formel. Bitte tragen Sie den Wert selbst ein (in Excel: „Werte einfügen“).'
EXISTING_PERSON = 'Person hat bereits einen offenen Antrag oder ein aktives Abo unter diesem Vertrag.'
EXISTING_NUMBER = ('Diese Personalnummer gehört unter diesem Vertrag bereits zu einem offenen Antrag oder einem '
                   'aktiven Abo.')
EXAMPLE_ROW = 'Dies ist die Beispielzeile der Vorlage. Bitte löschen Sie sie.'
INACTIVE_CONTRACT = 'Der Vertrag ist nicht aktiv; es können keine Abos angelegt werden.'
MANDATE_MISSING = ('Der Vertrag wird per SEPA-Lastschrift abgerechnet: Bitte geben Sie IBAN und Kontoinhaber an '
                   '(das unterschriebene Mandat liegt Ihnen vor).')
MANDATE_NOT_WANTED = 'Der Vertrag wird per Rechnung abgerechnet: Bitte lassen Sie IBAN und Kontoinhaber leer.'
PLZ_FOUR_DIGITS = ('Die PLZ hat nur 4 Ziffern. Bitte tragen Sie sie mit führender Null ein (z. B. 01067) oder '
                   'formatieren Sie die Spalte als Text.')
NUMBER_MISSING = 'Bitte geben Sie die Personalnummer an.'
NUMBER_UNKNOWN = 'Unter diesem Vertrag gibt es kein laufendes Abo mit dieser Personalnummer.'
NUMBER_AMBIGUOUS = ('Diese Personalnummer gehört unter diesem Vertrag zu mehreren laufenden Abos. Bitte ändern oder '
                    'beenden Sie diese einzeln unter „Anträge“.')
NO_CHANGE = 'Die Zeile enthält keine Änderung. Bitte geben Sie eine neue Anschrift oder Ticketart an.'
ADDRESS_INCOMPLETE = 'Bitte geben Sie die neue Anschrift vollständig an (Straße und Hausnummer, PLZ, Ort).'
ENDMONAT_FORMAT = 'Bitte geben Sie den Endmonat als MM.JJJJ oder als Datum an (z. B. 06.2026 oder 30.06.2026).'
# `check_application` speaks of the form's drop-downs; in a spreadsheet the same rule reads like this.
SPREADSHEET_REASONS = {
    'Bitte wählen Sie eine Anrede.': 'Bitte geben Sie als Anrede Frau, Herr, Divers oder Keine Angabe an.',
    'Bitte wählen Sie einen Startmonat.': 'Bitte geben Sie den Startmonat als Monatsersten an (01.MM.JJJJ).',
    'Bitte wählen Sie Chipkarte oder Handyticket.': 'Bitte geben Sie als Ticketart Chipkarte oder Handyticket an.',
}
FOUR_DIGITS = re.compile(r'[0-9]{4}')


def already_imported_message(upload: Upload) -> str:
    when = clock_label(upload.created_at)
    who = f' von {upload.uploaded_by.name}' if upload.uploaded_by else ''
    return f'Diese Datei wurde bereits am {when}{who} importiert.'


def clock_label(moment: datetime) -> str:
    local = moment.astimezone(clock.BERLIN)
    return f'{format_german_date(local.date())} um {local:%H:%M} Uhr'


def already_ending_message(endmonat: date) -> str:
    return f'Dieses Abo ist bereits gekündigt zum {format_german_date(endmonat)}.'


# ---------------------------------------------------------------------------------------------------------------------
# The checked rows, per mode


@dataclass(frozen=True)
class UploadRow:
    """A new person: an approved Antrag and its Abo."""

    row: int
    data: CheckedApplication
    mandate: sepa.CheckedMandate | None = None  # the row's IBAN and holder, when it has any


@dataclass(frozen=True)
class ChangeRow:
    """New values for the running Abo of a Personalnummer; '' / None leaves a value as it is."""

    row: int
    personalnummer: str
    strasse: str = ''
    plz: str = ''
    ort: str = ''
    ticketart: Ticketart | None = None
    abo_id: int = 0  # set by the check against the contract


@dataclass(frozen=True)
class LeaverRow:
    """The running Abo of a Personalnummer ends on `endmonat` (the last day of the month)."""

    row: int
    personalnummer: str
    endmonat: date
    abo_id: int = 0  # set by the check against the contract


CheckedRow = UploadRow | ChangeRow | LeaverRow


@dataclass(frozen=True)
class RowKey:
    """Who a row is, as far as it can tell: for the checks against the contract's Anträge and Abos."""

    row: int
    person_key: str
    personalnummer: str


@dataclass(frozen=True)
class Preview:
    file_name: str
    sha256: str
    checked_on: date
    row_count: int
    rows: Sequence[CheckedRow]  # the rows without a fault, ready to import
    faults: list[Fault]
    keys: list[RowKey] = field(default_factory=list, repr=False)
    contract_id: int | None = None  # set by `check_against_contract`
    mode: UploadMode = UploadMode.NEU
    upload_id: int | None = None  # the Upload row holding the check (`workflow.preview_upload`)

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


# ---------------------------------------------------------------------------------------------------------------------
# The checked rows as the Upload row stores them (JSON)


def row_to_json(row: CheckedRow) -> dict[str, Any]:
    if isinstance(row, UploadRow):
        data = {name: value.isoformat() if isinstance(value, date) else str(value)
                for name, value in vars(row.data).items() if name != 'person_key'}
        mandate = vars(row.mandate) if row.mandate is not None else None
        return {'row': row.row, 'data': data, 'mandate': mandate}
    if isinstance(row, ChangeRow):
        return {'row': row.row, 'personalnummer': row.personalnummer, 'strasse': row.strasse, 'plz': row.plz,
                'ort': row.ort, 'ticketart': row.ticketart.value if row.ticketart else None, 'abo_id': row.abo_id}
    return {'row': row.row, 'personalnummer': row.personalnummer, 'endmonat': row.endmonat.isoformat(),
            'abo_id': row.abo_id}


def row_from_json(mode: UploadMode, stored: dict[str, Any]) -> CheckedRow:
    if mode == UploadMode.NEU:
        data = dict(stored['data'])
        for name in ('geburtsdatum', 'startmonat'):
            data[name] = date.fromisoformat(data[name])
        data['anrede'], data['ticketart'] = Anrede(data['anrede']), Ticketart(data['ticketart'])
        mandate = sepa.CheckedMandate(**stored['mandate']) if stored['mandate'] else None
        return UploadRow(stored['row'], CheckedApplication(**data), mandate)
    if mode == UploadMode.AENDERUNG:
        ticketart = Ticketart(stored['ticketart']) if stored['ticketart'] else None
        return ChangeRow(stored['row'], stored['personalnummer'], stored['strasse'], stored['plz'], stored['ort'],
                         ticketart, stored['abo_id'])
    return LeaverRow(stored['row'], stored['personalnummer'], date.fromisoformat(stored['endmonat']),
                     stored['abo_id'])


def rows_to_json(rows: Sequence[CheckedRow]) -> list[dict[str, Any]]:
    return [row_to_json(row) for row in rows]


def rows_from_json(mode: UploadMode, stored: list[dict[str, Any]]) -> list[CheckedRow]:
    return [row_from_json(mode, row) for row in stored]


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
EXAMPLE_NUMBER = 'P-4711'  # the change and leaver templates' example row


def sorted_faults(faults: Iterable[Fault]) -> list[Fault]:
    return sorted(faults, key=lambda fault: (fault.row, COLUMN_ORDER.get(fault.column, len(COLUMN_ORDER))))


def _plz_fault(text: str) -> str:
    """A PLZ typed as text with 4 digits lost nothing on the way: it is wrong, and is not padded (a number cell
    that Excel shortened was padded while reading)."""
    return PLZ_FOUR_DIGITS if FOUR_DIGITS.fullmatch(text.strip()) else ''


def _new_person(parsed_row: ParsedRow, today: date) -> tuple[UploadRow | None, dict[str, str], RowKey | None]:
    data = parsed_row.data
    checked, errors = check_application(data, today)
    row_faults = {
        COLUMN_OF_FIELD[name]: SPREADSHEET_REASONS.get(message, message) for name, message in errors.items()
    }
    if plz := _plz_fault(data.plz):
        row_faults['PLZ'] = plz
    mandate = None
    if data.iban.strip() or data.kontoinhaber.strip():
        mandate, mandate_errors = sepa.check_mandate(data.iban, data.kontoinhaber, consent=True)
        row_faults.update({COLUMN_OF_FIELD[name]: message for name, message in mandate_errors.items()})
    key = _loose_person_key(data)
    row_key = RowKey(parsed_row.row, key, data.personalnummer.strip()) if key else None
    if key == EXAMPLE_KEY and data.email.strip().casefold() == EXAMPLE.email:
        row_faults[PERSON_COLUMN] = EXAMPLE_ROW
    result = UploadRow(parsed_row.row, checked, mandate) if checked is not None else None
    return result, row_faults, row_key


def _change(parsed_row: ParsedRow) -> tuple[ChangeRow | None, dict[str, str]]:
    faults: dict[str, str] = {}
    number = parsed_row.text('personalnummer')
    strasse, plz, ort = (parsed_row.text(name) for name in ('strasse', 'plz', 'ort'))
    ticketart_text = parsed_row.text('ticketart')
    ticketart = next((value for value in Ticketart if value.value.casefold() == ticketart_text.casefold()), None)
    if ticketart_text and ticketart is None:
        faults['Ticketart'] = SPREADSHEET_REASONS['Bitte wählen Sie Chipkarte oder Handyticket.']
    if strasse or plz or ort:
        address_faults: dict[str, str] = {}
        strasse = require_text(address_faults, 'strasse', strasse, 'Straße und Hausnummer',
                               field_length(Abo, 'strasse'))
        ort = require_text(address_faults, 'ort', ort, 'den Ort', field_length(Abo, 'ort'))
        if address_faults:
            faults.update({COLUMN_OF_FIELD[name]: ADDRESS_INCOMPLETE for name in address_faults})
        if not is_plz(plz):
            faults['PLZ'] = _plz_fault(plz) or (ADDRESS_INCOMPLETE if not plz else 'Die PLZ besteht aus genau 5 '
                                                                                       'Ziffern.')
    elif ticketart is None and not faults:
        faults['Personalnummer'] = NO_CHANGE
    if faults:
        return None, faults
    return ChangeRow(parsed_row.row, number, strasse, plz, ort, ticketart), {}


def _leaver(parsed_row: ParsedRow) -> tuple[LeaverRow | None, dict[str, str]]:
    chosen = parse_german_date(parsed_row.text('endmonat'))
    if chosen is None:
        return None, {'Endmonat': ENDMONAT_FORMAT}
    return LeaverRow(parsed_row.row, parsed_row.text('personalnummer'), abo_dates.last_of_month(chosen)), {}


def check_rows(
    parsed: ParsedFile, today: date, *, progress: Progress | None = None, cancel: threading.Event | None = None,
) -> Preview:
    """Every row through the rules of its mode, plus the same person or the same Personalnummer twice in the file.
    Pure: no database. Setting `cancel` stops it at the next row."""
    faults: list[Fault] = []
    rows: list[CheckedRow] = []
    keys: list[RowKey] = []
    first_of_person: dict[str, int] = {}
    first_of_number: dict[str, int] = {}
    total = len(parsed.rows)
    for done, parsed_row in enumerate(parsed.rows, start=1):
        if cancel is not None and cancel.is_set():
            raise ReadCancelled
        number = parsed_row.row
        checked: CheckedRow | None
        if parsed.mode == UploadMode.NEU:
            checked, row_faults, key = _new_person(parsed_row, today)
            if key is not None:
                keys.append(key)
                if PERSON_COLUMN in row_faults:
                    pass
                elif key.person_key in first_of_person:
                    row_faults[PERSON_COLUMN] = (f'Diese Person steht bereits in Zeile '
                                                 f'{first_of_person[key.person_key]} der Datei.')
                else:
                    first_of_person[key.person_key] = number
        else:
            checked, row_faults = _change(parsed_row) if parsed.mode == UploadMode.AENDERUNG else _leaver(parsed_row)
            if not parsed_row.text('personalnummer'):
                row_faults['Personalnummer'] = NUMBER_MISSING
            elif parsed_row.text('personalnummer') == EXAMPLE_NUMBER:
                row_faults['Personalnummer'] = EXAMPLE_ROW
        for column in parsed_row.formulas:
            row_faults[column] = FORMULA
        if personalnummer := parsed_row.text('personalnummer'):
            folded = personalnummer.casefold()
            first = first_of_number.setdefault(folded, number)
            if first != number and PERSON_COLUMN not in row_faults:  # the same person twice: one message is enough
                row_faults['Personalnummer'] = f'Die Personalnummer steht bereits in Zeile {first} der Datei.'
        if row_faults or checked is None:
            faults.extend(Fault(number, column, reason) for column, reason in row_faults.items())
        else:
            rows.append(checked)
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, total)
    if progress is not None:
        progress(total, total)
    return Preview(
        file_name=parsed.file_name, sha256=parsed.sha256, checked_on=today, row_count=total, rows=rows,
        faults=sorted_faults(faults), keys=keys, mode=parsed.mode,
    )


def read_upload(
    data: bytes, file_name: str, today: date, progress: Progress | None = None, *,
    cancel: threading.Event | None = None, mode: UploadMode = UploadMode.NEU,
) -> Preview:
    """`parse_upload` then `check_rows`, with one progress over both (reading is the first half). Pure."""
    def reading(done: int, total: int) -> None:
        if progress is not None:
            progress(done, 2 * total if total else 0)

    def checking(done: int, total: int) -> None:
        if progress is not None:
            progress(total + done, 2 * total)

    parsed = parse_upload(data, file_name, progress=reading, cancel=cancel, mode=mode)
    return check_rows(parsed, today, progress=checking, cancel=cancel)


# ---------------------------------------------------------------------------------------------------------------------
# Checking against the contract (database)


async def previous_import(contract_id: int, sha256: str) -> Upload | None:
    return await Upload.filter(
        contract_id=contract_id, file_sha256=sha256, result=UploadResult.IMPORTIERT
    ).select_related('uploaded_by').order_by('-created_at').first()


def chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def in_chunk_size() -> int:
    """Keys per IN list: the whole file within the row limit (SQLite allows 32,766 parameters, PostgreSQL 32,767)."""
    return max(1, min(get_settings().massenupload_max_rows, 30_000))


async def running_abos_by_number(contract_id: int, numbers: Sequence[str], today: date) -> dict[str, list[Abo]]:
    """The Abos that have not ended under the contract, per Personalnummer (one query per chunk of numbers)."""
    found: dict[str, list[Abo]] = {}
    for chunk in chunks(sorted(set(numbers)), in_chunk_size()):
        for abo in await Abo.filter(running_abo(today), contract_id=contract_id, personalnummer__in=list(chunk)) \
                .only('id', 'personalnummer', 'status', 'startmonat', 'endmonat'):
            found.setdefault(abo.personalnummer, []).append(abo)
    return found


async def _new_person_faults(contract: Contract, preview: Preview, today: date) -> list[Fault]:
    faults = []
    persons, numbers = await taken_persons(
        contract.id, [key.person_key for key in preview.keys],
        [key.personalnummer for key in preview.keys if key.personalnummer], today, chunk=in_chunk_size(),
    )
    already = {(fault.row, fault.column) for fault in preview.faults}
    sepa_contract = contract.produktangebot == Produktangebot.SEPA
    for row in preview.rows:
        assert isinstance(row, UploadRow)
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


async def keyed_rows(contract: Contract, rows: Sequence[CheckedRow], today: date
                     ) -> tuple[list[CheckedRow], list[Fault]]:
    """Changes and leavers: each row bound to the one running Abo of its Personalnummer (`abo_id`), or a fault; a
    leaver's Endmonat checked by the rule of "Abo beenden zum …"."""
    by_number = await running_abos_by_number(
        contract.id, [row.personalnummer for row in rows if isinstance(row, ChangeRow | LeaverRow)], today)
    bound: list[CheckedRow] = []
    faults: list[Fault] = []
    for row in rows:
        assert isinstance(row, ChangeRow | LeaverRow)
        abos = by_number.get(row.personalnummer, [])
        if not abos:
            faults.append(Fault(row.row, 'Personalnummer', NUMBER_UNKNOWN))
            continue
        if len(abos) > 1:
            faults.append(Fault(row.row, 'Personalnummer', NUMBER_AMBIGUOUS))
            continue
        abo = abos[0]
        if isinstance(row, LeaverRow):
            if abo.status != AboStatus.AKTIV and abo.endmonat is not None:
                faults.append(Fault(row.row, 'Endmonat', already_ending_message(abo.endmonat)))
                continue
            if problem := abo_dates.end_month_problem(row.endmonat, today, abo.startmonat, contract.ende):
                faults.append(Fault(row.row, 'Endmonat', problem))
                continue
        bound.append(replace(row, abo_id=abo.id))
    return bound, faults


async def check_against_contract(actor: PortalUser, contract_id: int, preview: Preview) -> Preview:
    """The preview with the database's faults added, bound to the contract (and, for changes and leavers, each row
    to its Abo). Writes nothing: `workflow.preview_upload` records the outcome."""
    contract = await get_contract(actor, contract_id)
    permissions.require(actor, Action.MASSENUPLOAD, contract.customer_id)
    today = preview.checked_on
    extra: list[Fault] = []
    if contract.status != ContractStatus.AKTIV:
        extra.append(Fault(0, FILE_COLUMN, INACTIVE_CONTRACT))
    if previous := await previous_import(contract.id, preview.sha256):
        extra.append(Fault(0, FILE_COLUMN, already_imported_message(previous)))
    rows = list(preview.rows)
    if preview.mode == UploadMode.NEU:
        extra += await _new_person_faults(contract, preview, today)
    else:
        rows, keyed_faults = await keyed_rows(contract, rows, today)
        extra += keyed_faults
    known = set(preview.faults)
    extra = [fault for fault in extra if fault not in known]
    faulty_rows = {fault.row for fault in extra}
    return replace(
        preview, contract_id=contract.id, faults=sorted_faults([*preview.faults, *extra]),
        rows=[row for row in rows if row.row not in faulty_rows],
    )


def fault_summary(preview: Preview) -> str:
    parts = [fault.reason for fault in preview.file_faults]
    if count := preview.faulty_count:
        parts.append(f'{format_count(count)} fehlerhafte Zeile{"" if count == 1 else "n"}.')
    return ' '.join(parts)
