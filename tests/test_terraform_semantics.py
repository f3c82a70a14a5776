"""Terraform as Terraform and the AWS provider apply it: each test names the semantics it follows and where
they are written (Terraform's language documentation, hashicorp/hcl, hashicorp/terraform-provider-aws
internal/service/iam/policy_document_data_source.go and policy_model.go)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.sources import terraform
from tests.conftest import run_cli


def read(tmp_path: Path, main: str, **files: str):
    """The IacFile of main.tf in a repository (a .git directory marks its root) holding `files`."""
    (tmp_path / ".git").mkdir(exist_ok=True)
    for name, text in files.items():
        path = tmp_path / name.replace("__", ".").replace("_SLASH_", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (tmp_path / "main.tf").write_text(main)
    return terraform.read(str(tmp_path / "main.tf"), main, memo={})


def doc(policy) -> dict:
    return json.loads(policy.text)


def by_address(found) -> dict:
    return {p.address: p for p in found.principals}


def assumed(found) -> list[tuple[str, int | None, str]]:
    return [(a.construct, a.location.line, a.assumed) for a in found.assumptions]


# --- dynamic blocks -------------------------------------------------------------------------------

DYNAMIC = '''
locals {
  grants = {
    stacks    = ["cloudformation:CreateStack", "cloudformation:UpdateStack"]
    functions = ["lambda:UpdateFunctionCode"]
  }
}
data "aws_iam_policy_document" "deploy" {
  statement {
    sid       = "Static"
    actions   = ["s3:GetObject"]
    resources = ["*"]
  }
  dynamic "statement" {
    for_each = local.grants
    iterator = grant
    content {
      sid       = grant.key
      actions   = grant.value
      resources = ["arn:aws:cloudformation:*:*:stack/demo-*"]
      dynamic "condition" {
        for_each = grant.key == "stacks" ? ["us-east-1", "eu-west-1"] : []
        content {
          test     = "StringEquals"
          variable = "aws:RequestedRegion"
          values   = [condition.value]
        }
      }
    }
  }
}
'''


def test_dynamic_blocks_expand_over_a_map_with_an_iterator_and_nested(tmp_path):
    """Terraform "dynamic Blocks": one block per element of for_each, the iterator (`iterator = grant`)
    holding key and value, a map iterated in lexical key order, in the position the dynamic block is written;
    a nested dynamic block sees the outer iterator. Condition blocks with one test and variable combine into
    one list (policy_model.go, iamPolicyStatementConditionSet.MarshalJSON appends)."""
    found = read(tmp_path, DYNAMIC)
    (policy,) = found.loose
    assert doc(policy)["Statement"] == [
        {"Sid": "Static", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
        {"Sid": "functions", "Effect": "Allow", "Action": "lambda:UpdateFunctionCode",
         "Resource": "arn:aws:cloudformation:*:*:stack/demo-*"},
        {"Sid": "stacks", "Effect": "Allow", "Action": ["cloudformation:UpdateStack", "cloudformation:CreateStack"],
         "Resource": "arn:aws:cloudformation:*:*:stack/demo-*",
         "Condition": {"StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}}]
    assert found.assumptions == ()
    # the statement points at its content block; each action at where it is written (the local's list)
    assert policy.origin.locate("/Statement/2").line == 17
    assert policy.origin.locate("/Statement/2/Action/0").line == 4
    assert policy.origin.locate("/Statement/2/Condition/StringEquals/aws:RequestedRegion/1").line == 22  # the for_each list


def test_dynamic_block_over_a_list_and_a_set(tmp_path):
    """A list is iterated by index (key = index), a set by element (key = value), without an iterator name
    the block's label is the iterator."""
    found = read(tmp_path, '''
data "aws_iam_policy_document" "d" {
  dynamic "statement" {
    for_each = ["s3:GetObject", "s3:PutObject"]
    content {
      sid       = "S${statement.key}"
      actions   = [statement.value]
      resources = ["*"]
    }
  }
  dynamic "statement" {
    for_each = toset(["sqs:SendMessage"])
    content {
      sid       = "Q"
      actions   = [statement.key]
      resources = ["*"]
    }
  }
}
''')
    assert [(s["Sid"], s["Action"]) for s in doc(found.loose[0])["Statement"]] == [
        ("S0", "s3:GetObject"), ("S1", "s3:PutObject"), ("Q", "sqs:SendMessage")]


def test_dynamic_block_over_an_undecided_value_is_an_assumption(tmp_path):
    """A dynamic block whose for_each only Terraform can decide makes no blocks here, and says so at its line."""
    found = read(tmp_path, '''
variable "extra" {}
data "aws_iam_policy_document" "d" {
  statement {
    actions   = ["s3:GetObject"]
    resources = ["*"]
  }
  dynamic "statement" {
    for_each = var.extra
    content {
      actions   = statement.value
      resources = ["*"]
    }
  }
}
''')
    assert doc(found.loose[0])["Statement"] == [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]
    assert assumed(found) == [
        ('variable "extra"', 2, "no value: its uses stay undecided (placeholders)"),
        ('dynamic "statement" block in data.aws_iam_policy_document.d', 8,
         "assumed 0 statement blocks: its for_each is not decided by the configuration")]


# --- count and for_each ---------------------------------------------------------------------------

GROUP = '''
variable "enable_admin" {
  type    = bool
  default = false
}
resource "aws_iam_group" "deploy" {
  name = "jets-deploy"
}
resource "aws_iam_group_policy" "deploy" {
  group  = aws_iam_group.deploy.name
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = ["cloudformation:CreateStack"], Resource = "*" }] })
}
resource "aws_iam_policy" "admin" {
  count  = var.enable_admin ? 1 : 0
  name   = "admin"
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "*", Resource = "*" }] })
}
resource "aws_iam_group_policy_attachment" "admin" {
  count      = var.enable_admin ? 1 : 0
  group      = aws_iam_group.deploy.name
  policy_arn = aws_iam_policy.admin[0].arn
}
'''


def test_a_count_of_zero_creates_nothing(tmp_path):
    """Terraform "The count Meta-Argument": count = 0 creates no instance, so the admin policy behind
    `var.enable_admin ? 1 : 0` (default false) is neither created nor attached."""
    found = read(tmp_path, GROUP)
    (group,) = found.principals
    assert [p.source.rpartition("#")[2] for p in group.policies] == ["aws_iam_group_policy.deploy"]
    assert found.loose == () and found.assumptions == ()


def test_a_count_of_one_attaches_instance_zero(tmp_path):
    """With enable_admin true (terraform.tfvars), instance [0] exists and `aws_iam_policy.admin[0].arn`
    attaches it."""
    found = read(tmp_path, GROUP, terraform__tfvars="enable_admin = true\n")
    (group,) = found.principals
    assert [p.source.rpartition("#")[2] for p in group.policies] == ["aws_iam_group_policy.deploy", "aws_iam_policy.admin[0]"]


def test_count_index_splat_and_each(tmp_path):
    """count.index names each instance; `aws_iam_policy.p[*].arn` is every instance's ARN (a splat);
    for_each over a map gives each.key and each.value, over a set of strings key = value; instance
    addresses are p[0] and p["key"]."""
    found = read(tmp_path, '''
locals {
  services = ["s3", "sqs"]
  users    = { alice = "AliceDeploy", bob = "BobDeploy" }
}
resource "aws_iam_policy" "p" {
  count  = length(local.services)
  name   = "p${count.index}"
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "${local.services[count.index]}:*", Resource = "*" }] })
}
resource "aws_iam_role" "deployer" {
  name                = "deployer"
  managed_policy_arns = aws_iam_policy.p[*].arn
}
resource "aws_iam_user" "u" {
  for_each = local.users
  name     = each.value
}
resource "aws_iam_user_policy" "u" {
  for_each = aws_iam_user.u
  user     = each.value.name
  policy   = jsonencode({ Statement = [{ Effect = "Allow", Action = "cloudformation:UpdateStack", Resource = "arn:aws:cloudformation:*:*:stack/${each.key}-*" }] })
}
''')
    principals = by_address(found)
    assert sorted(principals) == ['aws_iam_role.deployer', 'aws_iam_user.u["alice"]', 'aws_iam_user.u["bob"]']
    role = principals["aws_iam_role.deployer"]
    assert [doc(p)["Statement"][0]["Action"] for p in role.policies] == ["s3:*", "sqs:*"]
    assert [p.source.rpartition("#")[2] for p in role.policies] == ["aws_iam_policy.p[0]", "aws_iam_policy.p[1]"]
    bob = principals['aws_iam_user.u["bob"]']
    assert bob.name == "BobDeploy"
    assert doc(bob.policies[0])["Statement"][0]["Resource"] == "arn:aws:cloudformation:*:*:stack/bob-*"


def test_for_each_over_a_set_and_managed_arns(tmp_path):
    """for_each over toset([...]) makes one attachment per ARN (each.value); an ARN that is no policy of
    the configuration is a managed policy attached by ARN."""
    found = read(tmp_path, '''
resource "aws_iam_group" "g" { name = "g" }
resource "aws_iam_group_policy_attachment" "m" {
  for_each   = toset(["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/AWSLambda_FullAccess"])
  group      = aws_iam_group.g.name
  policy_arn = each.value
}
''')
    assert found.principals[0].managed_arns == ("arn:aws:iam::aws:policy/AWSLambda_FullAccess",
                                                "arn:aws:iam::aws:policy/ReadOnlyAccess")


def test_undecided_count_and_for_each_are_assumptions(tmp_path):
    """A count or for_each over a value known only after apply cannot be decided here: the instance is
    assumed to exist once, and the assumption is reported at the line of the count or for_each."""
    found = read(tmp_path, '''
resource "aws_iam_group" "g" { name = "g" }
resource "aws_s3_bucket" "b" { bucket = "assets" }
resource "aws_iam_group_policy" "p" {
  count  = length(aws_s3_bucket.b.arn) > 0 ? 1 : 0
  group  = aws_iam_group.g.name
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "s3:GetObject", Resource = "*" }] })
}
resource "aws_iam_group_policy" "q" {
  for_each = toset([aws_s3_bucket.b.id])
  group    = aws_iam_group.g.name
  policy   = jsonencode({ Statement = [{ Effect = "Allow", Action = "s3:PutObject", Resource = "*" }] })
}
''')
    assert len(found.principals[0].policies) == 2
    assert assumed(found) == [("count on aws_iam_group_policy.p", 5, "assumed created once (count = 1)"),
                              ("for_each on aws_iam_group_policy.q", 10, "assumed created once, each.key and each.value undecided")]
    assert all("terraform show -json" in a.exact for a in found.assumptions)


def test_for_each_over_a_list_is_named(tmp_path):
    """Terraform rejects for_each over a list (it needs a map or a set of strings): it is read as a set and
    said so."""
    found = read(tmp_path, '''
resource "aws_iam_user" "u" {
  for_each = ["a", "b"]
  name     = each.key
}
''')
    assert sorted(p.name for p in found.principals) == ["a", "b"]
    assert [c for c, _, _ in assumed(found)] == ["for_each on aws_iam_user.u"]


# --- templates ------------------------------------------------------------------------------------

def test_template_directives_and_strip_markers_in_a_heredoc(tmp_path):
    """HCL template directives: %{for} repeats its body, %{if}/%{else} picks a branch; a ~ after %{ trims
    the whitespace before it, one before } the whitespace after it, newlines included (hashicorp/hcl
    hclsyntax/parser_template.go: strings.TrimRightFunc / TrimLeftFunc with unicode.IsSpace)."""
    found = read(tmp_path, '''
locals { envs = ["dev", "prod"] }
variable "strict" { default = true }
resource "aws_iam_policy" "p" {
  policy = <<-EOT
    {
      "Statement": [
        %{~ for env in local.envs ~}
        {"Effect": "Allow", "Action": "cloudformation:UpdateStack", "Resource": "arn:aws:cloudformation:*:*:stack/demo-${env}-*"},
        %{~ endfor ~}
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "%{ if var.strict }arn:aws:s3:::demo-*%{ else }*%{ endif }"}
      ]
    }
  EOT
}
''')
    (policy,) = found.loose
    assert policy.problems == ()
    assert [s["Resource"] for s in doc(policy)["Statement"]] == [
        "arn:aws:cloudformation:*:*:stack/demo-dev-*", "arn:aws:cloudformation:*:*:stack/demo-prod-*", "arn:aws:s3:::demo-*"]
    assert '"Statement": [{"Effect"' in policy.text  # the ~ markers took the newlines and indentation


def test_templatefile_sees_only_its_variables_and_reports_lines_in_the_template(tmp_path):
    """templatefile(path, vars): the template sees only `vars` (Terraform: "the template may only refer to
    the variables in vars"); a path relative to the root module's directory; a template whose lines stay
    the file's points findings into it."""
    found = read(tmp_path, '''
variable "prefix" { default = "demo" }
resource "aws_iam_role" "deployer" {
  name = "deployer"
  inline_policy {
    name   = "deploy"
    policy = templatefile("${path.module}/policies/deploy.json.tpl", { prefix = var.prefix })
  }
}
''', policies_SLASH_deploy__json__tpl='{"Statement": [\n  {"Effect": "Allow", "Action": "lambda:*",\n   "Resource": "arn:aws:lambda:*:*:function:${prefix}-*"},\n  {"Effect": "Allow", "Action": "s3:*", "Resource": "${var.prefix}"}\n]}\n')
    (role,) = found.principals
    (policy,) = role.policies
    statements = doc(policy)["Statement"]
    assert statements[0]["Resource"] == "arn:aws:lambda:*:*:function:demo-*"
    assert statements[1]["Resource"] == "${var.prefix}"
    assert "a template file sees only the variables given to it" in dict(policy.unresolved)["${var.prefix}"]
    spot = policy.origin.locate("/Statement/0/Action")
    assert (spot.path, spot.line) == (str(tmp_path / "policies" / "deploy.json.tpl"), 2)
    assert found.reads == (str((tmp_path / "policies" / "deploy.json.tpl").resolve()),)


def test_a_quoted_string_with_an_if_directive(tmp_path):
    found = read(tmp_path, '''
variable "env" { default = "prod" }
resource "aws_iam_policy" "p" {
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "s3:GetObject",
    Resource = "arn:aws:s3:::%{ if var.env == "prod" }live%{ else }test%{ endif }-*" }] })
}
''')
    assert doc(found.loose[0])["Statement"][0]["Resource"] == "arn:aws:s3:::live-*"


# --- local modules --------------------------------------------------------------------------------

MODULE = '''
variable "prefix" {}
variable "create_user" { default = false }
resource "aws_iam_policy" "deploy" {
  name   = "${var.prefix}-deploy"
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = ["cloudformation:CreateStack", "cloudformation:UpdateStack"],
                                       Resource = "arn:aws:cloudformation:*:*:stack/${var.prefix}-*" }] })
}
resource "aws_iam_user" "ci" {
  count = var.create_user ? 1 : 0
  name  = "${var.prefix}-ci"
}
resource "aws_iam_user_policy_attachment" "ci" {
  count      = var.create_user ? 1 : 0
  user       = aws_iam_user.ci[0].name
  policy_arn = aws_iam_policy.deploy.arn
}
output "policy_arn" { value = aws_iam_policy.deploy.arn }
'''


def test_a_local_module_gets_its_inputs_and_its_policy_attaches_to_the_callers_group(tmp_path):
    """Terraform "Modules": a module call's arguments are the child's variables; an output is evaluated
    in the child; a policy the child creates, attached by the caller through the output, is the caller's
    group's policy. A principal the child creates (count = 1 through its input) is audited with the policies
    the child attaches to it, at the child's file and line."""
    found = read(tmp_path, '''
module "iam" {
  source      = "./modules/iam"
  prefix      = "demo"
  create_user = true
}
resource "aws_iam_group" "deploy" { name = "deploy" }
resource "aws_iam_group_policy_attachment" "deploy" {
  group      = aws_iam_group.deploy.name
  policy_arn = module.iam.policy_arn
}
''', modules_SLASH_iam_SLASH_main__tf=MODULE)
    principals = by_address(found)
    assert sorted(principals) == ["aws_iam_group.deploy", "module.iam.aws_iam_user.ci[0]"]
    group, user = principals["aws_iam_group.deploy"], principals["module.iam.aws_iam_user.ci[0]"]
    assert [p.source for p in group.policies] == [f"{tmp_path}/modules/iam/main.tf#module.iam.aws_iam_policy.deploy"]
    assert doc(group.policies[0])["Statement"][0]["Resource"] == "arn:aws:cloudformation:*:*:stack/demo-*"
    assert user.name == "demo-ci" and user.policies == group.policies
    assert (user.spot.path, user.spot.line) == (f"{tmp_path}/modules/iam/main.tf", 9)
    assert found.assumptions == ()
    assert found.reads == (str((tmp_path / "modules" / "iam" / "main.tf").resolve()),)


def test_modules_not_read_are_assumptions(tmp_path):
    """Only local paths (./ or ../) are read: a registry source, or a local one outside the repository, is
    reported where the call is written."""
    found = read(tmp_path, '''
module "registry" {
  source = "terraform-aws-modules/iam/aws//modules/iam-group-with-policies"
}
module "outside" {
  source = "../../elsewhere"
}
resource "aws_iam_group" "g" { name = "g" }
''')
    assert [(c, line) for c, line, _ in assumed(found)] == [
        ('module "registry" (source "terraform-aws-modules/iam/aws//modules/iam-group-with-policies")', 2),
        ('module "outside" (source "../../elsewhere")', 5)]


# --- variables ------------------------------------------------------------------------------------

def test_variable_precedence(tmp_path):
    """Terraform "Variable Definition Precedence": the default, then terraform.tfvars, terraform.tfvars.json,
    *.auto.tfvars and *.auto.tfvars.json in lexical order of their names, then -var-file and -var (a later
    source wins)."""
    main = '''
variable "a" { default = "default" }
variable "b" { default = "default" }
variable "c" { default = "default" }
variable "d" { default = "default" }
variable "e" { default = "default" }
resource "aws_iam_policy" "p" {
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "s3:GetObject",
                                       Resource = ["${var.a}", "${var.b}", "${var.c}", "${var.d}", "${var.e}"] }] })
}
'''
    found = read(tmp_path, main, terraform__tfvars='a = "tfvars"\nb = "tfvars"\nc = "tfvars"\nd = "tfvars"\n',
                 terraform__tfvars__json='{"b": "tfvars.json", "c": "tfvars.json"}',
                 x__auto__tfvars='c = "x.auto"\nd = "x.auto"\n', a__auto__tfvars__json='{"d": "a.auto.json"}')
    assert doc(found.loose[0])["Statement"][0]["Resource"] == ["tfvars", "tfvars.json", "x.auto", "x.auto", "default"]
    from auditor.sources.tf_load import cli_variables

    cli = cli_variables(["e=cli", "d=cli"], [("more.tfvars", 'e = "file"\nc = "file"\n')])
    found = terraform.read(str(tmp_path / "main.tf"), main, memo={}, variables=cli)
    assert doc(found.loose[0])["Statement"][0]["Resource"] == ["tfvars", "tfvars.json", "file", "cli", "cli"]


def test_variable_types_convert_values(tmp_path):
    """A variable's type converts its value (Terraform "Type Constraints"): set(string) de-duplicates and
    orders a list, so for_each accepts it; -var is taken literally for a primitive or untyped variable and
    parsed as HCL for a collection type (hashicorp/terraform configs VariableParsingMode)."""
    main = '''
variable "users" {
  type    = set(string)
  default = ["b", "a", "b"]
}
variable "extra" {
  type    = list(string)
  default = []
}
resource "aws_iam_user" "u" {
  for_each = var.users
  name     = each.key
}
resource "aws_iam_user" "x" {
  for_each = toset(var.extra)
  name     = each.key
}
'''
    found = read(tmp_path, main)
    assert [p.name for p in found.principals] == ["a", "b"] and found.assumptions == ()
    proc = run_cli("file", "main.tf", "--format", "json", "--var", 'extra=["c"]', cwd=tmp_path)
    names = sorted(t["name"] for t in json.loads(proc.stdout)["targets"])
    assert names == ["a", "b", "c"], proc.stderr.decode()


def test_a_variable_without_a_value_is_an_assumption_at_its_line(tmp_path):
    found = read(tmp_path, '''
variable "prefix" {
  type = string
}
resource "aws_iam_policy" "p" {
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "s3:GetObject", Resource = "arn:aws:s3:::${var.prefix}-*" }] })
}
''')
    (a,) = found.assumptions
    assert (a.construct, a.location.line, a.assumed) == ('variable "prefix"', 2, "no value: its uses stay undecided (placeholders)")
    assert a.exact.startswith("give it a value (--var prefix=VALUE, --var-file FILE or terraform.tfvars), or audit the plan JSON")


# --- expressions and functions --------------------------------------------------------------------

def test_for_expressions_operators_and_functions(tmp_path):
    """Terraform "for Expressions", operators and functions on decided values: a for with an if, format,
    formatlist, join, concat, flatten, distinct, compact, merge, lookup, element, coalesce, setproduct,
    range, replace, upper and a comparison deciding a conditional."""
    found = read(tmp_path, '''
locals {
  names   = ["api", "web", "api", ""]
  regions = ["us-east-1", "eu-west-1"]
  tags    = merge({ a = "1" }, { b = "2" })
  pairs   = setproduct(["x", "y"], [1, 2])
}
resource "aws_iam_policy" "p" {
  policy = jsonencode({ Statement = [{
    Effect   = length(local.pairs) == 4 && lookup(local.tags, "b", "0") == "2" ? "Allow" : "Deny"
    Action   = [for i in range(2) : element(["s3:GetObject", "s3:PutObject"], i)]
    Resource = concat(
      formatlist("arn:aws:lambda:%s:*:function:demo-*", local.regions),
      [for n in compact(distinct(local.names)) : format("arn:aws:s3:::%s-%s", upper(n), join("-", flatten([["a"], ["b"]]))) if n != "web"],
      [replace(coalesce("", "x-y"), "-", "_")],
    )
  }] })
}
''')
    statement = doc(found.loose[0])["Statement"][0]
    assert statement == {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": [
        "arn:aws:lambda:us-east-1:*:function:demo-*", "arn:aws:lambda:eu-west-1:*:function:demo-*",
        "arn:aws:s3:::API-a-b", "x_y"]}
    assert found.loose[0].unresolved == ()


@pytest.mark.slow
def test_a_group_behind_count_exists_only_with_var(tmp_path):
    """End to end through the CLI: the group behind `count = var.enable ? 1 : 0` exists only with --var."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "main.tf").write_text('''
variable "enable" { default = false }
resource "aws_iam_group" "g" {
  count = var.enable ? 1 : 0
  name  = "deploy"
}
resource "aws_iam_group_policy" "p" {
  count  = var.enable ? 1 : 0
  group  = aws_iam_group.g[0].name
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "cloudformation:*", Resource = "*" }] })
}
''')
    off = run_cli("file", "main.tf", "--format", "json", cwd=tmp_path)
    assert off.returncode == 1, off.stderr.decode()
    assert [f["message"] for f in json.loads(off.stdout)["findings"]] == [
        "defines no IAM policy (terraform file with no IAM group, user, role or policy)"]
    on = run_cli("file", "main.tf", "--format", "json", "--var", "enable=true", cwd=tmp_path)
    assert json.loads(on.stdout)["targets"] == [{"kind": "group", "name": "deploy", "sources": ["main.tf#aws_iam_group_policy.p[0]"]}]


def test_a_role_named_by_the_provider_is_matched_by_its_address(tmp_path):
    """A role with name_prefix (its name computed by the provider, known after apply) still gets the policies
    attached through `aws_iam_role.r[0].name`: the attachment refers to that instance."""
    found = read(tmp_path, '''
resource "aws_iam_role" "r" {
  count              = 1
  name_prefix        = "deploy-"
  assume_role_policy = "{}"
}
resource "aws_iam_role_policy_attachment" "a" {
  role       = aws_iam_role.r[0].name
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}
''')
    (role,) = found.principals
    assert (role.name, role.managed_arns) == ("aws_iam_role.r[0]", ("arn:aws:iam::aws:policy/AdministratorAccess",))


def test_path_values(tmp_path):
    """path.module and path.root are relative to the root module's directory ("." there), path.cwd is where
    Terraform runs: the root module's directory, absolute."""
    found = read(tmp_path, '''
resource "aws_iam_user" "u" {
  name = "${path.module}|${path.root}|${basename(path.cwd)}"
}
''')
    assert found.principals[0].name == f".|.|{tmp_path.name}"


def test_templatefile_with_directives(tmp_path):
    """templatefile() renders %{for}/%{if} with the variables given (HCL templates, as in a heredoc); the
    rendered lines are not the file's, so findings point at the templatefile() call."""
    found = read(tmp_path, '''
resource "aws_iam_policy" "p" {
  policy = templatefile("${path.module}/deploy.json.tftpl", { prefix = "demo", envs = ["dev", "prod"], logs = false })
}
''', deploy__json__tftpl='''{
  "Statement": [
    %{~ for env in envs ~}
    {"Effect": "Allow", "Action": "lambda:UpdateFunctionCode", "Resource": "arn:aws:lambda:*:*:function:${prefix}-${env}-*"},
    %{~ endfor ~}
    %{~ if logs ~}
    {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
    %{~ endif ~}
    {"Effect": "Allow", "Action": "cloudformation:UpdateStack", "Resource": "arn:aws:cloudformation:*:*:stack/${prefix}-*"}
  ]
}
''')
    (policy,) = found.loose
    assert [s["Resource"] for s in doc(policy)["Statement"]] == [
        "arn:aws:lambda:*:*:function:demo-dev-*", "arn:aws:lambda:*:*:function:demo-prod-*",
        "arn:aws:cloudformation:*:*:stack/demo-*"]
    spot = policy.origin.locate("/Statement/1/Resource")
    assert (spot.path, spot.line) == (str(tmp_path / "main.tf"), 3)


def test_override_files_merge_as_terraform_merges_them(tmp_path):
    """Terraform "Override Files": override.tf and *_override.tf are merged last; an attribute they set
    replaces the original's, a nested block type they write replaces all the original's blocks of that type."""
    found = read(tmp_path, '''
resource "aws_iam_user" "u" {
  name = "original"
}
data "aws_iam_policy_document" "d" {
  statement {
    actions   = ["s3:GetObject"]
    resources = ["*"]
  }
}
''', iam_override__tf='''
resource "aws_iam_user" "u" {
  name = "overridden"
}
data "aws_iam_policy_document" "d" {
  statement {
    actions   = ["s3:PutObject"]
    resources = ["*"]
  }
}
''')
    assert found.principals[0].name == "overridden"
    assert doc(found.loose[0])["Statement"] == [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]


def test_try_can_and_fileexists(tmp_path):
    """try() gives its first argument that is not an error; can() says whether there is one; fileexists()
    looks only inside the repository."""
    found = read(tmp_path, '''
locals {
  settings = { actions = ["s3:GetObject"] }
}
resource "aws_iam_policy" "p" {
  count  = fileexists("${path.module}/enabled.txt") && can(local.settings.actions) && !can(local.settings.missing) ? 1 : 0
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = try(local.settings.missing, local.settings.actions),
                                       Resource = "*" }] })
}
resource "aws_iam_policy" "q" {
  count  = fileexists("${path.module}/absent.txt") ? 1 : 0
  policy = "{}"
}
''', enabled__txt="yes\n")
    assert [p.source.rpartition("#")[2] for p in found.loose] == ["aws_iam_policy.p[0]"]
    assert doc(found.loose[0])["Statement"][0]["Action"] == ["s3:GetObject"]


def test_a_dynamic_block_over_a_list_of_undecided_values_still_makes_its_blocks(tmp_path):
    """A list whose length is known makes one block per element, even when the elements are known only after
    apply (their values stay placeholders); only a collection whose length is undecided makes none."""
    found = read(tmp_path, '''
resource "aws_s3_bucket" "b" { bucket = "assets" }
data "aws_iam_policy_document" "d" {
  dynamic "statement" {
    for_each = [aws_s3_bucket.b.arn]
    content {
      actions   = ["s3:GetObject"]
      resources = ["${statement.value}/*"]
    }
  }
}
''')
    assert doc(found.loose[0])["Statement"] == [{"Effect": "Allow", "Action": "s3:GetObject",
                                                 "Resource": "${aws_s3_bucket.b.arn}/*"}]
    assert found.assumptions == ()
