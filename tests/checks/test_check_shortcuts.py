"""The checks' shortcuts (issue 18) against the code they replace: the same hits, in the same order,
with the same work counted (a check that stops at its limit stops at the same entry)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor import awsdata, budget, catalogue, engine
from auditor.automata import literal_ends
from auditor.budget import StartIndex, Work
from auditor.checks import duplicate_resource
from auditor.checks.base import Context
from auditor.checks.common import has_variable, literal_runs, policy_start, requirement_start
from auditor.evaluate import ActionIndex
from auditor.globs import NAME_START, as_requirement, covers, policy_pattern, requirement_pattern
from auditor.model import parse_policy
from auditor.report import Hit, Settings, Target

CAT = catalogue.load()
SETTINGS = Settings("demo", False, None, ("dev",), "5", ("core", "prewarm"))


def _ctx(*docs) -> Context:
    policies = tuple(parse_policy(json.dumps(d), f"p{n}.json") for n, d in enumerate(docs))
    plan = engine.plan_for(SETTINGS, CAT)
    statements = tuple(s for p in policies for s in p.statements)
    return Context(Target("file", "p.json", policies), SETTINGS, CAT, plan.requirements, plan.needed, (), statements,
                   ActionIndex(statements, plan.universe))


def _hits(hits) -> list[tuple]:
    return [(h.message, h.subject, h.location.pointer, h.severity, h.fix) for h in hits]


def _run(check, ctx) -> list[tuple] | type:
    """A check's hits, or the exception it raised (the engine reports that as internal-error)."""
    try:
        return _hits(list(check(ctx)))
    except Exception as e:  # noqa: BLE001 - both ways must fail alike
        return type(e)


def _outcome(f, *args):
    try:
        return f(*args)
    except Exception as e:  # noqa: BLE001 - both ways must fail alike
        return type(e)


# --- literal starts without tokenising --------------------------------------------------------------

texts = st.text(alphabet="ab:/*?${}-\x1e\x1f+", max_size=14)


@settings(max_examples=3000, deadline=None)
@given(texts)
def test_starts_are_the_tokenisers(text):
    assert _outcome(requirement_start, text) == _outcome(lambda t: literal_ends(requirement_pattern(t))[0], text)
    assert policy_start(text) == policy_pattern(text).ends[0]
    assert has_variable(text) == policy_pattern(text).has_variable


@pytest.mark.parametrize("text", ["*", "**", "", "s3:get*", "s3:g?t*", "arn:aws:s3:::${aws:username}/*", "a${*}b*",
                                  "a\x1e*x\x1fb", "a$b*", "?"])
def test_starts_of_edge_cases(text):
    assert _outcome(requirement_start, text) == _outcome(lambda t: literal_ends(requirement_pattern(t))[0], text)
    assert policy_start(text) == policy_pattern(text).ends[0]
    assert has_variable(text) == policy_pattern(text).has_variable


# --- duplicate-resource -----------------------------------------------------------------------------

def _duplicate_resource_as_it_was(ctx: Context) -> Iterator[Hit]:
    rule = duplicate_resource.RULE_ID
    work = Work()
    for stmt in ctx.statements:
        element = stmt.resource_element
        entries = stmt.resource_patterns
        wild = StartIndex((policy_pattern(o).ends[0], j, (j, o)) for j, o in enumerate(entries)
                          if ("*" in o or "?" in o) and not policy_pattern(o).has_variable)
        listed: set[str] = set()
        for i, res in enumerate(entries):
            if res in listed:
                yield Hit(f'"{res}" is listed twice in {stmt.label}', res, stmt.element_location(element, i),
                          fix=f'delete the second "{res}"')
                continue
            listed.add(res)
            if not wild or work.exhausted or res == "*" or policy_pattern(res).has_variable:
                continue
            inner = as_requirement(res)
            if inner is None:
                continue
            found, looked = wild.candidates(literal_ends(requirement_pattern(res))[0])
            if not work.spend(1 + looked):
                what = f"the Resource entries from {stmt.element_pointer(element, i)} on (and later statements') were"
                yield work.stopped(rule, what, stmt.element_location(element, i))
                continue
            container = next((o for j, o in found if j != i and o != res and covers(inner, o)), None)
            if container:
                yield Hit(f'"{res}" in {stmt.label} is already contained in "{container}"', res,
                          stmt.element_location(element, i), "info", fix=f'delete "{res}" or narrow "{container}"')


RESOURCES = ["*", "arn:aws:s3:::demo-*", "arn:aws:s3:::demo-x/*", "arn:aws:s3:::demo-x", "arn:aws:s3:::*", "arn:aws:s3:::*/*",
             "arn:aws:s3:::demo-?/*", "arn:aws:s3:::${aws:username}/*", "arn:aws:s3:::a${*}b", "arn:aws:lambda:*:*:function:demo-*",
             "arn:aws:*:*:*:*", "arn:aws:s3:::demo-x/a.txt", "arn:aws:s3:::$x*", "arn:aws:s3:::a\x1e*b\x1f*", "arn:aws:s3:::a\x1e*b"]


@pytest.mark.parametrize("limit", [budget.MAX_COMPARISONS, 7, 20, 60])
def test_duplicate_resource_as_it_was(monkeypatch, limit):
    monkeypatch.setattr(budget, "MAX_COMPARISONS", limit)
    rng = random.Random(18 + limit)
    seen: set[str] = set()
    for _ in range(300):
        statements = []
        for _ in range(rng.randint(1, 5)):
            key = rng.choice(["Resource", "Resource", "NotResource"])
            statements.append({"Effect": "Allow", "Action": "s3:GetObject", key: rng.choices(RESOURCES, k=rng.choice([1, 1, 2, 3, 5]))})
        ctx = _ctx({"Version": "2012-10-17", "Statement": statements})
        found = _run(duplicate_resource.check, ctx)
        assert found == _run(_duplicate_resource_as_it_was, ctx), statements
        seen.update(["raised"] if isinstance(found, type) else ["stopped" if "stopped after" in h[0] else h[3] for h in found])
    assert seen >= {None, "info", "raised"} | ({"stopped"} if limit < 50 else set())


# --- wildcard-resource: scopable of one action ------------------------------------------------------

@pytest.mark.parametrize("action", ["s3:GetObject", "S3:getobject", "logs:DescribeLogGroups", "s3:NoSuchThing", "nosuch:Thing",
                                    "iam:PassRole", "ec2:DescribeSubnets", "lambda:CreateEventSourceMapping", "s3"])
def test_scopable_of_one_action(action):
    expansion = awsdata.expand(action)
    assert (expansion if expansion and awsdata.resource_formats(expansion[0]) else ()) == awsdata.scopable(action)


patterns = st.text(alphabet="ab:/*?-$\x00\x1e\x1f", max_size=10)


@settings(max_examples=4000, deadline=None)
@given(patterns, patterns)
def test_a_missing_literal_run_refutes_containment(res, pattern):
    runs = literal_runs(pattern)
    inner = as_requirement(res)
    if runs is None or inner is None or NAME_START in res or all(run in res for run in runs):
        return
    assert _outcome(covers, inner, pattern) is False


@pytest.mark.parametrize("res, pattern, contained", [("arn:aws:ec2:*:*:security-group/*", "arn:aws:ec2:*:*:subnet/*", False),
                                                     ("arn:aws:s3:::demo-x/a", "arn:aws:s3:::demo-?/*", True),
                                                     ("arn:aws:s3:::a*b", "arn:aws:s3:::a*", True), ("a?b", "a*b", True)])
def test_literal_runs_of_entries(res, pattern, contained):
    assert covers(as_requirement(res), pattern) == contained
    assert all(run in res for run in literal_runs(pattern)) == contained


# --- resource-type-mismatch: globs with other numbers of colons are not asked ---------------------

globs_ = st.text(alphabet="a:*?/", max_size=9)


@settings(max_examples=4000, deadline=None)
@given(globs_, globs_)
def test_colon_counts_refute_strict_overlaps(a, b):
    from auditor.checks.resource_type_mismatch import _colons
    from auditor.globs import strict_overlaps

    n, m = _colons(a), _colons(b)
    if n >= 0 and m >= 0 and n != m:
        assert not strict_overlaps(a, b)


FORMATS = ["arn:${Partition}:s3:::${BucketName}", "arn:${Partition}:s3:::${BucketName}/${ObjectName}",
           "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}",
           "arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}", "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}"]
FITTED = ["*", "arn:aws:s3:::demo-*", "arn:aws:s3:::demo-x/*", "arn:aws:s3:::*/*", "arn:aws:logs:*:*:log-group:demo-*:*",
          "arn:aws:logs:*:*:log-group:demo-*:*:*", "arn:aws:lambda:*:*:function:*", "arn:aws:lambda:*:*:function:demo:1",
          "arn:aws:**", "arn:aws:iam::*:role/demo-*", "arn:aws:*:*:*:*", "arn:*", "arn:aws:s3:::a:b"]


def test_formats_fit_as_it_was():
    from auditor.arn import format_globs
    from auditor.checks.resource_type_mismatch import _formats_fit
    from auditor.globs import strict_overlaps

    rng = random.Random(18)
    seen = set()
    for _ in range(2000):
        formats = tuple(rng.sample(FORMATS, rng.randint(1, 3)))
        resources = tuple(rng.sample(FITTED, rng.randint(1, 3)))
        expected = any(strict_overlaps(g, r) for f in formats for g in format_globs(f) for r in resources)
        assert _formats_fit(formats, resources) == expected, (formats, resources)
        seen.add(expected)
    assert seen == {True, False}


# --- invalid-condition: a key the service lists matches itself --------------------------------------

def test_every_condition_key_of_the_data_matches_itself():
    keys = [k for service in sorted(awsdata.service_names()) for k in awsdata.service_condition_keys(service)]
    assert len(keys) > 1000
    assert all(awsdata.condition_key_matches(k, k) for k in keys)


@pytest.mark.parametrize("key", ["s3:prefix", "S3:Prefix", "s3:x-amz-acl", "s3:nosuchkey", "ec2:ResourceTag/Name",
                                 "ec2:resourcetag/${TagKey}", "lambda:FunctionArn", "iam:PassedToService", "iam:nope"])
def test_service_key_as_it_was(key):
    from auditor.checks.invalid_condition import _service_key

    known = awsdata.service_condition_keys(key.partition(":")[0])
    assert _service_key(key) == any(awsdata.condition_key_matches(k, key) for k in known)


# --- unknown-action: a known action has no problem --------------------------------------------------

@pytest.mark.parametrize("service", ["s3", "lambda", "iam", "ec2", "logs", "cloudformation"])
def test_known_actions_have_no_problem(service):
    from auditor.checks.unknown_action import problem

    for name in awsdata.service_actions(service).values():
        for spelling in (f"{service}:{name.name}", f"{service.upper()}:{name.name.lower()}"):
            assert awsdata.action_exists(spelling) and problem(spelling, frozenset({service}), True) is None
