"""Checks agree with coverage: a check never says a Resource matches nothing Jets creates (or is of the
wrong type, or outside the project) when coverage counts that Resource as granting what Jets needs.
Random patterns, written the way policies write them (segment-ending stars that run across colons,
truncated ARNs, wildcards in any part)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor import catalogue, engine
from auditor.model import parse_policy
from auditor.report import Settings, Target
from tests.conftest import examples

CAT = catalogue.load()
CLAIMS = ("pattern-never-matches", "resource-type-mismatch", "outside-prefix")
ACTIONS = ["lambda:CreateFunction", "lambda:GetLayerVersion", "s3:PutObject", "s3:CreateBucket", "iam:CreateRole",
           "logs:DeleteLogGroup", "logs:DescribeLogGroups", "cloudformation:CreateStack", "events:PutRule"]
SERVICES = ["lambda", "s3", "iam", "logs", "cloudformation", "events", "*", "l*"]
TAILS = ["function:demo-*", "function:*", "*", "layer:*", "layer:dev-demo-gems:*", "role/demo-*", "role/*", "demo-*",
         "demo-*/*", "demo-dev-*/jets/*", "log-group:*", "log-group:/aws/lambda/demo-*:*", "log-group:/aws/lambda/demo-*:*:*",
         "stack/demo-*/*", "stack/demo-dev/*", "rule/demo-*", "*/*", "function:demo-dev-?*", "*:function:*"]

full_arns = st.builds(lambda part, svc, region, account, tail: f"arn:{part}:{svc}:{region}:{account}:{tail}",
                      st.sampled_from(["aws", "*"]), st.sampled_from(SERVICES), st.sampled_from(["*", "", "us-east-1", "us-*"]),
                      st.sampled_from(["*", "", "123456789012"]), st.sampled_from(TAILS))
short_arns = st.sampled_from(["arn:aws:lambda:*", "arn:aws:s3:::*", "arn:*", "arn:aws:*", "arn:aws:iam::*", "arn:aws:logs:*",
                              "arn:aws:cloudformation:us-east-1:*", "arn:aws:lambda:*:*:function:demo-dev-*:*", "*:*"])
resources = st.one_of(full_arns, short_arns)


def _run(action: str, resource: str):
    doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Action": action, "Resource": resource}]})
    policy = parse_policy(doc, "p.json")
    settings_ = Settings("demo", False, None, ("dev",), "5", ("core", "prewarm"))
    return engine.run([Target("file", "p.json", (policy,))], settings_, CAT)


@pytest.mark.slow
@settings(max_examples=examples(400), deadline=None)
@given(st.sampled_from(ACTIONS), resources)
def test_no_check_calls_a_granting_resource_useless(action, resource):
    report = _run(action, resource)
    granting = [r for r in report.coverage if r.action == action and r.status == "granted"]
    if not granting:
        return
    claims = [f for f in report.findings if f.rule_id in CLAIMS]
    assert not claims, (action, resource, [r.resource for r in granting], [f.message for f in claims])


@pytest.mark.parametrize(("action", "resource"), [
    ("lambda:CreateFunction", "arn:aws:lambda:us-east-1:*"),  # the region star runs across the colons
    ("logs:DescribeLogGroups", "arn:aws:logs:*:*:log-group:*"),  # AWS evaluates log-group::log-stream:
    ("s3:CreateBucket", "arn:aws:s3:::demo-*"),
    ("iam:CreateRole", "arn:aws:iam::*:role/*"),
])
def test_known_agreements(action, resource):
    report = _run(action, resource)
    assert {r.status for r in report.coverage if r.action == action} == {"granted"}
    assert not [f for f in report.findings if f.rule_id in CLAIMS]
