"""Massenupload of one contract (row menu "Massenupload"): the kind of list (new people, changes, leavers), its
template, upload, preview with the faults, Importieren, and the history of the contract's uploads.

Reading and checking the file runs off the event loop, in the service's own reading pool; a progress bar shows
meanwhile, and leaving the page stops the read. The checked rows stay on the server (an Upload row 'geprüft'): the
page keeps only its id for "Importieren". The page only renders what services/massenupload returns.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import PurePath

from fastapi import Request
from nicegui import APIRouter, events, ui

from models import Contract, ContractStatus, PortalUser, Produktangebot, UploadMode, UploadResult
from pages.components import Table
from pages.forms import REFUSED, error_banner, run_call, run_form, show_error
from pages.language import error_text
from pages.layout import client_address, page_contract, page_heading, portal_page
from services import abo_dates, clock, massenupload, permissions
from services.errors import ServiceError
from services.massenupload import MODE_LABELS, HistoryEntry, Preview, UploadError
from services.permissions import Action
from services.settings import get_settings
from services.table_query import format_count
from services.validation import format_german_date, format_german_datetime

router = APIRouter()
logger = logging.getLogger(__name__)
UPLOAD_FAILED = ('Die Datei ist nicht vollständig angekommen (die Verbindung wurde unterbrochen). Bitte laden Sie '
                 'sie erneut hoch.')

MAX_FAULTS_SHOWN = 500
FAULT_COLUMNS: list[dict] = [
    {'name': 'zeile', 'label': 'Zeile', 'field': 'zeile', 'align': 'right', 'sortable': True,
     'style': 'width: 80px'},
    {'name': 'spalte', 'label': 'Spalte', 'field': 'spalte', 'align': 'left', 'sortable': True},
    {'name': 'grund', 'label': 'Grund', 'field': 'grund', 'align': 'left'},
]
HISTORY_COLUMNS = [
    {'name': 'datei', 'label': 'Datei', 'field': 'datei', 'align': 'left'},
    {'name': 'art', 'label': 'Art', 'field': 'art', 'align': 'left'},
    {'name': 'zeilen', 'label': 'Zeilen', 'field': 'zeilen', 'align': 'right'},
    {'name': 'ergebnis', 'label': 'Ergebnis', 'field': 'ergebnis', 'align': 'left'},
    {'name': 'von', 'label': 'von', 'field': 'von', 'align': 'left'},
    {'name': 'am', 'label': 'am', 'field': 'am', 'align': 'left'},
]
RESULT_COLORS = {UploadResult.IMPORTIERT: 'positive', UploadResult.FEHLERHAFT: 'negative',
                 UploadResult.ABGEBROCHEN: 'orange-9', UploadResult.GEPRUEFT: 'primary'}
MODE_SHORT = {UploadMode.NEU: 'Neue', UploadMode.AENDERUNG: 'Änderungen', UploadMode.AUSTRITT: 'Austritte'}
# What "Importieren" does, per kind of list: in the steps, the preview and the confirmation.
IMPORT_EFFECT = {
    UploadMode.NEU: 'Jede Zeile wird ein genehmigter Antrag mit Abo ab dem Startmonat – ganz oder gar nicht. Eine '
                    'Genehmigung ist nicht mehr nötig.',
    UploadMode.AENDERUNG: 'Das laufende Abo jeder Personalnummer erhält die neue Anschrift oder Ticketart – ganz oder '
                          'gar nicht.',
    UploadMode.AUSTRITT: 'Das laufende Abo jeder Personalnummer endet zum Ende des Endmonats – ganz oder gar nicht.',
}
CONFIRM_TITLE = {UploadMode.NEU: '{count} Mitarbeitende importieren?',
                 UploadMode.AENDERUNG: '{count} Abos ändern?', UploadMode.AUSTRITT: '{count} Abos beenden?'}
IMPORT_DONE = {UploadMode.NEU: 'angelegt', UploadMode.AENDERUNG: 'geändert', UploadMode.AUSTRITT: 'beendet'}
# Quasar's uploader, in German and with a drop zone instead of the empty file list (the page shows its own progress).
# The button opens the file dialog through pickFiles, by mouse and by keyboard alike; the add trigger's file input is
# hidden (laid over the button, as Quasar does, it took the mouse's click only and nested a control in a control).
UPLOAD_HEADER = '''
<div class="row no-wrap items-center q-pa-sm q-gutter-sm">
  <q-spinner v-if="props.isUploading" size="sm" />
  <div class="col column">
    <div class="q-uploader__title">Excel- oder CSV-Datei hochladen</div>
    <div class="q-uploader__subtitle">{limits}</div>
  </div>
  <q-btn v-if="props.canAddFiles" unelevated no-caps color="white" text-color="primary" icon="upload_file"
         label="Datei auswählen" @click="props.pickFiles" />
  <div class="hidden"><q-uploader-add-trigger /></div>
</div>
'''
UPLOAD_LIST = '''
<div class="column items-center justify-center q-pa-md text-center" style="color: #4A5B70; min-height: 96px">
  <q-icon name="cloud_upload" size="36px" color="primary" />
  <div class="text-body2 q-mt-xs">
    {{ props.isUploading ? 'Die Datei wird übertragen …' : 'Datei hierher ziehen oder „Datei auswählen“' }}
  </div>
</div>
'''
RESULT_CELL = '''
<q-td :props="props">
  <q-badge :color="props.row.farbe" :label="props.value" class="text-body2 q-px-sm" />
  <div v-if="props.row.hinweis" class="text-caption muted q-mt-xs" style="white-space: normal">
    {{ props.row.hinweis }}
  </div>
</q-td>
'''


def history_row(upload: HistoryEntry) -> dict[str, object]:
    return {
        'id': upload.id, 'datei': upload.file_name, 'art': MODE_SHORT[upload.mode],
        'zeilen': format_count(upload.row_count), 'ergebnis': upload.result.value,
        'farbe': RESULT_COLORS.get(upload.result, 'grey-7'), 'hinweis': upload.message,
        'von': upload.uploaded_by or '–', 'am': format_german_datetime(upload.created_at),
    }


def fault_rows(preview: Preview) -> list[dict[str, object]]:
    return [
        {'id': index, 'zeile': fault.row or '–', 'spalte': fault.column, 'grund': fault.reason}
        for index, fault in enumerate(preview.faults[:MAX_FAULTS_SHOWN])
    ]


@dataclass
class _State:
    preview: Preview | None = None  # what the page shows; "Importieren" names its Upload row by id
    file_name: str = ''
    done: int = 0
    total: int = 0

    def report(self, done: int, total: int) -> None:
        """Called from the worker thread; the page's timer reads the numbers."""
        self.done, self.total = done, total


@portal_page(router, '/vertragsverwaltung/{contract_id}/massenupload', 'Massenupload')
async def massenupload_page(user: PortalUser, request: Request) -> None:
    contract = await page_contract(user, request, 'Massenupload')
    if contract is None:
        return
    may_upload = permissions.may(user, Action.MASSENUPLOAD, contract.customer_id)
    page_heading(f'Massenupload – Vertrag {contract.vertragsnummer}',
                 f'{contract.firma} · {contract.produktangebot.value}')
    with ui.row().classes('gap-4'):
        ui.link('← Zurück zur Vertragsverwaltung', '/vertragsverwaltung').classes('text-body2')
        ui.link('Anträge und Abos dieses Vertrags', f'/vertragsverwaltung/{contract.id}/antraege?tab=abos').classes(
            'text-body2')
    with ui.card().classes('portal-card w-full q-pa-md gap-1'):
        ui.label('Art der Liste').classes('text-subtitle1 text-weight-medium').props('id=art-der-liste')
        choice = ui.radio({mode: label for mode, label in MODE_LABELS.items()}, value=UploadMode.NEU) \
            .props('inline aria-labelledby=art-der-liste').mark('art-der-liste')
    explanation = ui.column().classes('w-full')
    page = _UploadPanel(user, contract, client_address(request), may_upload)

    def show(mode: UploadMode) -> None:
        explanation.clear()
        with explanation:
            _explanation(contract, mode)
        page.set_mode(mode)

    choice.on_value_change(lambda event: show(UploadMode(event.value)))
    show(UploadMode.NEU)
    await page.refresh_history()


def _explanation(contract: Contract, mode: UploadMode) -> None:
    settings = get_settings()
    today = clock.today()
    first_month = abo_dates.first_open_start_month(today)
    sepa_contract = contract.produktangebot == Produktangebot.SEPA
    name = {UploadMode.NEU: 'Vorlage_Massenupload', UploadMode.AENDERUNG: 'Vorlage_Massenupload_Aenderungen',
            UploadMode.AUSTRITT: 'Vorlage_Massenupload_Austritte'}[mode]

    def download(kind: str) -> None:
        if kind == 'xlsx':
            ui.download.content(massenupload.template_xlsx(clock.today(), sepa_contract, mode), f'{name}.xlsx',
                                'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
        else:
            ui.download.content(massenupload.template_csv(clock.today(), sepa_contract, mode), f'{name}.csv',
                                'text/csv')

    steps = (
        ('download', 'Vorlage herunterladen und je Mitarbeiterin oder Mitarbeiter eine Zeile ausfüllen; die '
                     'Beispielzeile ersetzen.' + ('' if mode == UploadMode.NEU else ' Die Personalnummer bestimmt '
                                                  'das Abo.')),
        ('upload_file', f'Datei hochladen: Excel (.xlsx) oder CSV, höchstens '
                        f'{massenupload.megabytes_label(settings.massenupload_max_bytes)} und '
                        f'{format_count(settings.massenupload_max_rows)} Zeilen. Die Spalten werden an ihren '
                        'Namen in der Kopfzeile erkannt, die Reihenfolge ist egal.'),
        ('fact_check', 'Vorschau prüfen: Jede fehlerhafte Zeile steht mit Spalte und Grund in der Liste. Bitte '
                       'die Datei korrigieren und erneut hochladen.'),
        ('done_all', f'Importieren: {IMPORT_EFFECT[mode]}'),
    )
    with ui.card().classes('portal-card w-full q-pa-md'), ui.element('div').classes('row q-col-gutter-lg w-full'):
        with ui.column().classes('col-12 col-md-7 gap-3'):
            ui.label('So funktioniert der Massenupload').classes('text-h6').props('role=heading aria-level=2')
            for number, (icon, text) in enumerate(steps, start=1):
                with ui.row().classes('items-start no-wrap gap-3'):
                    with ui.element('div').classes('row items-center justify-center text-white text-weight-bold') \
                            .style('background: #0B4F8A; border-radius: 50%; min-width: 28px; height: 28px'):
                        ui.label(str(number)).props('aria-hidden=true')
                    ui.icon(icon, color='primary', size='sm').classes('q-mt-xs').props('aria-hidden=true')
                    ui.label(text).classes('text-body2 q-mt-xs')
            ui.label(_month_rule(mode, first_month, today, settings.cutoff_day)).classes('text-body2 muted')
        with ui.column().classes('col-12 col-md-5'), ui.column().classes('w-full gap-2 q-pa-md rounded-borders') \
                .style('background: #F3F6FA; border: 1px solid #DDE4EE'):
            with ui.row().classes('items-center gap-2'):
                ui.icon('table_view', color='primary', size='sm').props('aria-hidden=true')
                ui.label('Vorlage').classes('text-subtitle1 text-weight-medium')
            ui.label(TEMPLATE_CAPTION[mode]).classes('text-body2')
            with ui.row().classes('gap-1'):
                for name in massenupload.template_columns(sepa_contract, mode):
                    ui.chip(name).props('dense outline color=primary')
            with ui.row().classes('gap-2 q-mt-xs'):
                ui.button('Vorlage herunterladen (Excel)', icon='download', on_click=lambda: download('xlsx')) \
                    .props('unelevated no-caps')
                ui.button('Vorlage herunterladen (CSV)', icon='download', on_click=lambda: download('csv')) \
                    .props('outline no-caps')


TEMPLATE_CAPTION = {
    UploadMode.NEU: 'Kopfzeile mit diesen Spalten und eine Beispielzeile; die Personalnummer ist freiwillig:',
    UploadMode.AENDERUNG: 'Kopfzeile mit diesen Spalten und eine Beispielzeile; leere Zellen bleiben unverändert:',
    UploadMode.AUSTRITT: 'Kopfzeile mit diesen Spalten und eine Beispielzeile:',
}


def _month_rule(mode: UploadMode, first_month: date, today: date, cutoff_day: int) -> str:
    if mode == UploadMode.AUSTRITT:
        end = abo_dates.cancellation_end(today, today)
        return (f'Endmonat frühestens {abo_dates.month_label(end)} ({format_german_date(end)}), höchstens '
                f'{abo_dates.MAX_END_MONTHS_AHEAD} Monate später: Was bis zum {cutoff_day}. eines Monats eingeht, '
                'endet zum Ende dieses Monats, sonst zum Ende des nächsten.')
    if mode == UploadMode.AENDERUNG:
        return 'Die Änderungen gelten ab dem Import; die Abos behalten Beginn und Ende.'
    return (f'Startmonat frühestens {abo_dates.month_label(first_month)} ({format_german_date(first_month)}): '
            f'Was bis zum {cutoff_day}. eines Monats eingeht, beginnt am nächsten Monatsersten.')


class _UploadPanel:
    def __init__(self, user: PortalUser, contract: Contract, client: str, may_upload: bool) -> None:
        self.user = user
        self.contract = contract
        self.client = client
        self.state = _State()
        self.mode = UploadMode.NEU
        self.reading: asyncio.Task | None = None
        ui.context.client.on_disconnect(self._stop_reading)
        settings = get_settings()
        self.max_bytes = settings.massenupload_max_bytes
        active = contract.status == ContractStatus.AKTIV
        limits = (f'.xlsx oder .csv, höchstens {massenupload.megabytes_label(self.max_bytes)} und '
                  f'{format_count(settings.massenupload_max_rows)} Zeilen')
        with ui.card().classes('portal-card w-full q-pa-md gap-3'):
            ui.label('Datei hochladen').classes('text-h6').props('role=heading aria-level=2')
            self.upload: ui.upload | None = None
            if not may_upload:
                _hint('lock', 'Sie haben nur Leserechte. Massenuploads können Administratoren und die '
                              'Sachbearbeitung Ihrer Firma durchführen.')
            elif not active:
                _hint('block', massenupload.INACTIVE_CONTRACT)
            else:
                self.upload = ui.upload(
                    label='Excel- oder CSV-Datei auswählen oder hierher ziehen', auto_upload=True,
                    max_file_size=self.max_bytes, on_upload=self._uploaded, on_rejected=self._rejected,
                ).props('accept=".xlsx,.csv" flat bordered color=primary').classes('w-full').style(
                    'max-width: 640px')
                self.upload.on('failed', self._failed, js_handler='(info) => emit(info.xhr ? info.xhr.status : 0)')
                self.upload.add_slot('header', UPLOAD_HEADER.replace('{limits}', limits))
                self.upload.add_slot('list', UPLOAD_LIST)
            with ui.column().classes('w-full gap-1') as self.busy:
                self.busy_label = ui.label().classes('text-body2').props('aria-live=polite')
                self.progress = ui.linear_progress(value=0, show_value=False, size='10px').props(
                    'rounded color=primary aria-label="Fortschritt beim Lesen und Prüfen"',
                ).classes('w-full').style('max-width: 640px')
            self.busy.visible = False
            self.banner = error_banner()
        self.preview_area = ui.column().classes('w-full gap-4')
        with ui.card().classes('portal-card w-full q-pa-md gap-2'):
            ui.label('Bisherige Uploads').classes('text-h6').props('role=heading aria-level=2')
            self.history = Table(rows=[], columns=HISTORY_COLUMNS, row_key='id',
                                    pagination={'rowsPerPage': 10}).props('flat wrap-cells').classes('w-full')
            self.history.add_slot('body-cell-ergebnis', RESULT_CELL)
            self.history_empty = ui.label('Für diesen Vertrag wurde noch keine Datei hochgeladen.').classes(
                'muted text-body2')
        self.timer = ui.timer(0.15, self._show_progress, active=False)

    # --- upload and preview -------------------------------------------------------------------------------------

    def set_mode(self, mode: UploadMode) -> None:
        """Another kind of list: a preview of the previous kind no longer applies (it stays in the history)."""
        if mode != self.mode:
            self.mode = mode
            self.state = _State()
            self.preview_area.clear()
            show_error(self.banner, None)

    def _rejected(self) -> None:
        show_error(self.banner, 'Die Datei wurde nicht angenommen. Erlaubt sind Excel- (.xlsx) und CSV-Dateien bis '
                                f'{massenupload.megabytes_label(self.max_bytes)}.')

    def _failed(self, event: events.GenericEventArguments) -> None:
        """The upload request failed. 413 is pages/upload_limit.py refusing the size; any other status is a transfer
        that did not arrive (status 0: the connection broke, or the browser could no longer read the chosen file),
        which says nothing about the file, so the person is asked to send it again rather than told it is wrong."""
        status = event.args if isinstance(event.args, int) else 0
        if status == 413:
            show_error(self.banner, massenupload.too_large_message(self.max_bytes))
            return
        logger.warning('Massenupload: the upload request failed with status %s', status)
        show_error(self.banner, UPLOAD_FAILED)

    async def _uploaded(self, event: events.UploadEventArguments) -> None:
        data = bytearray()
        async for chunk in event.file.iterate():  # a client that ignores max-file-size is not read to the end
            data += chunk
            if len(data) > self.max_bytes:
                break
        await self.read(event.file.name, bytes(data))

    def _stop_reading(self) -> None:
        """The browser has gone (tab closed, navigated away): stop reading its file."""
        if self.reading is not None and not self.reading.done():
            self.reading.cancel()

    async def read(self, file_name: str, data: bytes) -> None:
        """Read and check a file (the upload's handler; tests call it with bytes, too)."""
        self.reading = asyncio.current_task()
        self.state = _State(file_name=file_name)
        self.preview_area.clear()
        self._set_busy(f'„{file_name}“ wird gelesen und geprüft …')
        try:
            preview = await run_form({}, massenupload.preview_upload(
                self.user, self.contract.id, data, file_name, progress=self.state.report, client=self.client,
                mode=self.mode,
            ), banner=self.banner, on_refused=self._refused_file)
        except asyncio.CancelledError:
            show_error(self.banner, 'Die Prüfung wurde abgebrochen, weil die Verbindung unterbrochen war. Bitte laden '
                                    'Sie die Datei erneut hoch.')
            raise
        except Exception:
            logger.exception('Massenupload: checking %r failed', file_name)
            show_error(self.banner, 'Die Datei konnte nicht geprüft werden. Bitte versuchen Sie es erneut.')
            return
        finally:
            self.reading = None
            self._set_busy(None)
        if preview is REFUSED:
            return
        self.state.preview = preview
        self._show_preview(preview)
        await self.refresh_history()

    async def _refused_file(self, error: ServiceError) -> None:
        """A file that could not be read is stored in the history with its reason; other refusals leave no entry."""
        if isinstance(error, UploadError):
            await self.refresh_history()

    def _set_busy(self, text: str | None) -> None:
        """While a file is read and checked: the progress shows, and the upload takes no second file."""
        if self.upload is not None:
            self.upload.enabled = text is None
            if text is None:
                self.upload.reset()
        self.busy.visible = text is not None
        self.busy_label.text = text or ''
        self.progress.value = 0
        self.progress.props('indeterminate')
        self.timer.active = text is not None

    def _show_progress(self) -> None:
        done, total = self.state.done, self.state.total
        if total:
            self.progress.props(remove='indeterminate')
            self.progress.value = min(1.0, done / total)

    def _show_preview(self, preview: Preview) -> None:
        with self.preview_area, ui.card().classes('portal-card w-full q-pa-md gap-3').mark('vorschau'):
            with ui.row().classes('items-center gap-2'):
                ui.label('Vorschau').classes('text-h6').props('role=heading aria-level=2')
                ui.label(f'„{preview.file_name}“').classes('muted')
            with ui.row().classes('gap-3'):
                _stat('Zeilen', preview.row_count, 'table_rows', 'primary')
                _stat('gültig', preview.valid_count, 'check_circle', 'positive')
                _stat('fehlerhaft', preview.faulty_count, 'error', 'negative' if preview.faulty_count else 'grey-6')
            for fault in preview.file_faults:
                _hint('error', fault.reason, negative=True)
            if preview.faults:
                ui.label('Fehlerhafte Zeilen').classes('text-subtitle1 text-weight-medium').props(
                    'role=heading aria-level=3')
                if len(preview.faults) > MAX_FAULTS_SHOWN:
                    ui.label(f'Gezeigt werden die ersten {MAX_FAULTS_SHOWN} von {format_count(len(preview.faults))} '
                             'Fehlern; die Fehlerliste enthält alle.').classes('muted text-body2')
                Table(rows=fault_rows(preview), columns=FAULT_COLUMNS, row_key='id',
                         pagination={'rowsPerPage': 10}).props('flat bordered wrap-cells').classes('w-full') \
                    .mark('fehlerliste')
            else:
                _hint('check_circle', f'Alle {format_count(preview.row_count)} Zeilen sind in Ordnung. Mit '
                                      f'„Importieren“ werden die Abos {IMPORT_DONE[preview.mode]}.', positive=True)
            with ui.row().classes('w-full items-center gap-2'):
                if preview.faults:
                    ui.button('Fehlerliste herunterladen (CSV)', icon='download', on_click=self._download_faults) \
                        .props('outline no-caps')
                    ui.label('Bitte korrigieren Sie die Datei und laden Sie sie erneut hoch.').classes(
                        'muted text-body2')
                ui.space()
                self.import_button = ui.button('Importieren', icon='playlist_add_check', on_click=self._confirm) \
                    .props('unelevated no-caps').mark('importieren')
                self.import_button.enabled = preview.importable

    def _download_faults(self) -> None:
        preview = self.state.preview
        if preview is not None:
            stem = PurePath(preview.file_name).stem or 'Upload'
            ui.download.content(massenupload.error_list_csv(preview), f'Fehlerliste_{stem}.csv', 'text/csv')

    # --- import ------------------------------------------------------------------------------------------------------

    def _confirm(self) -> None:
        preview = self.state.preview
        if preview is None or not preview.importable:
            return
        count = format_count(preview.valid_count)
        with ui.dialog().on('hide', lambda e: e.sender.delete()) as dialog, ui.card().classes('q-pa-lg gap-2').style(
            'width: min(520px, 95vw)'
        ):
            ui.label(CONFIRM_TITLE[preview.mode].format(count=count)).classes('text-h6')
            ui.label(f'„{preview.file_name}“, Vertrag {self.contract.vertragsnummer}: '
                     f'{IMPORT_EFFECT[preview.mode]}').classes('text-body2')
            with ui.row().classes('w-full justify-end'):
                ui.button('Abbrechen', on_click=dialog.close).props('flat no-caps')
                ui.button('Jetzt importieren', on_click=lambda: self._import(dialog)).props('unelevated no-caps')
        dialog.open()

    async def _import(self, dialog: ui.dialog) -> None:
        dialog.close()
        # The browser hides the dialog and the page then deletes it, while the import may still run (a large file, a
        # loaded machine): the rest runs in the panel's slot, not in the deleted dialog's, where the result's
        # notification found no page any more (CI: „The parent element this slot belongs to has been deleted“).
        with self.preview_area:
            await self._run_import()

    async def _run_import(self) -> None:
        preview = self.state.preview
        if preview is None:
            return
        self.import_button.props('loading')
        self.import_button.enabled = False
        try:
            upload = await run_call(massenupload.import_upload(
                self.user, self.contract.id, preview.upload_id, client=self.client,
            ), self._refused_import)
        finally:
            self.state = _State()
        if upload is not REFUSED:
            ui.notify(f'Import abgeschlossen: {upload.message}', type='positive')
            self.preview_area.clear()
            _hint('task_alt', f'Import abgeschlossen: „{upload.file_name}“ – {upload.message} Die Abos stehen unter '
                              '„Anträge“ im Reiter „Abos“.', positive=True)
        await self.refresh_history()

    def _refused_import(self, error: ServiceError) -> None:
        """Said twice: the notification for the moment, the banner for later (the preview it refers to is gone)."""
        ui.notify(error_text(error), type='negative', multi_line=True)
        show_error(self.banner, error_text(error))
        self.preview_area.clear()

    # --- history -----------------------------------------------------------------------------------------------------

    async def refresh_history(self) -> None:
        uploads = await massenupload.upload_history(self.user, self.contract.id)
        self.history.rows = [history_row(upload) for upload in uploads]
        self.history.visible = bool(uploads)
        self.history_empty.visible = not uploads


def _stat(label: str, value: int, icon: str, color: str) -> None:
    with ui.card().classes('q-pa-sm q-px-md').props('flat bordered').style('min-width: 150px'), \
            ui.row().classes('items-center no-wrap gap-3'):
            ui.icon(icon, color=color, size='28px').props('aria-hidden=true')
            with ui.column().classes('gap-0'):
                ui.label(format_count(value)).classes('text-h5 text-weight-bold').mark(f'anzahl-{label}')
                ui.label(label).classes('text-body2 muted')


def _hint(icon: str, text: str, *, negative: bool = False, positive: bool = False) -> None:
    colors = 'bg-red-1 text-negative' if negative else 'bg-green-1 text-positive' if positive else 'bg-blue-1'
    with ui.row().classes(f'w-full items-center no-wrap gap-2 q-pa-sm rounded-borders {colors}'):
        ui.icon(icon, size='sm').props('aria-hidden=true')
        ui.label(text).classes('text-body2').props('role=status')
