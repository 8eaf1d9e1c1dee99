"""`Searchable`: a model keeps a `search_text` column, the search key of the columns its table shows, so that one
indexed column answers the table's search field (see services/table_query.py), and a German sort key per sortable
name column (`SORT_KEYS`), so that SQLite and PostgreSQL sort names the same, German way.

One mechanism keeps these key columns current, here and nowhere else: every way Tortoise writes a row of such a
model passes `_fill_keys`. `save()` (and so `create()`, `get_or_create()`) fills them before writing; the model's
manager hands out a `SearchableQuerySet`, whose `bulk_create` and `bulk_update` fill them for each object, and whose
`update()` of a column the keys are made of re-reads the rows it changed and writes their keys (it sees only the new
values, not the rows) and refuses to set a key column. A conditional write of one row ("only while still offen") is
`save_where`, one UPDATE. Services never name the key columns (tests/services/test_search_keys.py checks every
write path and greps for hand-made keys); migration 0016 fills them for rows written before.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Generator, Iterable
from typing import Any, ClassVar, cast

from tortoise.manager import Manager
from tortoise.models import Model
from tortoise.queryset import BulkCreateQuery, BulkUpdateQuery, QuerySet, UpdateQuery
from tortoise.transactions import in_transaction

SORT_KEY_LENGTH = 200
# Letters that carry no combining mark in Unicode but sort as Latin letters in German lists.
_LETTERS_WITHOUT_DECOMPOSITION = str.maketrans({'æ': 'ae', 'œ': 'oe', 'ø': 'o', 'đ': 'd', 'ł': 'l', 'þ': 'th'})


def search_key(text: str) -> str:
    """How stored and typed text are compared: NFC, case-folded ('Straße' = 'STRASSE')."""
    return unicodedata.normalize('NFC', text).casefold()


def sort_key(text: str) -> str:
    """DIN 5007 variant 1 as a plain string: case ignored, ß as ss, a letter with diacritics as its base letter
    (Ä = A, é = e). The key is compared bytewise (SQLite BINARY, PostgreSQL COLLATE "C"), so both databases order it
    alike and independently of their locale; equal keys ('Böhm', 'Bohm') fall back to the id."""
    decomposed = unicodedata.normalize('NFKD', text.casefold())
    base = ''.join(character for character in decomposed if not unicodedata.combining(character))
    return base.translate(_LETTERS_WITHOUT_DECOMPOSITION)[:SORT_KEY_LENGTH]


class Searchable:
    SEARCH_FIELDS: ClassVar[tuple[str, ...]]  # attributes (columns or properties) the search text is made of
    # The stored columns SEARCH_FIELDS and SORT_KEYS are computed from; empty: SEARCH_FIELDS and SORT_KEYS' sources
    # (a model whose SEARCH_FIELDS has properties names their columns here).
    SEARCH_COLUMNS: ClassVar[tuple[str, ...]] = ()
    SORT_KEYS: ClassVar[dict[str, str]] = {}  # sortable column -> the column holding its sort_key
    # SQLite: the FTS5 trigram table over search_text (migration 0008), '' for none. Only the contract table, which
    # staff search across every company, has one; the other lists are scoped to one contract or customer, whose rows
    # a LIKE reads faster than an FTS query collects a common word's matches of every company.
    FTS_TABLE: ClassVar[str] = ''
    search_text: str

    @classmethod
    def key_columns(cls) -> tuple[str, ...]:
        """The columns computed here: search_text and the sort keys."""
        return ('search_text', *cls.SORT_KEYS.values())

    @classmethod
    def source_columns(cls) -> frozenset[str]:
        """The stored columns the key columns are computed from."""
        return frozenset(cls.SEARCH_COLUMNS or cls.SEARCH_FIELDS) | frozenset(cls.SORT_KEYS)

    def _fill_keys(self) -> None:
        values = (getattr(self, name) for name in self.SEARCH_FIELDS)
        self.search_text = search_key(' '.join(str(value) for value in values if value not in (None, '')))
        for column, key_column in self.SORT_KEYS.items():
            setattr(self, key_column, sort_key(str(getattr(self, column) or '')))

    async def save(self, *args: Any, **kwargs: Any) -> None:
        self._fill_keys()
        if kwargs.get('update_fields') is not None:
            kwargs['update_fields'] = _with_keys(type(self), kwargs['update_fields'])
        await super().save(*args, **kwargs)  # type: ignore[misc]

    async def save_where(self, update_fields: Iterable[str], **conditions: Any) -> bool:
        """Write `update_fields` (and the keys) only if the row still matches `conditions`, in one UPDATE: the
        compare-and-set of a decision that two requests may make at once. False when the row no longer matches."""
        self._fill_keys()
        model = cast(type[Model], type(self))
        values = {column: getattr(self, column) for column in _with_keys(type(self), update_fields)}
        queryset = model.filter(pk=cast(Model, self).pk, **conditions)
        return bool(await QuerySet.update(queryset, **values))


def _with_keys(model: type[Searchable], fields: Iterable[str]) -> list[str]:
    """`fields` plus the key columns (all of them: which are stale is cheaper to rewrite than to find out)."""
    fields = list(fields)
    return [*fields, *(column for column in model.key_columns() if column not in fields)]


class SearchableQuerySet(QuerySet[Any]):
    """The bulk writes of a Searchable model, with the keys filled (see the module docstring)."""

    def _searchable(self) -> type[Searchable]:
        return cast(type[Searchable], self.model)

    def bulk_create(self, objects: Iterable[Any], batch_size: int | None = None, ignore_conflicts: bool = False,
                    update_fields: Iterable[str] | None = None,
                    on_conflict: Iterable[str] | None = None) -> BulkCreateQuery[Any]:
        # ≈18 µs an object (20,000 Anträge: 360 ms on this busy 2-core machine): the Massenupload writes batches of
        # 200, so a batch keeps the event loop ≈4 ms.
        objects = list(objects)
        for instance in objects:
            instance._fill_keys()
        if update_fields is not None:
            update_fields = _with_keys(self._searchable(), update_fields)
        return super().bulk_create(objects, batch_size, ignore_conflicts, update_fields, on_conflict)

    def bulk_update(self, objects: Iterable[Any], fields: Iterable[str],
                    batch_size: int | None = None) -> BulkUpdateQuery[Any]:
        objects, fields = list(objects), list(fields)
        if self._searchable().source_columns() & {*fields}:
            for instance in objects:
                instance._fill_keys()
            fields = _with_keys(self._searchable(), fields)
        return super().bulk_update(objects, fields, batch_size)

    def update(self, **kwargs: Any) -> UpdateQuery:
        model = self._searchable()
        if touched := sorted(set(model.key_columns()) & kwargs.keys()):
            raise TypeError(f'{self.model.__name__}.update({", ".join(touched)}): the search keys are computed '
                            '(models/searchable.py), never set')
        if model.source_columns() & kwargs.keys():
            return _KeysFollowingUpdate(self, kwargs)
        return super().update(**kwargs)


class _KeysFollowingUpdate(UpdateQuery):
    """A queryset update of columns the keys are made of: the UPDATE sees only the new values, not the rows, so the
    matching rows are locked and noted first (their ids: meant for the few rows a filter by id or status finds),
    updated, then read back and their keys written, in one transaction. Four statements instead of one: a service
    that changes one row it has read uses `save_where`."""

    __slots__ = ('_source',)

    def __init__(self, source: QuerySet[Any], kwargs: dict[str, Any]) -> None:
        super().__init__(model=source.model, update_kwargs=kwargs, db=source._db, q_objects=source._q_objects,
                         annotations=source._annotations, custom_filters=source._custom_filters,
                         limit=source._limit, orderings=source._orderings)
        self._source = source

    def __await__(self) -> Generator[Any, None, int]:
        return self._run().__await__()

    async def _run(self) -> int:
        self._choose_db_if_not_chosen(True)
        async with in_transaction(self._db.connection_name) as connection:
            ids = [row.pk for row in await self._source.using_db(connection).select_for_update().only('id')]
            self._db = connection
            self._make_query()
            count = await self._execute()
            model = self.model
            for start in range(0, len(ids), _REFILL_BATCH):
                rows = await model.filter(id__in=ids[start:start + _REFILL_BATCH]).using_db(connection)
                for row in rows:
                    row._fill_keys()
                if rows:
                    await QuerySet.bulk_update(model.filter().using_db(connection), rows,
                                               fields=list(cast(type[Searchable], model).key_columns()))
        return count


_REFILL_BATCH = 500


class SearchableManager(Manager):
    """The manager of a Searchable model (its Meta: `manager = SearchableManager()`)."""

    def get_queryset(self) -> QuerySet[Any]:
        return SearchableQuerySet(self._model)
