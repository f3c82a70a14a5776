"""The exact containment engine against brute force: random small globs, every string up to length 6
over a small alphabet. A finite witness can only confirm what the engine says, never contradict it."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.evaluate import _pair, _token_regex, policy_pattern, requirement_pattern, strict_overlaps

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
