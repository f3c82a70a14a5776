"""generate --from: repair a policy, show the diff, --write in place keeping the file's style."""

from __future__ import annotations

import json
import shutil

from tests.conftest import DOCS, run_cli


def test_docs_2019_10_repaired_audits_clean(tmp_path):
    path = tmp_path / "deploy.json"
    shutil.copy(DOCS / "least-privilege-2019-10.json", path)
    before = path.read_text()
    proc = run_cli("generate", "--from", str(path))
    assert proc.returncode == 0 and path.read_text() == before  # nothing written without --write
    diff = proc.stdout.decode()
    assert diff.startswith(f"--- a/{str(path).lstrip('/')}\n+++ b/")
    for line in ('-                "lambda:GetFunctionConfiguration",', '-                "s3:Put*",',
                 '+                "s3:PutObject",', '-                "apigateway:*",',
                 '-                "arn:aws:logs:*:*:log-group:/aws/lambda/demo-*:*:*"',
                 '+                "arn:aws:logs:*:*:log-group:/aws/lambda/demo-dev-*:*"',
                 '+            "Sid": "JetsPassRole",', '+                "lambda:UpdateFunctionCode",'):
        assert line in diff.splitlines(), line
    assert proc.stderr.decode().endswith("(use --write to apply)\n")
    proc = run_cli("generate", "--from", str(path), "--write")
    assert proc.returncode == 0 and proc.stderr.decode() == f"updated {path}\n"
    after = path.read_text()
    assert after.endswith("}\n") and '\n    "Statement": [\n        {' in after  # the file's 4-space style
    audit = run_cli("file", str(path), "--format", "json")
    assert audit.returncode == 0, audit.stderr.decode()
    doc = json.loads(audit.stdout)
    assert {f["severity"] for f in doc["findings"]} <= {"info"}
    assert run_cli("generate", "--from", str(path)).stderr.decode() == f"{path}: nothing to change\n"


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
    proc = run_cli("generate", "--from", str(path), "--prefix", "shop", "--write")
    assert proc.returncode == 0, proc.stderr.decode()
    text = path.read_text()
    fixed = json.loads(text)
    assert not text.endswith("\n") and '\n  "Statement"' in text
    by_sid = {s["Sid"]: s for s in fixed["Statement"]}
    assert by_sid["Reports"] == policy["Statement"][0] and by_sid["NoProd"] == policy["Statement"][3]
    assert "Deploy" not in by_sid  # every Jets action in it could be scoped: moved to scoped statements
    assert by_sid["Stacks"]["Resource"] == "arn:aws:cloudformation:*:*:stack/shop-*/*"  # placeholder filled, style kept
    assert all(s["Sid"].startswith("Jets") for s in fixed["Statement"][3:])
    audit = json.loads(run_cli("file", str(path), "--prefix", "shop", "--format", "json").stdout)
    assert audit["summary"]["by_category"]["missing-action"] == 0 or {
        f["severity"] for f in audit["findings"] if f["category"] == "missing-action"} == {"info"}
    serious = [f["rule_id"] for f in audit["findings"] if f["severity"] in ("medium", "high", "critical")]
    assert serious == ["wildcard-resource"]  # only on the unrelated Reports statement, which is kept as it was
    assert [f["location"]["sid"] for f in audit["findings"] if f["rule_id"] == "wildcard-resource"] == ["Reports"]


def test_repair_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{ nope")
    proc = run_cli("generate", "--from", str(bad), "--prefix", "shop")
    assert proc.returncode == 2 and "not JSON" in proc.stderr.decode()
    assert run_cli("generate", "--write").returncode == 2
