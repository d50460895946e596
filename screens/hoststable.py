"""The Hosts screen's table: one row per host, updated in place, at any number of hosts.

DataTable's own `update_cell(..., update_width=True)` measures the whole column again whenever a
cell gets narrower than the column (every host going from "probing…" to "ready"): with 1,000
hosts prefilled that was millions of measurements and a screen frozen for most of a minute.
Here each column keeps a count of its cells' widths instead, so a changed cell costs one
measurement, and the column's width (its widest cell, or its label) is known at once; the
widths are applied once per batch of changes (`apply_widths`), not once per cell.

Rows are added in chunks, one chunk per frame, so a thousand new rows (which DataTable
measures when it is next idle) never hold the screen, and keys, for long."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence

from rich.text import Text
from textual.geometry import Size
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

Cell = Text | str
Cells = Sequence[Cell]
CHUNK = 50  # rows added per frame: more than a screen shows, little enough to stay responsive


def cell_width(value: Cell) -> int:
    """The width the table gives `value` (a `str` cell is read as markup)."""
    text = Text.from_markup(value) if isinstance(value, str) else value
    if "\n" not in text.plain:
        return text.cell_len
    return max(line.cell_len for line in text.split(allow_blank=True))


def same(a: object, b: object) -> bool:
    """Whether two cells show the same (Text's own == ignores the style)."""
    if isinstance(a, Text) and isinstance(b, Text):
        return a.plain == b.plain and a.style == b.style and a.spans == b.spans
    return a == b


class HostsTable(DataTable[Cell]):
    """A table of hosts keyed by their probe target, whose rows change in place.

    `cells_of(key)` gives a row's cells (None: the host is gone); a row still waiting for its
    chunk takes them when it is added, so it shows its host as it is then."""

    def __init__(self, columns: Sequence[str], cells_of: Callable[[str], Cells | None],
                 **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self._column_names = tuple(columns)
        self._cells_of = cells_of
        self._label_widths = [cell_width(c) for c in columns]
        # Per column: how many cells have each width. Per row: its cells' widths.
        self._counts: list[Counter[int]] = [Counter() for _ in columns]
        self._row_widths: dict[str, tuple[int, ...]] = {}
        self._waiting: deque[str] = deque()  # keys whose rows are added in the next chunks
        self._chunk_queued = False

    @property
    def filling(self) -> bool:
        """Rows are still waiting to be added."""
        return bool(self._waiting)

    def targets(self) -> list[str]:
        """The rows' keys (probe targets), top to bottom, those still waiting included."""
        return [str(row.key.value) for row in self.ordered_rows] + list(self._waiting)

    def has_row(self, key: str) -> bool:
        """The row is in the table (not waiting for its chunk)."""
        return RowKey(key) in self.rows

    def knows(self, key: str) -> bool:
        """The row is in the table or waiting for its chunk."""
        return self.has_row(key) or key in self._waiting

    def set_rows(self, keys: Iterable[str]) -> None:
        """Show exactly the rows of `keys`, in order: the first chunk now, the rest a chunk a
        frame."""
        if not self.columns:
            for name in self._column_names:
                self.add_column(name, key=name)
        self.clear()
        self._counts = [Counter() for _ in self._column_names]
        self._row_widths.clear()
        self._waiting = deque(keys)
        self._add_chunk()

    def add_host_row(self, key: str) -> None:
        """A new row at the bottom (after those still waiting)."""
        if self._waiting:
            self._waiting.append(key)
            return
        self._add(key)
        self.apply_widths()

    def update_host_row(self, key: str) -> None:
        """The row's cells replaced in place (no column is measured again); a row still
        waiting is left to take its cells when it is added."""
        cells = self._cells_of(key)
        if cells is None or not self.has_row(key):
            return
        old = self.get_row(key)
        for name, before, value in zip(self._column_names, old, cells, strict=True):
            if not same(value, before):  # each update is a refresh: only cells that changed
                self.update_cell(key, name, value)
        self._uncount(key)
        self._count(key, cells)

    def remove_host_row(self, key: str) -> None:
        if key in self._waiting:
            self._waiting.remove(key)
            return
        self.remove_row(key)
        self._uncount(key)
        self.apply_widths()

    def apply_widths(self) -> None:
        """Give each column the width of its widest cell (or its label), if that changed."""
        changed = False
        for column, label, counts in zip(self.ordered_columns, self._label_widths, self._counts,
                                         strict=True):
            want = max(label, max(counts, default=0))
            if column.content_width != want:
                column.content_width, changed = want, True
        if changed:
            # What DataTable's own re-measure would end with: the scrollable width follows.
            width = sum(c.get_render_width(self) for c in self.ordered_columns)
            self.virtual_size = Size(width, self.virtual_size.height)
            self.refresh()

    def _add_chunk(self) -> None:
        self._chunk_queued = False
        for _ in range(min(CHUNK, len(self._waiting))):
            self._add(self._waiting.popleft())
        self.apply_widths()
        if self._waiting and not self._chunk_queued:
            self._chunk_queued = True
            self.call_after_refresh(self._add_chunk)

    def _add(self, key: str) -> None:
        cells = self._cells_of(key)
        if cells is None:  # gone while its row waited: the screen's next check sees it
            return
        self.add_row(*cells, key=key)
        self._count(key, cells)

    def _count(self, key: str, cells: Cells) -> None:
        widths = tuple(cell_width(c) for c in cells)
        self._row_widths[key] = widths
        for counts, w in zip(self._counts, widths, strict=False):
            counts[w] += 1

    def _uncount(self, key: str) -> None:
        for counts, w in zip(self._counts, self._row_widths.pop(key, ()), strict=False):
            counts[w] -= 1
            if counts[w] <= 0:
                del counts[w]
