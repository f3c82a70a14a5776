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
             "arn:aws:*:*:*:*", "arn:aws:s3:::demo-x/a.txt", "arn:aws:s3:::$x*", "arn:aws:s3:::a\x1e*b\x1f*", "arn:aws:s3:::a\x1e*b",
             "arn:aws:s3:::a\x1fb*"]


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
    # no policy makes it raise: a Resource with a name-part mark (\x1e) is a pattern no requirement stands for
    assert seen >= {None, "info"} | ({"stopped"} if limit < 50 else set()) and "raised" not in seen


# --- duplicate-resource: a literal run the entry lacks ---------------------------------------------

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


# --- wildcard-resource: one action looked up once --------------------------------------------------

ODD = ["s3", "s3:", ":GetObject", "nosuch:Thing", "s3:NoSuchThing", "S3:getobject", "lambda:GetFunction ", "", "iam:PassRole:x"]


@pytest.mark.parametrize("service", ["s3", "logs", "ec2", "lambda", "iam"])
def test_known_action_is_expand_and_resource_formats(service):
    actions = [f"{service}:{a.name}" for a in awsdata.service_actions(service).values()]
    for action in actions + [a.upper() for a in actions[:50]] + [a.lower() for a in actions[:50]] + ODD:
        expansion = awsdata.expand(action)
        expected = (expansion[0], awsdata.resource_formats(expansion[0])) if expansion else None
        assert awsdata.known_action(action) == expected, action
        if expansion:
            assert (expansion if expected[1] else ()) == awsdata.scopable(action)


FITTED = ["*", "arn:aws:s3:::demo-*", "arn:aws:s3:::demo-x/*", "arn:aws:s3:::*/*", "arn:aws:logs:*:*:log-group:demo-*:*",
          "arn:aws:logs:*:*:log-group:demo-*:*:*", "arn:aws:lambda:*:*:function:*", "arn:aws:lambda:*:*:function:demo:1",
          "arn:aws:**", "arn:aws:iam::*:role/demo-*", "arn:aws:*:*:*:*", "arn:*", "arn:aws:s3:::a:b"]


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


# --- rendered patterns: only the catalogue's actions are looked up ----------------------------------

def test_rendered_patterns_of_the_catalogues_actions_alone():
    from auditor.catalogue import Naming
    from auditor.checks.base import RenderedPatterns, catalogue_actions

    rng = random.Random(18)
    known = sorted(catalogue_actions(CAT))
    others = ["s3:GetObject", "ec2:RunInstances", "lambda:GetFunction", "nosuch:Thing", "S3:PUTOBJECT", "iam:PassRole"]
    for _ in range(200):
        actions = rng.sample(known, rng.randint(0, 12)) + rng.sample(others, rng.randint(0, 4))
        actions = [a.upper() if rng.random() < 0.2 else a for a in actions]
        project, env = rng.choice([(None, "*"), (None, "dev"), ("*", "*")])
        naming = Naming(project or SETTINGS.prefix, env, SETTINGS.jets_version, SETTINGS.region, SETTINGS.account)
        expected = CAT.rendered_resources(naming, frozenset(a.lower() for a in actions))
        assert RenderedPatterns(CAT, SETTINGS).get(actions, project, env) == expected


# --- resource-type-mismatch and wildcard-resource as they were, on random policies -----------------

def _resource_type_mismatch_as_it_was(ctx: Context) -> Iterator[Hit]:
    from auditor.arn import evaluated_as
    from auditor.checks import resource_type_mismatch as m
    from auditor.checks.common import summarise

    def fits(action, resources):
        formats = awsdata.resource_formats(action) or ()
        if not formats:
            return False, ()
        return m._formats_fit(formats, resources), formats

    need = ctx.needed
    work = Work(budget.MAX_SCANNED)
    for stmt in ctx.statements:
        if stmt.effect != "Allow" or stmt.resources is None or stmt.actions is None or "*" in stmt.resources:
            continue
        if any(policy_pattern(r).has_variable for r in stmt.resources):
            continue
        for i, pattern in enumerate(stmt.actions):
            wildcard = "*" in pattern or "?" in pattern
            expansion = work.expand(pattern) if wildcard else ()
            if expansion is None:
                yield work.stopped_at(m.RULE_ID, stmt, "Action", i)
                return
            actions = [a for a in expansion if a.lower() in need] if wildcard else (
                [awsdata.action_name(pattern)] if awsdata.action_exists(pattern) else [])
            bad = []
            for action in actions:
                ok, formats = fits(action, stmt.resources)
                if not ok and not m._grants_jets(ctx, action, stmt.resources):
                    bad.append((action, formats))
            if not bad:
                continue
            action, formats = bad[0]
            what = f"takes {summarise(formats, 2)}" if formats else 'takes no resource ARN (only "*")'
            evaluated = [e for e in map(evaluated_as, formats) if e]
            if evaluated:
                what += f", which AWS evaluates as {summarise(evaluated, 2)}"
            if wildcard:
                message = (f'"{pattern}": {summarise([b[0] for b in bad], 3)}, which Jets needs, '
                           f"{'do' if len(bad) > 1 else 'does'} not fit any Resource of {stmt.label} ({action} {what})")
            else:
                message = f'"{action}" {what}, and no Resource of {stmt.label} is one: it grants nothing here'
            fix = 'add "*" for it in a statement of its own' if not formats else f"add an ARN of the form {formats[0]}"
            yield Hit(message, pattern, stmt.element_location("Action", i), fix=fix)


def _wildcard_resource_as_it_was(ctx: Context) -> Iterator[Hit]:
    from auditor.checks.common import summarise
    from auditor.checks.wildcard_resource import RULE_ID

    work = Work(budget.MAX_SCANNED)
    for stmt in ctx.statements:
        if stmt.effect != "Allow" or stmt.resources is None or "*" not in stmt.resources:
            continue
        scoped: list[str] = []
        concrete: set[str] = set()
        for i, pattern in enumerate(stmt.actions or ()):
            expansion = work.expand(pattern)
            if expansion is None:
                yield work.stopped_at(RULE_ID, stmt, "Action", i)
                return
            scopable = awsdata.scopable(pattern)
            if not scopable:
                continue
            concrete.update(scopable)
            if len(expansion) == 1:
                scoped.append(expansion[0])
            else:
                scoped.append(f"{pattern} ({len(scopable)} actions)")
        if not scoped:
            continue
        index = stmt.resources.index("*")
        patterns = ctx.rendered(concrete, env=ctx.settings.envs[0])
        fix = ("scope to " + ", ".join(f'"{p}"' for p in patterns if p != "*")) if patterns else "scope to the ARNs the actions need"
        yield Hit(f'{stmt.label} grants {len(scoped)} action entries on "*" that can be scoped to ARNs: {summarise(scoped)}',
                  stmt.label, stmt.element_location("Resource", index), fix=fix)


ACTIONS = ["s3:GetObject", "S3:getobject", "s3:Get*", "s3:*Object", "lambda:GetFunction", "lambda:*", "logs:DescribeLogGroups",
           "logs:CreateLogGroup", "iam:PassRole", "iam:Get*", "cloudformation:DescribeStacks", "s3:NoSuchThing", "nosuch:Thing",
           "s3", "ec2:DescribeSubnets", "lambda:CreateEventSourceMapping", "s3:Put?bject", "apigateway:*", "*:GetObject"]
MIXED = FITTED + ["*", "arn:aws:s3:::${aws:username}/*", "arn:aws:s3:::a${*}b", "arn:aws:lambda:us-east-1:123456789012:function:demo-dev-x"]


@pytest.mark.parametrize("limit", [budget.MAX_SCANNED, 3, 700])
def test_resource_checks_as_they_were(monkeypatch, limit):
    from auditor.checks import resource_type_mismatch, wildcard_resource

    monkeypatch.setattr(budget, "MAX_SCANNED", limit)
    monkeypatch.setattr(resource_type_mismatch, "MAX_SCANNED", limit)
    monkeypatch.setattr(wildcard_resource, "MAX_SCANNED", limit)
    rng = random.Random(limit)
    seen: set[str] = set()
    for _ in range(150):
        statements = [{"Effect": rng.choice(["Allow", "Allow", "Deny"]), "Action": rng.sample(ACTIONS, rng.randint(1, 6)),
                       "Resource": rng.sample(MIXED, rng.randint(1, 3))} for _ in range(rng.randint(1, 4))]
        ctx = _ctx({"Version": "2012-10-17", "Statement": statements})
        for new, old in ((resource_type_mismatch.check, _resource_type_mismatch_as_it_was),
                         (wildcard_resource.check, _wildcard_resource_as_it_was)):
            found = _run(new, ctx)
            assert found == _run(old, ctx), (new.__module__, statements)
            seen.update(f"{new.__module__}:{'stopped' if 'stopped after' in h[0] else 'hit'}" for h in found)
    assert {"auditor.checks.resource_type_mismatch:hit", "auditor.checks.wildcard_resource:hit"} <= seen
    if limit < 1000:
        assert {"auditor.checks.resource_type_mismatch:stopped", "auditor.checks.wildcard_resource:stopped"} <= seen


# --- redundant-action: the index's count stops once it is enough ------------------------------------

@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(alphabet="ab:", max_size=5), max_size=12), st.text(alphabet="ab:", max_size=7), st.integers(0, 14))
def test_looks_up_to_enough(starts, start, enough):
    index = StartIndex((s, n, n) for n, s in enumerate(starts))
    full = index.looks(start)
    cut = index.looks(start, enough)
    assert (cut >= enough) == (full >= enough)
    assert cut == full or cut >= enough


# --- unused-action: only the catalogue's actions are needed by a feature ----------------------------

def test_features_need_only_the_catalogues_actions():
    from auditor.checks.base import catalogue_actions

    known = catalogue_actions(CAT)
    others = [f"{s}:{a.name}" for s in ("s3", "lambda", "iam", "ec2") for a in awsdata.service_actions(s).values()]
    for version in ("5", "6", "5.0", "4"):
        try:
            CAT.version(version)
        except Exception:  # noqa: BLE001 - a version the catalogue does not cover
            continue
        assert all(CAT.feature_needing(version, a) is None for a in others if a.lower() not in known)
        assert any(CAT.feature_needing(version, a) for a in known)


# --- awsdata: expansions and their scopable actions, as they were ------------------------------------

WILDCARDS = ["s3:Get*", "S3:GET*", "s3:*", "s3:*Object", "s3:Get?bject", "s3:G*t*", "lambda:*", "logs:Describe*", "iam:*Role*",
             "*:GetObject", "s3*:Get*", "*", "*:*", "ec2:Describe*", "s3:NoSuch*", "nosuch:*", "s3:", "s3:Get**", "l*:get*"]


@pytest.mark.parametrize("pattern", WILDCARDS)
def test_expansions_as_they_were(pattern):
    from auditor.globs import name_matcher

    service, _, name = pattern.partition(":")
    if pattern.strip("*") == "":
        service, name = "*", "*"
    if "*" in service or "?" in service:
        fits_service = name_matcher(service)
        services = sorted(s for s in awsdata.service_names() if fits_service(s))
    else:
        services = [service.lower()]
    fits = name_matcher(name)
    expected = tuple(f"{svc}:{a.name}" for svc in services for key, a in awsdata.service_actions(svc).items() if fits(key))
    assert awsdata._expand_wildcard(pattern) == expected
    assert awsdata._scopable(pattern) == tuple(a for a in expected if awsdata.resource_formats(a))


# --- missing-action: every kind of row, as it was -----------------------------------------------------

def _missing_action_as_it_was(ctx: Context) -> Iterator[Hit]:
    from auditor.catalogue import shown_resource
    from auditor.checks.missing_action import CALLERS, _missing
    from auditor.evaluate import CONDITIONAL, DENIED, MISSING
    from auditor.model import Location

    first_source = ctx.target.sources[0] if ctx.target.sources else ctx.target.name
    whole = Location(first_source, "")  # one object for every finding about the whole target
    for row in ctx.coverage:
        if row.status not in (MISSING, DENIED, CONDITIONAL):
            continue
        if row.status == MISSING and row.unmet and not row.by_boundary:  # an Allow that matches, behind a Condition the request fails
            stmt = ctx.statement(row.unmet[0])
            because = "; ".join(note for note in row.notes if note.startswith(stmt.label)) or f"{stmt.label}: a condition"
            message = (f'"{row.action}" on {shown_resource(row.action, row.resource, row.match)} is not granted to the request '
                       f'{CALLERS.get(row.caller, row.caller)} makes ({because}): {row.reason}')
            fix = f'let the Condition of {stmt.label} hold for that request, or allow "{row.action}" without it'
            yield Hit(message, row.action, stmt.location("/Condition"), row.confidence, row.resource, row.feature, fix,
                      row.releases)
            continue
        if row.status == MISSING and (not row.allowed_by or row.by_boundary):
            message, fix = _missing(row.action, row.resource, row.match, row.reason, row.notes)
            yield Hit(message, row.action, whole, row.confidence, row.resource, row.feature, fix, row.releases)
            continue
        where = shown_resource(row.action, row.resource, row.match)
        if row.status == MISSING:  # a statement allows the action, but not on this resource
            stmt = ctx.statement(row.allowed_by[0])
            because = f" ({'; '.join(row.notes)})" if row.notes else ""  # e.g. a Resource too complex to compare
            message = f'"{row.action}" is allowed by {stmt.label} but not on {where}{because}: {row.reason}'
            fix = f'allow "{row.action}" on "{row.resource}" (or a pattern that matches it)'
            location = stmt.location("/Resource" if stmt.resources is not None else "/NotResource")
        elif row.status == DENIED:
            because = f" ({'; '.join(row.notes)})" if row.notes else ""
            message = f'"{row.action}" on {where} is denied by {", ".join(row.denied_by)}{because}: {row.reason}'
            fix = f'narrow the Deny so it leaves "{row.action}" on "{row.resource}"'
            location = ctx.statement(row.denied_by[0]).location() if row.denied_by else Location(first_source)
        elif row.denied_by:  # a Deny whose Condition the audit cannot decide
            because = "; ".join(row.notes) or "a condition"
            message = f'"{row.action}" on {where} may be denied ({because}): {row.reason}'
            fix = f'make sure the condition does not hold for the request {CALLERS.get(row.caller, row.caller)} makes'
            location = ctx.statement(row.denied_by[0]).location("/Condition")
        else:
            because = "; ".join(row.notes) or "a condition"
            message = f'"{row.action}" on {where} is not proven granted ({because}): {row.reason}'
            fix = f'make sure the condition holds for the request {CALLERS.get(row.caller, row.caller)} makes, or grant without it'
            location = ctx.statement(row.granted_by[0]).location() if row.granted_by else Location(first_source)
        # a requirement's confidence is the severity of its absence; an undecided condition is only info
        severity = "info" if row.status == CONDITIONAL else row.confidence
        yield Hit(message, row.action, location, severity, row.resource, row.feature, fix, row.releases)


def test_missing_action_as_it_was():
    import itertools

    from auditor.checks import missing_action

    doc = {"Version": "2012-10-17", "Statement": [
        {"Sid": "A", "Effect": "Allow", "Action": "lambda:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::other/*"},
        {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]}
    ctx = _ctx(doc)
    report = engine.run([ctx.target], SETTINGS, CAT)
    base = report.coverage[:6]
    refs = [s.ref for s in ctx.statements]
    rows = []
    for row, status, unmet, allowed, boundary, denied, granted, notes in itertools.product(
            base, ["missing", "denied", "conditional", "granted"], [(), (refs[0],)], [(), (refs[1],)], [False, True],
            [(), (refs[2],)], [(), (refs[0],)], [(), ("A: a note",), ("x", "y")]):
        rows.append(row._replace(status=status, unmet=unmet, allowed_by=allowed, by_boundary=boundary, denied_by=denied,
                                 granted_by=granted, notes=notes))
    ctx = Context(ctx.target, ctx.settings, ctx.catalogue, ctx.requirements, ctx.needed, tuple(rows), ctx.statements,
                  ctx.action_index)
    found = _run(missing_action.check, ctx)
    assert found == _run(_missing_action_as_it_was, ctx)
    assert len(found) > len(rows) // 2


def test_access_levels_are_access_level():
    actions = [a for p in WILDCARDS for a in awsdata.expand(p)][:20000] + ODD + ["S3:GETOBJECT", "s3:GetObject", "lambda:x"]
    assert awsdata.access_levels(actions) == [awsdata.access_level(a) for a in actions]
    assert awsdata.access_levels([]) == []
