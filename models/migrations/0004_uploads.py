from tortoise import migrations
from tortoise.migrations import operations as ops
from models.upload import UploadResult
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0003_search_text')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Upload',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contract', fields.ForeignKeyField('models.Contract', source_field='contract_id', db_constraint=True, to_field='id', related_name='uploads', on_delete=OnDelete.RESTRICT)),
                ('uploaded_by', fields.ForeignKeyField('models.PortalUser', source_field='uploaded_by_id', null=True, db_constraint=True, to_field='id', related_name='uploads', on_delete=OnDelete.SET_NULL)),
                ('file_name', fields.CharField(max_length=255)),
                ('file_sha256', fields.CharField(max_length=64)),
                ('row_count', fields.IntField(default=0)),
                ('valid_count', fields.IntField(default=0)),
                ('faulty_count', fields.IntField(default=0)),
                ('imported_count', fields.IntField(default=0)),
                ('result', fields.CharEnumField(description='IMPORTIERT: importiert\nFEHLERHAFT: fehlerhaft\nABGEBROCHEN: abgebrochen', enum_type=UploadResult, max_length=20)),
                ('message', fields.CharField(default='', max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'upload', 'app': 'models', 'indexes': [Index(fields=['contract_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One Massenupload of an employee list for a contract: the history shown on the page.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Antrag',
            name='upload',
            field=fields.ForeignKeyField('models.Upload', source_field='upload_id', null=True, db_constraint=True, to_field='id', related_name='antraege', on_delete=OnDelete.SET_NULL),
        ),
    ]
