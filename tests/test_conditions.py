"""Condition operators against request contexts, one table per operator family (IAM User Guide,
"Condition operators" and "Conditions with multiple context keys or values")."""

from __future__ import annotations

import pytest

from auditor.conditions import (
    ABSENT,
    PRESENT_UNKNOWN,
    UNKNOWN,
    Known,
    RequestContext,
    Truth,
    condition_truth,
    decide,
    glob_match,
)
from auditor.model import Condition
from auditor.name_parts import NamePart, join

T, F, U = Truth.TRUE, Truth.FALSE, Truth.UNKNOWN


def ctx(**keys) -> RequestContext:
    """Keys spelled with __ for ':' and ___ for '/' (aws__RequestTag___Owner = aws:RequestTag/Owner)."""
    entries = []
    for name, value in keys.items():
        key = name.replace("___", "/").replace("__", ":")
        if isinstance(value, str):
            value = Known((value,))
        elif isinstance(value, tuple):
            value = Known(value)
        entries.append((key.lower(), value))
    return RequestContext(tuple(entries))


def truth(operator: str, key: str, values, context: RequestContext) -> Truth:
    return condition_truth(Condition(operator, key, tuple(values)), context)


STRING = [
    # operator, policy values, request value, expected
    ("StringEquals", ["eu-west-1"], "eu-west-1", T),
    ("StringEquals", ["eu-west-1"], "EU-WEST-1", F),  # case-sensitive
    ("StringEquals", ["eu-*"], "eu-west-1", F),  # no wildcards in StringEquals
    ("StringEquals", ["us-east-1", "eu-west-1"], "eu-west-1", T),  # values: OR
    ("StringNotEquals", ["us-east-1", "eu-west-1"], "eu-west-1", F),  # negated: NOR
    ("StringNotEquals", ["us-east-1", "eu-west-1"], "ap-south-1", T),
    ("StringEqualsIgnoreCase", ["EU-West-1"], "eu-west-1", T),
    ("StringNotEqualsIgnoreCase", ["EU-West-1"], "eu-west-1", F),
    ("StringLike", ["eu-*"], "eu-west-1", T),
    ("StringLike", ["eu-?est-1"], "eu-west-1", T),
    ("StringLike", ["eu-?"], "eu-west-1", F),
    ("StringLike", ["*:function:demo-*"], "arn:aws:lambda:eu-west-1:1:function:demo-dev-x", T),  # * crosses colons
    ("StringLike", ["EU-*"], "eu-west-1", F),
    ("StringNotLike", ["eu-*"], "us-east-1", T),
    ("StringNotLike", ["eu-*", "us-*"], "us-east-1", F),
    ("StringLike", ["a${*}b"], "a*b", T),  # ${*} is a literal star
    ("StringLike", ["a${*}b"], "axb", F),
    ("StringEquals", ["a${$}b"], "a$b", T),
]


@pytest.mark.parametrize(("operator", "values", "request_value", "expected"), STRING)
def test_string_operators(operator, values, request_value, expected):
    assert truth(operator, "aws:RequestedRegion", values, ctx(aws__RequestedRegion=request_value)) is expected


NUMERIC = [
    ("NumericEquals", ["10"], "10", T),
    ("NumericEquals", ["10"], "10.0", T),
    ("NumericNotEquals", ["10"], "11", T),
    ("NumericLessThan", ["10"], "9", T),
    ("NumericLessThan", ["10"], "10", F),
    ("NumericLessThanEquals", ["10"], "10", T),
    ("NumericGreaterThan", ["3600"], "7200", T),
    ("NumericGreaterThanEquals", ["3600"], "3599", F),
    ("NumericLessThan", ["ten"], "9", F),  # not a number: never matches
]


@pytest.mark.parametrize(("operator", "values", "request_value", "expected"), NUMERIC)
def test_numeric_operators(operator, values, request_value, expected):
    assert truth(operator, "aws:MultiFactorAuthAge", values, ctx(aws__MultiFactorAuthAge=request_value)) is expected


DATE = [
    ("DateLessThan", ["2027-01-01T00:00:00Z"], "2026-11-30T12:00:00Z", T),
    ("DateLessThan", ["2026-01-01"], "2026-11-30T12:00:00Z", F),
    ("DateGreaterThan", ["2026-01-01T00:00:00Z"], "2026-11-30T12:00:00Z", T),
    ("DateEquals", ["1764504000"], "2025-11-30T12:00:00Z", T),  # epoch seconds
    ("DateNotEquals", ["2026-11-30T12:00:00Z"], "2026-11-30T12:00:00+00:00", F),
    ("DateLessThanEquals", ["2026-11-30T12:00:00Z"], "2026-11-30T12:00:00Z", T),
    ("DateGreaterThanEquals", ["not a date"], "2026-11-30T12:00:00Z", F),
]


@pytest.mark.parametrize(("operator", "values", "request_value", "expected"), DATE)
def test_date_operators(operator, values, request_value, expected):
    assert truth(operator, "aws:CurrentTime", values, ctx(aws__CurrentTime=request_value)) is expected


@pytest.mark.parametrize(("values", "request_value", "expected"), [
    (["true"], "true", T), (["false"], "true", F), (["TRUE"], "true", T), (["false"], "false", T), (["yes"], "true", F),
])
def test_bool(values, request_value, expected):
    assert truth("Bool", "aws:SecureTransport", values, ctx(aws__SecureTransport=request_value)) is expected


@pytest.mark.parametrize(("operator", "values", "request_value", "expected"), [
    ("IpAddress", ["203.0.113.0/24"], "203.0.113.9", T),
    ("IpAddress", ["203.0.113.0/24"], "198.51.100.1", F),
    ("IpAddress", ["203.0.113.9"], "203.0.113.9", T),  # a single address
    ("NotIpAddress", ["203.0.113.0/24", "198.51.100.0/24"], "198.51.100.1", F),
    ("NotIpAddress", ["203.0.113.0/24"], "192.0.2.1", T),
    ("IpAddress", ["2001:db8::/32"], "2001:db8::1", T),
    ("IpAddress", ["2001:db8::/32"], "203.0.113.9", F),  # another address family
])
def test_ip_operators(operator, values, request_value, expected):
    assert truth(operator, "aws:SourceIp", values, ctx(aws__SourceIp=request_value)) is expected


@pytest.mark.parametrize(("operator", "values", "request_value", "expected"), [
    ("ArnLike", ["arn:aws:lambda:*:*:function:demo-*"], "arn:aws:lambda:eu-west-1:123456789012:function:demo-dev-a", T),
    ("ArnEquals", ["arn:aws:lambda:*:*:function:demo-*"], "arn:aws:lambda:eu-west-1:123456789012:function:demo-dev-a", T),
    ("ArnLike", ["arn:aws:lambda:us-*:*:function:*"], "arn:aws:lambda:eu-west-1:123456789012:function:demo-dev-a", F),
    ("ArnLike", ["arn:aws:lambda:*:function:*"], "arn:aws:lambda:eu-west-1:123456789012:function:x", F),  # 5 parts
    ("ArnLike", ["arn:aws:logs:*:*:log-group:/aws/*"], "arn:aws:logs:eu-west-1:1:log-group:/aws/lambda/x:*", T),
    ("ArnNotLike", ["arn:aws:lambda:*:*:function:demo-*"], "arn:aws:lambda:eu-west-1:1:function:other", T),
    ("ArnNotEquals", ["arn:aws:lambda:*:*:function:demo-*"], "arn:aws:lambda:eu-west-1:1:function:demo-x", F),
    ("ArnLike", ["arn:aws:lambda:*:*:function:demo-*"], "not-an-arn", F),
    ("ArnLike", ["ARN:aws:lambda:*:*:function:demo-*"], "arn:aws:lambda:eu-west-1:1:function:demo-x", F),  # case-sensitive
])
def test_arn_operators(operator, values, request_value, expected):
    assert truth(operator, "aws:SourceArn", values, ctx(aws__SourceArn=request_value)) is expected


def test_binary_equals():
    assert truth("BinaryEquals", "k:bin", ["QmluYXJ5"], ctx(k__bin="QmluYXJ5")) is T
    assert truth("BinaryEquals", "k:bin", ["QmluYXJ5"], ctx(k__bin="QmluYXJ6")) is F
    assert truth("BinaryEquals", "k:bin", ["not base64!"], ctx(k__bin="QmluYXJ5")) is F


# --- a key the request does not carry ------------------------------------------------------------

ABSENT_KEY = [
    ("StringEquals", F), ("StringNotEquals", T), ("StringLike", F), ("StringNotLike", T),
    ("StringEqualsIfExists", T), ("StringNotEqualsIfExists", T), ("NumericLessThan", F), ("NumericNotEquals", T),
    ("DateLessThan", F), ("DateNotEquals", T), ("Bool", F), ("BoolIfExists", T), ("IpAddress", F), ("NotIpAddress", T),
    ("ArnLike", F), ("ArnNotLike", T), ("BinaryEquals", F),
    ("ForAllValues:StringEquals", T), ("ForAnyValue:StringEquals", F),
    ("ForAllValues:StringNotEquals", T), ("ForAnyValue:StringNotEquals", F),
]


@pytest.mark.parametrize(("operator", "expected"), ABSENT_KEY)
def test_absent_key(operator, expected):
    assert truth(operator, "s3:x-amz-server-side-encryption", ["AES256"], RequestContext((), otherwise=ABSENT)) is expected
    context = RequestContext((("s3:x-amz-server-side-encryption", ABSENT),))
    assert truth(operator, "s3:x-amz-server-side-encryption", ["AES256"], context) is expected


@pytest.mark.parametrize(("values", "value", "expected"), [
    (["true"], ABSENT, T), (["false"], ABSENT, F), (["true"], Known(("x",)), F), (["false"], Known(("x",)), T),
    (["true"], UNKNOWN, U), (["false"], PRESENT_UNKNOWN, T), (["true"], PRESENT_UNKNOWN, F),
    (["true", "false"], ABSENT, T),
])
def test_null(values, value, expected):
    context = RequestContext((("aws:sourceip", value),))
    assert truth("Null", "aws:SourceIp", values, context) is expected


def test_unknown_value_stays_unknown_and_ifexists_too():
    context = RequestContext((("aws:sourceip", PRESENT_UNKNOWN),))
    assert truth("IpAddress", "aws:SourceIp", ["10.0.0.0/8"], context) is U
    assert truth("NotIpAddressIfExists", "aws:SourceIp", ["10.0.0.0/8"], context) is U
    assert truth("StringEquals", "aws:PrincipalTag/team", ["x"], RequestContext(())) is U  # unlisted: unknown


# --- multivalued keys ----------------------------------------------------------------------------

@pytest.mark.parametrize(("operator", "policy", "request_values", "expected"), [
    ("ForAnyValue:StringEquals", ["cloudformation.amazonaws.com"], ("cloudformation.amazonaws.com",), T),
    ("ForAnyValue:StringEquals", ["athena.amazonaws.com"], ("cloudformation.amazonaws.com",), F),
    ("ForAllValues:StringEquals", ["env", "owner"], ("env",), T),
    ("ForAllValues:StringEquals", ["env", "owner"], ("env", "cost"), F),
    ("ForAllValues:StringEquals", ["env"], (), T),  # no value: nothing fails
    ("ForAnyValue:StringEquals", ["env"], (), F),
    ("ForAnyValue:StringNotEquals", ["env"], ("env", "cost"), T),  # some value that is none of them
    ("ForAllValues:StringNotEquals", ["env"], ("env", "cost"), F),
    ("ForAllValues:StringLike", ["e*", "o*"], ("env", "owner"), T),
])
def test_set_operators(operator, policy, request_values, expected):
    assert truth(operator, "aws:TagKeys", policy, ctx(aws__TagKeys=request_values)) is expected


# --- blocks: AND over operators and keys ---------------------------------------------------------

def test_block_is_and_and_names_what_decides():
    context = ctx(aws__SecureTransport="true", aws__RequestedRegion="eu-west-1").with_entries({"aws:sourceip": PRESENT_UNKNOWN})
    ok = Condition("Bool", "aws:SecureTransport", ("true",))
    region = Condition("StringEquals", "aws:RequestedRegion", ("us-east-1",))
    ip = Condition("IpAddress", "aws:SourceIp", ("10.0.0.0/8",))
    assert decide((ok,), context).truth is T
    no = decide((ok, ip, region), context)
    assert (no.truth, no.failed) == (F, "StringEquals aws:RequestedRegion=us-east-1")  # FALSE wins over UNKNOWN
    maybe = decide((ok, ip), context)
    assert (maybe.truth, maybe.unknown) == (U, ("IpAddress aws:SourceIp=10.0.0.0/8",))
    assert decide((), context).truth is T


def test_keys_are_case_insensitive():
    context = ctx(aws__securetransport="true")
    assert truth("Bool", "AWS:SecureTransport", ["true"], context) is T


def test_prefix_entries_answer_for_every_tag_key():
    context = RequestContext((("aws:requesttag/", ABSENT), ("aws:requesttag/owner", Known(("team-a",)))))
    assert truth("Null", "aws:RequestTag/CostCenter", ["true"], context) is T
    assert truth("StringEquals", "aws:RequestTag/Owner", ["team-a"], context) is T


# --- policy variables in values ------------------------------------------------------------------

def test_policy_variables_in_values():
    context = ctx(aws__username="alice", aws__RequestedRegion="eu-west-1")
    assert truth("StringEquals", "aws:RequestedRegion", ["${aws:username}"], context) is F
    assert truth("StringLike", "s3:prefix", ["home/${aws:username}/*"], ctx(s3__prefix="home/alice/x", aws__username="alice")) is T
    unknown = ctx(s3__prefix="home/alice/x")
    assert truth("StringLike", "s3:prefix", ["home/${aws:username}/*"], unknown) is U
    # OR over values: a known match decides it although another value is unknown
    assert truth("StringLike", "s3:prefix", ["home/${aws:username}/*", "home/*"], unknown) is T
    absent = RequestContext((("s3:prefix", Known(("home/x",))), ("aws:principaltag/team", ABSENT)))
    assert truth("StringEquals", "s3:prefix", ["${aws:PrincipalTag/team, 'home/x'}"], absent) is T
    shell = ctx(s3__prefix="${MY_PREFIX}")
    assert truth("StringEquals", "s3:prefix", ["${MY_PREFIX}"], shell) is T  # not an IAM variable: literal


def test_unknown_operator_is_unknown():
    assert truth("StringEqualz", "aws:RequestedRegion", ["x"], ctx(aws__RequestedRegion="x")) is U


@pytest.mark.parametrize(("pattern", "text", "expected"), [
    ("", "", True), ("*", "", True), ("a*b*c", "aXXbYYc", True), ("a*b*c", "aXXbYY", False),
    ("?", "", False), ("*?", "x", True), ("a**", "a", True), ("*a*a*a*a*b", "a" * 60, False),
])
def test_glob_match(pattern, text, expected):
    assert glob_match(pattern, text) is expected


def test_a_context_hashes_once_and_as_its_fields_compare():
    """The hash is computed once (memo keys) and follows equality: equal contexts hash alike, a
    with_entries copy has its own, and an ActionContext's action and keys taken count."""
    from auditor.conditions import ABSENT, Known, RequestContext
    from auditor.context import ActionContext

    a = RequestContext((("aws:securetransport", Known(("true",))),), label="the Jets CLI")
    b = RequestContext((("aws:securetransport", Known(("true",))),), label="the Jets CLI")
    assert a == b and hash(a) == hash(b)
    c = a.with_entries({"aws:SecureTransport": ABSENT})
    assert c != a and c.lookup("aws:securetransport") is ABSENT
    assert hash(c) == hash(RequestContext((("aws:securetransport", ABSENT),), label="the Jets CLI"))
    x = ActionContext(a.entries, label="the Jets CLI", action="s3:putobject", takes=("s3:x-amz-acl",))
    y = ActionContext(a.entries, label="the Jets CLI", action="s3:putobject", takes=("s3:x-amz-acl",))
    z = ActionContext(a.entries, label="the Jets CLI", action="s3:getobject", takes=("s3:x-amz-acl",))
    assert x == y and hash(x) == hash(y) and x != z
    assert {x: 1}[y] == 1 and z not in {x: 1}
    assert hash(x) == hash((x.entries, x.otherwise, x.label, x.action, x.takes))


# --- values the request context gives now: one of several, one per request, later than the audit, names --

def test_one_of_is_decided_when_every_value_agrees():
    from auditor.conditions import OneOf

    tls = RequestContext((("s3:tlsversion", OneOf((Known(("1.2",)), Known(("1.3",))))),))
    assert truth("NumericLessThan", "s3:TlsVersion", ["1.2"], tls) is F  # neither is below 1.2
    assert truth("NumericLessThan", "s3:TlsVersion", ["1.3"], tls) is U  # 1.2 is, 1.3 is not
    maybe = RequestContext((("ssm:recursive", OneOf((Known(("false",)), ABSENT))),))
    assert truth("Bool", "ssm:Recursive", ["true"], maybe) is F
    assert truth("Null", "ssm:Recursive", ["true"], maybe) is U


def test_each_is_every_request_for_an_allow_and_any_for_a_deny():
    from auditor.conditions import Each

    ssm, acm = "arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess", "arn:aws:iam::aws:policy/AWSCertificateManagerReadOnly"
    both = RequestContext((("iam:policyarn", Each((Known((ssm,)), Known((acm,))))),))
    cond = Condition("ArnEquals", "iam:PolicyARN", (ssm,))
    assert condition_truth(cond, both, "Allow") is F  # the other request is not allowed
    assert condition_truth(cond, both, "Deny") is T  # one request is denied
    assert condition_truth(Condition("ArnEquals", "iam:PolicyARN", (ssm, acm)), both, "Allow") is T
    assert decide((cond,), both, "Deny").truth is T


@pytest.mark.parametrize(("operator", "bound", "expected"), [
    ("DateGreaterThan", "2020-01-01T00:00:00Z", T), ("DateLessThan", "2020-01-01T00:00:00Z", F),
    ("DateEquals", "2020-01-01T00:00:00Z", F), ("DateNotEquals", "2020-01-01T00:00:00Z", T),
    ("DateGreaterThan", "2030-01-01T00:00:00Z", U), ("DateLessThan", "2030-01-01T00:00:00Z", U),
    ("DateLessThan", "not a date", F),
    ("NumericGreaterThan", "1577836800", T),  # aws:EpochTime compared as a number
    ("StringEquals", "2020-01-01T00:00:00Z", U),
])
def test_a_date_after_the_audit(monkeypatch, operator, bound, expected):
    from datetime import UTC, datetime

    from auditor import conditions

    monkeypatch.setattr(conditions, "audit_time", lambda: datetime(2026, 11, 30, tzinfo=UTC))
    context = RequestContext((("aws:currenttime", conditions.AFTER_AUDIT),))
    assert truth(operator, "aws:CurrentTime", [bound], context) is expected


@pytest.mark.parametrize(("operator", "policy", "expected"), [
    ("ArnLike", "arn:aws:lambda:*:*:layer:dev-demo-gems:*", T),  # every version of the gem layer
    ("ArnLike", "arn:aws:lambda:*:*:layer:dev-demo-gems:1", U),  # version 1, not the others
    ("ArnLike", "arn:aws:lambda:*:*:layer:other:*", F),
    ("ArnNotLike", "arn:aws:lambda:*:*:layer:*", F),
    ("StringLike", "*:layer:dev-demo-gems:*", T),  # * runs across colons in StringLike
    ("StringEquals", "arn:aws:lambda:eu-west-1:1:layer:dev-demo-gems:1", U),
    ("StringEquals", "arn:aws:lambda:eu-west-1:1:layer:dev-demo-gems:x", F),  # a version is digits
    ("StringEqualsIgnoreCase", "anything", U),  # not decided over a name part
])
def test_a_value_with_a_name_part_is_decided_over_every_name(operator, policy, expected):
    version = NamePart(frozenset("0123456789"), 1)  # {*version}, as catalogue.Naming.pattern reads it
    layer = join(["arn:aws:lambda:eu-west-1:1:layer:dev-demo-gems:", version])
    context = RequestContext((("lambda:layer", Known((layer,))),))
    assert truth(operator, "lambda:Layer", [policy], context) is expected


def test_resource_variables_for_the_requests_own_region_and_account():
    from auditor.conditions import resolve_own

    own = "arn:aws:lambda:${aws:RequestedRegion}:${aws:PrincipalAccount}:function:demo-*"
    assert resolve_own(own, "*", "*") == "arn:aws:lambda:*:*:function:demo-*"
    assert resolve_own(own, "eu-west-1", "1") == "arn:aws:lambda:eu-west-1:1:function:demo-*"
    assert resolve_own("arn:aws:s3:${aws:RequestedRegion}::b", "", "") == "arn:aws:s3:-::b"  # S3 ARNs have no Region
    assert resolve_own("arn:aws:s3:::${aws:username}/*", "", "") == "arn:aws:s3:::${aws:username}/*"
