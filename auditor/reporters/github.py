"""GitHub Actions workflow commands: one ::error/::warning/::notice annotation per finding.
Property and message values are escaped as the runner requires (%, CR, LF; also : and , in properties)."""

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
        props = [f"file={_prop(f.location.source)}"]
        if f.location.line:
            props.append(f"line={f.location.line}")
        props.append(f"title={_prop(f'{f.rule_id} ({f.severity})')}")
        message = f.message + (f" Fix: {f.fix}." if f.fix else "")
        lines.append(f"::{COMMAND[f.severity]} {','.join(props)}::{_data(message)}\n")
    return "".join(lines)


class Writer(Lines):
    def part(self, part: Part) -> None:
        self.out.write(_annotations(part.findings))

    def tail(self, tail: Tail) -> None:
        self.out.write(_annotations(tail.findings) + _data(tail.summary_line) + "\n")
