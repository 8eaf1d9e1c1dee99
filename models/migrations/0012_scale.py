"""SQLite only: a covering index (status, search_text) on contract, so that a search the FTS5 trigram table cannot
answer (words of 1–2 characters, or a common word counted up to its cap) reads the index instead of the whole rows.
At 100,000 contracts a rare 2-character word: 82 → 26 ms CPU with „Aktive Verträge“, 50 → 30 ms without
(services/table_query.py). PostgreSQL answers these through its pg_trgm GIN index and a sequential scan."""

from tortoise import migrations
from tortoise.migrations import operations as ops

INDEX = 'ix_contract_status_search_text'


def _is_sqlite(schema_editor) -> bool:
    return schema_editor.client.capabilities.dialect == 'sqlite'


async def create_index(apps, schema_editor) -> None:
    if _is_sqlite(schema_editor):
        await schema_editor.client.execute_script(
            f'CREATE INDEX IF NOT EXISTS {INDEX} ON "contract" ("status", "search_text")')


async def drop_index(apps, schema_editor) -> None:
    if _is_sqlite(schema_editor):
        await schema_editor.client.execute_script(f'DROP INDEX IF EXISTS {INDEX}')


class Migration(migrations.Migration):
    dependencies = [('models', '0011_invoices_sepa')]

    initial = False

    operations = [ops.RunPython(create_index, drop_index)]
