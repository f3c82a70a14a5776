"""--project: the prefix and the features come from a Jets app, and the report says from where."""

from __future__ import annotations

import json

import pytest

from auditor.project import scan
from tests.conftest import DOCS, FIXTURES, invoke, run_cli

APP = FIXTURES / "jets-app"


def test_sample_app_features_and_their_sources():
    project = scan(str(APP))
    assert (project.name, project.name_from) == ("shop", "config/application.rb:2")
    assert dict(project.features) == {
        "custom-domain": "config/application.rb:9",
        "vpc": "config/application.rb:12",
        "resource-tags": "config/application.rb:17",
        "managed-iam-policies": "config/application.rb:18",
        "dynamodb-events": "app/jobs/events_job.rb:2",  # not the comment in posts_controller.rb
        "s3-events": "app/jobs/events_job.rb:6",
        "sqs-events": "app/jobs/events_job.rb:10",
        "sns-events": "app/jobs/events_job.rb:14",
        "kinesis-events": "app/jobs/events_job.rb:18",
        "iot-events": "app/jobs/events_job.rb:22",
        "log-events": "app/jobs/events_job.rb:26",
        "config-rules": "app/rules/protect_rule.rb",
        "public-assets": "public/robots.txt",
        "ssm-dotenv": ".env.production:2",
    }


def test_minimal_app_and_jets_6_name(tmp_path):
    (tmp_path / "config" / "jets").mkdir(parents=True)
    (tmp_path / "config" / "jets" / "project.rb").write_text('Jets.project.configure do\n  config.name = "blog"\nend\n')
    (tmp_path / "app" / "controllers").mkdir(parents=True)
    (tmp_path / "app" / "controllers" / "posts_controller.rb").write_text("class PostsController\n  # sqs_event 'x'\nend\n")
    (tmp_path / ".env").write_text("# FOO=ssm:/x\nBAR=plain\n")
    project = scan(str(tmp_path))
    assert (project.name, project.name_from, project.features) == ("blog", "config/jets/project.rb:2", ())


@pytest.mark.slow
def test_file_with_project_reports_where_features_came_from():
    proc = run_cli("file", str(DOCS / "least-privilege-2021-05.json"), "--project", str(APP), "--format", "json")
    doc = json.loads(proc.stdout)
    assert doc["settings"]["prefix"] == "shop" and doc["settings"]["prefix_inferred"] is False
    assert doc["settings"]["features"][:3] == ["core", "prewarm", "custom-domain"] and len(doc["settings"]["features"]) == 16
    assert {"feature": "s3-events", "source": "app/jobs/events_job.rb:6"} in doc["settings"]["project"]["features"]
    table = invoke("file", str(DOCS / "least-privilege-2021-05.json"), "--project", str(APP)).stdout.decode()
    assert ("name shop (config/application.rb:2); jets 5.0.14 (Gemfile.lock:16); features: custom-domain "
            "(config/application.rb:9)") in " ".join(table.split())


def test_generate_and_catalogue_with_project():
    doc = json.loads(invoke("generate", "--project", str(APP)).stdout)
    statements = doc if isinstance(doc, list) else [doc]
    text = json.dumps(statements)
    assert "function:shop-dev-*" in text and "dynamodb:DescribeTable" in text and "ssm:GetParameter" in text
    cat = json.loads(invoke("catalogue", "--project", str(APP), "--format", "json").stdout)
    assert "iot-events" in cat["features"]


def test_bad_project_path_exits_2(tmp_path):
    proc = invoke("file", str(DOCS / "broad.json"), "--project", str(tmp_path / "nope"))
    assert proc.returncode == 2 and "not a directory" in proc.stderr.decode()
    proc = invoke("file", str(DOCS / "broad.json"), "--project", str(tmp_path))
    assert proc.returncode == 2 and "not a Jets app" in proc.stderr.decode()


def test_jets_version_from_gemfile_lock_and_gemfile(tmp_path):
    assert (scan(str(APP)).jets_version, scan(str(APP)).jets_version_from) == ("5.0.14", "Gemfile.lock:16")
    (tmp_path / "config").mkdir()
    (tmp_path / "Gemfile").write_text('source "https://rubygems.org"\n# gem "jets", "~> 3.0"\ngem "jets", "~> 4.0", ">= 4.0.3"\n')
    project = scan(str(tmp_path))
    assert (project.jets_version, project.jets_requirement, project.jets_version_from) == (None, ("~> 4.0", ">= 4.0.3"), "Gemfile:3")
    (tmp_path / "Gemfile.lock").write_text("GEM\n  specs:\n    jets-api (0.1.0)\n    jets (6.0.2)\n      jets-api\n")
    assert (scan(str(tmp_path)).jets_version, scan(str(tmp_path)).jets_version_from) == ("6.0.2", "Gemfile.lock:4")
    (tmp_path / "Gemfile.lock").unlink()
    (tmp_path / "Gemfile").write_text('gem "jets", git: "https://github.com/rubyonjets/jets"\n')
    assert scan(str(tmp_path)).jets_version_from is None


def _settings(*args: str, cwd=None) -> tuple[int, dict, str]:
    proc = run_cli("file", str(DOCS / "least-privilege-2021-05.json"), "--format", "json", *args, cwd=cwd)
    return proc.returncode, json.loads(proc.stdout) if proc.stdout else {}, proc.stderr.decode()


@pytest.mark.slow
def test_report_says_where_the_jets_version_came_from(tmp_path):
    _, doc, _ = _settings("--project", str(APP))
    assert (doc["settings"]["jets_version"], doc["settings"]["jets_version_from"]) == ("5.0.14", "Gemfile.lock:16")
    assert doc["settings"]["project"]["jets_version"] == "5.0.14"
    _, doc, _ = _settings("--project", str(APP), "--jets-version", "4")  # explicit wins
    assert (doc["settings"]["jets_version"], doc["settings"]["jets_version_from"]) == ("4", "--jets-version")
    app = tmp_path / "app"
    (app / "config").mkdir(parents=True)
    (app / "Gemfile").write_text('gem "jets", "~> 4.0"\n')
    _, doc, _ = _settings("--project", str(app))
    assert doc["settings"]["jets_version"] == "~> 4.0"  # every 4.x release it admits, not the newest one
    assert doc["settings"]["jets_version_from"] == "Gemfile:1 (jets ~> 4.0: every reviewed release it allows, 4.0.0 to 4.0.12)"
    (app / "Gemfile").write_text('gem "jets", ">= 7"\n')
    code, _, err = _settings("--project", str(app))
    assert code == 2 and "Gemfile:1: jets >= 7 allows no release this catalogue covers (3.x, 4.x, 5.x, 6.x)" in err
    (app / "Gemfile.lock").write_text("GEM\n  specs:\n    jets (2.3.17)\n")
    code, _, err = _settings("--project", str(app))
    assert code == 2 and "--jets-version 2.3.17: this catalogue covers Jets 3.x" in err and "(from Gemfile.lock:3)" in err


@pytest.mark.slow
def test_a_gemfile_constraint_selects_every_release_it_admits(tmp_path):
    """Without a lock file bundle may install any release the constraint admits: the audit covers all of
    them. `~> 4.0` takes in 4.0.0, which lacks what 4.0.4 and 4.0.9 added, and the route state of 3.2.0+;
    `>= 5.0.3` spans Jets 5 and the CodeBuild-deployed Jets 6."""
    app = tmp_path / "app"
    (app / "config").mkdir(parents=True)
    (app / "Gemfile").write_text('gem "jets", "~> 4.0"\n')
    _, doc, _ = _settings("--project", str(app))
    assert doc["settings"]["jets_version"] == "~> 4.0"
    keys = {r["resource"].rpartition("/jets/")[2] for r in doc["coverage"] if "/jets/cfn-templates/" in r["resource"]}
    assert keys == {"cfn-templates/demo-dev.yml", "cfn-templates/demo-dev-*.yml"}  # 4.x's keys, not 5.x's parent.yml
    (app / "Gemfile").write_text('gem "jets", ">= 5.0.3"\n')
    _, doc, _ = _settings("--project", str(app))
    assert doc["settings"]["jets_version"] == ">= 5.0.3"
    actions = {r["action"] for r in doc["coverage"]}
    assert {"lambda:UpdateFunctionCode", "codebuild:StartBuild", "ssm:GetParametersByPath"} <= actions  # 5.x and 6.x
    assert "prewarm: Jets 6 prewarms from CodeBuild, under the CodeBuild role" in doc["notes"]
