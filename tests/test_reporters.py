"""Reporters: SARIF validates against the OASIS schema; Markdown and GitHub annotations escape policy
text; JSON is one document."""

from __future__ import annotations

import json

import jsonschema

from auditor.checks import CHECKS
from tests.conftest import DOCS, SARIF_SCHEMA, invoke, run_cli

POLICY = str(DOCS / "least-privilege-2019-10.json")


def test_sarif_validates_and_carries_rules():
    proc = run_cli("file", POLICY, "--format", "sarif")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    jsonschema.validate(doc, json.loads(SARIF_SCHEMA.read_text()))
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [m.RULE_ID for m in CHECKS]
    assert all(r["help"]["text"] for r in rules)
    assert all(res["ruleId"] == rules[res["ruleIndex"]]["id"] for res in run["results"])
    star = next(r for r in run["results"] if r["ruleId"] == "wildcard-resource")
    assert star["locations"][0]["physicalLocation"] == {"artifactLocation": {"uri": POLICY}, "region": {"startLine": 78}}
    assert star["level"] == "warning"


def test_markdown_escapes_policy_text(write_policy):
    path = write_policy({"Version": "2012-10-17", "Statement": [
        {"Sid": "<b>[x](y)|", "Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]})
    out = invoke("file", path, "--prefix", "demo", "--format", "markdown").stdout.decode()
    assert out.startswith("## jets-iam-audit\n")
    assert "<b>" not in out and "](y)" not in out
    assert "| high | `allow-notaction` | \\<b\\>\\[x\\]\\(y\\)\\| uses Allow with NotAction" in out


def test_markdown_lists_what_is_not_granted():
    out = invoke("file", POLICY, "--format", "markdown").stdout.decode()
    assert "### Not granted" in out
    assert "| missing | `lambda:UpdateFunctionCode` | `arn:aws:lambda:*:*:function:demo-dev-*` | core |" in out
    assert "### duplicate (5)" in out


def test_github_annotations():
    lines = invoke("file", POLICY, "--format", "github").stdout.decode().splitlines()
    dup = next(line for line in lines if "duplicate-action" in line)
    assert dup.startswith(f"::notice file={POLICY},line=42,title=duplicate-action (low)::")
    star = next(line for line in lines if "wildcard-resource" in line)
    assert star.startswith(f"::warning file={POLICY},line=78,title=wildcard-resource (medium)::")
    assert lines[-1].startswith("20 findings")


def test_github_escapes_newlines(write_policy):
    path = write_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:Get\nFunction%0A", "Resource": "*"}]})
    out = invoke("file", path, "--format", "github").stdout.decode()
    assert "Get%0AFunction%250A" in out
