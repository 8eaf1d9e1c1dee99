"""Massenupload: a company registers, changes or ends many employees' Abos at once from an Excel (.xlsx) or CSV file,
all or nothing. The package, along the steps the page shows:

- `columns`: the columns of each mode (new people; changes and leavers keyed by Personalnummer).
- `reading`: bytes → rows of text (`parse_upload`), pure, bounded by what is actually read, in `READING_POOL`.
- `checking`: rows → checked rows and faults (`check_rows`, pure), then against the contract
  (`check_against_contract`: duplicates, the Abo of each Personalnummer, an inactive contract, a file imported before).
- `workflow`: the checked preview kept in an `Upload` row ('geprüft', `preview_upload`), the import by its id
  (`import_upload`: batched, all or nothing), the history.
- `files`: templates per mode and the list of faults.

Other modules import from here; what the package's modules share stays inside it.
"""

from services.massenupload.checking import (
    EXAMPLE_ROW,
    EXISTING_NUMBER,
    EXISTING_PERSON,
    FORMULA,
    INACTIVE_CONTRACT,
    MANDATE_MISSING,
    MANDATE_NOT_WANTED,
    PLZ_FOUR_DIGITS,
    ChangeRow,
    LeaverRow,
    Preview,
    UploadRow,
    check_against_contract,
    check_rows,
    read_upload,
)
from services.massenupload.columns import MODE_LABELS, PERSON_COLUMN, SEPA_COLUMNS, TEMPLATE_COLUMNS, template_columns
from services.massenupload.files import error_list_csv, template_csv, template_xlsx
from services.massenupload.reading import (
    BUSY,
    EMPTY_FILE,
    NO_ROWS,
    NOT_CSV,
    NOT_XLSX,
    OLD_EXCEL,
    READING_POOL,
    WRONG_TYPE,
    Busy,
    Fault,
    Limits,
    ReadCancelled,
    UploadError,
    check_archive,
    megabytes_label,
    parse_upload,
    sha256_of,
    too_large_message,
)
from services.massenupload.workflow import (
    ABORTED,
    RUNNING,
    HistoryEntry,
    import_upload,
    invite_people,
    keep_check,
    preview_upload,
    recover_interrupted_imports,
    upload_history,
)

__all__ = [
    'ABORTED', 'BUSY', 'EMPTY_FILE', 'EXAMPLE_ROW', 'EXISTING_NUMBER', 'EXISTING_PERSON', 'FORMULA',
    'INACTIVE_CONTRACT', 'MANDATE_MISSING', 'MANDATE_NOT_WANTED', 'MODE_LABELS', 'NOT_CSV', 'NOT_XLSX', 'NO_ROWS',
    'OLD_EXCEL', 'PERSON_COLUMN', 'PLZ_FOUR_DIGITS', 'READING_POOL', 'RUNNING', 'SEPA_COLUMNS', 'TEMPLATE_COLUMNS',
    'WRONG_TYPE', 'Busy', 'ChangeRow', 'Fault', 'HistoryEntry', 'LeaverRow', 'Limits', 'Preview', 'ReadCancelled',
    'UploadError', 'UploadRow', 'check_against_contract', 'check_archive', 'check_rows', 'error_list_csv',
    'import_upload', 'invite_people', 'keep_check', 'megabytes_label', 'parse_upload', 'preview_upload', 'read_upload',
    'recover_interrupted_imports', 'sha256_of', 'template_columns', 'template_csv', 'template_xlsx',
    'too_large_message', 'upload_history',
]
