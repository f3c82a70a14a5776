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
    # CloudWatch Logs User Guide, "Overview of managing access permissions": log-group:NAME:* in policies;
    # AWS authorizes log-group actions on log-group:NAME:log-stream: (anomalyco/sst#4256, prowler-cloud/prowler#37)
    ("logs:DeleteLogGroup", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/shop-dev-*:*", "5", ("core",), None, "granted"),
    ("logs:DeleteLogGroup", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/shop-dev-*:log-stream:", "5", ("core",), None, "granted"),
    ("logs:DeleteLogGroup", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/shop-*:*:*", "5", ("core",), None, "granted"),
    ("logs:DeleteLogGroup", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/shop-dev-*", "5", ("core",), None, "granted"),
    ("logs:FilterLogEvents", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/codebuild/shop-dev-remote*:*", "6", ("core",), None, "granted"),
    ("logs:FilterLogEvents", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/codebuild/shop-dev-remote:log-stream:", "6", ("core",), None, "granted"),
    ("logs:PutSubscriptionFilter", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/app/orders:*", "5", ("core", "log-events"), None, "granted"),
    # CloudFormation authorizes a stack that does not exist yet as stack/NAME/* (aws-samples/aws-modern-application-workshop#42)
    ("cloudformation:CreateStack", [f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/shop-dev/*",
                                    f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/shop-dev-*/*"], "5", ("core",), None, "granted"),
    ("cloudformation:CreateStack", f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/shop-dev*", "6", ("core",), None, "granted"),
    # API Gateway Developer Guide, edge-optimized custom domain names: cloudfront:UpdateDistribution on "*"
    ("cloudfront:UpdateDistribution", "*", "5", ("core", "custom-domain", "edge-domain"), None, "granted"),
    # SSM authorizes GetParametersByPath on the path as given (aws-ia/terraform-aws-control_tower_account_factory#174)
    ("ssm:GetParametersByPath", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/shop/dev/*", "6", ("core",), None, "granted"),
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


def test_the_docs_log_group_pattern_grants_delete_log_group():
    """AWS names logs:DeleteLogGroup's resource log-group:NAME:log-stream: in its AccessDenied texts
    (anomalyco/sst#4256, aws-amplify/amplify-cli#10116): the Jets docs' log-group:/aws/lambda/PREFIX-*:*:*
    matches it, and the group's bare ARN does not. 0.1 judged it against log-group:NAME:* and called the
    docs' pattern one that can never match."""
    docs = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/shop-*:*:*"
    assert status("logs:DeleteLogGroup", docs, features=("core",)) == {"granted"}
    assert status("logs:DeleteLogGroup", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/shop-dev-web",
                  features=("core",)) == {"missing"}
    entry = next(r for r in CAT.requirements if r.action == "logs:DeleteLogGroup")
    assert entry.resource.endswith(":log-stream:") and "anomalyco/sst#4256" in entry.authorized_on


def test_a_stack_that_does_not_exist_yet_is_authorized_with_a_literal_star():
    """CreateStack and the first DescribeStacks name stack/NAME/* (a literal *): a policy scoped to stack
    ids (UUIDs hold hyphens) does not grant the first deploy."""
    uuid_shaped = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/shop-dev*/*-*"
    assert status("cloudformation:CreateStack", uuid_shaped, features=("core",)) == {"missing"}
    assert "aws-samples/aws-modern-application-workshop#42" in CAT.names["stackid"].evidence
