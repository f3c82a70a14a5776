import pytest

from auditor.checks import ALWAYS_ON, RULE_IDS, duplicate_sid
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


def _broken(ctx):
    raise ValueError("boom")


def test_the_engine_reports_a_failure_whatever_the_config_says(cat, monkeypatch):
    # The engine reports it: config may change its severity, but no ignore (not even one for the whole
    # file) silences it, and disabling the rule is a config error.
    from auditor import config, engine
    from auditor.model import parse_policy
    from auditor.report import Settings, Target

    monkeypatch.setattr(duplicate_sid, "check", _broken)
    policy = parse_policy('{"Version": "2012-10-17", "Statement": []}', "p.json")
    settings = Settings("demo", False, None, ("dev",), "5", ("core", "prewarm"))
    cfg = config.parse({"rules": {"internal-error": {"severity": "high"}},
                        "ignore": [{"file": "p.json", "reason": "we know"}]}, "cfg", RULE_IDS, ALWAYS_ON)
    report = engine.run([Target("file", "p.json", (policy,))], settings, cat, cfg)
    (failure,) = [f for f in report.findings if f.rule_id == "internal-error"]
    assert (failure.severity, failure.subject, failure.message) == (
        "high", "duplicate-sid", 'check "duplicate-sid" failed on this target (ValueError: boom); its findings may be incomplete')
    assert report.ignored and all(f.rule_id != "internal-error" for f, _ in report.ignored)  # the ignore silenced the rest


def test_config_cannot_disable_or_ignore_internal_error():
    from auditor import config

    with pytest.raises(config.ConfigError, match=r"^cfg: rules.internal-error cannot be disabled: it reports a check that failed"):
        config.parse({"rules": {"internal-error": {"enabled": False}}}, "cfg", RULE_IDS, ALWAYS_ON)
    with pytest.raises(config.ConfigError, match=r"^cfg: ignore #1: internal-error findings cannot be ignored"):
        config.parse({"ignore": [{"rule": "internal-error", "reason": "noise"}]}, "cfg", RULE_IDS, ALWAYS_ON)
    assert config.parse({"rules": {"internal-error": {"severity": "low"}}}, "cfg", RULE_IDS, ALWAYS_ON).rule(
        "internal-error") == config.RuleSetting(True, "low")


def test_disabling_internal_error_in_a_config_file_exits_2(tmp_path):
    from tests.conftest import invoke

    (tmp_path / "p.json").write_text('{"Version": "2012-10-17", "Statement": []}')
    (tmp_path / ".jets-iam-audit.toml").write_text("[rules.internal-error]\nenabled = false\n")
    proc = invoke("file", "p.json", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.decode().startswith("jets-iam-audit: error: ") and "rules.internal-error cannot be disabled" in proc.stderr.decode()
