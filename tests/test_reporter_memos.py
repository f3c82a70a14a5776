"""The fast paths of the text reporters give what the slow ones give: Markdown's one-pass escaping and its
memo against escaping word by word; the table's memos (whole tables, rows, cell sizes) against laying
each table out afresh and against rich's own rendering, on hostile cells."""

from __future__ import annotations

import io
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.reporters import layout, markdown, table
from auditor.reporters.layout import Cell, Column, grid
from auditor.text import safe

# --- Markdown ------------------------------------------------------------------------------------------

_ESCAPE = str.maketrans({c: "\\" + c for c in "\\`*_{}[]<>()#+!|~"})
_ISSUE = re.compile(r"#\d")


def _slow_md(text: object) -> str:
    """markdown.md as it was: each word escaped with str.translate, or shown as code when live."""
    def live(word: str) -> bool:
        return "@" in word or "://" in word or "www." in word.lower() or _ISSUE.search(word) is not None

    words = safe(text).split(" ")
    return " ".join(markdown.code(w) if live(w) else w.translate(_ESCAPE) for w in words)


HOSTILE = [
    "", " ", "  two  spaces  ", "[bold red]x[/]", "a|b||c", "`code` and ``more``", "line\nbreak\r\nand\ttab",
    "\x1b[2J\x07\x00\x7f\x9b", "\u202eevil\u200b\ufeff", "名前-ｗｉｄｅ 名前", "Ünïcödé ΣΑΣ ς", "x" * 300,
    "missing \"s3:GetObject\" on demo-dev-*/*: (see [docs](https://example.com)) <b>!</b> ~~x~~ #1",
    "@user and @org/team", "mail a@b.c", "WWW.example.com", "wWw.x", "www", "www.", "ww w.", "#", "#x", "#12",
    "a#1b", "\uff03\uff11", "https://x", "ftp:/x", ":// alone", "K\u212a www\u0307.", "\\*_{}[]<>()#+!|~",
    "tab\tat\twww.x", "new\nline@x", 'quote "www.x"', "İstanbul WWW.", "trailing ", " leading",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_escaping_is_word_by_word_escaping(text):
    assert markdown.md(text) == _slow_md(text)
    assert markdown.md(text) == _slow_md(text)  # from the memo


def test_markdown_escaping_of_values_that_are_not_text():
    for value in (3, 1.5, None, ("a|b", "@x")):
        assert markdown.md(value) == _slow_md(value)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab wW.:/@#1٣|`*[]\n\t\x1b\u202e名ｗİΣ\u212a"), max_size=40))
def test_markdown_escaping_property(text):
    assert markdown.md(text) == _slow_md(text)


# --- the table ----------------------------------------------------------------------------------------

COLUMNS = (Column("severity"), Column("rule"), Column("message", body=True), Column("location"))
CELLS = [safe(t) for t in HOSTILE] + ["rule\nJets >= 3, < 6", "a\nb\nc", "名前" * 30, "word " * 40]


def _rows(offset: int, count: int) -> list[list[Cell]]:
    n = len(CELLS)
    return [[Cell.of(CELLS[(offset + i) % n], "bold"), Cell.of(CELLS[(offset + 2 * i + 1) % n]),
             Cell.assemble((CELLS[(offset + 3 * i + 2) % n], ""), ("\nJets x", "dim")), Cell.of(CELLS[(offset + i + 5) % n])]
            for i in range(count)]


def _rich(title: Cell, rows: list[list[Cell]], width: int) -> str:
    buf = io.StringIO()
    table.Canvas(buf, False, width, plain=False).print(grid(title, COLUMNS, rows, width))
    return buf.getvalue()


def _fresh(title: Cell, rows: list[list[Cell]], width: int) -> str:
    """The table laid out with every memo of layout emptied first."""
    layout._row.cache_clear()
    layout._measure.cache_clear()
    layout._wrapped.cache_clear()
    return grid(title, COLUMNS, rows, width).plain()


@pytest.mark.parametrize("width", [20, 40, 60, 80, 120, 200])
def test_memoised_tables_are_fresh_tables_and_rich_tables(width):
    title = Cell.of("findings [bold] | `x`", "bold")
    for offset in range(0, 12, 3):
        for count in (1, 2, 7):
            rows = _rows(offset, count)
            expected = _fresh(title, rows, width)
            assert expected == _rich(title, rows, width)
            assert layout.text(title, COLUMNS, rows, width) == expected  # laid out (row memo warm from _fresh)
            assert layout.text(title, COLUMNS, rows, width) == expected  # from the table memo
            assert layout.text(title, COLUMNS, rows, width + 1) == grid(title, COLUMNS, rows, width + 1).plain()


def test_rows_memoised_at_one_width_are_not_reused_at_another():
    rows = [[Cell.of("high"), Cell.of("rule"), Cell.of("a message long enough to wrap " * 3), Cell.of("-")]]
    narrow = grid(Cell.of("t"), COLUMNS, rows, 50).plain()
    wide = grid(Cell.of("t"), COLUMNS, rows, 150).plain()
    assert narrow != wide
    assert narrow == _rich(Cell.of("t"), rows, 50) and wide == _rich(Cell.of("t"), rows, 150)


def test_table_memo_keys_cannot_collide_through_nul():
    one = [[Cell.of("a\0b"), Cell.of("c"), Cell.of("d"), Cell.of("e")]]
    two = [[Cell.of("a"), Cell.of("b\0c"), Cell.of("d"), Cell.of("e")]]
    title = Cell.of("t")
    assert layout.text(title, COLUMNS, one, 80) == grid(title, COLUMNS, one, 80).plain()
    assert layout.text(title, COLUMNS, two, 80) == grid(title, COLUMNS, two, 80).plain()
    assert layout.text(title, COLUMNS, one, 80) != layout.text(title, COLUMNS, two, 80)


def test_table_memo_tells_columns_apart():
    rows = [[Cell.of("a"), Cell.of("b " * 30), Cell.of("c " * 30), Cell.of("d")]]
    other = (Column("severity"), Column("rule"), Column("message"), Column("location", body=True))
    for width in (20, 120):
        assert layout.text(Cell.of("t"), COLUMNS, rows, width) == grid(Cell.of("t"), COLUMNS, rows, width).plain()
        assert layout.text(Cell.of("t"), other, rows, width) == grid(Cell.of("t"), other, rows, width).plain()


def test_recent_memo_is_bounded_by_characters():
    memo = layout.Recent(100, 60)
    memo.put("a", "x" * 40)
    memo.put("b", "y" * 40)
    assert memo.get("a") == "x" * 40  # now the most recent
    memo.put("c", "z" * 40)  # over the budget: the least recent ("b") goes
    assert memo.get("b") is None and memo.get("a") == "x" * 40 and memo.get("c") == "z" * 40
    memo.put("d", "w" * 61)  # longer than any kept
    assert memo.get("d") is None
    assert memo.size == sum(map(len, memo.items.values())) <= 100


def test_repeated_targets_plain_is_rich():
    """Targets whose tables repeat (the table memo's hits) print as rich prints them, at every width."""
    import json

    from auditor import catalogue, engine
    from auditor.model import parse_policy
    from auditor.report import Settings, Target

    text = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "[bold]|`x`", "Effect": "Allow", "Action": ["s3:Get*", "lambda:*"],
         "Resource": ["arn:aws:s3:::demo-\u202e/*", "arn:aws:s3:::" + "x" * 150, "arn:aws:s3:::名前-ｗｉｄｅ/*", "*"]},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::*:role/[bold]x\x1b[31m  two  spaces"},
    ]}, ensure_ascii=False)
    run = Settings("demo", False, None, ("dev",), "5", ("core", "prewarm"), show_ignored=True)
    targets = [Target("file", name, (parse_policy(text, "same.json"),)) for name in ("a.json", "b.json", "c.json")]
    report = engine.run(targets, run, catalogue.load())
    for width in (40, 80, 120, 160):
        plain = table.render(report, width=width, details="all", plain=True)
        assert plain == table.render(report, width=width, details="all", plain=False)
        assert plain == table.render(report, width=width, details="all", plain=True)
        assert plain.count("coverage: core") == 3


@pytest.mark.parametrize("width", [1, 3, 5, 8])
@pytest.mark.parametrize("pad", [False, True])
def test_fit_ascii_is_fit(width, pad):
    for piece in ("", "a", "abc", "abcdefghij", "ab   ", "abcdef   ", "a" * width + "  ", " " * 12, "  x  y  "):
        assert layout._fit_ascii(piece, width, pad) == layout._fit(piece, width, pad)


def test_github_properties_from_the_memo_are_escaped():
    from auditor.reporters import github

    for text in ("a:b,c%d\r\ne", "\x1b[2J名前:1", "plain", "%25:,"):
        expected = safe(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")).replace(":", "%3A").replace(",", "%2C")
        assert github._prop(text) == expected
        assert github._prop(text) == expected  # from the memo
