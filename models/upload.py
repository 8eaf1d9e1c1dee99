from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.contract import Contract
    from models.user import PortalUser


class UploadResult(StrEnum):
    IMPORTIERT = 'importiert'
    FEHLERHAFT = 'fehlerhaft'
    ABGEBROCHEN = 'abgebrochen'


class Upload(Model):
    """One Massenupload of an employee list for a contract: the history shown on the page."""

    id = fields.IntField(primary_key=True)
    contract: fields.ForeignKeyRelation['Contract'] = fields.ForeignKeyField(
        'models.Contract', related_name='uploads', on_delete=fields.RESTRICT
    )
    contract_id: int
    uploaded_by: fields.ForeignKeyNullableRelation['PortalUser'] = fields.ForeignKeyField(
        'models.PortalUser', related_name='uploads', null=True, on_delete=fields.SET_NULL
    )
    uploaded_by_id: int | None
    file_name = fields.CharField(max_length=255)
    file_sha256 = fields.CharField(max_length=64)
    row_count = fields.IntField(default=0)
    valid_count = fields.IntField(default=0)
    faulty_count = fields.IntField(default=0)
    imported_count = fields.IntField(default=0)
    result = fields.CharEnumField(UploadResult, max_length=20)
    message = fields.CharField(max_length=500, default='')
    created_at = fields.DatetimeField()

    class Meta:
        table = 'upload'
        indexes = [('contract_id', 'created_at')]
