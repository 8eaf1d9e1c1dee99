"""`ServerTable`: a Quasar table whose rows come page by page from a service (see services/table_query.py).

Sorting is Quasar's own header click (in server mode), paging and page size are in the footer; every change asks the
service for exactly one page and reports the new state, so the page can keep it in the URL.

Below 600 px (a phone) only the columns marked `on_phone` are drawn, next to the row menu: the contract table was
809 px wide on a 390 px phone with its row menu off-screen; with Vertragsnummer, Firma and Status it fits 320 px.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from nicegui import events, ui

from pages.components import Table
from services.table_query import PAGE_SIZES, TablePage, TableRequest
from services.validation import parse_id

PHONE_HIDDEN = 'gt-xs'
# Narrower cells on phones, so the key columns and the menu share 320 px (Quasar's cells have 16 px at each side,
# and a long company name would not break).
PHONE_CSS = '''
@media (max-width: 599.98px) {
  .server-table .q-table th, .server-table .q-table td { padding-left: 4px; padding-right: 4px; }
  .server-table .q-table td { overflow-wrap: anywhere; }
}
'''


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    sortable: bool = True
    align: str = 'left'
    on_phone: bool = False  # a key column, kept below 600 px; the others are hidden there (Quasar's `gt-xs`)

    def as_quasar(self) -> dict[str, Any]:
        hidden_on_phone = '' if self.on_phone else PHONE_HIDDEN
        return {'name': self.name, 'label': self.label, 'field': self.name, 'sortable': self.sortable,
                'align': self.align, 'classes': hidden_on_phone, 'headerClasses': hidden_on_phone}


@dataclass(frozen=True)
class RowAction:
    """An entry of the row's drop-down menu; choosing it emits `event` with the row. With `badge`, the row's value
    of that name shows as a count on the entry and next to the menu button (e.g. open Anträge); with `show_if`, the
    entry appears only in rows whose value of that name is true (e.g. 'Deaktivieren' only for active users)."""

    label: str
    icon: str
    event: str
    badge: str = ''
    show_if: str = ''


def event_row(event: events.GenericEventArguments) -> dict[str, Any] | None:
    """The row a menu entry was chosen for, its id checked with `parse_id` (an event carries whatever the browser
    sends: a string, a float, an id beyond the database's range); None when there is no valid id."""
    row = event.args if isinstance(event.args, dict) else {}
    row_id = parse_id(row.get('id'))
    return None if row_id is None else {**row, 'id': row_id}


def selected_ids(table: ui.table) -> list[int]:
    """The valid ids of the selected rows (the selection, too, comes back from the browser)."""
    return [row_id for row in table.selected if (row_id := parse_id(row.get('id'))) is not None]


def _badge(action: RowAction, classes: str) -> str:
    if not action.badge:
        return ''
    return (f'<q-badge v-if="props.row.{action.badge}" color="accent" text-color="black" class="{classes}" '
            f':label="props.row.{action.badge}" :aria-label="props.row.{action.badge} + \' {action.label} offen\'" />')


def _condition(action: RowAction) -> str:
    return f'v-if="props.row.{action.show_if}" ' if action.show_if else ''


def _actions_template(actions: tuple[RowAction, ...]) -> str:
    """The row's drop-down: a menu of menuitems (arrow keys and focus in pages/a11y.js). Quasar teleports the popup
    to <body>, outside every landmark, so the popup is a non-modal dialog named like its button, holding the menu."""
    items = ''.join(
        f'<q-item {_condition(action)}clickable v-close-popup role="menuitem" '
        f'@click="() => $parent.$emit(\'{action.event}\', props.row)">'
        f'<q-item-section avatar><q-icon name="{action.icon}" color="primary" /></q-item-section>'
        f'<q-item-section>{action.label}</q-item-section>'
        f'<q-item-section side>{_badge(action, "")}</q-item-section></q-item>'
        for action in actions
    )
    return (
        '<q-td :props="props" auto-width><div class="row no-wrap items-center justify-end">'
        + ''.join(_badge(action, 'q-mr-xs') for action in actions)
        + '<q-btn flat round dense icon="arrow_drop_down_circle" color="primary" aria-haspopup="menu" '
        ':aria-label="\'Aktionen für \' + props.row.label">'
        '<q-menu anchor="bottom right" self="top right" role="dialog" '
        ':aria-label="\'Aktionen für \' + props.row.label">'
        '<q-list role="menu" style="min-width: 200px" :aria-label="\'Aktionen für \' + props.row.label">'
        f'{items}</q-list></q-menu></q-btn></div></q-td>'
    )


HEADER_CELL = '''
<q-th :props="props" :aria-sort="props.col.ariaSort">
  <button v-if="props.col.sortable" type="button" class="sort-header">{{ props.col.label }}</button>
  <span v-else-if="props.col.label">{{ props.col.label }}</span>
  <span v-else class="sr-only">{{ props.col.hiddenLabel }}</span>
</q-th>
'''
"""Sortable headers are buttons (Tab, Enter, Space; the click reaches Quasar's header, which sorts) and the sorted
one says aria-sort; a column without a visible label (the row menu) still has a name for screen readers."""
HEADER_SELECTION = '''
<q-checkbox v-model="props.selected" dense aria-label="Alle Zeilen dieser Seite auswählen" />
'''
BODY_SELECTION = '''
<q-checkbox v-model="props.selected" dense :aria-label="props.row.label + ' auswählen'" />
'''


class ServerTable:
    def __init__(
        self,
        *,
        columns: tuple[Column, ...],
        fetch: Callable[[TableRequest], Awaitable[TablePage[Any]]],
        to_row: Callable[[Any], dict[str, Any]],
        request: TableRequest,
        on_change: Callable[[TableRequest], None],
        empty_text: str,
        actions: tuple[RowAction, ...] = (),
        selectable: bool = False,
    ) -> None:
        self._fetch = fetch
        self._to_row = to_row
        self._on_change = on_change
        self.request = request
        quasar_columns = [column.as_quasar() for column in columns]
        if actions:
            quasar_columns.append({'name': 'aktionen', 'label': '', 'hiddenLabel': 'Aktionen', 'field': 'id',
                                   'align': 'right'})
        self._columns = quasar_columns
        self.table = Table(
            rows=[], columns=quasar_columns, row_key='id', pagination=self._pagination(0),
            selection='multiple' if selectable else None,
        ).props(
            'flat hide-bottom binary-state-sort wrap-cells'
        ).classes('w-full server-table')
        ui.add_css(PHONE_CSS)
        self.table.on('request', self._on_request)
        self.table.add_slot('header-cell', HEADER_CELL)
        if selectable:
            self.table.add_slot('header-selection', HEADER_SELECTION)
            self.table.add_slot('body-selection', BODY_SELECTION)
        if actions:
            self.table.add_slot('body-cell-aktionen', _actions_template(actions))
        self.empty = ui.row().classes('w-full justify-center items-center q-pa-lg muted gap-2')
        with self.empty:
            ui.icon('search_off', size='sm')
            ui.label(empty_text)
        with ui.row().classes('w-full items-center q-px-sm gap-4'):
            with ui.column().classes('gap-0'):
                self.summary = ui.label().classes('muted text-sm').props('aria-live=polite')
                self.limit_note = ui.label().classes('muted text-xs')
            ui.space()
            self.page_size = ui.select(
                list(PAGE_SIZES), value=request.page_size if request.page_size in PAGE_SIZES else PAGE_SIZES[0],
                label='Einträge pro Seite',
                on_change=lambda e: self.update(page_size=e.value, page=1),
            ).props('dense outlined options-dense').classes('w-36')
            self.pager = ui.pagination(
                1, 1, value=1, direction_links=True, on_change=lambda e: self._page_changed(e.value)
            ).props('max-pages=7 boundary-numbers')

    def _pagination(self, total: int) -> dict[str, Any]:
        return {
            'page': self.request.page, 'rowsPerPage': self.request.page_size, 'sortBy': self.request.sort or None,
            'descending': self.request.descending, 'rowsNumber': total,
        }

    def _sorted(self, column: dict[str, Any]) -> dict[str, Any]:
        if column['name'] != self.request.sort:
            return {**column, 'ariaSort': None}
        return {**column, 'ariaSort': 'descending' if self.request.descending else 'ascending'}

    async def _on_request(self, event: events.GenericEventArguments) -> None:
        """Quasar asks for data when a header is clicked; only a new sort order needs a new page (paging is ours)."""
        pagination = event.args.get('pagination', {}) if isinstance(event.args, dict) else {}
        sort, descending = pagination.get('sortBy') or '', bool(pagination.get('descending'))
        if (sort, descending) != (self.request.sort, self.request.descending):
            await self.update(sort=sort, descending=descending, page=1)

    async def _page_changed(self, page: int) -> None:
        if page != self.request.page:
            await self.update(page=page)

    async def update(self, **changes: Any) -> None:
        """Apply changes to the request (search, sort, page…), fetch that page and redraw."""
        self.request = replace(self.request, **changes)
        await self.refresh()
        self._on_change(self.request)

    async def refresh(self) -> None:
        """Fetch the page and send only what changed: the rows are most of a page's bytes, and a search that finds
        the rows already shown need not send them again."""
        page = await self._fetch(self.request)
        self.request = page.request
        rows = [self._to_row(row) for row in page.rows]
        if rows != self.table.rows:
            self.table.rows = rows
        if self.table.selected:
            self.table.selected = []
        self.table.pagination = self._pagination(page.total)  # components.Table sends a changed one only
        columns = [self._sorted(column) for column in self._columns]
        if columns != self.table.columns:
            self.table.columns = columns
        self.table.visible = page.total > 0
        self.empty.visible = page.total == 0
        self.summary.text = page.summary
        self.limit_note.text = page.limit_note
        self.limit_note.visible = bool(page.limit_note)
        self.pager.max = page.page_count
        self.pager.value = page.request.page
        self.page_size.value = page.request.page_size
