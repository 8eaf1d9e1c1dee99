from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0014_upload')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Abo',
            index=Index(fields=['startmonat', 'endmonat'], name='ix_abo_start_end'),
        ),
        ops.AddIndex(
            model_name='Kundencode',
            index=Index(fields=['revoked_at', 'valid_until', 'contract_id'], name='ix_kundencode_current'),
        ),
    ]
