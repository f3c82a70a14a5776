"""The report is streamed target by target: JSON and SARIF are written item by item, with the bytes
json.dumps(document, indent=2) gives for the document 0.1 built whole; findings come per target (targets
in input order, each target's sorted); the summary and exit code come last; spooled text moves to a
temporary file past its limit. Checked on the fixtures and (slow) on the AWS managed policy corpus."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor import catalogue, engine, streaming
from auditor.engine import NO_CONFIG
from auditor.report import Report, Settings, Target, finding_order
from auditor.reporters import sarif
from auditor.reporters.jsontext import ArrayWriter, ObjectWriter, dumps
from auditor.reporters.spool import Spool
from auditor.sources.file import read_policy
from auditor.scopes import Scope
from auditor.sources.targets import load, loaded
from tests.conftest import CORPUS, DOCS, FIXTURES, ROOT, invoke

SARIF_SCHEMA = ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"
REPORT_SCHEMA = ROOT / "auditor" / "schemas" / "report-v1.schema.json"


# --- the documents as 0.1 built them: whole dicts, one json.dumps -----------------------------------

def whole_json(report: Report) -> str:
    from auditor.reporters.json import target_dict

    doc = {
        "schema_version": 1,
        "tool": {"name": "jets-iam-audit", "version": report.tool_version, "iam_data": report.iam_data},
        "settings": report.settings.as_dict(),
        "targets": [target_dict(t, report.settings) for t in report.targets],
        "findings": [f.as_dict() for f in report.findings],
        "coverage": [row.as_dict() for row in report.coverage],
        "notes": list(report.requirement_notes),
        **({"ignored": [{**f.as_dict(), "reason": reason} for f, reason in report.ignored]}
           if report.settings.show_ignored else {}),
        "summary": {"by_severity": report.by_severity(), "by_category": report.by_category(), "exit_code": report.exit_code},
    }
    return json.dumps(doc, indent=2) + "\n"


def whole_sarif(report: Report) -> str:
    from auditor.checks import CHECKS

    rules = [sarif._rule(m) for m in CHECKS]
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    return json.dumps({"$schema": sarif.SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "jets-iam-audit", "version": report.tool_version,
                            "informationUri": "https://github.com/jets-iam-audit/jets-iam-audit", "rules": rules,
                            "properties": {"iam_data": report.iam_data}}},
        "results": [sarif._result(f, index[f.rule_id]) for f in report.findings],
        "properties": {"settings": report.settings.as_dict(), "exit_code": report.exit_code}}]}, indent=2) + "\n"


def streamed(fmt: str, targets, run_settings: Settings, cat) -> tuple[str, object]:
    """What the CLI writes: streaming.stream into the format's writer."""
    from auditor import reporters

    buf = io.StringIO()
    tail = streaming.stream([Scope(run_settings, NO_CONFIG, tuple(targets))], cat, reporters.writer(fmt, buf))
    return buf.getvalue(), tail


@pytest.fixture(scope="module")
def cat():
    return catalogue.load()


@pytest.fixture(scope="module")
def fixture_targets():
    paths = [*sorted(str(p) for p in DOCS.glob("*.json")), str(FIXTURES / "iac" / "cloudformation" / "template.yaml"),
             str(FIXTURES / "iac" / "terraform-jsonencode" / "main.tf")]
    return list(load(paths, defer=True).targets)


def _check_stream(targets, run_settings, cat):
    report = engine.run([loaded(t) for t in targets], run_settings, cat)
    text, tail = streamed("json", targets, run_settings, cat)
    assert text == whole_json(report)  # byte for byte
    assert tail.exit_code == report.exit_code
    jsonschema.Draft202012Validator(json.loads(REPORT_SCHEMA.read_text())).validate(json.loads(text))
    log, _ = streamed("sarif", targets, run_settings, cat)
    assert log == whole_sarif(report)
    if SARIF_SCHEMA.exists():  # ../shared, beside the checkout (a clone on its own still compares the bytes)
        jsonschema.Draft7Validator(json.loads(SARIF_SCHEMA.read_text())).validate(json.loads(log))
    return report, json.loads(text)


def test_fixtures_stream_the_bytes_of_the_whole_document(fixture_targets, cat):
    run_settings = Settings("demo", False, None, ("dev", "prod"), "5", ("core", "prewarm", "custom-domain"))
    report, doc = _check_stream(fixture_targets, run_settings, cat)
    assert len(report.targets) == len(fixture_targets) > 5
    assert len(doc["findings"]) > 50 and len(doc["coverage"]) > 100
    assert [t["name"] for t in doc["targets"]] == [t.name for t in fixture_targets]


def test_findings_come_per_target_in_input_order_sorted_within(fixture_targets, cat):
    run_settings = Settings("demo", False, None, ("dev",), "5", ("core", "prewarm"))
    report = engine.run([loaded(t) for t in fixture_targets], run_settings, cat)
    names = [t.name for t in report.targets]
    order = [names.index(f.target) for f in report.findings]
    assert order == sorted(order) and len(set(order)) > 3
    for name in names:
        mine = [f for f in report.findings if f.target == name]
        assert mine == sorted(mine, key=finding_order)
    # the same findings and coverage as a run of each target on its own (nothing depends on the neighbours)
    alone = [engine.run([loaded(t)], run_settings, cat) for t in fixture_targets]
    assert list(report.findings) == [f for r in alone for f in r.findings]
    assert list(report.coverage) == [row for r in alone for row in r.coverage]


def test_cli_stream_is_the_documented_document(tmp_path):
    """Through the command: several files with --show-ignored and a config; the JSON validates and ends
    with the summary, which counts what the document holds."""
    (tmp_path / "pyproject.toml").write_text('[tool.jets-iam-audit]\nprefix = "demo"\n[[tool.jets-iam-audit.ignore]]\n'
                                             'rule = "duplicate-action"\nreason = "known"\n')
    for p in sorted(DOCS.glob("*.json")):
        (tmp_path / p.name).write_text(p.read_text())
    files = sorted(p.name for p in tmp_path.glob("*.json"))
    proc = invoke("file", *files, "--show-ignored", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1
    text = proc.stdout.decode()
    doc = json.loads(text)
    assert text == json.dumps(doc, indent=2) + "\n"
    jsonschema.Draft202012Validator(json.loads(REPORT_SCHEMA.read_text())).validate(doc)
    assert list(doc)[-1] == "summary" and doc["ignored"]
    counts = {s: 0 for s in doc["summary"]["by_severity"]}
    for f in doc["findings"]:
        counts[f["severity"]] += 1
    assert counts == doc["summary"]["by_severity"]
    assert [t["name"] for t in doc["targets"]] == files


def _pinned(name: str, region: str | None) -> Target:
    """A target whose policy pins its functions to `region` (None: any Region)."""
    from auditor.model import parse_policy

    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["lambda:*", "cloudformation:*"],
                                                   "Resource": f"arn:aws:lambda:{region or '*'}:*:function:demo-*"}]}
    return Target("file", name, (parse_policy(json.dumps(doc), name),))


def test_deploy_notes_stream_with_their_target(cat):
    """The Region a target was judged for is known once it is audited: a streamed run gives it with the
    target's part, and every format writes what the whole Report (notes before the audit, then these, in
    target order) writes."""
    from auditor import reporters
    from auditor.reporters import FORMATS

    run_settings = Settings("demo", False, None, ("dev",), "5", ("core", "prewarm"))
    targets = [_pinned("a.json", "eu-west-1"), _pinned("b.json", None), _pinned("c.json", "us-east-1")]
    report = engine.run(targets, run_settings, cat)
    judged = "no --region/--account given; judged for Region {}, which grants the most of the 2 choices"
    assert [(name, note.startswith(f"{name}: " + judged.format(region)))
            for (name, note), region in zip(report.target_notes, ("eu-west-1", "us-east-1"), strict=True)] == [
        ("a.json", True), ("c.json", True)]
    assert report.requirement_notes[-2:] == tuple(note for _, note in report.target_notes)
    assert streamed("json", targets, run_settings, cat)[0] == whole_json(report)
    assert json.loads(whole_json(report))["notes"][-2:] == [note for _, note in report.target_notes]
    for fmt in FORMATS:
        assert streamed(fmt, targets, run_settings, cat)[0] == reporters.render(fmt, report), fmt
    lines = streamed("table", targets, run_settings, cat)[0].splitlines()
    notes = [n for n, line in enumerate(lines) if line.startswith(("note: a.json: no --region", "note: c.json: no --region"))]
    summary = next(n for n, line in enumerate(lines) if line.endswith("│ file c.json"))
    details = next(n for n, line in enumerate(lines) if line.startswith("details of the "))
    assert len(notes) == 2 and summary < notes[0] < notes[1] < details  # after the summary rows, before the details
    one = streamed("table", targets[:1], run_settings, cat)[0].splitlines()  # one target: with the head's notes
    assert one.index("file a.json") > next(n for n, line in enumerate(one) if line.startswith("note: a.json: no --region"))
    assert one == reporters.render("table", engine.run(targets[:1], run_settings, cat)).splitlines()


@pytest.mark.slow
def test_corpus_streams_the_bytes_of_the_whole_document(cat):
    files = sorted(CORPUS.glob("*.json"))
    if not files:
        pytest.skip(f"the AWS managed policy corpus is not at {CORPUS}")
    targets = [Target("file", str(p), (read_policy(str(p)),)) for p in files]
    run_settings = Settings("*", False, None, ("dev",), "5", ("core", "prewarm"))
    # the whole corpus byte for byte (its JSON document is some 200 MB: compared as text, never parsed)
    report = engine.run(targets, run_settings, cat)
    text, tail = streamed("json", targets, run_settings, cat)
    assert text == whole_json(report) and tail.exit_code == report.exit_code
    assert text.count('\n    {\n      "kind": "file",') == len(files)  # one entry of "targets" per policy
    del text
    log, _ = streamed("sarif", targets, run_settings, cat)
    assert log == whole_sarif(report)
    del log
    # against the schemas (parsed and validated: several GB for the whole corpus) on every tenth policy
    _, doc = _check_stream(targets[::10], run_settings, cat)
    assert len(doc["targets"]) == len(targets[::10])
    # the same findings and coverage as each policy audited on its own (how test_corpus.py audits them)
    seen = 0
    for t in targets[::50]:
        alone = engine.run([t], report.settings, cat)
        assert [f for f in report.findings if f.target == t.name] == list(alone.findings)
        assert [r for r in report.coverage if r.target == t.name] == list(alone.coverage)
        seen += len(alone.coverage)
    assert seen > 0


# --- the pieces ----------------------------------------------------------------------------------------

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.text(), st.floats(allow_nan=False))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                          st.dictionaries(st.text(max_size=5), inner, max_size=4)),
                       max_leaves=20)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(_VALUES, st.integers(min_value=0, max_value=70))
def test_dumps_is_json_dumps_at_any_depth(value, level):
    assert dumps(value, level) == json.dumps(value, indent=2).replace("\n", "\n" + "  " * level)


@pytest.mark.parametrize("value", [
    {}, [], {"a": []}, {"a": {}}, [None, True, False, 0, -3, 1.5, "é\u2028\x1b[31m\"\\"], {"k\n": {"x": [1, [2, {}]]}},
    {"findings": [{"rule_id": "r", "location": {"line": None}}]}])
def test_dumps_examples(value):
    for level in (0, 1, 3):
        assert dumps(value, level) == json.dumps(value, indent=2).replace("\n", "\n" + "  " * level)


def test_writers_build_json_dumps_documents():
    buf = io.StringIO()
    doc = ObjectWriter(buf)
    doc.member("a", 1)
    arr = doc.array("items")
    arr.item({"x": [1, 2]})
    arr.text(dumps("pre-written", 2))
    inner = arr.object()
    inner.member("deep", [])
    inner.close()
    arr.close()
    empty = doc.array("none")
    empty.close()
    spool = Spool(limit=10)
    rows = ArrayWriter(spool, 1)
    for i in range(20):
        rows.item({"row": i})
    rows.close()
    doc.spooled("rows", spool)
    doc.close()
    expected = {"a": 1, "items": [{"x": [1, 2]}, "pre-written", {"deep": []}], "none": [], "rows": [{"row": i} for i in range(20)]}
    assert buf.getvalue() == json.dumps(expected, indent=2)


def test_spool_moves_to_an_unnamed_file_past_its_limit(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    spool = Spool(limit=100)
    assert spool.empty and spool  # truthy even when empty: rich prints to `file or sys.stdout`
    spool.write("x" * 60)
    assert spool._file is None and not spool.empty
    spool.write("é" * 60 + "\n")
    assert spool._file is not None
    spool.write("line two\n")
    assert list(Path(tmp_path).iterdir()) == []  # unnamed: nothing anyone can see or must clean up
    out = io.StringIO()
    spool.copy_to(out, str.upper)
    assert out.getvalue() == "X" * 60 + "É" * 60 + "\nLINE TWO\n"
    assert spool._file is None
