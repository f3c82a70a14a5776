"""The IAM evaluator (docs/design.md, "The evaluator"), table-driven. Each case: statements, action, requirement pattern,
options, expected status. Several cases are traps peers get wrong (anchors.md §1c): NotAction expanded
as if granted, Deny with a condition ignored, `?` not expanded, case-insensitive ARNs, one sample
resource instead of containment."""

from __future__ import annotations

import json

import pytest

from auditor.evaluate import evaluate
from auditor.globs import MAX_JOINT, MAX_STATES, covers, overlaps
from auditor.model import parse_policy

FN = "arn:aws:lambda:*:*:function:demo-dev-*"
LOG = "arn:aws:logs:*:*:log-group:/aws/lambda/demo-dev-*:*"
TABLE = "arn:aws:dynamodb:*:*:table/*"


def allow(action, resource, **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource, **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def statements(*raw):
    policy = parse_policy(json.dumps({"Version": "2012-10-17", "Statement": list(raw)}), "p.json")
    assert not policy.problems, policy.problems
    return policy.statements


COND = {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}

CASES = [
    # id, statements, action, requirement, kwargs, expected
    ("exact grant", [allow("lambda:GetFunction", FN)], "lambda:GetFunction", FN, {}, "granted"),
    ("no statement for the action", [allow("lambda:GetFunction", "*")], "lambda:UpdateFunctionCode", FN, {}, "missing"),
    ("empty policy", [], "lambda:GetFunction", FN, {}, "missing"),
    ("action case-insensitive", [allow("LAMBDA:getfunction", "*")], "lambda:GetFunction", FN, {}, "granted"),
    ("action wildcard", [allow("lambda:Get*", "*")], "lambda:GetFunction", FN, {}, "granted"),
    ("action wildcard does not reach other verbs", [allow("lambda:Get*", "*")], "lambda:UpdateFunctionCode", FN, {}, "missing"),
    ("? is one character in actions", [allow("lambda:GetFunctio?", "*")], "lambda:GetFunction", FN, {}, "granted"),
    ("? is exactly one character", [allow("lambda:GetFunct?", "*")], "lambda:GetFunction", FN, {}, "missing"),
    ("Action * matches everything", [allow("*", "*")], "iam:PassRole", "arn:aws:iam::*:role/demo-dev-*", {}, "granted"),
    ("service wildcard", [allow("lambda:*", "*")], "lambda:InvokeFunction", FN, {}, "granted"),
    ("NotAction grants what it does not list", [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}], "lambda:GetFunction", FN, {}, "granted"),
    ("NotAction does not grant what it lists", [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}], "iam:PassRole", "arn:aws:iam::*:role/demo-dev-*", {}, "missing"),
    ("NotAction is case-insensitive", [{"Effect": "Allow", "NotAction": "LAMBDA:*", "Resource": "*"}], "lambda:GetFunction", FN, {}, "missing"),
    ("explicit Deny wins", [allow("lambda:*", "*"), deny("lambda:UpdateFunctionCode", "*")], "lambda:UpdateFunctionCode", FN, {}, "denied"),
    ("Deny on one function under the pattern", [allow("lambda:*", "*"), deny("lambda:DeleteFunction", "arn:aws:lambda:*:*:function:demo-dev-keep")], "lambda:DeleteFunction", FN, {}, "name-dependent"),
    ("Deny on every function under the pattern", [allow("lambda:*", "*"), deny("lambda:DeleteFunction", "arn:aws:lambda:*:*:function:demo-*")], "lambda:DeleteFunction", FN, {}, "denied"),
    ("Deny elsewhere does not matter", [allow("lambda:*", "*"), deny("lambda:*", "arn:aws:lambda:*:*:function:other-*")], "lambda:GetFunction", FN, {}, "granted"),
    ("Deny with NotAction denies the rest", [allow("*", "*"), {"Effect": "Deny", "NotAction": "lambda:*", "Resource": "*"}], "iam:PassRole", "arn:aws:iam::*:role/demo-dev-*", {}, "denied"),
    ("Deny with NotAction spares what it lists", [allow("*", "*"), {"Effect": "Deny", "NotAction": "lambda:*", "Resource": "*"}], "lambda:GetFunction", FN, {}, "granted"),
    ("Deny with a condition is conditional", [allow("lambda:*", "*"), deny("lambda:*", "*", Condition=COND)], "lambda:GetFunction", FN, {}, "conditional"),
    ("Allow with a condition is conditional", [allow("lambda:GetFunction", "*", Condition=COND)], "lambda:GetFunction", FN, {}, "conditional"),
    ("unconditional Allow beside a conditional one", [allow("lambda:GetFunction", "*", Condition=COND), allow("lambda:GetFunction", FN)], "lambda:GetFunction", FN, {}, "granted"),
    ("unconditional Deny beats a conditional Allow", [allow("lambda:GetFunction", "*", Condition=COND), deny("lambda:GetFunction", "*")], "lambda:GetFunction", FN, {}, "denied"),
    ("resources are case-sensitive", [allow("lambda:*", "arn:aws:lambda:*:*:function:Demo-*")], "lambda:GetFunction", FN, {}, "missing"),
    ("broader pattern contains the requirement", [allow("lambda:*", "arn:aws:lambda:*:*:function:demo-*")], "lambda:GetFunction", FN, {}, "granted"),
    ("narrower pattern is not coverage", [allow("lambda:*", "arn:aws:lambda:*:*:function:demo-dev-web-*")], "lambda:GetFunction", FN, {}, "missing"),
    ("one concrete function is not coverage", [allow("lambda:*", "arn:aws:lambda:us-east-1:123456789012:function:demo-dev-web")], "lambda:GetFunction", FN, {}, "missing"),
    ("union of two patterns covers", [allow("lambda:*", ["arn:aws:lambda:*:*:function:demo-dev-?*", "arn:aws:lambda:*:*:function:demo-dev-"])], "lambda:GetFunction", FN, {}, "granted"),
    ("union split over two statements covers", [allow("lambda:*", "arn:aws:lambda:*:*:function:demo-dev-?*"), allow("lambda:GetFunction", "arn:aws:lambda:*:*:function:demo-dev-")], "lambda:GetFunction", FN, {}, "granted"),
    ("one half of the union is not coverage", [allow("lambda:*", "arn:aws:lambda:*:*:function:demo-dev-?*")], "lambda:GetFunction", FN, {}, "missing"),
    ("? in a resource is one character", [allow("lambda:*", "arn:aws:lambda:*:*:function:demo-???-*")], "lambda:GetFunction", FN, {}, "granted"),
    ("? does not fit a four-letter env", [allow("lambda:*", "arn:aws:lambda:*:*:function:demo-???-*")], "lambda:GetFunction", "arn:aws:lambda:*:*:function:demo-stag-*", {}, "missing"),
    ("mid-segment * stops at colons (docs log-group bug)", [allow("logs:DeleteLogGroup", "arn:aws:logs:*:*:log-group:/aws/lambda/demo-*:*:*")], "logs:DeleteLogGroup", LOG, {}, "missing"),
    ("log group with :* suffix", [allow("logs:DeleteLogGroup", "arn:aws:logs:*:*:log-group:/aws/lambda/demo-*:*")], "logs:DeleteLogGroup", LOG, {}, "granted"),
    ("segment-ending * runs across colons", [allow("logs:DeleteLogGroup", "arn:aws:logs:*:*:log-group:/aws/lambda/demo-*")], "logs:DeleteLogGroup", LOG, {}, "granted"),
    ("short ARN with trailing *", [allow("lambda:*", "arn:aws:lambda:*")], "lambda:GetFunction", FN, {}, "granted"),
    ("exact log group without :* misses", [allow("logs:DeleteLogGroup", "arn:aws:logs:*:*:log-group:/aws/lambda/demo-dev-x")], "logs:DeleteLogGroup", LOG, {}, "missing"),
    ("Resource * is every resource", [allow("lambda:GetFunction", "*")], "lambda:GetFunction", FN, {}, "granted"),
    ("action-only requirement needs Resource *", [allow("logs:DescribeLogGroups", "arn:aws:logs:*:*:*")], "logs:DescribeLogGroups", "*", {}, "missing"),
    ("action-only requirement with Resource *", [allow("logs:DescribeLogGroups", "*")], "logs:DescribeLogGroups", "*", {}, "granted"),
    ("pinned region counts when none was given", [allow("lambda:*", "arn:aws:lambda:us-west-2:123456789012:function:demo-*")], "lambda:GetFunction", FN, {"free_region": True, "free_account": True}, "granted"),
    ("region pattern counts when none was given", [allow("lambda:*", "arn:aws:lambda:us-*:*:function:demo-*")], "lambda:GetFunction", FN, {"free_region": True, "free_account": True}, "granted"),
    ("pinned region without the free flag", [allow("lambda:*", "arn:aws:lambda:us-west-2:*:function:demo-*")], "lambda:GetFunction", FN, {}, "missing"),
    ("other region does not count when given", [allow("lambda:*", "arn:aws:lambda:us-west-2:*:function:demo-*")], "lambda:GetFunction", "arn:aws:lambda:us-east-1:*:function:demo-dev-*", {}, "missing"),
    ("same region when given", [allow("lambda:*", "arn:aws:lambda:us-east-1:*:function:demo-*")], "lambda:GetFunction", "arn:aws:lambda:us-east-1:*:function:demo-dev-*", {}, "granted"),
    ("other account does not count when given", [allow("lambda:*", "arn:aws:lambda:*:111111111111:function:demo-*")], "lambda:GetFunction", "arn:aws:lambda:*:222222222222:function:demo-dev-*", {"free_region": True}, "missing"),
    ("NotResource Allow elsewhere grants ours", [{"Effect": "Allow", "Action": "lambda:*", "NotResource": "arn:aws:lambda:*:*:function:other-*"}], "lambda:GetFunction", FN, {}, "granted"),
    ("NotResource Allow cutting into ours", [{"Effect": "Allow", "Action": "lambda:*", "NotResource": "arn:aws:lambda:*:*:function:demo-dev-admin"}], "lambda:GetFunction", FN, {}, "missing"),
    ("Deny NotResource sparing ours", [allow("lambda:*", "*"), {"Effect": "Deny", "Action": "lambda:*", "NotResource": "arn:aws:lambda:*:*:function:demo-*"}], "lambda:GetFunction", FN, {}, "granted"),
    ("Deny NotResource sparing only part", [allow("lambda:*", "*"), {"Effect": "Deny", "Action": "lambda:*", "NotResource": "arn:aws:lambda:*:*:function:demo-dev-web-*"}], "lambda:GetFunction", FN, {}, "name-dependent"),
    ("policy variable is conditional", [allow("lambda:*", "arn:aws:lambda:*:*:function:${aws:username}-*")], "lambda:GetFunction", FN, {}, "conditional"),
    ("shell placeholder never matches", [allow("lambda:*", "arn:aws:lambda:*:*:function:${MY_PREFIX}-*")], "lambda:GetFunction", FN, {}, "missing"),
    ("${*} is a literal star", [allow("lambda:*", "arn:aws:lambda:*:*:function:demo-dev-${*}")], "lambda:GetFunction", FN, {}, "missing"),
    ("bucket ARN does not cover objects", [allow("s3:GetObject", "arn:aws:s3:::demo-dev-bucket")], "s3:GetObject", "arn:aws:s3:::demo-dev-*/jets/code/*", {}, "missing"),
    ("bucket/* covers objects", [allow("s3:GetObject", "arn:aws:s3:::demo-*/*")], "s3:GetObject", "arn:aws:s3:::demo-dev-*/jets/code/*", {}, "granted"),
    ("objects pattern does not cover the bucket", [allow("s3:CreateBucket", "arn:aws:s3:::demo-*/*")], "s3:CreateBucket", "arn:aws:s3:::demo-dev-*", {}, "missing"),
    ("some: one app table is enough", [allow("dynamodb:DescribeTable", "arn:aws:dynamodb:us-east-1:123456789012:table/orders")], "dynamodb:DescribeTable", TABLE, {"match": "some"}, "granted"),
    ("some: nothing granted", [allow("dynamodb:GetItem", "*")], "dynamodb:DescribeTable", TABLE, {"match": "some"}, "missing"),
    ("some: a Deny on one table leaves the others", [allow("dynamodb:*", "*"), deny("dynamodb:*", "arn:aws:dynamodb:*:*:table/secret")], "dynamodb:DescribeTable", TABLE, {"match": "some"}, "granted"),
    ("some: a Deny on all tables", [allow("dynamodb:*", "*"), deny("dynamodb:*", "*")], "dynamodb:DescribeTable", TABLE, {"match": "some"}, "denied"),
    ("Allow and Deny in separate files of one group", [allow("lambda:*", "arn:aws:lambda:*:*:function:demo-*"), deny("lambda:InvokeFunction", "arn:aws:lambda:*:*:function:demo-dev-*")], "lambda:InvokeFunction", FN, {}, "denied"),
]


@pytest.mark.parametrize("name,stmts,action,requirement,kwargs,expected", CASES, ids=[c[0] for c in CASES])
def test_evaluate(name, stmts, action, requirement, kwargs, expected):
    assert evaluate(action, requirement, statements(*stmts), **kwargs).status == expected


def test_at_least_forty_cases():
    assert len(CASES) >= 40


def test_granted_by_names_the_granting_statements():
    stmts = statements({"Sid": "Fn", **allow("lambda:*", "arn:aws:lambda:*:*:function:demo-*")},
                       {"Sid": "Other", **allow("s3:*", "*")})
    verdict = evaluate("lambda:GetFunction", FN, stmts)
    assert [s.sid for s in verdict.granted_by] == ["Fn"]


def test_denied_by_and_notes():
    stmts = statements(allow("lambda:*", "*"), {"Sid": "NoProd", **deny("lambda:*", "*", Condition=COND)})
    verdict = evaluate("lambda:GetFunction", FN, stmts)
    assert verdict.status == "conditional"
    assert verdict.notes == ("NoProd denies it if StringEquals aws:RequestedRegion=us-east-1, which the audit cannot know",)
    assert [s.sid for s in verdict.denied_by] == ["NoProd"]


def test_variable_note():
    stmts = statements({"Sid": "PerUser", **allow("lambda:*", "arn:aws:lambda:*:*:function:${aws:username}-*")})
    verdict = evaluate("lambda:GetFunction", FN, stmts)
    assert verdict.notes == ('PerUser: policy variable in "arn:aws:lambda:*:*:function:${aws:username}-*" is not resolved',)


@pytest.mark.parametrize("requirement,pattern,expected", [
    ("arn:aws:s3:::demo-dev-*", "arn:aws:s3:::demo-*", True),
    ("arn:aws:s3:::demo-dev-*", "arn:aws:s3:::demo-dev-?", False),
    ("*", "*", True),
    ("*", "arn:*", False),
    ("arn:aws:iam::*:role/demo-dev-*", "arn:aws:iam::*:role/*", True),
])
def test_covers(requirement, pattern, expected):
    assert covers(requirement, pattern) is expected


def test_overlaps():
    assert overlaps(TABLE, "arn:aws:dynamodb:us-east-1:1:table/orders")
    assert not overlaps(FN, "arn:aws:lambda:*:*:function:other-*")


def _length_patterns(count):
    """`count` partial patterns whose union is every name under demo-: names of 0, 1, ... count - 2
    characters, and longer ones."""
    base = "arn:aws:s3:::demo-"
    return [base + "?" * k for k in range(count - 1)] + [base + "?" * (count - 1) + "*"]


BUCKETS = "arn:aws:s3:::demo-*"


def test_union_of_partial_statements_is_computed_up_to_max_joint():
    assert MAX_JOINT == 10
    ten = [allow("s3:GetObject", p) for p in _length_patterns(10)]
    eleven = [allow("s3:GetObject", p) for p in _length_patterns(11)]
    assert evaluate("s3:GetObject", BUCKETS, statements(*ten)).status == "granted"
    assert evaluate("s3:GetObject", BUCKETS, statements(*eleven)).status == "missing"  # conservative, never a false grant
    # one statement's Resource list is one union, whatever its length
    assert evaluate("s3:GetObject", BUCKETS, statements(allow("s3:GetObject", _length_patterns(11)))).status == "granted"
    # a Deny beside them takes the vector search, with the same limit
    deny_other = deny("s3:GetObject", "arn:aws:s3:::other-*")
    assert evaluate("s3:GetObject", BUCKETS, statements(*ten, deny_other)).status == "granted"
    assert evaluate("s3:GetObject", BUCKETS, statements(*eleven, deny_other)).status == "missing"


def test_union_search_gives_up_past_max_states():
    assert MAX_STATES == 20000
    # a pattern that makes the union automaton track which of the last k characters were "a": 2^k states
    small = [*_length_patterns(11), "arn:aws:s3:::demo-*a????"]
    large = [*_length_patterns(11), "arn:aws:s3:::demo-*a" + "?" * 16]
    assert evaluate("s3:GetObject", BUCKETS, statements(allow("s3:GetObject", small))).status == "granted"
    assert evaluate("s3:GetObject", BUCKETS, statements(allow("s3:GetObject", large))).status == "missing"
