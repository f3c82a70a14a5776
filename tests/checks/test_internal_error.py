import pytest

from tests.checks.conftest import allow
from tests.conftest import CORPUS


def test_parliament_crash_is_one_finding(findings):
    path = CORPUS / "SageMakerStudioEMRContainersSystemNamespaceRolePolicy.json"
    if not path.exists():
        pytest.skip("corpus not present")
    (hit,) = findings("internal-error", text=path.read_text())
    assert hit[0] == "info" and "ArrayOfARN" in hit[2] and hit[2].endswith("condition checks were skipped")


def test_no_error_without_crash(findings):
    assert findings("internal-error", allow("s3:GetObject", "*", Condition={"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}})) == []
