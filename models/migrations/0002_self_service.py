from tortoise import migrations
from tortoise.migrations import operations as ops
from models.abo import AboStatus
from models.antrag import Anrede, AntragSource, AntragStatus, Ticketart
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Employee',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('email', fields.CharField(unique=True, max_length=254)),
                ('password_hash', fields.CharField(max_length=200)),
                ('is_active', fields.BooleanField(default=True)),
                ('last_login_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'employee', 'app': 'models', 'pk_attr': 'id', 'table_description': "An employee's Self-Service account (Mitarbeiterkonto), separate from the company portal's users."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Antrag',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('reference', fields.CharField(unique=True, max_length=20)),
                ('contract', fields.ForeignKeyField('models.Contract', source_field='contract_id', db_constraint=True, to_field='id', related_name='antraege', on_delete=OnDelete.RESTRICT)),
                ('code', fields.ForeignKeyField('models.Kundencode', source_field='code_id', null=True, db_constraint=True, to_field='id', related_name='antraege', on_delete=OnDelete.SET_NULL)),
                ('employee', fields.ForeignKeyField('models.Employee', source_field='employee_id', null=True, db_constraint=True, to_field='id', related_name='antraege', on_delete=OnDelete.SET_NULL)),
                ('source', fields.CharEnumField(default=AntragSource.SELF_SERVICE, description='SELF_SERVICE: self_service\nMASSENUPLOAD: massenupload', enum_type=AntragSource, max_length=20)),
                ('anrede', fields.CharEnumField(description='FRAU: Frau\nHERR: Herr\nDIVERS: Divers\nKEINE: Keine Angabe', enum_type=Anrede, max_length=20)),
                ('vorname', fields.CharField(max_length=100)),
                ('nachname', fields.CharField(max_length=100)),
                ('geburtsdatum', fields.DateField()),
                ('email', fields.CharField(max_length=254)),
                ('strasse', fields.CharField(max_length=200)),
                ('plz', fields.CharField(max_length=5)),
                ('ort', fields.CharField(max_length=100)),
                ('personalnummer', fields.CharField(default='', max_length=50)),
                ('startmonat', fields.DateField()),
                ('ticketart', fields.CharEnumField(description='CHIPKARTE: Chipkarte\nHANDYTICKET: Handyticket', enum_type=Ticketart, max_length=20)),
                ('status', fields.CharEnumField(default=AntragStatus.OFFEN, description='OFFEN: offen\nGENEHMIGT: genehmigt\nABGELEHNT: abgelehnt', enum_type=AntragStatus, max_length=20)),
                ('person_key', fields.CharField(max_length=250)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('decided_by', fields.ForeignKeyField('models.PortalUser', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='decided_antraege', on_delete=OnDelete.SET_NULL)),
                ('decision_reason', fields.CharField(default='', max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'antrag', 'app': 'models', 'indexes': [Index(fields=['contract_id', 'status', 'created_at']), Index(fields=['contract_id', 'person_key', 'status'])], 'pk_attr': 'id', 'table_description': "An employee's application for a D-Ticket Job under one contract."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Abo',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contract', fields.ForeignKeyField('models.Contract', source_field='contract_id', db_constraint=True, to_field='id', related_name='abos', on_delete=OnDelete.RESTRICT)),
                ('employee', fields.ForeignKeyField('models.Employee', source_field='employee_id', null=True, db_constraint=True, to_field='id', related_name='abos', on_delete=OnDelete.SET_NULL)),
                ('antrag', fields.ForeignKeyField('models.Antrag', source_field='antrag_id', null=True, db_constraint=True, to_field='id', related_name='abos', on_delete=OnDelete.SET_NULL)),
                ('vorname', fields.CharField(max_length=100)),
                ('nachname', fields.CharField(max_length=100)),
                ('geburtsdatum', fields.DateField()),
                ('personalnummer', fields.CharField(default='', max_length=50)),
                ('strasse', fields.CharField(max_length=200)),
                ('plz', fields.CharField(max_length=5)),
                ('ort', fields.CharField(max_length=100)),
                ('ticketart', fields.CharEnumField(description='CHIPKARTE: Chipkarte\nHANDYTICKET: Handyticket', enum_type=Ticketart, max_length=20)),
                ('startmonat', fields.DateField()),
                ('endmonat', fields.DateField(null=True)),
                ('status', fields.CharEnumField(default=AboStatus.AKTIV, description='AKTIV: aktiv\nGEKUENDIGT: gekündigt\nBEENDET: beendet', enum_type=AboStatus, max_length=20)),
                ('person_key', fields.CharField(max_length=250)),
                ('cancelled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'abo', 'app': 'models', 'indexes': [Index(fields=['contract_id', 'status']), Index(fields=['contract_id', 'person_key', 'status']), Index(fields=['employee_id', 'status'])], 'pk_attr': 'id', 'table_description': "One employee's D-Ticket Job subscription under a contract, from `startmonat` (a 1st) to `endmonat` (the last"},
            bases=['Model'],
        ),
        ops.AlterModelOptions(
            name='Session',
            options={'table': 'session', 'app': 'models', 'indexes': [Index(fields=['user_id', 'ended_at'])], 'pk_attr': 'id', 'table_description': 'A server-side login session of a portal user or of an employee in the Self-Service (exactly one is set).'},
        ),
        ops.AlterField(
            model_name='Session',
            name='user',
            field=fields.ForeignKeyField('models.PortalUser', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='Session',
            name='employee',
            field=fields.ForeignKeyField('models.Employee', source_field='employee_id', null=True, db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE),
        ),
    ]
