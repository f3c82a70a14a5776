"""Templates and local modules through the .tf that uses them (tf_users.py, targets.load): a JSON policy
template rendered by templatefile()/file() is audited as rendered there, never on its own (where its
placeholders would give false findings); a commit that changes only the template, or only a file of a
local module, re-audits the configuration that uses it (the hook passes only the changed files)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli

MAIN = '''
variable "prefix" { default = "demo" }
resource "aws_iam_group" "deploy" { name = "${var.prefix}-deploy" }
resource "aws_iam_group_policy" "deploy" {
  group  = aws_iam_group.deploy.name
  policy = templatefile("${path.module}/../policies/deploy.json", { prefix = var.prefix })
}
module "extra" {
  source = "../modules/extra"
  prefix = var.prefix
}
resource "aws_iam_group_policy_attachment" "extra" {
  group      = aws_iam_group.deploy.name
  policy_arn = module.extra.arn
}
'''
TEMPLATE = '''{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["cloudformation:CreateStack", "cloudformation:UpdateStack"],
     "Resource": "arn:aws:cloudformation:*:*:stack/${prefix}-*"}
  ]
}
'''
MODULE = '''
variable "prefix" {}
resource "aws_iam_policy" "extra" {
  name   = "${var.prefix}-extra"
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "lambda:UpdateFunctionCode", Resource = "arn:aws:lambda:*:*:function:${var.prefix}-*" }] })
}
output "arn" { value = aws_iam_policy.extra.arn }
'''


def repository(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    for path, text in (("infra/main.tf", MAIN), ("policies/deploy.json", TEMPLATE), ("modules/extra/main.tf", MODULE),
                       ("policies/other.json", '{"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}')):
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    (repo / ".git").mkdir()
    return repo


def audit(repo: Path, *args: str) -> dict:
    proc = run_cli("file", *args, "--format", "json", cwd=repo)
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr.decode(), proc.stderr.decode()
    return json.loads(proc.stdout)


GROUP = {"kind": "group", "name": "demo-deploy", "sources": [
    "infra/main.tf#aws_iam_group_policy.deploy", "modules/extra/main.tf#module.extra.aws_iam_policy.extra"]}


def test_a_directory_audits_the_template_as_rendered_only(tmp_path):
    """`file DIR`: the template is rendered by the .tf (prefix = demo), the module's policy is the group's; neither
    the template nor the module's file is a target of its own; a JSON policy nothing renders still is."""
    repo = repository(tmp_path)
    report = audit(repo, ".")
    assert report["targets"] == [GROUP, {"kind": "file", "name": "policies/other.json", "sources": ["policies/other.json"]}]
    assert not [f for f in report["findings"] if f["rule_id"] == "unresolved-reference"]
    granted = {r["action"] for r in report["coverage"] if r["status"] == "granted"}
    assert {"cloudformation:CreateStack", "lambda:UpdateFunctionCode"} <= granted


def test_a_changed_template_alone_re_audits_the_module_that_renders_it(tmp_path):
    """The hook's run on a commit that changes only the template (pre-commit passes that one file): the .tf of
    the repository that renders it is found and audited, the template is not audited on its own."""
    repo = repository(tmp_path)
    report = audit(repo, "--skip-non-policies", "policies/deploy.json")
    assert report["targets"] == [GROUP]


def test_a_changed_module_file_alone_re_audits_its_caller(tmp_path):
    repo = repository(tmp_path)
    report = audit(repo, "--skip-non-policies", "modules/extra/main.tf")
    assert report["targets"] == [GROUP]


def test_a_file_no_configuration_uses_is_audited_on_its_own(tmp_path):
    repo = repository(tmp_path)
    report = audit(repo, "--skip-non-policies", "policies/other.json")
    assert [t["name"] for t in report["targets"]] == ["policies/other.json"]


def test_a_configuration_that_only_mentions_the_template_in_a_comment_is_not_audited(tmp_path):
    """The search is by name, the decision by evaluation: a .tf whose comment names the file but whose
    configuration does not read it is not added to the run."""
    repo = repository(tmp_path)
    (repo / "infra" / "main.tf").write_text('# see file("other.json")\nresource "aws_iam_group" "g" { name = "g" }\n')
    report = audit(repo, "--skip-non-policies", "policies/other.json")
    assert [t["name"] for t in report["targets"]] == ["policies/other.json"]


@pytest.mark.slow
def test_without_git_the_root_is_the_directory_given(tmp_path):
    """No .git above: the repository root is the directory given on the command line, so `file .` reads
    ../modules from infra/, while `file infra/main.tf` (root: infra) does not read outside infra and says so."""
    repo = repository(tmp_path)
    (repo / ".git").rmdir()
    assert audit(repo, ".")["targets"][0] == GROUP
    report = audit(repo, "infra/main.tf")
    assert [t["sources"] for t in report["targets"]] == [["infra/main.tf#aws_iam_group_policy.deploy"]]
    notes = {f["subject"]: f["message"] for f in report["findings"] if f["rule_id"] == "not-evaluated"}
    assert notes == {'module "extra" (source "../modules/extra")': 'module "extra" (source "../modules/extra") is not evaluated: '
                     "not read: its directory is outside the repository root or does not exist"}
    assert any("outside the repository root, not read" in f["message"] for f in report["findings"]
               if f["rule_id"] == "unresolved-reference")  # the template in ../policies
