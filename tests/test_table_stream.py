"""The table format at scale: for several targets a summary row per target, then details of the targets
with findings at or above --fail-on (every target with --details all); tables, rendered by rich, never
split a word that fits the width; the progress bar shows only where a person watches stderr."""

from __future__ import annotations

import io
import json
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.text import Text

from auditor import catalogue, engine, progress
from auditor.model import parse_policy
from auditor.report import Settings, Target
from auditor.reporters import table
from auditor.reporters.layout import INDENT, Column, column_widths, grid, longest_line, longest_word
from tests.conftest import DOCS, examples, invoke

FIXTURES = sorted(f"fixtures/docs/{p.name}" for p in DOCS.glob("*.json"))


def test_many_targets_summary_then_failing_details():
    proc = invoke("file", *FIXTURES, "--prefix", "demo", "--fail-on", "critical")
    assert proc.returncode == 1
    out = proc.stdout.decode()
    lines = out.splitlines()
    start = lines.index(" crit high  med  low info │  miss broad   dup   res   inv │ not granted │ target")
    assert lines[start + 1:start + 6] == [
        "    1   10    1    -    1 │     -    13     -     -     - │        0/74 │ file fixtures/docs/broad.json",
        "    -    5    7    4    4 │     6    10     4     -     - │        6/74 │ file fixtures/docs/least-privilege-2019-08.json",
        "    -    4    7    4    5 │     5    10     5     -     - │        5/74 │ file fixtures/docs/least-privilege-2019-10.json",
        "    -    2    7    3    5 │     3    10     4     -     - │        3/74 │ file fixtures/docs/least-privilege-2020-08.json",
        "    -    2    7    4    5 │     3    11     4     -     - │        3/74 │ file fixtures/docs/least-privilege-2021-05.json",
    ]
    assert lines[start - 2].startswith("5 targets: findings by severity and by category (miss missing-action, ")
    assert ("details of the 1 target with findings at or above critical follow (--details all for every target)"
            in lines)
    headings = [line for line in lines if line.startswith("file fixtures/docs/") and "│" not in line]
    assert headings == ["file fixtures/docs/broad.json"]  # the only target with a critical finding
    assert proc.stderr.decode().splitlines()[-1].endswith("exit 1")


def test_details_all_shows_every_target():
    proc = invoke("file", *FIXTURES, "--prefix", "demo", "--fail-on", "critical", "--details", "all")
    lines = proc.stdout.decode().splitlines()
    assert "details of every target follow (--details all)" in lines
    headings = [line for line in lines if line.startswith("file fixtures/docs/") and "│" not in line]
    assert headings == [f"file {f}" for f in FIXTURES]


def test_no_target_failing_says_so(tmp_path):
    clean = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:GetFunction", "Resource": "arn:aws:lambda:*:*:function:demo-dev-*"}]})
    for name in ("a.json", "b.json"):
        (tmp_path / name).write_text(clean)
    proc = invoke("file", "a.json", "b.json", "--prefix", "demo", "--fail-on", "critical", cwd=tmp_path)
    assert proc.returncode == 0
    out = proc.stdout.decode()
    assert "no target has findings at or above critical (--details all shows every target)" in out
    assert "coverage:" not in out


def test_details_is_checked():
    proc = invoke("file", FIXTURES[0], "--details", "some")
    assert proc.returncode == 2


def test_one_target_table_is_unchanged_by_details():
    one = invoke("file", FIXTURES[0], "--prefix", "demo").stdout
    assert one == invoke("file", FIXTURES[0], "--prefix", "demo", "--details", "all").stdout
    assert b" crit high" not in one


# --- tables never split a word --------------------------------------------------------------------------

HOSTILE = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "Ünïcödé名前", "Effect": "Allow", "Action": ["s3:Get*", "s3:GetObject", "lambda:*"],
     "Resource": ["arn:aws:s3:::demo-\u202e/*", "arn:aws:s3:::" + "x" * 150, "arn:aws:s3:::名前-ｗｉｄｅ/*", "*"]},
    {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::*:role/[bold]x\x1b[31m  two  spaces"},
]}, ensure_ascii=False)


@pytest.fixture(scope="module")
def reports():
    cat = catalogue.load()
    run = Settings("demo", False, None, ("dev",), "5", ("core", "prewarm", "custom-domain"), show_ignored=True)
    targets = [Target("file", p.name, (parse_policy(p.read_text(), p.name),)) for p in sorted(DOCS.glob("*.json"))]
    targets.append(Target("file", "hostile.json", (parse_policy(HOSTILE, "hostile.json"),)))
    return [engine.run([t], run, cat) for t in targets] + [engine.run(targets, run, cat)]


@pytest.mark.slow
@pytest.mark.parametrize("width", [30, 60, 80, 120, 200])
def test_tables_never_split_a_word_that_fits(reports, width):
    """Every word of a finding's message and location, and every action the coverage does not grant, that
    fits the width of a body line (INDENT less than the width) is printed whole, at any width; a box
    table's lines all have one width, at most the terminal's."""
    from rich.cells import cell_len

    for report in reports:
        out = table.render(report, width=width, details="all")
        printed = {w.rstrip(",;") for w in out.replace("│", " ").replace("┃", " ").split()}
        words = {w for f in report.findings for w in (*f.message.split(), *f.location.pointer.split())}
        words |= {r.action.partition(":")[2] for r in report.coverage if r.status != "granted"}  # granted rows are folded
        fits = {w for w in words if len(w) <= width - INDENT and w.isascii() and w.isprintable()}
        missing = {w for w in fits if w.rstrip(",;") not in printed}
        assert not missing, (width, sorted(missing)[:5])
        lines = out.splitlines()
        for top in (n for n, line in enumerate(lines) if line.startswith("┏")):
            bottom = next(n for n in range(top, len(lines)) if lines[n].startswith("└"))
            assert len({cell_len(line) for line in lines[top:bottom + 1]}) == 1
            assert cell_len(lines[top]) <= width


_WORDS = st.text(alphabet=st.sampled_from("ab:/-* \n"), max_size=40)


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(st.tuples(_WORDS, _WORDS, _WORDS), min_size=1, max_size=6), st.integers(min_value=10, max_value=160))
def test_column_widths_hold_the_longest_words(rows, width):
    """A box table only when each column can be as wide as its longest word; then each column is, the
    table fits, and a column is never wider than its longest line (nor narrower when all fit)."""
    columns = (Column("status"), Column("actions", body=True), Column("resource"))
    cells = [[Text(text) for text in row] for row in rows]
    room = width - (3 * len(columns) + 1)
    words = [max([longest_word(col.name), *(longest_word(row[i]) for row in rows)]) for i, col in enumerate(columns)]
    lines = [max([len(col.name), *(longest_line(row[i]) for row in rows)]) for i, col in enumerate(columns)]
    widths = column_widths(columns, cells, width)
    if sum(words) > room:
        assert widths is None
        return
    assert widths is not None
    assert all(w <= n for w, n in zip(words, widths, strict=True)) and all(n <= line for n, line in zip(widths, lines, strict=True))
    assert sum(widths) <= room
    assert widths == lines if sum(lines) <= room else sum(widths) == room


def test_a_row_becomes_a_block_when_its_words_do_not_fit():
    columns = (Column("severity"), Column("rule"), Column("message", body=True), Column("location"))
    arn = "arn:aws:s3:::" + "x" * 40  # with the other columns' longest words, wider than 60 columns
    rows = [[Text("high"), Text("wildcard-resource"), Text(f"grants {arn} to every caller of the function"), Text("/Statement/0")]]
    printed = _printed(grid(Text("findings"), columns, rows, 60), 60)
    assert printed == ["findings", "high  wildcard-resource  /Statement/0", "    grants", f"    {arn} to", "    every caller of the function"]
    boxed = _printed(grid(Text("findings"), columns, rows, 110), 110)
    assert boxed[0] == "findings" and boxed[1].startswith("┏") and any(f" {arn} " in line for line in boxed)


def _printed(renderable, width):
    from rich.console import Console

    buf = io.StringIO()
    Console(file=buf, width=width, color_system=None, highlight=False, markup=False, emoji=False).print(renderable)
    return [line.rstrip() for line in buf.getvalue().splitlines()]


# --- progress ------------------------------------------------------------------------------------------

class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_where_a_person_watches(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(sys, "stderr", _Tty())
    assert progress.wanted(quiet=False, report_on_terminal=False)
    assert not progress.wanted(quiet=True, report_on_terminal=False)
    assert not progress.wanted(quiet=False, report_on_terminal=True)
    monkeypatch.setenv("CI", "true")
    assert not progress.wanted(quiet=False, report_on_terminal=False)
    monkeypatch.delenv("CI")
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # a pipe or a file
    assert not progress.wanted(quiet=False, report_on_terminal=False)


def test_progress_bar_draws_on_stderr_and_clears(monkeypatch):
    err = _Tty()
    monkeypatch.setattr(sys, "stderr", err)
    with progress.bar("auditing", 3, True) as advance:
        for _ in range(3):
            advance()
    assert "auditing" in err.getvalue() and "3/3" in err.getvalue()
    quiet = _Tty()
    monkeypatch.setattr(sys, "stderr", quiet)
    with progress.bar("auditing", 3, False) as advance:
        advance()
    assert quiet.getvalue() == ""


@pytest.mark.slow
def test_cli_draws_no_bar_in_a_pipe(tmp_path):
    files = []
    for i in range(progress.MANY_TARGETS + 1):
        (tmp_path / f"p{i}.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::demo-{i}/*"}]}))
        files.append(f"p{i}.json")
    proc = invoke("file", *files, "--prefix", "demo", "--format", "json", cwd=tmp_path)
    assert proc.stderr.decode().count("\n") == 1  # the summary line only
    assert len(json.loads(proc.stdout)["targets"]) == len(files)
