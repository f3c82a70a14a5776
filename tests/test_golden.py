"""Golden outputs: what the tool prints, byte for byte, for every docs fixture in every format, and for
the catalogue and generate commands. A change to a table, a message or the JSON document shows here
as a diff of tests/golden/; `pytest --update-golden` rewrites the files from the current output (then
review `git diff tests/golden`). Paths are relative to the repository, as a user would type them."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from auditor.cli import app
from auditor.reporters import FORMATS
from tests.conftest import DOCS, ROOT

FIXTURES = sorted(p.name for p in DOCS.glob("*.json"))


@pytest.fixture
def cli(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("NO_COLOR", "1")
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args))

    return run


@pytest.mark.slow
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("fixture", FIXTURES)
def test_docs_fixture(cli, golden, fixture, fmt):
    result = cli("file", f"fixtures/docs/{fixture}", "--format", fmt)
    assert result.exit_code == 1, result.stderr  # every docs version has findings
    golden(f"file/{fixture.removesuffix('.json')}.{fmt}", result.stdout)


@pytest.mark.parametrize("name,args", [
    ("catalogue-demo-all.table", ["--prefix", "demo", "--feature", "all"]),
    ("catalogue-demo-all.json", ["--prefix", "demo", "--feature", "all", "--format", "json"]),
    ("catalogue-jets6-templates.json", ["--jets-version", "6", "--env", "dev", "--env", "prod", "--format", "json"]),
])
def test_catalogue(cli, golden, name, args):
    result = cli("catalogue", *args)
    assert result.exit_code == 0, result.stderr
    golden(name, result.stdout)


@pytest.mark.slow
@pytest.mark.parametrize("name,args", [
    ("generate-demo-all.json", ["--prefix", "demo", "--env", "dev", "--env", "prod", "--feature", "all"]),
    ("generate-demo-jets6.json", ["--prefix", "demo", "--jets-version", "6", "--region", "us-east-1",
                                  "--account", "123456789012"]),
    ("repair-2019-10.diff", ["--from", "fixtures/docs/least-privilege-2019-10.json"]),
])
def test_generate(cli, golden, name, args):
    result = cli("generate", *args)
    assert result.exit_code == 0, result.stderr
    golden(name, result.stdout)
