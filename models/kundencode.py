from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

if TYPE_CHECKING:
    from models.contract import Contract
    from models.user import PortalUser


class Kundencode(Model):
    """The code a company hands to its employees for the Self-Service. At most one per contract is not revoked.

    `code` holds the normalised form (16 Crockford base32 characters, no dashes); the UI groups it for reading.
    """

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=32, unique=True)
    contract: fields.ForeignKeyRelation['Contract'] = fields.ForeignKeyField(
        'models.Contract', related_name='codes', on_delete=fields.CASCADE
    )
    contract_id: int
    valid_until = fields.DateField()
    created_at = fields.DatetimeField()
    created_by: fields.ForeignKeyNullableRelation['PortalUser'] = fields.ForeignKeyField(
        'models.PortalUser', related_name='created_codes', null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    revoked_at = fields.DatetimeField(null=True)
    revoked_by: fields.ForeignKeyNullableRelation['PortalUser'] = fields.ForeignKeyField(
        'models.PortalUser', related_name='revoked_codes', null=True, on_delete=fields.SET_NULL
    )
    revoked_by_id: int | None

    class Meta:
        table = 'kundencode'
        # The current codes (not revoked, valid until today or later) with their contract: the Dashboard's counts.
        indexes = [('contract_id', 'revoked_at'),
                   Index(fields=['revoked_at', 'valid_until', 'contract_id'], name='ix_kundencode_current')]
