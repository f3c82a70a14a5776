"""A principal's policy set (--combine, --auth-details, live): lint checks run per document, redundancy
across documents is one info finding per pair naming both, and an AWS managed policy nobody can edit is
one finding, not line-level noise (--show-ignored lists what it folds)."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import DOCS, run_cli

MANAGED_ARN = "arn:aws:iam::aws:policy/AWSLambda_FullAccess"
MANAGED = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["cloudformation:DescribeStacks", "cloudformation:ListStackResources", "cloudwatch:GetMetricData",
                                   "lambda:*", "logs:DescribeLogGroups", "s3:*", "s3:*"], "Resource": "*"},
    {"Sid": "PassRole", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
]}


def _json(proc):
    assert proc.returncode in (0, 1), proc.stderr.decode()
    return json.loads(proc.stdout)


@pytest.mark.slow
def test_lint_checks_run_per_document_and_overlap_is_one_finding(tmp_path):
    shared = {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::demo-dev-*/*"]}
    first = {"Version": "2012-10-17", "Statement": [shared, {"Sid": "All", "Effect": "Allow", "Action": "lambda:*",
                                                             "Resource": "arn:aws:lambda:*:*:function:demo-*"}]}
    second = {"Version": "2012-10-17", "Statement": [dict(shared, Sid="Again"), {
        "Effect": "Allow", "Action": ["lambda:UpdateFunctionCode", "lambda:GetFunction"],
        "Resource": "arn:aws:lambda:*:*:function:demo-dev-*"}]}
    (tmp_path / "a.json").write_text(json.dumps(first, indent=2))
    (tmp_path / "b.json").write_text(json.dumps(second, indent=2))
    doc = _json(run_cli("file", "a.json", "b.json", "--combine", "--prefix", "demo", "--format", "json", cwd=tmp_path))
    rules = [f["rule_id"] for f in doc["findings"]]
    assert "duplicate-statement" not in rules and "redundant-action" not in rules
    (cross,) = [f for f in doc["findings"] if f["rule_id"] == "cross-policy-duplicate"]
    assert cross == {
        "rule_id": "cross-policy-duplicate", "category": "duplicate", "severity": "info",
        "message": '1 statement (Again) and 2 action entries (lambda:UpdateFunctionCode by "lambda:*", lambda:GetFunction by '
                   '"lambda:*") of b.json are already granted by a.json',
        "subject": "a.json", "location": {"source": "b.json", "pointer": "", "sid": None, "line": None},
        "fix": "keep each grant in one policy: delete them from b.json, or detach a.json"}
    # within one document the per-document checks still fire
    (tmp_path / "c.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": first["Statement"] + second["Statement"]}))
    one = _json(run_cli("file", "c.json", "--prefix", "demo", "--format", "json", cwd=tmp_path))
    assert {"duplicate-statement", "redundant-action"} <= {f["rule_id"] for f in one["findings"]}
    assert "cross-policy-duplicate" not in {f["rule_id"] for f in one["findings"]}


@pytest.mark.slow
def test_aws_managed_file_is_one_finding(tmp_path):
    shutil.copy(DOCS / "least-privilege-2021-05.json", tmp_path / "deploy.json")
    (tmp_path / "AWSLambda_FullAccess.json").write_text(json.dumps(MANAGED, indent=2))
    args = ("file", "deploy.json", "--aws-managed", "AWSLambda_FullAccess.json", "--prefix", "demo", "--format", "json")
    doc = _json(run_cli(*args, cwd=tmp_path))
    assert [t["sources"] for t in doc["targets"]] == [["deploy.json", "AWSLambda_FullAccess.json"]]
    inside = [f for f in doc["findings"] if f["location"]["source"] == "AWSLambda_FullAccess.json"]
    (managed,) = inside
    assert managed["rule_id"] == "aws-managed-policy" and managed["severity"] == "high"
    assert managed["message"] == (
        "AWSLambda_FullAccess.json is an AWS managed policy, which cannot be edited, and grants 4 action entries beyond "
        "what Jets needs (cloudformation:ListStackResources, cloudwatch:GetMetricData, lambda:* and 1 more); "
        f"{managed['message'].split('; ')[1]}")
    assert managed["fix"] == ("detach it from file deploy.json + AWSLambda_FullAccess.json and attach the least-privilege "
                              "policy `jets-iam-audit generate` writes for the project")
    shown = _json(run_cli(*args, "--show-ignored", cwd=tmp_path))
    folded = [f for f in shown["ignored"] if f["location"]["source"] == "AWSLambda_FullAccess.json"]
    assert managed["message"].split("; ")[1] == f"{len(folded)} findings in it (--show-ignored lists them)"
    assert {f["rule_id"] for f in folded} >= {"wildcard-action", "duplicate-action", "wildcard-resource"}
    rank = ("info", "low", "medium", "high", "critical")
    assert max((f["severity"] for f in folded), key=rank.index) == managed["severity"]  # the worst it folds
    assert all(f["reason"].startswith("in the AWS managed policy AWSLambda_FullAccess.json, which cannot be edited")
               for f in folded)
    # missing actions stay findings of the set
    assert any(f["rule_id"] == "missing-action" for f in doc["findings"])


def test_auth_details_attached_aws_managed_policy(tmp_path):
    inline = json.loads((DOCS / "least-privilege-2021-05.json").read_text())
    details = {
        "GroupDetailList": [{"GroupName": "Jets", "GroupPolicyList": [{"PolicyName": "JetsPolicy", "PolicyDocument": inline}],
                             "AttachedManagedPolicies": [{"PolicyName": "AWSLambda_FullAccess", "PolicyArn": MANAGED_ARN}]}],
        "UserDetailList": [], "RoleDetailList": [],
        "Policies": [{"PolicyName": "AWSLambda_FullAccess", "Arn": MANAGED_ARN, "DefaultVersionId": "v1",
                      "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": True, "Document": MANAGED}]}]}
    path = tmp_path / "details.json"
    path.write_text(json.dumps(details))
    doc = _json(run_cli("file", "--auth-details", str(path), "--group", "Jets", "--prefix", "demo", "--format", "json"))
    inside = [f for f in doc["findings"] if f["location"]["source"] == MANAGED_ARN]
    assert [f["rule_id"] for f in inside] == ["aws-managed-policy"]
    assert inside[0]["message"].startswith(f"{MANAGED_ARN} is an AWS managed policy, which cannot be edited, and grants 4 ")
    assert inside[0]["fix"].startswith("detach it from group Jets and attach")
    cross = [f for f in doc["findings"] if f["rule_id"] == "cross-policy-duplicate"]
    assert [f["subject"] for f in cross] == [MANAGED_ARN] and cross[0]["location"]["source"] == "group/Jets/inline/JetsPolicy"
