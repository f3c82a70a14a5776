"""Everything `generate` writes audits clean, split or not (issue 27, item 8): for every release line, every
feature, several envs, in each format. A policy IAM's size quota splits is one principal's: the JSON array
is read as one policy set, and the Terraform and CloudFormation output is the deploy group with every
document attached to it (auditor/generate_iac.py), which the readers assemble as one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import invoke

FILES = {"json": "policy.json", "terraform": "main.tf", "cloudformation": "template.yaml"}
ENVS = {"one env": ("dev",), "two envs": ("dev", "prod"), "four envs": ("dev", "prod", "stag", "qa")}


def _options(version: str, envs: tuple[str, ...]) -> list[str]:
    return ["--prefix", "shop", "--jets-version", version, "--feature", "all", *(a for e in envs for a in ("--env", e))]


def _round_trip(tmp_path: Path, version: str, envs: tuple[str, ...]) -> dict[str, dict]:
    """Each format generated into its own directory (a Terraform module each) and audited back as JSON."""
    options = _options(version, envs)
    reports = {}
    for fmt, name in FILES.items():
        directory = tmp_path / fmt
        directory.mkdir()
        made = invoke("generate", *options, "--format", fmt, "--output", str(directory / name))
        assert made.returncode == 0, made.stderr.decode()
        proc = invoke("file", str(directory / name), *options, "--format", "json")
        assert proc.returncode == 0, (fmt, proc.stdout.decode()[:2000])
        reports[fmt] = json.loads(proc.stdout)
    return reports


def _beyond_forced(report: dict) -> list[dict]:
    """The findings other than the one every Jets deploy policy gets: the privilege-escalation paths the
    release itself needs (info, subject "Jets N"; issue 26), which must be there exactly once."""
    forced = [f for f in report["findings"] if f["rule_id"] == "privilege-escalation" and f["subject"].startswith("Jets ")]
    assert [f["severity"] for f in forced] == ["info"], report["findings"]
    return [f for f in report["findings"] if f not in forced]


def _documents(tmp_path: Path) -> int:
    written = json.loads((tmp_path / "json" / FILES["json"]).read_text())
    return len(written) if isinstance(written, list) else 1


def _check(tmp_path: Path, reports: dict[str, dict]) -> int:
    documents = _documents(tmp_path)
    for fmt, report in reports.items():
        assert _beyond_forced(report) == [], fmt
        assert {row["status"] for row in report["coverage"]} == {"granted"}, fmt
        (target,) = report["targets"]  # one principal holds every document
        assert len(target["sources"]) == (1 if fmt == "json" else documents), (fmt, target)
        if fmt != "json":
            assert target["kind"] == "group", fmt
    granted = {fmt: sorted((r["action"], r["resource"], r["caller"]) for r in report["coverage"]) for fmt, report in reports.items()}
    assert granted["terraform"] == granted["json"] == granted["cloudformation"]
    return documents


@pytest.mark.slow
@pytest.mark.parametrize("envs", sorted(ENVS))
@pytest.mark.parametrize("version", ["3", "4", "5", "6"])
def test_every_format_audits_clean_split_or_not(tmp_path, version, envs):
    documents = _check(tmp_path, _round_trip(tmp_path, version, ENVS[envs]))
    # --feature all is over one managed policy's 6,144 characters up to Jets 5 from Jets 4 on, and for two envs or
    # more on Jets 3 (the object keys Jets writes are spelled out per release; CodeBuild deploys the features of
    # Jets 6, so its local policy is smaller): those are split
    assert documents == (1 if version == "6" or (version == "3" and envs == "one env") else 2)


def test_the_split_terraform_and_cloudformation_are_the_deploy_group_with_each_policy_attached(tmp_path):
    options = _options("5", ENVS["two envs"])
    terraform = invoke("generate", *options, "--format", "terraform")
    text = terraform.stdout.decode()
    assert text.count('resource "aws_iam_group" "jets_deploy"') == 1 and 'name = "jets-deploy-shop"' in text
    for i in (1, 2):
        assert f'resource "aws_iam_policy" "jets_deploy_{i}"' in text and f'name        = "jets-deploy-shop-{i}"' in text
        assert (f'resource "aws_iam_group_policy_attachment" "jets_deploy_{i}" {{\n  group      = aws_iam_group.jets_deploy.name\n'
                f"  policy_arn = aws_iam_policy.jets_deploy_{i}.arn\n}}") in text
    assert terraform.stderr.decode().startswith("the policy is ")
    assert "written as 2 managed policies, all attached to the deploy group it defines" in terraform.stderr.decode()
    import yaml

    template = yaml.safe_load(invoke("generate", *options, "--format", "cloudformation").stdout)
    assert template["Resources"]["JetsDeployGroup"] == {"Type": "AWS::IAM::Group"}
    for i in (1, 2):
        policy = template["Resources"][f"JetsDeployPolicy{i}"]
        assert policy["Type"] == "AWS::IAM::ManagedPolicy" and policy["Properties"]["Groups"] == [{"Ref": "JetsDeployGroup"}]


@pytest.mark.slow
@pytest.mark.parametrize(("attach", "kind"), [("group-inline", "group"), ("role-inline", "role")])
@pytest.mark.parametrize("fmt", ["terraform", "cloudformation"])
def test_an_inline_policy_is_written_on_the_principal_it_goes_to(tmp_path, fmt, attach, kind):
    options = ["--prefix", "shop", "--env", "dev"]
    path = tmp_path / FILES[fmt]
    assert invoke("generate", *options, "--format", fmt, "--attach", attach, "--output", str(path)).returncode == 0
    proc = invoke("file", str(path), *options, "--format", "json")
    assert proc.returncode == 0, proc.stdout.decode()[:2000]
    report = json.loads(proc.stdout)
    (target,) = report["targets"]
    assert target["kind"] == kind and len(target["sources"]) == 1 and _beyond_forced(report) == []
    text = path.read_text()
    if fmt == "terraform":
        assert f'resource "aws_iam_{kind}_policy" "jets_deploy"' in text and "aws_iam_policy\"" not in text
    else:
        assert "AWS::IAM::ManagedPolicy" not in text and "PolicyName: jets-deploy-shop" in text
    if kind == "role":  # trusted by the account it is in, as the console's "this account" does
        assert ":root" in text and "sts:AssumeRole" in text
