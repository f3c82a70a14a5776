"""generate --from F --write replaces F all or nothing: a temporary file beside it, renamed over it with
F's permission bits; a symbolic link, a FIFO and standard input are refused. Interrupted (here by a
file-size limit) it leaves F as it was."""

from __future__ import annotations

import json
import os
import resource
import stat
import subprocess
import sys

import pytest

from tests.conftest import DOCS, ROOT, invoke, run_cli

ARGS = ("--prefix", "demo", "--env", "dev")


def _policy(path):
    path.write_text((DOCS / "least-privilege-2019-10.json").read_text())
    return path.read_bytes()


def test_write_replaces_the_file_keeping_its_mode(tmp_path):
    path = tmp_path / "deploy.json"
    before = _policy(path)
    path.chmod(0o640)
    proc = invoke("generate", "--from", str(path), *ARGS, "--write")
    assert proc.returncode == 0, proc.stderr.decode()
    assert path.read_bytes() != before and json.loads(path.read_text())["Statement"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deploy.json"]  # no temporary file left


@pytest.mark.slow
def test_write_refuses_a_symbolic_link(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "deploy.json"
    before = _policy(target)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "deploy.json").symlink_to(target)
    proc = invoke("generate", "--from", "deploy.json", *ARGS, "--write", cwd=repo)
    assert proc.returncode == 2
    assert proc.stderr.decode() == ("jets-iam-audit: error: deploy.json is a symbolic link: --write replaces only a regular "
                                    "file (name the file it points to)\n")
    assert target.read_bytes() == before and (repo / "deploy.json").is_symlink()


def test_write_refuses_standard_input(tmp_path):
    policy = (DOCS / "least-privilege-2019-10.json").read_bytes()
    proc = run_cli("generate", "--from", "-", *ARGS, "--write", stdin=policy, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.decode() == ("jets-iam-audit: error: --write needs a file: --from - reads standard input (use "
                                    "--output FILE)\n")
    assert list(tmp_path.iterdir()) == []  # no file named "-"


def test_from_a_fifo_is_refused_without_waiting(tmp_path):
    fifo = tmp_path / "deploy.json"
    os.mkfifo(fifo)
    proc = run_cli("generate", "--from", str(fifo), *ARGS, "--write")  # would block forever opening it
    assert proc.returncode == 2
    assert proc.stderr.decode() == f"jets-iam-audit: error: {fifo}: not a regular file (a FIFO); only files are read\n"


def _small_files():
    resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))


def test_an_interrupted_write_leaves_the_file_as_it_was(tmp_path):
    """A file-size limit stops the write half way (as a full disk would): the original is intact."""
    path = tmp_path / "deploy.json"
    before = _policy(path)
    env = {**os.environ, "NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([sys.executable, "-m", "auditor", "generate", "--from", str(path), *ARGS, "--write"],
                          capture_output=True, cwd=ROOT, env=env, timeout=120, preexec_fn=_small_files)
    assert proc.returncode == 2, proc.stderr.decode()
    assert proc.stderr.decode().endswith(f"jets-iam-audit: error: cannot write {path}: File too large (the file is unchanged)\n")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deploy.json"]
