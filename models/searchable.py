"""`Searchable`: a model keeps a `search_text` column, the search key of the columns its table shows, so that one
LIKE over one column answers the table's search field (see services/table_query.py)."""

from __future__ import annotations

import unicodedata
from typing import Any, ClassVar


def search_key(text: str) -> str:
    """How stored and typed text are compared: NFC, case-folded ('Straße' = 'STRASSE')."""
    return unicodedata.normalize('NFC', text).casefold()


class Searchable:
    SEARCH_FIELDS: ClassVar[tuple[str, ...]]
    search_text: str

    def refresh_search_text(self) -> None:
        """Call before bulk_create, which bypasses save()."""
        values = (getattr(self, name) for name in self.SEARCH_FIELDS)
        self.search_text = search_key(' '.join(str(value) for value in values if value not in (None, '')))

    async def save(self, *args: Any, **kwargs: Any) -> None:
        self.refresh_search_text()
        if kwargs.get('update_fields') is not None:
            kwargs['update_fields'] = list({*kwargs['update_fields'], 'search_text'})
        await super().save(*args, **kwargs)  # type: ignore[misc]
