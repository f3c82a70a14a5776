"""live mode against moto running as a real HTTP server on 127.0.0.1 (started here), seeded with boto3.
Never real AWS: every call goes to the local endpoint with fake credentials."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import boto3
import pytest

from tests.conftest import DOCS, run_cli

pytestmark = pytest.mark.slow  # a moto server, and the CLI as a subprocess per test

FAKE = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
DOCS_2019_10 = (DOCS / "least-privilege-2019-10.json").read_text()
DYNAMO_RO = "arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def endpoint():
    port = _free_port()
    env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("moto server did not start")
            time.sleep(0.2)
    _seed(boto3.client("iam", endpoint_url=url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing"))
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def _seed(iam):
    iam.create_group(GroupName="Jets")
    iam.put_group_policy(GroupName="Jets", PolicyName="JetsPolicy", PolicyDocument=DOCS_2019_10)
    iam.attach_group_policy(GroupName="Jets", PolicyArn=DYNAMO_RO)
    iam.create_group(GroupName="Extra")
    iam.put_group_policy(GroupName="Extra", PolicyName="Update", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:UpdateFunctionCode",
                                                "Resource": "arn:aws:lambda:*:*:function:demo-*"}]}))
    iam.create_user(UserName="deployer")
    iam.add_user_to_group(GroupName="Jets", UserName="deployer")
    iam.create_user(UserName="updater")
    iam.add_user_to_group(GroupName="Jets", UserName="updater")
    iam.add_user_to_group(GroupName="Extra", UserName="updater")
    # more attached policies than one page (IAM pages at 100)
    iam.create_group(GroupName="Big")
    for i in range(101):
        action = "lambda:UpdateFunctionConfiguration" if i == 100 else "s3:GetObject"
        arn = iam.create_policy(PolicyName=f"p{i:03d}", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action,
                                                    "Resource": "arn:aws:lambda:*:*:function:demo-*" if i == 100 else "*"}]}))["Policy"]["Arn"]
        iam.attach_group_policy(GroupName="Big", PolicyArn=arn)
    # a role whose boundary allows only CloudFormation and S3
    boundary = iam.create_policy(PolicyName="OnlyCfnS3", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["cloudformation:*", "s3:*"], "Resource": "*"}]}))
    iam.create_role(RoleName="deploy-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}),
                    PermissionsBoundary=boundary["Policy"]["Arn"])
    iam.put_role_policy(RoleName="deploy-role", PolicyName="Admin", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))


def live(endpoint, *args, env=None):
    proc = run_cli("live", *args, "--endpoint-url", endpoint, "--format", "json", env_extra={**FAKE, **(env or {})})
    assert proc.returncode in (0, 1), proc.stderr.decode()
    return json.loads(proc.stdout)


def _missing(doc):
    return sorted({f["subject"] for f in doc["findings"] if f["rule_id"] == "missing-action"})


def _dups(doc):
    return sorted((f["rule_id"], f["subject"]) for f in doc["findings"] if f["category"] == "duplicate")


def test_group_union_matches_file_audit(endpoint, write_policy):
    doc = live(endpoint, "--group", "Jets", "--feature", "dynamodb-events")
    file_doc = json.loads(run_cli("file", write_policy(DOCS_2019_10), "--feature", "dynamodb-events", "--format", "json").stdout)
    assert doc["targets"] == [{"kind": "group", "name": "Jets", "sources": ["group/Jets/inline/JetsPolicy", DYNAMO_RO]}]
    describe = next(r for r in doc["coverage"] if r["action"] == "dynamodb:DescribeTable")
    assert describe["status"] == "granted" and describe["granted_by"][0].startswith(DYNAMO_RO + "#")
    assert "dynamodb:DescribeTable" in _missing(file_doc) and "dynamodb:DescribeTable" not in _missing(doc)
    assert _missing(doc) == sorted(set(_missing(file_doc)) - {"dynamodb:DescribeTable"})
    assert "lambda:UpdateFunctionCode" in _missing(doc)
    assert ("duplicate-action", "lambda:GetFunctionConfiguration") in _dups(doc)
    assert [d for d in _dups(doc)] == [d for d in _dups(file_doc)]
    dup = next(f for f in doc["findings"] if f["rule_id"] == "duplicate-action")
    assert dup["location"]["source"] == "group/Jets/inline/JetsPolicy" and dup["location"]["pointer"] == "/Statement/2/Action/7"


def test_parliament_reads_each_document_of_the_group(endpoint):
    """--parliament in live mode: each inline and managed policy goes through parliament, and its
    findings are located in that policy."""
    doc = live(endpoint, "--group", "Jets", "--parliament")
    mismatch = [f for f in doc["findings"] if f["rule_id"] == "parliament/RESOURCE_MISMATCH"]
    assert [(f["location"]["source"], f["location"]["pointer"]) for f in mismatch] == [("group/Jets/inline/JetsPolicy", "/Statement/3")]
    assert {k: doc["parliament"][k] for k in ("added", "merged", "refuted", "failed")} == {
        "added": 1, "merged": 1, "refuted": 0, "failed": 0}


def test_user_gets_its_groups(endpoint):
    group = live(endpoint, "--group", "Jets", "--feature", "dynamodb-events")
    user = live(endpoint, "--user", "deployer", "--feature", "dynamodb-events")
    assert _missing(user) == _missing(group) and _dups(user) == _dups(group)
    two_groups = live(endpoint, "--user", "updater")
    assert two_groups["targets"][0]["sources"] == ["group/Jets/inline/JetsPolicy", DYNAMO_RO, "group/Extra/inline/Update"]
    assert "lambda:UpdateFunctionCode" not in _missing(two_groups)


def test_every_page_is_read(endpoint):
    doc = live(endpoint, "--group", "Big", "--prefix", "demo")
    assert len(doc["targets"][0]["sources"]) == 101
    row = next(r for r in doc["coverage"] if r["action"] == "lambda:UpdateFunctionConfiguration")
    assert row["status"] == "granted" and row["granted_by"][0].startswith("arn:aws:iam::123456789012:policy/p100#")


def test_role_with_boundary(endpoint):
    doc = live(endpoint, "--role", "deploy-role", "--prefix", "demo")
    assert doc["targets"][0]["boundary"] == ["arn:aws:iam::123456789012:policy/OnlyCfnS3"]
    status = {r["action"]: r["status"] for r in doc["coverage"]}
    assert status["cloudformation:CreateStack"] == "granted" and status["s3:PutObject"] == "granted"
    assert status["lambda:CreateFunction"] == "missing"
    create = next(f for f in doc["findings"] if f["subject"] == "lambda:CreateFunction")
    assert "not allowed by the permissions boundary arn:aws:iam::123456789012:policy/OnlyCfnS3" in create["message"]


def test_endpoint_from_environment(endpoint):
    proc = run_cli("live", "--group", "Jets", "--format", "json", env_extra={**FAKE, "AWS_ENDPOINT_URL": endpoint})
    assert proc.returncode == 1 and json.loads(proc.stdout)["targets"][0]["name"] == "Jets"


def test_missing_group_exits_2(endpoint):
    proc = run_cli("live", "--group", "Nope", "--endpoint-url", endpoint, env_extra=FAKE)
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert err.startswith("jets-iam-audit: error: IAM group 'Nope' not found") and err.count("\n") == 1


def test_dead_endpoint_exits_2_quickly():
    start = time.monotonic()
    proc = run_cli("live", "--group", "Jets", "--endpoint-url", f"http://127.0.0.1:{_free_port()}", env_extra=FAKE)
    assert proc.returncode == 2
    assert proc.stderr.decode().startswith("jets-iam-audit: error: cannot reach the AWS IAM endpoint http://127.0.0.1:")
    assert "Traceback" not in proc.stderr.decode()
    assert time.monotonic() - start < 60


def test_a_password_in_the_endpoint_url_is_never_shown():
    port = _free_port()
    proc = run_cli("live", "--group", "Jets", "--endpoint-url", f"http://deploy:hunter2@127.0.0.1:{port}/path?token=abc",
                   env_extra={**FAKE, "AWS_MAX_ATTEMPTS": "1"})
    assert proc.returncode == 2
    assert proc.stderr.decode() == (f"jets-iam-audit: error: cannot reach the AWS IAM endpoint http://127.0.0.1:{port}: "
                                    "check the network, --endpoint-url or AWS_ENDPOINT_URL\n")


def test_no_credentials_exits_2(endpoint):
    proc = run_cli("live", "--group", "Jets", "--endpoint-url", endpoint)
    assert proc.returncode == 2
    assert proc.stderr.decode().startswith("jets-iam-audit: error: no AWS credentials found")


def test_principal_usage_errors():
    for args in (["live"], ["live", "--group", "a", "--user", "b"]):
        proc = run_cli(*args, env_extra=FAKE)
        assert proc.returncode == 2
        assert "name exactly one principal" in proc.stderr.decode()


def test_auth_details_snapshot_audits_the_same(endpoint, tmp_path):
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    details = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
    for page in iam.get_paginator("get_account_authorization_details").paginate():
        for key in details:
            details[key] += page.get(key, [])
    path = tmp_path / "details.json"
    path.write_text(json.dumps(details, default=str))
    proc = run_cli("file", "--auth-details", str(path), "--group", "Jets", "--feature", "dynamodb-events", "--format", "json")
    snap = json.loads(proc.stdout)
    live_doc = live(endpoint, "--group", "Jets", "--feature", "dynamodb-events")
    assert snap["targets"] == live_doc["targets"]
    assert _missing(snap) == _missing(live_doc) and _dups(snap) == _dups(live_doc)
    proc = run_cli("file", "--auth-details", str(path), "--user", "ghost")
    assert proc.returncode == 2 and "IAM user 'ghost' not found in" in proc.stderr.decode()


READ_POLICY = """{
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "JetsIamAuditLive",
    "Effect": "Allow",
    "Action": [
      "iam:GetGroup", "iam:ListGroupPolicies", "iam:GetGroupPolicy", "iam:ListAttachedGroupPolicies",
      "iam:GetUser", "iam:ListUserPolicies", "iam:GetUserPolicy", "iam:ListAttachedUserPolicies",
      "iam:ListGroupsForUser", "iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy",
      "iam:ListAttachedRolePolicies", "iam:GetPolicy", "iam:GetPolicyVersion"
    ],
    "Resource": "*"
  }]
}"""  # what README's live section shows; only this test reads it


def test_readme_shows_the_read_only_policy_the_code_uses():
    from tests.conftest import ROOT

    assert READ_POLICY in (ROOT / "README.md").read_text()
    actions = json.loads(READ_POLICY)["Statement"][0]["Action"]
    assert all(a.startswith("iam:") and a.split(":")[1].startswith(("Get", "List")) for a in actions)


def test_an_unknown_profile_is_named(tmp_path):
    """--profile or AWS_PROFILE: the line names the profile either way."""
    for args, env in ((["--profile", "nope"], {}), ([], {"AWS_PROFILE": "nope"})):
        proc = run_cli("live", "--group", "Jets", *args, env_extra={**FAKE, "AWS_CONFIG_FILE": str(tmp_path / "none"), **env})
        assert proc.returncode == 2
        assert proc.stderr.decode() == "jets-iam-audit: error: AWS profile 'nope' not found in the AWS config files\n"


def test_max_attempts_that_is_not_a_number():
    proc = run_cli("live", "--group", "Jets", env_extra={**FAKE, "AWS_MAX_ATTEMPTS": "many"})
    assert proc.returncode == 2
    assert proc.stderr.decode() == "jets-iam-audit: error: AWS_MAX_ATTEMPTS (or the profile's max_attempts) is not a whole number\n"
