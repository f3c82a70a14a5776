"""Never silent about the deploy principal (issue 27, item 4): when Terraform or CloudFormation files define
principals but none looks like a Jets deployer, the run lists each with why it was not taken (instead of
"no IAM policies among the 5 files found"); `--deploy-principal NAME` (repeatable) and the config's
`deploy-principals` name the deploy principal(s) explicitly, of any kind, by IAM name, address or logical id."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import invoke

# the example: a module whose principals hold lambda:* and iam:* (an application's roles)
APP_TF = """\
resource "aws_iam_role" "app_lambda" {
  name               = "app-lambda"
  assume_role_policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sts:AssumeRole",
                                    Principal = { Service = "lambda.amazonaws.com" } }] })
}

resource "aws_iam_role_policy" "app_lambda" {
  role   = aws_iam_role.app_lambda.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["lambda:*", "iam:*"], Resource = "*" }]
  })
}

resource "aws_iam_role" "worker" {
  name                = "worker"
  assume_role_policy  = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sts:AssumeRole",
                                     Principal = { Service = "ecs-tasks.amazonaws.com" } }] })
  managed_policy_arns = ["arn:aws:iam::123456789012:policy/app-s3-read"]
}

resource "aws_iam_policy" "reader" {
  name   = "reader"
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:GetObject", Resource = "*" }] })
}
"""
HINT = ('name the deploy principal with --deploy-principal NAME (its IAM name, address or logical id), or '
        'deploy-principals = ["NAME"] in the config')
LISTED = [
    "  role app-lambda (infra/main.tf:1): no Allow of cloudformation:CreateStack or cloudformation:UpdateStack; it allows "
    "lambda:*, iam:*",
    "  role worker (infra/main.tf:15): no policy written in the files read, only managed policies attached by ARN "
    "(arn:aws:iam::123456789012:policy/app-s3-read; --auth-details FILE supplies their documents)",
    "  policy aws_iam_policy.reader (infra/main.tf:24): no Allow of cloudformation:CreateStack or "
    "cloudformation:UpdateStack; it allows s3:GetObject; attached to no principal in the files read",
]


def _repo(tmp_path: Path, **files: str) -> Path:
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "main.tf").write_text(APP_TF)
    for name, text in files.items():
        (tmp_path / name.replace("__", "/")).write_text(text)
    return tmp_path


def _lines(proc) -> list[str]:
    return proc.stderr.decode().splitlines()


def test_a_directory_with_no_deployer_lists_each_principal_and_why(tmp_path):
    repo = _repo(tmp_path)
    proc = invoke("file", "infra", "--prefix", "demo", cwd=repo)
    # a run that audits nothing exits 2 (issue 28), after the reason
    assert proc.returncode == 2
    assert _lines(proc) == [
        "no Jets deploy principal among the 2 principals and 1 unattached policy found in 1 infrastructure file; "
        "none was audited:", *LISTED, HINT,
        "jets-iam-audit: error: nothing to audit in infra (a directory with no IAM policy in it): name the files or "
        "directories that hold the policies (--skip-non-policies, the hook's mode, skips such paths quietly)"]
    assert proc.stdout == b""
    assert "no IAM policies among" not in proc.stderr.decode()


def test_a_template_of_lambda_roles_lists_them_at_their_logical_ids(tmp_path):
    template = {"Resources": {
        "FunctionServiceRole675BB04A": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow",
                                                        "Principal": {"Service": "lambda.amazonaws.com"}}]},
            "ManagedPolicyArns": ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
            "Policies": [{"PolicyName": "app", "PolicyDocument": {"Statement": [
                {"Effect": "Deny", "Action": "cloudformation:*", "Resource": "*"}]}}]}}}}
    (tmp_path / "cdk.out").mkdir()
    (tmp_path / "cdk.out" / "AppStack.template.json").write_text(json.dumps(template, indent=1))
    proc = invoke("file", "cdk.out", "--prefix", "demo", cwd=tmp_path)
    # AWSLambdaBasicExecutionRole is read from the managed-policy snapshot; nothing was audited: exit 2
    assert proc.returncode == 2
    assert _lines(proc)[1:-2] == [
        "  role FunctionServiceRole675BB04A (cdk.out/AppStack.template.json:3): no Allow of cloudformation:CreateStack "
        "or cloudformation:UpdateStack; it allows logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents"]


def test_a_deployer_elsewhere_in_the_run_keeps_the_others_quiet(tmp_path):
    deploy = ('resource "aws_iam_user" "ci" {\n  name = "jets-ci"\n}\n\nresource "aws_iam_user_policy" "ci" {\n'
              '  user   = aws_iam_user.ci.name\n  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = '
              '"Allow", Action = ["cloudformation:CreateStack", "cloudformation:UpdateStack"], Resource = "*" }] })\n}\n')
    repo = _repo(tmp_path)
    (repo / "deploy").mkdir()
    (repo / "deploy" / "main.tf").write_text(deploy)
    proc = invoke("file", ".", "--prefix", "demo", "--format", "json", cwd=repo)
    assert [t["name"] for t in json.loads(proc.stdout)["targets"]] == ["jets-ci"]
    assert "no Jets deploy principal" not in proc.stderr.decode()


def test_a_file_given_by_name_has_every_principal_audited_and_a_note_that_says_why(tmp_path):
    repo = _repo(tmp_path)
    proc = invoke("file", "infra/main.tf", "--prefix", "demo", "--format", "json", cwd=repo)
    doc = json.loads(proc.stdout)
    assert sorted(t["name"] for t in doc["targets"]) == ["app-lambda", "infra/main.tf#aws_iam_policy.reader", "worker"]
    (note,) = [n for n in doc["notes"] if "looks like a Jets deploy principal" in n]
    assert note == (
        "infra/main.tf: nothing there looks like a Jets deploy principal (role app-lambda: no Allow of "
        "cloudformation:CreateStack or cloudformation:UpdateStack; it allows lambda:*, iam:*; role worker: no policy "
        "written in the files read, only managed policies attached by ARN (arn:aws:iam::123456789012:policy/app-s3-read; "
        "--auth-details FILE supplies their documents); policy aws_iam_policy.reader: no Allow of cloudformation:CreateStack "
        "or cloudformation:UpdateStack; it allows s3:GetObject; attached to no principal in the files read), so every "
        "principal and policy of it is audited; name the deploy principal with --deploy-principal NAME or "
        "deploy-principals in the config")


def test_the_hook_lists_them_too(tmp_path):
    repo = _repo(tmp_path)
    proc = invoke("file", "--skip-non-policies", "infra/main.tf", "--prefix", "demo", cwd=repo)
    assert _lines(proc)[1:-1] == LISTED


@pytest.mark.slow
def test_deploy_principal_names_them_by_address_name_or_last_part(tmp_path):
    repo = _repo(tmp_path)
    for name in ("aws_iam_role.app_lambda", "app-lambda", "app_lambda"):
        proc = invoke("file", "infra", "--prefix", "demo", "--deploy-principal", name, "--format", "json", cwd=repo)
        assert proc.returncode == 1
        doc = json.loads(proc.stdout)
        assert [(t["kind"], t["name"]) for t in doc["targets"]] == [("role", "app-lambda")]
        assert not [n for n in doc["notes"] if "looks like" in n]
    proc = invoke("file", "infra", "--prefix", "demo", "--deploy-principal", "app_lambda", "--deploy-principal", "worker",
                  "--format", "json", cwd=repo)
    assert [t["name"] for t in json.loads(proc.stdout)["targets"]] == ["app-lambda", "worker"]


def test_deploy_principal_errors_exit_2(tmp_path):
    repo = _repo(tmp_path)
    cases = [
        (("infra", "--deploy-principal", "app_lambda", "--deploy-principal", "nobody"),
         "no IAM group, user or role 'nobody' in infra/main.tf (give its IAM name, its address or its logical id)"),
        (("infra", "--deploy-principal", "app_lambda", "--role", "worker"),
         "--deploy-principal and --group/--user/--role both name the deploy principal: give one of them"),
        (("--auth-details", "details.json", "--deploy-principal", "ci"),
         "--deploy-principal selects principals in Terraform or CloudFormation files; with --auth-details alone, name "
         "one with --group, --user or --role"),
        (("policy.json", "--deploy-principal", "ci"),
         "--deploy-principal selects a principal defined in Terraform or CloudFormation files; for an AWS account use "
         "--auth-details FILE alone, or the live command"),
        (("infra", "--deploy-principal", ""), "--deploy-principal needs a name"),
    ]
    (repo / "policy.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "cloudformation:CreateStack", "Resource": "*"}]}))
    for args, message in cases:
        proc = invoke("file", *args, "--prefix", "demo", cwd=repo)
        assert proc.returncode == 2, args
        assert proc.stderr.decode() == f"jets-iam-audit: error: {message}\n", args


def test_the_config_names_the_deploy_principals(tmp_path):
    repo = _repo(tmp_path)
    (repo / ".jets-iam-audit.toml").write_text('prefix = "demo"\ndeploy-principals = ["aws_iam_role.worker"]\n')
    proc = invoke("file", "infra", "--format", "json", cwd=repo)
    assert [t["name"] for t in json.loads(proc.stdout)["targets"]] == ["worker"]
    # the command line wins over the config
    proc = invoke("file", "infra", "--deploy-principal", "app-lambda", "--format", "json", cwd=repo)
    assert [t["name"] for t in json.loads(proc.stdout)["targets"]] == ["app-lambda"]


def test_a_config_name_no_file_defines_is_listed_not_an_error(tmp_path):
    """The config also applies to a commit that touches other files, so a name it gives that the files read
    do not define is no error; when nothing is audited, the run says so."""
    repo = _repo(tmp_path)
    (repo / "pyproject.toml").write_text('[tool.jets-iam-audit]\nprefix = "demo"\ndeploy-principals = ["deployer"]\n')
    proc = invoke("file", "infra", cwd=repo)
    assert _lines(proc) == [  # unattached policies are never the deploy principal when one is named
        "no Jets deploy principal among the 2 principals found in 1 infrastructure file; none was audited:",
        "  role app-lambda (infra/main.tf:1): not named by deploy-principals in pyproject.toml",
        "  role worker (infra/main.tf:15): not named by deploy-principals in pyproject.toml",
        "  deploy-principals in pyproject.toml names deployer: no file read defines it",
        HINT,
        "jets-iam-audit: error: nothing to audit in infra (a directory with no IAM policy in it): name the files or "
        "directories that hold the policies (--skip-non-policies, the hook's mode, skips such paths quietly)"]
    assert proc.returncode == 2


def test_bad_deploy_principals_in_the_config_exit_2(tmp_path):
    repo = _repo(tmp_path)
    for value, message in (('[""]', "'deploy-principals' names principals (IAM names, addresses or logical ids), not "
                                    "empty strings"),
                           ("[1]", "'deploy-principals' must be a string or a list of strings")):
        (repo / ".jets-iam-audit.toml").write_text(f"deploy-principals = {value}\n")
        proc = invoke("file", "infra", cwd=repo)
        assert proc.returncode == 2
        assert proc.stderr.decode() == f"jets-iam-audit: error: {repo / '.jets-iam-audit.toml'}: {message}\n"
