from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.abo import Abo
    from models.contract import Contract
    from models.user import PortalUser


class UploadResult(StrEnum):
    GEPRUEFT = 'geprüft'  # checked without a fault: the rows wait in `checked_rows` until "Importieren"
    IMPORTIERT = 'importiert'
    FEHLERHAFT = 'fehlerhaft'
    ABGEBROCHEN = 'abgebrochen'


class UploadMode(StrEnum):
    """What the file's rows mean: new people, changes to their Abos, or leavers (keyed by Personalnummer)."""

    NEU = 'neu'
    AENDERUNG = 'änderung'
    AUSTRITT = 'austritt'


class Upload(Model):
    """One Massenupload of an employee list for a contract: the history shown on the page, and the checked preview
    the import reads (by id: the browser never sends the rows back)."""

    id = fields.IntField(primary_key=True)
    contract: fields.ForeignKeyRelation['Contract'] = fields.ForeignKeyField(
        'models.Contract', related_name='uploads', on_delete=fields.RESTRICT
    )
    contract_id: int
    uploaded_by: fields.ForeignKeyNullableRelation['PortalUser'] = fields.ForeignKeyField(
        'models.PortalUser', related_name='uploads', null=True, on_delete=fields.SET_NULL
    )
    uploaded_by_id: int | None
    mode = fields.CharEnumField(UploadMode, max_length=20, default=UploadMode.NEU, db_default=UploadMode.NEU.value)
    file_name = fields.CharField(max_length=255)
    file_sha256 = fields.CharField(max_length=64)
    row_count = fields.IntField(default=0)
    valid_count = fields.IntField(default=0)
    faulty_count = fields.IntField(default=0)
    imported_count = fields.IntField(default=0)
    result = fields.CharEnumField(UploadResult, max_length=20)
    message = fields.CharField(max_length=500, default='')
    checked_on = fields.DateField(null=True)  # the day of the check: a preview of yesterday is not imported
    # the checked rows until they are imported (then emptied)
    checked_rows: fields.JSONField[list[Any] | None] = fields.JSONField(null=True)
    # set with the flip to 'importiert', cleared when every imported person has an account (and, if new, an
    # invitation): those follow the import in batches of their own (services/employee_accounts.invite_imported)
    invitations_pending = fields.BooleanField(default=False, db_default=False)
    created_at = fields.DatetimeField()

    class Meta:
        table = 'upload'
        indexes = [('contract_id', 'created_at')]


class UploadChange(Model):
    """An Abo as it was before a change or leaver import wrote it: what undoes an import that did not finish (on
    SQLite each batch commits on its own), and the record of what the file changed."""

    id = fields.IntField(primary_key=True)
    upload: fields.ForeignKeyRelation[Upload] = fields.ForeignKeyField(
        'models.Upload', related_name='changes', on_delete=fields.CASCADE
    )
    upload_id: int
    abo: fields.ForeignKeyRelation['Abo'] = fields.ForeignKeyField(
        'models.Abo', related_name='upload_changes', on_delete=fields.CASCADE
    )
    abo_id: int
    before: fields.JSONField[dict[str, Any]] = fields.JSONField()

    class Meta:
        table = 'upload_change'
        indexes = [('upload_id', 'id')]
