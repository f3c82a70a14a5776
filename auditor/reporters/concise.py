"""One line per finding, as ruff prints them: `path:line:col: severity rule message` (the summary
line goes to stderr, as for every format). Findings about a whole file or policy set point at 1:1; the column is that of the element the
finding's pointer names. A location that is no file (an AWS policy read live, standard input) is written
`name#pointer: severity rule message`, with no line and column. Policy text is made inert (no terminal
escapes, one line per finding)."""

from __future__ import annotations

from collections.abc import Iterable

from auditor.report import Finding, Part, Tail
from auditor.reporters import Lines
from auditor.text import safe


def _lines(findings: Iterable[Finding]) -> str:
    lines = []
    for f in findings:
        loc = f.location
        if not loc.file:  # an AWS policy, standard input: no path:line:col an editor would open
            where = f"{loc.source}#{loc.pointer}" if loc.pointer else loc.source
            lines.append(safe(f"{where}: {f.severity} {f.rule_id} {f.message}"))
            continue
        lines.append(safe(f"{loc.source}:{loc.line or 1}:{loc.column or 1}: {f.severity} {f.rule_id} {f.message}"))
    return "".join(line + "\n" for line in lines)


class Writer(Lines):
    def part(self, part: Part) -> None:
        self.out.write(_lines(part.findings))

    def tail(self, tail: Tail) -> None:
        self.out.write(_lines(tail.findings))
