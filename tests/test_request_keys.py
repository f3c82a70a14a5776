"""Every condition key AWS documents for an action the catalogue requires has a decision in the request
Jets sends (rules/request-context.toml): present with a value, present with a value the audit cannot
know, absent, each with its evidence, or unknown for a named reason ([reasons]). A pair with neither
fails here, so "unknown" is never the audit's default for a key it could know."""

from __future__ import annotations

import re
import shutil
import tomllib

import pytest

from auditor import catalogue
from auditor.conditions import Unknown
from auditor.context import keys_taken

CAT = catalogue.load()
GLOBAL_KEYS = tuple(tomllib.loads((catalogue.rules_dir() / "global-condition-keys.toml").read_text(encoding="utf-8"))["keys"])
VERSIONS = {"jets3-5": ("3", "4", "5"), "jets6": ("6",)}


def concrete(key: str) -> tuple[str, ...]:
    """A documented key as the keys a request may hold: a tag key both as a user's tag and as one of
    CloudFormation's aws:* tags, other placeholders as one name."""
    if "${TagKey}" in key or "<key>" in key or key.endswith("/tag-key"):
        stem = re.sub(r"(\$\{TagKey\}|<key>|tag-key)$", "", key)
        return (stem + "Owner", stem + "aws:cloudformation:stack-name")
    return (re.sub(r"\$\{[^}]*\}|<[^>]*>", "X", key),)


def requests(cat) -> tuple[tuple[str, str, str, str, str, tuple[str, ...]], ...]:
    """(action, resource template, caller, feature, version, passed_to) of every requirement, once."""
    out = set()
    for req in cat.requirements:
        line = "jets6" if req.releases.low[0] >= 6 else "jets3-5"
        for version in VERSIONS[line]:
            if cat.version(version).selects(req.releases):
                out.add((req.action, req.resource, req.caller, req.feature, version, req.passed_to))
    return tuple(sorted(out))


def undecided(cat) -> list[str]:
    """Each (request, key) pair that has no decision, or is unknown without a named reason."""
    out = []
    rules = cat.contexts
    for action, resource, caller, feature, version, passed_to in requests(cat):
        extra = {"iam:PassedToService": passed_to} if passed_to else None  # as the engine gives it
        documented = [k for known in (*keys_taken(action.lower()), *GLOBAL_KEYS) for k in concrete(known)]
        for features in ({"core", feature}, set(cat.feature_ids)):
            for key in dict.fromkeys(documented):
                found = rules.explain(action, resource, caller, key, features=sorted(features), version=version,
                                     extra=extra)
                if found.source is None:
                    out.append(f"{action} {caller} v{version} {key}: no decision")
                elif isinstance(found.value, Unknown) and found.reason is None:
                    out.append(f"{action} {caller} v{version} {key}: unknown without a named reason ({found.source})")
    return sorted(set(out))


@pytest.mark.slow
def test_every_documented_key_of_every_required_action_is_decided():
    assert undecided(CAT) == []


@pytest.mark.slow
def test_a_pair_without_a_decision_fails(tmp_path):
    """The test can fail: without the gem layer's entry lambda:Layer is undecided, and a bare "unknown"
    (no named reason) is refused too."""
    rules = tmp_path / "rules"
    shutil.copytree(catalogue.rules_dir(), rules)
    path = rules / "request-context.toml"
    text = path.read_text(encoding="utf-8")
    layer = '"lambda:Layer" = ["arn:{partition}:lambda:{region}:{account}:layer:{env}-{project}-gems:{*version}"]\n'
    assert layer in text
    path.write_text(text.replace(layer, layer.replace("lambda:Layer", "lambda:Layers")).replace('"aws:SourceIp" = { unknown = "client-network" }',
                                                     '"aws:SourceIp" = "unknown"'), encoding="utf-8")
    found = undecided(catalogue.load(rules))
    assert "lambda:CreateFunction cloudformation v5 lambda:Layer: no decision" in found
    assert "s3:PutObject cli v5 aws:SourceIp: unknown without a named reason (caller.cli)" in found
