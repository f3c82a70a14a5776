"""Output people read in a hook or a CI log: --format concise, -q, -h, directory arguments, "did you
mean", FORCE_COLOR/NO_COLOR, and tables that never split a word (an ARN, a pointer) at 80 columns."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from tests.conftest import DOCS, run_cli

POLICY = str(DOCS / "least-privilege-2019-10.json")


@pytest.mark.slow
def test_concise_is_one_line_per_finding_with_line_and_column():
    proc = run_cli("file", POLICY, "--format", "concise")
    assert proc.returncode == 1
    lines = proc.stdout.decode().splitlines()
    doc = json.loads(run_cli("file", POLICY, "--format", "json").stdout)
    assert len(lines) == len(doc["findings"]) == 20
    assert lines[0] == (f"{POLICY}:1:1: high missing-action missing \"lambda:UpdateFunctionCode\" on function:demo-dev-*: "
                        "the second jets deploy fails when CloudFormation updates the functions")
    text = (DOCS / "least-privilege-2019-10.json").read_text().splitlines()
    for line in lines:
        m = re.match(rf"^{re.escape(POLICY)}:(\d+):(\d+): (critical|high|medium|low|info) ([a-z-]+) (.+)$", line)
        assert m, line
        row, col = int(m.group(1)), int(m.group(2))
        if (row, col) != (1, 1):
            assert text[row - 1][col - 1] in '"[{', line  # the column is where the element's value starts
    assert f"{POLICY}:73:17: high wildcard-action \"apigateway:*\" grants all 44 apigateway actions" in proc.stdout.decode()
    assert proc.stderr.decode() == "20 findings (4 high, 7 medium, 4 low, 5 info); coverage: 69 granted, 5 missing; exit 1\n"


@pytest.mark.slow
def test_quiet_prints_the_summary_only(tmp_path):
    proc = run_cli("file", POLICY, "-q")
    assert proc.returncode == 1 and proc.stdout == b""
    assert proc.stderr.decode() == "20 findings (4 high, 7 medium, 4 low, 5 info); coverage: 69 granted, 5 missing; exit 1\n"
    out = tmp_path / "report.json"
    assert run_cli("file", POLICY, "--quiet", "--format", "json", "--output", str(out)).returncode == 1
    assert len(json.loads(out.read_text())["findings"]) == 20


@pytest.mark.parametrize("args", [["-h"], ["file", "-h"], ["generate", "-h"], ["catalogue", "-h"]])
def test_short_help(args):
    proc = run_cli(*args)
    assert proc.returncode == 0 and proc.stdout.decode().startswith("Usage: ") and "-h, --help" in proc.stdout.decode()


@pytest.mark.slow
def test_directory_arguments_are_searched(tmp_path):
    tree = tmp_path / "repo"
    (tree / "iam" / "nested").mkdir(parents=True)
    (tree / "node_modules" / "x").mkdir(parents=True)
    (tree / ".git").mkdir()
    shutil.copy(POLICY, tree / "iam" / "deploy.json")
    shutil.copy(DOCS / "broad.json", tree / "iam" / "nested" / "admin.JSON")
    (tree / "package.json").write_text('{"name": "app"}')
    (tree / "tsconfig.json").write_text('{\n  // comments\n}\n')
    (tree / "notes.txt").write_text("not json")
    shutil.copy(POLICY, tree / "node_modules" / "x" / "policy.json")
    shutil.copy(POLICY, tree / ".git" / "policy.json")
    proc = run_cli("file", "repo", "--prefix", "demo", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr.decode()
    assert [t["name"] for t in json.loads(proc.stdout)["targets"]] == ["repo/iam/deploy.json", "repo/iam/nested/admin.JSON"]
    # a file named on the command line is reported even when it is not a policy
    named = json.loads(run_cli("file", "repo/iam", "repo/package.json", "--format", "json", cwd=tmp_path).stdout)
    assert [t["name"] for t in named["targets"]][-1] == "repo/package.json"
    assert "no Statement element" in json.dumps(named["findings"])
    none = run_cli("file", str(tree / "node_modules"), cwd=tmp_path)  # entered when named, it holds a policy
    assert none.returncode == 1
    only_other = tmp_path / "other"
    only_other.mkdir()
    (only_other / "package.json").write_text('{"name": "app"}')
    proc = run_cli("file", str(only_other))  # nothing to audit: a gate pointed there must not pass (issue 28)
    assert proc.returncode == 2 and proc.stderr.decode().startswith(
        f"no IAM policies among the 1 file found\njets-iam-audit: error: nothing to audit in {only_other} (a directory")
    assert run_cli("file", str(only_other), "--skip-non-policies").returncode == 0


@pytest.mark.slow
def test_did_you_mean():
    proc = run_cli("file", POLICY, "--feature", "custom-domian")
    assert proc.returncode == 2 and proc.stderr.decode().startswith(
        "jets-iam-audit: error: unknown feature 'custom-domian'; did you mean 'custom-domain'? (choose from: all, core,")
    proc = run_cli("explain", "wildcard-actions")
    assert proc.returncode == 2 and proc.stderr.decode().startswith(
        "jets-iam-audit: error: unknown rule 'wildcard-actions'; did you mean 'wildcard-action'? (known rules: ")
    assert "did you mean" not in run_cli("explain", "zzzz").stderr.decode()


def test_did_you_mean_in_config(tmp_path):
    shutil.copy(POLICY, tmp_path / "p.json")
    (tmp_path / ".jets-iam-audit.toml").write_text('[rules.duplicate-actoin]\nenabled = false\n')
    err = run_cli("file", "p.json", cwd=tmp_path).stderr.decode()
    assert "unknown rule 'duplicate-actoin' in 'rules'; did you mean 'duplicate-action'?" in err
    (tmp_path / ".jets-iam-audit.toml").write_text('prefx = "demo"\n')
    assert "unknown key 'prefx'; did you mean 'prefix'?" in run_cli("file", "p.json", cwd=tmp_path).stderr.decode()


@pytest.mark.slow
def test_force_color_and_no_color():
    forced = run_cli("file", POLICY, env_extra={"NO_COLOR": "", "FORCE_COLOR": "1"}).stdout.decode()
    assert "\x1b[" in forced  # a CI log is not a terminal: FORCE_COLOR asks for colour anyway
    both = run_cli("file", POLICY, env_extra={"NO_COLOR": "1", "FORCE_COLOR": "1"}).stdout.decode()
    assert "\x1b" not in both
    plain = run_cli("file", POLICY, env_extra={"NO_COLOR": ""}).stdout.decode()
    assert "\x1b" not in plain  # not a terminal, nothing forced
    written = run_cli("file", POLICY, "--output", "/dev/null", env_extra={"NO_COLOR": "", "FORCE_COLOR": "1"})
    assert written.stdout == b""


@pytest.mark.slow
@pytest.mark.parametrize("columns", ["80", "100", "120"])
def test_no_word_is_split(columns):
    """Every ARN, pointer and action name of the report appears whole in the table, at any width."""
    doc = json.loads(run_cli("file", POLICY, "--format", "json").stdout)
    out = run_cli("file", POLICY, env_extra={"COLUMNS": columns}).stdout.decode()
    assert max(len(line) for line in out.splitlines()) <= int(columns)
    words = {w for f in doc["findings"] for w in f["message"].split() if len(w) <= int(columns) - 4}
    words |= {f["location"]["pointer"] for f in doc["findings"] if f["location"]["pointer"]}
    flat = out.split()
    missing = [w for w in words if w not in flat]
    assert not missing, missing
