"""Hostile CloudFormation templates and plans are bounded in time and memory: each construction that
once took tens of seconds and several GB is an `invalid` finding naming the budget it ran past (README
"Limits"), in a process limited to 1 GiB of address space and a minute, never a MemoryError.

The budgets count what the readers produce (auditor/sources/cfn_resolve.py): YAML aliases as expanded
(PyYAML composes an alias as the node it names, shared, so a 1.6 MB file can name 150 GB), and what
Fn::Sub, Fn::Join and Fn::Split make, counted before it is made."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT

LIMIT = 1024 * 1024 * 1024  # address space of the audit process
SECONDS = 60


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


def _bounded(path, *args: str) -> tuple[dict, float]:
    """`file PATH --format json` in a process limited to 1 GiB and a minute: the report and the time taken."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["NO_COLOR"] = "1"
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "auditor", "file", str(path), "--prefix", "demo", "--format", "json", *args],
                          capture_output=True, cwd=ROOT, env=env, timeout=SECONDS, preexec_fn=_limit_memory)
    elapsed = time.monotonic() - start
    stderr = proc.stderr.decode()
    assert "Traceback" not in stderr and "MemoryError" not in stderr, stderr
    assert proc.returncode == 1, stderr
    return json.loads(proc.stdout), elapsed


def _invalid(doc: dict) -> list[str]:
    return [f["message"] for f in doc["findings"] if f["rule_id"] == "invalid-policy"]


def _group(policy_resources: str, extra: str = "") -> str:
    return ("AWSTemplateFormatVersion: '2010-09-09'\n" + extra + "Resources:\n  Deploy:\n    Type: AWS::IAM::Group\n"
            "    Properties:\n      Policies:\n        - PolicyName: p\n          PolicyDocument:\n            Statement:\n"
            "              - Effect: Allow\n                Action: cloudformation:CreateStack\n"
            f"                Resource: {policy_resources}\n")


@pytest.mark.slow
def test_a_1_mb_scalar_aliased_150000_times(tmp_path):
    """The issue's alias bomb: 1.6 MB of YAML that names 150 GB of text."""
    big = "x" * 1_000_000
    aliases = ", ".join(["*big"] * 150_000)
    path = tmp_path / "template.yaml"
    path.write_text(_group(f"[{aliases}]", f"Metadata:\n  Big: &big {big}\n"))
    doc, elapsed = _bounded(path)
    assert _invalid(doc) == ["not a CloudFormation template: template too large: the template's values (aliases expanded) "
                             "come to more than 8,000,000 characters (the template character budget, README Limits)"]
    assert elapsed < 40


@pytest.mark.slow
def test_nested_aliases_count_as_expanded(tmp_path):
    """A billion laughs: each level's list names the one before it ten times."""
    lines = ["Metadata:", "  L0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"  L{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 9)]
    path = tmp_path / "template.yaml"
    path.write_text(_group("[*l8]", "\n".join(lines) + "\n"))
    doc, elapsed = _bounded(path)
    assert _invalid(doc) == ["not a CloudFormation template: template too large: the template's values (aliases expanded) "
                             "come to more than 200,000 elements (the template element budget, README Limits)"]
    assert elapsed < 20


def test_fn_sub_amplification(tmp_path):
    """A 100 KB parameter substituted 200 times in one Fn::Sub (20 MB), counted as each piece is made."""
    path = tmp_path / "template.yaml"
    params = "Parameters:\n  P:\n    Type: String\n    Default: " + "a" * 100_000 + "\n"
    path.write_text(_group('!Sub "' + "${P}" * 200 + '"', params))
    doc, elapsed = _bounded(path)
    assert _invalid(doc) == ["template too large: Fn::Sub's results come to more than 8,000,000 characters (the template "
                             "character budget, README Limits)"]
    assert elapsed < 20


def test_nested_fn_sub_doubling(tmp_path):
    """Each Fn::Sub doubles the one inside it: 2^40 characters from a 2 KB template."""
    inner = '"x"'
    for _ in range(40):
        inner = '{"Fn::Sub": ["${a}${a}", {"a": ' + inner + '}]}'
    template = {"Resources": {"Deploy": {"Type": "AWS::IAM::Group", "Properties": {"Policies": [{
        "PolicyName": "p", "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "cloudformation:CreateStack",
                                                              "Resource": "RESOURCE"}]}}]}}}}
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template).replace('"RESOURCE"', inner))
    doc, elapsed = _bounded(path)
    assert _invalid(doc) == ["template too large: Fn::Sub's results come to more than 8,000,000 characters (the template "
                             "character budget, README Limits)"]
    assert elapsed < 20


@pytest.mark.slow
def test_fn_join_of_a_parameter_many_times(tmp_path):
    """JSON has no aliases; a parameter referenced 60,000 times inside one Fn::Join does the same."""
    parts = ", ".join(['{"Ref": "P"}'] * 60_000)
    template = ('{"Resources": {"Deploy": {"Type": "AWS::IAM::Group", "Properties": {"Policies": [{"PolicyName": "p", '
                '"PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "cloudformation:CreateStack", "Resource": '
                '{"Fn::Join": ["", [' + parts + ']]}}]}}]}}}, "Parameters": {"P": {"Type": "String", "Default": "'
                + "b" * 1_000_000 + '"}}}')
    path = tmp_path / "template.json"
    path.write_text(template)
    doc, elapsed = _bounded(path)
    assert _invalid(doc) == ["template too large: the values of parameter P come to more than 8,000,000 characters (the "
                             "template character budget, README Limits)"]
    assert elapsed < 20


@pytest.mark.slow
def test_fn_split_of_an_alias(tmp_path):
    """!Split of a 1 MB run of separators makes a million elements: counted before the split."""
    path = tmp_path / "template.yaml"
    path.write_text(_group('!Split [",", *s]', "Metadata:\n  S: &s '" + "," * 1_000_000 + "'\n"))
    doc, elapsed = _bounded(path)
    assert _invalid(doc) == ["template too large: Fn::Split's results come to more than 200,000 elements (the template "
                             "element budget, README Limits)"]
    assert elapsed < 20


@pytest.mark.slow
def test_nested_fn_if_and_conditions_are_linear(tmp_path):
    """60 conditions each naming the next twice would be 2^60 evaluations if each use were worked out
    again: each named condition has one value per stack (worked out once), so this is decided at once.
    Fn::If nested 60 deep picks one branch at each level."""
    conditions = "Parameters:\n  Env: {Type: String, Default: prod}\nConditions:\n"
    conditions += "".join(f"  C{i}: !And [!Condition C{i + 1}, !Condition C{i + 1}]\n" for i in range(60))
    conditions += "  C60: !Equals [!Ref Env, prod]\n"
    nested = '"arn:aws:cloudformation:*:*:stack/demo-dev/*"'
    for i in range(60):
        nested = f"!If [C{i}, {nested}, other]"
    path = tmp_path / "template.yaml"
    path.write_text(_group(f"[{nested}]", conditions))
    doc, elapsed = _bounded(path)
    assert _invalid(doc) == []
    assert not [f for f in doc["findings"] if f["rule_id"] == "not-evaluated"]
    granted = {(r["action"], r["resource"]) for r in doc["coverage"] if r["status"] == "granted"}
    assert ("cloudformation:CreateStack", "arn:aws:cloudformation:*:*:stack/demo-dev/*") in granted
    assert elapsed < 20


def test_circular_conditions_are_a_template_error(tmp_path):
    """CloudFormation rejects a condition that depends on itself; so does the reader, naming the cycle."""
    path = tmp_path / "template.yaml"
    path.write_text(_group('!If [A, "*", "*"]', "Conditions:\n  A: !Not [!Condition B]\n  B: !Not [!Condition A]\n"))
    doc, _ = _bounded(path)
    assert _invalid(doc) == ["circular dependency between conditions: A → B → A"]


@pytest.mark.slow
def test_a_policy_rendering_past_2_mib_is_refused(tmp_path):
    """Within the template budget but beyond what a policy file may hold: refused as a policy file is."""
    path = tmp_path / "template.yaml"
    params = "Parameters:\n  P:\n    Type: String\n    Default: " + "a" * 600_000 + "\n"
    path.write_text(_group("[" + ", ".join(["!Ref P"] * 4) + "]", params))
    doc, _ = _bounded(path)
    assert _invalid(doc) == ["refused: the policy comes to more than 2 MiB (the cap of policy files)"]


@pytest.mark.slow
def test_a_policy_in_a_plan_gets_the_2_mib_cap_of_files(tmp_path):
    """A plan may be 64 MiB; each policy in it is held to the 2 MiB of a policy file."""
    statement = {"Effect": "Allow", "Action": "cloudformation:CreateStack", "Resource": ["arn:aws:s3:::" + "x" * 1000] * 2200}
    policy = {"Version": "2012-10-17", "Statement": [statement]}
    value = json.dumps(policy)  # terraform show -json writes a policy attribute as a JSON string
    plan = {"format_version": "1.2", "planned_values": {"root_module": {"resources": [
        {"address": "aws_iam_group.deploy", "mode": "managed", "type": "aws_iam_group", "name": "deploy",
         "values": {"name": "jets-deploy"}},
        {"address": "aws_iam_group_policy.deploy", "mode": "managed", "type": "aws_iam_group_policy", "name": "deploy",
         "values": {"group": "jets-deploy", "policy": value}}]}}}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    doc, _ = _bounded(path)
    assert _invalid(doc) == ["refused: the policy is larger than 2 MiB (the cap of policy files)"]
