"""missing-action on policies written the way users write them."""

from __future__ import annotations

import json

import pytest

from tests.conftest import DOCS, audit_json, run_cli


def _subjects(doc):
    return sorted({(f["subject"], f["severity"]) for f in doc["findings"] if f["rule_id"] == "missing-action"})


def test_admin_policy_with_a_deny_on_update(write_policy):
    path = write_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Sid": "NoCodeChanges", "Effect": "Deny", "Action": "lambda:Update*", "Resource": "arn:aws:lambda:*:*:function:*"},
    ]})
    code, doc = audit_json(path, "--prefix", "shop")
    assert code == 1
    assert _subjects(doc) == [("lambda:UpdateFunctionCode", "high"), ("lambda:UpdateFunctionConfiguration", "high")]
    f = next(f for f in doc["findings"] if f["rule_id"] == "missing-action")
    assert f["message"].startswith('"lambda:UpdateFunctionCode" on function:shop-dev-* is denied by ')
    assert f["location"]["pointer"] == "/Statement/1" and f["location"]["sid"] == "NoCodeChanges"
    assert f["location"]["line"] == 9


def test_notaction_policy_odd_casing_and_question_marks(write_policy):
    path = write_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "NotAction": ["IAM:*", "organizations:*"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["iam:?etRole", "IAM:createrole", "iam:PutRolePolicy", "iam:GetRolePolicy",
                                        "iam:List*RolePolicies", "iam:DeleteRole*", "iam:PassRole"],
         "Resource": "arn:aws:iam::*:role/shop-*"},
    ]})
    _, doc = audit_json(path, "--prefix", "shop")
    assert _subjects(doc) == [] and doc["summary"]["by_category"]["missing-action"] == 0
    assert {r["status"] for r in doc["coverage"]} == {"granted"}


def test_group_split_over_files_with_combine(write_policy):
    docs = json.loads((DOCS / "least-privilege-2019-10.json").read_text().replace("demo", "shop"))
    base = write_policy(docs, "inline.json")
    extra = write_policy({"Version": "2012-10-17", "Statement": [
        {"Sid": "Update", "Effect": "Allow", "Action": ["lambda:UpdateFunction*", "lambda:GetPolicy"],
         "Resource": "arn:aws:lambda:*:*:function:shop-*"},
        {"Sid": "Handlers", "Effect": "Allow", "Action": ["iam:ListRolePolicies", "iam:ListAttachedRolePolicies"],
         "Resource": "arn:aws:iam::*:role/shop-*"},
        {"Sid": "Rules", "Effect": "Allow", "Action": "events:ListTargetsByRule", "Resource": "arn:aws:events:*:*:rule/shop-*"},
        {"Sid": "Logs", "Effect": "Allow", "Action": "logs:DeleteLogGroup", "Resource": "arn:aws:logs:*:*:log-group:/aws/lambda/shop-*"},
    ]}, "attached.json")
    _, doc = audit_json(base, extra, "--combine")
    assert _subjects(doc) == [] and {r["status"] for r in doc["coverage"]} == {"granted"}
    assert doc["settings"]["prefix"] == "shop" and doc["settings"]["prefix_inferred"] is True
    assert doc["targets"] == [{"kind": "file", "name": f"{base} + {extra}", "sources": [base, extra]}]
    update = next(r for r in doc["coverage"] if r["action"] == "lambda:UpdateFunctionCode")
    assert update["granted_by"] == [f"{extra}#Update"]
    # without --combine each file is judged alone
    _, alone = audit_json(base, extra)
    assert {t["name"] for t in alone["targets"]} == {base, extra}
    assert ("lambda:UpdateFunctionCode", "high") in _subjects(alone)


def test_region_and_account_pinning(write_policy):
    path = write_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "arn:aws:lambda:eu-west-1:123456789012:function:shop-*"},
    ]})
    def invoke_status(*args):
        _, doc = audit_json(path, "--prefix", "shop", *args)
        return next(r["status"] for r in doc["coverage"] if r["action"] == "lambda:InvokeFunction")
    assert invoke_status() == "granted"
    assert invoke_status("--region", "eu-west-1", "--account", "123456789012") == "granted"
    assert invoke_status("--region", "us-east-1") == "missing"
    assert invoke_status("--account", "210987654321") == "missing"


def test_a_condition_on_a_value_the_audit_cannot_know_is_info_and_names_it(write_policy):
    path = write_policy({"Version": "2012-10-17", "Statement": [
        {"Sid": "Prewarm", "Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*",
         "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}},
    ]})
    _, doc = audit_json(path, "--prefix", "shop")
    invoke = next(f for f in doc["findings"] if f["subject"] == "lambda:InvokeFunction")
    assert invoke["severity"] == "info"
    assert invoke["message"] == ('"lambda:InvokeFunction" on function:shop-dev-* is not proven granted (Prewarm grants it '
                                 "only if IpAddress aws:SourceIp=203.0.113.0/24, which the audit cannot know): prewarm after "
                                 "deploy fails: jets invokes the functions (InvocationType Event) with the deployer's "
                                 "credentials once the stack is up")


def test_a_region_condition_is_decided_for_the_region_the_deploy_uses(write_policy):
    path = write_policy({"Version": "2012-10-17", "Statement": [
        {"Sid": "Prewarm", "Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}},
    ]})
    _, doc = audit_json(path, "--prefix", "shop")
    (row,) = [r for r in doc["coverage"] if r["action"] == "lambda:InvokeFunction"]
    assert (row["status"], row["resource"]) == ("granted", "arn:aws:lambda:eu-west-1:*:function:shop-dev-*")
    assert not [f for f in doc["findings"] if f["subject"] == "lambda:InvokeFunction"]
    code, doc = audit_json(path, "--prefix", "shop", "--region", "us-east-1")
    (finding,) = [f for f in doc["findings"] if f["subject"] == "lambda:InvokeFunction"]
    assert code == 1 and finding["severity"] == "high"
    assert finding["message"].startswith('"lambda:InvokeFunction" on function:shop-dev-* is not granted to the request the '
                                         "Jets CLI makes (Prewarm allows it only if StringEquals aws:RequestedRegion=eu-west-1, "
                                         "which this request does not meet): ")
    assert finding["location"]["pointer"] == "/Statement/0/Condition"


@pytest.mark.slow
def test_shell_placeholder_left_in_grants_nothing(write_policy):
    text = (DOCS / "least-privilege-2021-05.json").read_text().replace("demo", "${MY_PREFIX}")
    code, doc = audit_json(write_policy(text), "--prefix", "demo")
    assert code == 1
    statuses = {r["status"] for r in doc["coverage"] if r["resource"] != "*" and "apigateway" not in r["action"]
                and r["action"] not in ("cloudformation:DescribeStacks", "logs:DescribeLogGroups")}
    assert statuses == {"missing"}


def test_an_app_named_resource_reads_as_any_one_of_its_type(write_policy):
    """A requirement the app names (match "some") is shown as "any one table", not as `table/*`, which
    would read as every table; the JSON keeps the pattern and says match "some"."""
    path = write_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:ListFunctions", "Resource": "*"}]})
    _, doc = audit_json(path, "--prefix", "shop", "--feature", "dynamodb-events,s3-events")
    messages = {f["message"].split(":")[0] + ":" + f["message"].split(":")[1] for f in doc["findings"]
                if f["subject"] in ("dynamodb:DescribeTable", "s3:CreateBucket")}
    assert messages == {'missing "dynamodb:DescribeTable" on any one table (table/*)',
                        'missing "s3:CreateBucket" on any one bucket',  # s3-events: the app's bucket
                        'missing "s3:CreateBucket" on shop-dev-s3bucket-*'}  # core: the Jets bucket
    rows = {(r["action"], r["resource"], r["match"]) for r in doc["coverage"]
            if r["action"] in ("dynamodb:DescribeTable", "s3:CreateBucket")}
    assert rows == {("dynamodb:DescribeTable", "arn:aws:dynamodb:*:*:table/*", "some"),
                    ("s3:CreateBucket", "arn:aws:s3:::*", "some"),
                    ("s3:CreateBucket", "arn:aws:s3:::shop-dev-s3bucket-*", "every")}
    table = run_cli("file", str(path), "--prefix", "shop", "--feature", "dynamodb-events", "--format", "table",
                    env_extra={"COLUMNS": "200"})
    assert "any one table (table/*)" in table.stdout.decode()
