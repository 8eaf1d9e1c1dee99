from tortoise import migrations
from tortoise.migrations import operations as ops
from models.antrag import AntragStatus
from models.invitation import InvitationPurpose
from models.outbox import MailStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0012_scale')]

    initial = False

    operations = [
        ops.CreateModel(
            name='JobRun',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=40)),
                ('period', fields.CharField(max_length=40)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('result', fields.CharField(default='', max_length=200)),
            ],
            options={'table': 'job_run', 'app': 'models', 'unique_together': [('name', 'period')], 'pk_attr': 'id', 'table_description': 'One run of a scheduled job for one period (e.g. the digest of 2026-11-30): the unique pair is the lease that'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutboxMail',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=40)),
                ('recipient', fields.CharField(max_length=254)),
                ('subject', fields.CharField(max_length=300)),
                ('body_text', fields.TextField(unique=False)),
                ('body_html', fields.TextField(unique=False)),
                ('status', fields.CharEnumField(default=MailStatus.WARTEND, description='WARTEND: wartend\nGESENDET: gesendet\nFEHLGESCHLAGEN: fehlgeschlagen', enum_type=MailStatus, max_length=20)),
                ('attempts', fields.IntField(default=0)),
                ('due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(default='', max_length=500)),
                ('customer_id', fields.IntField(null=True)),
                ('object_type', fields.CharField(default='', max_length=20)),
                ('object_id', fields.CharField(default='', max_length=40)),
            ],
            options={'table': 'outbox_mail', 'app': 'models', 'indexes': [Index(fields=['status', 'due_at']), Index(fields=['kind', 'object_id']), Index(fields=['created_at'])], 'pk_attr': 'id', 'table_description': 'One e-mail, written in the transaction of the change it reports and delivered later by the worker'},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='Antrag',
            name='status',
            field=fields.CharEnumField(default=AntragStatus.OFFEN, description='UNBESTAETIGT: unbestätigt\nOFFEN: offen\nGENEHMIGT: genehmigt\nABGELEHNT: abgelehnt', enum_type=AntragStatus, max_length=20),
        ),
        ops.AddField(
            model_name='Employee',
            name='email_confirmed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AlterModelOptions(
            name='Invitation',
            options={'table': 'invitation', 'app': 'models', 'indexes': [Index(fields=['user_id', 'used_at']), Index(fields=['employee_id', 'used_at'])], 'pk_attr': 'id', 'table_description': 'A one-time link that lets a portal user set a password: the invitation of a new Anwender or a password reset;'},
        ),
        ops.AlterField(
            model_name='Invitation',
            name='purpose',
            field=fields.CharEnumField(description='EINLADUNG: einladung\nPASSWORT: passwort\nKONTO_EINLADUNG: konto_einladung\nKONTO_PASSWORT: konto_passwort\nKONTO_BESTAETIGUNG: konto_bestaetigung', enum_type=InvitationPurpose, max_length=20),
        ),
        ops.AlterField(
            model_name='Invitation',
            name='user',
            field=fields.ForeignKeyField('models.PortalUser', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='invitations', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='Invitation',
            name='employee',
            field=fields.ForeignKeyField('models.Employee', source_field='employee_id', null=True, db_constraint=True, to_field='id', related_name='links', on_delete=OnDelete.CASCADE),
        ),
        ops.AddIndex(
            model_name='Invitation',
            index=Index(fields=['employee_id', 'used_at']),
        ),
        ops.AddField(
            model_name='PortalUser',
            name='mail_digest',
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
