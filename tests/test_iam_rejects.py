"""What IAM itself rejects is an `invalid` finding: duplicate keys at any depth, non-finite numbers,
unknown policy and statement elements, a principal in an identity policy; a document wrapped as the AWS
CLI prints it is reported (what it is, how to unwrap it), also with --skip-non-policies."""

from __future__ import annotations

import json

from tests.conftest import invoke

POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                  "Resource": "arn:aws:s3:::demo-dev-*/*"}]}


def _invalid(proc) -> list[tuple[str, str]]:
    assert proc.returncode == 1, proc.stderr.decode()
    return [(f["location"]["pointer"], f["message"]) for f in json.loads(proc.stdout)["findings"] if f["category"] == "invalid"]


def test_duplicate_key_in_a_condition_block(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", '
                    '"Resource": "arn:aws:s3:::demo-dev-*/*", "Condition": {"StringEquals": '
                    '{"aws:RequestedRegion": "us-east-1", "aws:RequestedRegion": "eu-west-1"}}}]}')
    found = _invalid(invoke("file", str(path), "--prefix", "demo", "--format", "json"))
    assert ("/Statement/0/Condition/StringEquals/aws:RequestedRegion",
            'key "aws:RequestedRegion" appears twice; IAM rejects duplicate keys') in found


def test_the_old_marker_name_is_an_unknown_element_not_an_internal_error(tmp_path):
    doc = {**POLICY, "__duplicate_keys__": "Statement"}
    doc["Statement"] = [{**POLICY["Statement"][0], "__duplicate_keys__": ["Effect", "Resource"]}]
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    proc = invoke("file", str(path), "--prefix", "demo", "--format", "json")
    assert proc.returncode == 1
    findings = json.loads(proc.stdout)["findings"]
    assert not [f for f in findings if f["rule_id"] == "internal-error" or "appears twice" in f["message"]]
    assert [f["location"]["pointer"] for f in findings if f["rule_id"] == "invalid-policy"] == [
        "/__duplicate_keys__", "/Statement/0/__duplicate_keys__"]


def test_nan_and_infinity(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(POLICY)[:-3] + ', "Condition": {"NumericLessThan": {"s3:max-keys": NaN}}}], "Id": Infinity}')
    found = _invalid(invoke("file", str(path), "--prefix", "demo", "--format", "json"))
    tail = " is not a JSON number IAM accepts (no NaN or Infinity, nothing beyond a double's range)"
    assert ("/Statement/0/Condition/NumericLessThan/s3:max-keys", "NaN" + tail) in found
    assert ("/Id", "Infinity" + tail) in found


def test_unknown_elements_and_a_principal(tmp_path):
    doc = {**POLICY, "Statements": []}
    doc["Statement"] = [{**POLICY["Statement"][0], "Principal": "*", "Resources": "*"}]
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    found = _invalid(invoke("file", str(path), "--prefix", "demo", "--format", "json"))
    assert [p for p, _ in found] == ["/Statement/0/Principal", "/Statement/0/Resources", "/Statements"]


def test_a_wrapped_document_is_reported_even_when_skipping_non_policies(tmp_path):
    wrapped = tmp_path / "role-policy.json"
    wrapped.write_text(json.dumps({"RoleName": "deploy", "PolicyName": "jets", "PolicyDocument": POLICY}, indent=2))
    version = tmp_path / "version.json"
    version.write_text(json.dumps({"PolicyVersion": {"Document": POLICY, "VersionId": "v3", "IsDefaultVersion": True}}))
    package = tmp_path / "package.json"
    package.write_text('{"name": "app"}')
    for args in ((str(wrapped), str(version), str(package), "--skip-non-policies"), (str(tmp_path),)):
        proc = invoke("file", *args, "--prefix", "demo", "--format", "concise")
        assert proc.returncode == 1
        assert proc.stdout.decode().splitlines() == [
            f"{wrapped}:4:21: high invalid-policy not an IAM policy document but the output of aws iam get-group-policy, "
            "get-user-policy or get-role-policy: the policy is its PolicyDocument; save only that (jq '.PolicyDocument')",
            f"{version}:1:32: high invalid-policy not an IAM policy document but the output of aws iam get-policy-version: "
            "the policy is its PolicyVersion.Document; save only that (jq '.PolicyVersion.Document')",
        ]


def test_a_non_finite_version_or_effect_is_shown_not_a_crash(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"Version": Infinity, "Statement": [{"Effect": [NaN], "Action": "s3:GetObject", "Resource": "*"}]}')
    found = _invalid(invoke("file", str(path), "--prefix", "demo", "--format", "json"))
    assert ("/Version", 'Version must be "2012-10-17", not Infinity') in found
    assert ("/Statement/0/Effect", 'Effect must be "Allow" or "Deny", not \'[NaN]\'') in found
