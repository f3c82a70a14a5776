"""Work linear in the input (README, "Limits"): the checks that compared a statement's entries pair by
pair look candidates up by literal start and count what they still compare; "did you mean" is
bounded; wildcard expansions are counted. Each construction is fed at a size that used to take
minutes, and the test counts the work (calls to the comparison, comparisons spent), never the time."""

from __future__ import annotations

import json
import random

import pytest

from auditor import awsdata, budget, catalogue, engine
from auditor.checks import (
    cross_policy_duplicate,
    duplicate_resource,
    redundant_action,
    unknown_action,
    wildcard_action,
)
from auditor.checks.base import Context
from auditor.evaluate import ActionIndex
from auditor.globs import covers, match_classes
from auditor.model import parse_policy
from auditor.report import Settings, Target

CAT = catalogue.load()
SETTINGS = Settings("demo", False, None, ("dev",), "5", ("core", "prewarm"))


def _ctx(*docs):
    policies = tuple(parse_policy(json.dumps(d), f"p{n}.json") for n, d in enumerate(docs))
    plan = engine.plan_for(SETTINGS, CAT)
    statements = tuple(s for p in policies for s in p.statements)
    return Context(Target("file", "p.json", policies), SETTINGS, CAT, plan.requirements, plan.needed, (), statements,
                   ActionIndex(statements, plan.universe))


def _doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(action, resource):
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def _counting(monkeypatch, module, name="covers"):
    calls = []
    real = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_thousands_of_resource_entries_are_compared_through_the_index(monkeypatch):
    n = 3000
    resources = [f"arn:aws:s3:::demo-{i}-*" for i in range(n)] + [f"arn:aws:s3:::demo-{i}-x" for i in range(n)]
    calls = _counting(monkeypatch, duplicate_resource)
    hits = list(duplicate_resource.check(_ctx(_doc(_allow("s3:GetObject", resources)))))
    assert len(hits) == n
    assert hits[1234].message == '"arn:aws:s3:::demo-1234-x" in Statement[0] is already contained in "arn:aws:s3:::demo-1234-*"'
    assert hits[1234].location.pointer == f"/Statement/0/Resource/{n + 1234}"
    assert len(calls) == n  # one comparison per concrete entry: the only wildcard whose literal start begins its own


@pytest.mark.slow
def test_resource_entries_that_share_one_start_stop_at_the_budget(monkeypatch):
    n = 2000  # every wildcard starts "arn:aws:s3:::*": pair by pair, 8 million comparisons
    resources = [f"arn:aws:s3:::*-{i}-*" for i in range(n)] + [f"arn:aws:s3:::q-{i}-q" for i in range(n)]
    calls = _counting(monkeypatch, duplicate_resource)
    hits = list(duplicate_resource.check(_ctx(_doc(_allow("s3:GetObject", resources)))))
    stop = 200_000 // (n + 1)  # each entry costs its look-up and the n wildcards it finds
    assert [(h.severity, h.subject, h.location.pointer, h.message) for h in hits] == [
        ("info", "duplicate-resource", f"/Statement/0/Resource/{stop}",
         "duplicate-resource stopped after 200,000 comparisons (a per-check work limit, see the README's Limits): the "
         f"Resource entries from /Statement/0/Resource/{stop} on (and later statements') were not compared")]
    assert len(calls) <= budget.MAX_COMPARISONS


@pytest.mark.slow
def test_tens_of_thousands_of_wildcard_actions_are_compared_through_the_index(monkeypatch):
    n = 20_000
    calls = _counting(monkeypatch, redundant_action)
    hits = list(redundant_action.check(_ctx(_doc(_allow([f"s3:Get{i}*" for i in range(n)], "arn:aws:s3:::demo-x")))))
    # "s3:Get12*" is granted by "s3:Get1*": every entry from 10 on, by the wildcard of its first digit
    assert len(hits) == n - 10
    assert hits[0].message == '"s3:Get10*" in Statement[0] is already granted by "s3:Get1*" in the same statement'
    assert hits[-1].message == f'"s3:Get{n - 1}*" in Statement[0] is already granted by "s3:Get1*" in the same statement'
    assert len(calls) == n - 10  # the first candidate of each entry settles it


@pytest.mark.slow
def test_wildcards_that_share_one_start_stop_at_the_budget(monkeypatch):
    monkeypatch.setattr(budget, "MAX_COMPARISONS", 50_000)
    n = 20_000  # "s3:*N" all start "s3:": every concrete action finds all of them
    actions = [f"s3:*{i}" for i in range(n)] + [f"s3:Get{i}" for i in range(n)]
    calls = _counting(monkeypatch, redundant_action)
    hits = list(redundant_action.check(_ctx(_doc(_allow(actions, "arn:aws:s3:::demo-x")))))
    assert hits[-1].severity == "info" and hits[-1].subject == "redundant-action"
    assert hits[-1].message.startswith("redundant-action stopped after 50,000 comparisons (a per-check work limit, "
                                       "see the README's Limits): the Action entries from /Statement/0/Action/")
    assert len(calls) <= 50_000


def _pairwise(statements):
    """redundant-action as it was: every action against every wildcard of every statement."""
    out = []
    for stmt in statements:
        for i, action in enumerate(stmt.actions):
            if action.strip("*") == "":
                continue
            low = action.lower()
            for other in statements:
                if other.effect != stmt.effect or (other.conditions and other.conditions != stmt.conditions):
                    continue
                if not all(r in other.resources or "*" in other.resources
                           or (all(any(v) for v in match_classes(r, tuple(other.resources)))
                               and match_classes(r, tuple(other.resources))) for r in stmt.resources):
                    continue
                wild = [w for w in other.actions if "*" in w or "?" in w]
                general = [w for w in wild if any(c in w.partition(":")[0] for c in "*?")]
                own = [w for w in wild if w not in general and w.partition(":")[0].lower() == low.partition(":")[0]]
                found = next((w for w in own + general if w.lower() != low and covers(low, w.lower())), None)
                if found:
                    out.append((stmt.index, i, action, found, other.index))
                    break
    return out


def test_the_index_finds_what_the_pairwise_search_found():
    rng = random.Random(14)
    actions = ["s3:*", "s3:Get*", "s3:GetObject", "s3:G?tObject", "S3:getobject", "*", "s3*:Get*", "*:Get*", "*:*Object",
               "lambda:*", "lambda:Get*", "lambda:GetFunction", "s3:PutObject", "s3:Get?bject", "s3:Ge*", "s3:GetObj*"]
    resources = ["*", "arn:aws:s3:::demo-*", "arn:aws:s3:::demo-x/*", "arn:aws:s3:::demo-x", "arn:aws:s3:::*",
                 "arn:aws:s3:::demo-x/a*", "arn:aws:s3:::demo-?/*", "arn:aws:s3:::demo-x/a.txt", "arn:aws:s3:::*/a.txt",
                 "arn:aws:lambda:*:*:function:demo-*", "arn:aws:*:*:*:*"]
    for _ in range(400):
        statements = [{"Effect": rng.choice(["Allow", "Allow", "Deny"]), "Action": rng.sample(actions, rng.randint(1, 5)),
                       "Resource": rng.sample(resources, rng.randint(1, 2))} for _ in range(rng.randint(1, 4))]
        plain = redundant_action.plain(parse_policy(json.dumps(_doc(*statements)), "p.json").statements)
        found = [(s.index, i, a, w, o.index) for s, i, a, w, o in
                 redundant_action.redundant(plain, redundant_action.wildcards(plain), budget.Work())]
        assert found == _pairwise(plain), statements


def test_many_policies_stop_at_the_budget(monkeypatch):
    monkeypatch.setattr(budget, "MAX_COMPARISONS", 30_000)
    docs = [_doc(_allow(["s3:GetObject", "s3:Get*"], f"arn:aws:s3:::b{n}")) for n in range(400)]  # 159,600 pairs
    calls = _counting(monkeypatch, cross_policy_duplicate, "redundant")
    hits = list(cross_policy_duplicate.check(_ctx(*docs)))
    assert [(h.severity, h.subject) for h in hits] == [("info", "cross-policy-duplicate")]
    assert hits[0].message.startswith("cross-policy-duplicate stopped after 30,000 comparisons")
    assert len(calls) <= 30_000 // 3


@pytest.mark.slow
def test_did_you_mean_is_bounded(monkeypatch):
    import difflib

    awsdata.close_actions.cache_clear()
    calls = _counting(monkeypatch, difflib, "get_close_matches")
    n = 20_000
    actions = [f"ec2:DescribeInstancez{i}" for i in range(n)] + ["ec2:DescribeInstances" + "z" * 100]
    hits = list(unknown_action.check(_ctx(_doc(_allow(actions, "*")))))
    assert len(hits) == n + 1
    assert hits[0].message == ('"ec2:DescribeInstancez0" is not a ec2 action (did you mean ec2:DescribeInstances, '
                               'ec2:DescribeInstanceTypes, ec2:DescribeInstanceStatus?)')
    assert hits[0].fix == 'use "ec2:DescribeInstances"'
    assert hits[unknown_action.MAX_SUGGESTIONS].message == (
        f'"ec2:DescribeInstancez{unknown_action.MAX_SUGGESTIONS}" is not a ec2 action')
    assert hits[unknown_action.MAX_SUGGESTIONS].fix == "correct or remove the entry"
    assert len(calls) == unknown_action.MAX_SUGGESTIONS  # each suggested name once (problem and fix share it)
    awsdata.close_actions.cache_clear()
    assert awsdata.close_actions("ec2:DescribeInstances" + "z" * 100) == ()
    assert len(calls) == unknown_action.MAX_SUGGESTIONS  # a name over 64 characters is not compared at all


@pytest.mark.slow
def test_service_wildcard_expansions_are_counted(monkeypatch):
    monkeypatch.setattr(wildcard_action, "MAX_SCANNED", 400_000)
    calls = _counting(monkeypatch, awsdata, "expand")
    n = 20_000  # each "*:Describe*N" looks at every action of every service
    hits = list(wildcard_action.check(_ctx(_doc(_allow([f"*:Describe*{i}" for i in range(n)], "*")))))
    per = awsdata.scan_size("*:Describe*0")
    assert per > 10_000  # every service's actions
    stop = 400_000 // per
    assert hits[-1].location.pointer == f"/Statement/0/Action/{stop}"
    assert hits[-1].message == ("wildcard-action stopped after 400,000 action names looked at (a per-check work limit, "
                                f"see the README's Limits): the Action entries from /Statement/0/Action/{stop} on were "
                                "not expanded")
    assert len(calls) == stop


@pytest.mark.parametrize(("pattern", "size"), [("s3:GetObject", 1), ("s3:Get*", "s3"), ("s3:*", "s3"),
                                                ("s3*:GetObject", "s3*"), ("*", "all")])
def test_scan_size(pattern, size):
    services = sorted(awsdata.service_names())
    expected = {1: 1, "s3": len(awsdata.service_actions("s3")), "s3*": len([s for s in services if s.startswith("s3")]),
                "all": sum(len(awsdata.service_actions(s)) for s in services)}[size]
    assert awsdata.scan_size(pattern) == expected
