"""The v1 JSON document (DESIGN §3): one document, never JSON Lines, never through rich.

Written as the run streams: the head up to "targets" at once, each target's findings as it is audited,
its coverage rows (and ignored findings) into a spool that follows "findings", then the summary. The
bytes are those of json.dumps(document, indent=2) (auditor.reporters.jsontext)."""

from __future__ import annotations

from json.encoder import encode_basestring_ascii
from typing import TextIO

from auditor.report import CoverageRow, Head, Part, Report, Settings, Tail, Target
from auditor.reporters import feed
from auditor.reporters.jsontext import ArrayWriter, ObjectWriter, dumps
from auditor.reporters.spool import Spool

SCHEMA_VERSION = 1
ROWS_KEPT = 4096  # coverage rows' texts kept for reuse (bounded, like every cache here)


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
    config = getattr(t.config, "shown", None)
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
        self.rows_seen: dict[tuple, str] = {}

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
        write = self.findings.text
        for f in part.findings:
            write(dumps(f.as_dict(), 2))
        write, text = self.rows.text, self._row_text
        for row in part.coverage:
            write(text(row))
        if self.show_ignored:
            for f, reason in part.ignored:
                self.ignored_rows.item({**f.as_dict(), "reason": reason})
        for note in part.notes:
            self.notes.setdefault(note, None)

    def _row_text(self, row: CoverageRow) -> str:
        """dumps(row.as_dict(), 2): most rows differ from another target's only by the target's name
        (a requirement no statement names), so the text after it is kept, per the rest of the row."""
        rest = self.rows_seen.get(row[1:])
        if rest is None:
            d = row.as_dict()
            if next(iter(d)) != "target":
                return dumps(d, 2)
            del d["target"]
            rest = dumps(d, 2)[1:]  # after its "{"
            if len(self.rows_seen) >= ROWS_KEPT:
                self.rows_seen.clear()
            self.rows_seen[row[1:]] = rest
        return f'{{\n      "target": {encode_basestring_ascii(row.target)},{rest}'

    def tail(self, tail: Tail) -> None:
        doc = self.doc
        for f in tail.findings:
            self.findings.text(dumps(f.as_dict(), 2))
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
