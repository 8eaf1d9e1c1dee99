from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.employee import Employee
    from models.user import PortalUser


class Session(Model):
    """A server-side login session of a portal user or of an employee in the Self-Service (exactly one is set).

    Only a SHA-256 of the token is stored, so a database copy grants no logins. A session starts *pending*
    (`pending_until` set, `token_hash` the digest of a one-time hand-over ticket): the login form runs over the
    websocket and cannot set a cookie, so the browser fetches /anmeldung/abschluss with the ticket, which swaps in the
    real token and sets it as an HttpOnly cookie. A pending session is never a login.
    """

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    user: fields.ForeignKeyNullableRelation['PortalUser'] = fields.ForeignKeyField(
        'models.PortalUser', related_name='sessions', null=True, on_delete=fields.CASCADE
    )
    user_id: int | None
    employee: fields.ForeignKeyNullableRelation['Employee'] = fields.ForeignKeyField(
        'models.Employee', related_name='sessions', null=True, on_delete=fields.CASCADE
    )
    employee_id: int | None
    created_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    pending_until = fields.DatetimeField(null=True)
    ended_at = fields.DatetimeField(null=True)
    end_reason = fields.CharField(max_length=40, default='')
    client = fields.CharField(max_length=100, default='')
    user_agent = fields.CharField(max_length=300, default='')

    class Meta:
        table = 'session'
        indexes = [('user_id', 'ended_at')]
