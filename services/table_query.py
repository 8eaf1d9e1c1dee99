"""Server-side table machinery shared by every list in the portal: search, sort, count and page in the database.

A page asks for a `TableRequest` and gets a `TablePage`; only one page of rows ever leaves the database.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from math import ceil
from typing import Generic, TypeVar

from tortoise.expressions import Subquery
from tortoise.models import Model
from tortoise.queryset import QuerySet

from models.searchable import search_key
from services.validation import search_term

PAGE_SIZES = (10, 25, 50, 100)
MAX_SEARCH_LENGTH = 100

M = TypeVar('M', bound=Model)


@dataclass(frozen=True)
class TableRequest:
    search: str = ''
    sort: str = ''
    descending: bool = False
    page: int = 1
    page_size: int = PAGE_SIZES[0]

    def normalized(self, sortable: tuple[str, ...]) -> TableRequest:
        """The same request with every value forced into its allowed range (URLs can carry anything)."""
        return replace(
            self,
            search=search_term(self.search, MAX_SEARCH_LENGTH),
            sort=self.sort if self.sort in sortable else sortable[0],
            page=max(1, self.page),
            page_size=self.page_size if self.page_size in PAGE_SIZES else PAGE_SIZES[0],
        )


@dataclass(frozen=True)
class TablePage(Generic[M]):
    rows: list[M]
    total: int
    request: TableRequest

    @property
    def page_count(self) -> int:
        return max(1, ceil(self.total / self.request.page_size))

    @property
    def first(self) -> int:
        """1-based number of the first row shown ('angezeigt X bis …'), 0 when there is none."""
        return (self.request.page - 1) * self.request.page_size + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0


async def fetch_page(
    queryset: QuerySet[M], request: TableRequest, sortable: tuple[str, ...], search_field: str = 'search_text'
) -> TablePage[M]:
    """Filter by the search words (each must occur in `search_field`), count, clamp the page, then fetch one page.

    `search_field` holds the `search_key` of the shown columns, so one column answers a search over all of them,
    case-insensitively on SQLite and PostgreSQL alike (a scan of that column: fine at 100k rows, see bench/).
    """
    request = request.normalized(sortable)
    for word in search_key(request.search).split():
        queryset = queryset.filter(**{f'{search_field}__contains': word})
    total = await queryset.count()
    page_count = max(1, ceil(total / request.page_size))
    request = replace(request, page=min(request.page, page_count))
    direction = '-' if request.descending else ''
    ordering = (f'{direction}{request.sort}', f'{direction}id')
    # Page ids first (an index-only scan, even deep into the table), then just those rows: 54 → 13 ms on PostgreSQL
    # for a page 7,000 deep at 100k contracts.
    offset = (request.page - 1) * request.page_size
    page_ids = queryset.order_by(*ordering).offset(offset).limit(request.page_size).values('id')
    rows = await queryset.model.filter(id__in=Subquery(page_ids)).order_by(*ordering)
    return TablePage(rows=list(rows), total=total, request=request)
