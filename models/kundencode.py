from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class Kundencode(Model):
    """The code a company hands to its employees for the Self-Service. At most one per contract is not revoked.

    `code` holds the normalised form (16 Crockford base32 characters, no dashes); the UI groups it for reading.
    """

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=32, unique=True)
    contract: fields.ForeignKeyRelation['Contract'] = fields.ForeignKeyField(  # noqa: F821
        'models.Contract', related_name='codes', on_delete=fields.CASCADE
    )
    valid_until = fields.DateField()
    created_at = fields.DatetimeField()
    created_by: fields.ForeignKeyNullableRelation['PortalUser'] = fields.ForeignKeyField(  # noqa: F821
        'models.PortalUser', related_name='created_codes', null=True, on_delete=fields.SET_NULL
    )
    revoked_at = fields.DatetimeField(null=True)
    revoked_by: fields.ForeignKeyNullableRelation['PortalUser'] = fields.ForeignKeyField(  # noqa: F821
        'models.PortalUser', related_name='revoked_codes', null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = 'kundencode'
        # The current codes (not revoked, valid until today or later) with their contract: the Dashboard's counts.
        indexes = [('contract_id', 'revoked_at'),
                   Index(fields=['revoked_at', 'valid_until', 'contract_id'], name='ix_kundencode_current')]
