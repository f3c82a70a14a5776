"""Which config file applies is never a surprise: the implicit search stops at the repository root (the
nearest directory with .git) and never looks in a directory anyone may write to, and the report's summary
line (and --verbose) names the config files in use."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import DOCS, invoke

OFF = "[rules]\n" + "".join(f'{rule} = {{enabled = false}}\n' for rule in (
    "missing-action", "wildcard-action", "duplicate-action", "pattern-never-matches", "wildcard-resource",
    "unused-action", "passrole-unscoped", "redundant-action", "outside-prefix", "resource-type-mismatch",
    "privilege-escalation"))


def _layout(tmp_path, git: bool):
    outer = tmp_path / "outer"
    repo = outer / "repo"
    (repo / "iam").mkdir(parents=True)
    if git:
        (repo / ".git").mkdir()
    (outer / ".jets-iam-audit.toml").write_text(OFF)  # above the repository: turns every rule off
    shutil.copy(DOCS / "least-privilege-2019-10.json", repo / "iam" / "deploy.json")
    return outer, repo


@pytest.mark.slow
def test_a_config_above_the_repository_root_is_not_used(tmp_path):
    _, repo = _layout(tmp_path, git=True)
    proc = invoke("file", "iam/deploy.json", "--verbose", cwd=repo)
    assert proc.returncode == 1
    err = proc.stderr.decode().splitlines()
    assert err[0] == "file iam/deploy.json: 1 policy (iam/deploy.json); no config file"
    assert err[-1] == "20 findings (4 high, 7 medium, 4 low, 5 info); coverage: 69 granted, 5 missing; exit 1"
    (repo / "pyproject.toml").write_text('[tool.jets-iam-audit]\nprefix = "demo"\n')  # at the root: used
    err = invoke("file", "iam/deploy.json", "--verbose", cwd=repo).stderr.decode().splitlines()
    assert err[0] == "file iam/deploy.json: 1 policy (iam/deploy.json); config pyproject.toml"
    assert err[-1] == "20 findings (4 high, 7 medium, 4 low, 5 info); coverage: 69 granted, 5 missing; config pyproject.toml; exit 1"


def test_without_a_repository_the_search_goes_up_and_names_what_it_found(tmp_path):
    outer, repo = _layout(tmp_path, git=False)
    proc = invoke("file", "iam/deploy.json", "--format", "json", cwd=repo)
    assert proc.returncode == 0  # its rules are off, and the summary says which file turned them off
    assert not [f for f in json.loads(proc.stdout)["findings"] if f["severity"] != "info"]
    assert proc.stderr.decode().endswith(f"; config {outer / '.jets-iam-audit.toml'}; exit 0\n")


def test_a_world_writable_directory_is_never_searched(tmp_path):
    outer, repo = _layout(tmp_path, git=False)
    outer.chmod(0o777)  # like /tmp: anyone could have put the config there
    proc = invoke("file", "iam/deploy.json", "--format", "json", cwd=repo)
    assert proc.returncode == 1
    assert proc.stderr.decode() == "20 findings (4 high, 7 medium, 4 low, 5 info); coverage: 69 granted, 5 missing; exit 1\n"
    assert len(json.loads(proc.stdout)["findings"]) == 20
    proc = invoke("file", "iam/deploy.json", "--config", str(outer / ".jets-iam-audit.toml"), "-q", cwd=repo)
    assert proc.stderr.decode() == f"4 findings (4 info); coverage: 69 granted, 5 missing; config {outer / '.jets-iam-audit.toml'}; exit 0\n"


def test_every_config_in_use_is_named(tmp_path):
    for app, config in (("a", "pyproject.toml"), ("b", ".jets-iam-audit.toml")):
        (tmp_path / app).mkdir()
        shutil.copy(DOCS / "least-privilege-2019-10.json", tmp_path / app / "deploy.json")
        text = 'prefix = "demo"\n'
        (tmp_path / app / config).write_text("[tool.jets-iam-audit]\n" + text if config == "pyproject.toml" else text)
    for fmt in ("github", "table"):
        proc = invoke("file", "a/deploy.json", "b/deploy.json", "--format", fmt, cwd=tmp_path)
        summary = "; config a/pyproject.toml, b/.jets-iam-audit.toml; exit 1"
        assert proc.stderr.decode().endswith(summary + "\n")
        if fmt == "github":  # the annotation log ends with the same line
            assert proc.stdout.decode().endswith(summary + "\n")
