"""The v1 JSON document (docs/json.md, "The JSON document"): one document, never JSON Lines, never through rich.

Written as the run streams: the head up to "targets" at once, each target's findings as it is audited,
its coverage rows (and ignored findings) into a spool that follows "findings", then the summary. Each
item is encoded on its own (auditor.reporters.jsontext.encode); the bytes are those of
json.dumps(document, indent=2)."""

from __future__ import annotations

from typing import TextIO

from auditor.report import Head, Part, Report, Settings, Tail, Target
from auditor.reporters import feed
from auditor.reporters.jsontext import ArrayWriter, ObjectWriter
from auditor.reporters.spool import Spool

SCHEMA_VERSION = 1


def to_dict(report: Report) -> dict[str, object]:
    """The document as a dict (for callers in process; the CLI streams it)."""
    import io
    import json

    buf = io.StringIO()
    feed(Writer(buf), report)
    return json.loads(buf.getvalue())


def target_dict(t: Target, settings: Settings) -> dict[str, object]:
    out: dict[str, object] = {"kind": t.kind, "name": t.name, "sources": list(t.sources)}
    if t.boundary:
        out["boundary"] = [p.source for p in t.boundary]
    config = t.config_file
    if config:
        out["config"] = config
    if t.settings is not None and t.settings != settings:
        out["settings"] = t.settings.as_dict()
    return out


class Writer:
    def __init__(self, out: TextIO, **_: object) -> None:
        self.out = out
        self.doc = ObjectWriter(out)
        self.coverage = Spool()
        self.ignored = Spool()
        self.show_ignored = False
        self.notes: dict[str, None] = {}  # the head's, then those the targets' audits add (report.with_notes)

    def head(self, head: Head) -> None:
        doc = self.doc
        doc.member("schema_version", SCHEMA_VERSION)
        doc.member("tool", {"name": "jets-iam-audit", "version": head.tool_version, "iam_data": head.iam_data})
        doc.member("settings", head.settings.as_dict())
        targets = doc.array("targets")
        for t in head.targets:
            targets.item(target_dict(t, head.settings))
        targets.close()
        self.findings = doc.array("findings")
        self.rows = ArrayWriter(self.coverage, 1)
        self.ignored_rows = ArrayWriter(self.ignored, 1)
        self.show_ignored = head.settings.show_ignored
        self.notes = dict.fromkeys(head.notes)

    def part(self, part: Part) -> None:
        for f in part.findings:
            self.findings.item(f.as_dict())
        for row in part.coverage:
            self.rows.item(row.as_dict())
        if self.show_ignored:
            for f, reason in part.ignored:
                self.ignored_rows.item({**f.as_dict(), "reason": reason})
        for note in part.notes:
            self.notes.setdefault(note, None)

    def tail(self, tail: Tail) -> None:
        doc = self.doc
        for f in tail.findings:
            self.findings.item(f.as_dict())
        self.findings.close()
        self.rows.close()
        doc.spooled("coverage", self.coverage)
        doc.member("notes", list(self.notes))
        if self.show_ignored:
            self.ignored_rows.close()
            doc.spooled("ignored", self.ignored)
        if tail.second_opinion is not None:
            doc.member("parliament", tail.second_opinion.as_dict())
        if tail.baseline is not None:
            doc.member("baseline", tail.baseline.as_dict())
        doc.member("summary", {"by_severity": tail.tally.by_severity, "by_category": tail.tally.by_category,
                               "exit_code": tail.exit_code})
        doc.close()
        self.out.write("\n")
