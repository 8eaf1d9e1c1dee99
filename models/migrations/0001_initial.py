from tortoise import migrations
from tortoise.migrations import operations as ops
from models.contract import ContractStatus, Produktangebot
from models.user import Role
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Customer',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kundennummer', fields.CharField(unique=True, max_length=20)),
                ('name', fields.CharField(db_index=True, max_length=200)),
                ('strasse', fields.CharField(max_length=200)),
                ('plz', fields.CharField(max_length=5)),
                ('ort', fields.CharField(max_length=100)),
                ('ansprechpartner', fields.CharField(default='', max_length=200)),
                ('email', fields.CharField(default='', max_length=254)),
                ('telefon', fields.CharField(default='', max_length=50)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'customer', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A business customer (Firma) of the transit company.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Contract',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('vertragsnummer', fields.CharField(unique=True, max_length=20)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='contracts', on_delete=OnDelete.RESTRICT)),
                ('firma', fields.CharField(max_length=200)),
                ('strasse', fields.CharField(max_length=200)),
                ('plz', fields.CharField(max_length=5)),
                ('ort', fields.CharField(max_length=100)),
                ('produktangebot', fields.CharEnumField(description='RECHNUNG: D-Ticket Job (Rechnung)\nSEPA: D-Ticket Job (SEPA-Lastschrift)', enum_type=Produktangebot, max_length=40)),
                ('status', fields.CharEnumField(default=ContractStatus.AKTIV, description='AKTIV: aktiv\nGEKUENDIGT: gekündigt\nBEENDET: beendet', enum_type=ContractStatus, max_length=20)),
                ('beginn', fields.DateField()),
                ('ende', fields.DateField(null=True)),
                ('arbeitgeberzuschuss_cent', fields.IntField()),
                ('search_text', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'contract', 'app': 'models', 'indexes': [Index(fields=['firma', 'id'], name='ix_contract_firma'), Index(fields=['strasse', 'id'], name='ix_contract_strasse'), Index(fields=['plz', 'id'], name='ix_contract_plz'), Index(fields=['ort', 'id'], name='ix_contract_ort'), Index(fields=['produktangebot', 'id'], name='ix_contract_produktangebot'), Index(fields=['status', 'id'], name='ix_contract_status'), Index(fields=['status', 'vertragsnummer', 'id'], name='ix_contract_status_vertragsnummer'), Index(fields=['status', 'firma', 'id'], name='ix_contract_status_firma'), Index(fields=['status', 'strasse', 'id'], name='ix_contract_status_strasse'), Index(fields=['status', 'plz', 'id'], name='ix_contract_status_plz'), Index(fields=['status', 'ort', 'id'], name='ix_contract_status_ort'), Index(fields=['status', 'produktangebot', 'id'], name='ix_contract_status_produktangebot'), Index(fields=['customer_id', 'status'], name='ix_contract_customer_status')], 'pk_attr': 'id', 'table_description': 'A D-Ticket Job contract (Vertrag) of one customer.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LoginThrottle',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('scope', fields.CharField(max_length=10)),
                ('key', fields.CharField(max_length=254)),
                ('failures', fields.IntField(default=0)),
                ('window_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('lock_count', fields.IntField(default=0)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'login_throttle', 'app': 'models', 'unique_together': [('scope', 'key')], 'pk_attr': 'id', 'table_description': 'Failed-login counter for one e-mail address or one client.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PortalUser',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('email', fields.CharField(unique=True, max_length=254)),
                ('password_hash', fields.CharField(max_length=200)),
                ('name', fields.CharField(max_length=200)),
                ('role', fields.CharEnumField(description='ADMIN: admin\nCLERK: clerk\nREADONLY: readonly\nSTAFF: staff', enum_type=Role, max_length=20)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', null=True, db_constraint=True, to_field='id', related_name='users', on_delete=OnDelete.RESTRICT)),
                ('is_active', fields.BooleanField(default=True, db_index=True)),
                ('last_login_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('password_changed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'portal_user', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A person who logs in to the portal: a company user (customer set) or transit-company staff (no customer).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('kind', fields.CharField(db_index=True, max_length=50)),
                ('actor', fields.ForeignKeyField('models.PortalUser', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='audit_events', on_delete=OnDelete.SET_NULL)),
                ('actor_label', fields.CharField(default='', max_length=254)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', null=True, db_constraint=True, to_field='id', related_name='audit_events', on_delete=OnDelete.SET_NULL)),
                ('object_type', fields.CharField(default='', max_length=50)),
                ('object_id', fields.CharField(default='', max_length=50)),
                ('details', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('client', fields.CharField(default='', max_length=100)),
            ],
            options={'table': 'audit_event', 'app': 'models', 'indexes': [Index(fields=['customer_id', 'created_at']), Index(fields=['actor_id', 'created_at']), Index(fields=['kind', 'client', 'created_at'])], 'pk_attr': 'id', 'table_description': 'Who did what to which record, when and from where. Append-only: no service updates or deletes these.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Kundencode',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=32)),
                ('contract', fields.ForeignKeyField('models.Contract', source_field='contract_id', db_constraint=True, to_field='id', related_name='codes', on_delete=OnDelete.CASCADE)),
                ('valid_until', fields.DateField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_by', fields.ForeignKeyField('models.PortalUser', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='created_codes', on_delete=OnDelete.SET_NULL)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_by', fields.ForeignKeyField('models.PortalUser', source_field='revoked_by_id', null=True, db_constraint=True, to_field='id', related_name='revoked_codes', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'kundencode', 'app': 'models', 'indexes': [Index(fields=['contract_id', 'revoked_at'])], 'pk_attr': 'id', 'table_description': 'The code a company hands to its employees for the Self-Service. At most one per contract is not revoked.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Session',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('user', fields.ForeignKeyField('models.PortalUser', source_field='user_id', db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('end_reason', fields.CharField(default='', max_length=40)),
                ('client', fields.CharField(default='', max_length=100)),
                ('user_agent', fields.CharField(default='', max_length=300)),
            ],
            options={'table': 'session', 'app': 'models', 'indexes': [Index(fields=['user_id', 'ended_at'])], 'pk_attr': 'id', 'table_description': 'A server-side login session. Only a SHA-256 of the token is stored, so a database copy grants no logins.'},
            bases=['Model'],
        ),
    ]
