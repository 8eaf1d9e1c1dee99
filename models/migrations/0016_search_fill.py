"""The search column and the German sort keys of every existing row, computed by the models' own rule
(`Searchable._fill_keys`, models/searchable.py), on SQLite and PostgreSQL (issue 13).

Why: 0003 added `search_text` to antrag and abo with an empty default and filled nothing, so the Anträge and Abos of
a database older than 0003 could not be found by any search word after the upgrade; and a row written by a path that
bypassed save() before the keys had one mechanism may carry stale keys. Rows are read in batches of ids (keyset, a
bounded batch in memory), and only rows whose keys differ are written: an up-to-date database is read once and left
as it was (on SQLite every write of contract.search_text also rewrites its FTS5 trigrams, migration 0008).

The columns each table's keys are made of are written down here as they are at this migration (the models' SEARCH_FIELDS
and SORT_KEYS, PortalUser's SEARCH_COLUMNS): a later migration that changes them fills again.
"""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

from models.abo import Abo
from models.antrag import Antrag
from models.contract import Contract
from models.searchable import Searchable
from models.user import PortalUser

SOURCES: tuple[tuple[type[Searchable], tuple[str, ...]], ...] = (
    (Contract, ('vertragsnummer', 'firma', 'strasse', 'plz', 'ort', 'produktangebot', 'status')),
    (Antrag, ('reference', 'vorname', 'nachname', 'personalnummer', 'email', 'ticketart', 'status')),
    (Abo, ('vorname', 'nachname', 'personalnummer', 'ticketart', 'status')),
    (PortalUser, ('name', 'email', 'role', 'is_active', 'password_changed_at')),
)
BATCH = 2_000


def _stale_keys(model: Any, sources: tuple[str, ...], keys: tuple[str, ...], rows: list[Any]) -> list[list[Any]]:
    """[new key values..., id] of each row whose stored keys differ from the computed ones."""
    fields = model._meta.fields_map
    changes = []
    for row in rows:
        values = dict(row)
        instance = model.__new__(model)  # not __init__: only the columns the keys are made of, as Python values
        for name in sources:
            object.__setattr__(instance, name, fields[name].to_python_value(values[name]))
        instance._fill_keys()
        computed = [getattr(instance, key) for key in keys]
        if computed != [values[key] for key in keys]:
            changes.append([*computed, values['id']])
    return changes


async def fill_search_keys(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    postgres = client.capabilities.dialect == 'postgres'
    for model, sources in SOURCES:
        table = model._meta.db_table  # type: ignore[attr-defined]
        keys = model.key_columns()
        marks = [f'${n}' if postgres else '?' for n in range(1, len(keys) + 2)]
        assignments = ', '.join(f'"{key}" = {mark}' for key, mark in zip(keys, marks, strict=False))
        update = f'UPDATE "{table}" SET {assignments} WHERE id = {marks[-1]}'
        columns = ', '.join(f'"{column}"' for column in ('id', *sources, *keys))
        select = f'SELECT {columns} FROM "{table}" WHERE id > {marks[0]} ORDER BY id LIMIT {BATCH}'
        last_id = 0
        while True:
            _, rows = await client.execute_query(select, [last_id])
            if not rows:
                break
            if changes := _stale_keys(model, sources, keys, list(rows)):
                await client.execute_many(update, changes)
            last_id = rows[-1]['id']


class Migration(migrations.Migration):
    dependencies = [('models', '0015_status')]

    initial = False

    operations = [ops.RunPython(fill_search_keys, ops.RunPython.noop)]
