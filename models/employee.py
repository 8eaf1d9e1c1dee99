from tortoise import fields
from tortoise.models import Model


class Employee(Model):
    """An employee's Self-Service account (Mitarbeiterkonto), separate from the company portal's users.

    `email` is stored normalised (trimmed, lower case). The person's data lives on their Anträge and Abos, under any
    number of employers: one login for all of them. `email_confirmed_at` is set by the confirmation link; an account
    made for a person imported by Massenupload has an empty `password_hash` (no password works) until the person
    claims it through the invitation link.
    """

    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)
    password_hash = fields.CharField(max_length=200)
    is_active = fields.BooleanField(default=True)
    last_login_at = fields.DatetimeField(null=True)
    email_confirmed_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = 'employee'
