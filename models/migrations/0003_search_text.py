from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_self_service')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Abo',
            name='search_text',
            field=fields.TextField(default='', db_default='', unique=False),
        ),
        ops.AddField(
            model_name='Antrag',
            name='search_text',
            field=fields.TextField(default='', db_default='', unique=False),
        ),
    ]
