"""The exact containment engine against brute force: random small globs, every string up to length 6
over a small alphabet. A finite witness can only confirm what the engine says, never contradict it."""

from __future__ import annotations

import itertools
from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor import automata, evaluate, globs
from auditor.globs import group_classes, match_classes, overlaps, policy_pattern, requirement_pattern, strict_overlaps
from auditor.model import Condition, Statement

_fullmatch, _token_regex, _overlap = automata.fullmatch, automata.token_regex, automata.table_overlaps
_product = partial(automata.product, budget=automata.UNBOUNDED)
_pair, _segment_pair, _segment_overlap = globs.extent, globs._segment_extent, globs._segment_overlaps
_segmentwise, _joint_by_segment, _open_vectors = globs._segmentwise, globs._joint_by_segment, globs._open_vectors


def _plain_allows(requirement, statements):
    return evaluate._plain_allows(requirement, statements, evaluate.undecided)


def _by_vectors(requirement, statements, match):
    return evaluate._by_vectors(requirement, statements, match, evaluate.undecided)



pytestmark = pytest.mark.slow  # hypothesis against brute force

ALPHABET = "ab:x"  # x stands for any other character
STRINGS = ["".join(p) for n in range(7) for p in itertools.product(ALPHABET, repeat=n)]
globs = st.text(alphabet="ab:*?", min_size=1, max_size=5).filter(lambda g: g != "*" and "**" not in g)


@settings(max_examples=400, deadline=None)
@given(globs, globs)
def test_pair_agrees_with_brute_force(requirement, pattern):
    r = _token_regex(requirement_pattern(requirement))
    p = _token_regex(policy_pattern(pattern).tokens)
    members = [s for s in STRINGS if r.fullmatch(s)]
    outcome = _pair(requirement, pattern)
    if any(p.fullmatch(s) for s in members):
        assert True in outcome, (requirement, pattern)
    if any(not p.fullmatch(s) for s in members):
        assert False in outcome, (requirement, pattern)


@settings(max_examples=300, deadline=None)
@given(globs, globs)
def test_strict_overlap_agrees_with_brute_force(a, b):
    ra, rb = _token_regex(requirement_pattern(a)), _token_regex(requirement_pattern(b))
    if any(ra.fullmatch(s) and rb.fullmatch(s) for s in STRINGS):
        assert strict_overlaps(a, b), (a, b)


@settings(max_examples=800, deadline=None)
@given(globs, st.sampled_from(STRINGS))
def test_fullmatch_by_literal_ends_equals_the_whole_regex(pattern, text):
    for tokens in (policy_pattern(pattern).tokens, requirement_pattern(pattern)):
        assert _fullmatch(tokens, text) == (_token_regex(tokens).fullmatch(text) is not None), (pattern, text)


def test_fullmatch_finds_literal_runs_in_order_between_crossing_stars():
    tokens = policy_pattern("arn:aws:lambda:*:*:function:demo-*").tokens
    assert _fullmatch(tokens, "arn:aws:lambda:us-east-1:1:function:demo-dev-x")
    assert _fullmatch(tokens, "arn:aws:lambda:::function:demo-")
    assert not _fullmatch(tokens, "arn:aws:lambda:us-east-1:1:layer:demo-x")
    assert _fullmatch(policy_pattern("x:*:b:*:b:*").tokens, "x:1:b:2:b:3")
    assert _fullmatch(policy_pattern("x:*:b:*:b:*").tokens, "x::b::b:")
    assert not _fullmatch(policy_pattern("x:*:b:*:b:*").tokens, "x:1:b:3")


# The segment-by-segment shortcut must give exactly what the product search gives, in both directions.
arn_globs = st.lists(st.text(alphabet="ab*?", max_size=3), min_size=1, max_size=5).map(":".join).filter(
    lambda g: g != "*" and "**" not in g)


@settings(max_examples=600, deadline=None)
@given(arn_globs, arn_globs)
def test_segmentwise_equals_product(requirement, pattern):
    r_tokens, p_tokens = requirement_pattern(requirement), policy_pattern(pattern).tokens
    by_segment = _segmentwise(r_tokens, p_tokens)
    if by_segment is not None:
        assert by_segment == frozenset(v[0] for v in _product(r_tokens, [p_tokens])), (requirement, pattern)


@settings(max_examples=400, deadline=None)
@given(arn_globs, arn_globs)
def test_strict_overlaps_equals_product(a, b):
    expected = any(v[0] for v in _product(requirement_pattern(a), [requirement_pattern(b)]))
    assert strict_overlaps(a, b) == expected, (a, b)


def test_segmentwise_spreads_extra_colons_over_segment_ending_stars():
    r = requirement_pattern("arn:aws:logs:*:*:log-group:/aws/lambda/demo-*")
    assert _segmentwise(r, policy_pattern("arn:aws:logs:*:*:*").tokens) == frozenset({True})
    assert _segmentwise(r, policy_pattern("arn:aws:logs:us-east-1:*:*").tokens) == frozenset({False, True})
    assert _segmentwise(r, policy_pattern("arn:aws:logs:*:*:log-group:*:*").tokens) == frozenset({False})
    assert _segmentwise(r, policy_pattern("arn:aws:logs:x*:*").tokens) == frozenset({False, True})


@settings(max_examples=400, deadline=None)
@given(arn_globs, st.lists(arn_globs, min_size=2, max_size=3))
def test_joint_by_segment_equals_product(requirement, patterns):
    r_tokens = requirement_pattern(requirement)
    p_tokens = [policy_pattern(p).tokens for p in patterns]
    joint = _joint_by_segment(r_tokens, p_tokens)
    if joint is not None:
        assert joint == _product(r_tokens, p_tokens), (requirement, patterns)


# Within one segment: the shape shortcuts (prefix, suffix, substring) against the product search.
segment_globs = st.text(alphabet="aab*?", max_size=6).filter(lambda g: "**" not in g)


@settings(max_examples=800, deadline=None)
@given(segment_globs, segment_globs)
def test_segment_pair_equals_product(requirement, pattern):
    r, p = requirement_pattern(requirement), requirement_pattern(pattern)
    assert _segment_pair(r, p) == frozenset(v[0] for v in _product(r, [p])), (requirement, pattern)


@settings(max_examples=400, deadline=None)
@given(segment_globs, st.lists(segment_globs, min_size=2, max_size=4))
def test_segment_vectors_equal_product(requirement, patterns):
    r = requirement_pattern(requirement)
    ps = [requirement_pattern(p) for p in patterns]
    assert _open_vectors(r, tuple(ps)) == _product(r, ps), (requirement, patterns)


@settings(max_examples=400, deadline=None)
@given(arn_globs, st.lists(st.lists(arn_globs, min_size=1, max_size=3), min_size=1, max_size=3))
def test_group_classes_equal_product_of_patterns(requirement, groups):
    # a group matches a string when one of its patterns does: OR the pattern-level product vectors
    groups = tuple(tuple(dict.fromkeys(g)) for g in groups)
    flat = [p for g in groups for p in g]
    vectors = _product(requirement_pattern(requirement), [policy_pattern(p).tokens for p in flat])
    expected, at, first = set(), [], 0
    for g in groups:
        at.append(range(first, first + len(g)))
        first += len(g)
    for v in vectors:
        expected.add(tuple(any(v[i] for i in span) for span in at))
    assert group_classes(requirement, groups) == frozenset(expected), (requirement, groups)


@settings(max_examples=800, deadline=None)
@given(segment_globs, segment_globs)
def test_overlap_table_equals_product(a, b):
    ta, tb = requirement_pattern(a), requirement_pattern(b)
    assert _overlap(ta, tb) == any(v[0] for v in _product(ta, [tb])), (a, b)


CONDITION = (Condition("Bool", "aws:SecureTransport", ("true",)),)


@settings(max_examples=400, deadline=None)
@given(arn_globs, st.lists(st.tuples(st.lists(arn_globs, min_size=1, max_size=3), st.booleans()), min_size=1, max_size=4))
def test_plain_allows_shortcut_equals_the_vector_search(requirement, resource_lists):
    statements = [Statement("p.json", i, f"/Statement/{i}", None, "Allow", ("s3:GetObject",), None, tuple(r), None,
                            CONDITION if conditional else ())
                  for i, (r, conditional) in enumerate(resource_lists)]
    fast = _plain_allows(requirement, statements)
    slow = _by_vectors(requirement, statements, "every")
    assert fast is not None
    assert (fast.status, fast.granted_by, fast.denied_by, fast.notes, fast.allowed_by) == (
        slow.status, slow.granted_by, slow.denied_by, slow.notes, slow.allowed_by), (requirement, resource_lists)


@settings(max_examples=400, deadline=None)
@given(arn_globs, arn_globs)
def test_overlaps_by_pair_equals_the_match_vectors(requirement, pattern):
    assert overlaps(requirement, pattern) == any(v[0] for v in match_classes(requirement, (pattern,))), (requirement, pattern)


segment_globs = st.text(alphabet="ab*?", min_size=1, max_size=6).filter(lambda g: g != "*" and "**" not in g)


@settings(max_examples=600, deadline=None)
@given(segment_globs, segment_globs)
def test_segment_overlap_shortcuts_equal_the_star_table(a, b):
    ta, tb = requirement_pattern(a), requirement_pattern(b)
    assert _segment_overlap(ta, tb) == _overlap(ta, tb), (a, b)
