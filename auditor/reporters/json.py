"""The v1 JSON document (DESIGN §3): one document, never JSON Lines, never through rich."""

from __future__ import annotations

import json

from auditor.report import Report, Target

SCHEMA_VERSION = 1


def to_dict(report: Report) -> dict[str, object]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "jets-iam-audit", "version": report.tool_version, "iam_data": report.iam_data},
        "settings": report.settings.as_dict(),
        "targets": [_target(t, report) for t in report.targets],
        "findings": [f.as_dict() for f in report.findings],
        "coverage": [row.as_dict() for row in report.coverage],
        "notes": list(report.requirement_notes),
        **({"ignored": [{**f.as_dict(), "reason": reason} for f, reason in report.ignored]}
           if report.settings.show_ignored else {}),
        **({"parliament": report.second_opinion.as_dict()} if report.second_opinion is not None else {}),
        **({"baseline": report.baseline.as_dict()} if report.baseline is not None else {}),
        "summary": {
            "by_severity": report.by_severity(),
            "by_category": report.by_category(),
            "exit_code": report.exit_code,
        },
    }


def _target(t: Target, report: Report) -> dict[str, object]:
    out: dict[str, object] = {"kind": t.kind, "name": t.name, "sources": list(t.sources)}
    if t.boundary:
        out["boundary"] = [p.source for p in t.boundary]
    config = getattr(t.config, "shown", None)
    if config:
        out["config"] = config
    if t.settings is not None and t.settings != report.settings:
        out["settings"] = t.settings.as_dict()
    return out


def render(report: Report, **_: object) -> str:
    return json.dumps(to_dict(report), indent=2) + "\n"
