from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.customer import Customer
    from models.user import PortalUser


class AuditEvent(Model):
    """Who did what to which record, when and from where. Append-only: no service updates or deletes these."""

    id = fields.BigIntField(primary_key=True)
    created_at = fields.DatetimeField(db_index=True)
    kind = fields.CharField(max_length=50, db_index=True)
    actor: fields.ForeignKeyNullableRelation['PortalUser'] = fields.ForeignKeyField(
        'models.PortalUser', related_name='audit_events', null=True, on_delete=fields.SET_NULL
    )
    actor_id: int | None
    actor_label = fields.CharField(max_length=254, default='')
    customer: fields.ForeignKeyNullableRelation['Customer'] = fields.ForeignKeyField(
        'models.Customer', related_name='audit_events', null=True, on_delete=fields.SET_NULL
    )
    customer_id: int | None
    object_type = fields.CharField(max_length=50, default='')
    object_id = fields.CharField(max_length=50, default='')
    details: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    client = fields.CharField(max_length=100, default='')

    class Meta:
        table = 'audit_event'
        indexes = [('customer_id', 'created_at'), ('actor_id', 'created_at'), ('kind', 'client', 'created_at')]
