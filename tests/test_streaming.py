"""The report is streamed target by target: JSON and SARIF are written item by item, with the bytes
json.dumps(document, indent=2) gives for the document 0.1 built whole (with --parliament too, whose
rules are known only at the end); findings come per target (targets in input order, each target's
sorted); the summary and exit code come last; spooled text moves to a temporary file past its limit.
Checked on the fixtures, on findings whose strings hold any character and (slow) on the AWS managed
policy corpus."""

from __future__ import annotations

import io
import itertools
import json
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor import catalogue, engine, streaming
from auditor.engine import NO_CONFIG
from auditor.model import Location
from auditor.report import Finding, Report, Settings, Target, finding_order
from auditor.reporters import render, sarif
from auditor.reporters.jsontext import ArrayWriter, ObjectWriter, encode
from auditor.reporters.spool import Spool
from auditor.sources.file import read_policy
from auditor.scopes import Scope
from auditor.sources.targets import load, loaded
from tests.conftest import DOCS, FIXTURES, ROOT, SARIF_SCHEMA, examples, invoke

REPORT_SCHEMA = ROOT / "auditor" / "schemas" / "report-v1.schema.json"


# --- the documents as 0.1 built them: whole dicts, one json.dumps -----------------------------------

def whole_json(report: Report) -> str:
    return json.dumps(whole_json_doc(report), indent=2) + "\n"


def whole_json_doc(report: Report) -> dict:
    """The JSON report as one document, built from the report's values (not by the writer under test)."""
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
    return doc


def whole_sarif(report: Report) -> str:
    return json.dumps(whole_sarif_doc(report), indent=2) + "\n"


def whole_sarif_doc(report: Report) -> dict:
    """The SARIF log as one document, built from each rule's and result's dict."""
    from auditor.checks import CHECKS

    rules = [sarif.rule_dict(m) for m in CHECKS]
    opinion = report.second_opinion
    if opinion is not None:
        rules += [sarif.second_opinion_rule_dict(info) for info in opinion.rules]
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    properties = {"settings": report.settings.as_dict(), "exit_code": report.exit_code,
                  **({"parliament": opinion.as_dict()} if opinion is not None else {})}
    return {"$schema": sarif.SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "jets-iam-audit", "version": report.tool_version,
                            "informationUri": "https://github.com/jets-iam-audit/jets-iam-audit", "rules": rules,
                            "properties": {"iam_data": report.iam_data}}},
        "results": [sarif.result_dict(f, index[f.rule_id]) for f in report.findings],
        "properties": properties}]}


def first_difference(text: str, doc: dict) -> int | None:
    """Where `text` first differs from json.dumps(doc, indent=2) and a newline (None: nowhere), compared
    piece by piece as the encoder makes them: dumps would hold every piece in a list before joining
    them, over a gigabyte for the whole corpus."""
    at = 0
    for piece in json.JSONEncoder(indent=2).iterencode(doc):
        if text[at:at + len(piece)] != piece:
            return at
        at += len(piece)
    return None if text[at:] == "\n" else at


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
    jsonschema.Draft7Validator(json.loads(SARIF_SCHEMA.read_text())).validate(json.loads(log))
    return report, json.loads(text)


@pytest.mark.slow
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


@pytest.mark.slow
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
def test_corpus_streams_the_bytes_of_the_whole_document(cat, managed_policy_corpus):
    files = sorted(managed_policy_corpus.glob("*.json"))
    targets = [Target("file", str(p), (read_policy(str(p)),)) for p in files]
    run_settings = Settings("*", False, None, ("dev",), "5", ("core", "prewarm"))
    # the whole corpus byte for byte (its JSON document is some 200 MB: compared as text, never parsed)
    report = engine.run(targets, run_settings, cat)
    text, tail = streamed("json", targets, run_settings, cat)
    assert first_difference(text, whole_json_doc(report)) is None and tail.exit_code == report.exit_code
    assert text.count('\n    {\n      "kind": "file",') == len(files)  # one entry of "targets" per policy
    del text
    log, _ = streamed("sarif", targets, run_settings, cat)
    assert first_difference(log, whole_sarif_doc(report)) is None
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


# --- any text in any field ------------------------------------------------------------------------------

ODD = 'é ü \u2028 \x00\x1b[31m "quoted" back\\slash \t\n 𝄞 \udc80 ##[x'  # non-ASCII, controls, escapes, a lone surrogate
LOCATIONS = (
    Location("policy.json"),
    Location("policy.json", "/Statement/0/Action/1", "AllowAll", 7),
    Location("dir with space/é:p%20olicy.json", "/Statement/1/Resource", ODD, 0),
    Location(f"odd{ODD}.json", "/Statement/2/Condition/a~1b~0c", None, 123456),
    Location("arn:aws:iam::aws:policy/Some Policy", "", "", None, False),
)


def odd_findings(names: tuple[str, ...]) -> list[Finding]:
    """Every combination of a finding's optional fields over several locations, odd characters in every
    string; spread over the targets `names` (every eleventh about no target, as an unused ignore is)."""
    out = []
    optional = itertools.product((None, "arn:aws:s3:::demo-*"), (None, "core"), (None, ">= 3, < 6"),
                                 (None, "", f"allow {ODD}"), ((), ("parliament/RESOURCE_STAR", f"b{ODD}")))
    for n, (resource, feature, releases, fix, also) in enumerate(optional):
        rule = ("missing-action", "wildcard-resource", "parliament/RESOURCE_STAR")[n % 3]
        severity = ("critical", "high", "medium", "low", "info")[n % 5]
        message = f'missing "s3:GetObject" {n}' if n % 2 else f"{ODD} {n}"
        for loc in LOCATIONS[n % 2:]:
            out.append(Finding(rule, "missing-action" if n % 3 == 0 else "over-broad", severity, message,
                               "s3:GetObject" if n % 4 else ODD, loc, resource, feature, fix,
                               None if len(out) % 11 == 0 else names[len(out) % len(names)], releases, also))
    return out


def odd_report(opinion=None) -> Report:
    names = ("a.json", "b é.json", "c.json")
    found = odd_findings(names)
    in_order = [f for name in names for f in found if f.target == name] + [f for f in found if f.target is None]
    if opinion is None:  # without --parliament no finding is parliament's
        in_order = [f for f in in_order if not f.rule_id.startswith("parliament/")]
    return Report("1.0", "test data", Settings("demo", False, None, ("dev",), "5", ("core",)),
                  tuple(Target("file", name, ()) for name in names), tuple(in_order), (), second_opinion=opinion)


def test_findings_of_any_text_are_json_dumps_of_the_report():
    """Findings with every optional field present or not, strings holding non-ASCII, control characters,
    quotes, a lone surrogate and `##[` (which the guard shows as its JSON escape: the same string)."""
    report = odd_report()
    assert len(report.findings) > 100
    assert render("json", report) == whole_json(report).replace("##[", "##\\u005b")
    assert render("sarif", report) == whole_sarif(report).replace("##[", "##\\u005b")
    assert json.loads(render("json", report)) == json.loads(whole_json(report))


def test_parliament_rules_known_at_the_end_index_the_results():
    """With --parliament the SARIF results wait for the rules (parliament's follow ours): the log is the
    one written whole, ruleIndex pointing at each result's rule."""
    from auditor.report import RuleInfo, SecondOpinion
    from auditor.second_opinion import Options

    rules = (RuleInfo("parliament/RESOURCE_STAR", "Resource star", "Unnecessary use of Resource *", "medium", "over-broad"),)
    opinion = SecondOpinion("1.6.4", Options().as_dict(), 40, 2, (), 0, rules)
    report = odd_report(opinion)
    assert any(f.rule_id.startswith("parliament/") for f in report.findings)
    log = render("sarif", report)
    assert log == whole_sarif(report).replace("##[", "##\\u005b")
    run = json.loads(log)["runs"][0]
    assert all(run["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"] for r in run["results"])


# --- the pieces ----------------------------------------------------------------------------------------

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.text())  # what a report holds: no float (jsontext.encode)
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                          st.dictionaries(st.text(max_size=5), inner, max_size=4)),
                       max_leaves=20)


def _written(members: dict[str, object], items: list[object]) -> str:
    """A document written through the writers: `members`, then an array of `items` and an object of them."""
    buf = io.StringIO()
    doc = ObjectWriter(buf)
    for key, value in members.items():
        doc.member(key, value)
    array = doc.array("items")
    for item in items:
        array.item(item)
    inner = array.object()
    for n, item in enumerate(items):
        inner.member(str(n), item)
    inner.close()
    array.close()
    doc.close()
    return buf.getvalue()


@pytest.mark.slow
@settings(max_examples=examples(300), deadline=None)
@given(st.dictionaries(st.text(max_size=5).filter(lambda key: key != "items"), _VALUES, max_size=4), st.lists(_VALUES, max_size=5))
def test_written_documents_are_json_dumps_of_any_value(members, items):
    expected = {**members, "items": [*items, {str(n): item for n, item in enumerate(items)}]}
    assert _written(members, items) == json.dumps(expected, indent=2)


@pytest.mark.parametrize("value", [
    {}, [], {"a": []}, {"a": {}}, [None, True, False, 0, -3, 1.5, "é\u2028\x1b[31m\"\\\udc80"], {"k\n": {"x": [1, [2, {}]]}},
    {"findings": [{"rule_id": "r", "location": {"line": None}}]}])
def test_written_documents_examples(value):
    assert _written({"a": value}, [value, value]) == json.dumps({"a": value, "items": [value, value, {"0": value, "1": value}]},
                                                                indent=2)
    assert encode(value, 3) == json.dumps({"a": {"b": {"c": value}}}, indent=2).split('"c": ', 1)[1].rsplit("\n", 3)[0]


def test_writers_build_json_dumps_documents():
    buf = io.StringIO()
    doc = ObjectWriter(buf)
    doc.member("a", 1)
    arr = doc.array("items")
    arr.item({"x": [1, 2]})
    arr.item("second")
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
    nothing = Spool()
    ArrayWriter(nothing, 1).close()
    doc.spooled("no rows", nothing)
    doc.close()
    expected = {"a": 1, "items": [{"x": [1, 2]}, "second", {"deep": []}], "none": [], "rows": [{"row": i} for i in range(20)],
                "no rows": []}
    assert buf.getvalue() == json.dumps(expected, indent=2)


@pytest.mark.parametrize("limit", [1 << 20, 100])  # in memory; in a temporary file
def test_spool_gives_back_what_was_written(tmp_path, monkeypatch, limit):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    text = "x" * 60 + "é" * 60 + "\r\u2028\x1c\x85 one line\nline two\r\n\udc80 three"
    for read in ("copy_to", "lines"):
        spool = Spool(limit=limit)
        assert spool.empty and spool  # truthy even when empty: rich prints to `file or sys.stdout`
        for piece in (text[:50], text[50:]):
            spool.write(piece)
        assert not spool.empty
        assert list(Path(tmp_path).iterdir()) == []  # unnamed: nothing anyone can see or must clean up
        if read == "copy_to":
            out = io.StringIO()
            spool.copy_to(out)
            assert out.getvalue() == text
        else:  # lines end at \n only
            assert list(spool.lines()) == [text.split("\n")[0] + "\n", "line two\r\n", "\udc80 three"]
        assert spool.empty
