"""Matching work is bounded by the lengths it compares, whatever the policy text (issue 14, item 1).

No decision builds a regular expression from policy text: patterns against strings run a bit-mask
automaton (automata.fullmatch, O(len(text) * len(glob))), patterns against patterns run the star table
(O(n * m)) or a product search with a budget (MAX_STATES product states and STEPS_PER_STATE automaton
steps each; past it the answer is GAVE_UP, read as "some", and the evaluator says so in a note).

These tests count work instead of timing it: every line the matching modules execute (globs, automata,
evaluate) is counted with sys.settrace, and the count is compared at size k and 2k. Quadratic work may
grow 4x when the input doubles; the test allows 4.5x plus a constant for the fixed cost of a decision.
Backtracking, or a search with no budget, grows far faster on these constructions (they are the ones
that kept 0.1 at 100% CPU for minutes with a policy of a few hundred bytes).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor import automata, evaluate, globs
from auditor.globs import MATCHES_SOME, covers, extent, gave_up, name_matcher, strict_overlaps, union_extent
from tests.conftest import audit_json, examples
from tests.test_names import BUCKET, ROLE, STACK

MODULES = (automata, globs, evaluate)
FILES = {module.__file__ for module in MODULES}
FIXED = 3_000  # lines a decision may cost whatever its size (caches filled, shortcuts tried)
LIMIT = 12_000_000  # lines no decision here may exceed: a search within its budget (20,000 states) takes up to about 7 million


class TooMuchWork(Exception):
    pass

# The adversarial constructions, each of size k: long literal runs, runs of `*a?`, runs of `?` around a
# star, region and account pins made of many stars.
CONSTRUCTIONS: dict[str, Callable[[int], tuple[str, str]]] = {
    "longlit": lambda k: ("arn:aws:s3:::" + "a" * (10 * k) + "*a" * k + "?" * k, "arn:aws:s3:::" + "a*" * k + "b"),
    "mixed": lambda k: ("*a?" * k + "*", "arn:*:**:" + "?*:" * k + "?"),
    "qs": lambda k: ("arn:aws:lambda:*:*:function:" + "?" * k + "*" + "?" * k, "arn:aws:lambda:*:*:function:" + "*?" * k + "*"),
    "region": lambda k: ("arn:aws:lambda:" + "us-*?" * k + ":*:function:*", "arn:aws:iam::" + "1*" * k + ":role/*"),
}
REQUIREMENTS = (
    BUCKET, ROLE, STACK,
    "arn:aws:lambda:us-east-1:123456789012:function:demo-dev-*",
    "arn:aws:s3:::demo-dev-s3bucket-*/jets/code/*",
    "arn:aws:iam::*:role/*",
)


def _clear_caches() -> None:
    for module in MODULES:
        for value in vars(module).values():
            clear = getattr(value, "cache_clear", None)
            if callable(clear):
                clear()


def work(decide: Callable[[], Any]) -> int:
    """Lines executed in the matching modules while `decide` runs (their caches emptied first)."""
    _clear_caches()
    count = 0

    def local(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        if event == "line":
            count += 1
            if count > LIMIT:
                raise TooMuchWork(f"more than {LIMIT:,} lines")
        return local

    def calls(frame: FrameType, event: str, arg: object) -> Any:
        return local if frame.f_code.co_filename in FILES else None

    sys.settrace(calls)
    try:
        decide()
    finally:
        sys.settrace(None)
    return count


def _decisions(requirement: str, a: str, b: str) -> Callable[[], Any]:
    def decide() -> None:
        extent(requirement, a)
        extent(requirement, b)
        union_extent(requirement, (a, b))
        covers(requirement, a)
        strict_overlaps(a, b)
        name_matcher(a.replace(":", ""))(b.replace(":", "").lower())
    return decide


def assert_at_most_quadratic(small: int, large: int, what: str) -> None:
    assert large <= 4.5 * small + FIXED, f"{what}: {small:,} lines at size k, {large:,} at 2k"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CONSTRUCTIONS))
@pytest.mark.parametrize("requirement", REQUIREMENTS)
def test_constructions_grow_at_most_quadratically(name, requirement):
    build = CONSTRUCTIONS[name]
    for k in (8, 16, 32):
        small = work(_decisions(requirement, *build(k)))
        large = work(_decisions(requirement, *build(2 * k)))
        assert_at_most_quadratic(small, large, f"{name} k={k}")


@pytest.mark.slow  # each search runs to its budget under the tracer
@pytest.mark.parametrize("requirement", [BUCKET, ROLE, STACK])
def test_a_subset_blowup_stays_within_the_search_budget(requirement):
    """`*a` then n `?`: a search must remember which of the last n characters were an "a", 2^n sets of
    positions (4x the work for every 2 more `?`: 33 million lines at n=12 without the budget). With
    MAX_STATES it gives up within LIMIT, at every n, and says it did."""
    text = requirement.pieces[0]  # the literal text before its first name part
    head = text[:text.index("demo-dev-") + len("demo-dev-")]
    for n in (16, 64):
        pattern = head + "*a" + "?" * n + "*"
        work(lambda p=pattern: union_extent(requirement, (p,)))  # raises TooMuchWork past LIMIT
        assert gave_up(union_extent(requirement, (pattern,)))


BLOCKS = st.sampled_from(["a", "ab", "*", "?", "*a", "a?", ":", "/", "-", "us-", "1", "*?"])


@pytest.mark.slow
@settings(max_examples=examples(40), deadline=None)
@given(st.lists(BLOCKS, min_size=1, max_size=6), st.lists(BLOCKS, min_size=1, max_size=6),
       st.sampled_from(REQUIREMENTS), st.sampled_from(["arn:aws:s3:::", "arn:aws:iam::*:role/", "arn:", ""]))
def test_random_patterns_grow_at_most_quadratically(left, right, requirement, head):
    """Patterns made of a repeated random block, at least n and 2n characters long, against Jets'
    requirements. n = 96 is past the shortest string of every requirement here: below it a pattern
    that grows may start to reach the requirement, and one search then costs more than no search."""
    def build(n: int) -> tuple[str, str]:
        return tuple(head + "".join(blocks) * -(-n // len("".join(blocks))) for blocks in (left, right))

    small = work(_decisions(requirement, *build(96)))
    large = work(_decisions(requirement, *build(192)))
    assert_at_most_quadratic(small, large, f"{left} {right} {head}")


@pytest.mark.slow
def test_a_search_past_its_budget_gives_up_as_some(write_policy):
    """The product search stops at MAX_STATES states: the answer is "some" (never "all"), marked, and
    the audit says which statement it could not compare."""
    pattern = "arn:aws:cloudformation:*:*:stack/demo-dev-*a" + "?" * 16 + "*"  # the subset blow-up below
    found = union_extent(STACK, (pattern,))
    assert found == MATCHES_SOME
    assert gave_up(found)
    path = write_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "cloudformation:CreateStack", "Resource": pattern}]})
    code, report = audit_json(path, "--prefix", "demo")
    assert code == 1
    nested = [f["message"] for f in report["findings"]
              if f["resource"] == "arn:aws:cloudformation:*:*:stack/demo-dev-*/*" and f["subject"] == "cloudformation:CreateStack"]
    assert nested == ['"cloudformation:CreateStack" is allowed by Statement[0] but not on stack/demo-dev-*/* (Statement[0]: '
                      "its Resource is too complex to compare within 20,000 automaton states, so it is counted as matching "
                      "only part of what Jets needs): CloudFormation cannot create the nested stacks (one per app class, "
                      "the API Gateway pages, the deployment)"]


@pytest.mark.slow
@pytest.mark.parametrize("effect", ["Allow", "Deny"])
@pytest.mark.parametrize("name", sorted(CONSTRUCTIONS))
def test_the_audit_of_each_construction_finishes_with_its_documented_answer(write_policy, effect, name):
    """At the size that took minutes in 0.1 (k=40), the whole audit finishes, with the exact answer:
    an Allow of these patterns grants nothing Jets needs; a Deny of them takes away only what they can
    match (the `?` runs of "qs" fit a function name; a star inside a segment never crosses a colon, so
    "mixed" and "region" cannot reach an ARN's name; "longlit" names no bucket Jets creates)."""
    a, b = CONSTRUCTIONS[name](40)
    statements = [{"Effect": effect, "Action": "*", "Resource": [a, b]}]
    if effect == "Deny":
        statements.insert(0, {"Effect": "Allow", "Action": "*", "Resource": "*"})
    code, report = audit_json(write_policy({"Version": "2012-10-17", "Statement": statements}), "--prefix", "demo")
    assert code == 1
    statuses = {(row["resource"], row["status"]) for row in report["coverage"]}
    if effect == "Allow":
        assert {status for _, status in statuses} == {"missing"}
    else:
        # the `?` runs of "qs" take some function names, not all: the deploy fails only if the app names one so
        dependent = {resource for resource, status in statuses if status == "name-dependent"}
        assert dependent == ({"arn:aws:lambda:*:*:function:demo-dev-*"} if name == "qs" else set())
        assert {status for _, status in statuses} == ({"granted", "name-dependent"} if name == "qs" else {"granted"})
