"""What AWS really authorizes: a policy written the way the service's own user guide tells users to
write it is judged granted (and one that scopes a request AWS evaluates on another resource is not).
Each case names the AWS page it follows; the catalogue entry it exercises names the same evidence."""

from __future__ import annotations

import json

import pytest

from auditor import catalogue, engine
from auditor.model import parse_policy
from auditor.report import Settings, Target

CAT = catalogue.load()
REGION, ACCOUNT = "us-east-1", "111122223333"


def status(action: str, resource, *, version: str = "5", features=("core", "prewarm"), condition=None) -> set[str]:
    stmt = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        stmt["Condition"] = condition
    policy = parse_policy(json.dumps({"Version": "2012-10-17", "Statement": [stmt]}), "guide.json")
    settings = Settings("shop", False, None, ("dev",), version, tuple(features), REGION, ACCOUNT)
    report = engine.run([Target("file", "guide.json", (policy,))], settings, CAT)
    return {row.status for row in report.coverage if row.action == action}


GUIDE = [
    # CloudWatch Logs User Guide, "Logs sent to CloudWatch Logs": "set the ARN of its Resource line to use
    # a * wildcard ... For example, "Resource": "arn:aws:logs:us-east-1:111122223333:log-group:*""
    ("logs:DescribeLogGroups", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:*", "5", ("core",), None, "granted"),
    ("logs:DescribeLogGroups", "*", "5", ("core",), None, "granted"),
    # CloudWatch Logs User Guide, "Overview of managing access permissions": log-group:NAME:* in policies
    ("logs:DeleteLogGroup", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/shop-dev-*:*", "5", ("core",), None, "granted"),
    ("logs:FilterLogEvents", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/codebuild/shop-dev-remote*:*", "6", ("core",), None, "granted"),
    # IAM User Guide, "Allows IAM users to manage their own credentials": user/${aws:username}
    ("iam:GetUser", "arn:aws:iam::*:user/${aws:username}", "6", ("core",), None, "conditional"),
    ("iam:GetUser", f"arn:aws:iam::{ACCOUNT}:user/*", "6", ("core",), None, "granted"),
    # Lambda Developer Guide, event source mappings: Resource "*" scoped with lambda:FunctionArn, which is
    # the ARN of one of the project's functions in Jets' requests (rules/request-context.toml)
    ("lambda:CreateEventSourceMapping", "*", "5", ("core", "sqs-events"),
     {"StringLike": {"lambda:FunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:shop-dev-*"}}, "granted"),
    ("lambda:CreateEventSourceMapping", "*", "5", ("core", "sqs-events"),
     {"StringLike": {"lambda:FunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:other-*"}}, "missing"),
    # SNS Developer Guide: subscription actions are authorized on the topic
    ("sns:Unsubscribe", f"arn:aws:sns:{REGION}:{ACCOUNT}:shop-dev-*", "5", ("core", "s3-events"), None, "granted"),
    # Route 53 Developer Guide, permissions reference: GetChange on change/*, ListHostedZones on *
    ("route53:GetChange", "arn:aws:route53:::change/*", "5", ("core", "custom-domain"), None, "granted"),
    ("route53:ListHostedZones", "*", "5", ("core", "custom-domain"), None, "granted"),
    # API Gateway Developer Guide, "Control access for managing an API": /restapis and /restapis/*
    ("apigateway:POST", [f"arn:aws:apigateway:{REGION}::/restapis", f"arn:aws:apigateway:{REGION}::/restapis/*"],
     "5", ("core",), None, "granted"),
    # S3 User Guide: bucket actions on the bucket ARN, object actions on bucket/*
    ("s3:ListBucket", "arn:aws:s3:::shop-dev-*", "5", ("core",), None, "granted"),
    ("s3:GetObject", "arn:aws:s3:::shop-dev-*/*", "5", ("core",), None, "granted"),
    # CodeBuild User Guide, permissions reference: BatchGetBuilds and StartBuild on the project
    ("codebuild:BatchGetBuilds", f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/shop-dev-remote*", "6", ("core",), None, "granted"),
    # EventBridge User Guide: rule actions on the rule ARN
    ("events:ListTargetsByRule", f"arn:aws:events:{REGION}:{ACCOUNT}:rule/shop-dev-*", "5", ("core",), None, "granted"),
]


@pytest.mark.parametrize(("action", "resource", "version", "features", "condition", "expected"), GUIDE,
                         ids=[f"{g[0]}-{g[2]}" for g in GUIDE])
def test_policy_written_as_the_user_guide_says_is_granted(action, resource, version, features, condition, expected):
    assert status(action, resource, version=version, features=features, condition=condition) == {expected}


def test_describe_log_groups_is_evaluated_on_the_empty_group():
    """AWS evaluates DescribeLogGroups on log-group::log-stream: (hashicorp/terraform-provider-aws#8804):
    a grant on the app's own log groups does not cover it."""
    assert status("logs:DescribeLogGroups", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/shop-*") == {"missing"}
    entry = next(r for r in CAT.requirements if r.action == "logs:DescribeLogGroups")
    assert entry.resource.endswith(":log-group::log-stream:") and "log-group:*" in entry.authorized_on
