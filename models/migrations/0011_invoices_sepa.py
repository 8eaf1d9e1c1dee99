from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0009_billing')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Invoice',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('number', fields.CharField(unique=True, max_length=30)),
                ('run', fields.ForeignKeyField('models.BillingRun', source_field='run_id', db_constraint=True, to_field='id', related_name='invoices', on_delete=OnDelete.RESTRICT)),
                ('contract', fields.ForeignKeyField('models.Contract', source_field='contract_id', db_constraint=True, to_field='id', related_name='invoices', on_delete=OnDelete.RESTRICT)),
                ('issued_on', fields.DateField()),
                ('issuer', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('recipient', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('vat_percent', fields.IntField()),
                ('net_cent', fields.IntField()),
                ('vat_cent', fields.IntField()),
                ('rounding_cent', fields.IntField(default=0)),
                ('gross_cent', fields.IntField()),
                ('pdf', fields.BinaryField(null=True)),
            ],
            options={'table': 'invoice', 'app': 'models', 'unique_together': [('run_id', 'contract_id')], 'pk_attr': 'id', 'table_description': 'The invoice of a "(Rechnung)" contract for a closed month, issued when the month is closed. Number, date,'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InvoiceCounter',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('series', fields.CharField(unique=True, max_length=20)),
                ('last_number', fields.IntField(default=0)),
            ],
            options={'table': 'invoice_counter', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The last invoice number of one series (per issuer prefix). Taken with a row lock inside the transaction that'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SepaMandate',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('reference', fields.CharField(unique=True, max_length=35)),
                ('antrag', fields.OneToOneField('models.Antrag', source_field='antrag_id', db_constraint=True, to_field='id', related_name='mandate', on_delete=OnDelete.RESTRICT)),
                ('contract', fields.ForeignKeyField('models.Contract', source_field='contract_id', db_constraint=True, to_field='id', related_name='mandates', on_delete=OnDelete.RESTRICT)),
                ('kontoinhaber', fields.CharField(max_length=70)),
                ('iban', fields.CharField(max_length=34)),
                ('signed_on', fields.DateField()),
                ('consent_text', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sepa_mandate', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The SEPA direct-debit mandate given with an Antrag of a "(SEPA-Lastschrift)" contract: the account holder'},
            bases=['Model'],
        ),
    ]
