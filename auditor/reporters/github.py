"""GitHub Actions workflow commands: one ::error/::warning/::notice annotation per finding, at its
file and line (`file=`, `line=`), as many as GitHub shows; a location that is no file (an AWS policy read
live, standard input) gets no file= and is named at the start of the message. Property and message values
are escaped as the runner requires (%, CR, LF; also : and , in properties), and made inert
(auditor.text.safe: no terminal escapes, no `##[` command).

GitHub shows at most 10 annotations of each kind (error, warning, notice) for a step, and drops the
others without a word (actions/toolkit, docs/problem-matchers.md, "Limitations"). So the first 10 of each
kind are annotations; a finding past that is written as a plain log line, and one notice at the end
(taking the tenth notice's place) says how many findings of each kind are not annotated. No line that
is not one of these commands starts with `::` (auditor.text.inert_line)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TextIO

from auditor.report import Finding, Part, Tail
from auditor.reporters import Lines
from auditor.text import inert_line, safe

COMMAND = {"critical": "error", "high": "error", "medium": "warning", "low": "notice", "info": "notice"}
KINDS = ("error", "warning", "notice")
PER_KIND = 10  # annotations of one kind GitHub shows for a step
TITLE = "jets-iam-audit"


def _data(text: str) -> str:
    escaped = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return safe(escaped)  # no terminal escapes in a CI log


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _annotation(f: Finding) -> str:
    loc = f.location
    props = []
    message = f.message + (f" Fix: {f.fix}." if f.fix else "")
    if loc.file:
        props.append(f"file={_prop(loc.source)}")
        if loc.line:
            props.append(f"line={loc.line}")
    else:  # an AWS policy, standard input: no file= (the runner would look for that file), named in the message
        message = f"{loc.source}{' ' + loc.pointer if loc.pointer else ''}: {message}"
    props.append(f"title={_prop(f'{f.rule_id} ({f.severity})')}")
    return f"::{COMMAND[f.severity]} {','.join(props)}::{_data(message)}\n"


def _plain(f: Finding) -> str:
    """A finding that is not annotated, as a line of the log: it starts with its severity."""
    loc = f.location
    if loc.file:
        where = loc.source + (f":{loc.line}" if loc.line else "")
    else:  # as an annotation names it (no file)
        where = loc.source + (f" {loc.pointer}" if loc.pointer else "")
    return inert_line(safe(f"{f.severity} {f.rule_id} {where}: {f.message}")) + "\n"


class Writer(Lines):
    def __init__(self, out: TextIO, **_: object) -> None:
        super().__init__(out)
        self.shown: Counter[str] = Counter()
        self.unshown: Counter[str] = Counter()
        self.held: Finding | None = None  # the tenth notice: written last, unless the summary takes its place

    def _write(self, findings: Iterable[Finding]) -> None:
        lines = []
        for f in findings:
            kind = COMMAND[f.severity]
            room = PER_KIND - 1 if kind == "notice" else PER_KIND
            if self.shown[kind] < room:
                self.shown[kind] += 1
                lines.append(_annotation(f))
            elif kind == "notice" and self.held is None:
                self.held = f
            else:
                self.unshown[kind] += 1
                lines.append(_plain(f))
        self.out.write("".join(lines))

    def part(self, part: Part) -> None:
        self._write(part.findings)

    def tail(self, tail: Tail) -> None:
        self._write(tail.findings)
        out = self.out
        if self.unshown and self.held is not None:
            out.write(_plain(self.held))
            self.unshown["notice"] += 1
        elif self.held is not None:
            out.write(_annotation(self.held))
        if self.unshown:
            counts = ", ".join(f"{self.unshown[k]} {k}{'s' if self.unshown[k] != 1 else ''}" for k in KINDS if self.unshown[k])
            total = sum(self.unshown.values())
            out.write(f"::notice title={TITLE}::{total} more finding{'s are' if total != 1 else ' is'} not annotated "
                      f"({counts}): GitHub shows {PER_KIND} annotations of each kind per step; every finding is "
                      "listed in this log and in the SARIF report\n")
        out.write(inert_line(_data(tail.summary_line)) + "\n")
