"""Config follows the file (like ruff): the nearest config file above each audited file applies, its
ignore globs are relative to its own directory, --config still wins, and an ignore that silences nothing
is an unused-ignore finding naming the config file and line."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import DOCS, run_cli

README_EXAMPLE = """[project]
name = "my-jets-app"

[tool.jets-iam-audit]
prefix = "demo"
feature = ["custom-domain"]

[[tool.jets-iam-audit.ignore]]
file = "iam/deploy.json"          # glob, relative to this file's directory
rule = "wildcard-action"          # optional
sid = "Api"                       # optional
pointer = "/Statement/4"          # optional
reason = "API Gateway ids are random: apigateway:* is reviewed"

[[tool.jets-iam-audit.ignore]]
file = "iam/deploy.json"
rule = "wildcard-action"
pointer = "/Statement/4"
reason = "API Gateway ids are random: apigateway:* is reviewed"
"""


def _repo(tmp_path, config=README_EXAMPLE):
    repo = tmp_path / "repo"
    (repo / "iam").mkdir(parents=True)
    shutil.copy(DOCS / "least-privilege-2019-10.json", repo / "iam" / "deploy.json")
    (repo / "pyproject.toml").write_text(config)
    return repo


def _findings(proc):
    assert proc.returncode in (0, 1), proc.stderr.decode()
    doc = json.loads(proc.stdout)
    return doc, sorted((f["rule_id"], f["location"]["pointer"], f["subject"], f.get("resource") or "") for f in doc["findings"]
                       if f["rule_id"] != "unused-ignore")


@pytest.mark.slow
def test_same_file_same_findings_from_any_directory(tmp_path):
    repo = _repo(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    runs = [run_cli("file", "iam/deploy.json", "--format", "json", cwd=repo),
            run_cli("file", "deploy.json", "--format", "json", cwd=repo / "iam"),
            run_cli("file", str(repo / "iam" / "deploy.json"), "--format", "json", cwd=elsewhere),
            run_cli("file", "../repo/iam/deploy.json", "--format", "json", cwd=elsewhere)]
    results = [_findings(p)[1] for p in runs]
    assert all(r == results[0] for r in results)
    doc, found = _findings(runs[2])
    assert doc["settings"]["prefix"] == "demo" and "custom-domain" in doc["settings"]["features"]
    assert doc["targets"][0]["config"] == str(repo / "pyproject.toml")
    assert not [f for f in found if f[0] == "wildcard-action" and f[1].startswith("/Statement/4/")]  # the second ignore, relative to the config's directory
    assert len(found) == 26


@pytest.mark.slow
def test_unused_ignore_names_the_config_file_and_line(tmp_path):
    repo = _repo(tmp_path)
    proc = run_cli("file", "iam/deploy.json", "--format", "json", cwd=repo)
    doc = json.loads(proc.stdout)
    (unused,) = [f for f in doc["findings"] if f["rule_id"] == "unused-ignore"]
    assert unused == {
        "rule_id": "unused-ignore", "category": "invalid", "severity": "info",
        "message": 'ignore #1 of pyproject.toml (file "iam/deploy.json", rule wildcard-action, sid "Api", '
                   'pointer "/Statement/4") matched no finding in iam/deploy.json',
        "subject": "ignore #1",
        "location": {"source": "pyproject.toml", "pointer": "/ignore/0", "sid": None, "line": 8},
        "fix": "remove it, or correct its file, rule, sid or pointer"}
    assert (repo / "pyproject.toml").read_text().splitlines()[7] == "[[tool.jets-iam-audit.ignore]]"
    table = run_cli("file", "iam/deploy.json", cwd=repo).stdout.decode()
    assert "config (1)" in table and "unused-ignore" in table
    concise_sources = {f["location"]["source"] for f in doc["findings"]}
    assert concise_sources == {"iam/deploy.json", "pyproject.toml"}
    # a pre-commit run that does not audit iam/deploy.json does not judge its ignores
    (repo / "iam" / "other.json").write_text((DOCS / "least-privilege-2019-10.json").read_text())
    other = json.loads(run_cli("file", "iam/other.json", "--format", "json", cwd=repo).stdout)
    assert "unused-ignore" not in {f["rule_id"] for f in other["findings"]}
    explain = run_cli("explain", "unused-ignore")
    assert explain.returncode == 0 and "What it does" in explain.stdout.decode()


def test_an_ignore_for_a_file_that_does_not_exist(tmp_path):
    repo = _repo(tmp_path, '[tool.jets-iam-audit]\nprefix = "demo"\n\n[[tool.jets-iam-audit.ignore]]\nfile = "iam/deplyo.json"\n'
                           'reason = "typo"\n')
    doc = json.loads(run_cli("file", "iam/deploy.json", "--format", "json", cwd=repo).stdout)
    (unused,) = [f for f in doc["findings"] if f["rule_id"] == "unused-ignore"]
    assert unused["message"] == ("ignore #1 of pyproject.toml (file \"iam/deplyo.json\"): no file 'iam/deplyo.json' next to "
                                 "the config file")
    assert unused["location"]["line"] == 4


@pytest.mark.slow
def test_nested_configs_each_file_its_own(tmp_path):
    repo = _repo(tmp_path, '[tool.jets-iam-audit]\nprefix = "demo"\n')
    other = repo / "services" / "billing"
    other.mkdir(parents=True)
    shutil.copy(DOCS / "least-privilege-2019-10.json", other / "deploy.json")
    (other / ".jets-iam-audit.toml").write_text('prefix = "billing"\nenv = ["prod"]\n[rules.unused-action]\nenabled = false\n')
    proc = run_cli("file", "iam/deploy.json", "services/billing/deploy.json", "--format", "json", cwd=repo)
    doc = json.loads(proc.stdout)
    first, second = doc["targets"]
    assert first["config"] == "pyproject.toml" and "settings" not in first
    assert second["config"] == "services/billing/.jets-iam-audit.toml"
    assert second["settings"]["prefix"] == "billing" and second["settings"]["envs"] == ["prod"]
    rules_by_source = {}
    for f in doc["findings"]:
        rules_by_source.setdefault(f["location"]["source"], set()).add(f["rule_id"])
    assert "unused-action" in rules_by_source["iam/deploy.json"]
    assert "unused-action" not in rules_by_source["services/billing/deploy.json"]
    assert "outside-prefix" in rules_by_source["services/billing/deploy.json"]  # demo-* is outside billing's naming
    prod = {r["resource"] for r in doc["coverage"] if r["target"] == "services/billing/deploy.json"}
    assert "arn:aws:lambda:*:*:function:billing-prod-*" in prod
    table = run_cli("file", "iam/deploy.json", "services/billing/deploy.json", cwd=repo).stdout.decode()
    assert "config services/billing/.jets-iam-audit.toml: prefix billing · env prod · Jets 5" in table
    # --config still wins, for every file
    forced = json.loads(run_cli("file", "iam/deploy.json", "services/billing/deploy.json", "--format", "json",
                                "--config", "pyproject.toml", cwd=repo).stdout)
    assert {t.get("config") for t in forced["targets"]} == {"pyproject.toml"}
    assert all("settings" not in t for t in forced["targets"])


@pytest.mark.slow
def test_run_level_options_must_agree(tmp_path):
    repo = _repo(tmp_path, '[tool.jets-iam-audit]\nprefix = "demo"\nfail-on = "high"\n')
    other = repo / "other"
    other.mkdir()
    shutil.copy(DOCS / "least-privilege-2019-10.json", other / "deploy.json")
    (other / ".jets-iam-audit.toml").write_text('fail-on = "medium"\n')
    proc = run_cli("file", "iam/deploy.json", "other/deploy.json", cwd=repo)
    assert proc.returncode == 2
    assert proc.stderr.decode() == (
        "jets-iam-audit: error: the audited files' config files disagree on 'fail-on' ('high' in "
        f"{repo / 'pyproject.toml'}, 'medium' in {other / '.jets-iam-audit.toml'}): pass --fail-on on the command line\n")
    assert run_cli("file", "iam/deploy.json", "other/deploy.json", "--fail-on", "critical", cwd=repo).returncode == 0


def test_generate_from_reads_the_config_above_the_file(tmp_path):
    repo = _repo(tmp_path, '[tool.jets-iam-audit]\nprefix = "demo"\nenv = ["stag"]\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = run_cli("generate", "--from", str(repo / "iam" / "deploy.json"), cwd=elsewhere)
    assert proc.returncode == 0, proc.stderr.decode()
    assert "inferred" not in proc.stderr.decode()  # the envs come from the config, not from the ARNs
    assert '+                "arn:aws:lambda:*:*:function:demo-stag-*"' in proc.stdout.decode().splitlines()
