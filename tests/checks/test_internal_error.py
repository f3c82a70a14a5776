from auditor.checks import duplicate_sid
from tests.checks.conftest import allow


def test_a_failing_check_is_one_finding_and_the_others_still_run(findings, monkeypatch):
    def broken(ctx):
        yield from ()
        raise IndexError("list index out of range")

    monkeypatch.setattr(duplicate_sid, "check", broken)
    policy = (allow("s3:GetObject", "*"), allow("s3:GetObject", "*"))
    assert findings("internal-error", *policy) == [
        ("info", "duplicate-sid", 'check "duplicate-sid" failed on this target (IndexError: list index out of range); '
         "its findings may be incomplete", "")]
    assert findings("duplicate-statement", *policy)  # the checks after it ran


def test_no_finding_when_every_check_runs(findings):
    assert findings("internal-error", allow("s3:GetObject", "*", Condition={"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}})) == []
