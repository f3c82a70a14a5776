"""The table format at scale: for several targets a summary row per target, then details of the targets
with findings at or above --fail-on (every target with --details all); off a terminal it is written as
plain text (layout.Grid.plain) with the very characters rich prints; the progress bar shows only where
a person watches stderr."""

from __future__ import annotations

import io
import json
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich._wrap import divide_line

from auditor import catalogue, engine, progress
from auditor.model import parse_policy
from auditor.report import Settings, Target
from auditor.reporters import table
from auditor.reporters.layout import divide_ascii, wrap
from tests.conftest import DOCS, invoke

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


# --- plain text is what rich prints --------------------------------------------------------------------

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


@pytest.mark.parametrize("width", [30, 60, 80, 100, 120, 200])
def test_plain_table_is_rich_table(reports, width):
    for report in reports:
        for details in ("failing", "all"):
            plain = table.render(report, width=width, details=details, plain=True)
            assert plain == table.render(report, width=width, details=details, plain=False)


def test_plain_catalogue_is_rich_catalogue():
    from auditor.reporters.layout import Cell, Column, grid

    columns = [Column("a"), Column("long text", body=True), Column("c")]
    rows = [[Cell.of("x" * 40), Cell.of("word " * 30 + "名前 " * 10), Cell.of("short")],
            [Cell.of(""), Cell.assemble(("a\nb", "dim"), (" c", "")), Cell.of("\u202e")]]
    for width in (20, 50, 90, 160):
        g = grid(Cell.of("title " * 20, "bold"), columns, rows, width)
        buf = io.StringIO()
        table.Canvas(buf, False, width, plain=False).print(g)
        assert g.plain() == buf.getvalue()


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab  :/-*"), max_size=80), st.integers(min_value=1, max_value=40))
def test_divide_ascii_is_rich_divide_line(text, width):
    assert divide_ascii(text, width) == divide_line(text, width, fold=True)


@pytest.mark.parametrize("text,width", [("", 5), ("a", 1), ("abc def", 3), ("abcdefgh ij", 3), ("  lead", 4),
                                        ("a  b  c", 2), ("x" * 10 + " y", 4)])
def test_wrap_examples(text, width):
    from rich.text import Text

    expected = [str(line) for line in Text(text).wrap(_console(width), width, overflow="fold")]
    assert [line.rstrip() for line in wrap(text, width)] == [line.rstrip() for line in expected]


def _console(width):
    from rich.console import Console

    return Console(width=width, file=io.StringIO())


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


def test_cli_draws_no_bar_in_a_pipe(tmp_path):
    files = []
    for i in range(progress.MANY_TARGETS + 1):
        (tmp_path / f"p{i}.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::demo-{i}/*"}]}))
        files.append(f"p{i}.json")
    proc = invoke("file", *files, "--prefix", "demo", "--format", "json", cwd=tmp_path)
    assert proc.stderr.decode().count("\n") == 1  # the summary line only
    assert len(json.loads(proc.stdout)["targets"]) == len(files)
