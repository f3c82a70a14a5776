"""not-evaluated: what an infrastructure-code reader did not evaluate is a finding at the file and line that
write it, with what was assumed and how to get the exact answer; the summary line counts them."""

from __future__ import annotations

import json

import pytest

from auditor import engine
from auditor.model import Assumption, Location, parse_policy
from auditor.report import Settings, Target
from tests.conftest import run_cli

MODULE_TF = """\
module "deployer" {
  source = "terraform-aws-modules/iam/aws//modules/iam-group-with-policies"
  name   = "jets"
}

resource "aws_iam_group" "deploy" {
  name = "jets-deploy"
}

resource "aws_iam_group_policy" "deploy" {
  group  = aws_iam_group.deploy.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["cloudformation:CreateStack"], Resource = ["*"] }]
  })
}
"""

PLAN = "audit the plan JSON (terraform plan -out plan.out && terraform show -json plan.out > plan.json), where Terraform has decided it"


def test_each_assumption_of_a_target_is_one_info_finding_at_its_spot(cat):
    policy = parse_policy(json.dumps({"Version": "2012-10-17", "Statement": []}), "main.tf#aws_iam_group_policy.deploy")
    spot = Location("infra/main.tf", "/module/deployer", None, 7)
    target = Target("group", "jets-deploy", (policy,),
                    assumptions=(Assumption(spot, 'module "deployer"', "its resources and policies are not part of this audit",
                                            "audit the plan JSON"),))
    settings = Settings("demo", False, None, ("dev",), "5", ("core", "prewarm"))
    report = engine.run([target], settings, cat)
    found = [f for f in report.findings if f.rule_id == "not-evaluated"]
    assert [(f.category, f.severity, f.message, f.subject, f.location, f.fix) for f in found] == [
        ("invalid", "info", 'module "deployer" is not evaluated: its resources and policies are not part of this audit',
         'module "deployer"', spot, "audit the plan JSON")]
    assert "; 1 construct not evaluated; coverage:" in report.summary_line()


@pytest.mark.slow
def test_a_registry_module_call_is_reported_where_it_is_written(tmp_path):
    (tmp_path / "main.tf").write_text(MODULE_TF)
    proc = run_cli("file", str(tmp_path / "main.tf"), "--format", "json", "--prefix", "demo")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    found = [f for f in doc["findings"] if f["rule_id"] == "not-evaluated"]
    shown = 'module "deployer" (source "terraform-aws-modules/iam/aws//modules/iam-group-with-policies")'
    assert found == [{"rule_id": "not-evaluated", "category": "invalid", "severity": "info",
                      "message": f"{shown} is not evaluated: not read (only local modules, ./ or ../ paths, are): its "
                                 "resources and policies are not part of this audit",
                      "subject": shown,
                      "location": {"source": str(tmp_path / "main.tf"), "pointer": "/module/deployer", "sid": None, "line": 1},
                      "fix": PLAN}]
    assert "; 1 construct not evaluated; coverage:" in proc.stderr.decode()


@pytest.mark.slow
def test_count_for_each_and_dynamic_blocks_are_named_not_dropped_silently(tmp_path):
    (tmp_path / "main.tf").write_text("""\
resource "aws_iam_group" "deploy" {
  name = "jets-deploy"
}

data "aws_iam_policy_document" "deploy" {
  statement {
    actions   = ["cloudformation:CreateStack"]
    resources = ["*"]
  }
  dynamic "statement" {
    for_each = local.extra
    content {
      actions   = statement.value
      resources = ["*"]
    }
  }
}

resource "aws_iam_group_policy" "deploy" {
  count  = var.enabled ? 1 : 0
  group  = aws_iam_group.deploy.name
  policy = data.aws_iam_policy_document.deploy.json
}
""")
    proc = run_cli("file", str(tmp_path / "main.tf"), "--format", "json", "--prefix", "demo")
    doc = json.loads(proc.stdout)
    found = [(f["subject"], f["location"]["line"]) for f in doc["findings"] if f["rule_id"] == "not-evaluated"]
    assert found == [('dynamic "statement" block in data.aws_iam_policy_document.deploy', 10),
                     ("count on aws_iam_group_policy.deploy", 20)]
    assert "; 2 constructs not evaluated; coverage:" in proc.stderr.decode()


def test_a_plain_json_policy_has_none(findings):
    assert findings("not-evaluated", {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}) == []
