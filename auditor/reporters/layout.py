"""Tables that never split a word: a table whose columns are each at least as wide as their longest
word (an ARN, a pointer, an action name), or, when those widths do not fit the terminal, one block per
row (its short cells on one line, its long cells below, indented), wrapped at spaces.

This module only chooses the layout (box or blocks) and the columns' widths; rich renders it (a
`rich.table.Table` with those widths, or a `rich.console.Group` of the blocks). The widths are chosen
here because rich shares a narrow width by shrinking the widest column first, folding an ARN in two,
and a column's min_width makes it print a table wider than the terminal, cut at the edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

INDENT = 4


@dataclass(frozen=True)
class Column:
    name: str
    body: bool = False  # in the block layout: on its own indented line(s) below the row's short cells


def longest_word(text: str) -> int:
    return max(map(len, text.split()), default=0)


def longest_line(text: str) -> int:
    return max(map(len, text.splitlines()), default=0)


def grid(title: Text, columns: Sequence[Column], rows: Sequence[Sequence[Text]], width: int) -> RenderableType:
    """The table to print in `width` columns: boxed when every column can be as wide as its longest
    word, else a block per row."""
    widths = column_widths(columns, rows, width)
    if widths is not None:
        table = Table(title=title, title_justify="left")
        for col, fixed in zip(columns, widths, strict=True):
            table.add_column(col.name, overflow="fold", width=fixed)
        for row in rows:
            table.add_row(*row)
        return table
    parts: list[RenderableType] = [title]
    for row in rows:
        parts.append(Text("  ").join(c for c, col in zip(row, columns, strict=True) if not col.body and c.plain))
        parts += [Padding(c, (0, 0, 0, INDENT), expand=False) for c, col in zip(row, columns, strict=True)
                  if col.body and c.plain]
    return Group(*parts)


def column_widths(columns: Sequence[Column], rows: Sequence[Sequence[Text]], width: int) -> list[int] | None:
    """The widths of a box table of these rows in `width` columns, or None when the longest words do not
    fit (blocks). Each column as wide as its longest line when that fits; else each at least its longest
    word, and the room left shared fairly: a column that needs little more gets it, the others split the
    rest."""
    texts = [[c.plain for c in row] for row in rows]
    words = [max([longest_word(col.name), *(longest_word(row[i]) for row in texts)]) for i, col in enumerate(columns)]
    room = width - (3 * len(columns) + 1)  # "│ " before each cell, " " after, and the last "│"
    if sum(words) > room:
        return None
    natural = [max([len(col.name), *(longest_line(row[i]) for row in texts)]) for i, col in enumerate(columns)]
    if sum(natural) <= room:
        return natural
    widths = list(words)
    spare = room - sum(words)
    waiting = sorted(range(len(columns)), key=lambda i: natural[i] - words[i])
    while waiting:
        share = spare // len(waiting)
        i = waiting.pop(0)
        extra = min(natural[i] - words[i], share) if waiting else min(natural[i] - words[i], spare)
        widths[i] += extra
        spare -= extra
    return widths
