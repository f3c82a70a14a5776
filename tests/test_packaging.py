"""rules/ and the managed-policy snapshot must ship inside the wheel: a non-editable install works from any directory."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_wheel_contains_the_catalogue(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("jets_iam_audit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "auditor/_rules/features.toml" in names
    assert "auditor/_rules/jets3-5/core.toml" in names and "auditor/_rules/jets6/core.toml" in names
    assert "auditor/cli.py" in names
    assert {"auditor/schemas/report-v1.schema.json", "auditor/schemas/catalogue-v1.schema.json",
            "auditor/schemas/baseline-v1.schema.json"} <= names
    assert "auditor/data/aws-managed-policies.json.gz" in names  # AWS managed policies by ARN (auditor/managed_policies.py)
    assert not [n for n in names if n.startswith(("tests/", "fixtures/"))]
