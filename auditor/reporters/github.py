"""GitHub Actions workflow commands: one ::error/::warning/::notice annotation per finding.
Property and message values are escaped as the runner requires (%, CR, LF; also : and , in properties)."""

from __future__ import annotations

from auditor.report import Report
from auditor.text import safe

COMMAND = {"critical": "error", "high": "error", "medium": "warning", "low": "notice", "info": "notice"}


def _data(text: str) -> str:
    escaped = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return safe(escaped)  # no terminal escapes in a CI log


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: Report, **_: object) -> str:
    lines = []
    for f in report.findings:
        props = [f"file={_prop(f.location.source)}"]
        if f.location.line:
            props.append(f"line={f.location.line}")
        props.append(f"title={_prop(f'{f.rule_id} ({f.severity})')}")
        message = f.message + (f" Fix: {f.fix}." if f.fix else "")
        lines.append(f"::{COMMAND[f.severity]} {','.join(props)}::{_data(message)}")
    lines.append(_data(report.summary_line()))
    return "\n".join(lines) + "\n"
