"""SARIF 2.1.0 (validated against the OASIS schema in the test suite): one rule per check with its
help text, a result per finding with ruleId, level and a physical location (the file, the line where
known, the pointer as its logical location). A location that is no file (an AWS policy read live, standard
input) is never written as an artifact URI: it is a logical location only."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TextIO

from auditor.checks import CHECKS
from auditor.model import Location
from auditor.report import Finding, Head, Part, Report, Tail
from auditor.reporters import feed
from auditor.reporters.jsontext import ObjectWriter
from auditor.reporters.spool import Spool

LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def uri(source: str) -> str:
    """A file path (or an AWS policy name) as a SARIF artifact URI: a relative reference (RFC 3986) with
    every character outside the unreserved set and "/" percent-encoded as UTF-8 (a colon too, so the
    first segment is never read as a scheme; a file name that was not valid UTF-8 keeps its bytes)."""
    from urllib.parse import quote

    return quote(source.encode("utf-8", "surrogateescape"), safe="/")


def rule_dict(module) -> dict[str, object]:
    doc = (module.__doc__ or "").strip()
    summary = doc.splitlines()[0].split(": ", 1)[-1] if doc else module.RULE_ID
    return {
        "id": module.RULE_ID,
        "name": "".join(part.capitalize() for part in module.RULE_ID.split("-")),
        "shortDescription": {"text": summary},
        "fullDescription": {"text": doc},
        "help": {"text": doc, "markdown": "```\n" + doc + "\n```"},
        "defaultConfiguration": {"level": LEVEL[module.SEVERITY]},
        "properties": {"category": module.CATEGORY, "tags": ["security", "iam", module.CATEGORY]},
    }


def second_opinion_rule_dict(info) -> dict[str, object]:
    """A parliament issue (--parliament) as a SARIF rule: its title and description from parliament's config."""
    return {
        "id": info.rule_id,
        "name": "".join(part.capitalize() for part in info.rule_id.replace("/", "_").split("_")),
        "shortDescription": {"text": info.title},
        "fullDescription": {"text": info.description},
        "defaultConfiguration": {"level": LEVEL[info.severity]},
        "properties": {"category": info.category, "tags": ["security", "iam", "parliament", info.category]},
    }


def logical_name(loc: Location) -> str:
    """A location that is no file (an AWS policy, standard input) as a SARIF logical location's fully
    qualified name: the policy's name, then the pointer as a URI fragment (RFC 6901, section 6)."""
    return f"{loc.source}#{loc.pointer}" if loc.pointer else loc.source


def _location(loc: Location) -> dict[str, object]:
    """A file is a physical location (the file's URI, the line where known) with the pointer as its
    logical location; anything else (an AWS policy name, standard input) only a logical location."""
    if not loc.file:
        return {"logicalLocations": [{"name": loc.source, "fullyQualifiedName": logical_name(loc), "kind": "resource"}]}
    physical: dict[str, object] = {"artifactLocation": {"uri": uri(loc.source)}}
    if loc.line:
        physical["region"] = {"startLine": loc.line}
    return {"physicalLocation": physical,
            "logicalLocations": [{"fullyQualifiedName": loc.pointer or "/", "kind": "element"}]}


def result_dict(f: Finding, rule_index: object) -> dict[str, object]:
    result: dict[str, object] = {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": LEVEL[f.severity],
        "message": {"text": f.message + (f" Fix: {f.fix}." if f.fix else "")},
        "locations": [_location(f.location)],
        "partialFingerprints": {"jetsIamAudit/v1": f"{f.rule_id}:{f.location.source}:{f.location.pointer}:{f.subject}"},
        "properties": {"severity": f.severity, "category": f.category, "subject": f.subject,
                       "security-severity": SECURITY_SEVERITY[f.severity]},
    }
    if f.resource:
        result["properties"]["resource"] = f.resource  # type: ignore[index]
    if f.releases:
        result["properties"]["releases"] = f.releases  # type: ignore[index]
    if f.also_reported_by:
        result["properties"]["also_reported_by"] = list(f.also_reported_by)  # type: ignore[index]
    return result


def to_dict(report: Report) -> dict[str, object]:
    """The SARIF log as a dict (for callers in process; the CLI streams it)."""
    import io

    buf = io.StringIO()
    feed(Writer(buf), report)
    return json.loads(buf.getvalue())


class Writer:
    """The log is written as the run streams: the driver and its rules first, then a result per finding.
    With --parliament the second opinion's rules are known only at the end (they follow ours, in the
    log's rules, sorted): the results then wait in a spool, one compact JSON line each with the rule id
    where the index goes, and are given their ruleIndex and written at the end."""

    def __init__(self, out: TextIO, **_: object) -> None:
        self.out = out
        self.ours = {m.RULE_ID: i for i, m in enumerate(CHECKS)}

    def head(self, head: Head) -> None:
        self.head_ = head
        self.late = head.second_opinion
        self.spool = Spool()
        if not self.late:
            self._open(head, [rule_dict(m) for m in CHECKS])

    def _open(self, head: Head, rules: list[dict[str, object]]) -> None:
        self.log = ObjectWriter(self.out)
        self.log.member("$schema", SCHEMA)
        self.log.member("version", "2.1.0")
        self.runs = self.log.array("runs")
        self.run = self.runs.object()
        self.run.member("tool", {"driver": {
            "name": "jets-iam-audit",
            "version": head.tool_version,
            "informationUri": "https://github.com/jets-iam-audit/jets-iam-audit",
            "rules": rules,
            "properties": {"iam_data": head.iam_data},
        }})
        self.results = self.run.array("results")

    def _write(self, findings: Iterable[Finding]) -> None:
        for f in findings:
            index = self.ours.get(f.rule_id)
            if self.late:  # the index of a second opinion's rule is known at the end
                self.spool.write(json.dumps(result_dict(f, index if index is not None else f.rule_id)) + "\n")
            else:
                self.results.item(result_dict(f, index))

    def part(self, part: Part) -> None:
        self._write(part.findings)

    def tail(self, tail: Tail) -> None:
        self._write(tail.findings)
        opinion = tail.second_opinion
        if self.late:
            rules = [rule_dict(m) for m in CHECKS]
            if opinion is not None:
                rules += [second_opinion_rule_dict(info) for info in opinion.rules]
            index = {str(rule["id"]): i for i, rule in enumerate(rules)}
            self._open(self.head_, rules)
            for line in self.spool.lines():
                result = json.loads(line)
                result["ruleIndex"] = index[result["ruleId"]]
                self.results.item(result)
        self.results.close()
        self.run.member("properties", {"settings": self.head_.settings.as_dict(), "exit_code": tail.exit_code,
                                       **({"parliament": opinion.as_dict()} if opinion is not None else {})})
        self.run.close()
        self.runs.close()
        self.log.close()
        self.out.write("\n")
