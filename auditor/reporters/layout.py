"""Tables that never split a word: a table whose columns are each at least as wide as their longest
word (an ARN, a pointer, an action name), or, when those widths do not fit the terminal, one block per
row (its short cells on one line, its long cells below, indented), wrapped at spaces.
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
    return max((len(word) for word in text.split()), default=0)


def grid(title: Text, columns: Sequence[Column], rows: Sequence[Sequence[Text]], width: int) -> RenderableType:
    words = [max([longest_word(col.name), *(longest_word(row[i].plain) for row in rows)]) for i, col in enumerate(columns)]
    borders = 3 * len(columns) + 1  # "│ " before each cell, " " after, and the last "│"
    if sum(words) + borders <= width:
        table = Table(title=title, title_justify="left")
        for col, fixed in zip(columns, _widths(columns, rows, words, width - borders), strict=True):
            table.add_column(col.name, overflow="fold", width=fixed)
        for row in rows:
            table.add_row(*row)
        return table
    parts: list[RenderableType] = [title]
    for row in rows:
        head = Text("  ").join(cell for cell, col in zip(row, columns, strict=True) if not col.body and cell.plain)
        parts.append(head)
        parts += [Padding(cell, (0, 0, 0, INDENT), expand=False) for cell, col in zip(row, columns, strict=True) if col.body and cell.plain]
    return Group(*parts)


def _widths(columns: Sequence[Column], rows: Sequence[Sequence[Text]], words: list[int], room: int) -> list[int]:
    """Each column as wide as its longest line when that fits; else each at least its longest word, and
    the room left shared fairly: a column that needs little more gets it, the others split the rest."""
    natural = [max([len(col.name), *(max((len(line) for line in row[i].plain.splitlines()), default=0) for row in rows)])
               for i, col in enumerate(columns)]
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
