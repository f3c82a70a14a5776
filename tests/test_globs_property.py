"""The glob algebra and the evaluator against brute force, on random small globs.

The oracle is written here from the documented semantics, independently of the code: a glob becomes a
regular expression, and a requirement's strings are enumerated with every wildcard filled from a small
alphabet, "x" standing for every character no glob uses. Each property compares the exact answer in
both directions (none / all / some, every match vector), so a shortcut that turns an "all" into a
"some", or the reverse, fails. The strategies are shaped to reach each shortcut of globs.py: colon-free
globs (segment extents, prefix/suffix/substring shapes, the star table), ARN-shaped globs (segment by
segment, colons spread over segment-ending stars), `*X*` patterns (substring vectors), lists and groups
(joint vectors, unions).

Length bound: a requirement's strings are enumerated up to the number of non-star characters of the
requirement and the patterns together, plus one (no extra one where only a shared string is asked
for). A shortest string shared by two globs is no longer than their non-star characters (a character
taken by stars on both sides can be deleted); for every match vector, the bound without the extra
one held on 8,000 random cases against the product search when this was written, and the search
itself is checked against the brute force here. Examples whose enumeration would be too large to run
in a moment are skipped (MAX_STRINGS).
"""

from __future__ import annotations

import functools
import itertools
import json
import re

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from auditor import automata
from auditor.automata import STAR, CharClass, fullmatch, product, table_overlaps
from auditor.conditions import Decision, Truth
from auditor.evaluate import (
    CONDITIONAL,
    DENIED,
    GRANTED,
    MISSING,
    NAME_DEPENDENT,
    ActionIndex,
    evaluate_relevant,
    statement_matches_action,
)
from auditor.glob_text import policy_pattern, requirement_pattern
from auditor.globs import (
    covers,
    extent,
    group_classes,
    match_classes,
    name_matcher,
    overlaps,
    strict_overlaps,
    union_extent,
)
from auditor.model import parse_policy
from auditor.name_parts import NamePart, join
from tests.conftest import examples

UNBOUNDED = 1 << 30  # the oracle searches to the end (its globs are small)

pytestmark = pytest.mark.slow  # hypothesis against brute force

SEGMENT_CHARS = "abx"  # what a wildcard that stays in its segment may take; x: a character no glob uses
ANY_CHARS = "ab:x"
MAX_STRINGS = 20_000  # an enumeration larger than this costs seconds: such examples are skipped (assume)


# --- the oracle -------------------------------------------------------------------------------------

def policy_regex(glob: str) -> re.Pattern[str]:
    """IAM: `*` and `?` stay in a segment, except a `*` that ends one (before ":" or the end)."""
    out = []
    for i, ch in enumerate(glob):
        if ch == "*":
            out.append(".*" if i + 1 == len(glob) or glob[i + 1] == ":" else "[^:]*")
        else:
            out.append("[^:]" if ch == "?" else re.escape(ch))
    return re.compile("".join(out), re.DOTALL)


def _requirement_parts(glob: str) -> list[str]:
    parts, i = [], 0
    while i < len(glob):
        step = 2 if glob.startswith("**", i) else 1
        parts.append(glob[i:i + step])
        i += step
    return parts


def requirement_regex(glob: str) -> re.Pattern[str]:
    """A requirement (or a glob taken strictly): `*` a name without a colon, `**` any string; a lone
    "*" is the literal resource "*"."""
    if glob == "*":
        return re.compile(re.escape("*"))
    table = {"**": ".*", "*": "[^:]*", "?": "[^:]"}
    return re.compile("".join(table.get(part, re.escape(part)) for part in _requirement_parts(glob)), re.DOTALL)


def nonstar(*globs: str) -> int:
    return sum(len(g) - g.count("*") for g in globs)


@functools.cache
def _runs(chars: str, most: int) -> tuple[str, ...]:
    """Every string of at most `most` characters from `chars`."""
    return tuple("".join(p) for n in range(most + 1) for p in itertools.product(chars, repeat=n))


def strings_of(glob: str, limit: int, segment: str = SEGMENT_CHARS, crossing: str = ANY_CHARS,
               most: int = MAX_STRINGS) -> set[str]:
    """Every string of the requirement glob up to `limit` characters: `*` and `?` filled from
    `segment`, `**` from `crossing`."""
    if glob == "*":
        return {"*"}
    parts = _requirement_parts(glob)
    stars = sum(part in ("*", "**") for part in parts)
    free = max(0, limit - (len(parts) - stars))  # characters left for the stars
    base = len(crossing) if "**" in parts else len(segment)
    assume(stars == 0 or base ** free * (free + 1) ** (stars - 1) <= most)
    out: set[str] = set()
    # the characters the parts from k on add at least: a run of a star longer than what is left after
    # them would only make strings past the limit (and _runs would hold them all)
    rest = [sum(part not in ("*", "**") for part in parts[k:]) for k in range(len(parts) + 1)]

    def fill(k: int, acc: str) -> None:
        if len(acc) > limit:
            return
        if k == len(parts):
            out.add(acc)
            return
        part = parts[k]
        if part in ("*", "**"):
            for run in _runs(segment if part == "*" else crossing, limit - len(acc) - rest[k + 1]):
                fill(k + 1, acc + run)
        elif part == "?":
            for c in segment:
                fill(k + 1, acc + c)
        else:
            fill(k + 1, acc + part)

    fill(0, "")
    return out




def brute_vectors(requirement: str, patterns: list[str], most: int = MAX_STRINGS) -> set[tuple[bool, ...]]:
    limit = nonstar(requirement, *patterns) + 1
    regexes = [policy_regex(p) for p in patterns]
    return {tuple(rx.fullmatch(s) is not None for rx in regexes) for s in strings_of(requirement, limit, most=most)}


def brute_extent(requirement: str, pattern: str) -> frozenset[bool]:
    return frozenset(v[0] for v in brute_vectors(requirement, [pattern]))


# --- strategies -------------------------------------------------------------------------------------

globs = st.text(alphabet="ab:*?", min_size=1, max_size=5)
short_globs = st.text(alphabet="ab:*?", min_size=1, max_size=4)
tiny_globs = st.text(alphabet="ab:*?", min_size=1, max_size=3)
segment_globs = st.text(alphabet="aab*?", min_size=1, max_size=5)  # colon-free: one segment
contains = st.text(alphabet="ab", min_size=1, max_size=2).map(lambda x: f"*{x}*")
small_arns = st.lists(st.text(alphabet="ab*?", max_size=2), min_size=2, max_size=3).map(":".join)
arns = st.lists(st.text(alphabet="ab*?", max_size=3), min_size=1, max_size=5).map(":".join).filter(
    lambda g: g != "*" and "**" not in g)


# --- the product search itself ----------------------------------------------------------------------

@settings(max_examples=examples(300), deadline=None)
@given(globs, st.lists(tiny_globs, min_size=1, max_size=3))
def test_product_search_agrees_with_brute_force(requirement, patterns):
    found = product(requirement_pattern(requirement), [policy_pattern(p).tokens for p in patterns], budget=UNBOUNDED)
    assert found == brute_vectors(requirement, patterns), (requirement, patterns)


@settings(max_examples=examples(200), deadline=None)
@given(st.text(alphabet="ab:*?", min_size=1, max_size=4), st.lists(short_globs, min_size=1, max_size=2))
def test_product_search_honours_a_character_class(requirement, patterns):
    # the seam for restricted names: a requirement whose wildcards take only "a" or "b"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(automata, "CLASSES", {**automata.CLASSES, "ab": CharClass(only=frozenset("ab"))})
        tokens = tuple((kind, "ab") if kind != automata.LITERAL else (kind, value)
                       for kind, value in requirement_pattern(requirement))
        found = product(tokens, [policy_pattern(p).tokens for p in patterns], budget=UNBOUNDED)
        regexes = [policy_regex(p) for p in patterns]
        strings = strings_of(requirement, nonstar(requirement, *patterns) + 1, segment="ab", crossing="ab")
        assert found == {tuple(rx.fullmatch(s) is not None for rx in regexes) for s in strings}, (requirement, patterns)
        assert all(fullmatch(tokens, s) for s in strings)


def test_product_search_stops_at_its_budget():
    tokens = requirement_pattern("a*a*a*")
    with pytest.raises(automata.TooBig):
        product(tokens, [policy_pattern("*a??????*").tokens], budget=10)


# --- one pattern ------------------------------------------------------------------------------------

@settings(max_examples=examples(600), deadline=None)
@given(globs, globs)
def test_extent_agrees_with_brute_force(requirement, pattern):
    assert extent(requirement, pattern) == brute_extent(requirement, pattern), (requirement, pattern)


@settings(max_examples=examples(800), deadline=None)
@given(segment_globs, st.one_of(segment_globs, contains))
def test_extent_of_one_segment_agrees_with_brute_force(requirement, pattern):
    assert extent(requirement, pattern) == brute_extent(requirement, pattern), (requirement, pattern)


@settings(max_examples=examples(500), deadline=None)
@given(small_arns, st.one_of(small_arns, st.text(alphabet="ab*?", max_size=2).map(lambda g: g + ":*")))
def test_extent_of_arn_shaped_globs_agrees_with_brute_force(requirement, pattern):
    assert extent(requirement, pattern) == brute_extent(requirement, pattern), (requirement, pattern)


@settings(max_examples=examples(600), deadline=None)
@given(arns, arns)
def test_extent_of_larger_arns_equals_the_search(requirement, pattern):
    search = frozenset(v[0] for v in product(requirement_pattern(requirement), [policy_pattern(pattern).tokens],
                                             budget=UNBOUNDED))
    assert extent(requirement, pattern) == search, (requirement, pattern)


# a name part never holds a colon (rules/names.toml is checked for it)
name_parts = st.builds(NamePart, st.sampled_from([frozenset("a"), frozenset("ab"), frozenset("b-")]),
                       st.integers(0, 1))
named_arns = st.lists(st.one_of(st.text(alphabet="ab:-", min_size=1, max_size=3), name_parts), min_size=1, max_size=5).map(join)


@settings(max_examples=examples(600), deadline=None)
@given(named_arns, st.one_of(arns, st.text(alphabet="ab:-*?", min_size=1, max_size=6)))
def test_extent_of_requirements_with_name_parts_equals_the_search(requirement, pattern):
    """A requirement with name parts is decided on its widened form, then segment by segment (when no
    name part's class holds a colon), then by the search of the whole: the answer is the search's."""
    search = frozenset(v[0] for v in product(requirement_pattern(requirement), [policy_pattern(pattern).tokens],
                                             budget=UNBOUNDED))
    assert extent(requirement, pattern) == search, (requirement, pattern)


def test_extra_colons_spread_over_segment_ending_stars():
    log_groups = "arn:aws:logs:*:*:log-group:/aws/lambda/demo-*"
    assert extent(log_groups, "arn:aws:logs:*:*:*") == frozenset({True})
    assert extent(log_groups, "arn:aws:logs:us-east-1:*:*") == frozenset({False, True})
    assert extent(log_groups, "arn:aws:logs:*:*:log-group:*:*") == frozenset({False})
    assert extent(log_groups, "arn:aws:logs:x*:*") == frozenset({False, True})


@settings(max_examples=examples(400), deadline=None)
@given(globs, globs)
def test_covers_and_overlaps_agree_with_brute_force(requirement, pattern):
    found = brute_extent(requirement, pattern)
    assert covers(requirement, pattern) == (found == {True}), (requirement, pattern)
    assert overlaps(requirement, pattern) == (True in found), (requirement, pattern)


@settings(max_examples=examples(400), deadline=None)
@given(st.one_of(segment_globs, small_arns), st.one_of(segment_globs, small_arns, contains))
def test_covers_of_shaped_globs_agrees_with_brute_force(requirement, pattern):
    assert covers(requirement, pattern) == (brute_extent(requirement, pattern) == {True}), (requirement, pattern)


# --- several patterns -------------------------------------------------------------------------------

@settings(max_examples=examples(400), deadline=None)
@given(st.one_of(short_globs, segment_globs, small_arns), st.lists(st.one_of(tiny_globs, contains), min_size=2, max_size=3))
def test_match_classes_agree_with_brute_force(requirement, patterns):
    assert match_classes(requirement, tuple(patterns)) == brute_vectors(requirement, patterns), (requirement, patterns)


two_segments = st.lists(st.text(alphabet="ab*", min_size=1, max_size=2), min_size=2, max_size=2).map(":".join)
contains_in_segments = st.lists(st.one_of(contains, st.sampled_from(["*", "a", "b*"])), min_size=2, max_size=2).map(":".join)


@settings(max_examples=examples(300), deadline=None)
@given(st.one_of(segment_globs, st.text(alphabet="ab*", min_size=1, max_size=4), two_segments),
       st.one_of(st.lists(contains, min_size=2, max_size=3), st.lists(contains_in_segments, min_size=2, max_size=3)))
@example("a*:a*", ["*a*:*b*", "*b*:*b*"])  # `*a*` holds in every first segment, yet the pattern is partial
def test_substring_patterns_agree_with_brute_force(requirement, patterns):
    # a segment's `*X*` patterns together (a pattern may hold in one segment and be partial in another)
    found = brute_vectors(requirement, patterns, most=50_000)
    assert match_classes(requirement, tuple(patterns)) == found, (requirement, patterns)


def _grouped(groups: list[list[str]]) -> tuple[list[list[str]], list[str], list[range]]:
    groups = [list(dict.fromkeys(g)) for g in groups]
    flat = [p for g in groups for p in g]
    spans, first = [], 0
    for g in groups:
        spans.append(range(first, first + len(g)))
        first += len(g)
    return groups, flat, spans


@settings(max_examples=examples(300), deadline=None)
@given(st.one_of(short_globs, small_arns), st.lists(st.lists(tiny_globs, min_size=1, max_size=2), min_size=1, max_size=2))
def test_group_classes_and_union_extent_agree_with_brute_force(requirement, groups):
    groups, flat, spans = _grouped(groups)
    vectors = brute_vectors(requirement, flat)
    expected = {tuple(any(v[i] for i in span) for span in spans) for v in vectors}
    assert group_classes(requirement, tuple(tuple(g) for g in groups)) == expected, (requirement, groups)
    for g, span in zip(groups, spans, strict=True):
        assert union_extent(requirement, tuple(g)) == frozenset(any(v[i] for i in span) for v in vectors), (requirement, g)


@settings(max_examples=examples(300), deadline=None)
@given(arns, st.lists(st.lists(arns, min_size=1, max_size=3), min_size=1, max_size=3))
def test_group_classes_of_larger_arns_equal_the_search(requirement, groups):
    groups, flat, spans = _grouped(groups)
    vectors = product(requirement_pattern(requirement), [policy_pattern(p).tokens for p in flat], budget=UNBOUNDED)
    expected = {tuple(any(v[i] for i in span) for span in spans) for v in vectors}
    assert group_classes(requirement, tuple(tuple(g) for g in groups)) == expected, (requirement, groups)


@settings(max_examples=examples(300), deadline=None)
@given(arns, st.lists(arns, min_size=2, max_size=4))
def test_match_classes_of_larger_arns_equal_the_search(requirement, patterns):
    vectors = product(requirement_pattern(requirement), [policy_pattern(p).tokens for p in patterns], budget=UNBOUNDED)
    assert match_classes(requirement, tuple(patterns)) == vectors, (requirement, patterns)


# --- two globs taken strictly (resource types) ------------------------------------------------------

strict_globs = st.text(alphabet="ab:*?", min_size=1, max_size=5)


@settings(max_examples=examples(600), deadline=None)
@given(st.one_of(strict_globs, segment_globs, small_arns), st.one_of(strict_globs, segment_globs, small_arns))
def test_strict_overlaps_agrees_with_brute_force(a, b):
    one, other = (b, a) if b == "*" else (a, b)  # the lone "*" is the one string "*": enumerate it
    shared = any(requirement_regex(other).fullmatch(s) for s in strings_of(one, nonstar(a, b)))
    assert strict_overlaps(a, b) == shared, (a, b)
    assert strict_overlaps(b, a) == shared, (a, b)


@settings(max_examples=examples(600), deadline=None)
@given(segment_globs.filter(lambda g: "**" not in g), segment_globs.filter(lambda g: "**" not in g))
def test_star_table_agrees_with_brute_force(a, b):
    # colon-free globs as one segment of a pattern: a lone "*" is a star here, not the resource "*"
    rb = re.compile("[^:]*") if b == "*" else requirement_regex(b)
    shared = any(rb.fullmatch(s) for s in strings_of("**" if a == "*" else a, nonstar(a, b), crossing=SEGMENT_CHARS))
    tokens = [(STAR,) if g == "*" else requirement_pattern(g) for g in (a, b)]
    assert table_overlaps(*tokens) == shared, (a, b)


# --- one string -------------------------------------------------------------------------------------

STRINGS = ["".join(p) for n in range(7) for p in itertools.product(ANY_CHARS, repeat=n)]


@settings(max_examples=examples(800), deadline=None)
@given(globs, st.sampled_from(STRINGS))
def test_fullmatch_agrees_with_the_oracle(pattern, text):
    assert fullmatch(policy_pattern(pattern).tokens, text) == (policy_regex(pattern).fullmatch(text) is not None)
    if pattern != "*":
        assert fullmatch(requirement_pattern(pattern), text) == (requirement_regex(pattern).fullmatch(text) is not None)


def test_fullmatch_finds_literal_runs_in_order_between_crossing_stars():
    tokens = policy_pattern("arn:aws:lambda:*:*:function:demo-*").tokens
    assert fullmatch(tokens, "arn:aws:lambda:us-east-1:1:function:demo-dev-x")
    assert fullmatch(tokens, "arn:aws:lambda:::function:demo-")
    assert not fullmatch(tokens, "arn:aws:lambda:us-east-1:1:layer:demo-x")
    assert fullmatch(policy_pattern("x:*:b:*:b:*").tokens, "x:1:b:2:b:3")
    assert not fullmatch(policy_pattern("x:*:b:*:b:*").tokens, "x:1:b:3")


NAMES = ["".join(p) for n in range(6) for p in itertools.product("ab:x", repeat=n)]


@settings(max_examples=examples(600), deadline=None)
@given(st.text(alphabet="aAbB:*?", min_size=1, max_size=5), st.sampled_from(NAMES))
def test_name_matcher_agrees_with_the_oracle(pattern, name):
    # actions and services: case-insensitive, `*` any run and `?` any one character, colons included
    oracle = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c.lower()) for c in pattern)
    assert name_matcher(pattern)(name) == (re.fullmatch(oracle, name, re.DOTALL) is not None), (pattern, name)


# --- statements -------------------------------------------------------------------------------------

UNIVERSE = frozenset({"s3:getobject", "s3:getbucket", "s3:putobject", "lambda:getfunction", "lambda:invoke",
                      "iam:passrole"})
action_patterns = st.text(alphabet="s3:getobjcIAM*?", min_size=1, max_size=8) | st.sampled_from(
    ["s3:Get*", "S3:*", "*", "lambda:*", "iam:PassRole", "s3:GetObject", "*:get*", "?3:*"])


def _policy(statements: list[dict]):
    policy = parse_policy(json.dumps({"Version": "2012-10-17", "Statement": statements}), "p.json")
    assert not policy.problems, policy.problems
    return policy.statements


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.lists(action_patterns, min_size=1, max_size=3)), min_size=1, max_size=5))
def test_action_index_agrees_with_statement_by_statement_matching(raw):
    statements = _policy([{"Effect": "Allow", "NotAction" if negated else "Action": patterns, "Resource": "*"}
                          for negated, patterns in raw])
    index = ActionIndex(statements, UNIVERSE)
    for action in UNIVERSE:
        assert index.relevant(action) == [s for s in statements if statement_matches_action(s, action)], action
        assert index.relevant(action.upper()) == index.relevant(action)
    for stmt in statements:
        assert index.actions_of(stmt) == {a for a in UNIVERSE if statement_matches_action(stmt, a)}


statement_specs = st.tuples(
    st.sampled_from(["Allow", "Allow", "Deny"]),
    st.sampled_from(["Resource", "Resource", "NotResource"]),
    st.lists(st.one_of(small_arns, short_globs), min_size=1, max_size=2),
    st.sampled_from(["none", "none", "undecided", "holds", "fails"]),  # the Condition, as the judge sees it
)
DECISIONS = {"none": None, "undecided": None, "holds": True, "fails": False}
CONDITION = "StringEquals aws:RequestedRegion=us-east-1"
TRUTHS = {None: Decision(Truth.UNKNOWN, (CONDITION,)), True: Decision(Truth.TRUE), False: Decision(Truth.FALSE, failed=CONDITION)}


def brute_verdict(requirement: str, statements, decisions, match: str):
    """IAM by hand, class by class of the requirement's strings (a match vector of every pattern of
    every statement, from the product search, which is checked against brute force above): the status
    and the statements behind it."""
    YES, MAYBE, NO = 2, 1, 0
    levels: dict[int, set[int]] = {id(s): set() for s in statements}
    unmet: set[int] = set()  # Allows that match some string but whose Condition fails
    outcomes = set()
    every_string_denied = True
    patterns = list(dict.fromkeys(p for s in statements for p in s.resource_patterns))
    for vector in product(requirement_pattern(requirement), [policy_pattern(p).tokens for p in patterns],
                          budget=UNBOUNDED):
        allow = deny = NO
        for stmt, decided in zip(statements, decisions, strict=True):
            hit = any(vector[patterns.index(p)] for p in stmt.resource_patterns)
            level = YES if hit == (stmt.resources is not None) else NO
            if stmt.conditions and decided is False and level == YES and stmt.effect == "Allow":
                unmet.add(id(stmt))
            if stmt.conditions:
                level = min(level, MAYBE if decided is None else YES if decided else NO)
            levels[id(stmt)].add(level)
            if stmt.effect == "Allow":
                allow = max(allow, level)
            else:
                deny = max(deny, level)
        every_string_denied = every_string_denied and deny == YES
        outcomes.add(DENIED if deny == YES else GRANTED if allow == YES and deny == NO else
                     CONDITIONAL if allow != NO else MISSING)
    if match == "every" and DENIED in outcomes and not every_string_denied:  # a Deny on some names only
        outcomes = (outcomes - {DENIED}) | {NAME_DEPENDENT}
    order = ((DENIED, MISSING, NAME_DEPENDENT, CONDITIONAL, GRANTED) if match == "every"
             else (GRANTED, CONDITIONAL, DENIED, MISSING))
    status = next(s for s in order if s in outcomes)
    applies = [s for s in statements if levels[id(s)] - {NO}]
    granted_by = [s for s in applies if s.effect == "Allow"]
    notes: list[str] = []
    denied_by = [s for s in applies if s.effect == "Deny"]
    if status == CONDITIONAL:
        granted_by.sort(key=lambda s: MAYBE not in levels[id(s)])
        for stmt in statements:
            if MAYBE in levels[id(stmt)]:
                verb = "grants it only if" if stmt.effect == "Allow" else "denies it if"
                notes.append(f"{stmt.label} {verb} {CONDITION}, which the audit cannot know")
    elif status in (DENIED, NAME_DEPENDENT):
        notes.extend(f"{s.label} denies it: {CONDITION} holds for this request"
                     for s, d in zip(statements, decisions, strict=True) if s in denied_by and s.conditions and d is True)
        if status == NAME_DEPENDENT:
            notes.extend(f"{s.label} denies it on the names its Resource matches ({', '.join(sorted(set(s.resources)))})"
                         if s.resources is not None else
                         f"{s.label} denies it on the names outside its NotResource ({', '.join(sorted(set(s.not_resources)))})"
                         for s in denied_by)
    elif status == MISSING:
        notes.extend(f"{s.label} allows it only if {CONDITION}, which this request does not meet"
                     for s in statements if id(s) in unmet)
    return status, granted_by, denied_by, list(dict.fromkeys(notes))


@settings(max_examples=examples(400), deadline=None)
@given(st.one_of(small_arns, segment_globs), st.lists(statement_specs, min_size=1, max_size=3),
       st.sampled_from(["every", "some"]))
def test_verdict_agrees_with_brute_force(requirement, specs, match):
    condition = {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}
    statements = _policy([{"Effect": effect, "Action": "s3:GetObject", element: patterns,
                           **({"Condition": condition} if judged != "none" else {})}
                          for effect, element, patterns, judged in specs])
    decisions = [DECISIONS[judged] for *_, judged in specs]
    verdict = evaluate_relevant(requirement, statements, match=match,
                                judge=lambda stmt: TRUTHS[decisions[stmt.index]])
    status, granted_by, denied_by, notes = brute_verdict(requirement, statements, decisions, match)
    assert verdict.status == status, (requirement, specs)
    assert list(verdict.granted_by) == granted_by, (requirement, specs)
    assert list(verdict.denied_by) == denied_by, (requirement, specs)
    assert list(verdict.notes) == notes, (requirement, specs)
    assert list(verdict.allowed_by) == [s for s in statements if s.effect == "Allow"]
