"""AWS managed policies attached by ARN are judged by their documents, from the snapshot shipped in the
package (auditor/managed_policies.py, written by scripts/refresh_managed_policies.py).

The issue's example: a group with AdministratorAccess attached by ARN was "68 missing, 51 high" (nothing
granted: the ARN alone was named in a note); it grants everything, and far too much."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import pytest

from auditor import managed_policies
from tests.conftest import ROOT, run_cli

SCRIPT = ROOT / "scripts" / "refresh_managed_policies.py"

ADMIN_TF = '''
resource "aws_iam_group" "deploy" { name = "jets-deploy" }
resource "aws_iam_group_policy_attachment" "admin" {
  group      = aws_iam_group.deploy.name
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}
'''

ADMIN_CFN = '''AWSTemplateFormatVersion: "2010-09-09"
Resources:
  DeployGroup:
    Type: AWS::IAM::Group
    Properties:
      GroupName: jets-deploy
      ManagedPolicyArns:
        - !Sub arn:${AWS::Partition}:iam::aws:policy/AdministratorAccess
'''

# what CDK's ManagedPolicy.fromAwsManagedPolicyName("AdministratorAccess") synthesises
ADMIN_CDK = {"Resources": {"DeployGroupA1B2C3": {"Type": "AWS::IAM::Group", "Properties": {"ManagedPolicyArns": [
    {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/AdministratorAccess"]]}]}}}}

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def _audit(path, *args: str) -> tuple[int, dict]:
    proc = run_cli("file", str(path), "--prefix", "demo", "--format", "json", "--show-ignored", *args)
    assert "Traceback" not in proc.stderr.decode(), proc.stderr.decode()
    return proc.returncode, json.loads(proc.stdout)


def _judged_as_admin(code: int, doc: dict, name: str) -> None:
    assert code == 1
    assert doc["targets"] == [{"kind": "group", "name": name, "sources": [ADMIN]}]
    assert {r["status"] for r in doc["coverage"]} == {"granted"}  # everything granted: nothing missing
    assert [f["rule_id"] for f in doc["findings"]] == ["aws-managed-policy"]
    (finding,) = doc["findings"]
    assert finding["category"] == "over-broad" and finding["severity"] == "critical"
    assert finding["message"].startswith(f"{ADMIN} is an AWS managed policy, which cannot be edited, and grants 1 action "
                                         "entry beyond what Jets needs (*)")
    # the line-level findings inside it are folded into that one (it cannot be edited), privilege escalation included
    folded = {f["rule_id"] for f in doc["ignored"]}
    assert {"wildcard-action", "passrole-unscoped"} <= folded
    assert doc["summary"]["by_category"]["missing-action"] == 0
    version = managed_policies.snapshot()
    assert doc["notes"][-1] == (f"group {name}: 1 AWS managed policy attached by ARN, judged by the snapshot of {version.date} "
                                f"shipped with jets-iam-audit: {ADMIN} (v1) (live mode or --auth-details FILE reads the "
                                "account's current version)")


@pytest.mark.slow
def test_administrator_access_by_arn_in_terraform(tmp_path):
    (tmp_path / "main.tf").write_text(ADMIN_TF)
    _judged_as_admin(*_audit(tmp_path / "main.tf"), "jets-deploy")


@pytest.mark.slow
def test_administrator_access_by_arn_in_cloudformation(tmp_path):
    (tmp_path / "template.yaml").write_text(ADMIN_CFN)
    _judged_as_admin(*_audit(tmp_path / "template.yaml"), "jets-deploy")


@pytest.mark.slow
def test_administrator_access_by_arn_in_cdk_output(tmp_path):
    (tmp_path / "Stack.template.json").write_text(json.dumps(ADMIN_CDK))
    _judged_as_admin(*_audit(tmp_path / "Stack.template.json"), "DeployGroupA1B2C3")


def _managed_notes(doc: dict) -> list[str]:
    """The notes about managed policies (not the one that says why no principal looks like a deployer:
    this group has no policy of its own that allows CreateStack)."""
    return [n for n in doc["notes"] if "looks like a Jets deploy principal" not in n]


@pytest.mark.slow
def test_auth_details_win_over_the_snapshot(tmp_path):
    (tmp_path / "main.tf").write_text(ADMIN_TF)
    details = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": [{
        "PolicyName": "AdministratorAccess", "Arn": ADMIN, "PolicyVersionList": [{"IsDefaultVersion": True, "VersionId": "v9",
            "Document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}]}]}
    (tmp_path / "details.json").write_text(json.dumps(details))
    code, doc = _audit(tmp_path / "main.tf", "--auth-details", str(tmp_path / "details.json"))
    assert code == 1
    assert _managed_notes(doc) == []  # nothing from the snapshot, nothing left out
    assert "missing" in {r["status"] for r in doc["coverage"]}  # the account's (here cut-down) version was judged


@pytest.mark.slow
def test_an_arn_the_snapshot_lacks_is_named(tmp_path):
    (tmp_path / "main.tf").write_text(ADMIN_TF.replace("AdministratorAccess", "NoSuchPolicyByAWS"))
    code, doc = _audit(tmp_path / "main.tf")
    assert code == 1
    assert _managed_notes(doc) == [
        "group jets-deploy: 1 managed policy attached by ARN only, not audited: arn:aws:iam::aws:policy/NoSuchPolicyByAWS "
        "(pass --auth-details FILE from `aws iam get-account-authorization-details` to include them); not in the AWS "
        "managed policy snapshot: arn:aws:iam::aws:policy/NoSuchPolicyByAWS"]


def test_lookup_follows_the_arn_path_partition_and_deprecated_names():
    snap = managed_policies.snapshot()
    assert snap.find("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole").name == "AWSLambdaBasicExecutionRole"
    # the path is part of the ARN: this ARN names no policy
    assert snap.find("arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole") is None
    # another partition, or one Terraform did not decide, names the same policy
    assert snap.find("arn:aws-us-gov:iam::aws:policy/AdministratorAccess").name == "AdministratorAccess"
    assert snap.find("arn:${data.aws_partition.current.partition}:iam::aws:policy/AdministratorAccess").version == "v1"
    # a customer managed policy is not AWS's
    assert snap.find("arn:aws:iam::123456789012:policy/AdministratorAccess") is None
    # AWSLambdaFullAccess is deprecated (AWS no longer lists it; it stays where attached); its path is not known,
    # so it is found by name
    old = snap.find("arn:aws:iam::aws:policy/AWSLambdaFullAccess")
    assert old is not None and not old.listed and old.arn is None
    policy, entry = managed_policies.policy("arn:aws:iam::aws:policy/AWSLambdaFullAccess")
    assert policy.aws_managed and policy.source == "arn:aws:iam::aws:policy/AWSLambdaFullAccess"
    assert any("lambda:*" in (s.actions or ()) for s in policy.statements)


def test_the_snapshot_is_dated_and_complete():
    snap = managed_policies.snapshot()
    assert snap.date == "2026-03-07"
    entries = list(managed_policies.documents())
    assert len(entries) == 1522 and len({e.name for e in entries}) == 1522
    assert all("Statement" in e.document for e in entries)
    assert sum(1 for e in entries if e.arn is not None) == 1488  # 34 deprecated policies whose path no list gave
    assert managed_policies.SNAPSHOT.stat().st_size < 600_000  # compressed: 3.9 MB of JSON


@pytest.mark.slow
def test_the_snapshot_is_read_only_when_an_arn_needs_it(tmp_path):
    (tmp_path / "main.tf").write_text(ADMIN_TF.replace("arn:aws:iam::aws:policy/AdministratorAccess",
                                                       "arn:aws:iam::123456789012:policy/own"))
    code = ("import sys; from auditor.sources.targets import load\n"
            "loaded = load([sys.argv[1]])\n"
            "print(len(loaded.targets), 'auditor.managed_policies' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "main.tf")], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert proc.stdout.split() == ["1", "False"], proc.stderr
    (tmp_path / "main.tf").write_text(ADMIN_TF)
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "main.tf")], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert proc.stdout.split() == ["1", "True"], proc.stderr


# --- the refresh script -------------------------------------------------------------------------

def _run_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120)


def _read(path) -> dict:
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        return json.load(stream)


def test_refresh_from_saved_cli_output(tmp_path):
    versions = tmp_path / "versions"
    versions.mkdir()
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    (versions / "AmazonS3FullAccess.json").write_text(json.dumps({"PolicyVersion": {"Document": doc, "VersionId": "v2"}}))
    (versions / "OldPolicy").write_text(json.dumps(doc))  # a bare document, named by an older list only
    (versions / "Unlisted.json").write_text(json.dumps(doc))  # named by no list
    (versions / "Broken.json").write_text("")
    current = {"Policies": [{"PolicyName": "AmazonS3FullAccess", "Arn": "arn:aws:iam::aws:policy/AmazonS3FullAccess",
                             "DefaultVersionId": "v2", "UpdateDate": "2021-09-27T20:16:37+00:00"}]}
    older = {"Policies": [{"PolicyName": "OldPolicy", "Arn": "arn:aws:iam::aws:policy/service-role/OldPolicy",
                           "DefaultVersionId": "v3"},
                          {"PolicyName": "AmazonS3FullAccess", "Arn": "arn:aws:iam::aws:policy/wrong/AmazonS3FullAccess"}]}
    (tmp_path / "list.json").write_text(json.dumps(current))
    (tmp_path / "old.json").write_text(json.dumps(older))
    out = tmp_path / "snap.json.gz"
    proc = _run_script("--list", str(tmp_path / "list.json"), "--list", str(tmp_path / "old.json"), "--versions",
                       str(versions), "--date", "2026-01-02", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"{out}: 3 AWS managed policies of 2026-01-02 (1 without an ARN, 2 no longer listed)"
    assert "skipped Broken.json: empty" in proc.stderr
    data = _read(out)
    assert data["date"] == "2026-01-02" and data["format"] == managed_policies.FORMAT
    assert data["policies"] == [
        {"name": "AmazonS3FullAccess", "arn": "arn:aws:iam::aws:policy/AmazonS3FullAccess", "version": "v2",
         "updated": "2021-09-27T20:16:37+00:00", "listed": True, "document": doc},
        {"name": "OldPolicy", "arn": "arn:aws:iam::aws:policy/service-role/OldPolicy", "version": "v3", "updated": None,
         "listed": False, "document": doc},
        {"name": "Unlisted", "arn": None, "version": None, "updated": None, "listed": False, "document": doc}]
    # the same input writes the same bytes (no timestamp in the gzip header)
    first = out.read_bytes()
    assert _run_script("--list", str(tmp_path / "list.json"), "--list", str(tmp_path / "old.json"), "--versions",
                       str(versions), "--date", "2026-01-02", "--out", str(out)).returncode == 0
    assert out.read_bytes() == first
    # and the module reads what it wrote
    snap = managed_policies.read_snapshot(out)
    assert snap.find("arn:aws:iam::aws:policy/service-role/OldPolicy").version == "v3"
    assert snap.find("arn:aws:iam::aws:policy/Unlisted").name == "Unlisted"


def test_refresh_needs_a_source(tmp_path):
    proc = _run_script("--out", str(tmp_path / "x.gz"))
    assert proc.returncode == 2 and "give --versions DIR (with --list FILE) or --aws" in proc.stderr
    assert not (tmp_path / "x.gz").exists()


@pytest.mark.slow  # moto loads ~1,600 managed policies
def test_refresh_from_aws_api(tmp_path):
    """--aws pages through iam:ListPolicies (Scope AWS) and reads each default version, here from moto's copy."""
    out = tmp_path / "snap.json.gz"
    code = ("import sys, runpy\nfrom moto import mock_aws\n"
            "with mock_aws():\n"
            "    sys.argv = ['refresh', '--aws', '--date', '2026-01-02', '--out', sys.argv[1]]\n"
            "    runpy.run_path(sys.argv[0] if False else " + repr(str(SCRIPT)) + ", run_name='__main__')\n")
    env = {"MOTO_IAM_LOAD_MANAGED_POLICIES": "true", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    data = _read(out)
    names = {p["name"]: p for p in data["policies"]}
    assert len(names) > 1000
    admin = names["AdministratorAccess"]
    assert admin["arn"] == ADMIN and admin["listed"] is True
    assert admin["document"]["Statement"][0]["Action"] == "*"
