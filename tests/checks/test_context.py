"""What a check sees: a read-only Context, and patterns rendered from the catalogue."""

from __future__ import annotations

import dataclasses

import pytest

from auditor.catalogue import Naming
from auditor.checks import duplicate_sid
from tests.checks.conftest import allow


@pytest.fixture
def seen(findings, monkeypatch):
    """The Context one check is given, on a policy of one statement."""
    contexts = []

    def spy(ctx):
        contexts.append(ctx)
        return iter(())

    monkeypatch.setattr(duplicate_sid, "check", spy)
    findings("duplicate-sid", allow("lambda:InvokeFunction", "arn:aws:lambda:*:*:function:demo-dev-*"))
    (ctx,) = contexts
    return ctx


def test_a_check_cannot_write_to_what_the_others_see(seen):
    with pytest.raises(dataclasses.FrozenInstanceError):
        seen.needed = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        seen.needed["lambda:invokefunction"] = "x"  # type: ignore[index]
    assert not hasattr(seen, "memo")


def test_rendered_patterns_come_from_the_catalogue(seen, cat):
    naming = Naming("*", "*", "5")
    expected = tuple(sorted({res for req, res in cat.rendered(naming) if req.action == "lambda:InvokeFunction"}))
    assert seen.rendered(["Lambda:InvokeFunction"], project="*") == expected
    assert expected == ("arn:aws:lambda:*:*:function:*-*-*", "arn:aws:lambda:*:*:function:*-*-jets-base-path")
    assert seen.rendered(["lambda:InvokeFunction"]) == ("arn:aws:lambda:*:*:function:demo-*-*",
                                                        "arn:aws:lambda:*:*:function:demo-*-jets-base-path")
    assert seen.statements_naming("lambda:invokefunction") == list(seen.statements)
    assert seen.needed_by(seen.statements[0]) == ["lambda:InvokeFunction"]


def test_catalogue_rendered_is_select_then_render(cat):
    naming = Naming("demo", "prod", "5", "us-east-1", "123456789012")
    features = ("core", "prewarm")
    assert cat.rendered(naming, features) == tuple((r, naming.render(r.resource)) for r in cat.select("5", features))
    every = cat.rendered(naming, None, {"lambda:invokefunction"})
    assert every and {r.action for r, _ in every} == {"lambda:InvokeFunction"}
    assert len(every) > len(cat.rendered(naming, features, {"lambda:invokefunction"}))  # other features need it too
