"""`Searchable`: a model keeps a `search_text` column, the search key of the columns its table shows, so that one
indexed column answers the table's search field (see services/table_query.py), and a German sort key per sortable
name column (`SORT_KEYS`), so that SQLite and PostgreSQL sort names the same, German way."""

from __future__ import annotations

import unicodedata
from typing import Any, ClassVar

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
    SEARCH_FIELDS: ClassVar[tuple[str, ...]]
    SORT_KEYS: ClassVar[dict[str, str]] = {}  # sortable column -> the column holding its sort_key
    # SQLite: the FTS5 trigram table over search_text (migration 0008), '' for none. Only the contract table, which
    # staff search across every company, has one; the other lists are scoped to one contract or customer, whose rows
    # a LIKE reads faster than an FTS query collects a common word's matches of every company.
    FTS_TABLE: ClassVar[str] = ''
    search_text: str

    def refresh_search_text(self) -> None:
        """Fill `search_text` and the sort keys. Call before bulk_create and update(), which bypass save()."""
        values = (getattr(self, name) for name in self.SEARCH_FIELDS)
        self.search_text = search_key(' '.join(str(value) for value in values if value not in (None, '')))
        for column, key_column in self.SORT_KEYS.items():
            setattr(self, key_column, sort_key(str(getattr(self, column) or '')))

    async def save(self, *args: Any, **kwargs: Any) -> None:
        self.refresh_search_text()
        if kwargs.get('update_fields') is not None:
            kwargs['update_fields'] = list({*kwargs['update_fields'], 'search_text', *self.SORT_KEYS.values()})
        await super().save(*args, **kwargs)  # type: ignore[misc]
