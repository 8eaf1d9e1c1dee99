from tortoise import migrations
from tortoise.migrations import operations as ops
from models.upload import UploadMode, UploadResult
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0012_scale')]

    initial = False

    operations = [
        ops.CreateModel(
            name='UploadChange',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('upload', fields.ForeignKeyField('models.Upload', source_field='upload_id', db_constraint=True, to_field='id', related_name='changes', on_delete=OnDelete.CASCADE)),
                ('abo', fields.ForeignKeyField('models.Abo', source_field='abo_id', db_constraint=True, to_field='id', related_name='upload_changes', on_delete=OnDelete.CASCADE)),
                ('before', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={'table': 'upload_change', 'app': 'models', 'indexes': [Index(fields=['upload_id', 'id'])], 'pk_attr': 'id', 'table_description': 'An Abo as it was before a change or leaver import wrote it: what undoes an import that did not finish (on'},
            bases=['Model'],
        ),
        ops.AlterModelOptions(
            name='Upload',
            options={'table': 'upload', 'app': 'models', 'indexes': [Index(fields=['contract_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One Massenupload of an employee list for a contract: the history shown on the page, and the checked preview'},
        ),
        ops.AlterField(
            model_name='Upload',
            name='result',
            field=fields.CharEnumField(description='GEPRUEFT: geprüft\nIMPORTIERT: importiert\nFEHLERHAFT: fehlerhaft\nABGEBROCHEN: abgebrochen', enum_type=UploadResult, max_length=20),
        ),
        ops.AddField(
            model_name='Upload',
            name='checked_on',
            field=fields.DateField(null=True),
        ),
        ops.AddField(
            model_name='Upload',
            name='checked_rows',
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name='Upload',
            name='mode',
            field=fields.CharEnumField(default=UploadMode.NEU, description='NEU: neu\nAENDERUNG: änderung\nAUSTRITT: austritt', db_default='neu', enum_type=UploadMode, max_length=20),
        ),
    ]
