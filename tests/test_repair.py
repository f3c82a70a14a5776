"""generate --from: repair a policy, show the diff, --write in place keeping the file's style."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import DOCS, invoke, run_cli


@pytest.mark.slow
def test_docs_2019_10_repaired_audits_clean(tmp_path):
    path = tmp_path / "deploy.json"
    shutil.copy(DOCS / "least-privilege-2019-10.json", path)
    before = path.read_text()
    proc = invoke("generate", "--from", str(path))
    assert proc.returncode == 0 and path.read_text() == before  # nothing written without --write
    diff = proc.stdout.decode()
    assert diff.startswith(f"--- a/{str(path).lstrip('/')}\n+++ b/")
    for line in ('-                "lambda:GetFunctionConfiguration",', '-                "s3:Put*",',
                 '+                "s3:PutObject",', '-                "apigateway:*",',
                 '+            "Sid": "JetsPassRole",', '+                "lambda:UpdateFunctionCode",'):
        assert line in diff.splitlines(), line
    # the docs' log-group:/aws/lambda/demo-*:*:* grants logs:DeleteLogGroup (AWS evaluates log-group:NAME:log-stream:): kept
    assert "log-group:/aws/lambda/demo-*:*:*" not in "".join(l for l in diff.splitlines() if l[:1] in "+-")
    inferred = ("envs prod, dev: inferred from the policy's ARNs (arn:aws:lambda:*:*:layer:prod-demo-*:*, "
                "arn:aws:lambda:*:*:layer:dev-demo-*:*); pass --env to choose\n")
    assert proc.stderr.decode() == inferred + f"would change {path} (use --write to apply)\n"
    proc = run_cli("generate", "--from", str(path), "--write")
    assert proc.returncode == 0 and proc.stderr.decode() == inferred + f"updated {path}\n"
    after = path.read_text()
    assert after.endswith("}\n") and '\n    "Statement": [\n        {' in after  # the file's 4-space style
    audit = invoke("file", str(path), "--format", "json", "--env", "dev", "--env", "prod")
    doc = json.loads(audit.stdout)
    # above info only what other features need, kept because the options did not name those features
    assert [(f["rule_id"], f["message"]) for f in doc["findings"] if f["severity"] != "info"] == [
        ("unused-action", "Statement[3] names 1 action no selected Jets feature uses: s3:PutBucketTagging "
                          "(needed by --feature resource-tags)")]
    assert invoke("generate", "--from", str(path)).stderr.decode() == inferred + f"{path}: nothing to change\n"


@pytest.mark.slow
def test_sids_style_and_unrelated_statements_are_kept(tmp_path):
    policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Reports", "Effect": "Allow", "Action": "athena:StartQueryExecution", "Resource": "*"},
        {"Sid": "Deploy", "Effect": "Allow", "Action": ["lambda:*", "cloudformation:*"], "Resource": "*"},
        {"Sid": "Stacks", "Effect": "Allow", "Action": "cloudformation:DescribeStacks",
         "Resource": "arn:aws:cloudformation:*:*:stack/${MY_PREFIX}-*/*"},
        {"Sid": "NoProd", "Effect": "Deny", "Action": "lambda:DeleteFunction", "Resource": "arn:aws:lambda:*:*:function:shop-prod-*"},
    ]}
    path = tmp_path / "p.json"
    path.write_text(json.dumps(policy, indent=2))  # no final newline
    refused = run_cli("generate", "--from", str(path), "--prefix", "shop", "--write")  # no ARN names an env
    assert refused.returncode == 2 and path.read_text() == json.dumps(policy, indent=2)
    assert refused.stderr.decode() == (f"jets-iam-audit: error: cannot tell which Jets envs {path} is for (no ARN names "
                                       "one): pass --env ENV (repeatable) or set env in the config file\n")
    proc = run_cli("generate", "--from", str(path), "--prefix", "shop", "--env", "dev", "--write")
    assert proc.returncode == 0, proc.stderr.decode()
    text = path.read_text()
    fixed = json.loads(text)
    assert not text.endswith("\n") and '\n  "Statement"' in text
    by_sid = {s["Sid"]: s for s in fixed["Statement"]}
    assert by_sid["Reports"] == policy["Statement"][0] and by_sid["NoProd"] == policy["Statement"][3]
    # the Jets actions in it that can be scoped moved to scoped statements; what stays takes no resource (and
    # another feature needs it: the options did not name that feature, so its grant is kept)
    assert by_sid["Deploy"] == {"Sid": "Deploy", "Effect": "Allow", "Action": ["lambda:CreateEventSourceMapping"], "Resource": "*"}
    assert by_sid["Stacks"]["Resource"] == "arn:aws:cloudformation:*:*:stack/shop-*/*"  # placeholder filled, style kept
    assert all(s["Sid"].startswith("Jets") for s in fixed["Statement"][4:])
    audit = json.loads(invoke("file", str(path), "--prefix", "shop", "--format", "json").stdout)
    assert audit["summary"]["by_category"]["missing-action"] == 0 or {
        f["severity"] for f in audit["findings"] if f["category"] == "missing-action"} == {"info"}
    serious = [f["rule_id"] for f in audit["findings"] if f["severity"] in ("medium", "high", "critical")]
    assert serious == ["wildcard-resource"]  # only on the unrelated Reports statement, which is kept as it was
    assert [f["location"]["sid"] for f in audit["findings"] if f["rule_id"] == "wildcard-resource"] == ["Reports"]


def test_repair_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{ nope")
    proc = invoke("generate", "--from", str(bad), "--prefix", "shop")
    assert proc.returncode == 2 and "not JSON" in proc.stderr.decode()
    assert invoke("generate", "--write").returncode == 2
