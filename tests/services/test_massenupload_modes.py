"""Issue 15 item 7: Massenupload modes keyed by Personalnummer — changes (address, Ticketart) and leavers (Endmonat) —
with the same preview, faults and all-or-nothing batched import as new people; the end-month rule shared with
"Abo beenden zum …"; templates per mode. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date

import pytest
from openpyxl import load_workbook

from models import (
    Abo,
    AboStatus,
    AuditEvent,
    Contract,
    Customer,
    PortalUser,
    Ticketart,
    Upload,
    UploadChange,
    UploadMode,
    UploadResult,
)
from services import abos, massenupload
from services.audit import AuditKind
from services.errors import ServiceError
from services.massenupload import EXAMPLE_ROW, PLZ_FOUR_DIGITS, Preview, workflow
from services.massenupload.checking import (
    ADDRESS_INCOMPLETE,
    NO_CHANGE,
    NUMBER_AMBIGUOUS,
    NUMBER_MISSING,
    NUMBER_UNKNOWN,
    already_ending_message,
)
from tests.conftest import new_contract
from tests.services.test_massenupload import (
    TODAY,
    csv_file,
    existing,
    faults_of,
    person,
    pinned_today,
    xlsx_file,
)

__all__ = ['pinned_today']  # a fixture shared with the Massenupload tests

CHANGE = ('Personalnummer', 'Straße und Hausnummer', 'PLZ', 'Ort', 'Ticketart')
LEAVE = ('Personalnummer', 'Endmonat')
BEGUN = date(2025, 1, 1)  # the Abos here began long ago: the next possible end is the cut-off rule's alone


async def running(contract: Contract, count: int, **changes: object) -> list[Abo]:
    """`count` active Abos with Personalnummern P-1000 … (the people of test_massenupload)."""
    for index in range(count):
        await existing(contract, person(index), 'abo-aktiv', startmonat=BEGUN, **changes)
    return await Abo.filter(contract_id=contract.id).order_by('personalnummer')


async def check(actor: PortalUser, contract: Contract, data: bytes, mode: UploadMode,
                name: str = 'liste.csv') -> Preview:
    return await massenupload.preview_upload(actor, contract.id, data, name, mode=mode)


def snapshot(abo: Abo) -> tuple[object, ...]:
    return (abo.strasse, abo.plz, abo.ort, abo.ticketart, abo.status, abo.endmonat, abo.cancelled_at,
            abo.search_text)


# --- changes --------------------------------------------------------------------------------------------------------


async def test_changes_by_personalnummer_are_previewed_and_imported(
    db: str, admin: PortalUser, contract: Contract
) -> None:
    before = await running(contract, 3)
    data = csv_file([
        {'Personalnummer': 'P-1000', 'Straße und Hausnummer': 'Kölnische Straße 8', 'PLZ': '34119', 'Ort': 'Kassel'},
        {'Personalnummer': 'P-1001', 'Ticketart': 'Chipkarte'},
    ], CHANGE)
    preview = await check(admin, contract, data, UploadMode.AENDERUNG)
    assert (preview.faults, preview.valid_count, preview.mode) == ([], 2, UploadMode.AENDERUNG)
    assert (await Upload.get(id=preview.upload_id)).result == UploadResult.GEPRUEFT

    upload = await massenupload.import_upload(admin, contract.id, preview.upload_id, client='192.0.2.7')
    assert (upload.result, upload.imported_count, upload.message) == (UploadResult.IMPORTIERT, 2, '2 Abos geändert.')
    moved, switched, untouched = await Abo.filter(contract_id=contract.id).order_by('personalnummer')
    assert (moved.strasse, moved.plz, moved.ort, moved.ticketart) == (
        'Kölnische Straße 8', '34119', 'Kassel', before[0].ticketart)
    assert (switched.ticketart, switched.strasse) == (Ticketart.CHIPKARTE, before[1].strasse)
    assert 'chipkarte' in switched.search_text and 'handyticket' in before[1].search_text  # kept current
    assert snapshot(untouched) == snapshot(before[2])
    assert await UploadChange.filter(upload_id=upload.id).count() == 2  # the record of what the file changed
    event = await AuditEvent.get(kind=AuditKind.UPLOAD_IMPORTED)
    assert (event.details['modus'], event.details['importiert']) == ('änderung', 2)


async def test_change_rows_with_faults(db: str, admin: PortalUser, contract: Contract, company: Customer) -> None:
    await running(contract, 2)
    await existing(contract, person(5), 'abo-aktiv', startmonat=BEGUN, personalnummer='P-1000')  # a second one
    await existing(contract, person(6), 'abo-beendet', startmonat=BEGUN, endmonat=date(2025, 12, 31),
                   personalnummer='P-2000')
    data = csv_file([
        {'Personalnummer': 'P-1000', 'Ticketart': 'Chipkarte'},  # two running Abos
        {'Personalnummer': 'P-1001'},  # nothing to change
        {'Personalnummer': 'P-1001', 'Straße und Hausnummer': 'Neue Straße 1'},  # incomplete address, twice
        {'Personalnummer': 'P-9999', 'Ticketart': 'Handyticket'},  # no such Abo
        {'Personalnummer': 'P-2000', 'Ticketart': 'Handyticket'},  # its Abo has ended
        {'Personalnummer': '', 'Ticketart': 'Handyticket'},
        {'Personalnummer': 'P-3000', 'Straße und Hausnummer': 'Am Markt 1', 'PLZ': '1067', 'Ort': 'Dresden'},
        {'Personalnummer': 'P-4711', 'Ticketart': 'Chipkarte'},  # the template's example
        {'Personalnummer': 'P-3001', 'Ticketart': 'Bus'},
    ], CHANGE)
    preview = await check(admin, contract, data, UploadMode.AENDERUNG)
    assert faults_of(preview) == {
        (2, 'Personalnummer', NUMBER_AMBIGUOUS),
        (3, 'Personalnummer', NO_CHANGE),
        (4, 'PLZ', ADDRESS_INCOMPLETE), (4, 'Ort', ADDRESS_INCOMPLETE),
        (4, 'Personalnummer', 'Die Personalnummer steht bereits in Zeile 3 der Datei.'),
        (5, 'Personalnummer', NUMBER_UNKNOWN),
        (6, 'Personalnummer', NUMBER_UNKNOWN),
        (7, 'Personalnummer', NUMBER_MISSING),
        (8, 'PLZ', PLZ_FOUR_DIGITS),
        (9, 'Personalnummer', EXAMPLE_ROW),
        (10, 'Ticketart', 'Bitte geben Sie als Ticketart Chipkarte oder Handyticket an.'),
    }
    assert not preview.importable
    with pytest.raises(ServiceError, match='Fehler'):
        await massenupload.import_upload(admin, contract.id, preview.upload_id)


async def test_an_excel_number_plz_is_padded_in_a_change_too(db: str, admin: PortalUser, contract: Contract) -> None:
    await running(contract, 1)
    data = xlsx_file([{'Personalnummer': 'P-1000', 'Straße und Hausnummer': 'Prager Straße 2', 'PLZ': 1069,
                       'Ort': 'Dresden'}], CHANGE)
    preview = await check(admin, contract, data, UploadMode.AENDERUNG, 'liste.xlsx')
    assert preview.faults == []
    await massenupload.import_upload(admin, contract.id, preview.upload_id)
    assert (await Abo.get(personalnummer='P-1000')).plz == '01069'


# --- leavers --------------------------------------------------------------------------------------------------------


async def test_leavers_end_with_the_month_the_file_names(db: str, admin: PortalUser, contract: Contract) -> None:
    await running(contract, 3)
    data = csv_file([{'Personalnummer': 'P-1000', 'Endmonat': '03.2026'},  # the next possible end (by the 10th)
                     {'Personalnummer': 'P-1001', 'Endmonat': '30.06.2026'},  # a date in the month
                     {'Personalnummer': 'P-1002', 'Endmonat': 'März 2027'}], LEAVE)  # the latest: 12 months later
    preview = await check(admin, contract, data, UploadMode.AUSTRITT)
    assert preview.faults == []
    upload = await massenupload.import_upload(admin, contract.id, preview.upload_id)
    assert upload.message == '3 Abos beendet.'
    ended = await Abo.filter(contract_id=contract.id).order_by('personalnummer')
    assert [(abo.status, abo.endmonat) for abo in ended] == [
        (AboStatus.GEKUENDIGT, date(2026, 3, 31)), (AboStatus.GEKUENDIGT, date(2026, 6, 30)),
        (AboStatus.GEKUENDIGT, date(2027, 3, 31))]
    assert all(abo.cancelled_at is not None for abo in ended)


@pytest.mark.parametrize(('today', 'endmonat', 'reason'), [
    (TODAY, '02.2026', 'Das Abo kann frühestens zum 31.03.2026 beendet werden.'),
    (TODAY, '04.2027', 'Das Abo kann höchstens bis zum 31.03.2027 im Voraus beendet werden.'),
    (date(2026, 3, 10), '03.2026', ''),  # the cut-off day itself still counts for March
    (date(2026, 3, 11), '03.2026', 'Das Abo kann frühestens zum 30.04.2026 beendet werden.'),
    (date(2026, 3, 11), '04.2027', ''),
    (TODAY, '13.2026', 'Bitte geben Sie den Endmonat als MM.JJJJ oder als Datum an (z. B. 06.2026 oder '
                       '30.06.2026).'),
])
async def test_the_month_edges_of_a_leaver(
    db: str, admin: PortalUser, contract: Contract, pinned_today: Callable[[date], None], today: date,
    endmonat: str, reason: str,
) -> None:
    await running(contract, 1)
    pinned_today(today)
    preview = await check(admin, contract, csv_file([{'Personalnummer': 'P-1000', 'Endmonat': endmonat}], LEAVE),
                          UploadMode.AUSTRITT)
    assert faults_of(preview) == ({(2, 'Endmonat', reason)} if reason else set())


async def test_a_leaver_after_the_contracts_end_or_already_cancelled(
    db: str, admin: PortalUser, company: Customer
) -> None:
    ending = await new_contract(company, ende=date(2026, 12, 31))
    await running(ending, 2)
    await abos.end_abo(admin, (await Abo.get(personalnummer='P-1001')).id)
    data = csv_file([{'Personalnummer': 'P-1000', 'Endmonat': '01.2027'},
                     {'Personalnummer': 'P-1001', 'Endmonat': '06.2026'}], LEAVE)
    preview = await check(admin, ending, data, UploadMode.AUSTRITT)
    assert faults_of(preview) == {
        (2, 'Endmonat', 'Das Abo kann höchstens bis zum Vertragsende (31.12.2026) laufen.'),
        (3, 'Endmonat', already_ending_message(date(2026, 3, 31))),
    }


# --- all or nothing -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize('mode', [UploadMode.AENDERUNG, UploadMode.AUSTRITT])
async def test_a_fault_in_the_last_row_imports_nothing(
    db: str, admin: PortalUser, contract: Contract, mode: UploadMode
) -> None:
    before = [snapshot(abo) for abo in await running(contract, 4)]
    good = ({'Ticketart': 'Chipkarte'} if mode == UploadMode.AENDERUNG else {'Endmonat': '06.2026'})
    rows = [{'Personalnummer': f'P-{1000 + index}', **good} for index in range(3)]
    rows.append({'Personalnummer': 'P-1003', 'Ticketart': 'Bus', 'Endmonat': '13.2026'})
    preview = await check(admin, contract, csv_file(rows, CHANGE if mode == UploadMode.AENDERUNG else LEAVE), mode)
    assert preview.valid_count == 3 and preview.faulty_count == 1 and not preview.importable
    with pytest.raises(ServiceError):
        await massenupload.import_upload(admin, contract.id, preview.upload_id)
    assert [snapshot(abo) for abo in await Abo.filter(contract_id=contract.id).order_by('personalnummer')] == before


@pytest.mark.parametrize('mode', [UploadMode.AENDERUNG, UploadMode.AUSTRITT])
async def test_a_change_after_the_preview_in_the_last_batch_takes_every_batch_back(
    db: str, admin: PortalUser, contract: Contract, mode: UploadMode, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of 2: on SQLite the first two batches have committed when the last row's Abo turns out to have
    ended meanwhile; the import takes them back, the Abos are as before, and the file can be checked again."""
    monkeypatch.setattr(workflow, 'BATCH_SIZE', 2)
    before = [snapshot(abo) for abo in await running(contract, 5)]
    good = ({'Ticketart': 'Chipkarte'} if mode == UploadMode.AENDERUNG else {'Endmonat': '06.2026'})
    rows = [{'Personalnummer': f'P-{1000 + index}', **good} for index in range(5)]
    preview = await check(admin, contract, csv_file(rows, CHANGE if mode == UploadMode.AENDERUNG else LEAVE), mode)
    assert preview.importable
    last = await Abo.get(personalnummer='P-1004')
    await Abo.filter(id=last.id).update(status=AboStatus.BEENDET, endmonat=date(2026, 2, 28))  # meanwhile
    before[4] = snapshot(await Abo.get(id=last.id))
    written: list[int] = []

    async def after_batch(done: int, total: int) -> None:
        written.append(await UploadChange.filter(upload_id=preview.upload_id).count())

    with pytest.raises(ServiceError, match='inzwischen beendet oder geändert'):
        await massenupload.import_upload(admin, contract.id, preview.upload_id, after_batch=after_batch)
    assert written == [2, 4]
    assert [snapshot(abo) for abo in await Abo.filter(contract_id=contract.id).order_by('personalnummer')] == before
    assert await UploadChange.all().count() == 0
    assert (await Upload.get(id=preview.upload_id)).result == UploadResult.FEHLERHAFT


async def test_an_interrupted_change_import_is_taken_back_at_the_next_start(
    db: str, admin: PortalUser, contract: Contract, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workflow, 'BATCH_SIZE', 2)
    before = [snapshot(abo) for abo in await running(contract, 5)]
    rows = [{'Personalnummer': f'P-{1000 + index}', 'Endmonat': '06.2026'} for index in range(5)]
    preview = await check(admin, contract, csv_file(rows, LEAVE), UploadMode.AUSTRITT)

    async def dies(done: int, total: int) -> None:
        if done == 4:
            raise RuntimeError('kill -9')

    async def nothing(*args: object, **kwargs: object) -> None:
        return None

    with monkeypatch.context() as dead:
        dead.setattr(workflow, '_undo', nothing)
        dead.setattr(workflow, '_record_refusal', nothing)
        with pytest.raises(ServiceError):
            await massenupload.import_upload(admin, contract.id, preview.upload_id, after_batch=dies)
    ended = await Abo.filter(contract_id=contract.id, status=AboStatus.GEKUENDIGT).count()
    assert ended == (4 if db == 'sqlite' else 0)
    assert await massenupload.recover_interrupted_imports() == (1 if db == 'sqlite' else 0)
    assert [snapshot(abo) for abo in await Abo.filter(contract_id=contract.id).order_by('personalnummer')] == before
    again = await massenupload.import_upload(admin, contract.id, preview.upload_id)  # the same check, by id
    assert again.imported_count == 5
    assert await Abo.filter(contract_id=contract.id, status=AboStatus.GEKUENDIGT).count() == 5


async def test_one_check_is_imported_once(db: str, admin: PortalUser, contract: Contract) -> None:
    await running(contract, 2)
    data = csv_file([{'Personalnummer': 'P-1000', 'Ticketart': 'Chipkarte'}], CHANGE)
    preview = await check(admin, contract, data, UploadMode.AENDERUNG)
    await massenupload.import_upload(admin, contract.id, preview.upload_id)
    with pytest.raises(ServiceError, match='bereits am'):
        await massenupload.import_upload(admin, contract.id, preview.upload_id)
    assert await UploadChange.all().count() == 1


# --- templates ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(('mode', 'columns'), [(UploadMode.AENDERUNG, CHANGE), (UploadMode.AUSTRITT, LEAVE)])
def test_each_mode_has_its_template_that_reads_back_with_only_the_example_refused(
    mode: UploadMode, columns: tuple[str, ...]
) -> None:
    workbook = load_workbook(io.BytesIO(massenupload.template_xlsx(TODAY, mode=mode)))
    header = next(workbook.worksheets[0].iter_rows(values_only=True))
    assert header == columns
    assert workbook.worksheets[0]['A3'].number_format == '@'  # Personalnummer as text
    assert 'Hinweise' in workbook.sheetnames
    for data, name in ((massenupload.template_xlsx(TODAY, mode=mode), 'Vorlage.xlsx'),
                       (massenupload.template_csv(TODAY, mode=mode), 'Vorlage.csv')):
        preview = massenupload.read_upload(data, name, TODAY, mode=mode)
        assert faults_of(preview) == {(2, 'Personalnummer', EXAMPLE_ROW)}, name
    if mode == UploadMode.AUSTRITT:
        assert massenupload.template_csv(TODAY, mode=mode).decode('utf-8-sig').splitlines()[1] == 'P-4711;31.03.2026'


def test_a_new_people_file_read_as_leavers_misses_the_endmonat() -> None:
    """The columns tell the modes apart: a list of new people uploaded as leavers is refused at its header."""
    data = csv_file([person(0)])
    with pytest.raises(massenupload.UploadError, match='fehlt die Spalte „Endmonat“'):
        massenupload.read_upload(data, 'liste.csv', TODAY, mode=UploadMode.AUSTRITT)
