"""Server-side table machinery shared by every list in the portal: search, sort, count and page in the database.

A page asks for a `TableRequest` and gets a `TablePage`; only one page of rows ever leaves the database.

- Search: every typed word must occur in the row's `search_text` (case-folded by `search_key`): a word of 3 or more
  characters anywhere, one of 1–2 characters at the start of a word (`word_condition`). First the database is asked
  for the matches without an order, stopping after PROBE + 1 (through a trigram index: SQLite FTS5 `contract_fts`
  for the longer words, PostgreSQL pg_trgm GIN for all; the SQLite FTS5 trigram index cannot serve 1–2 characters,
  those are a LIKE). At most PROBE matches (SQLite FTS5: FTS_PROBE): the page and the count read just
  those. More: the words are a LIKE filter on the rows read in the page's own index order, which finds a page of a
  common word early.
- Count: at most COUNT_CAP + 1 matching rows are counted (a search with more than PROBE matches: PROBE + 1); above
  that the page says „mehr als 10.000“ („mehr als 2.000“) and pages through the first COUNT_CAP (PROBE) rows (the
  rest by reversing the order or narrowing the search).
- Sort: a column with a German sort key (the model's SORT_KEYS) orders by that key, everywhere else by the column.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from math import ceil
from typing import Generic, TypeVar

from pypika_tortoise.context import SqlContext
from pypika_tortoise.terms import Term, ValueWrapper
from tortoise.expressions import Expression, Q, Subquery
from tortoise.models import Model
from tortoise.queryset import QuerySet

from models.searchable import search_key
from services.validation import search_term

PAGE_SIZES = (10, 25, 50, 100)
MAX_SEARCH_LENGTH = 100
COUNT_CAP = 10_000
TRIGRAM = 3  # a trigram index finds words of at least this many characters
PROBE = 2_000  # up to this many matches a search reads them by id; above, along the order (see _searched)
FTS_PROBE = COUNT_CAP  # SQLite: up to this many FTS5 matches the search reads them from the FTS5 table
WORD_SEPARATORS = (' ', '-', '/')  # what begins a word inside a search text, besides its beginning

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


def format_count(number: int) -> str:
    """German digit grouping: 10000 -> '10.000'."""
    return f'{number:,}'.replace(',', '.')


@dataclass(frozen=True)
class TablePage(Generic[M]):
    rows: list[M]
    total: int  # exact, or COUNT_CAP when `more` (then more than COUNT_CAP rows match)
    request: TableRequest
    more: bool = False

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

    @property
    def summary(self) -> str:
        """The table footer: 'angezeigt 1 bis 10 von 36 Einträge', '… von mehr als 10.000 Einträge'."""
        total = f'mehr als {format_count(self.total)}' if self.more else format_count(self.total)
        return f'angezeigt {format_count(self.first)} bis {format_count(self.last)} von {total} Einträge'

    @property
    def limit_note(self) -> str:
        """Why the pager ends at COUNT_CAP rows, and how to reach the others; '' when every row is reachable."""
        if not self.more:
            return ''
        return (f'Geblättert werden die ersten {format_count(self.total)} Einträge: für die übrigen die Sortierung '
                'umkehren oder die Suche eingrenzen.')


class _TrigramMatch(Term):
    """`(SELECT rowid FROM <fts> WHERE <fts> MATCH ?)`: SQLite's FTS5 trigram index of search_text; each word is
    an FTS phrase, which the trigram tokenizer matches as a substring (the words are ANDed)."""

    def __init__(self, fts: str, words: list[str]) -> None:
        super().__init__()
        self.fts = fts
        self.query = ' '.join('"' + word.replace('"', '""') + '"' for word in words)

    def get_sql(self, ctx: SqlContext) -> str:
        return f'(SELECT rowid FROM "{self.fts}" WHERE "{self.fts}" MATCH {ValueWrapper(self.query).get_sql(ctx)})'


def _trigram_words(queryset: QuerySet[M], words: list[str], search_field: str) -> tuple[str, list[str]]:
    """(the model's SQLite FTS5 table, the words it can find) or ('', []) where there is none."""
    fts = getattr(queryset.model, 'FTS_TABLE', '') if search_field == 'search_text' else ''
    if not fts or queryset.model._meta.db.capabilities.dialect != 'sqlite':
        return '', []
    return fts, [word for word in words if len(word) >= TRIGRAM]


def word_condition(word: str, search_field: str, substring_first: bool = False) -> Q:
    """A word of TRIGRAM characters or more occurs anywhere; a shorter one starts a word (at the beginning, or after
    a space, '-' or '/' of the search text), unless it begins with such a sign itself. „ka“ finds Kassel and
    Karlsruhe, not every „Bäckerei“: typing the first letters is what a short search means, and a word start is what
    PostgreSQL's trigram index can find (its padded trigram " ka"), where a short substring has to read every row:
    at 100,000 contracts „qx“ took 56–84 ms as a substring (a scan), 0.05 ms as a word start (the GIN index).
    `substring_first` (SQLite, which scans for short words anyway): the one substring LIKE first, so the four
    word-start LIKEs run only on the rows that contain the word (100,000 rows: 35 → 15 ms; the substring alone 11)."""
    contains = Q(**{f'{search_field}__contains': word})
    if len(word) >= TRIGRAM or not word[0].isalnum():
        return contains
    starts = Q(**{f'{search_field}__startswith': word})
    for separator in WORD_SEPARATORS:
        starts |= Q(**{f'{search_field}__contains': separator + word})
    return contains & starts if substring_first else starts


def _containing(queryset: QuerySet[M], words: list[str], search_field: str) -> QuerySet[M]:
    sqlite = queryset.model._meta.db.capabilities.dialect == 'sqlite'
    for word in words:
        queryset = queryset.filter(word_condition(word, search_field, substring_first=sqlite))
    return queryset


async def _searched(queryset: QuerySet[M], search: str, search_field: str) -> tuple[QuerySet[M], int, bool]:
    """(rows whose `search_field` contains every word, in the form the database answers fastest; how many of them to
    count at most; whether the probe found more than that already). Each probe asks without an order and with a
    LIMIT, so the database stops at the first rows past it.

    - SQLite with an FTS5 table: at most FTS_PROBE rows match the trigram words: those rows (the FTS5 table, then the
      shorter words and the other filters on them), counted up to COUNT_CAP. More: a substring filter (below),
      counted up to PROBE.
    - Otherwise at most PROBE rows match (PostgreSQL: the GIN trigram index serves the LIKE; 1–2 characters: one
      scan): those ids, so the count and the order read only them. More: a substring filter, which the page reads
      along the order's index, stopping after one page (a common word matches every few rows); the count is
      „mehr als 2.000“ without another query.
    A search matching more than PROBE rows is counted only up to PROBE: counting a common word's 10,001 matches read
    20,000–30,000 rows (PostgreSQL 60–130 ms at 100,000 contracts), and nobody pages through 2,000 search hits.
    At 100,000 contracts the search that let the database combine the trigram index with the order took up to
    216 ms (SQLite: every FTS5 match of "gmbh" collected, then filtered and sorted) and 1,028 ms (PostgreSQL)."""
    words = search_key(search).split()
    if not words:
        return queryset, COUNT_CAP, False
    fts, indexed = _trigram_words(queryset, words, search_field)
    if indexed:
        match = _TrigramMatch(fts, indexed)
        _, rows = await queryset.model._meta.db.execute_query(
            f'SELECT COUNT(*) AS n FROM (SELECT rowid FROM "{fts}" WHERE "{fts}" MATCH ? LIMIT {FTS_PROBE + 1})',
            [match.query])
        if rows[0]['n'] <= FTS_PROBE:
            shorter = [word for word in words if word not in indexed]
            return _containing(queryset.filter(id__in=match), shorter, search_field), COUNT_CAP, False
        return _containing(queryset, words, search_field), PROBE, False
    ids = list(await _containing(queryset, words, search_field).limit(PROBE + 1).values_list('id', flat=True))
    if len(ids) <= PROBE:
        return queryset.filter(id__in=ids), COUNT_CAP, False
    return _containing(queryset, words, search_field), PROBE, True


async def _capped_count(queryset: QuerySet[M], cap: int) -> tuple[int, bool]:
    """(count, more): the number of rows, reading at most cap + 1 of them (an exact count of 70,000 matches costs
    more than the page it describes); more=True when there are more than cap.
    `SELECT COUNT(*) FROM (… LIMIT n)`: the former `COUNT(*) … WHERE id IN (… LIMIT n)` stored the ids first (SQLite:
    30 ms CPU for 10,001 ids of 100,000 contracts)."""
    capped = queryset.order_by().limit(cap + 1).values('id')
    capped._choose_db_if_not_chosen()
    capped._make_query()
    sql, values = capped.query.get_parameterized_sql()
    _, rows = await queryset.model._meta.db.execute_query(f'SELECT COUNT(*) AS n FROM ({sql}) AS capped', values)
    count = rows[0]['n']
    return (cap, True) if count > cap else (count, False)


async def fetch_page(
    queryset: QuerySet[M], request: TableRequest, sortable: tuple[str, ...], search_field: str = 'search_text',
    computed: dict[str, Expression] | None = None,
) -> TablePage[M]:
    """Filter by the search words (each must occur in `search_field`), count (capped), clamp the page, then fetch one
    page in the requested order (German sort keys for names).

    `search_field` holds the `search_key` of the shown columns, so one column answers a search over all of them,
    case-insensitively on SQLite and PostgreSQL alike. `computed` sorts a column by a SQL expression instead of a
    stored one (the Abo status, derived from dates and today: services/abo_status.py).
    """
    request = request.normalized(sortable)
    queryset, cap, over_cap = await _searched(queryset, request.search, search_field)
    total, more = (cap, True) if over_cap else await _capped_count(queryset, cap)
    page_count = max(1, ceil(total / request.page_size))
    request = replace(request, page=min(request.page, page_count))
    direction = '-' if request.descending else ''
    column = getattr(queryset.model, 'SORT_KEYS', {}).get(request.sort, request.sort)
    order_by: dict[str, Expression] = {}
    if computed and request.sort in computed:
        column = f'{request.sort}_order'
        order_by = {column: computed[request.sort]}
        queryset = queryset.annotate(**order_by)
    ordering = (f'{direction}{column}', f'{direction}id')
    # Page ids first (an index-only scan, even deep into the table), then just those rows: 54 → 13 ms on PostgreSQL
    # for a page 7,000 deep at 100k contracts.
    offset = (request.page - 1) * request.page_size
    limit = min(request.page_size, total - offset) if more else request.page_size  # a capped pager ends at the cap
    page_ids = queryset.order_by(*ordering).offset(offset).limit(limit).values('id')
    rows = await queryset.model.filter(id__in=Subquery(page_ids)).annotate(**order_by).order_by(*ordering)
    return TablePage(rows=list(rows), total=total, request=request, more=more)
