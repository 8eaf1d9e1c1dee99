from tortoise import fields
from tortoise.models import Model


class LoginThrottle(Model):
    """Failed-login counter for one e-mail address or one client.

    Keyed by the typed e-mail, not by the account, so that unknown addresses lock exactly like real ones and the
    lock message reveals nothing about which accounts exist.
    """

    id = fields.IntField(primary_key=True)
    scope = fields.CharField(max_length=10)
    key = fields.CharField(max_length=254)
    failures = fields.IntField(default=0)
    window_start = fields.DatetimeField()
    lock_count = fields.IntField(default=0)
    locked_until = fields.DatetimeField(null=True)

    class Meta:
        table = 'login_throttle'
        unique_together = [('scope', 'key')]
