"""--project: the prefix and the features come from a Jets app, and the report says from where."""

from __future__ import annotations

import json

from auditor.project import scan
from tests.conftest import DOCS, FIXTURES, run_cli

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


def test_file_with_project_reports_where_features_came_from():
    proc = run_cli("file", str(DOCS / "least-privilege-2021-05.json"), "--project", str(APP), "--format", "json")
    doc = json.loads(proc.stdout)
    assert doc["settings"]["prefix"] == "shop" and doc["settings"]["prefix_inferred"] is False
    assert doc["settings"]["features"][:3] == ["core", "prewarm", "custom-domain"] and len(doc["settings"]["features"]) == 16
    assert {"feature": "s3-events", "source": "app/jobs/events_job.rb:6"} in doc["settings"]["project"]["features"]
    table = run_cli("file", str(DOCS / "least-privilege-2021-05.json"), "--project", str(APP)).stdout.decode()
    assert ("name shop (config/application.rb:2); jets 5.0.14 (Gemfile.lock:16); features: custom-domain "
            "(config/application.rb:9)") in " ".join(table.split())


def test_generate_and_catalogue_with_project():
    doc = json.loads(run_cli("generate", "--project", str(APP)).stdout)
    statements = doc if isinstance(doc, list) else [doc]
    text = json.dumps(statements)
    assert "function:shop-dev-*" in text and "dynamodb:DescribeTable" in text and "ssm:GetParameter" in text
    cat = json.loads(run_cli("catalogue", "--project", str(APP), "--format", "json").stdout)
    assert "iot-events" in cat["features"]


def test_bad_project_path_exits_2(tmp_path):
    proc = run_cli("file", str(DOCS / "broad.json"), "--project", str(tmp_path / "nope"))
    assert proc.returncode == 2 and "not a directory" in proc.stderr.decode()
    proc = run_cli("file", str(DOCS / "broad.json"), "--project", str(tmp_path))
    assert proc.returncode == 2 and "not a Jets app" in proc.stderr.decode()
