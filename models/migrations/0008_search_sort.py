"""German sort keys and fast search (issue 12).

- A sort-key column per sortable name column (Contract firma/strasse/ort, Abo and Antrag nachname, PortalUser name),
  filled here for existing rows by the same `sort_key` that every save fills (models/searchable.py). On PostgreSQL the
  columns collate "C", so they compare bytewise like SQLite, whatever locale the database was created with.
- The contract's order indexes move from the raw name columns to the keys, and the Vertragsnummer gets its
  (vertragsnummer, id) index: the default order with "Aktive Verträge" off (PostgreSQL deep page 56-71 ms before).
- SQLite: an FTS5 trigram table over contract.search_text (external content, kept current by triggers), the
  counterpart of 0006's pg_trgm index; services/table_query.py searches through it.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

from models.searchable import SORT_KEY_LENGTH, sort_key


SORT_KEYS = {  # table -> ((column, key column), ...), as the models' SORT_KEYS
    'contract': (('firma', 'firma_sort'), ('strasse', 'strasse_sort'), ('ort', 'ort_sort')),
    'abo': (('nachname', 'nachname_sort'),),
    'antrag': (('nachname', 'nachname_sort'),),
    'portal_user': (('name', 'name_sort'),),
}
FTS_TABLES = ('contract',)  # see Searchable.FTS_TABLE
BATCH = 5_000


def _dialect(schema_editor) -> str:
    return schema_editor.client.capabilities.dialect


async def fill_sort_keys(apps, schema_editor) -> None:
    """Existing rows get their keys in batches of ids (keyset, so each batch is an index range)."""
    client = schema_editor.client
    postgres = _dialect(schema_editor) == 'postgres'
    for table, pairs in SORT_KEYS.items():
        if postgres:
            for _, key_column in pairs:
                await client.execute_script(
                    f'ALTER TABLE "{table}" ALTER COLUMN "{key_column}" TYPE VARCHAR({SORT_KEY_LENGTH}) COLLATE "C"'
                )
        columns = ', '.join(f'"{column}"' for column, _ in pairs)
        marks = [f'${n}' if postgres else '?' for n in range(1, len(pairs) + 2)]
        assignments = ', '.join(f'"{key}" = {mark}' for (_, key), mark in zip(pairs, marks, strict=False))
        update = f'UPDATE "{table}" SET {assignments} WHERE id = {marks[-1]}'
        last_id = 0
        while True:
            select = f'SELECT id, {columns} FROM "{table}" WHERE id > {marks[0]} ORDER BY id LIMIT {BATCH}'
            _, rows = await client.execute_query(select, [last_id])
            if not rows:
                break
            await client.execute_many(
                update, [[sort_key(row[column] or '') for column, _ in pairs] + [row['id']] for row in rows]
            )
            last_id = rows[-1]['id']


async def create_fts(apps, schema_editor) -> None:
    if _dialect(schema_editor) != 'sqlite':
        return
    for table in FTS_TABLES:
        fts = f'{table}_fts'
        # case_sensitive 1: search_text and the typed words are already case-folded by search_key, so the trigrams
        # compare exactly what LIKE compared (no second, different folding).
        await schema_editor.client.execute_script(f"""
            CREATE VIRTUAL TABLE {fts} USING fts5(
                search_text, content='{table}', content_rowid='id', tokenize='trigram case_sensitive 1');
            CREATE TRIGGER {fts}_insert AFTER INSERT ON "{table}" BEGIN
                INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text);
            END;
            CREATE TRIGGER {fts}_delete AFTER DELETE ON "{table}" BEGIN
                INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text);
            END;
            CREATE TRIGGER {fts}_update AFTER UPDATE OF search_text ON "{table}" BEGIN
                INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text);
                INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text);
            END;
            INSERT INTO {fts}({fts}) VALUES ('rebuild');
        """)


async def drop_fts(apps, schema_editor) -> None:
    if _dialect(schema_editor) != 'sqlite':
        return
    for table in FTS_TABLES:
        await schema_editor.client.execute_script(
            f'DROP TRIGGER IF EXISTS {table}_fts_insert; DROP TRIGGER IF EXISTS {table}_fts_delete; '
            f'DROP TRIGGER IF EXISTS {table}_fts_update; DROP TABLE IF EXISTS {table}_fts;'
        )


class Migration(migrations.Migration):
    dependencies = [('models', '0007_second_factor')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Abo',
            name='nachname_sort',
            field=fields.CharField(default='', db_default='', max_length=200),
        ),
        ops.AddField(
            model_name='Antrag',
            name='nachname_sort',
            field=fields.CharField(default='', db_default='', max_length=200),
        ),
        ops.AddField(
            model_name='Contract',
            name='firma_sort',
            field=fields.CharField(default='', db_default='', max_length=200),
        ),
        ops.AddField(
            model_name='Contract',
            name='ort_sort',
            field=fields.CharField(default='', db_default='', max_length=200),
        ),
        ops.AddField(
            model_name='Contract',
            name='strasse_sort',
            field=fields.CharField(default='', db_default='', max_length=200),
        ),
        ops.AddField(
            model_name='PortalUser',
            name='name_sort',
            field=fields.CharField(default='', db_default='', max_length=200),
        ),
        ops.RunPython(fill_sort_keys, ops.RunPython.noop),
        ops.RemoveIndex(
            model_name='Contract',
            name='ix_contract_firma',
            fields=None,
        ),
        ops.RemoveIndex(
            model_name='Contract',
            name='ix_contract_strasse',
            fields=None,
        ),
        ops.RemoveIndex(
            model_name='Contract',
            name='ix_contract_ort',
            fields=None,
        ),
        ops.RemoveIndex(
            model_name='Contract',
            name='ix_contract_status_firma',
            fields=None,
        ),
        ops.RemoveIndex(
            model_name='Contract',
            name='ix_contract_status_strasse',
            fields=None,
        ),
        ops.RemoveIndex(
            model_name='Contract',
            name='ix_contract_status_ort',
            fields=None,
        ),
        ops.AddIndex(
            model_name='Contract',
            index=Index(fields=['vertragsnummer', 'id'], name='ix_contract_vertragsnummer'),
        ),
        ops.AddIndex(
            model_name='Contract',
            index=Index(fields=['firma_sort', 'id'], name='ix_contract_firma_sort'),
        ),
        ops.AddIndex(
            model_name='Contract',
            index=Index(fields=['strasse_sort', 'id'], name='ix_contract_strasse_sort'),
        ),
        ops.AddIndex(
            model_name='Contract',
            index=Index(fields=['ort_sort', 'id'], name='ix_contract_ort_sort'),
        ),
        ops.AddIndex(
            model_name='Contract',
            index=Index(fields=['status', 'firma_sort', 'id'], name='ix_contract_status_firma_sort'),
        ),
        ops.AddIndex(
            model_name='Contract',
            index=Index(fields=['status', 'strasse_sort', 'id'], name='ix_contract_status_strasse_sort'),
        ),
        ops.AddIndex(
            model_name='Contract',
            index=Index(fields=['status', 'ort_sort', 'id'], name='ix_contract_status_ort_sort'),
        ),
        ops.RunPython(create_fts, drop_fts),
    ]
