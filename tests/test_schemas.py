"""The JSON Schemas shipped in the package (auditor/schemas/) describe what the tool really writes:
real outputs of many kinds validate, and a document that drifts from the contract does not."""

from __future__ import annotations

import json
import shutil

import jsonschema
import pytest

from tests.conftest import DOCS, FIXTURES, ROOT, run_cli

SCHEMAS = ROOT / "auditor" / "schemas"


def _validator(name):
    schema = json.loads((SCHEMAS / f"{name}-v1.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _report(*args, cwd=None):
    proc = run_cli("file", *args, "--format", "json", cwd=cwd)
    assert proc.returncode in (0, 1), proc.stderr.decode()
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("schemas")
    repo = tmp / "repo"
    (repo / "iam").mkdir(parents=True)
    (repo / "other").mkdir()
    shutil.copy(DOCS / "least-privilege-2019-10.json", repo / "iam" / "deploy.json")
    shutil.copy(DOCS / "broad.json", repo / "other" / "broad.json")
    (repo / "pyproject.toml").write_text('[tool.jets-iam-audit]\nprefix = "demo"\n[[tool.jets-iam-audit.ignore]]\n'
                                         'file = "iam/*.json"\nrule = "duplicate-action"\nreason = "known"\n'
                                         '[[tool.jets-iam-audit.ignore]]\nfile = "iam/*.json"\nsid = "Nope"\nreason = "unused"\n')
    (repo / "other" / ".jets-iam-audit.toml").write_text('prefix = "other"\nenv = ["prod"]\n')
    (repo / "managed.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["lambda:*", "s3:*"], "Resource": "*"}]}))
    run_cli("generate", "--prefix", "demo", "--feature", "all", "--env", "dev", "--env", "prod",
            "--output", str(repo / "split.json"))
    run_cli("file", "iam/deploy.json", "--write-baseline", "baseline.json", "-q", cwd=repo)
    return {
        "plain": _report(str(DOCS / "least-privilege-2019-10.json")),
        "every fixture": _report(*(str(p) for p in sorted(DOCS.glob("*.json"))), "--feature", "all"),
        "configs, ignores, show-ignored": _report("iam/deploy.json", "other/broad.json", "--show-ignored", cwd=repo),
        "baseline": _report("iam/deploy.json", "--baseline", "baseline.json", cwd=repo),
        "aws managed, combined": _report("iam/deploy.json", "--aws-managed", "managed.json", "--show-ignored", cwd=repo),
        "split document array": _report("split.json", "--feature", "all", cwd=repo),
        "project, Jets 6, region": _report(str(DOCS / "broad.json"), "--project", str(FIXTURES / "jets-app"),
                                           "--jets-version", "6", "--region", "us-east-1", "--account", "123456789012"),
        "not a policy": _report(str(repo / "pyproject.toml")),
        "terraform, template, plan": _report(str(FIXTURES / "iac" / "terraform-jsonencode" / "main.tf"),
                                             str(FIXTURES / "iac" / "cloudformation" / "template.yaml"),
                                             str(FIXTURES / "iac" / "plan" / "plan.json")),
    }


@pytest.mark.slow
def test_reports_validate(reports):
    validator = _validator("report")
    for name, doc in reports.items():
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]
        assert not errors, (name, errors[:5])
    # the cases cover the optional parts of the contract
    assert any("ignored" in d for d in reports.values()) and any("baseline" in d for d in reports.values())
    assert any("settings" in t and "config" in t for d in reports.values() for t in d["targets"])
    assert any(f["rule_id"] == "unused-ignore" for d in reports.values() for f in d["findings"])
    assert any("project" in d["settings"] for d in reports.values())


@pytest.mark.slow
def test_catalogue_validates():
    validator = _validator("catalogue")
    for args in ([], ["--prefix", "shop", "--env", "dev", "--env", "prod", "--feature", "all"], ["--jets-version", "6"]):
        doc = json.loads(run_cli("catalogue", "--format", "json", *args).stdout)
        assert not list(validator.iter_errors(doc)), args


def test_baseline_file_validates(tmp_path):
    shutil.copy(DOCS / "least-privilege-2019-10.json", tmp_path / "p.json")
    run_cli("file", "p.json", "--write-baseline", "b.json", "-q", cwd=tmp_path)
    assert not list(_validator("baseline").iter_errors(json.loads((tmp_path / "b.json").read_text())))


def test_drift_is_caught():
    validator = _validator("report")
    plain = _report(str(DOCS / "least-privilege-2019-10.json"))
    assert validator.is_valid(plain)
    doc = json.loads(json.dumps(plain))
    doc["findings"][0]["location"]["column"] = 3  # a key the contract does not have
    assert not validator.is_valid(doc)
    doc = json.loads(json.dumps(plain))
    doc["summary"]["exit_code"] = 2
    assert not validator.is_valid(doc)
