"""unresolved-reference: placeholders a Terraform or CloudFormation reader left are reported (and not as
shell placeholders); a plain JSON policy has none, so ${MY_PREFIX} there stays shell-placeholder's."""

from __future__ import annotations

from dataclasses import replace

from auditor import engine
from auditor.model import parse_policy
from auditor.report import Settings, Target
from auditor.sources.iac import MappedOrigin, Spot
from tests.checks.conftest import allow

WHY = "var.prefix has no default and no value in terraform.tfvars or *.auto.tfvars"


def _run(cat, policy):
    settings = Settings("demo", False, None, ("dev",), "5", ("core", "prewarm"))
    report = engine.run([Target("group", "deploy", (policy,))], settings, cat)
    return [(f.rule_id, f.subject, f.message, f.location.source, f.location.pointer, f.location.line) for f in report.findings
            if f.rule_id in ("unresolved-reference", "shell-placeholder")]


def test_placeholders_a_reader_left_are_reported_at_their_spot(cat):
    import json

    doc = {"Version": "2012-10-17", "Statement": [
        allow(["lambda:UpdateFunctionCode"], ["arn:aws:lambda:*:*:function:${var.prefix}-*", "arn:aws:s3:::${MY_BUCKET}"],
              Condition={"StringEquals": {"aws:ResourceTag/app": "${var.prefix}"}})]}
    policy = parse_policy(json.dumps(doc, indent=2), "main.tf#aws_iam_policy.p")
    spots = {"/Statement/0/Resource/0": Spot("main.tf", "/resource/aws_iam_policy/p/policy/Statement/0/Resource/0", 12)}
    policy = replace(policy, origin=MappedOrigin(spots, Spot("main.tf", "/resource/aws_iam_policy/p/policy", 3)),
                     unresolved=(("${var.prefix}", WHY),))
    hits = _run(cat, policy)
    assert sorted(hits) == sorted([
        ("unresolved-reference", "arn:aws:lambda:*:*:function:${var.prefix}-*",
         f'"arn:aws:lambda:*:*:function:${{var.prefix}}-*" in Statement[0] refers to ${{var.prefix}}: {WHY}',
         "main.tf", "/resource/aws_iam_policy/p/policy/Statement/0/Resource/0", 12),
        ("unresolved-reference", "${var.prefix}",
         f"condition StringEquals aws:ResourceTag/app in Statement[0] refers to ${{var.prefix}}: {WHY}",
         "main.tf", "/resource/aws_iam_policy/p/policy", 3),
        # ${MY_BUCKET} was written in the file as it stands: a shell placeholder, as in a JSON policy
        ("shell-placeholder", "arn:aws:s3:::${MY_BUCKET}",
         '"arn:aws:s3:::${MY_BUCKET}" in Statement[0] contains the shell placeholder ${MY_BUCKET}: IAM reads it as literal '
         "text, so it matches nothing", "main.tf", "/resource/aws_iam_policy/p/policy", 3),
    ])


def test_a_whole_document_left_unresolved(cat):
    policy = replace(parse_policy("{}", "main.tf#aws_iam_policy.p"), statements=(), problems=(),
                     origin=MappedOrigin({}, Spot("main.tf", "/resource/aws_iam_policy/p/policy", 7)),
                     unresolved=(("${var.policy}", "var.policy is not declared in this module"),))
    assert _run(cat, policy) == [("unresolved-reference", "${var.policy}",
                                  "the policy document is ${var.policy}: var.policy is not declared in this module",
                                  "main.tf", "/resource/aws_iam_policy/p/policy", 7)]


def test_json_policies_have_none(findings):
    assert findings("unresolved-reference", allow("s3:*", "arn:aws:s3:::${MY_PREFIX}-*")) == []
    assert len(findings("shell-placeholder", allow("s3:*", "arn:aws:s3:::${MY_PREFIX}-*"))) == 1
