"""Only regular files are read, within caps: a FIFO or a device (or a link to one) named as a policy is
refused with one line, found in a directory or a --project app it is skipped with one line; project files
have a size cap and each project walk an entry cap; a directory walk and the bytes of one run are
capped too. Nothing here may block: a FIFO opened for reading would wait for a writer forever."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from auditor import project as project_mod
from auditor.sources import discover
from tests.conftest import DOCS, FIXTURES, invoke, run_cli

POLICY = (DOCS / "least-privilege-2019-10.json").read_text()


@pytest.mark.slow
def test_a_fifo_or_a_device_named_as_a_policy_is_refused(tmp_path):
    os.mkfifo(tmp_path / "fifo.json")
    (tmp_path / "zero.json").symlink_to("/dev/zero")
    for name, kind in (("fifo.json", "a FIFO"), ("zero.json", "a device")):
        proc = run_cli("file", str(tmp_path / name))
        assert proc.returncode == 2
        assert proc.stderr.decode() == f"jets-iam-audit: error: {tmp_path / name}: not a regular file ({kind}); only files are read\n"


def test_a_fifo_or_a_device_found_in_a_directory_is_skipped(tmp_path):
    (tmp_path / "deploy.json").write_text(POLICY)
    os.mkfifo(tmp_path / "fifo.json")
    (tmp_path / "zero.json").symlink_to("/dev/zero")
    proc = run_cli("file", str(tmp_path), "-q")
    assert proc.returncode == 1
    assert proc.stderr.decode().splitlines() == [
        f"skipped {tmp_path / 'fifo.json'}: not a regular file (a FIFO)",
        f"skipped {tmp_path / 'zero.json'}: not a regular file (a device)",
        "20 findings (4 high, 7 medium, 4 low, 5 info); coverage: 69 granted, 5 missing; exit 1"]


def test_project_files_that_are_no_regular_file_or_too_large_are_skipped(tmp_path):
    app = tmp_path / "app"
    shutil.copytree(FIXTURES / "jets-app", app)
    (app / "config" / "application.rb").unlink()
    (app / "config" / "application.rb").symlink_to("/dev/zero")  # read whole, it would fill the memory
    os.mkfifo(app / "app" / "jobs" / "fifo.rb")
    (app / "Gemfile.lock").write_text("GEM\n  specs:\n    jets (5.0.14)\n" + "#" * (2 * 1024 * 1024))
    project = project_mod.scan(str(app))
    assert project.name is None and project.jets_version is None
    assert project.skipped == (
        f"--project: skipped {app / 'config' / 'application.rb'}: not a regular file (a device); only files are read",
        f"--project: skipped {app / 'app' / 'jobs' / 'fifo.rb'}: not a regular file (a FIFO)",
        f"--project: skipped {app / 'Gemfile.lock'}: larger than 1024 KiB",
    )
    assert dict(project.features)["dynamodb-events"] == "app/jobs/events_job.rb:2"  # the rest is read as before
    proc = invoke("catalogue", "--project", str(app), "--prefix", "shop", "--format", "json")
    assert proc.returncode == 0
    assert proc.stderr.decode().splitlines() == list(project.skipped)


@pytest.mark.slow
def test_a_project_walk_stops_after_its_cap(tmp_path):
    (tmp_path / "config").mkdir()
    jobs = tmp_path / "app" / "jobs"
    jobs.mkdir(parents=True)
    for i in range(project_mod.MAX_FILES + 1):
        (jobs / f"job_{i:05d}.rb").touch()
    project = project_mod.scan(str(tmp_path))
    assert project.skipped == (f"--project: stopped looking in {tmp_path / 'app'} after 5,000 entries",)


def test_a_directory_walk_has_caps(tmp_path, monkeypatch):
    for i in range(5):
        (tmp_path / f"p{i}.json").write_text(POLICY)
    monkeypatch.setattr(discover, "MAX_FOUND", 4)
    proc = invoke("file", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.decode() == (f"jets-iam-audit: error: {tmp_path}: more than 4 policy candidates in one run; name the "
                                    "directories that hold the policies\n")
    monkeypatch.setattr(discover, "MAX_FOUND", 10)
    monkeypatch.setattr(discover, "MAX_VISITED", 3)
    proc = invoke("file", str(tmp_path))
    assert proc.returncode == 2 and "more than 3 entries to look at" in proc.stderr.decode()


def test_the_bytes_of_one_run_are_capped(tmp_path):
    """Two files of 200 MB (sparse: no disk is used) are refused before either is read."""
    for name in ("a.json", "b.json"):
        with open(tmp_path / name, "wb") as fh:
            fh.truncate(200 * 1024 * 1024)
    (tmp_path / "c.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": []}))
    proc = run_cli("file", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.decode() == ("jets-iam-audit: error: the 3 files add up to 400 MiB, more than the 256 MiB one run "
                                    "reads: audit them in parts\n")
