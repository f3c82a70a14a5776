"""The parser's fast paths give exactly what the full checks give: a usual statement is built at once
(model.build_statement), any other goes through every check (model.checked_statement); a JSON object with
no repeated key is taken as json builds it (model._Loader.pairs); a condition's string values are
taken as they are."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor import model
from auditor.model import MAX_ELEMENT, Condition, parse_policies
from tests.conftest import examples

_LONG = "a" * (MAX_ELEMENT + 1)
_STRINGS = st.sampled_from(["s3:GetObject", "*", "arn:aws:s3:::demo-*", "", _LONG, "x" * MAX_ELEMENT])
_SCALARS = st.one_of(_STRINGS, st.integers(-3, 3), st.booleans(), st.none(), st.just(1.5))
_VALUES = st.one_of(
    _SCALARS,
    st.lists(_STRINGS, max_size=4),
    st.lists(_SCALARS, max_size=3),
    st.dictionaries(st.sampled_from(["StringEquals", "Bool"]),
                    st.dictionaries(st.sampled_from(["aws:SourceIp", "s3:prefix"]),
                                    st.one_of(_SCALARS, st.lists(_SCALARS, max_size=3)), max_size=2), max_size=2),
)
_KEYS = st.sampled_from([*model.STATEMENT_KEYS, "Principal", "NotPrincipal", "Unknown"])
_EFFECTS = st.sampled_from(["Allow", "Deny", "allow", 1, None, ["Allow"]])


@st.composite
def statements(draw):
    raw = draw(st.dictionaries(_KEYS, _VALUES, max_size=6))
    if draw(st.booleans()):
        raw["Effect"] = draw(_EFFECTS)
    for one, other in (("Action", "NotAction"), ("Resource", "NotResource")):
        if draw(st.booleans()):
            raw.pop(other, None)
            raw[one if draw(st.booleans()) else other] = draw(st.one_of(_STRINGS, st.lists(_STRINGS, max_size=4)))
    if draw(st.booleans()):
        raw["Sid"] = draw(st.one_of(_STRINGS, st.integers()))
    keys = list(raw)
    order = draw(st.permutations(keys))
    return {k: raw[k] for k in order}


def _both(raw, document=None):
    fast_problems: list = []
    checked_problems: list = []
    fast = model.build_statement("p.json", 3, raw, "/Statement/3", fast_problems, document)
    checked = model.checked_statement("p.json", 3, raw, "/Statement/3", checked_problems, document)
    return (fast, fast_problems), (checked, checked_problems)


@pytest.mark.slow
@settings(max_examples=examples(1500), deadline=None)
@given(statements(), st.sampled_from([None, 0, 2]))
def test_fast_statement_is_the_checked_statement(raw, document):
    (fast, fast_problems), (checked, checked_problems) = _both(raw, document)
    assert fast == checked
    assert fast_problems == checked_problems
    if fast is not None:  # fields dataclass equality does not compare by type
        assert fast.scalars == checked.scalars and type(fast.actions) is type(checked.actions)


def test_usual_statements_take_the_fast_path(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the full checks ran")

    monkeypatch.setattr(model, "checked_statement", refuse)
    stmt = model.build_statement("p.json", 0, {"Sid": "A", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                                          "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
                            "/Statement/0", [], None)
    assert stmt is not None and stmt.actions == ("s3:GetObject", "s3:PutObject") and stmt.resources == ("*",)
    assert stmt.scalars == frozenset({"Resource"}) and stmt.not_actions is None and stmt.not_resources is None
    stmt = model.build_statement("p.json", 1, {"Effect": "Deny", "NotAction": "iam:*", "NotResource": ["a", "b"]},
                            "/Statement/1", [], 4)
    assert stmt is not None and stmt.not_actions == ("iam:*",) and stmt.not_resources == ("a", "b")
    assert stmt.scalars == frozenset({"NotAction"}) and stmt.document == 4 and stmt.sid is None


def test_condition_values_exactly():
    doc = {"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {
        "StringEquals": {"a": "x", "b": ["x", "y"], "c": 1, "d": [1, "x", True], "e": False, "f": 1.50, "g": []},
        "Bool": "no"}}}
    (policy,) = parse_policies(json.dumps(doc), "p.json")
    assert policy.statements[0].conditions == (
        Condition("StringEquals", "a", ("x",)), Condition("StringEquals", "b", ("x", "y")),
        Condition("StringEquals", "c", ("1",)), Condition("StringEquals", "d", ("1", "x", "true")),
        Condition("StringEquals", "e", ("false",)), Condition("StringEquals", "f", ("1.5",)),
        Condition("StringEquals", "g", ()))
    assert [p.message for p in policy.problems] == ['condition operator "Bool" must map keys to values']


def test_repeated_keys_keep_the_first_value_at_every_level():
    text = ('{"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Action": "iam:*", "Resource": "*"}],'
            ' "Version": "2012-10-17", "Statement": []}')
    (policy,) = parse_policies(text, "p.json")
    assert [s.actions for s in policy.statements] == [("s3:GetObject",)]
    assert [(p.pointer, p.message) for p in policy.problems] == [
        ("/Statement", 'key "Statement" appears twice; IAM rejects duplicate keys'),
        ("/Statement/0/Action", 'key "Action" appears twice; IAM rejects duplicate keys')]
