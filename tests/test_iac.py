"""Terraform, plan JSON and CloudFormation/SAM/CDK sources: the Jets docs' 2019-10 policy in each form
audits as the JSON fixture does, with locations in its own file; resolution, principals, placeholders
and bad input."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import DOCS, FIXTURES, ROOT, examples, run_cli

IAC = FIXTURES / "iac"
JSON_FIXTURE = DOCS / "least-privilege-2019-10.json"
FORMS = {
    "terraform-document": IAC / "terraform-document" / "main.tf",
    "terraform-jsonencode": IAC / "terraform-jsonencode" / "main.tf",
    "plan": IAC / "plan" / "plan.json",
    "cloudformation": IAC / "cloudformation" / "template.yaml",
    "cdk": IAC / "cdk" / "JetsDeployStack.template.json",
}


def audit(*args: str, code: int | None = 1) -> dict:
    proc = run_cli("file", *args, "--format", "json")
    assert proc.stderr.decode().count("Traceback") == 0, proc.stderr.decode()
    if code is not None:
        assert proc.returncode == code, proc.stderr.decode()
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def reference() -> dict:
    return audit(str(JSON_FIXTURE.relative_to(ROOT)))


def _coverage(doc: dict) -> set[tuple]:
    return {(r["feature"], r["action"], r["resource"], r["status"]) for r in doc["coverage"]}


def _missing(doc: dict) -> list[tuple]:
    return sorted((f["subject"], f.get("resource"), f["severity"], f["message"]) for f in doc["findings"]
                  if f["category"] == "missing-action")


def _lint(doc: dict) -> Counter:
    return Counter((f["rule_id"], f["subject"]) for f in doc["findings"] if f["category"] != "missing-action")


@pytest.mark.slow
@pytest.mark.parametrize("form", sorted(FORMS))
def test_each_form_audits_as_the_json_fixture(form, reference):
    path = str(FORMS[form].relative_to(ROOT))
    doc = audit(path)
    assert [t["kind"] for t in doc["targets"]] == ["group"]
    assert _coverage(doc) == _coverage(reference)
    assert _missing(doc) == _missing(reference)
    expected = _lint(reference)
    if form == "terraform-document":
        # the provider renders actions de-duplicated and sorted: the docs' second
        # "lambda:GetFunctionConfiguration" is gone before IAM ever sees it
        expected -= Counter({("duplicate-action", "lambda:GetFunctionConfiguration"): 1})
    assert _lint(doc) == expected
    # every finding points into the form's own file, with a line
    assert {f["location"]["source"] for f in doc["findings"]} == {path}
    assert all(isinstance(f["location"]["line"], int) for f in doc["findings"])


def _finding(doc: dict, rule: str, subject: str) -> dict:
    return next(f for f in doc["findings"] if f["rule_id"] == rule and f["subject"] == subject)


@pytest.mark.slow
def test_cloudformation_locations_are_template_paths_and_lines():
    doc = audit(str(FORMS["cloudformation"].relative_to(ROOT)))
    f = _finding(doc, "duplicate-action", "lambda:GetFunctionConfiguration")
    assert f["location"] == {"source": "fixtures/iac/cloudformation/template.yaml",
                             "pointer": "/Resources/DeployGroup/Properties/Policies/0/PolicyDocument/Statement/2/Action/7",
                             "sid": None, "line": 49}
    lines = FORMS["cloudformation"].read_text().splitlines()
    assert lines[48].strip() == "- lambda:GetFunctionConfiguration"
    contained = _finding(doc, "duplicate-resource", "arn:aws:lambda:*:*:layer:prod-demo-*:*")
    assert lines[contained["location"]["line"] - 1].strip() == "- !Sub 'arn:aws:lambda:*:*:layer:prod-${Prefix}-*:*'"
    # a finding about the whole principal (an action none of its policies grants) points at its definition
    whole = _finding(doc, "missing-action", "lambda:UpdateFunctionCode")
    assert whole["location"]["pointer"] == "/Resources/DeployGroup"
    assert lines[whole["location"]["line"] - 1].strip() == "DeployGroup:"
    assert doc["targets"] == [{"kind": "group", "name": "demo-deploy",
                               "sources": ["fixtures/iac/cloudformation/template.yaml#DeployGroup/Policies/JetsDeploy"]}]


@pytest.mark.slow
def test_terraform_document_points_at_the_source_element_after_sorting():
    doc = audit(str(FORMS["terraform-document"].relative_to(ROOT)))
    lines = FORMS["terraform-document"].read_text().splitlines()
    for rule, subject in (("wildcard-action", "s3:Put*"), ("wildcard-action", "apigateway:*")):
        f = _finding(doc, rule, subject)
        assert lines[f["location"]["line"] - 1].strip() == f'"{subject}",'
        assert re.fullmatch(r"/data/aws_iam_policy_document/deploy/statement/\d/actions/\d", f["location"]["pointer"])
    f = _finding(doc, "duplicate-resource", "arn:aws:lambda:*:*:layer:prod-demo-*:*")
    assert lines[f["location"]["line"] - 1].strip() == '"arn:aws:lambda:*:*:layer:prod-${var.prefix}-*:*",'
    assert doc["targets"][0]["name"] == "demo-deploy"  # "${var.prefix}-deploy" with prefix from terraform.tfvars


@pytest.mark.slow
def test_jsonencode_and_plan_pointers_mirror_the_document(reference):
    pointers = {(f["rule_id"], f["subject"]): f["location"]["pointer"] for f in reference["findings"] if f["location"]["pointer"]}
    for form, base in (("terraform-jsonencode", "/resource/aws_iam_policy/deploy/policy"),
                       ("plan", "/planned_values/root_module/resources/2/values/policy"),
                       ("cdk", "/Resources/DeployGroupDefaultPolicy5E6F7A8B/Properties/PolicyDocument")):
        doc = audit(str(FORMS[form].relative_to(ROOT)))
        for f in doc["findings"]:
            key = (f["rule_id"], f["subject"])
            if key in pointers:
                assert f["location"]["pointer"] == base + pointers[key], (form, key)


@pytest.mark.slow
def test_sarif_and_github_annotate_the_template_line():
    path = str(FORMS["cloudformation"].relative_to(ROOT))
    proc = run_cli("file", path, "--format", "sarif")
    sarif = json.loads(proc.stdout)
    results = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "duplicate-action"]
    physical = results[0]["locations"][0]["physicalLocation"]
    assert physical == {"artifactLocation": {"uri": path}, "region": {"startLine": 49}}
    gh = run_cli("file", path, "--format", "github").stdout.decode()
    assert f"::notice file={path},line=49,title=duplicate-action (low)::" in gh


@pytest.mark.slow
def test_table_shows_the_group_and_the_file_line():
    proc = run_cli("file", str(FORMS["cloudformation"].relative_to(ROOT)))
    out = proc.stdout.decode()
    assert "group demo-deploy" in out
    row = next(line for line in out.splitlines() if "duplicate-action" in line)
    assert "fixtures/iac/cloudformation/template.yam" in row  # the location cell folds: path, line, template path
    assert "L49" in out and "/Resources/DeployGroup/Properties/Polici" in out


# --- resolution ---------------------------------------------------------------------------------

def _read_tf(tmp_path: Path, text: str, name: str = "main.tf", **files: str):
    from auditor.sources import terraform

    for other, content in files.items():
        (tmp_path / other.replace("__", ".")).write_text(content)
    path = tmp_path / name
    path.write_text(text)
    return terraform.read(str(path), text, region=None, account=None, memo={})


def _doc(policy) -> dict:
    return json.loads(policy.text)


def test_policy_document_renders_as_the_provider_does(tmp_path):
    found = _read_tf(tmp_path, '''
data "aws_iam_policy_document" "base" {
  statement {
    sid       = "Shared"
    actions   = ["s3:GetObject"]
    resources = ["*"]
  }
  statement {
    sid       = "FromSource"
    actions   = ["sqs:SendMessage"]
    resources = ["*"]
  }
}
data "aws_iam_policy_document" "override" {
  statement {
    sid       = "Own"
    actions   = ["logs:PutLogEvents"]
    resources = ["*"]
  }
}
data "aws_iam_policy_document" "deploy" {
  source_policy_documents   = [data.aws_iam_policy_document.base.json]
  override_policy_documents = [data.aws_iam_policy_document.override.json]
  statement {
    sid       = "Shared"
    actions   = ["lambda:UpdateFunctionCode", "cloudformation:UpdateStack", "lambda:UpdateFunctionCode"]
    resources = ["arn:aws:lambda:*:*:function:demo-*"]
  }
  statement {
    sid     = "Own"
    actions = ["iam:GetRole"]
    resources = ["*"]
    condition {
      test     = "StringLike"
      variable = "aws:userid"
      values   = ["&{aws:username}", "$${aws:userid}"]
    }
  }
}
''')
    # the provider writes a set of several actions sorted in reverse (policy_model.go policyDecodeConfigStrings:
    # slices.Sort, then slices.Reverse; its acceptance test expects "s3:ListAllMyBuckets" before "s3:GetBucketLocation")
    assert len(found.loose) == 1 and found.loose[0].source.endswith("main.tf#data.aws_iam_policy_document.deploy")
    assert _doc(found.loose[0]) == {"Version": "2012-10-17", "Statement": [
        {"Sid": "Shared", "Effect": "Allow", "Action": ["lambda:UpdateFunctionCode", "cloudformation:UpdateStack"],
         "Resource": "arn:aws:lambda:*:*:function:demo-*"},
        {"Sid": "FromSource", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"},
        {"Sid": "Own", "Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}]}


def test_iam_variables_stay_variables(tmp_path):
    found = _read_tf(tmp_path, '''
data "aws_iam_policy_document" "d" {
  statement {
    actions   = ["cloudformation:UpdateStack"]
    resources = ["arn:aws:iam::*:user/&{aws:username}", "arn:aws:iam::*:user/$${aws:userid}"]
  }
}
''')
    policy = found.loose[0]
    assert _doc(policy)["Statement"][0]["Resource"] == ["arn:aws:iam::*:user/${aws:username}", "arn:aws:iam::*:user/${aws:userid}"]
    assert policy.unresolved == ()


def test_variables_tfvars_locals_and_pseudo_values(tmp_path):
    found = _read_tf(tmp_path, '''
variable "prefix" { default = "fromdefault" }
variable "env" {}
locals { name = "${var.prefix}-${var.env}" }
data "aws_caller_identity" "current" {}
resource "aws_iam_policy" "p" {
  policy = jsonencode({
    Statement = [{
      Effect = "Allow"
      Action = "cloudformation:UpdateStack"
      Resource = "arn:aws:cloudformation:*:${data.aws_caller_identity.current.account_id}:stack/${local.name}-*"
    }]
  })
}
''', terraform__tfvars='prefix = "fromtfvars"\n', extra__auto__tfvars='env = "dev"\n')
    assert _doc(found.loose[0])["Statement"][0]["Resource"] == "arn:aws:cloudformation:*:*:stack/fromtfvars-dev-*"


@pytest.mark.slow
def test_unresolved_references_are_named_reported_and_never_granted(tmp_path):
    (tmp_path / "main.tf").write_text('''
variable "prefix" {}
resource "aws_iam_group" "deploy" { name = "deploy" }
resource "aws_iam_group_policy" "deploy" {
  group  = aws_iam_group.deploy.id
  policy = <<EOF
{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Action": ["cloudformation:CreateStack", "cloudformation:UpdateStack", "lambda:UpdateFunctionCode"],
    "Resource": ["arn:aws:cloudformation:*:*:stack/${var.prefix}-*", "arn:aws:lambda:*:*:function:${var.prefix}-*",
                 "${aws_s3_bucket.assets.arn}"]
  }]
}
EOF
}
''')
    doc = audit(str(tmp_path / "main.tf"), "--prefix", "demo")
    unresolved = [f for f in doc["findings"] if f["rule_id"] == "unresolved-reference"]
    assert [(f["subject"], f["location"]["line"]) for f in unresolved] == [
        ("arn:aws:cloudformation:*:*:stack/${var.prefix}-*", 12), ("arn:aws:lambda:*:*:function:${var.prefix}-*", 12),
        ("${aws_s3_bucket.assets.arn}", 13)]
    assert unresolved[0]["message"].endswith("refers to ${var.prefix}: var.prefix has no default and no value in "
                                             "terraform.tfvars, *.auto.tfvars or --var")
    assert "known only once Terraform has planned or applied it" in unresolved[2]["message"]
    assert unresolved[0]["category"] == "resource-mismatch" and unresolved[0]["severity"] == "high"
    assert not [f for f in doc["findings"] if f["rule_id"] == "shell-placeholder"]
    statuses = {r["action"]: r["status"] for r in doc["coverage"]}
    assert statuses["lambda:UpdateFunctionCode"] == "missing" and statuses["cloudformation:UpdateStack"] == "missing"
    assert doc["targets"][0]["kind"] == "group"


def test_cloudformation_intrinsics(tmp_path):
    template = tmp_path / "t.yaml"
    template.write_text('''
Parameters:
  Prefix: {Type: String, Default: demo}
  Envs: {Type: CommaDelimitedList, Default: "dev,prod"}
  NoDefault: {Type: String}
Conditions:
  IsDemo: !Equals [!Ref Prefix, demo]
Mappings:
  M: {Layer: {Name: gems}}
Resources:
  Bucket: {Type: AWS::S3::Bucket}
  G: {Type: AWS::IAM::Group}
  P:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Groups: [!Ref G]
      PolicyDocument:
        Statement:
          - Effect: Allow
            Action: [cloudformation:UpdateStack, cloudformation:CreateStack]
            Resource:
              - !Sub "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/${Prefix}-*"
              - !Join ["", ["arn:aws:lambda:*:*:layer:", !Select [1, !Ref Envs], "-", !FindInMap [M, Layer, Name]]]
              - !If [IsDemo, "arn:aws:s3:::demo-*", "arn:aws:s3:::other-*"]
              - !GetAtt Bucket.Arn
              - !Sub "arn:aws:s3:::${NoDefault}/${AWS::StackName}/${!Literal}"
              - !If [IsDemo, !Ref AWS::NoValue, "dropped"]
''')
    from auditor.sources import cloudformation

    found = cloudformation.read(str(template), template.read_text(), region="us-east-1", account="123456789012")
    (principal,) = found.principals
    assert principal.kind == "group" and principal.name == "G" and found.loose == ()
    policy = principal.policies[0]
    assert _doc(policy)["Statement"][0]["Resource"] == [
        "arn:aws:cloudformation:us-east-1:123456789012:stack/demo-*", "arn:aws:lambda:*:*:layer:prod-gems",
        "arn:aws:s3:::demo-*", "${Bucket.Arn}", "arn:aws:s3:::${NoDefault}/${AWS.StackName}/${Literal}"]
    assert dict(policy.unresolved) == {
        "${Bucket.Arn}": "!GetAtt Bucket.Arn: an attribute known only once the stack exists",
        "${NoDefault}": "parameter NoDefault has no Default and no value (--parameter NoDefault=VALUE)",
        "${AWS.StackName}": "AWS::StackName is known only when the stack is deployed"}


# --- principals -----------------------------------------------------------------------------------

MANAGED_TF = '''
resource "aws_iam_group" "deploy" { name = "jets-deploy" }
resource "aws_iam_group" "other" { name = "readers" }
resource "aws_iam_group_policy" "other" {
  group  = aws_iam_group.other.name
  policy = jsonencode({Statement = [{Effect = "Allow", Action = "s3:GetObject", Resource = "*"}]})
}
resource "aws_iam_group_policy_attachment" "deploy" {
  group      = aws_iam_group.deploy.name
  policy_arn = "arn:aws:iam::123456789012:policy/cloudformation-access"
}
resource "aws_iam_policy_attachment" "many" {
  name       = "many"
  groups     = [aws_iam_group.deploy.name]
  policy_arn = aws_iam_policy.own.arn
}
resource "aws_iam_policy" "own" {
  policy = jsonencode({Statement = [{Effect = "Allow", Action = "lambda:UpdateFunctionCode", Resource = "*"}]})
}
'''


@pytest.mark.slow
def test_group_selection_and_managed_policy_note(tmp_path):
    (tmp_path / "iam.tf").write_text(MANAGED_TF)
    path = str(tmp_path / "iam.tf")
    # no principal looks like a Jets deploy principal (none grants cloudformation:CreateStack/UpdateStack):
    # every principal is audited
    doc = audit(path, "--prefix", "demo")
    assert sorted(t["name"] for t in doc["targets"]) == ["jets-deploy", "readers"]
    for name in ("jets-deploy", "aws_iam_group.deploy", "deploy"):
        doc = audit(path, "--prefix", "demo", "--group", name)
        assert doc["targets"] == [{"kind": "group", "name": "jets-deploy", "sources": [f"{path}#aws_iam_policy.own"]}]
    assert doc["notes"] == ["group jets-deploy: 1 managed policy attached by ARN only, not audited: "
                            "arn:aws:iam::123456789012:policy/cloudformation-access (pass --auth-details FILE from "
                            "`aws iam get-account-authorization-details` to include them)"]
    proc = run_cli("file", path, "--group", "nobody")
    assert proc.returncode == 2
    assert proc.stderr.decode().strip() == f"jets-iam-audit: error: no IAM group 'nobody' in {path} (give its IAM name, its address or its logical id)"


@pytest.mark.slow
def test_auth_details_supply_managed_policies(tmp_path):
    (tmp_path / "iam.tf").write_text(MANAGED_TF)
    details = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": [{
        "PolicyName": "cloudformation-access", "Arn": "arn:aws:iam::123456789012:policy/cloudformation-access",
        "PolicyVersionList": [{"IsDefaultVersion": True, "VersionId": "v1", "Document": {
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "cloudformation:*", "Resource": "*"}]}}]}]}
    (tmp_path / "details.json").write_text(json.dumps(details))
    doc = audit(str(tmp_path / "iam.tf"), "--prefix", "demo", "--auth-details", str(tmp_path / "details.json"))
    # with the managed policy's document, jets-deploy now looks like a deploy principal: it alone is audited
    assert [t["name"] for t in doc["targets"]] == ["jets-deploy"]
    assert doc["targets"][0]["sources"] == [f"{tmp_path}/iam.tf#aws_iam_policy.own", "arn:aws:iam::123456789012:policy/cloudformation-access"]
    assert doc["notes"] == []
    statuses = {r["action"]: r["status"] for r in doc["coverage"]}
    assert statuses["cloudformation:UpdateStack"] == "granted" and statuses["lambda:UpdateFunctionCode"] == "granted"


def test_group_option_on_json_files_still_needs_auth_details():
    proc = run_cli("file", str(JSON_FIXTURE), "--group", "Jets")
    assert proc.returncode == 2
    assert "--group selects a principal defined in Terraform or CloudFormation files" in proc.stderr.decode()


# --- skipping and bad input -----------------------------------------------------------------------

@pytest.mark.slow
def test_skip_non_policies_skips_infrastructure_without_iam(tmp_path):
    (tmp_path / "s3.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = "x"\n}\n')
    (tmp_path / "compose.yml").write_text("services:\n  web:\n    image: nginx\n")
    (tmp_path / "app.template.json").write_text('{"Resources": {"B": {"Type": "AWS::S3::Bucket"}}}')
    paths = [str(tmp_path / n) for n in ("s3.tf", "compose.yml", "app.template.json")]
    proc = run_cli("file", "--skip-non-policies", *paths)
    assert proc.returncode == 0 and proc.stdout == b"", proc.stderr.decode()
    doc = audit(*paths)
    assert [f["message"] for f in sorted(doc["findings"], key=lambda f: paths.index(f["location"]["source"]))] == [
        "defines no IAM policy (terraform file with no IAM group, user, role or policy)",
        "not an IAM policy or a CloudFormation template: no Resources with AWS:: types",
        "defines no IAM policy (cloudformation file with no IAM group, user, role or policy)"]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "text", "message", "line"), [
    ("syntax.tf", 'resource "aws_iam_policy" "p" {\n  policy = jsonencode({\n    Statement = [\n  }\n',
     "not valid HCL: Unexpected token", 4),
    ("tag.yaml", "Resources:\n  G:\n    Type: AWS::IAM::Group\n    Properties:\n      GroupName: !Bogus x\n",
     "not a CloudFormation template: unknown tag !Bogus", 5),
    ("broken.yaml", "Resources:\n  G: [AWS::IAM::Group\n", "not YAML:", 3),
    ("huge.tf", 'resource "aws_iam_policy" "p" {\n  policy = "{}"\n}\n' + "# filler\n" * 100_000,
     "refused: larger than 256 KiB or 10,000 lines", None),
    ("aliases.yaml", "Resources:\n  A: &a [AWS::IAM::Group, AWS::IAM::Group, AWS::IAM::Group, AWS::IAM::Group]\n"
     + "".join(f"  B{i}: &b{i} [*{'a' if i == 0 else f'b{i - 1}'}, *{'a' if i == 0 else f'b{i - 1}'}, "
               f"*{'a' if i == 0 else f'b{i - 1}'}, *{'a' if i == 0 else f'b{i - 1}'}]\n" for i in range(12)),
     "not a CloudFormation template: template too large", None),
    ("deep.yaml", "Resources:\n  G: {Type: AWS::IAM::Group}\n  X: " + "[" * 50_000 + "]" * 50_000 + "\n",
     "not a CloudFormation template: nested too deeply", None),
])
def test_bad_infrastructure_code_is_an_invalid_finding(tmp_path, name, text, message, line):
    path = tmp_path / name
    path.write_text(text)
    doc = audit(str(path))
    (finding,) = doc["findings"]
    assert finding["rule_id"] == "invalid-policy" and finding["message"].startswith(message), finding["message"]
    assert "\n" not in finding["message"]
    assert finding["location"]["line"] == line


@pytest.mark.slow
def test_reference_loop_in_locals_is_named(tmp_path):
    (tmp_path / "main.tf").write_text('''locals {
  a = "${local.b}-x"
  b = "${local.c}-y"
  c = "${local.a}-z"
}
resource "aws_iam_policy" "p" {
  policy = jsonencode({Statement = [{Effect = "Allow", Action = "cloudformation:UpdateStack",
                        Resource = ["arn:aws:s3:::${local.a}"]}]})
}
''')
    doc = audit(str(tmp_path / "main.tf"), "--prefix", "demo")
    messages = sorted(f["message"] for f in doc["findings"] if f["rule_id"] == "unresolved-reference")
    assert messages == ['"arn:aws:s3:::${local.a}-z-y-x" in Statement[0] refers to ${local.a}: local.a refers to '
                        'itself (a reference loop)']


@pytest.mark.slow
def test_doubling_locals_stop_at_the_string_budget(tmp_path):
    """30 locals that each double the next would build 2**30 copies of "demo" (4 GiB): the string budget stops
    them (tf_values.MAX_STRING) and the file is an invalid finding naming the budget, in well under a second."""
    doubling = "".join(f'  d{i} = "${{local.d{i + 1}}}${{local.d{i + 1}}}"\n' for i in range(30)) + '  d30 = "demo"\n'
    (tmp_path / "main.tf").write_text(f'''locals {{
{doubling}}}
resource "aws_iam_policy" "p" {{
  policy = jsonencode({{Statement = [{{Effect = "Allow", Action = "cloudformation:UpdateStack",
                        Resource = ["arn:aws:s3:::${{local.d0}}"]}}]}})
}}
''')
    started = time.perf_counter()
    doc = audit(str(tmp_path / "main.tf"), "--prefix", "demo")
    assert time.perf_counter() - started < 30
    (finding,) = doc["findings"]
    assert finding["rule_id"] == "invalid-policy"
    assert finding["message"] == "over the evaluation budget: a string of more than 1,000,000 characters (string budget)"


# --- generate -------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize(("fmt", "suffix"), [("terraform", "tf"), ("cloudformation", "yaml")])
def test_generated_code_reads_back_and_audits_clean(tmp_path, fmt, suffix):
    out = tmp_path / f"deploy.{suffix}"
    # every feature needs more than one managed policy (6,144 characters): a role's inline policy holds it in one
    proc = run_cli("generate", "--prefix", "demo", "--feature", "all", "--attach", "role-inline", "--format", fmt,
                   "--output", str(out))
    assert proc.returncode == 0, proc.stderr.decode()
    reference = json.loads(run_cli("generate", "--prefix", "demo", "--feature", "all", "--attach", "role-inline").stdout)
    doc = audit(str(out), "--prefix", "demo", "--feature", "all", "--fail-on", "low", code=0)
    assert {r["status"] for r in doc["coverage"]} <= {"granted", "conditional"}
    assert [f["rule_id"] for f in doc["findings"] if f["severity"] != "info"] == []
    as_json = tmp_path / "deploy.json"
    as_json.write_text(json.dumps(reference))
    assert _coverage(doc) == _coverage(audit(str(as_json), "--prefix", "demo", "--feature", "all", code=None))


# --- cold start -----------------------------------------------------------------------------------

def test_json_policies_do_not_import_the_infrastructure_readers():
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "auditor", "file", str(JSON_FIXTURE), "--format", "json"],
                          capture_output=True, cwd=ROOT, timeout=120)
    imported = {line.split("|")[-1].strip() for line in proc.stderr.decode().splitlines() if "|" in line}
    assert "auditor.sources.targets" in imported
    for heavy in ("hcl2", "lark", "yaml", "auditor.sources.iac", "auditor.sources.terraform", "auditor.sources.cloudformation",
                  "auditor.sources.tfplan"):
        assert heavy not in imported


@pytest.mark.slow
def test_module_files_are_read_once_for_several_paths(tmp_path):
    for name in ("terraform-document",):
        shutil.copytree(IAC / name, tmp_path / name)
    main, variables = tmp_path / "terraform-document" / "main.tf", tmp_path / "terraform-document" / "variables.tf"
    doc = audit(str(main), str(variables))
    assert [t["name"] for t in doc["targets"]] == ["demo-deploy"]  # variables.tf is context, not "defines no IAM policy"
    doc = audit(str(variables))
    assert [f["message"] for f in doc["findings"]] == ["defines no IAM policy (terraform file with no IAM group, user, role or policy)"]


@pytest.mark.slow
def test_config_ignores_match_the_template_file_and_path(tmp_path):
    shutil.copy(FORMS["cloudformation"], tmp_path / "template.yaml")
    (tmp_path / ".jets-iam-audit.toml").write_text('''
[[ignore]]
file = "template.yaml"
rule = "duplicate-action"
pointer = "/Resources/DeployGroup/Properties/Policies/0/PolicyDocument/Statement/2"
reason = "kept as the docs wrote it"
''')
    proc = run_cli("file", "template.yaml", "--format", "json", "--show-ignored", cwd=tmp_path)
    doc = json.loads(proc.stdout)
    assert [(f["rule_id"], f["location"]["line"], f["reason"]) for f in doc["ignored"]] == [
        ("duplicate-action", 49, "kept as the docs wrote it")]
    assert not [f for f in doc["findings"] if f["rule_id"] == "duplicate-action"]


# --- random input -----------------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

HCL_PIECES = st.sampled_from([
    'resource "aws_iam_policy" "p" {', 'data "aws_iam_policy_document" "d" {', "statement {", "}", "{", "[", "]",
    "policy = ", "actions = ", "resources = ", "jsonencode(", ")", '"s3:*"', '"${var.x}"', '"${local.y}"', "local.y",
    "var.x", "locals {", 'variable "x" {', "default = ", "<<EOF\n{\"Statement\": []}\nEOF\n", ",", "\n", " = ", "x",
    '"$${aws:username}"', "for k in [] : k", "a ? b : c", "1", "null", "true", "%{if x}", '"', "#", "/*", "*/"])
YAML_PIECES = st.sampled_from([
    "Resources:\n", "  G:\n", "    Type: AWS::IAM::Group\n", "    Properties:\n", "      Policies:\n", "        - PolicyName: p\n",
    "          PolicyDocument:\n", "            Statement:\n", "              - Effect: Allow\n", "                Action: ", "!Ref X",
    "!Sub '${X}'", "!GetAtt A.B", "!Join ['', [a, b]]", "!If [C, a, b]", "[", "]", "{", "}", "&a ", "*a", "- ", ": ", "\n",
    "Parameters:\n  X: {Type: String, Default: x}\n", "Conditions:\n  C: !Equals [!Ref X, x]\n", "'", '"', "!Bogus", "\t"])


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(HCL_PIECES, max_size=40))
def test_random_terraform_never_raises(tmp_path, pieces):
    from auditor.sources import terraform

    text = "".join(pieces)
    found = terraform.read(str(tmp_path / "main.tf"), text, memo={})
    for policy in (*found.loose, *found.problems, *(p for pr in found.principals for p in pr.policies)):
        assert isinstance(policy.text, str)


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(YAML_PIECES, max_size=40))
def test_random_templates_never_raise(pieces):
    from auditor.sources import cloudformation

    text = "".join(pieces) + "\nAWS::"
    found = cloudformation.read("t.yaml", text)
    for policy in (*found.loose, *found.problems, *(p for pr in found.principals for p in pr.policies)):
        assert isinstance(policy.text, str)


@pytest.mark.slow
def test_role_with_inline_policy_templatefile_and_file(tmp_path):
    infra = tmp_path / "infra"
    infra.mkdir()
    (infra / "main.tf").write_text('''resource "aws_iam_role" "deployer" {
  name               = "jets-deployer"
  assume_role_policy = data.aws_iam_policy_document.trust.json
  inline_policy {
    name   = "deploy"
    policy = templatefile("${path.module}/deploy.json.tpl", { prefix = "demo" })
  }
}
data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["codebuild.amazonaws.com"]
    }
  }
}
resource "aws_iam_role_policy" "extra" {
  role   = aws_iam_role.deployer.id
  policy = file("${path.module}/extra.json")
}
''')
    (infra / "deploy.json.tpl").write_text('{"Statement": [{"Effect": "Allow", "Action": ["cloudformation:CreateStack",'
                                           ' "cloudformation:UpdateStack"], "Resource": "arn:aws:cloudformation:*:*:stack/${prefix}-*"}]}')
    (infra / "extra.json").write_text('{\n  "Statement": [\n    {"Effect": "Allow", "Action": "lambda:*",\n     "Resource": "*"}\n  ]\n}\n')
    proc = run_cli("file", "infra/main.tf", "--format", "json", cwd=tmp_path)
    doc = json.loads(proc.stdout)
    # the trust policy (a data source used by assume_role_policy) grants nothing and is not audited
    assert doc["targets"] == [{"kind": "role", "name": "jets-deployer", "sources": [
        "infra/main.tf#aws_iam_role.deployer/inline_policy/deploy", "infra/main.tf#aws_iam_role_policy.extra"]}]
    statuses = {r["action"]: r["status"] for r in doc["coverage"]}
    assert statuses["cloudformation:UpdateStack"] == "granted" and statuses["lambda:UpdateFunctionCode"] == "granted"
    wildcard = _finding(doc, "wildcard-action", "lambda:*")
    assert wildcard["location"] == {"source": "infra/extra.json", "pointer": "/Statement/0/Action", "sid": None, "line": 3}


def test_template_on_standard_input():
    proc = run_cli("file", "-", "--format", "json", stdin=FORMS["cloudformation"].read_bytes())
    doc = json.loads(proc.stdout)
    assert doc["targets"][0]["name"] == "demo-deploy"
    assert _finding(doc, "duplicate-action", "lambda:GetFunctionConfiguration")["location"]["source"] == "<stdin>"


@pytest.mark.slow
def test_module_files_that_cannot_be_read_are_named_in_a_note(tmp_path):
    shutil.copytree(IAC / "terraform-document", tmp_path / "m")
    (tmp_path / "m" / "broken.tf").write_text('variable "x" {\n  default = \n')
    doc = audit(str(tmp_path / "m" / "main.tf"))
    assert doc["notes"] == [f"{tmp_path}/m/main.tf: not read for context (variables, locals, other policies): "
                            f"{tmp_path}/m/broken.tf (not valid HCL)"]
    assert doc["targets"][0]["name"] == "demo-deploy"  # variables.tf and terraform.tfvars were read


def test_a_document_used_in_a_nested_block_or_a_local_is_not_audited_twice(tmp_path):
    found = _read_tf(tmp_path, '''
locals { doc = data.aws_iam_policy_document.local_only.json }
data "aws_iam_policy_document" "local_only" {
  statement {
    actions   = ["cloudformation:UpdateStack"]
    resources = ["*"]
  }
}
data "aws_iam_policy_document" "deploy" {
  statement {
    actions   = ["cloudformation:CreateStack", "cloudformation:UpdateStack"]
    resources = ["arn:aws:cloudformation:*:*:stack/demo-*"]
  }
}
resource "aws_iam_role" "deployer" {
  name = "deployer"
  inline_policy {
    name   = "deploy"
    policy = data.aws_iam_policy_document.deploy.json
  }
}
''')
    assert found.loose == ()
    (role,) = found.principals
    assert [p.source.rpartition("#")[2] for p in role.policies] == ["aws_iam_role.deployer/inline_policy/deploy"]
    assert _doc(role.policies[0])["Statement"][0]["Action"] == ["cloudformation:UpdateStack", "cloudformation:CreateStack"]
