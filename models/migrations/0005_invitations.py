from tortoise import migrations
from tortoise.migrations import operations as ops
from models.invitation import InvitationPurpose
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

from models.searchable import search_key

ROLE_LABELS = {'admin': 'Administrator', 'clerk': 'Sachbearbeitung', 'readonly': 'Nur lesen',
               'staff': 'Verkehrsunternehmen'}


async def fill_user_search_text(apps, schema_editor) -> None:
    """The search key of every existing portal user (name, e-mail, role, status), as PortalUser.save writes it."""
    client = schema_editor.client
    placeholder = '?' if client.capabilities.dialect == 'sqlite' else '$1'
    second = '?' if placeholder == '?' else '$2'
    _, rows = await client.execute_query('SELECT id, name, email, role, is_active, password_changed_at FROM portal_user')
    for row in rows:
        row = dict(row)
        if not row['is_active']:
            status = 'deaktiviert'
        else:
            status = 'eingeladen' if row['password_changed_at'] is None else 'aktiv'
        text = search_key(' '.join((row['name'], row['email'], ROLE_LABELS.get(row['role'], row['role']), status)))
        await client.execute_query(
            f'UPDATE portal_user SET search_text = {placeholder} WHERE id = {second}', [text, row['id']]
        )


class Migration(migrations.Migration):
    dependencies = [('models', '0004_uploads')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Invitation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.PortalUser', source_field='user_id', db_constraint=True, to_field='id', related_name='invitations', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('purpose', fields.CharEnumField(description='EINLADUNG: einladung\nPASSWORT: passwort', enum_type=InvitationPurpose, max_length=20)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_by', fields.ForeignKeyField('models.PortalUser', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='invitations_created', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'invitation', 'app': 'models', 'indexes': [Index(fields=['user_id', 'used_at'])], 'pk_attr': 'id', 'table_description': 'A one-time link that lets a portal user set a password: the invitation of a new Anwender or a password reset.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='PortalUser',
            name='search_text',
            field=fields.TextField(default='', db_default='', unique=False),
        ),
        ops.RunPython(fill_user_search_text, ops.RunPython.noop),
    ]
