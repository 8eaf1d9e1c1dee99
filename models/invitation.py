from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.employee import Employee
    from models.user import PortalUser


class InvitationPurpose(StrEnum):
    EINLADUNG = 'einladung'
    PASSWORT = 'passwort'
    # Self-Service accounts (Employee): claim an account made by Massenupload, a forgotten password, confirm the address
    KONTO_EINLADUNG = 'konto_einladung'
    KONTO_PASSWORT = 'konto_passwort'
    KONTO_BESTAETIGUNG = 'konto_bestaetigung'


class Invitation(Model):
    """A one-time link that lets a portal user set a password: the invitation of a new Anwender or a password reset;
    or the same for an employee's Self-Service account (`employee` set instead of `user`), and its address confirmation.

    Only a SHA-256 of the link's token is stored, so a database copy opens no account. A link is used once; a newer
    link for the same user, a deactivation or the use of another link revokes it.
    """

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyNullableRelation['PortalUser'] = fields.ForeignKeyField(
        'models.PortalUser', related_name='invitations', null=True, on_delete=fields.CASCADE
    )
    employee: fields.ForeignKeyNullableRelation['Employee'] = fields.ForeignKeyField(
        'models.Employee', related_name='links', null=True, on_delete=fields.CASCADE
    )
    user_id: int | None
    employee_id: int | None
    token_hash = fields.CharField(max_length=64, unique=True)
    purpose = fields.CharEnumField(InvitationPurpose, max_length=20)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    created_by: fields.ForeignKeyNullableRelation['PortalUser'] = fields.ForeignKeyField(
        'models.PortalUser', related_name='invitations_created', null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None

    class Meta:
        table = 'invitation'
        indexes = [('user_id', 'used_at'), ('employee_id', 'used_at')]
