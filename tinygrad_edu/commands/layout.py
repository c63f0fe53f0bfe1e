"""Tables that fit the terminal without cutting a word.

When a Rich table is wider than the console, Rich narrows its widest columns first, down past the
longest word of a header or a cell, and the word is then cut with "…" (``basketb…``, ``+0.00…``)
although a fairer split would fit every word. `fitted` lays the columns out that fairer way before
the table is drawn: every column gets at least its longest word, and what is left is shared out in
proportion to how much more each column would like. When the longest words cannot fit side by side
between the table's rules, the table is drawn compact instead (no vertical rules, one space between
columns); only when even that is too wide is the table left to Rich.

    console.print(fitted(table))          # at any width: 80 columns as well as 200
"""
from __future__ import annotations

from rich import box
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.table import Table

__all__ = ["fitted"]


class fitted:
    """A renderable that lays out ``renderable``'s columns to the width it is drawn at (if it is a Table
    whose column widths were not set by hand; anything else is drawn as it is)."""

    def __init__(self, renderable):
        self.renderable = renderable
        self.widths = [column.width for column in renderable.columns] if isinstance(renderable, Table) else None
        if self.widths is not None:
            self.style = _style(renderable)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.widths is not None and all(width is None for width in self.widths):
            table = self.renderable
            for column in table.columns:        # drawn again (an export): lay out afresh
                column.width = None
            _restyle(table, self.style)
            if not _fit(table, console, options):
                _restyle(table, _COMPACT)
                if not _fit(table, console, options):
                    _restyle(table, self.style)
        yield self.renderable

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.renderable)


_COMPACT = {"box": box.SIMPLE_HEAD, "show_edge": False, "padding": (0, 0), "pad_edge": False,
            "collapse_padding": False}


def _style(table: Table) -> dict:
    return {name: getattr(table, name) for name in _COMPACT}


def _restyle(table: Table, style: dict) -> None:
    for name, value in style.items():
        setattr(table, name, value)


def _fit(table: Table, console: Console, options: ConsoleOptions) -> bool:
    """Set the column widths so that every word fits; False when the longest words alone are too wide."""
    columns = table.columns
    if not columns:
        return True
    spare = options.max_width - _overhead(table)
    ranges = []
    for column in columns:
        parts = [column.header, *column.cells]
        measured = [Measurement.get(console, options.update_width(max(spare, 1)), part) for part in parts]
        least = max([m.minimum for m in measured] + [column.min_width or 0])
        most = max([m.maximum for m in measured] + [least])
        if column.no_wrap:
            least = most                         # a column that must not wrap needs its widest line
        ranges.append((least, most))
    if sum(least for least, _ in ranges) > spare:
        return False
    if sum(most for _, most in ranges) <= spare:
        return True                              # fits as it is
    room = spare - sum(least for least, _ in ranges)
    wants = [most - least for least, most in ranges]
    total_wants = sum(wants)
    widths = [least + room * want // total_wants for (least, _), want in zip(ranges, wants)]
    leftover = spare - sum(widths)
    for index in sorted(range(len(widths)), key=lambda i: wants[i], reverse=True)[:leftover]:
        widths[index] += 1                       # the rounding's remainder to the hungriest columns
    for column, width in zip(columns, widths):
        column.width = width
    return True


def _overhead(table: Table) -> int:
    """The cells a table spends on borders and padding, not on content."""
    count = len(table.columns)
    _, right, _, left = table.padding
    padding = 0
    for index in range(count):
        pad_left, pad_right = left, right
        if not table.pad_edge:
            pad_left = 0 if index == 0 else pad_left
            pad_right = 0 if index == count - 1 else pad_right
        if table.collapse_padding and index > 0:
            pad_left = max(0, pad_left - right)
        padding += pad_left + pad_right
    if table.box is None:
        return padding
    return padding + (count - 1) + (2 if table.show_edge else 0)
