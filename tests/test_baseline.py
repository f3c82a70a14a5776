"""--write-baseline today, --baseline tomorrow: the run exits 0 until a new finding appears, whatever
happened to the file's formatting and statement order, and says how many entries are now fixed."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import DOCS, run_cli

SUMMARY_TAIL = "; coverage: 69 granted, 5 missing; exit "


def _repo(tmp_path):
    repo = tmp_path / "repo"
    (repo / "iam").mkdir(parents=True)
    shutil.copy(DOCS / "least-privilege-2019-10.json", repo / "iam" / "deploy.json")
    return repo


def _edit(path, change):
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))  # minified: every line number changes


@pytest.mark.slow
def test_baseline_today_quiet_tomorrow_until_something_new(tmp_path):
    repo = _repo(tmp_path)
    policy = repo / "iam" / "deploy.json"
    today = run_cli("file", "iam/deploy.json", "--write-baseline", ".jets-iam-audit-baseline.json", "-q", cwd=repo)
    assert today.returncode == 0
    assert today.stderr.decode() == ("wrote 20 findings to the baseline .jets-iam-audit-baseline.json\n"
                                     "0 findings, 20 baselined" + SUMMARY_TAIL + "0\n")
    recorded = json.loads((repo / ".jets-iam-audit-baseline.json").read_text())
    assert recorded["version"] == 1 and len(recorded["findings"]) == 20
    assert "line" not in json.dumps(recorded) and all(e["source"] == "iam/deploy.json" for e in recorded["findings"])
    assert all("Statement/" not in e["where"] for e in recorded["findings"])  # no statement indexes

    # tomorrow: reformatted, statements reordered and keys shuffled, from another directory
    _edit(policy, lambda d: d["Statement"].reverse())
    doc = json.loads(policy.read_text())
    policy.write_text(json.dumps({"Statement": [dict(reversed(list(s.items()))) for s in doc["Statement"]],
                                  "Version": doc["Version"]}, indent=4))
    tomorrow = run_cli("file", str(policy), "--baseline", str(repo / ".jets-iam-audit-baseline.json"), "--format", "json",
                       cwd=tmp_path)
    assert tomorrow.returncode == 0, tomorrow.stdout.decode()
    report = json.loads(tomorrow.stdout)
    assert report["findings"] == [] and report["baseline"] == {
        "path": str(repo / ".jets-iam-audit-baseline.json"), "baselined": 20, "fixed": 0}

    # a new finding appears: only it is reported, and the run fails
    _edit(policy, lambda d: d["Statement"][0]["Action"].append("ec2:*"))
    new = run_cli("file", "iam/deploy.json", "--baseline", ".jets-iam-audit-baseline.json", "--format", "concise", cwd=repo)
    assert new.returncode == 1
    lines = new.stdout.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("iam/deploy.json:1:") and ' wildcard-action "ec2:*" grants all ' in lines[0]
    assert new.stderr.decode().startswith("1 finding (1 high), 20 baselined;")

    # fixed: the duplicate goes, and the baseline entry is counted as fixed
    def fix(d):
        d["Statement"][0]["Action"].remove("ec2:*")
        for stmt in d["Statement"]:
            actions = stmt["Action"]
            stmt["Action"] = list(dict.fromkeys(actions)) if isinstance(actions, list) else actions
    _edit(policy, fix)
    fixed = run_cli("file", "iam/deploy.json", "--baseline", ".jets-iam-audit-baseline.json", cwd=repo)
    assert fixed.returncode == 0
    assert fixed.stderr.decode() == "0 findings, 19 baselined (1 baseline entry now fixed)" + SUMMARY_TAIL + "0\n"


@pytest.mark.slow
def test_sid_less_statement_keeps_its_fingerprints_when_an_action_is_added(tmp_path):
    repo = _repo(tmp_path)
    policy = repo / "iam" / "deploy.json"
    assert run_cli("file", "iam/deploy.json", "--write-baseline", "b.json", "-q", cwd=repo).returncode == 0
    _edit(policy, lambda d: d["Statement"][2]["Action"].append("lambda:UpdateFunctionCode"))  # the usual fix
    proc = run_cli("file", "iam/deploy.json", "--baseline", "b.json", "-q", cwd=repo)
    assert proc.returncode == 0
    assert proc.stderr.decode().startswith("0 findings, 19 baselined (1 baseline entry now fixed); coverage: 70 granted")


@pytest.mark.slow
def test_bad_baseline_files_exit_2(tmp_path):
    repo = _repo(tmp_path)
    proc = run_cli("file", "iam/deploy.json", "--baseline", "missing.json", cwd=repo)
    assert proc.returncode == 2 and proc.stderr.decode() == (
        "jets-iam-audit: error: missing.json: no such baseline file (write one with --write-baseline missing.json)\n")
    (repo / "bad.json").write_text('{"version": 2, "findings": []}')
    proc = run_cli("file", "iam/deploy.json", "--baseline", "bad.json", cwd=repo)
    assert proc.returncode == 2 and "not a version 1 baseline of jets-iam-audit" in proc.stderr.decode()
    proc = run_cli("file", "iam/deploy.json", "--write-baseline", str(repo / "no" / "dir" / "b.json"), cwd=repo)
    assert proc.returncode == 2 and "cannot write the baseline" in proc.stderr.decode()
