"""Upload.invitations_pending: an import's accounts and invitation mails follow it in batches of their own (on
SQLite, in the import's final transaction they held every other user's query up for 32–49 s at 10,000 people), and
this marks an import whose invitations a stopped process left unfinished, for the next start to complete. Existing
uploads get False: their people were handled in their import's own transaction."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0018_sqlite_lost_indexes')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Upload',
            name='invitations_pending',
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
