"""The package type-checks: mypy, configured in pyproject.toml ([tool.mypy]: strict for the glob algebra
and the IAM verdicts, normal elsewhere), reports nothing. Slow (a cold run takes seconds), so CI runs it
and `pytest -m "not slow"` does not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # mypy over the whole package

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_passes_on_the_package():
    done = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("Success: no issues found in ")


def test_strict_modules_are_strict(tmp_path):
    """The per-module strict settings are in force: an unannotated function in globs.py would fail, the same
    function in another module would not (checked on copies, with the project's configuration)."""
    config = ROOT / "pyproject.toml"
    package = tmp_path / "auditor"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in ("globs.py", "other.py"):
        (package / name).write_text("def untyped(x):\n    return x\n")
    done = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(config), "--cache-dir", str(tmp_path / "cache"),
                           str(package)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stdout + done.stderr
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1 and errors[0].startswith(str(Path("auditor") / "globs.py") + ":1: error: Function is missing a type annotation"), done.stdout
