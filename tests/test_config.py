"""Config end to end: pyproject.toml [tool.jets-iam-audit] or .jets-iam-audit.toml, found upwards."""

from __future__ import annotations

import json
import shutil

from tests.conftest import DOCS, invoke, run_cli

PYPROJECT = """
[project]
name = "my-jets-app"

[tool.jets-iam-audit]
prefix = "demo"
fail-on = "high"
feature = ["custom-domain"]

[tool.jets-iam-audit.rules.duplicate-resource]
enabled = false

[tool.jets-iam-audit.rules.wildcard-action]
severity = "low"

[[tool.jets-iam-audit.ignore]]
file = "policies/*.json"
rule = "wildcard-action"
pointer = "/Statement/4"
reason = "API Gateway ids are random: apigateway:* is reviewed"
"""


def _project(tmp_path, config_text, name="pyproject.toml"):
    (tmp_path / "policies").mkdir()
    shutil.copy(DOCS / "least-privilege-2019-10.json", tmp_path / "policies" / "deploy.json")
    (tmp_path / name).write_text(config_text)
    return tmp_path


def _json(proc):
    assert proc.returncode in (0, 1), proc.stderr.decode()
    return json.loads(proc.stdout)


def test_pyproject_defaults_rules_and_ignores(tmp_path):
    root = _project(tmp_path, PYPROJECT)
    doc = _json(run_cli("file", "policies/deploy.json", "--format", "json", cwd=root))
    assert doc["settings"]["prefix"] == "demo" and doc["settings"]["prefix_inferred"] is False
    assert doc["settings"]["fail_on"] == "high"
    assert doc["settings"]["features"] == ["core", "prewarm", "custom-domain", "public-assets"]
    rules = {f["rule_id"] for f in doc["findings"]}
    assert "duplicate-resource" not in rules
    assert not [f for f in doc["findings"] if f["rule_id"] == "wildcard-action" and f["location"]["pointer"].startswith("/Statement/4/")]
    assert {f["severity"] for f in doc["findings"] if f["rule_id"] == "wildcard-action"} == {"low"}
    assert "ignored" not in doc


def test_show_ignored_and_cli_beats_config(tmp_path):
    root = _project(tmp_path, PYPROJECT)
    proc = invoke("file", "policies/deploy.json", "--format", "json", "--show-ignored", "--fail-on", "critical", cwd=root)
    doc = _json(proc)
    assert proc.returncode == 0 and doc["settings"]["fail_on"] == "critical"
    (ignored,) = doc["ignored"]
    assert ignored["rule_id"] == "wildcard-action" and ignored["reason"] == "API Gateway ids are random: apigateway:* is reviewed"
    assert proc.stderr.decode() == ("22 findings (10 high, 5 medium, 6 low, 1 info), 1 ignored; coverage: 75 granted, 12 missing; config "
                                    "pyproject.toml; exit 0\n")


def test_dotfile_found_from_a_subdirectory(tmp_path):
    root = _project(tmp_path, 'prefix = "other"\n[rules.unused-action]\nenabled = false\n', ".jets-iam-audit.toml")
    sub = root / "policies"
    doc = _json(invoke("file", "deploy.json", "--format", "json", cwd=sub))
    assert doc["settings"]["prefix"] == "other"
    assert "unused-action" not in {f["rule_id"] for f in doc["findings"]}


def test_explicit_config_path(tmp_path):
    cfg = tmp_path / "audit.toml"
    cfg.write_text('jets-version = 6\n')
    doc = _json(invoke("file", str(DOCS / "broad.json"), "--config", str(cfg), "--format", "json", cwd=tmp_path))
    assert doc["settings"]["jets_version"] == "6" and doc["settings"]["jets_version_from"] == str(cfg)
    cfg.write_text('jets-version = "4.0.9"\n')
    doc = _json(invoke("file", str(DOCS / "broad.json"), "--config", str(cfg), "--format", "json", cwd=tmp_path))
    assert doc["settings"]["jets_version"] == "4.0.9"


def test_bad_config_exits_2_naming_the_key(tmp_path):
    cases = {
        'prefx = "demo"\n': "unknown key 'prefx'",
        'fail-on = "urgent"\n': "'fail-on' must be one of info, low, medium, high, critical, not 'urgent'",
        '[rules.no-such-rule]\nenabled = false\n': "unknown rule 'no-such-rule'",
        '[rules.wildcard-action]\nseverity = "huge"\n': "rules.wildcard-action.severity must be one of",
        '[[ignore]]\nfile = "x.json"\n': "ignore #1 needs a 'reason'",
        'prefix = \n': "not valid TOML",
        'jets-version = "5.x"\n': "'jets-version' must be a Jets line or release such as 5 or 5.0.14, not '5.x'",
        'jets-version = "2.3.17"\n': "--jets-version 2.3.17: this catalogue covers Jets 3.x",
    }
    shutil.copy(DOCS / "broad.json", tmp_path / "broad.json")
    for text, expected in cases.items():
        cfg = tmp_path / ".jets-iam-audit.toml"
        cfg.write_text(text)
        proc = invoke("file", "broad.json", cwd=tmp_path)
        err = proc.stderr.decode()
        assert proc.returncode == 2, text
        assert expected in err and err.startswith("jets-iam-audit: error: ") and "Traceback" not in err, err
