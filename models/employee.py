from tortoise import fields
from tortoise.models import Model


class Employee(Model):
    """An employee's Self-Service account (Mitarbeiterkonto), separate from the company portal's users.

    `email` is stored normalised (trimmed, lower case). The person's data lives on their Anträge and Abos.
    """

    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)
    password_hash = fields.CharField(max_length=200)
    is_active = fields.BooleanField(default=True)
    last_login_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = 'employee'
