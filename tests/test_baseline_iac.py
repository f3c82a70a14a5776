"""Baselines of policies written in Terraform and CloudFormation are keyed by value, as for JSON (issue 27,
item 7): a statement by its Sid or what it applies to, a list entry by its value, the policy by its
address, a finding about the principal by the principal's address; so inserting an action (every entry
after it moves), reordering statement blocks and reformatting the file keep the baseline matching, and a
baseline written before this naming (by its path in the file) still matches."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from auditor.model import pointer_unescape
from tests.conftest import DOCS, invoke

STATEMENTS = json.loads((DOCS / "least-privilege-2019-10.json").read_text())["Statement"]
FIX = "lambda:UpdateFunctionCode"  # the usual fix: statement 2 (lambda) lacks it


def _hcl_list(values: list[str], indent: str) -> str:
    return "[\n" + "".join(f'{indent}  "{v}",\n' for v in values) + f"{indent}]"


def _terraform_document(statements: list[dict], reformatted: bool) -> str:
    """A group with an aws_iam_policy_document (statement blocks); `reformatted`: other indentation,
    comments and blank lines, attributes in another order."""
    pad = "    " if reformatted else "  "
    blocks = []
    for stmt in statements:
        actions = f'{pad * 2}actions = {_hcl_list(stmt["Action"], pad * 2)}\n'
        resources = f'{pad * 2}resources = {_hcl_list(stmt["Resource"], pad * 2)}\n'
        body = (resources + "\n" + actions) if reformatted else (actions + resources)
        blocks.append(f"{pad}statement {{\n{body}{pad}}}\n")
    head = "# the deploy group\n# (reformatted)\n\n\n" if reformatted else ""
    return (f'{head}resource "aws_iam_group" "deploy" {{\n{pad}name = "demo-deploy"\n}}\n\n'
            f'resource "aws_iam_group_policy" "deploy" {{\n{pad}name   = "JetsDeploy"\n{pad}group  = aws_iam_group.deploy.name\n'
            f'{pad}policy = data.aws_iam_policy_document.deploy.json\n}}\n\n'
            'data "aws_iam_policy_document" "deploy" {\n' + ("\n" if reformatted else "").join(blocks) + "}\n")


def _terraform_jsonencode(statements: list[dict], reformatted: bool) -> str:
    """An aws_iam_policy written with jsonencode(), attached to the group."""
    pad = "    " if reformatted else "  "
    items = []
    for stmt in statements:
        keys = ("Resource", "Action", "Effect") if reformatted else ("Effect", "Action", "Resource")
        fields = []
        for key in keys:
            value = stmt[key]
            shown = f'"{value}"' if isinstance(value, str) else _hcl_list(value, pad * 4)
            fields.append(f"{pad * 4}{key} = {shown}\n")
        items.append(f"{pad * 3}{{\n{''.join(fields)}{pad * 3}}},\n")
    head = "/* the deploy group, reformatted */\n\n" if reformatted else ""
    return (f'{head}resource "aws_iam_group" "deploy" {{\n{pad}name = "demo-deploy"\n}}\n\n'
            f'resource "aws_iam_policy" "deploy" {{\n{pad}name = "jets-deploy"\n{pad}policy = jsonencode({{\n'
            f'{pad * 2}Version = "2012-10-17"\n{pad * 2}Statement = [\n{"".join(items)}{pad * 2}]\n{pad}}})\n}}\n\n'
            f'resource "aws_iam_group_policy_attachment" "deploy" {{\n{pad}group      = aws_iam_group.deploy.name\n'
            f'{pad}policy_arn = aws_iam_policy.deploy.arn\n}}\n')


def _cloudformation(statements: list[dict], reformatted: bool) -> str:
    """A group with an inline policy; `reformatted`: flow-style lists, keys in another order, comments."""
    lines = ["Resources:", "  DeployGroup:", "    Type: AWS::IAM::Group", "    Properties:", "      GroupName: demo-deploy",
             "      Policies:", "        - PolicyName: JetsDeploy", "          PolicyDocument:", '            Version: "2012-10-17"',
             "            Statement:"]
    if reformatted:
        lines = ["# the deploy group", "# (reformatted)", "", *lines]
    for stmt in statements:
        if reformatted:
            lines += [f"              - Resource: [{', '.join(repr(r) for r in stmt['Resource'])}]",
                      f"                Action: [{', '.join(stmt['Action'])}]", "                Effect: Allow", ""]
        else:
            lines += ["              - Effect: Allow", "                Action:",
                      *(f"                  - {a}" for a in stmt["Action"]), "                Resource:",
                      *(f"                  - '{r}'" for r in stmt["Resource"])]
    return "\n".join(lines) + "\n"


FORMS: dict[str, tuple[str, Callable[[list[dict], bool], str]]] = {
    "terraform-document": ("main.tf", _terraform_document),
    "terraform-jsonencode": ("main.tf", _terraform_jsonencode),
    "cloudformation": ("template.yaml", _cloudformation),
}


def _run(repo: Path, name: str, *args: str) -> tuple[int, dict]:
    proc = invoke("file", name, "--prefix", "demo", "--format", "json", *args, cwd=repo)
    assert proc.returncode in (0, 1), proc.stderr.decode()
    return proc.returncode, json.loads(proc.stdout)


def _edited(fix: bool = False, extra: str | None = None) -> list[dict]:
    """The statements in reverse order, the fix inserted first in the lambda statement's actions (every
    entry after it moves), `extra` first in the CloudFormation statement's."""
    statements = json.loads(json.dumps(STATEMENTS))
    if fix:
        statements[2]["Action"].insert(0, FIX)
    if extra:
        statements[0]["Action"].insert(0, extra)
    return statements[::-1]


@pytest.mark.slow
@pytest.mark.parametrize("form", sorted(FORMS))
def test_inserting_an_action_reordering_and_reformatting_keep_the_baseline(tmp_path, form):
    name, render = FORMS[form]
    path = tmp_path / name
    path.write_text(render(STATEMENTS, False))
    code, today = _run(tmp_path, name, "--write-baseline", "b.json")
    recorded = json.loads((tmp_path / "b.json").read_text())
    count = len(recorded["findings"])
    assert code == 0 and today["baseline"]["baselined"] == count and count >= 15
    # no place by index or line: statements by what they hold, entries by value, the policy by its address
    assert not any(any(part.isdigit() for part in e["where"].replace("#", "/").split("/")) for e in recorded["findings"])
    assert all(e["source"] == name for e in recorded["findings"])

    # reformatted, statements reversed, the fix inserted first in a statement's actions
    path.write_text(render(_edited(fix=True), True))
    code, tomorrow = _run(tmp_path, name, "--baseline", "b.json")
    assert code == 0, tomorrow["findings"]
    assert tomorrow["findings"] == []
    assert tomorrow["baseline"] == {"path": "b.json", "baselined": count - 1, "fixed": 1}  # the fixed missing action

    # something new: it alone is reported
    path.write_text(render(_edited(fix=True, extra="ec2:*"), True))
    code, new = _run(tmp_path, name, "--baseline", "b.json")
    assert code == 1
    assert [(f["rule_id"], f["subject"]) for f in new["findings"]] == [("wildcard-action", "ec2:*")]
    assert new["baseline"] == {"path": "b.json", "baselined": count - 1, "fixed": 1}


def _previous_fingerprint(finding: dict, where_pointer: str) -> str:
    """A fingerprint as the previous release wrote it for infrastructure code: the finding's path in the
    file, token by token, as its location gave it."""
    tokens = [pointer_unescape(t) for t in where_pointer.split("/")[1:]] if where_pointer else []
    parts = [finding["rule_id"], finding["location"]["source"], "/".join(tokens), finding["subject"], finding.get("resource") or ""]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:20]


@pytest.mark.slow
@pytest.mark.parametrize(("form", "principal", "policy"), [
    ("terraform-document", "/resource/aws_iam_group/deploy", "/data/aws_iam_policy_document/deploy"),
    ("cloudformation", "/Resources/DeployGroup", "/Resources/DeployGroup/Properties/Policies/0/PolicyDocument"),
])
def test_a_baseline_written_before_values_named_the_place_keeps_matching(tmp_path, form, principal, policy):
    """Version 1 baselines from before: each finding at its path in the file, and a finding about the whole
    group at its (first) policy. They match until the baseline is written again."""
    name, render = FORMS[form]
    (tmp_path / name).write_text(render(STATEMENTS, False))
    _, doc = _run(tmp_path, name)
    entries = []
    for f in doc["findings"]:
        where = f["location"]["pointer"]
        entries.append({"fingerprint": _previous_fingerprint(f, policy if where == principal else where)})
    assert any(f["location"]["pointer"] == principal for f in doc["findings"])
    (tmp_path / "old.json").write_text(json.dumps({"version": 1, "tool": "jets-iam-audit 0.1.0", "findings": entries}))
    code, again = _run(tmp_path, name, "--baseline", "old.json")
    assert code == 0 and again["findings"] == []
    assert again["baseline"] == {"path": "old.json", "baselined": len(entries), "fixed": 0}
