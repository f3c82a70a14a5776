"""What the audit reports for every version of the Jets docs' deploy policies (jets-catalogue.md §5),
prefix demo, Jets 5, default features (core, prewarm), env dev."""

from __future__ import annotations

import pytest

from tests.conftest import DOCS, audit_json

UPDATE_PATH = [
    ("high", "lambda:UpdateFunctionCode", "arn:aws:lambda:*:*:function:demo-dev-*", ""),
    ("high", "lambda:UpdateFunctionConfiguration", "arn:aws:lambda:*:*:function:demo-dev-*", ""),
]
HANDLERS = [
    ("medium", "events:ListTargetsByRule", "arn:aws:events:*:*:rule/demo-dev-*", ""),
    ("medium", "iam:ListAttachedRolePolicies", "arn:aws:iam::*:role/demo-dev-*", ""),
    ("medium", "iam:ListRolePolicies", "arn:aws:iam::*:role/demo-dev-*", ""),
]
EXPECTED = {
    # 2019-08: the rev- typo leaves the unversioned dev gem layer uncovered
    "least-privilege-2019-08.json": UPDATE_PATH
    + [("high", "lambda:PublishLayerVersion", "arn:aws:lambda:*:*:layer:dev-demo-gems", "/Statement/2/Resource")]
    + HANDLERS,
    "least-privilege-2019-10.json": UPDATE_PATH + HANDLERS,
    "least-privilege-2020-08.json": HANDLERS,
    "least-privilege-2021-05.json": HANDLERS,
    "broad.json": [],
}


def _pinned(doc):
    return [(f["severity"], f["subject"], f["resource"], f["location"]["pointer"]) for f in doc["findings"]
            if f["rule_id"] == "missing-action"]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_docs_policy(name):
    code, doc = audit_json(str(DOCS / name), "--prefix", "demo")
    assert _pinned(doc) == EXPECTED[name]
    assert code == 1  # every docs version has lint findings, even the broad one that grants everything
    assert doc["summary"]["exit_code"] == code


def test_2019_10_does_not_report_what_it_grants():
    _, doc = audit_json(str(DOCS / "least-privilege-2019-10.json"), "--prefix", "demo")
    granted = {row["action"] for row in doc["coverage"] if row["status"] == "granted"}
    reported = {f["subject"] for f in doc["findings"] if f["rule_id"] == "missing-action"}
    assert not granted & reported
    assert {"lambda:InvokeFunction", "lambda:CreateFunction", "iam:PassRole", "s3:PutObject"} <= granted
    invoke = next(r for r in doc["coverage"] if r["action"] == "lambda:InvokeFunction")
    assert invoke == {"target": str(DOCS / "least-privilege-2019-10.json"), "action": "lambda:InvokeFunction",
                      "resource": "arn:aws:lambda:*:*:function:demo-dev-*", "match": "every", "caller": "cli", "feature": "prewarm",
                      "status": "granted", "granted_by": [str(DOCS / "least-privilege-2019-10.json") + "#Statement[2]"]}


def test_2019_10_message_names_the_broken_step():
    _, doc = audit_json(str(DOCS / "least-privilege-2019-10.json"), "--prefix", "demo")
    update = next(f for f in doc["findings"] if f["subject"] == "lambda:UpdateFunctionCode")
    assert update["message"] == ('missing "lambda:UpdateFunctionCode" on function:demo-dev-*: '
                                 "the second jets deploy fails when CloudFormation updates the functions")



def test_the_docs_log_group_pattern_grants_delete_log_group():
    """The docs' log-group:/aws/lambda/${MY_PREFIX}-*:*:* matches the ARN CloudWatch Logs authorizes
    DeleteLogGroup on, log-group:NAME:log-stream: (anomalyco/sst#4256): granted, and not "can never
    match" (0.1 judged it against log-group:NAME:* and reported both)."""
    _, doc = audit_json(str(DOCS / "least-privilege-2019-10.json"), "--prefix", "demo")
    (row,) = [r for r in doc["coverage"] if r["action"] == "logs:DeleteLogGroup"]
    assert (row["resource"], row["status"], row["granted_by"]) == (
        "arn:aws:logs:*:*:log-group:/aws/lambda/demo-dev-*:log-stream:", "granted",
        [str(DOCS / "least-privilege-2019-10.json") + "#Statement[5]"])
    assert not [f for f in doc["findings"] if f["rule_id"] in ("pattern-never-matches", "resource-type-mismatch")]


def test_2021_05_custom_domain_and_dynamodb():
    _, doc = audit_json(str(DOCS / "least-privilege-2021-05.json"), "--prefix", "demo",
                        "--feature", "custom-domain", "--feature", "dynamodb-events")
    missing = {f["subject"] for f in doc["findings"] if f.get("feature") in ("custom-domain", "dynamodb-events")}
    assert missing == {
        "route53:ChangeResourceRecordSets", "route53:GetChange", "route53:GetHostedZone",
        "route53:ListHostedZones", "route53:ListResourceRecordSets", "dynamodb:DescribeTable",
        "lambda:CreateEventSourceMapping", "lambda:GetEventSourceMapping",
        "lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping",
    }
    # 2021-05 added DescribeStackResource for custom domains: granted, not reported
    rows = [r for r in doc["coverage"] if r["action"] == "cloudformation:DescribeStackResource"]
    assert rows and all(r["status"] == "granted" for r in rows)


def test_2021_05_on_jets_6():
    _, doc = audit_json(str(DOCS / "least-privilege-2021-05.json"), "--prefix", "demo", "--jets-version", "6")
    missing = {f["subject"] for f in doc["findings"] if f["rule_id"] == "missing-action"}
    assert {"codebuild:StartBuild", "codebuild:BatchGetBuilds", "logs:FilterLogEvents",
            "cloudformation:GetTemplate", "cloudformation:ContinueUpdateRollback",
            "iam:AttachRolePolicy"} <= missing
    assert "lambda:UpdateFunctionCode" not in {r["action"] for r in doc["coverage"]}
    assert doc["notes"] == ["prewarm: Jets 6 prewarms from CodeBuild, under the CodeBuild role"]


@pytest.mark.slow
def test_2021_05_staging_env_misses_the_gem_layer():
    _, doc = audit_json(str(DOCS / "least-privilege-2021-05.json"), "--prefix", "demo", "--env", "stag")
    layer = [(f["subject"], f["resource"]) for f in doc["findings"] if ":layer:" in f.get("resource", "")]
    assert layer == [
        ("lambda:DeleteLayerVersion", "arn:aws:lambda:*:*:layer:stag-demo-gems:*"),
        ("lambda:GetLayerVersion", "arn:aws:lambda:*:*:layer:stag-demo-gems:*"),
        ("lambda:PublishLayerVersion", "arn:aws:lambda:*:*:layer:stag-demo-gems"),
    ]
    _, dev = audit_json(str(DOCS / "least-privilege-2021-05.json"), "--prefix", "demo", "--env", "dev", "--env", "prod")
    assert not [f for f in dev["findings"] if ":layer:" in f.get("resource", "")]


def test_full_env_names_map_to_short_ones():
    _, doc = audit_json(str(DOCS / "least-privilege-2021-05.json"), "--prefix", "demo", "--env", "production")
    assert any(r["resource"] == "arn:aws:lambda:*:*:layer:prod-demo-gems" for r in doc["coverage"])


def test_broad_policy_all_features_without_prefix():
    code, doc = audit_json(str(DOCS / "broad.json"), "--feature", "all")
    assert code == 1
    assert doc["settings"]["prefix"] == "*" and doc["settings"]["prefix_inferred"] is False
    assert "none could be inferred" in doc["settings"]["prefix_note"]
    services = {f["subject"].split(":")[0] for f in doc["findings"] if f["rule_id"] == "missing-action"}
    # the broad policy has no cloudfront:*: an EDGE custom domain cannot be created (edge-domain)
    assert services == {"cloudfront", "config", "ec2", "iot", "sns", "sqs", "ssm"}
