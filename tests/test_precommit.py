"""The published hook, run by real pre-commit in temporary git repositories that point at this one.
pre-commit installs the hook from this repository into its own environment (pip, from the registry)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DOCS, ROOT

pytestmark = pytest.mark.slow  # real pre-commit, which installs this package

PRE_COMMIT = [sys.executable, "-m", "pre_commit"]


def _git(repo: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def hook_env(tmp_path_factory):
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    if head.returncode != 0:
        pytest.skip("this checkout is not a git repository")
    committed = subprocess.run(["git", "cat-file", "-e", "HEAD:.pre-commit-hooks.yaml"], cwd=ROOT)
    if committed.returncode != 0:
        pytest.skip(".pre-commit-hooks.yaml is not committed yet")
    home = tmp_path_factory.mktemp("pre-commit-home")
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com", "NO_COLOR": "1", "GIT_CONFIG_NOSYSTEM": "1",
           "HOME": str(home)}
    env.pop("GIT_DIR", None)
    return head.stdout.strip(), env


def _repo(tmp_path: Path, rev: str, env: dict[str, str]) -> Path:
    repo = tmp_path / "app"
    repo.mkdir()
    _git(repo, "init", "-q", env=env)
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {ROOT}\n  rev: {rev}\n  hooks:\n  - id: jets-iam-audit\n    args: [--prefix, demo]\n")
    installed = subprocess.run([*PRE_COMMIT, "install"], cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr
    return repo


def test_bad_policy_blocks_the_commit(tmp_path, hook_env):
    rev, env = hook_env
    repo = _repo(tmp_path, rev, env)
    (repo / "iam").mkdir()
    shutil.copy(DOCS / "least-privilege-2019-10.json", repo / "iam" / "deploy.json")
    (repo / "package.json").write_text('{"name": "app", "version": "1.0.0"}\n')
    _git(repo, "add", "-A", env=env)
    commit = _git(repo, "commit", "-m", "add the docs policy", env=env)
    out = commit.stdout + commit.stderr
    assert commit.returncode != 0, out
    assert "jets-iam-audit" in out and "Failed" in out
    assert '"lambda:GetFunctionConfiguration" is listed twice' in " ".join(out.split())
    # concise by default: one line per finding (18), not a page of tables
    assert "iam/deploy.json:42:17: low duplicate-action \"lambda:GetFunctionConfiguration\" is listed twice" in out
    assert len([line for line in out.splitlines() if line.startswith("iam/deploy.json:")]) == 20
    assert len(out.splitlines()) < 40 and "┏" not in out
    assert "package.json" not in out
    assert _git(repo, "rev-parse", "HEAD", env=env).returncode != 0  # nothing was committed


def test_repository_without_policies_passes(tmp_path, hook_env):
    rev, env = hook_env
    repo = _repo(tmp_path, rev, env)
    (repo / "package.json").write_text('{"name": "app", "version": "1.0.0"}\n')
    (repo / "tsconfig.json").write_text('{\n  // comments are allowed here\n  "compilerOptions": {}\n}\n')
    _git(repo, "add", "-A", env=env)
    commit = _git(repo, "commit", "-m", "just javascript", env=env)
    assert commit.returncode == 0, commit.stdout + commit.stderr
    assert "jets-iam-audit" in commit.stdout + commit.stderr  # the hook ran (Passed)


def test_terraform_and_templates_are_checked_and_other_yaml_skipped(tmp_path, hook_env):
    rev, env = hook_env
    repo = _repo(tmp_path, rev, env)
    (repo / "infra").mkdir()
    shutil.copy(ROOT / "fixtures" / "iac" / "terraform-jsonencode" / "main.tf", repo / "infra" / "iam.tf")
    (repo / "infra" / "s3.tf").write_text('resource "aws_s3_bucket" "assets" {\n  bucket = "assets"\n}\n')
    shutil.copy(ROOT / "fixtures" / "iac" / "cloudformation" / "template.yaml", repo / "deploy.yaml")
    (repo / "docker-compose.yml").write_text("services:\n  web:\n    image: nginx\n")
    _git(repo, "add", "-A", env=env)
    commit = _git(repo, "commit", "-m", "infrastructure", env=env)
    out = " ".join((commit.stdout + commit.stderr).split())
    assert commit.returncode != 0, out
    # the Terraform group and the template's group are audited: the hook's concise lines point into both files
    assert re.search(r"infra/iam\.tf:\d+:\d+: \w+ ", out) and re.search(r"deploy\.yaml:\d+:\d+: \w+ ", out)
    assert "s3.tf" not in out and "docker-compose.yml" not in out


def test_everything_generate_writes_passes_the_hook(tmp_path, hook_env):
    """The split policy generate writes (a JSON array), and its documents one file each (a policy set in
    the config), commit cleanly; a later commit that changes one document alone is audited with its set."""
    rev, env = hook_env
    repo = _repo(tmp_path, rev, env)
    (repo / "pyproject.toml").write_text('[tool.jets-iam-audit]\nprefix = "demo"\nfeature = ["all"]\nenv = ["dev", "prod"]\n'
                                         '[[tool.jets-iam-audit.policy-set]]\nfiles = ["iam/split/demo-jets-deploy-*.json"]\n')
    generate = [sys.executable, "-m", "auditor", "generate"]
    (repo / "iam").mkdir()
    assert subprocess.run([*generate, "--output", "iam/deploy.json"], cwd=repo, env=env, timeout=120).returncode == 0
    assert subprocess.run([*generate, "--output-dir", "iam/split"], cwd=repo, env=env, timeout=120).returncode == 0
    assert (repo / "iam" / "deploy.json").read_text().startswith("[")  # over IAM's quota: an array of documents
    _git(repo, "add", "-A", env=env)
    commit = _git(repo, "commit", "-m", "the generated deploy policy", env=env)
    assert commit.returncode == 0, commit.stdout + commit.stderr
    assert "jets-iam-audit" in commit.stdout + commit.stderr
    second = repo / "iam" / "split" / "demo-jets-deploy-2.json"
    second.write_text(second.read_text().replace('\n  "Statement"', '\n    "Statement"'))  # a reformat, alone
    _git(repo, "add", "-A", env=env)
    commit = _git(repo, "commit", "-m", "reformat one document", env=env)
    assert commit.returncode == 0, commit.stdout + commit.stderr


def test_a_file_named_like_an_option_is_audited_not_obeyed(tmp_path, hook_env):
    """The hook's entry ends its options with `--`: a committed file named `--output=package.json` is a
    file to audit (here a broken policy, so it is reported), never the option that would overwrite
    package.json with the report; the hook's own args ([--prefix, demo]) still apply."""
    rev, env = hook_env
    repo = _repo(tmp_path, rev, env)
    package = '{"name": "app", "version": "1.0.0"}\n'
    (repo / "package.json").write_text(package)
    (repo / "--output=package.json").write_text('{"Statement": [{"Effect": "allow", "Action": "s3:GetObject", "Resource": "*"}]}\n')
    (repo / "iam").mkdir()
    shutil.copy(DOCS / "least-privilege-2019-10.json", repo / "iam" / "deploy.json")
    _git(repo, "add", "-A", env=env)
    commit = _git(repo, "commit", "-m", "a file named like an option", env=env)
    out = commit.stdout + commit.stderr
    assert commit.returncode != 0, out
    assert (repo / "package.json").read_text() == package
    assert "--output=package.json:1:27: high invalid-policy Effect must be \"Allow\" or \"Deny\", not 'allow'" in " ".join(out.split())
    assert "iam/deploy.json:42:17: low duplicate-action" in out  # --prefix demo from args: the usual findings


def test_a_commit_that_changes_only_a_template_re_audits_the_module_that_renders_it(tmp_path, hook_env):
    """pre-commit passes only the changed template: the .tf of the repository that renders it with
    templatefile() is audited (the template as rendered, ${prefix} = demo), and the template is not audited on
    its own, where its placeholder would be an unresolved reference."""
    rev, env = hook_env
    repo = _repo(tmp_path, rev, env)
    (repo / "infra").mkdir()
    (repo / "policies").mkdir()
    (repo / "infra" / "main.tf").write_text('''
resource "aws_iam_group" "deploy" { name = "demo-deploy" }
resource "aws_iam_group_policy" "deploy" {
  group  = aws_iam_group.deploy.name
  policy = templatefile("${path.module}/../policies/deploy.json", { prefix = "demo" })
}
''')
    template = DOCS.joinpath("least-privilege-2019-10.json").read_text().replace("demo-", "${prefix}-")
    (repo / "policies" / "deploy.json").write_text(template)
    _git(repo, "add", "-A", env=env)
    assert _git(repo, "commit", "--no-verify", "-m", "infrastructure", env=env).returncode == 0
    (repo / "policies" / "deploy.json").write_text(template.replace('"cloudformation:DeleteStack",', ""))
    _git(repo, "add", "-A", env=env)
    commit = _git(repo, "commit", "-m", "no more stack deletes", env=env)
    out = commit.stdout + commit.stderr
    assert commit.returncode != 0, out
    assert "${prefix}" not in out and "unresolved-reference" not in out, out
    # an action no statement names is about the group: it points at the group's definition in the .tf
    assert re.search(r"infra/main\.tf:\d+:\d+: high missing-action missing \"cloudformation:DeleteStack\" on stack/demo-", out), out
