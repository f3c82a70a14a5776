"""Errors caused by the input or the environment get their own one line and exit 2, never "internal
error": a malformed --endpoint-url or AWS_ENDPOINT_URL, a malformed authorization-details file, deep
nesting in `generate --from`, a file name the output encoding cannot show, a usage error that repeats
what was typed."""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import DOCS, invoke, run_cli

FAKE = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}


def _one_line(proc, expected: str) -> None:
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert err == f"jets-iam-audit: error: {expected}\n"


@pytest.mark.slow
@pytest.mark.parametrize("url", ["http://[::1", "ftp://iam.example", "http://iam.example:99999", "https://", "iam.example",
                                 "http://user:hunter2@exa mple"])
def test_malformed_endpoint_url(url):
    proc = invoke("live", "--group", "Jets", "--endpoint-url", url, env_extra=FAKE)
    _one_line(proc, "--endpoint-url is not an http(s) URL with a host, such as https://iam.amazonaws.com")
    assert "hunter2" not in proc.stderr.decode()


@pytest.mark.slow
def test_malformed_endpoint_url_in_the_environment():
    proc = run_cli("live", "--group", "Jets", env_extra={**FAKE, "AWS_ENDPOINT_URL": "http://[::1"})
    _one_line(proc, "the IAM endpoint URL (AWS_ENDPOINT_URL or the profile's endpoint_url) is not a valid URL")


DETAILS = [
    ({"GroupDetailList": 3}, "GroupDetailList is not a list of objects, as get-account-authorization-details writes it"),
    ({"GroupDetailList": [{"GroupName": "Jets", "GroupPolicyList": [1]}]},
     "GroupPolicyList is not a list of objects, as get-account-authorization-details writes it"),
    ({"GroupDetailList": [{"GroupName": "Jets", "GroupPolicyList": [{"PolicyName": ["x"]}]}]},
     "an entry without a text PolicyName, as get-account-authorization-details writes it"),
    ({"GroupDetailList": [{"GroupName": "Jets", "AttachedManagedPolicies": [{"PolicyArn": None}]}]},
     "an entry without a text PolicyArn, as get-account-authorization-details writes it"),
    ({"GroupDetailList": [], "Policies": [{"Arn": "arn:aws:iam::1:policy/x", "PolicyVersionList": {"a": 1}}]},
     "PolicyVersionList is not a list of objects, as get-account-authorization-details writes it"),
    ({"GroupDetailList": [], "Policies": [{"Arn": 3, "PolicyVersionList": [{"Document": {}}]}]},
     "an entry without a text Arn, as get-account-authorization-details writes it"),
]


@pytest.mark.parametrize("index", range(len(DETAILS)))
def test_malformed_auth_details(tmp_path, index):
    data, message = DETAILS[index]
    path = tmp_path / "details.json"
    path.write_text(json.dumps(data))
    _one_line(invoke("file", "--auth-details", str(path), "--group", "Jets"), f"{path}: {message}")


def test_auth_details_nested_too_deep_and_a_document_that_is_not_a_policy(tmp_path):
    path = tmp_path / "details.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    _one_line(invoke("file", "--auth-details", str(path), "--group", "Jets"), f"{path}: not JSON (nesting too deep)")
    path.write_text(json.dumps({"GroupDetailList": [{"GroupName": "Jets", "GroupPolicyList": [
        {"PolicyName": "deep", "PolicyDocument": json.loads("[" * 900 + "]" * 900)}]}]}))
    proc = invoke("file", "--auth-details", str(path), "--group", "Jets", "--format", "json")
    assert proc.returncode == 1, proc.stderr.decode()
    assert [f["message"] for f in json.loads(proc.stdout)["findings"] if f["category"] == "invalid"] == [
        "not an IAM policy: the document is an array, not an object"]


def test_deep_nesting_in_generate_from(tmp_path):
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                      "Resource": "arn:aws:s3:::demo-dev-*/*",
                                                      "Condition": {"StringEquals": {"aws:username": "X"}}}]}
    path = tmp_path / "p.json"
    for depth, message in ((100_000, "not JSON: nesting too deep; fix it by hand first"),
                           (900, "nested too deeply to repair; fix it by hand first")):
        path.write_text(json.dumps(policy).replace('"X"', "[" * depth + "]" * depth))
        _one_line(invoke("generate", "--from", str(path), "--prefix", "demo", "--env", "dev"), f"{path}: {message}")
    path.write_text(json.dumps(policy).replace('"aws:username": "X"', '"aws:username": "X", "aws:username": "Y"'))
    _one_line(invoke("generate", "--from", str(path), "--prefix", "demo", "--env", "dev"),
              f'{path} at /Statement/0/Condition/StringEquals/aws:username: key "aws:username" appears twice; IAM '
              "rejects duplicate keys; fix it by hand first")


@pytest.mark.slow
def test_a_file_name_the_output_encoding_cannot_show(tmp_path):
    name = os.fsdecode(b"\xff\xfe-caf\xc3\xa9.json")  # not valid UTF-8: the name holds lone surrogates
    (tmp_path / name).write_bytes((DOCS / "least-privilege-2019-10.json").read_bytes())
    for fmt in ("table", "concise", "markdown", "github", "json", "sarif"):
        proc = run_cli("file", name, "--format", fmt, cwd=tmp_path, env_extra={"PYTHONIOENCODING": "ascii"})
        err = proc.stderr.decode()
        assert proc.returncode == 1 and "internal error" not in err, (fmt, err)
        out = proc.stdout.decode("ascii")
        assert ("%FF%FE-caf%C3%A9.json" if fmt == "sarif" else "\\udcff\\udcfe-caf\\u00e9.json" if fmt == "json"
                else "\\udcff\\udcfe-caf\\xe9.json") in out, fmt


def test_a_usage_error_does_not_repeat_control_characters():
    proc = run_cli("file", "--\x1b]0;pwned\x07x", "--format", "\u202ejson")
    err = proc.stderr.decode()
    assert proc.returncode == 2 and "No such option: --\\x1b]0;pwned\\x07x" in err
    assert "\x1b" not in err and "\x07" not in err and "\u202e" not in err
