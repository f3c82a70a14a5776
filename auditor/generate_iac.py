"""The generated policy as infrastructure code (`generate --format terraform|cloudformation`): the deploy
principal with every document attached to it, so that the policy is one principal's, as IAM sees it.

IAM's size quota may split the policy into several managed policies (auditor.generate). Written as
unattached policies, each would be a policy on its own: the readers would audit each document alone, and
each would miss what the others grant. So the output is the principal that holds them all, as a Jets
deploy principal is set up: a group (`--attach managed` or `group-inline`), a user (`user-inline`) or a role
(`role-inline`, trusted by the account it is in), with one managed policy attached per document, or the one
inline policy. The Terraform and CloudFormation readers assemble that principal's documents as one policy
set (coverage over their union), as `file` does for the JSON array and the policy-set of `--output-dir`.

Names do not start with the project name (`jets-deploy-shop-1`): the policy grants IAM actions on the
project's own names, which must not include the deploy principal and its policies.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from auditor.choices import Attach

KINDS: dict[Attach, str] = {"managed": "group", "group-inline": "group", "user-inline": "user", "role-inline": "role"}
DESCRIPTION = "Least privilege for jets deploy (jets-iam-audit generate)"


def _hcl_string(text: str) -> str:
    """A Terraform string literal: JSON escapes, and ${ / %{ written so Terraform keeps them as text."""
    return json.dumps(text).replace("${", "$${").replace("%{", "%%{")


def _hcl_list(items: Sequence[str] | str) -> str:
    values = [items] if isinstance(items, str) else list(items)
    return "[" + ", ".join(_hcl_string(v) for v in values) + "]"


def _hcl_document(label: str, doc: dict) -> str:
    """An `aws_iam_policy_document` data source that renders to `doc`."""
    lines = [f'data "aws_iam_policy_document" "{label}" {{']
    for stmt in doc["Statement"]:
        lines.append("  statement {")
        lines.append(f"    sid       = {_hcl_string(stmt['Sid'])}")
        lines.append(f"    effect    = {_hcl_string(stmt['Effect'])}")
        lines.append(f"    actions   = {_hcl_list(stmt['Action'])}")
        lines.append(f"    resources = {_hcl_list(stmt['Resource'])}")
        for test, keys in (stmt.get("Condition") or {}).items():
            for key, values in keys.items():
                lines += ["    condition {", f"      test     = {_hcl_string(test)}",
                          f"      variable = {_hcl_string(key)}", f"      values   = {_hcl_list(values)}", "    }"]
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines)


def _labels(docs: Sequence[dict], base: str, join: str = "_") -> list[str]:
    return [base] if len(docs) == 1 else [f"{base}{join}{i}" for i in range(1, len(docs) + 1)]


def to_terraform(docs: Sequence[dict], project: str, attach: Attach = "managed") -> str:
    """The principal (`aws_iam_group`, `_user` or `_role`) and each document as an `aws_iam_policy_document`:
    an `aws_iam_policy` attached to the principal (`aws_iam_*_policy_attachment`), or the inline policy
    (`aws_iam_*_policy`)."""
    kind = KINDS[attach]
    principal = f"aws_iam_{kind}.jets_deploy"
    name = f"jets-deploy-{project}"
    head = [f"# {DESCRIPTION}: the deploy {kind} and its polic{'y' if len(docs) == 1 else 'ies'}."]
    if len(docs) > 1:
        head.append(f"# IAM's size quota splits the policy into {len(docs)} managed policies, all attached to the {kind}.")
    blocks = ["\n".join(head) + f'\nresource "aws_iam_{kind}" "jets_deploy" {{\n  name = {_hcl_string(name)}']
    if kind == "role":  # who may assume it: principals of the account it is in (narrow it to your CI's role)
        blocks[0] += ("\n  assume_role_policy = jsonencode({\n    Version = \"2012-10-17\"\n    Statement = [{\n"
                      "      Effect    = \"Allow\"\n      Action    = \"sts:AssumeRole\"\n"
                      "      Principal = { AWS = \"arn:${data.aws_partition.current.partition}:iam::"
                      "${data.aws_caller_identity.current.account_id}:root\" }\n    }]\n  })")
    blocks[0] += "\n}"
    if kind == "role":
        blocks.append('data "aws_caller_identity" "current" {}\n\ndata "aws_partition" "current" {}')
    for label, doc, shown in zip(_labels(docs, "jets_deploy"), docs, _labels(docs, name, "-"), strict=True):
        lines = [_hcl_document(label, doc), ""]
        if attach == "managed":
            lines += [f'resource "aws_iam_policy" "{label}" {{', f"  name        = {_hcl_string(shown)}",
                      f"  description = {_hcl_string(DESCRIPTION)}",
                      f"  policy      = data.aws_iam_policy_document.{label}.json", "}", "",
                      f'resource "aws_iam_{kind}_policy_attachment" "{label}" {{',
                      f"  {kind:<10} = {principal}.name", f"  policy_arn = aws_iam_policy.{label}.arn", "}"]
        else:
            lines += [f'resource "aws_iam_{kind}_policy" "{label}" {{', f"  name   = {_hcl_string(shown)}",
                      f"  {kind:<6} = {principal}.name", f"  policy = data.aws_iam_policy_document.{label}.json", "}"]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def to_cloudformation(docs: Sequence[dict], project: str, attach: Attach = "managed") -> str:
    """A template with the principal (`AWS::IAM::Group`, `User` or `Role`) and each document as an
    `AWS::IAM::ManagedPolicy` that names it (`Groups`, `Users`, `Roles`), or as its inline policy
    (`Policies`). IAM names are left to CloudFormation (no CAPABILITY_NAMED_IAM needed)."""
    import yaml

    kind = KINDS[attach]
    logical = f"JetsDeploy{kind.capitalize()}"
    properties: dict[str, object] = {}
    if kind == "role":  # who may assume it: principals of the account it is in (narrow it to your CI's role)
        properties["AssumeRolePolicyDocument"] = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}}]}
    resources: dict[str, object] = {logical: {"Type": f"AWS::IAM::{kind.capitalize()}", "Properties": properties}}
    names = _labels(docs, f"jets-deploy-{project}", "-")
    if attach == "managed":
        for label, doc in zip(_labels(docs, "JetsDeployPolicy", ""), docs, strict=True):
            resources[label] = {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
                "Description": DESCRIPTION, f"{kind.capitalize()}s": [{"Ref": logical}], "PolicyDocument": doc}}
    else:
        properties["Policies"] = [{"PolicyName": name, "PolicyDocument": doc} for name, doc in zip(names, docs, strict=True)]
    if not properties:
        del resources[logical]["Properties"]  # type: ignore[attr-defined]
    template = {"AWSTemplateFormatVersion": "2010-09-09",
                "Description": f"{DESCRIPTION}: the deploy {kind} and its polic{'y' if len(docs) == 1 else 'ies'}",
                "Resources": resources}
    return yaml.safe_dump(template, sort_keys=False, default_flow_style=False, width=120)
