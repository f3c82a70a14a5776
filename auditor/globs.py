"""The glob algebra behind the evaluator: which strings an IAM pattern matches, decided exactly.

A requirement ("every resource Jets may create here") and a policy pattern are both globs, and the
questions are set questions about their strings:

    covers(requirement, pattern)          does the pattern match every string of the requirement?
    overlaps(requirement, pattern)        ... at least one?
    strict_overlaps(a, b)                 do two globs share a string, no `*` crossing a colon?
    extent(requirement, pattern)          none, all or some of the requirement's strings (MATCHES_*)
    union_extent(requirement, patterns)   the same for "any of these patterns"
    match_classes / group_classes         every distinct match vector over the requirement's strings

Semantics. Resources match case-sensitively; what a pattern's `*`, `?`, `${...}` and a requirement's
`*`, `**` and name parts match is said in auditor/glob_text.py, which reads them from text.

Exactness. `automata.search`, the product of the pattern automata with the requirement's, is the
reference. Everything else here is a shortcut that gives the same answer on the inputs it accepts
(and None, or a fall-through, on the others); each says why where it lives, and
tests/test_globs_property.py checks each against brute force over small alphabets. The shortcuts
assume the requirement's wildcards are of class "segment" and the pattern's of "segment" or "any"
(see automata.py): a requirement with another class must go to the search.

Bounded work. Only a union of several partial patterns needs a joint search: up to MAX_JOINT patterns
(or groups) and MAX_STATES product states; beyond that the answer is the conservative one (see
_whole_vectors and union_extent), which errs towards "not covered", never towards a false grant.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache

from auditor.automata import (
    CACHE_SIZE,
    COLON,
    CROSSING,
    LITERAL,
    ONE,
    ONE_KIND,
    ONLY,
    OTHER,
    STAR,
    Token,
    TooBig,
    Vectors,
    can_start,
    char,
    char_class,
    chunks,
    compile_glob,
    fullmatch,
    is_plain,
    literal_ends,
    product,
    search,
    table_overlaps,
    text_of,
    union_of,
)
from auditor.glob_text import Glob, policy_pattern, requirement_pattern, widened
from auditor.name_parts import Named, Text, split

_ANY_ONE: Token = (ONE_KIND, "any")  # a `?` in an action name: any one character

MAX_JOINT = 10  # partial patterns (or statements) settled jointly; beyond it, see _whole_vectors
MAX_STATES = 20000  # product states a joint search may visit before it gives up (see _whole_vectors)
MAX_SPREADS = 64  # ways of spreading extra colons over segment-ending stars tried before the search

Extent = frozenset[bool]  # the answers a pattern gives over a requirement's strings
MATCHES_NONE: Extent = frozenset({False})
MATCHES_ALL: Extent = frozenset({True})
MATCHES_SOME: Extent = frozenset({False, True})


class Undecided(frozenset[bool]):
    """MATCHES_SOME as answered by a search that gave up (past MAX_STATES product states). It equals
    MATCHES_SOME, so every caller reads it as "some": an Allow then does not cover the requirement and
    a Deny may deny it, never a false "granted". `gave_up` lets the evaluator say so in a note."""


GAVE_UP: Extent = Undecided({False, True})


def gave_up(found: Extent) -> bool:
    """Is this the answer of a search that gave up (see Undecided)?"""
    return isinstance(found, Undecided)


def _searched(r_tokens: Glob, p_tokens: Glob) -> Extent:
    """The product search for one pattern, within MAX_STATES (past it: GAVE_UP)."""
    try:
        return frozenset(v[0] for v in product(r_tokens, [p_tokens], budget=MAX_STATES))
    except TooBig:
        return GAVE_UP

def _requirement_ends(text: Text) -> tuple[str, str]:
    """`literal_ends` of a requirement, looked up by its text (a token tuple is slow to hash)."""
    return literal_ends(requirement_pattern(text))


def _ends_agree(a: tuple[str, str], b: tuple[str, str]) -> bool:
    """Can two globs with these literal ends share a string? A shared string starts with both starts,
    so one start is a prefix of the other; likewise for the ends. (Necessary, not sufficient.)"""
    (ap, as_), (bp, bs) = a, b
    return (ap.startswith(bp) or bp.startswith(ap)) and (as_.endswith(bs) or bs.endswith(as_))


def _witness(r_tokens: Glob) -> str:
    """One string of the requirement: every wildcard filled with OTHER, a character no pattern uses.
    A pattern that misses it proves that the requirement has a string the pattern misses."""
    return "".join(t[1] if t[0] == LITERAL else OTHER for t in r_tokens)


def _name_witness(r_tokens: Glob, avoid: str) -> str:
    """One string of a requirement with name parts: each name part as short as its class allows (a
    "+" part one character of its class, one not in `avoid` where the class has such), every other
    wildcard OTHER. (`_witness` would put OTHER in a name part, whose class does not admit it.)"""
    out = []
    for kind, value in r_tokens:
        if kind == LITERAL:
            out.append(value)
        elif not value.startswith(ONLY):
            out.append(OTHER)  # a `*` or `?` of the segment or any class: OTHER is one of its strings
        elif kind == ONE_KIND:
            allowed = sorted(char_class(value).only or ())
            out.append(next((c for c in allowed if c not in avoid), allowed[0]))
    return "".join(out)


# --- one pattern against a requirement ------------------------------------------------------------

@lru_cache(maxsize=CACHE_SIZE)
def extent(requirement: Text, pattern: str) -> Extent:
    """Does `pattern` match none, all or some of the strings the requirement describes?

    In order: literal ends that disagree mean no shared string (_ends_agree); a pattern of crossing
    stars only matches everything; a plain requirement is one string, so one match decides; a plain
    pattern is one string and the requirement (not plain: at least two strings) has it or not; then
    segment by segment (_segmentwise); the product search only when that cannot decide. A requirement
    with name parts is first decided on its widened form, and searched only when that says "some"."""
    if isinstance(requirement, Named):
        wide = extent(widened(requirement), pattern)
        if wide != MATCHES_SOME:
            return wide
        try:
            return frozenset(v[0] for v in search(compile_glob(requirement_pattern(requirement)),
                                                  [compile_glob(policy_pattern(pattern).tokens)], budget=MAX_STATES))
        except TooBig:
            return GAVE_UP
    r_tokens = requirement_pattern(requirement)
    policy = policy_pattern(pattern)
    p_tokens = policy.tokens
    if not _ends_agree(_requirement_ends(requirement), policy.ends):
        return MATCHES_NONE
    if p_tokens and all(t == CROSSING for t in p_tokens):
        return MATCHES_ALL
    if is_plain(r_tokens):
        return MATCHES_ALL if fullmatch(p_tokens, text_of(r_tokens), policy.ends) else MATCHES_NONE
    if is_plain(p_tokens):
        return MATCHES_SOME if fullmatch(r_tokens, text_of(p_tokens), _requirement_ends(requirement)) else MATCHES_NONE
    by_segment = _segmentwise(r_tokens, p_tokens)
    if by_segment is not None:
        return by_segment
    return _searched(r_tokens, p_tokens)


# Segment by segment. Every string of a requirement without `**` has as many colons as the
# requirement, because its wildcards take no colon. A policy pattern with as many segments matches
# such a string only colon for colon: its literal colons take all of the string's colons, so none of
# its stars takes one, and the question splits into one independent question per segment. A pattern
# with fewer segments must let stars take the extra colons, and only a star that ends a segment may:
# each way of spreading the extra colons over those stars is one aligned alternative, the star's
# segment followed by a lone `*` for every whole segment it absorbs.

def _segments(tokens: Glob) -> tuple[Glob, ...]:
    out: list[Glob] = []
    current: list[Token] = []
    for tok in tokens:
        if tok == COLON:
            out.append(tuple(current))
            current = []
        else:
            current.append(tok)
    out.append(tuple(current))
    return tuple(out)


def _starred(tokens: Glob) -> tuple[Glob, ...]:
    """A pattern's segments with every star bound to its segment, as when it lines up colon for colon."""
    return tuple(tuple(STAR if t == CROSSING else t for t in seg) for seg in _segments(tokens))


def _aligned(r_segs: Sequence[Glob], p_segs: Sequence[Glob]) -> Extent:
    """Segment i of the pattern against segment i of the requirement, for every i. The requirement's
    strings are every combination of its segments' strings, so: none if one segment never matches,
    all if every segment always matches, else some (take the others' matching strings and the partial
    segment's matching or missing one)."""
    outcome = MATCHES_ALL
    for r_seg, p_seg in zip(r_segs, p_segs, strict=True):
        found = _segment_extent(r_seg, p_seg)
        if found == MATCHES_NONE:
            return MATCHES_NONE
        if found == MATCHES_SOME and not gave_up(outcome):
            outcome = found  # GAVE_UP, once met, stays
    return outcome


def _spreads(extra: int, slots: int) -> Iterator[tuple[int, ...]]:
    if slots == 1:
        yield (extra,)
        return
    for first in range(extra + 1):
        for rest in _spreads(extra - first, slots - 1):
            yield (first, *rest)


def _segmentwise(r_tokens: Glob, p_tokens: Glob) -> Extent | None:
    """`extent` decided segment by segment (see above), or None when only the search can decide."""
    if CROSSING in r_tokens:
        return None  # the requirement's own strings vary in colons
    r_segs, p_segs = _segments(r_tokens), _segments(p_tokens)
    extra = len(r_segs) - len(p_segs)
    if extra < 0:
        return MATCHES_NONE  # the pattern needs more colons than any of the strings has
    flat = _starred(p_tokens)
    if extra == 0:
        return _aligned(r_segs, flat)
    ends = [i for i, seg in enumerate(p_segs) if seg and seg[-1] == CROSSING]
    if not ends:
        return MATCHES_NONE
    if math.comb(extra + len(ends) - 1, len(ends) - 1) > MAX_SPREADS:
        return None
    partial = 0
    undecided = False
    for spread in _spreads(extra, len(ends)):
        widened: list[Glob] = []
        absorbed = dict(zip(ends, spread, strict=True))
        for i, seg in enumerate(flat):
            widened.append(seg)
            widened.extend([(STAR,)] * absorbed.get(i, 0))
        found = _aligned(r_segs, widened)
        if found == MATCHES_ALL:
            return MATCHES_ALL  # one alternative alone matches every string
        partial += found == MATCHES_SOME
        undecided = undecided or gave_up(found)
    if partial <= 1:  # the union of one partial alternative and empty ones is that alternative
        return (GAVE_UP if undecided else MATCHES_SOME) if partial else MATCHES_NONE
    # Several partial alternatives. The segments before the first segment-ending star (its own
    # included) and after the last one line up the same way in every alternative: if one of them
    # misses some strings of its requirement segment, a string with such a segment escapes every
    # alternative. Otherwise only the search can tell whether the alternatives together cover.
    first, last = ends[0], ends[-1]
    shared = [*zip(r_segs[:first + 1], flat[:first + 1], strict=True),
              *zip(r_segs[last + 1 + extra:], flat[last + 1:], strict=True)]
    if any(_segment_extent(r_seg, p_seg) == MATCHES_SOME for r_seg, p_seg in shared):
        return MATCHES_SOME  # exact: a string escapes every alternative, whatever the others say
    return None


@lru_cache(maxsize=CACHE_SIZE)
def _segment_extent(r_seg: Glob, p_seg: Glob) -> Extent:
    """`extent` for two colon-free globs (every star stays in the segment). In order: a lone star
    matches every colon-free string; literal ends that disagree share nothing; a plain side is one
    string; a prefix, suffix or substring pattern by its shape (_by_shape); a pattern that misses the
    requirement's witness misses some strings, and matches some iff the two share a string (the star
    table); else the search."""
    if p_seg == (STAR,):
        return MATCHES_ALL
    if not _ends_agree(literal_ends(r_seg), literal_ends(p_seg)):
        return MATCHES_NONE
    if is_plain(r_seg):
        return MATCHES_ALL if fullmatch(p_seg, text_of(r_seg)) else MATCHES_NONE
    if is_plain(p_seg):
        return MATCHES_SOME if fullmatch(r_seg, text_of(p_seg)) else MATCHES_NONE
    found = _by_shape(r_seg, p_seg)
    if found is not None:
        return found
    if not fullmatch(p_seg, _witness(r_seg)):
        return MATCHES_SOME if table_overlaps(r_seg, p_seg) else MATCHES_NONE
    return _searched(r_seg, p_seg)


def _segment_overlaps(a: Glob, b: Glob) -> bool:
    """Do two colon-free globs share a string? The star table (automata.table_overlaps) behind checks
    that settle most pairs: a lone star matches every colon-free string; disagreeing literal ends
    share nothing; a plain side is one string, so one match decides. Two globs with stars only, whose
    literal ends agree, always share one: the longer start, then a's inner runs, then b's, then the
    longer end (each glob finds its start, its inner runs in order and its end there, its stars
    taking the rest)."""
    if a == (STAR,) or b == (STAR,):
        return True
    if not _ends_agree(literal_ends(a), literal_ends(b)):
        return False
    for one, other in ((a, b), (b, a)):
        if is_plain(one):
            return fullmatch(other, text_of(one))
    if ONE not in a and ONE not in b:
        return True
    return table_overlaps(a, b)


# Most policy patterns within a segment are a prefix (`demo-*`), a suffix (`*.zip`) or a substring
# (`*SageMaker*`). Against a requirement segment with a wildcard (and literal ends that agree, which
# the caller has checked) these are decided without a search.

def _shape(seg: Glob) -> tuple[str, str] | None:
    """("prefix", L) for L*, ("suffix", S) for *S, ("contains", X) for *X* (X not empty); None for
    other globs (a `?`, or stars elsewhere)."""
    stars = [i for i, t in enumerate(seg) if t[0] != LITERAL]
    if any(seg[i] != STAR for i in stars):
        return None
    text = text_of(seg)
    last = len(seg) - 1
    if stars == [last]:
        return "prefix", text
    if stars == [0]:
        return "suffix", text
    if stars == [0, last] and text:
        return "contains", text
    return None


def _by_shape(r_seg: Glob, p_seg: Glob) -> Extent | None:
    """`_segment_extent` for a prefix, suffix or substring pattern against a requirement segment with
    a wildcard; None for other shapes (and for a substring against a segment without a star).

    Substring X: if a literal run of the requirement holds X, every string holds it (all). Otherwise,
    with a star, X put into the star gives a string that holds it, and every wildcard filled with
    OTHER gives one that does not (X cannot span an OTHER, and no run holds it): some.
    Prefix L: if the requirement's literal start begins with L, every string does (all). Otherwise
    the requirement's first wildcard falls inside L (the ends agree, so its literal start is a proper
    prefix of L), and filling it with OTHER breaks L: some strings miss. Some match iff a string of
    the requirement can start with L (its automaton survives L). A suffix is a prefix read backwards."""
    shape = _shape(p_seg)
    if shape is None:
        return None
    kind, text = shape
    if kind == "contains":
        if any(text in run for run in chunks(r_seg)):
            return MATCHES_ALL
        return MATCHES_SOME if STAR in r_seg else None
    if kind == "suffix":
        r_seg, text = tuple(reversed(r_seg)), text[::-1]
    if literal_ends(r_seg)[0].startswith(text):
        return MATCHES_ALL
    return MATCHES_SOME if can_start(r_seg, text) else MATCHES_NONE


# --- several patterns: match vectors --------------------------------------------------------------

def _joint_by_segment(r_tokens: Glob, p_tokens: Sequence[Glob]) -> Vectors | None:
    """The match vectors of several patterns that all line up with the requirement colon for colon
    (None otherwise): per segment, the vectors its strings give; a whole string matches a pattern
    when every one of its segments does, and the segments' strings combine freely."""
    if CROSSING in r_tokens:
        return None
    r_segs = _segments(r_tokens)
    p_segs = [_starred(p) for p in p_tokens]
    if any(len(segs) != len(r_segs) for segs in p_segs):
        return None
    vectors = {tuple(True for _ in p_tokens)}
    for i, r_seg in enumerate(r_segs):
        here = _segment_vectors(r_seg, tuple(segs[i] for segs in p_segs))
        vectors = {tuple(a and b for a, b in zip(v, w, strict=True)) for v in vectors for w in here}
    return vectors


@lru_cache(maxsize=CACHE_SIZE)
def _segment_vectors(r_seg: Glob, p_segs: tuple[Glob, ...]) -> frozenset[tuple[bool, ...]]:
    """The match vectors of colon-free patterns over the strings of one requirement segment (a lone
    star matches every one of them)."""
    open_ = [i for i, seg in enumerate(p_segs) if seg != (STAR,)]
    found = _open_vectors(r_seg, tuple(p_segs[i] for i in open_))
    out = set()
    for vector in found:
        full = [True] * len(p_segs)
        for i, value in zip(open_, vector, strict=True):
            full[i] = value
        out.add(tuple(full))
    return frozenset(out)


def _open_vectors(r_seg: Glob, p_segs: tuple[Glob, ...]) -> Vectors:
    if not p_segs:
        return {()}
    if len(p_segs) == 1:
        return {(v,) for v in _segment_extent(r_seg, p_segs[0])}
    texts = []
    for seg in p_segs:
        shape = _shape(seg)
        if shape is None or shape[0] != "contains":
            break
        texts.append(shape[1])
    else:
        if STAR in r_seg:
            return _substring_vectors(r_seg, tuple(texts))
    return product(r_seg, list(p_segs), budget=MAX_STATES)


def _substring_vectors(r_seg: Glob, texts: tuple[str, ...]) -> Vectors:
    """Match vectors of `*X*` patterns over a requirement segment with a star. A string holds X_j iff
    a literal run of the segment holds it, or text put into the wildcards does. Putting the chosen
    texts into the star, each between characters no pattern uses, gives a string that holds exactly
    those, the texts they contain, and those the segment always holds; every string's set of held
    texts is of that form (choose the texts it holds)."""
    runs = chunks(r_seg)
    always = [any(x in run for run in runs) for x in texts]
    vectors = set()
    for chosen in range(1 << len(texts)):
        picked = [x for i, x in enumerate(texts) if chosen >> i & 1]
        vectors.add(tuple(always[j] or any(x in y for y in picked) for j, x in enumerate(texts)))
    return vectors


@lru_cache(maxsize=CACHE_SIZE)
def match_classes(requirement: Text, patterns: tuple[str, ...]) -> frozenset[tuple[bool, ...]]:
    """For every string the requirement describes, which patterns match it: the set of distinct
    match vectors (one bool per pattern) over all those strings.

    Each pattern is first settled on its own (`extent`): one that matches none or all of the strings
    has the same value in every vector. Only the partial ones need the joint search (their union may
    cover what none covers alone): segment by segment when they line up, else the product."""
    extents = [extent(requirement, p) for p in patterns]
    partial = [i for i, e in enumerate(extents) if e == MATCHES_SOME]
    if not partial:
        return frozenset({tuple(next(iter(e)) for e in extents)})
    joint = None
    if len(partial) <= MAX_JOINT:
        r_tokens = requirement_pattern(requirement)
        p_tokens = [policy_pattern(patterns[i]).tokens for i in partial]
        try:
            joint = None if isinstance(requirement, Named) else _joint_by_segment(r_tokens, p_tokens)
            if joint is None:  # (name parts: the segment shortcuts assume any colon-free character)
                joint = product(r_tokens, p_tokens, budget=MAX_STATES)
        except TooBig:
            joint = None
    return _whole_vectors(extents, partial, joint)


@lru_cache(maxsize=CACHE_SIZE)
def group_classes(requirement: Text, groups: tuple[tuple[str, ...], ...]) -> frozenset[tuple[bool, ...]]:
    """`match_classes` for groups of patterns, a group matching a string when any of its patterns
    does: a statement's Resource list is one group, so a list of partial patterns costs one
    automaton in the joint search, not one each."""
    if all(len(g) == 1 for g in groups):
        return match_classes(requirement, tuple(g[0] for g in groups))
    extents = [union_extent(requirement, g) for g in groups]
    partial = [i for i, e in enumerate(extents) if e == MATCHES_SOME]
    joint: Vectors | None = None
    if len(partial) <= 1:
        joint = {(True,), (False,)} if partial else {()}
    elif len(partial) <= MAX_JOINT:
        try:
            members = [union_of(tuple(policy_pattern(p).tokens for p in groups[i])) for i in partial]
            joint = search(compile_glob(requirement_pattern(requirement)), members, budget=MAX_STATES)
        except TooBig:
            joint = None
    return _whole_vectors(extents, partial, joint)


def _conservative(count: int) -> Vectors:
    """The vectors assumed when a joint search gives up: each pattern alone matches some string the
    others do not, and some string matches none (never a false "covered")."""
    vectors = {tuple(j == i for j in range(count)) for i in range(count)}
    vectors.add(tuple(False for _ in range(count)))
    return vectors


def _whole_vectors(extents: Sequence[Extent], partial: list[int], joint: Vectors | None) -> frozenset[tuple[bool, ...]]:
    """The match vectors over all patterns (or groups): each settled one's value, and the joint
    vectors in the partial places. `joint` None means the joint search gave up (more than MAX_JOINT
    partial patterns, or MAX_STATES states): then each partial one is assumed to match strings the
    others do not, and some strings to match none. Conservative: a union of partial grants is not
    counted as coverage (never a false "granted"); a Deny that overlaps the requirement still denies."""
    if joint is None:
        joint = _conservative(len(partial))
    out = set()
    for vector in joint:
        full = [e == MATCHES_ALL for e in extents]
        for i, value in zip(partial, vector, strict=True):
            full[i] = value
        out.add(tuple(full))
    return frozenset(out)


@lru_cache(maxsize=CACHE_SIZE)  # a requirement meets the same statement once per Region and account tried
def union_extent(requirement: Text, group: tuple[str, ...]) -> Extent:
    """`extent` for "any pattern of the group": one that matches all decides; one partial pattern
    alone is the union's answer; partial patterns that all miss the requirement's witness miss a
    string together. Otherwise their union is searched (segment by segment for up to MAX_JOINT of
    them, else one union automaton within MAX_STATES); a search that gives up answers "some"."""
    extents = [extent(requirement, p) for p in group]
    if MATCHES_ALL in extents:
        return MATCHES_ALL
    some = [p for p, e in zip(group, extents, strict=True) if e == MATCHES_SOME]
    if len(some) <= 1:  # that pattern's answer (GAVE_UP stays marked)
        return next((e for e in extents if e == MATCHES_SOME), MATCHES_NONE)
    r_tokens = requirement_pattern(requirement)
    patterns = [policy_pattern(p) for p in some]
    members = tuple(p.tokens for p in patterns)
    named = isinstance(requirement, Named)
    witness = _name_witness(r_tokens, "".join(some)) if named else _witness(r_tokens)
    if not any(fullmatch(p.tokens, witness, p.ends) for p in patterns):
        return MATCHES_SOME  # a string of the requirement that no pattern of the group matches
    try:  # (name parts: the segment shortcuts assume any colon-free character)
        joint = _joint_by_segment(r_tokens, list(members)) if not named and len(members) <= MAX_JOINT else None
        if joint is None:
            joint = search(compile_glob(r_tokens), [union_of(members)], budget=MAX_STATES)
    except TooBig:
        return GAVE_UP
    return MATCHES_ALL if all(any(v) for v in joint) else MATCHES_SOME


# --- the questions the checks ask -----------------------------------------------------------------

@lru_cache(maxsize=CACHE_SIZE)
def covers(requirement: Text, pattern: str) -> bool:
    """Does the policy resource `pattern` match every resource the requirement describes?

    Two refutations first. If the requirement's literal start does not begin with the pattern's, the
    requirement has a string that does not (its own start, followed by OTHER where its first wildcard
    is, or nothing if it has none); likewise for the ends. And the requirement's witness, missed,
    is a string the pattern misses. Else the match vectors decide. (A requirement with name parts:
    `extent`, whose witness would not be one of its strings.)"""
    if isinstance(requirement, Named):
        return extent(requirement, pattern) == MATCHES_ALL
    policy = policy_pattern(pattern)
    r_pre, r_suf = _requirement_ends(requirement)
    p_pre, p_suf = policy.ends
    if not (r_pre.startswith(p_pre) and r_suf.endswith(p_suf)):
        return False
    if not fullmatch(policy.tokens, _witness(requirement_pattern(requirement)), policy.ends):
        return False
    classes = match_classes(requirement, (pattern,))
    return bool(classes) and all(v[0] for v in classes)


def as_requirement(pattern: str) -> str | None:
    """A policy pattern written as a requirement with the same strings (a `*` that ends a segment,
    which may run across colons, becomes `**`), for the checks that ask whether one policy pattern
    contains another; None for a pattern with a policy variable or an escape (`${...}`)."""
    if "${" in pattern:
        return None
    if pattern == "*":
        return "**"
    out = []
    for i, ch in enumerate(pattern):
        crossing = ch == "*" and (i + 1 == len(pattern) or pattern[i + 1] == ":")
        out.append("**" if crossing else ch)
    return "".join(out)


def overlaps(requirement: Text, pattern: str) -> bool:
    """Does the policy resource `pattern` match at least one resource the requirement describes?
    (`extent` says so on its own: "some" means some strings match; no joint search is needed.)"""
    return True in extent(requirement, pattern)


def strict_overlaps(a: Text, b: Text) -> bool:
    """Do two globs share a string when no `*` may cross a colon (ARN structure taken literally)?
    Used to judge resource types, where a region `*` swallowing ":layer:..." would be nonsense.
    Without `**` and a lone "*", neither side's wildcards take a colon, so a shared string has as
    many colons as each: the segments line up one to one and are independent."""
    if a != "*" and b != "*" and not _crossing(a) and not _crossing(b):
        sa, sb = split(a, ":"), split(b, ":")
        return len(sa) == len(sb) and all(_text_segments_overlap(x, y) for x, y in zip(sa, sb, strict=True))
    ta, tb = requirement_pattern(a), requirement_pattern(b)
    if not _ends_agree(literal_ends(ta), literal_ends(tb)):
        return False
    for one, other in ((ta, tb), (tb, ta)):
        if is_plain(one):
            return fullmatch(other, text_of(one))
    try:
        return any(v[0] for v in product(ta, [tb], budget=MAX_STATES))
    except TooBig:
        return True  # assumed to overlap: no check claims a mismatch it could not prove


def _crossing(text: Text) -> bool:
    """Does the requirement's text hold a `**`?"""
    return any("**" in p for p in ((text,) if isinstance(text, str) else text.pieces) if isinstance(p, str))


def _text_segments_overlap(a: Text, b: Text) -> bool:
    """`_segment_overlaps` for two colon-free segments as written: equal text, a lone star and plain
    text settle it without tokens."""
    if a == b or a == "*" or b == "*":
        return True
    if isinstance(a, str) and isinstance(b, str) and not any(c in a or c in b for c in "*?"):
        return False
    return _segment_overlaps(requirement_pattern(a), requirement_pattern(b))


# --- action and service names ---------------------------------------------------------------------

@lru_cache(maxsize=CACHE_SIZE)
def name_matcher(pattern: str) -> Callable[[str], bool]:
    """A policy's `*`/`?` pattern (any case) as a test on lower-cased names (services, actions):
    equality, a prefix, else the glob's automaton (no regular expression: policy text never builds one). In names `*` and `?` take any
    character, colons included (`*` alone is every action)."""
    low = pattern.lower()
    if "*" not in low and "?" not in low:
        return low.__eq__
    if "?" not in low and low.find("*") == len(low) - 1:
        prefix = low[:-1]
        return lambda name: name.startswith(prefix)
    tokens = tuple(CROSSING if c == "*" else _ANY_ONE if c == "?" else char(c) for c in low)
    ends = literal_ends(tokens)
    return lambda name: fullmatch(tokens, name, ends)  # linear in the name (automata.fullmatch)
