"""Markdown for pull-request comments: a summary, what is missing, then findings by category.
Policy text is escaped: it cannot close a table cell, open a link or inject HTML, mention a user or a
team (@name), or become a link (https://…, www.…): such words are shown as code, where Markdown
neither mentions nor links. Invisible and control characters are shown as escapes (auditor.text.safe)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TextIO

from auditor.report import CATEGORIES, Finding, Head, Part, Tail
from auditor.reporters.spool import Spool
from auditor.text import safe

_META = re.compile(r"[\\`*_{}\[\]<>()#+!|~]")  # Markdown's metacharacters, each shown with a backslash before it
_ISSUE = re.compile(r"#\d")


def _escaped(match: re.Match[str]) -> str:
    return "\\" + match.group()


def _live(word: str) -> bool:
    """Would GitHub turn this word into a mention, an issue reference or a link?"""
    low = word.lower()
    return "@" in word or "://" in word or "www." in low or _ISSUE.search(word) is not None


def md(text: object) -> str:
    """Text for a Markdown table cell or paragraph: metacharacters escaped, live words as code."""
    words = safe(text).split(" ")  # linear: each regular expression here matches one or two characters
    return " ".join(code(w) if _live(w) else _META.sub(_escaped, w) for w in words)


def code(text: object) -> str:
    value = safe(text).replace("`", "'").replace("|", "\\|")
    return f"`{value}`"


def _row(f: Finding) -> str:
    where = f.location.source + (f":{f.location.line}" if f.location.line else "")
    rule = code(f.rule_id) + (f" (Jets {md(f.releases)})" if f.releases else "")
    return f"| {f.severity} | {rule} | {md(f.message)} | {code(where)} {code(f.location.pointer or '/')} |\n"


class Writer:
    """The summary line heads the comment, so the sections wait in spools (what is not granted, then
    one per category, each in the targets' order) until the run ends."""

    def __init__(self, out: TextIO, **_: object) -> None:
        self.out = out
        self.missing = Spool()
        self.categories = {c: Spool() for c in CATEGORIES}
        self.counts = dict.fromkeys(CATEGORIES, 0)

    def head(self, head: Head) -> None:
        self.settings = head.settings

    def _findings(self, findings: Iterable[Finding]) -> None:
        rows: dict[str, list[str]] = {}  # a category's rows of this part, written to its spool at once
        for f in findings:
            rows.setdefault(f.category, []).append(_row(f))
        for category, lines in rows.items():
            self.categories[category].write("".join(lines))
            self.counts[category] += len(lines)

    def part(self, part: Part) -> None:
        missing = [f"| {r.status} | {code(r.action)} | {code(r.resource)} | {md(r.feature)} |\n"
                   for r in part.coverage if r.status in ("missing", "denied")]
        if missing:
            self.missing.write("".join(missing))
        self._findings(part.findings)

    def tail(self, tail: Tail) -> None:
        self._findings(tail.findings)
        s, out = self.settings, self.out
        out.write(f"## jets-iam-audit\n\nJets {md(s.jets_version)} · prefix {code(s.prefix)}"
                  f"{' (inferred)' if s.prefix_inferred else ''} · env {', '.join(code(e) for e in s.envs)} · "
                  f"features {', '.join(code(f) for f in s.features)}\n\n**{md(tail.summary_line)}**\n\n")
        between = ""  # sections are separated by a blank line; the last ends with its last row
        if not self.missing.empty:
            out.write("### Not granted\n\n| status | action | resource | feature |\n|---|---|---|---|\n")
            self.missing.copy_to(out)
            between = "\n"
        for category, spool in self.categories.items():
            if self.counts[category]:
                out.write(f"{between}### {category} ({self.counts[category]})\n\n| severity | rule | message | location |\n"
                          "|---|---|---|---|\n")
                spool.copy_to(out)
                between = "\n"
        if not tail.tally.findings:
            out.write(f"{between}No findings.\n")
