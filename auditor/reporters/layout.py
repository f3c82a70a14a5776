"""Tables that never split a word: a table whose columns are each at least as wide as their longest
word (an ARN, a pointer, an action name), or, when those widths do not fit the terminal, one block per
row (its short cells on one line, its long cells below, indented), wrapped at spaces.

A Grid prints through rich on a terminal (`__rich__`) and writes the same characters by itself
(`plain()`) elsewhere: rich's rendering pipeline (measuring, segments, styles) was most of the time
of a table for many files. tests/test_table_stream.py compares the two on every fixture, the corpus
and hostile text, at many widths.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from typing import NamedTuple

from rich._wrap import divide_line  # rich's own word wrap, for text that is not ASCII
from rich.cells import cell_len, set_cell_size
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

INDENT = 4


class Cell(NamedTuple):
    """Text to show, and its style: (text, style) pieces whose texts make `plain`. Made inert before (auditor.text.safe)."""

    plain: str
    pieces: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, text: str, style: str = "") -> Cell:
        return cls(text, ((text, style),))

    @classmethod
    def assemble(cls, *pieces: tuple[str, str]) -> Cell:
        return cls("".join(text for text, _ in pieces), pieces)

    def __rich__(self) -> Text:
        return Text.assemble(*self.pieces)


@dataclass(frozen=True)
class Column:
    name: str
    body: bool = False  # in the block layout: on its own indented line(s) below the row's short cells


def longest_word(text: str) -> int:
    return max(map(len, text.split()), default=0)


@dataclass(frozen=True)
class Grid:
    """A table laid out for a width: `widths` (a column each) for a box table, None for blocks."""

    title: Cell
    columns: Sequence[Column]
    rows: Sequence[Sequence[Cell]]
    width: int
    widths: list[int] | None

    def __rich__(self) -> RenderableType:
        columns, rows = self.columns, self.rows
        if self.widths is not None:
            table = Table(title=self.title.__rich__(), title_justify="left")
            for col, fixed in zip(columns, self.widths, strict=True):
                table.add_column(col.name, overflow="fold", width=fixed)
            for row in rows:
                table.add_row(*(c.__rich__() for c in row))
            return table
        parts: list[RenderableType] = [self.title.__rich__()]
        for row in rows:
            parts.append(Text("  ").join(c.__rich__() for c, col in zip(row, columns, strict=True) if not col.body and c.plain))
            parts += [Padding(c.__rich__(), (0, 0, 0, INDENT), expand=False) for c, col in zip(row, columns, strict=True)
                      if col.body and c.plain]
        return Group(*parts)

    def plain(self) -> str:
        out: list[str] = []
        if self.widths is None:
            out += wrap(self.title.plain, self.width)
            for row in self.rows:
                out += wrap("  ".join(c.plain for c, col in zip(row, self.columns, strict=True) if not col.body and c.plain),
                            self.width)
                for c, col in zip(row, self.columns, strict=True):
                    text = c.plain
                    if col.body and text:
                        room = min(max(map(cell_len, text.splitlines() or [""])) + INDENT, self.width) - INDENT
                        out += [" " * INDENT + line for line in wrap(text, room, pad=True)]
            return "".join(line + "\n" for line in out)
        return _box(self.title.plain, self.columns, [tuple([c.plain for c in row]) for row in self.rows], self.widths)


def _box(title: str, columns: Sequence[Column], rows: Sequence[tuple[str, ...]], widths: list[int]) -> str:
    """A box table as text: its title, header and rows (each row's texts) in columns of these widths."""
    out = wrap(title, sum(widths) + 3 * len(widths) + 1, pad=True)
    out.append("┏" + "┳".join("━" * (w + 2) for w in widths) + "┓")
    out += _lines([col.name for col in columns], widths, "┃", bottom=True)
    out.append("┡" + "╇".join("━" * (w + 2) for w in widths) + "┩")
    fixed = tuple(widths)
    body = "".join([_row(row, fixed) for row in rows])  # each ends its lines
    return "".join(line + "\n" for line in out) + body + "└" + "┴".join("─" * (w + 2) for w in widths) + "┘\n"


@lru_cache(maxsize=512)  # a row repeats across targets (a missing action's finding, a coverage row) at the same widths
def _row(texts: tuple[str, ...], widths: tuple[int, ...]) -> str:
    """A body row of a box table as text: its lines, each ending with a newline."""
    return "".join(line + "\n" for line in _lines(texts, widths, "│"))


def _lines(texts: Sequence[str], widths: Sequence[int], bar: str, bottom: bool = False) -> list[str]:
    """One table row as lines: each cell wrapped to its column, the shorter ones filled with blank lines
    (above them in the header, which rich aligns to the bottom)."""
    cells = [_wrapped(text, w, True) for text, w in zip(texts, widths, strict=True)]
    height = max(map(len, cells))
    if height == 1:
        return [bar + bar.join([f" {c[0]} " for c in cells]) + bar]
    if bottom:
        cells = [(" " * w,) * (height - len(c)) + c for c, w in zip(cells, widths, strict=True)]
    else:
        cells = [c + (" " * w,) * (height - len(c)) for c, w in zip(cells, widths, strict=True)]
    return [bar + bar.join([f" {c[i]} " for c in cells]) + bar for i in range(height)]


_TRAILING_SPACE = re.compile(r"\s+$")
_WORD = re.compile(r"\s*\S+\s*")  # rich's word: what the word wrap moves as a whole, with its trailing spaces


def divide_ascii(text: str, width: int) -> list[int]:
    """rich._wrap.divide_line(text, width, fold=True) for printable ASCII, where a character is a cell:
    where the lines break (a word that does not fit moves to the next line; one longer than a line
    is folded). Property-tested against rich's own in tests/test_table_stream.py."""
    breaks: list[int] = []
    offset = 0
    for m in _WORD.finditer(text):
        start, word = m.start(), m.group()
        length = len(word.rstrip())
        if width - offset >= length:
            offset += len(word)
        elif length > width:  # folded across lines, each piece starting one
            pieces = range(0, len(word), width)
            if start:
                breaks.extend(start + i for i in pieces)
            else:
                breaks.extend(start + i for i in pieces if i)
            offset = len(word) - pieces[-1]
        elif offset and start:
            breaks.append(start)
            offset = len(word)
    return breaks


def wrap(text: str, width: int, pad: bool = False) -> list[str]:
    """`text` as rich wraps it in `width` cells (Text.wrap, overflow "fold": at spaces, a word longer
    than the line folded) and, with `pad`, fills each line with spaces to the width, as rich's "left"
    justification does; without, as rich prints a Text (trailing spaces kept)."""
    return list(_wrapped(text, width, pad))


@lru_cache(maxsize=1024)  # many targets repeat the same cells (a requirement's action, resource, message)
def _wrapped(text: str, width: int, pad: bool) -> tuple[str, ...]:
    out = []
    for line in text.split("\n") if "\n" in text else (text,):
        simple = line.isascii() and line.isprintable()  # a character is a cell
        if simple and len(line) <= width:
            out.append(line + " " * (width - len(line)) if pad else line)
            continue
        if not simple and cell_len(line) <= width:
            out.append(_fit(line, width, pad))
            continue
        offsets, fit = (divide_ascii(line, width), _fit_ascii) if simple else (divide_line(line, width, fold=True), _fit)
        for a, b in zip([0, *offsets], [*offsets, len(line)], strict=True):
            out.append(fit(line[a:b], width, pad))
    return tuple(out)


def _fit_ascii(piece: str, width: int, pad: bool) -> str:
    """_fit for printable ASCII, where cell_len is len and set_cell_size cuts or pads."""
    if len(piece) > width:
        m = _TRAILING_SPACE.search(piece)
        if m is not None:
            piece = piece[: len(piece) - min(len(m.group()), len(piece) - width)]
        piece = piece[:width]
    return piece + " " * (width - len(piece)) if pad else piece


def _fit(piece: str, width: int, pad: bool) -> str:
    if len(piece) > width:  # rich drops the spaces that run past the width
        m = _TRAILING_SPACE.search(piece)
        if m is not None:
            piece = piece[: len(piece) - min(len(m.group()), len(piece) - width)]
    size = cell_len(piece)
    if size > width:
        return set_cell_size(piece, width)
    if pad and size < width:
        return piece + " " * (width - size)
    return piece


class Recent:
    """A memo of texts bounded by their characters: the most recently used are kept, a text longer than
    `largest` is not."""

    def __init__(self, budget: int, largest: int) -> None:
        self.budget, self.largest = budget, largest
        self.items: dict[object, str] = {}
        self.size = 0

    def get(self, key: object) -> str | None:
        text = self.items.pop(key, None)
        if text is not None:
            self.items[key] = text  # the most recent last
        return text

    def put(self, key: object, text: str) -> None:
        if len(text) > self.largest or key in self.items:
            return
        self.items[key] = text
        self.size += len(text)
        while self.size > self.budget:
            self.size -= len(self.items.pop(next(iter(self.items))))


_TABLES = Recent(1 << 16, 1 << 15)  # a target's table often is another's (AWS's policies grant nothing Jets needs)


def text(title: Cell, columns: Sequence[Column], rows: Sequence[Sequence[Cell]], width: int) -> str:
    """grid(title, columns, rows, width).plain(), from a memo of the tables written last."""
    flat = [c.plain for row in rows for c in row]
    n = len(columns)
    key = "\0".join([title.plain, *flat])  # the texts alone make the plain table; the key holds no cells
    # a text with a NUL (never one made inert) would make keys ambiguous; a row must have a cell per column
    if key.count("\0") != len(flat) or len(flat) != n * len(rows):
        return grid(title, columns, rows, width).plain()
    memo = (key, n, tuple(columns), width)
    found = _TABLES.get(memo)
    if found is None:
        widths = _layout(columns, flat, width)
        if widths is None:
            found = Grid(title, columns, rows, width, None).plain()
        else:
            found = _box(title.plain, columns, [tuple(flat[i:i + n]) for i in range(0, len(flat), n)], widths)
        _TABLES.put(memo, found)
    return found


def grid(title: Cell, columns: Sequence[Column], rows: Sequence[Sequence[Cell]], width: int) -> Grid:
    return Grid(title, columns, rows, width, _layout(columns, [c.plain for row in rows for c in row], width))


def _layout(columns: Sequence[Column], texts: list[str], width: int) -> list[int] | None:
    """The widths of a box table of these texts (a row's, then the next row's), or None for blocks."""
    n = len(columns)
    sizes = list(map(_measure, texts))  # (longest word, longest line) of each cell
    words = [max(longest_word(col.name), max(map(itemgetter(0), sizes[i::n]), default=0)) for i, col in enumerate(columns)]
    borders = 3 * n + 1  # "│ " before each cell, " " after, and the last "│"
    if sum(words) + borders <= width:
        return _widths(columns, sizes, words, width - borders)
    return None


@lru_cache(maxsize=1024)  # the cells of many targets' tables are the same texts
def _measure(text: str) -> tuple[int, int]:
    """The longest word of a cell's text, and its longest line (in characters, as rich measures them here)."""
    return longest_word(text), max((len(line) for line in text.splitlines()), default=0)


def _widths(columns: Sequence[Column], sizes: list[tuple[int, int]], words: list[int], room: int) -> list[int]:
    """Each column as wide as its longest line when that fits; else each at least its longest word, and
    the room left shared fairly: a column that needs little more gets it, the others split the rest."""
    n = len(columns)
    natural = [max(len(col.name), max(map(itemgetter(1), sizes[i::n]), default=0)) for i, col in enumerate(columns)]
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
