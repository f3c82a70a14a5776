"""GitHub Actions workflow commands: one ::error/::warning/::notice annotation per finding, at its
file and line (`file=`, `line=`); a location that is no file (an AWS policy read live, standard input)
gets no file= and is named at the start of the message. Property and message values are escaped as the
runner requires (%, CR, LF; also : and , in properties)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from auditor.report import Finding, Part, Tail
from auditor.reporters import Lines
from auditor.text import safe

COMMAND = {"critical": "error", "high": "error", "medium": "warning", "low": "notice", "info": "notice"}


def _data(text: str) -> str:
    escaped = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return safe(escaped)  # no terminal escapes in a CI log


@lru_cache(maxsize=256)  # a target's file names all its findings; few rules and severities make the titles
def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _annotations(findings: Iterable[Finding]) -> str:
    lines = []
    for f in findings:
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
        lines.append(f"::{COMMAND[f.severity]} {','.join(props)}::{_data(message)}\n")
    return "".join(lines)


class Writer(Lines):
    def part(self, part: Part) -> None:
        self.out.write(_annotations(part.findings))

    def tail(self, tail: Tail) -> None:
        self.out.write(_annotations(tail.findings) + _data(tail.summary_line) + "\n")
