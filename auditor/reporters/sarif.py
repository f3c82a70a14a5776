"""SARIF 2.1.0 (validated against the OASIS schema in the test suite): one rule per check with its
help text, a result per finding with ruleId, level and a physical location (line where known)."""

from __future__ import annotations

import json

from auditor.checks import CHECKS
from auditor.report import Report

LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def uri(source: str) -> str:
    """A file path (or an AWS policy name) as a SARIF artifact URI: a relative reference (RFC 3986) with
    every character outside the unreserved set and "/" percent-encoded as UTF-8 (a colon too, so the
    first segment is never read as a scheme; a file name that was not valid UTF-8 keeps its bytes)."""
    from urllib.parse import quote

    return quote(source.encode("utf-8", "surrogateescape"), safe="/")


def _rule(module) -> dict[str, object]:
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


def _second_opinion_rule(info) -> dict[str, object]:
    """A parliament issue (--parliament) as a SARIF rule: its title and description from parliament's config."""
    return {
        "id": info.rule_id,
        "name": "".join(part.capitalize() for part in info.rule_id.replace("/", "_").split("_")),
        "shortDescription": {"text": info.title},
        "fullDescription": {"text": info.description},
        "defaultConfiguration": {"level": LEVEL[info.severity]},
        "properties": {"category": info.category, "tags": ["security", "iam", "parliament", info.category]},
    }


def to_dict(report: Report) -> dict[str, object]:
    rules = [_rule(m) for m in CHECKS]
    opinion = report.second_opinion
    if opinion is not None:
        rules += [_second_opinion_rule(info) for info in opinion.rules]
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results = []
    for f in report.findings:
        physical: dict[str, object] = {"artifactLocation": {"uri": uri(f.location.source)}}
        if f.location.line:
            physical["region"] = {"startLine": f.location.line}
        result: dict[str, object] = {
            "ruleId": f.rule_id,
            "ruleIndex": index[f.rule_id],
            "level": LEVEL[f.severity],
            "message": {"text": f.message + (f" Fix: {f.fix}." if f.fix else "")},
            "locations": [{
                "physicalLocation": physical,
                "logicalLocations": [{"fullyQualifiedName": f.location.pointer or "/", "kind": "element"}],
            }],
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
        results.append(result)
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "jets-iam-audit",
                "version": report.tool_version,
                "informationUri": "https://github.com/jets-iam-audit/jets-iam-audit",
                "rules": rules,
                "properties": {"iam_data": report.iam_data},
            }},
            "results": results,
            "properties": {"settings": report.settings.as_dict(), "exit_code": report.exit_code,
                           **({"parliament": opinion.as_dict()} if opinion is not None else {})},
        }],
    }


def render(report: Report, **_: object) -> str:
    return json.dumps(to_dict(report), indent=2) + "\n"
