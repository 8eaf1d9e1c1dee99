from tortoise import migrations
from tortoise.migrations import operations as ops
from models.billing import LineKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0008_search_sort')]

    initial = False

    operations = [
        ops.CreateModel(
            name='BillingRun',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('monat', fields.DateField(unique=True)),
                ('closed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('closed_by', fields.CharField(default='', max_length=254)),
                ('line_count', fields.IntField(default=0)),
            ],
            options={'table': 'billing_run', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An Abrechnungslauf: the closed month `monat` (a 1st), stored once with its lines and never changed again.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BillingLine',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('run', fields.ForeignKeyField('models.BillingRun', source_field='run_id', db_constraint=True, to_field='id', related_name='lines', on_delete=OnDelete.RESTRICT)),
                ('contract', fields.ForeignKeyField('models.Contract', source_field='contract_id', db_constraint=True, to_field='id', related_name='billing_lines', on_delete=OnDelete.RESTRICT)),
                ('abo_id', fields.IntField()),
                ('leistungsmonat', fields.DateField()),
                ('art', fields.CharEnumField(default=LineKind.MONAT, description='MONAT: Monat\nKORREKTUR: Korrektur', enum_type=LineKind, max_length=20)),
                ('personalnummer', fields.CharField(default='', max_length=50)),
                ('vorname', fields.CharField(max_length=100)),
                ('nachname', fields.CharField(max_length=100)),
                ('ticketart', fields.CharField(max_length=20)),
                ('startmonat', fields.DateField()),
                ('endmonat', fields.DateField(null=True)),
                ('preis_cent', fields.IntField()),
                ('zuschuss_cent', fields.IntField()),
                ('rabatt_cent', fields.IntField()),
                ('eigenanteil_cent', fields.IntField()),
            ],
            options={'table': 'billing_line', 'app': 'models', 'indexes': [Index(fields=['run_id', 'contract_id']), Index(fields=['contract_id', 'abo_id', 'leistungsmonat'])], 'pk_attr': 'id', 'table_description': "One person's month in a closed Abrechnungslauf, with the figures as they were then. A correction of an earlier"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SubsidyChange',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contract', fields.ForeignKeyField('models.Contract', source_field='contract_id', db_constraint=True, to_field='id', related_name='subsidy_changes', on_delete=OnDelete.RESTRICT)),
                ('gueltig_ab', fields.DateField()),
                ('zuschuss_cent', fields.IntField()),
                ('created_by', fields.CharField(default='', max_length=254)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'subsidy_change', 'app': 'models', 'unique_together': [('contract_id', 'gueltig_ab')], 'pk_attr': 'id', 'table_description': "The employer's subsidy of a contract from the 1st of `gueltig_ab`'s month on (until its next change)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TariffBlock',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('gueltig_ab', fields.DateField(unique=True)),
                ('preis_cent', fields.IntField()),
                ('mindestzuschuss_prozent', fields.IntField()),
                ('rabatt_prozent', fields.IntField()),
                ('created_by', fields.CharField(default='', max_length=254)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'tariff_block', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One dated block of the Deutschlandticket Job rules (price, least employer share, discount), valid from the 1st'},
            bases=['Model'],
        ),
    ]
