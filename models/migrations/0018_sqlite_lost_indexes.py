"""SQLite only: the indexes the models declare that earlier migrations lost on SQLite, where an AlterField rebuilds
the table (copy, drop, rename) without recreating its indexes (0007 session, 0013 antrag and invitation, 0014
upload). PostgreSQL alters in place and has them all; the names are the ones Tortoise gave them there.

Found by the company Dashboard (issue 12): its open Anträge were counted by reading every Antrag with its contract
(no index on antrag.contract_id): at 100,000 contracts with 2,000 Anträge 8 ms CPU, with the index 0.5 ms; the
table grows with every Antrag ever made."""

from tortoise import migrations
from tortoise.migrations import operations as ops

INDEXES = {
    'idx_antrag_contrac_6f6fc2': 'antrag (contract_id, status, created_at)',
    'idx_antrag_contrac_8acf0b': 'antrag (contract_id, person_key, status)',
    'idx_invitation_user_id_6bc325': 'invitation (user_id, used_at)',
    'idx_invitation_employe_c68a24': 'invitation (employee_id, used_at)',
    'idx_session_user_id_6ba2f1': 'session (user_id, ended_at)',
    'idx_upload_contrac_070e35': 'upload (contract_id, created_at)',
}


def _is_sqlite(schema_editor) -> bool:
    return schema_editor.client.capabilities.dialect == 'sqlite'


async def create_indexes(apps, schema_editor) -> None:
    if _is_sqlite(schema_editor):
        await schema_editor.client.execute_script(
            ' '.join(f'CREATE INDEX IF NOT EXISTS {name} ON {on};' for name, on in INDEXES.items()))


async def drop_indexes(apps, schema_editor) -> None:
    """Nothing: the models declare these indexes since before this migration."""


class Migration(migrations.Migration):
    dependencies = [('models', '0017_dashboard_counts')]

    initial = False

    operations = [ops.RunPython(create_indexes, drop_indexes)]
