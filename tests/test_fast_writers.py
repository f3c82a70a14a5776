"""The JSON and SARIF writers write a finding field by field, keep the text of what findings share
(everything but where they point) and join a target's items into few writes: the bytes must stay those
json.dumps(indent=2) gives for Finding.as_dict() and sarif._result(), whatever fields are present and
whatever characters the strings hold."""

from __future__ import annotations

import io
import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.model import Location
from auditor.report import Finding, Report, Settings, Target
from auditor.reporters import json as json_writer
from auditor.reporters import render, sarif
from auditor.reporters.jsontext import TEXTS_JOINED, ArrayWriter, Kept
from tests.test_streaming import whole_json, whole_sarif

ODD = 'é ü \u2028 \x00\x1b[31m "quoted" back\\slash \t\n 𝄞 \udc80'  # non-ASCII, control, escapes, a lone surrogate
LOCATIONS = (
    Location("policy.json"),
    Location("policy.json", "/Statement/0/Action/1", "AllowAll", 7),
    Location("dir with space/é:p%20olicy.json", "/Statement/1/Resource", ODD, 0),
    Location(f"odd{ODD}.json", "/Statement/2/Condition/a~1b~0c", None, 123456),
    Location("arn:aws:iam::aws:policy/Some Policy", "", "", None),
)


def findings() -> list[Finding]:
    """Every combination of the optional fields, each over several locations, odd characters included."""
    out = []
    optional = itertools.product((None, "arn:aws:s3:::demo-*"), (None, "core"), (None, ">= 3, < 6"),
                                 (None, "", f"allow {ODD}"), ((), ("parliament/a", f"b{ODD}")))
    for n, (resource, feature, releases, fix, also) in enumerate(optional):
        rule = ("missing-action", "wildcard-resource", "unused-action")[n % 3]
        severity = ("critical", "high", "medium", "low", "info")[n % 5]
        message = f'missing "s3:GetObject" {n}' if n % 2 else f"{ODD} {n}"
        for loc in LOCATIONS[n % 2:]:
            category = "missing-action" if rule == "missing-action" else "over-broad"
            out.append(Finding(rule, category, severity, message, "s3:GetObject" if n % 4 else ODD, loc, resource, feature,
                               fix, None, releases, also))
    return out


def as_json(f: Finding) -> str:
    return json.dumps(f.as_dict(), indent=2).replace("\n", "\n    ")  # a member of "findings" (level 2)


def as_sarif(f: Finding, index: object) -> str:
    return json.dumps(sarif._result(f, index), indent=2).replace("\n", "\n" + "  " * 4)  # a member of "results"


def test_finding_text_is_as_dict_through_json_dumps():
    writer = json_writer.Writer(io.StringIO())
    items = findings()
    assert len(items) > 200
    for _ in range(3):  # a key's text is kept from its second finding: first, second and later ones
        for f in items:
            assert writer._finding_text(f) == as_json(f), f
    assert writer.findings_kept.kept  # the kept texts were used


def test_result_text_is_result_through_json_dumps():
    writer = sarif.Writer(io.StringIO())
    for _ in range(3):
        for f in items_with_foreign_rule():
            index = writer.ours.get(f.rule_id)
            assert writer._result_text(f) == as_sarif(f, index if index is not None else f.rule_id), f
    assert writer.results_kept.kept


def items_with_foreign_rule() -> list[Finding]:
    """The findings, and some of a rule not ours (--parliament: its index is known only at the end)."""
    items = findings()
    return items + [Finding("parliament/RESOURCE_STAR", "parliament", f.severity, f.message, f.subject, f.location,
                            f.resource, f.feature, f.fix, None, f.releases, f.also_reported_by) for f in items[::7]]


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_texts_kept_are_bounded_and_still_right(fmt, monkeypatch):
    """With tiny bounds every kept table is cleared again and again: the texts are the same."""
    module = json_writer if fmt == "json" else sarif
    for name in ("FINDINGS_KEPT", "FINDINGS_SEEN", "ROWS_KEPT", "ROWS_SEEN", "RESULTS_KEPT", "RESULTS_SEEN"):
        if hasattr(module, name):
            monkeypatch.setattr(module, name, 3)
    writer = module.Writer(io.StringIO())
    items = findings()
    for f in items + items[::-1] + items:
        if fmt == "json":
            assert writer._finding_text(f) == as_json(f)
            assert len(writer.findings_kept.kept) <= 3 and len(writer.findings_kept.seen) <= 3
        else:
            index = writer.ours[f.rule_id]
            assert writer._result_text(f) == as_sarif(f, index)
            assert len(writer.results_kept.kept) <= 3 and len(writer.results_kept.seen) <= 3


_TEXT = st.text(max_size=12) | st.sampled_from(["", "/", "~", ODD, "é", "\x7f", "\u2028"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_TEXT, _TEXT, _TEXT, st.none() | _TEXT, st.none() | _TEXT, st.none() | _TEXT,
                          st.none() | _TEXT, st.lists(_TEXT, max_size=2), _TEXT, _TEXT, st.none() | _TEXT,
                          st.none() | st.integers(min_value=0, max_value=10**6)), min_size=1, max_size=6))
def test_any_strings(rows):
    """Any strings in any field, a few findings through one writer of each format (so texts are kept)."""
    json_w, sarif_w = json_writer.Writer(io.StringIO()), sarif.Writer(io.StringIO())
    for message, subject, category, resource, feature, fix, releases, also, source, ptr, sid, line in rows * 2:
        f = Finding("missing-action", category, "high", message, subject, Location(source, ptr, sid, line), resource,
                    feature, fix, None, releases, tuple(also))
        assert json_w._finding_text(f) == as_json(f)
        assert sarif_w._result_text(f) == as_sarif(f, sarif_w.ours["missing-action"])


def test_kept_keeps_a_key_from_its_second_put():
    kept: Kept[str] = Kept(2, 4)
    kept.put("a", "A")
    assert kept.kept == {}
    kept.put("a", "A")
    assert kept.kept == {"a": "A"}
    for key in "bcdefg":
        kept.put(key, key.upper())
        kept.put(key, key.upper())
        assert len(kept.kept) <= 2 and len(kept.seen) <= 4
    assert kept.kept["g"] == "G"


@pytest.mark.parametrize("before", [0, 1])
@pytest.mark.parametrize("count", [0, 1, TEXTS_JOINED - 1, TEXTS_JOINED, TEXTS_JOINED + 1, 3 * TEXTS_JOINED + 5])
def test_texts_writes_what_text_writes(before, count):
    one, joined = io.StringIO(), io.StringIO()
    members = [json.dumps(f"item {i}") for i in range(count)]
    a, b = ArrayWriter(one, 1), ArrayWriter(joined, 1)
    for writer in (a, b):
        for _ in range(before):
            writer.text('"first"')
    for m in members:
        a.text(m)
    b.texts(iter(members))
    b.texts([])
    a.close()
    b.close()
    assert joined.getvalue() == one.getvalue()
    assert json.loads("[" + joined.getvalue()) == ["first"] * before + [f"item {i}" for i in range(count)]


def test_whole_documents_are_json_dumps_of_the_report():
    """Findings of several targets (more than one write's worth each) and of none (the tail's), through
    the writers as the CLI streams them: the documents 0.1 built whole."""
    items = findings()
    names = ("a.json", "b é.json", "c.json")
    stamped = [Finding(f.rule_id, f.category, f.severity, f.message, f.subject, f.location, f.resource, f.feature,
                       f.fix, None if n % 11 == 0 else names[n * 3 // len(items)], f.releases, f.also_reported_by)
               for n, f in enumerate(items)]
    in_order = [f for name in names for f in stamped if f.target == name] + [f for f in stamped if f.target is None]
    report = Report("1.0", "test data", Settings("demo", False, None, ("dev",), "5", ("core",)),
                    tuple(Target("file", name, ()) for name in names), tuple(in_order), ())
    assert render("json", report) == whole_json(report)
    assert render("sarif", report) == whole_sarif(report)
