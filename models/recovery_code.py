from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.user import PortalUser


class RecoveryCode(Model):
    """One of the ten single-use codes that stand in for the second factor when the phone is lost.

    Only a SHA-256 of the code is stored: the codes carry 60 random bits each, so a fast hash is enough (no password
    a person chose, nothing to brute-force offline in reasonable time).
    """

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation['PortalUser'] = fields.ForeignKeyField(
        'models.PortalUser', related_name='recovery_codes', on_delete=fields.CASCADE
    )
    user_id: int
    code_hash = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = 'recovery_code'
        unique_together = [('user_id', 'code_hash')]
