"""Policies the way enterprise accounts write them (guard rails, service-call conditions, encryption and
transport guards, boundary requirements, Region pins), judged from the requests Jets really sends:
one that cannot deploy exits 1 naming the action; one that can is not reported missing or denied."""

from __future__ import annotations

import copy
import json

import pytest

from auditor import catalogue, generate
from tests.conftest import audit_json, run_cli

CAT = catalogue.load()
BASE = generate.generate(CAT, "5", CAT.default_features("5"), "demo", ("dev",))[0]  # audits clean (test_generate.py)
GLOBAL = ["iam:*", "sts:*", "route53:*", "cloudfront:*", "organizations:*", "support:*"]


def with_statements(*extra: dict, base: dict = BASE) -> dict:
    doc = copy.deepcopy(base)
    doc["Statement"].extend(extra)
    return doc


def audit(write_policy, doc: dict, *args: str) -> tuple[int, dict]:
    return audit_json(write_policy(doc), "--prefix", "demo", *args)


def bad(report: dict) -> dict[str, set[str]]:
    """action → statuses of its coverage rows that are not granted."""
    out: dict[str, set[str]] = {}
    for row in report["coverage"]:
        if row["status"] != "granted":
            out.setdefault(row["action"], set()).add(row["status"])
    return out


def findings(report: dict) -> list[dict]:
    """The findings but the one about the privilege escalation Jets 5 itself needs, which the generated
    policy has (tests/test_generate.py pins it)."""
    return [f for f in report["findings"] if not (f["rule_id"] == "privilege-escalation" and f["severity"] == "info")]


def missing_findings(report: dict) -> list[str]:
    return [f["subject"] for f in report["findings"] if f["rule_id"] == "missing-action" and f["severity"] != "info"]


REGION_GUARD = {"Sid": "OnlyEurope", "Effect": "Deny", "NotAction": GLOBAL, "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}}


def test_the_generated_policy_has_no_conditional_row(write_policy):
    code, report = audit(write_policy, BASE)
    assert (code, bad(report), findings(report)) == (0, {}, [])


def test_region_guard_rail_that_spares_global_services_deploys_in_its_regions(write_policy):
    code, report = audit(write_policy, with_statements(REGION_GUARD))
    assert (code, bad(report)) == (0, {})
    assert any("judged for Region eu-central-1" in n or "judged for Region eu-west-1" in n for n in report["notes"])
    code, report = audit(write_policy, with_statements(REGION_GUARD), "--region", "eu-west-1")
    assert (code, bad(report)) == (0, {})


def test_region_guard_rail_denies_a_deploy_to_another_region(write_policy):
    code, report = audit(write_policy, with_statements(REGION_GUARD), "--region", "us-east-1")
    assert code == 1
    assert bad(report)["lambda:CreateFunction"] == {"denied"}
    assert "iam:CreateRole" not in bad(report)  # IAM is spared by the guard's NotAction
    finding = next(f for f in report["findings"] if f["subject"] == "lambda:CreateFunction")
    assert finding["severity"] == "high" and "is denied by" in finding["message"]


def test_region_guard_rail_without_the_global_services_denies_iam_everywhere(write_policy):
    """IAM answers in us-east-1 whatever Region Jets deploys to: a guard on every action denies the
    roles CloudFormation creates."""
    guard = {**REGION_GUARD, "NotAction": ["sts:*"]}
    code, report = audit(write_policy, with_statements(guard))
    assert code == 1
    assert bad(report)["iam:CreateRole"] == {"denied"} and "lambda:CreateFunction" not in bad(report)
    denied = next(f for f in report["findings"] if f["subject"] == "iam:CreateRole")
    assert "aws:RequestedRegion" in denied["message"]


def test_region_allow_condition_is_decided(write_policy):
    doc = with_statements()
    for stmt in doc["Statement"]:
        if stmt["Sid"].startswith("JetsLambda"):
            stmt["Condition"] = {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
    assert audit(write_policy, doc)[0] == 0
    code, report = audit(write_policy, doc, "--region", "ap-south-1")
    assert code == 1 and bad(report)["lambda:CreateFunction"] == {"missing"}
    assert "lambda:CreateFunction" in missing_findings(report)


def test_allowed_only_through_cloudformation_leaves_the_clis_own_calls_missing(write_policy):
    doc = with_statements()
    for stmt in doc["Statement"]:
        if stmt["Sid"].startswith("JetsLambda"):
            stmt["Condition"] = {"ForAnyValue:StringEquals": {"aws:CalledVia": "cloudformation.amazonaws.com"}}
    code, report = audit(write_policy, doc)
    assert code == 1
    by_the_cli = {r.action for r in CAT.select("5", ("core", "prewarm")) if r.caller == "cli" and r.action.startswith("lambda:")}
    assert "lambda:InvokeFunction" in by_the_cli  # prewarm: the CLI invokes the functions itself
    assert bad(report) == {action: {"missing"} for action in by_the_cli}
    message = next(f["message"] for f in report["findings"] if f["subject"] == "lambda:InvokeFunction")
    assert "is not granted to the request the Jets CLI makes" in message and "aws:CalledVia" in message


def test_deny_outside_cloudformation_spares_what_cloudformation_does(write_policy):
    guard = {"Sid": "NoDirectIam", "Effect": "Deny", "Action": "iam:*", "Resource": "*",
             "Condition": {"Bool": {"aws:ViaAWSService": "false"}}}
    code, report = audit(write_policy, with_statements(guard))
    assert (code, bad(report)) == (0, {})  # every IAM request of a Jets 5 deploy comes from CloudFormation


@pytest.mark.parametrize("condition", [
    {"StringNotEquals": {"s3:x-amz-server-side-encryption": "AES256"}},
    {"Null": {"s3:x-amz-server-side-encryption": "true"}},
])
def test_encryption_guard_denies_the_uploads_jets_makes_without_the_header(write_policy, condition):
    guard = {"Sid": "RequireSSE", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "*", "Condition": condition}
    code, report = audit(write_policy, with_statements(guard))
    assert code == 1
    assert bad(report) == {"s3:PutObject": {"denied"}}
    assert "s3:PutObject" in [f["subject"] for f in report["findings"] if f["severity"] == "high"]


def test_transport_guard_is_decided_and_changes_nothing(write_policy):
    guard = {"Sid": "TlsOnly", "Effect": "Deny", "Action": "*", "Resource": "*",
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    code, report = audit(write_policy, with_statements(guard))
    assert (code, bad(report), findings(report)) == (0, {}, [])


def test_boundary_requirement_on_role_creation_cannot_be_met(write_policy):
    doc = with_statements()
    for stmt in doc["Statement"]:
        if stmt["Sid"] == "JetsIam":
            stmt["Condition"] = {"StringEquals": {"iam:PermissionsBoundary": "arn:aws:iam::123456789012:policy/boundary"}}
    code, report = audit(write_policy, doc)
    assert code == 1
    assert bad(report)["iam:CreateRole"] == {"missing"}
    message = next(f["message"] for f in report["findings"] if f["subject"] == "iam:CreateRole")
    assert "is not granted to the request CloudFormation makes" in message and "iam:PermissionsBoundary" in message


@pytest.mark.slow
def test_boundary_deny_guard_denies_role_creation(write_policy):
    guard = {"Sid": "BoundaryOrNothing", "Effect": "Deny", "Action": ["iam:CreateRole", "iam:PutRolePolicy"],
             "Resource": "*", "Condition": {"StringNotEquals": {"iam:PermissionsBoundary": "arn:aws:iam::1:policy/b"}}}
    code, report = audit(write_policy, with_statements(guard))
    assert code == 1 and bad(report) == {"iam:CreateRole": {"denied"}, "iam:PutRolePolicy": {"denied"}}


def test_ip_guard_with_the_service_exception_is_conditional_for_the_cli_only(write_policy):
    guard = {"Sid": "OfficeOnly", "Effect": "Deny", "Action": "*", "Resource": "*",
             "Condition": {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}, "Bool": {"aws:ViaAWSService": "false"}}}
    code, report = audit(write_policy, with_statements(guard))
    assert code == 0  # the audit cannot know the deployer's address: info only
    statuses = {(r["caller"], r["status"]) for r in report["coverage"]}
    assert ("cloudformation", "granted") in statuses and ("cloudformation", "conditional") not in statuses
    assert ("cli", "conditional") in statuses and ("cli", "granted") not in statuses
    note = next(f["message"] for f in report["findings"] if f["rule_id"] == "missing-action")
    assert "may be denied" in note and "aws:SourceIp" in note


def test_mfa_condition_is_not_proven_granted(write_policy):
    doc = with_statements()
    for stmt in doc["Statement"]:
        stmt["Condition"] = {**stmt.get("Condition", {}), "Bool": {"aws:MultiFactorAuthPresent": "true"}}
    code, report = audit(write_policy, doc)
    assert code == 0 and {r["status"] for r in report["coverage"]} == {"conditional"}
    assert all("aws:MultiFactorAuthPresent" in f["message"] and "not proven granted" in f["message"]
               for f in report["findings"] if f["rule_id"] == "missing-action")


@pytest.mark.parametrize(("service", "status"), [("lambda.amazonaws.com", "granted"), ("ec2.amazonaws.com", "missing")])
def test_passrole_condition_is_decided_by_the_service_jets_passes_roles_to(write_policy, service, status):
    doc = with_statements()
    for stmt in doc["Statement"]:
        if stmt["Sid"] == "JetsPassRole":
            stmt["Condition"] = {"StringEquals": {"iam:PassedToService": service}}
    report = audit(write_policy, doc)[1]
    assert {r["status"] for r in report["coverage"] if r["action"] == "iam:PassRole"} == {status}


def test_stacks_and_functions_pinned_to_different_regions_cannot_deploy(write_policy):
    doc = with_statements()
    for stmt in doc["Statement"]:
        stmt["Resource"] = [r.replace("cloudformation:*:", "cloudformation:eu-west-1:").replace("lambda:*:", "lambda:us-east-1:")
                            for r in ([stmt["Resource"]] if isinstance(stmt["Resource"], str) else stmt["Resource"])]
    code, report = audit(write_policy, doc)
    assert code == 1
    (split,) = [f for f in report["findings"] if f["rule_id"] == "split-deploy"]
    assert split["severity"] == "high" and "no single Region and account grants everything" in split["message"]
    pinned_together = json.loads(json.dumps(doc).replace("us-east-1", "eu-west-1"))
    code, report = audit(write_policy, pinned_together)
    assert (code, bad(report)) == (0, {})
    assert any("judged for Region eu-west-1" in n for n in report["notes"])


def test_a_policy_that_cannot_deploy_exits_1_through_the_process(write_policy):
    guard = {"Sid": "RequireSSE", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "*",
             "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}}}
    proc = run_cli("file", write_policy(with_statements(guard)), "--prefix", "demo", "--format", "concise")
    assert proc.returncode == 1
    out = proc.stdout.decode()
    assert '"s3:PutObject" on demo-dev-s3bucket-*/jets/code/*.zip is denied by' in out and "#RequireSSE (RequireSSE denies it: " in out


def test_a_tag_guard_denies_what_cloudformation_creates_without_the_tag(write_policy):
    """Jets sets no tags of the user's without the resource-tags feature: a Deny on a missing CostCenter
    tag holds for every request that takes tags, and the deploy cannot create them."""
    guard = {"Sid": "RequireCostCenter", "Effect": "Deny", "Action": ["lambda:CreateFunction", "iam:CreateRole"],
             "Resource": "*", "Condition": {"Null": {"aws:RequestTag/CostCenter": "true"}}}
    code, report = audit(write_policy, with_statements(guard))
    assert (code, bad(report)) == (1, {"lambda:CreateFunction": {"denied"}, "iam:CreateRole": {"denied"}})
    # with resource-tags the stack's own tags reach every resource: whether CostCenter is one is the app's
    code, report = audit(write_policy, with_statements(guard), "--feature", "resource-tags")
    guarded = {a: s for a, s in bad(report).items() if a in ("lambda:CreateFunction", "iam:CreateRole")}
    assert guarded == {"lambda:CreateFunction": {"conditional"}, "iam:CreateRole": {"conditional"}}


def test_passrole_is_judged_in_the_region_of_the_deploy(write_policy):
    """A guard that keeps IAM in us-east-1 denies PassRole in a deploy to eu-west-1: IAM checks it inside
    CloudFormation's lambda:CreateFunction there, not as an IAM request."""
    guard = {"Sid": "IamOnlyInUsEast1", "Effect": "Deny", "Action": "iam:*", "Resource": "*",
             "Condition": {"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}}}
    code, report = audit(write_policy, with_statements(guard), "--region", "eu-west-1")
    assert (code, bad(report)) == (1, {"iam:PassRole": {"denied"}})


def test_a_deny_on_dotted_bucket_names_spares_the_bucket_cloudformation_names(write_policy):
    guard = {"Sid": "NoDottedBuckets", "Effect": "Deny", "Action": "s3:CreateBucket", "Resource": "arn:aws:s3:::*.*"}
    code, report = audit(write_policy, with_statements(guard))
    assert (code, bad(report)) == (0, {})


def test_a_deny_on_some_role_names_says_which_names_it_denies(write_policy):
    """CloudFormation names a role after the nested stack and the logical id, both from the app's class
    names: a Deny on *admin* takes a role only in an app with such a class. Its own verdict, low."""
    guard = {"Sid": "NoAdminRoles", "Effect": "Deny", "Action": "iam:CreateRole", "Resource": "arn:aws:iam::*:role/*admin*"}
    code, report = audit(write_policy, with_statements(guard))
    assert (code, bad(report)) == (1, {"iam:CreateRole": {"name-dependent"}})
    (finding,) = [f for f in report["findings"] if f["subject"] == "iam:CreateRole"]
    assert finding["severity"] == "low"
    assert finding["message"].startswith('"iam:CreateRole" on role/demo-dev-* may be denied, depending on names the app '
                                         "chooses (")
    assert "NoAdminRoles denies it on the names its Resource matches (arn:aws:iam::*:role/*admin*)" in finding["message"]


def test_the_deploy_note_names_what_was_not_given(write_policy):
    pinned = {"Sid": "Pinned", "Effect": "Deny", "NotAction": GLOBAL, "Resource": "*",
              "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}}
    _, report = audit(write_policy, with_statements(pinned), "--account", "123456789012")
    (note,) = [n for n in report["notes"] if "judged for" in n]
    assert ": no --region given; judged for Region eu-central-1 and account 123456789012" in note


def test_policy_variables_the_request_knows_are_put_in_the_resource(write_policy):
    """`${aws:RequestedRegion}` and `${aws:PrincipalAccount}` in a Resource are the deploy's Region and
    account when those are given; not given, they still equal the Region and account of the ARN the
    request acts on (test_region_and_account_variables_equal_the_arn_s_own); another variable leaves the
    grant only maybe, and the note names it."""
    scoped = copy.deepcopy(BASE)
    for stmt in scoped["Statement"]:
        stmt["Resource"] = [r.replace("arn:aws:cloudformation:*:*:", "arn:aws:cloudformation:${aws:RequestedRegion}:"
                                      "${aws:PrincipalAccount}:") for r in stmt["Resource"]]
    code, report = audit(write_policy, scoped, "--region", "eu-west-1", "--account", "111111111111")
    assert (code, bad(report)) == (0, {})
    code, report = audit(write_policy, scoped)
    assert (code, bad(report)) == (0, {})
    for stmt in scoped["Statement"]:
        stmt["Resource"] = [r.replace("${aws:PrincipalAccount}", "${aws:PrincipalTag/account}") for r in stmt["Resource"]]
    code, report = audit(write_policy, scoped)
    assert code == 0 and set(bad(report)) == {"cloudformation:CreateStack", "cloudformation:DeleteStack",
                                               "cloudformation:DescribeStackEvents", "cloudformation:DescribeStackResources",
                                               "cloudformation:DescribeStacks", "cloudformation:UpdateStack"}
    assert {s for statuses in bad(report).values() for s in statuses} == {"conditional"}
    assert any("${aws:PrincipalTag/account}" in note for row in report["coverage"] for note in row.get("notes", []))


# --- keys the request context decides now: no unknown that could be known --------------------------

def test_a_layer_guard_spares_the_gem_layer_jets_always_adds(write_policy):
    """Every function Jets 5 creates has its gem layer (v5.0.14:lib/jets/cfn/resource/lambda/function.rb:153-162),
    in the deploy account: a guard against layers from other accounts changes nothing, one against any layer
    denies the functions."""
    own = {"Sid": "OwnLayersOnly", "Effect": "Deny", "Action": ["lambda:CreateFunction", "lambda:UpdateFunctionConfiguration"],
           "Resource": "*", "Condition": {"ForAnyValue:ArnNotLike": {"lambda:Layer": "arn:aws:lambda:*:123456789012:layer:*"}}}
    code, report = audit(write_policy, with_statements(own), "--account", "123456789012")
    assert (code, bad(report), findings(report)) == (0, {}, [])
    none = {"Sid": "NoLayers", "Effect": "Deny", "Action": "lambda:CreateFunction", "Resource": "*",
            "Condition": {"Null": {"lambda:Layer": "false"}}}
    code, report = audit(write_policy, with_statements(none))
    assert (code, bad(report)) == (1, {"lambda:CreateFunction": {"denied"}})


@pytest.mark.parametrize(("bound", "expected"), [
    ("2020-01-01T00:00:00Z", {"denied"}),  # already past: every deploy comes after it
    ("2999-01-01T00:00:00Z", {"conditional"}),  # still to come: a deploy may come before or after
])
def test_a_date_bound_is_decided_once_it_is_past(write_policy, bound, expected):
    expiry = {"Sid": "Expired", "Effect": "Deny", "Action": "lambda:CreateFunction", "Resource": "*",
              "Condition": {"DateGreaterThan": {"aws:CurrentTime": bound}}}
    code, report = audit(write_policy, with_statements(expiry))
    assert bad(report) == {"lambda:CreateFunction": expected}


@pytest.mark.slow
def test_region_and_account_variables_equal_the_arn_s_own(write_policy):
    """Without --region or --account, ${aws:RequestedRegion} and ${aws:PrincipalAccount} in the Region and
    account segments stand for the request's own, which are the ARN's."""
    doc = with_statements()
    for stmt in doc["Statement"]:
        if stmt["Sid"] == "JetsLambda":
            stmt["Resource"] = ["arn:aws:lambda:${aws:RequestedRegion}:${aws:PrincipalAccount}:function:demo-dev-*"]
    code, report = audit(write_policy, doc)
    assert (code, bad(report)) == (0, {})
    for stmt in doc["Statement"]:  # IAM's ARNs have no Region: a Region variable there equals none
        if stmt["Sid"] == "JetsIam":
            stmt["Resource"] = ["arn:aws:iam:${aws:RequestedRegion}:${aws:PrincipalAccount}:role/demo-dev-*"]
    code, report = audit(write_policy, doc)
    assert bad(report) == {a: {"missing"} for a in {r.action for r in CAT.select("5", ("core", "prewarm"))
                                                  if r.action.startswith("iam:") and r.action != "iam:PassRole"}}


def test_an_old_tls_guard_changes_nothing(write_policy):
    """Every AWS endpoint takes TLS 1.2 or later: a Deny below 1.2 never holds for Jets' S3 requests."""
    guard = {"Sid": "Tls12", "Effect": "Deny", "Action": "s3:*", "Resource": "*",
             "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}}}
    code, report = audit(write_policy, with_statements(guard))
    assert (code, bad(report), findings(report)) == (0, {}, [])
    newest = {**guard, "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.3"}}}  # 1.2 or 1.3: may be denied
    code, report = audit(write_policy, with_statements(newest))
    assert set(bad(report)) == {r.action for r in CAT.select("5", CAT.default_features("5")) if r.action.startswith("s3:")}


def test_a_buildspec_override_guard_denies_jets6_remote_runs(write_policy):
    """Jets 6 starts every build with a buildspec override (v6.0.5:lib/jets/remote/runner.rb:18-22); the CodeBuild
    guide's guard against overrides denies it."""
    (jets6,) = generate.generate(CAT, "6", ("core",), "demo", ("dev",))
    guard = {"Sid": "NoOverride", "Effect": "Deny", "Action": "codebuild:StartBuild", "Resource": "*",
             "Condition": {"Null": {"codebuild:source.buildspec": "false"}}}
    code, report = audit(write_policy, with_statements(guard, base=jets6), "--jets-version", "6")
    assert (code, bad(report)) == (1, {"codebuild:StartBuild": {"denied"}})
