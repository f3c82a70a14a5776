"""Markdown for pull-request comments: a summary, what is missing, then findings by category.
Policy text is escaped: it cannot close a table cell, open a link or inject HTML, mention a user or a
team (@name), or become a link (https://…, www.…): such words are shown as code, where Markdown
neither mentions nor links. Invisible and control characters are shown as escapes (auditor.text.safe)."""

from __future__ import annotations

import re

from auditor.report import CATEGORIES, Report
from auditor.text import safe

_ESCAPE = str.maketrans({c: "\\" + c for c in "\\`*_{}[]<>()#+!|~"})
_ISSUE = re.compile(r"#\d")


def _live(word: str) -> bool:
    """Would GitHub turn this word into a mention, an issue reference or a link?"""
    low = word.lower()
    return "@" in word or "://" in word or "www." in low or _ISSUE.search(word) is not None


def md(text: object) -> str:
    """Text for a Markdown table cell or paragraph: metacharacters escaped, live words as code."""
    words = safe(text).split(" ")  # linear: no regular expression runs over the words
    return " ".join(code(w) if _live(w) else w.translate(_ESCAPE) for w in words)


def code(text: object) -> str:
    value = safe(text).replace("`", "'").replace("|", "\\|")
    return f"`{value}`"


def render(report: Report, **_: object) -> str:
    s = report.settings
    lines = [
        "## jets-iam-audit",
        "",
        f"Jets {md(s.jets_version)} · prefix {code(s.prefix)}{' (inferred)' if s.prefix_inferred else ''} · "
        f"env {', '.join(code(e) for e in s.envs)} · features {', '.join(code(f) for f in s.features)}",
        "",
        f"**{md(report.summary_line())}**",
        "",
    ]
    missing = [r for r in report.coverage if r.status in ("missing", "denied")]
    if missing:
        lines += ["### Not granted", "", "| status | action | resource | feature |", "|---|---|---|---|"]
        lines += [f"| {r.status} | {code(r.action)} | {code(r.resource)} | {md(r.feature)} |" for r in missing]
        lines.append("")
    for category in CATEGORIES:
        found = [f for f in report.findings if f.category == category]
        if not found:
            continue
        lines += [f"### {category} ({len(found)})", "", "| severity | rule | message | location |", "|---|---|---|---|"]
        for f in found:
            where = f.location.source + (f":{f.location.line}" if f.location.line else "")
            rule = code(f.rule_id) + (f" (Jets {md(f.releases)})" if f.releases else "")
            lines.append(f"| {f.severity} | {rule} | {md(f.message)} | {code(where)} {code(f.location.pointer or '/')} |")
        lines.append("")
    if not report.findings:
        lines += ["No findings.", ""]
    return "\n".join(lines)
