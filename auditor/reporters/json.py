"""The v1 JSON document (README, "The JSON document"): one document, never JSON Lines, never through rich.

Written as the run streams: the head up to "targets" at once, each target's findings as it is audited,
its coverage rows (and ignored findings) into a spool that follows "findings", then the summary. The
bytes are those of json.dumps(document, indent=2) (auditor.reporters.jsontext)."""

from __future__ import annotations

from json.encoder import encode_basestring_ascii
from typing import TextIO

from auditor.model import Location
from auditor.report import CoverageRow, Finding, Head, Part, Report, Settings, Tail, Target
from auditor.reporters import feed
from auditor.reporters.jsontext import ArrayWriter, Kept, ObjectWriter, dumps, scalar
from auditor.reporters.spool import Spool

SCHEMA_VERSION = 1
# texts kept for reuse (jsontext.Kept: only for keys met before, bounded like every cache here): coverage
# rows' (all but their target) and findings' (all but their location)
ROWS_KEPT, ROWS_SEEN = 256, 1024
FINDINGS_KEPT, FINDINGS_SEEN = 256, 1024


def finding_parts(f: Finding) -> tuple[str, str]:
    """dumps(f.as_dict(), 2) around the location: the text before its value and the text after it (fix,
    also_reported_by), written field by field in as_dict's order: what the findings of a rule about one
    requirement share, whatever their target."""
    head = (f'{{\n      "rule_id": {scalar(f.rule_id, 3)},\n      "category": {scalar(f.category, 3)},'
            f'\n      "severity": {scalar(f.severity, 3)},\n      "message": {scalar(f.message, 3)},'
            f'\n      "subject": {scalar(f.subject, 3)},')
    if f.resource is not None:
        head += f'\n      "resource": {scalar(f.resource, 3)},'
    if f.feature is not None:
        head += f'\n      "feature": {scalar(f.feature, 3)},'
    if f.releases is not None:
        head += f'\n      "releases": {scalar(f.releases, 3)},'
    tail = ""
    if f.fix is not None:
        tail += f',\n      "fix": {scalar(f.fix, 3)}'
    if f.also_reported_by:
        tail += f',\n      "also_reported_by": {dumps(list(f.also_reported_by), 3)}'
    return head + '\n      "location": ', tail + "\n    }"


def location_text(loc: Location) -> str:
    """dumps(loc.as_dict(), 3), field by field."""
    sid, line = loc.sid, loc.line
    return (f'{{\n        "source": {scalar(loc.source, 4)},\n        "pointer": {scalar(loc.pointer, 4)},'
            f'\n        "sid": {"null" if sid is None else scalar(sid, 4)},'
            f'\n        "line": {"null" if line is None else scalar(line, 4)}\n      }}')


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
        self.rows_kept: Kept[str] = Kept(ROWS_KEPT, ROWS_SEEN)
        self.findings_kept: Kept[tuple[str, str]] = Kept(FINDINGS_KEPT, FINDINGS_SEEN)
        self.row_target = ("", '""')  # the last coverage row's target and its text
        self.location: Location | None = None  # the last finding's location, and its text
        self.location_text = ""

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
        self.findings.texts(map(self._finding_text, part.findings))
        self.rows.texts(map(self._row_text, part.coverage))
        if self.show_ignored:
            for f, reason in part.ignored:
                self.ignored_rows.item({**f.as_dict(), "reason": reason})
        for note in part.notes:
            self.notes.setdefault(note, None)

    def _finding_text(self, f: Finding) -> str:
        """dumps(f.as_dict(), 2): most findings differ from another target's only by their location
        (a requirement no statement grants), so the text around it is kept, per the rest of the finding;
        a target's findings mostly share one Location, whose text is kept while they come."""
        key = (f.rule_id, f.category, f.severity, f.message, f.subject, f.resource, f.feature, f.releases, f.fix,
               f.also_reported_by)
        parts = self.findings_kept.kept.get(key)
        if parts is None:
            parts = finding_parts(f)
            self.findings_kept.put(key, parts)
        loc = f.location
        if loc is not self.location:
            self.location, self.location_text = loc, location_text(loc)
        return f"{parts[0]}{self.location_text}{parts[1]}"

    def _row_text(self, row: CoverageRow) -> str:
        """dumps(row.as_dict(), 2): most rows differ from another target's only by the target's name
        (a requirement no statement names), so the text after it is kept, per the rest of the row."""
        key = row[1:]
        rest = self.rows_kept.kept.get(key)
        if rest is None:
            d = row.as_dict()
            if next(iter(d)) != "target":
                return dumps(d, 2)
            del d["target"]
            rest = dumps(d, 2)[1:]  # after its "{"
            self.rows_kept.put(key, rest)
        target, text = self.row_target
        if row.target != target:
            target = row.target
            text = encode_basestring_ascii(target)
            self.row_target = target, text
        return f'{{\n      "target": {text},{rest}'

    def tail(self, tail: Tail) -> None:
        doc = self.doc
        self.findings.texts(map(self._finding_text, tail.findings))
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
