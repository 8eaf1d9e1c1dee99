from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.searchable import SORT_KEY_LENGTH, Searchable, SearchableManager

if TYPE_CHECKING:
    from models.customer import Customer


class Role(StrEnum):
    ADMIN = 'admin'
    CLERK = 'clerk'
    READONLY = 'readonly'
    STAFF = 'staff'

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ADMIN: 'Administrator',
    Role.CLERK: 'Sachbearbeitung',
    Role.READONLY: 'Nur lesen',
    Role.STAFF: 'Verkehrsunternehmen',
}


class PortalUser(Searchable, Model):
    """A person who logs in to the portal: a company user (customer set) or transit-company staff (no customer).

    `email` is stored normalised (trimmed, lower case), which makes its uniqueness case-insensitive. An invited user
    has no usable password and no `password_changed_at` until the invitation link is used.
    """

    SEARCH_FIELDS = ('name', 'email', 'role_label', 'status')
    SEARCH_COLUMNS = ('name', 'email', 'role', 'is_active', 'password_changed_at')  # role_label, status: properties
    SORT_KEYS = {'name': 'name_sort'}

    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)
    password_hash = fields.CharField(max_length=200)
    name = fields.CharField(max_length=200)
    role = fields.CharEnumField(Role, max_length=20)
    customer: fields.ForeignKeyNullableRelation['Customer'] = fields.ForeignKeyField(
        'models.Customer', related_name='users', null=True, on_delete=fields.RESTRICT
    )
    customer_id: int | None
    is_active = fields.BooleanField(default=True, db_index=True)
    last_login_at = fields.DatetimeField(null=True)
    password_changed_at = fields.DatetimeField(null=True)
    # Second factor (TOTP, RFC 6238): the base32 secret once enrolment is confirmed; the last accepted time step, so
    # one code is never accepted twice.
    totp_secret = fields.CharField(max_length=64, null=True)
    totp_enabled_at = fields.DatetimeField(null=True)
    totp_last_step = fields.BigIntField(null=True)
    # Company users who opt in (Profil) get the daily digest of new Anträge and deadlines due.
    mail_digest = fields.BooleanField(default=False, db_default=False)
    search_text = fields.TextField(default='', db_default='')  # db_default: existing rows get a value on upgrade
    name_sort = fields.CharField(max_length=SORT_KEY_LENGTH, default='', db_default='')  # German order, SORT_KEYS
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = 'portal_user'
        manager = SearchableManager()  # bulk writes keep the search keys current

    @property
    def is_staff(self) -> bool:
        return self.role == Role.STAFF

    @property
    def role_label(self) -> str:
        return Role(self.role).label

    @property
    def status(self) -> str:
        """'deaktiviert', 'eingeladen' (no password set yet) or 'aktiv', as the Anwender table shows it."""
        if not self.is_active:
            return 'deaktiviert'
        return 'eingeladen' if self.password_changed_at is None else 'aktiv'

    @property
    def initials(self) -> str:
        parts = [part for part in self.name.replace('-', ' ').split() if part[:1].isalpha()]
        if not parts:
            return self.email[:2].upper()
        if len(parts) == 1:
            return parts[0][:2].upper()
        return (parts[0][0] + parts[-1][0]).upper()
