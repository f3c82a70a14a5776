"""One line per finding, as ruff prints them: `path:line:col: severity rule message` (the summary
line goes to stderr, as for every format). Findings about a whole file or policy set point at 1:1; the column is that of the element the
finding's pointer names. Policy text is made inert (no terminal escapes, one line per finding)."""

from __future__ import annotations

from auditor.model import SourceMap
from auditor.report import Report
from auditor.text import safe


def render(report: Report, **_: object) -> str:
    maps: dict[str, SourceMap] = {}
    texts = {p.source: p.text for t in report.targets for p in t.policies}
    lines = []
    for f in report.findings:
        loc = f.location
        line, column = loc.line or 1, 1
        if loc.line and loc.pointer and loc.source in texts:
            smap = maps.get(loc.source) or maps.setdefault(loc.source, SourceMap(texts[loc.source]))
            column = smap.column(loc.pointer) or 1
        lines.append(safe(f"{loc.source}:{line}:{column}: {f.severity} {f.rule_id} {f.message}"))
    return "".join(line + "\n" for line in lines)
