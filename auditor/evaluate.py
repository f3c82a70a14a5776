"""The IAM evaluator for identity policies (DESIGN §4).

Question answered: may this principal perform `action` on every resource Jets may create under the
requirement's resource pattern? (`match="some"`: on at least one of them, for resources the app names
freely, such as a DynamoDB table.)

Semantics:
- Allowed iff some Allow statement matches and no Deny statement matches; an explicit Deny wins.
- Actions match case-insensitively with `*` (any run) and `?` (one character); NotAction matches
  every action except those listed.
- Resources match case-sensitively. `*` and `?` work inside one colon-separated segment; a `*` that
  ends a segment (followed by ":" or the end) may also run across the following colons; `"*"` alone
  is every resource. NotResource matches every resource except those listed.
- Coverage is language containment, not one sample: the requirement pattern is a glob too (its `*`
  stands for any name without a colon), and the policy must match every string it describes. This is
  decided exactly with a product of small automata over an alphabet of the characters that occur,
  plus ":" and one stand-in for every other character.
- Region and account: when the user gave none, the requirement's region/account segments are free,
  and a policy pinned to one region or account still counts as granting (each pinned value the policy
  uses is tried as a candidate). When given, they are literal and other values do not match.
- Conditions are not evaluated: an Allow with a Condition grants only `conditional`ly, a Deny with
  a Condition makes the action `conditional`. Policy variables such as `${aws:username}` are not
  resolved: a resource that needs one to match grants only `conditional`ly. A shell placeholder such as
  `${MY_PREFIX}` (no colon, so not an IAM variable) is literal text and matches no Jets resource.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from auditor.awsdata import name_matcher
from auditor.model import Statement

GRANTED, MISSING, DENIED, CONDITIONAL = "granted", "missing", "denied", "conditional"
STATUSES = (GRANTED, CONDITIONAL, MISSING, DENIED)

# Token kinds. A token is a tuple: ("c", char) | ("s", crosses_colons) | ("q",)
Token = tuple

_OTHER = "\x00"  # stands for every character that occurs in none of the patterns
MAX_JOINT = 10  # partial patterns settled jointly; beyond it, see match_classes
MAX_STATES = 4000  # product states explored before the joint automaton gives up (see match_classes)
CACHE_SIZE = 4096  # entries per memo: what one policy and its neighbours reuse; an account audit stays bounded


_NONE, _ALL, _SOME = frozenset({False}), frozenset({True}), frozenset({False, True})  # of a requirement's strings
_CHARS: dict[str, Token] = {}  # one ("c", ch) tuple per character, shared by every pattern


def _char(ch: str) -> Token:
    tok = _CHARS.get(ch)
    if tok is None:
        tok = _CHARS[ch] = ("c", ch)
    return tok


_COLON: Token = _char(":")
_STAR: Token = ("s", False)  # a star within one segment
_CROSSING: Token = ("s", True)  # a star that may run across colons
_ONE: Token = ("q",)  # ? : one character of a segment


class _TooBig(Exception):
    pass

_VAR = re.compile(r"\$\{([^}]*)\}")


# --- actions ----------------------------------------------------------------------------------

def action_matches(pattern: str, action: str) -> bool:
    """`pattern` from a policy (may hold * and ?) against a concrete `service:Name`."""
    return name_matcher(pattern)(action.lower())


def statement_matches_action(stmt: Statement, action: str) -> bool:
    if stmt.actions is not None:
        return any(action_matches(p, action) for p in stmt.actions)
    assert stmt.not_actions is not None
    return not any(action_matches(p, action) for p in stmt.not_actions)


@lru_cache(maxsize=CACHE_SIZE)
def _pattern_hits(pattern: str, universe: frozenset[str]) -> frozenset[str]:
    """The lower-cased actions of `universe` an Action pattern matches."""
    if "*" not in pattern and "?" not in pattern:
        low = pattern.lower()
        return frozenset({low}) if low in universe else frozenset()
    fits = name_matcher(pattern)
    return frozenset(a for a in universe if fits(a))


_UNIVERSES: dict[frozenset[str], frozenset[str]] = {}


class ActionIndex:
    """The statements that name each of a fixed set of actions, in statement order: every Action
    pattern is matched once against the set, not once per action asked about."""

    def __init__(self, statements: Sequence[Statement], universe: frozenset[str]):
        """`universe`: the actions that will be asked about, lower-cased."""
        universe = _UNIVERSES.setdefault(universe, universe)  # one object per set: _pattern_hits keys share it
        self._universe = universe
        self._by_action: dict[str, list[Statement]] = {}
        self._by_statement: dict[int, frozenset[str]] = {}
        for stmt in statements:
            hits: set[str] = set()
            for pattern in stmt.actions if stmt.actions is not None else stmt.not_actions or ():
                hits.update(_pattern_hits(pattern, universe))
            named = frozenset(hits if stmt.actions is not None else universe - hits)
            self._by_statement[id(stmt)] = named
            for action in named:
                self._by_action.setdefault(action, []).append(stmt)

    def __contains__(self, action: str) -> bool:
        return action in self._universe

    def relevant(self, action: str) -> list[Statement]:
        """The statements naming `action` (one of the universe), in statement order."""
        return self._by_action.get(action.lower(), [])

    def actions_of(self, stmt: Statement) -> frozenset[str]:
        """The (lower-cased) actions of the set that `stmt`'s Action names."""
        return self._by_statement[id(stmt)]


# --- resource patterns ------------------------------------------------------------------------

@dataclass(frozen=True)
class Pattern:
    tokens: tuple[Token, ...]
    has_variable: bool
    ends: tuple[str, str]  # the literal text before the first wildcard and after the last one


def is_iam_variable(name: str) -> bool:
    """`${aws:username}` and service keys are IAM policy variables; `${MY_PREFIX}` is not."""
    return ":" in name


@lru_cache(maxsize=CACHE_SIZE)
def policy_pattern(text: str) -> Pattern:
    """Tokenise a Resource/NotResource value from a policy."""
    raw: list[Token] = []
    has_variable = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "$" and text.startswith("${", i):
            m = _VAR.match(text, i)
            if m:
                name = m.group(1)
                if name in ("*", "?", "$"):
                    raw.append(_char(name))
                elif is_iam_variable(name):
                    raw.append(_STAR)
                    has_variable = True
                else:
                    raw.extend(_char(c) for c in m.group(0))
                i = m.end()
                continue
        if ch == "*":
            raw.append(("s", None))  # decided below: does it end a segment?
        elif ch == "?":
            raw.append(_ONE)
        else:
            raw.append(_char(ch))
        i += 1
    tokens: list[Token] = []
    for k, tok in enumerate(raw):
        if tok[0] == "s" and tok[1] is None:
            nxt = raw[k + 1] if k + 1 < len(raw) else None
            ends_segment = nxt is None or nxt == _COLON
            tokens.append(_CROSSING if ends_segment else _STAR)
        else:
            tokens.append(tok)
    frozen = tuple(tokens)
    return Pattern(frozen, has_variable, _literal_ends(frozen))


@lru_cache(maxsize=4 * CACHE_SIZE)  # rendered requirements and their region/account candidates
def requirement_pattern(text: str) -> tuple[Token, ...]:
    """Tokenise a requirement's resource. Its `*` is any name without a colon, `**` any string
    (used for AWS ARN formats whose last part may hold colons). A lone "*" is the literal resource
    "*" that actions without resource-level permissions are evaluated against."""
    if text == "*":
        return (("c", "*"),)
    out: list[Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if text.startswith("**", i):
            out.append(_CROSSING)
            i += 2
            continue
        if ch == "*":
            out.append(_STAR)
        elif ch == "?":
            out.append(_ONE)
        else:
            out.append(_char(ch))
        i += 1
    return tuple(out)


@lru_cache(maxsize=CACHE_SIZE)
def _literal_ends(tokens: tuple[Token, ...]) -> tuple[str, str]:
    """The literal text before the first wildcard and after the last one."""
    kinds = [t[0] for t in tokens]
    if "s" not in kinds and "q" not in kinds:
        text = "".join(t[1] for t in tokens)
        return text, text
    first = next(i for i, k in enumerate(kinds) if k != "c")
    last = max(i for i, k in enumerate(kinds) if k != "c")
    return "".join(t[1] for t in tokens[:first]), "".join(t[1] for t in tokens[last + 1:])


@lru_cache(maxsize=4 * CACHE_SIZE)
def requirement_ends(text: str) -> tuple[str, str]:
    """`_literal_ends` of a requirement, looked up by its text (a token tuple is slow to hash)."""
    return _literal_ends(requirement_pattern(text))


def _may_overlap(a: tuple[Token, ...], b: tuple[Token, ...]) -> bool:
    """A cheap necessary condition for two patterns to share a string: compatible literal ends."""
    return _ends_agree(_literal_ends(a), _literal_ends(b))


def _ends_agree(a: tuple[str, str], b: tuple[str, str]) -> bool:
    (ap, as_), (bp, bs) = a, b
    return (ap.startswith(bp) or bp.startswith(ap)) and (as_.endswith(bs) or bs.endswith(as_))


@dataclass(frozen=True)
class _Bits:
    """A pattern's automaton as bit masks: bit i is "i tokens matched", bit len(tokens) accepts."""

    start: int
    accept: int
    literal: dict[str, int]  # character → positions whose token is that literal character
    single: int  # positions of `?`
    star_any: int  # positions of stars that may cross colons
    star_seg: int  # positions of stars that stay within a segment
    wild: int  # positions of any wildcard
    chars: tuple[tuple[int, str], ...]  # (position bit, literal character) for every literal token

    def close(self, mask: int) -> int:
        stars = self.star_any | self.star_seg
        while True:
            grown = mask | ((mask & stars) << 1)
            if grown == mask:
                return mask
            mask = grown

    def step(self, mask: int, sym: str) -> int:
        advance = self.literal.get(sym, 0) | (self.single if sym != ":" else 0)
        stay = self.star_any | (self.star_seg if sym != ":" else 0)
        return self.close(((mask & advance) << 1) | (mask & stay))

    def expected(self, mask: int) -> set[str]:
        return {c for bit, c in self.chars if mask & bit}


@lru_cache(maxsize=CACHE_SIZE)
def _compile(tokens: tuple[Token, ...]) -> _Bits:
    literal: dict[str, int] = {}
    single = star_any = star_seg = 0
    chars = []
    for i, tok in enumerate(tokens):
        bit = 1 << i
        if tok[0] == "c":
            literal[tok[1]] = literal.get(tok[1], 0) | bit
            chars.append((bit, tok[1]))
        elif tok[0] == "q":
            single |= bit
        elif tok[1]:
            star_any |= bit
        else:
            star_seg |= bit
    bits = _Bits(0, 1 << len(tokens), literal, single, star_any, star_seg, single | star_any | star_seg, tuple(chars))
    return replace(bits, start=bits.close(1))


@lru_cache(maxsize=CACHE_SIZE)
def _pair(requirement: str, pattern: str) -> frozenset[bool]:
    """Whether `pattern` matches none (False), all (True) or some ({False, True}) of the strings
    the requirement describes."""
    r_tokens = requirement_pattern(requirement)
    policy = policy_pattern(pattern)
    p_tokens = policy.tokens
    if not _ends_agree(requirement_ends(requirement), policy.ends):
        return _NONE
    if p_tokens and all(t == _CROSSING for t in p_tokens):
        return _ALL
    # fast paths: one side is a plain string, so one match decides
    if all(t[0] == "c" for t in r_tokens):
        text = "".join(t[1] for t in r_tokens)
        return frozenset({_fullmatch(p_tokens, text, policy.ends)})
    if all(t[0] == "c" for t in p_tokens):
        text = "".join(t[1] for t in p_tokens)
        return _SOME if _fullmatch(r_tokens, text, requirement_ends(requirement)) else _NONE
    by_segment = _segmentwise(r_tokens, p_tokens)
    if by_segment is not None:
        return by_segment
    return frozenset(v[0] for v in _product(r_tokens, [p_tokens]))


# --- segment by segment -----------------------------------------------------------------------
# Every string a requirement describes has the same number of colons (when it has no `**`), so a
# policy pattern with as many segments can only match it colon for colon: its stars cannot cross a
# colon there, and the question splits into one small question per segment. A pattern with fewer
# segments must let its segment-ending stars absorb the extra colons: each way of spreading them is
# one aligned alternative. Only a union of several partial alternatives goes back to the product.

MAX_SPREADS = 64  # ways of spreading extra colons over segment-ending stars tried before the product


@lru_cache(maxsize=CACHE_SIZE)
def _segments(tokens: tuple[Token, ...]) -> tuple[tuple[Token, ...], ...]:
    out: list[tuple[Token, ...]] = []
    current: list[Token] = []
    for tok in tokens:
        if tok == _COLON:
            out.append(tuple(current))
            current = []
        else:
            current.append(tok)
    out.append(tuple(current))
    return tuple(out)


@lru_cache(maxsize=CACHE_SIZE)
def _segment_pair(r_seg: tuple[Token, ...], p_seg: tuple[Token, ...]) -> frozenset[bool]:
    """`_pair` for two colon-free globs (every star stays in the segment)."""
    if p_seg == (_STAR,):
        return _ALL
    if not _may_overlap(r_seg, p_seg):
        return _NONE
    if all(t[0] == "c" for t in r_seg):
        return _ALL if _fullmatch(p_seg, "".join(t[1] for t in r_seg)) else _NONE
    if all(t[0] == "c" for t in p_seg):
        return _SOME if _fullmatch(r_seg, "".join(t[1] for t in p_seg)) else _NONE
    found = _by_shape(r_seg, p_seg)
    if found is not None:
        return found
    if not _fullmatch(p_seg, _filled(r_seg)):  # a string of the requirement it misses
        return _SOME if _overlap(r_seg, p_seg) else _NONE
    return frozenset(v[0] for v in _product(r_seg, [p_seg]))


@lru_cache(maxsize=CACHE_SIZE)
def _segment_overlap(a: tuple[Token, ...], b: tuple[Token, ...]) -> bool:
    """`_overlap` behind the checks that settle most pairs without the table."""
    if a == (_STAR,) or b == (_STAR,):
        return True
    if not _may_overlap(a, b):
        return False
    for one, other in ((a, b), (b, a)):
        if all(t[0] == "c" for t in one):
            return _fullmatch(other, "".join(t[1] for t in one))
    if _ONE not in a and _ONE not in b:
        # Two globs with stars only, whose literal ends agree, always share a string: the longer
        # start, then a's inner runs, then b's, then the longer end.
        return True
    return _overlap(a, b)


def _overlap(a: tuple[Token, ...], b: tuple[Token, ...]) -> bool:
    """Do two colon-free globs share a string? The classic table: fits[i][j] says whether a[i:] and
    b[j:] share one; a star either ends or takes the other side's next token (a character, a `?`, or
    the other star, which then ends first)."""
    n, m = len(a), len(b)
    fits = [[False] * (m + 1) for _ in range(n + 1)]
    fits[n][m] = True
    for i in range(n, -1, -1):
        for j in range(m, -1, -1):
            if i == n and j == m:
                continue
            if i < n and a[i] == _STAR:
                fits[i][j] = fits[i + 1][j] or (j < m and fits[i][j + 1])
            elif j < m and b[j] == _STAR:
                fits[i][j] = fits[i][j + 1] or (i < n and fits[i + 1][j])
            elif i < n and j < m:
                fits[i][j] = (a[i] == b[j] or a[i] == _ONE or b[j] == _ONE) and fits[i + 1][j + 1]
    return fits[0][0]


# Most policy patterns within a segment are a prefix (`demo-*`), a suffix (`*.zip`) or a substring
# (`*SageMaker*`). Against a requirement segment with a wildcard (and literal ends that agree, which
# _may_overlap has checked) these are decided without a product search. "Some strings miss it" is
# shown by filling every wildcard of the requirement with a character no pattern uses.

def _shape(seg: tuple[Token, ...]) -> tuple[str, str] | None:
    """("prefix", L) for L*, ("suffix", S) for *S, ("contains", X) for *X*; None for other globs."""
    stars = [i for i, t in enumerate(seg) if t[0] != "c"]
    if any(seg[i] != _STAR for i in stars):
        return None
    text = "".join(t[1] for t in seg if t[0] == "c")
    last = len(seg) - 1
    if stars == [last]:
        return "prefix", text
    if stars == [0]:
        return "suffix", text
    if stars == [0, last] and text:
        return "contains", text
    return None


def _chunks(seg: tuple[Token, ...]) -> list[str]:
    """The literal runs of a segment, between its wildcards."""
    out, current = [], []
    for tok in seg:
        if tok[0] == "c":
            current.append(tok[1])
        else:
            out.append("".join(current))
            current = []
    out.append("".join(current))
    return out


def _can_start(seg: tuple[Token, ...], text: str) -> bool:
    """Does some string of `seg` start with `text`? (Its automaton is still alive after `text`.)"""
    bits = _compile(seg)
    mask = bits.start
    for ch in text:
        mask = bits.step(mask, ch)
        if not mask:
            return False
    return True


def _by_shape(r_seg: tuple[Token, ...], p_seg: tuple[Token, ...]) -> frozenset[bool] | None:
    """`_segment_pair` for a prefix, suffix or substring pattern against a requirement segment that
    has a wildcard; None for other shapes (and a substring against a segment without a star)."""
    shape = _shape(p_seg)
    if shape is None:
        return None
    kind, text = shape
    if kind == "contains":
        if any(text in chunk for chunk in _chunks(r_seg)):
            return _ALL  # every string holds the literal run that holds the text
        return _SOME if _STAR in r_seg else None  # the star can hold the text, or not
    if kind == "suffix":
        r_seg, text = tuple(reversed(r_seg)), text[::-1]
    if _literal_ends(r_seg)[0].startswith(text):
        return _ALL
    # the text runs past the requirement's literal start: a wildcard there can break it, or fit it
    return _SOME if _can_start(r_seg, text) else _NONE


@lru_cache(maxsize=CACHE_SIZE)
def _starred(tokens: tuple[Token, ...]) -> tuple[tuple[Token, ...], ...]:
    """A pattern's segments with every star bound to its segment, as when it lines up colon for colon."""
    return tuple(tuple(_STAR if t == _CROSSING else t for t in seg) for seg in _segments(tokens))


def _aligned(r_segs: Sequence[tuple[Token, ...]], p_segs: Sequence[tuple[Token, ...]]) -> frozenset[bool]:
    """Segment i of the pattern (its stars bound to the segment, see _starred) against segment i of
    the requirement, for every i. The requirement's strings are every combination of its segments'
    strings, so: none if one segment never matches, all if every segment always matches, else some."""
    outcome = _ALL
    for r_seg, p_seg in zip(r_segs, p_segs, strict=True):
        found = _segment_pair(r_seg, p_seg)
        if found == _NONE:
            return _NONE
        if found == _SOME:
            outcome = _SOME
    return outcome


def _spreads(extra: int, slots: int) -> Iterator[tuple[int, ...]]:
    if slots == 1:
        yield (extra,)
        return
    for first in range(extra + 1):
        for rest in _spreads(extra - first, slots - 1):
            yield (first, *rest)


def _segmentwise(r_tokens: tuple[Token, ...], p_tokens: tuple[Token, ...]) -> frozenset[bool] | None:
    """`_pair` decided segment by segment, or None when only the product can decide."""
    if _CROSSING in r_tokens:
        return None  # the requirement's own strings vary in colons
    r_segs, p_segs = _segments(r_tokens), _segments(p_tokens)
    extra = len(r_segs) - len(p_segs)
    if extra < 0:
        return _NONE  # the pattern needs more colons than any of the strings has
    flat = _starred(p_tokens)
    if extra == 0:
        return _aligned(r_segs, flat)
    ends = [i for i, seg in enumerate(p_segs) if seg and seg[-1] == _CROSSING]
    if not ends:
        return _NONE
    if math.comb(extra + len(ends) - 1, len(ends) - 1) > MAX_SPREADS:
        return None
    partial = 0
    for spread in _spreads(extra, len(ends)):
        widened: list[tuple[Token, ...]] = []
        absorbed = dict(zip(ends, spread, strict=True))
        for i, seg in enumerate(flat):
            widened.append(seg)
            widened.extend([(_STAR,)] * absorbed.get(i, 0))
        found = _aligned(r_segs, widened)
        if found == _ALL:
            return _ALL
        partial += found == _SOME
    if partial <= 1:
        return _SOME if partial else _NONE
    # Several partial alternatives: their union misses strings if a segment they all share (up to the
    # first segment-ending star, and after the last) misses some; otherwise it is for the product.
    first, last = ends[0], ends[-1]
    shared = [*zip(r_segs[:first + 1], flat[:first + 1], strict=True), *zip(r_segs[last + 1 + extra:], flat[last + 1:], strict=True)]
    if any(_aligned([r_seg], [p_seg]) == _SOME for r_seg, p_seg in shared):
        return _SOME
    return None


def _fullmatch(tokens: tuple[Token, ...], text: str, ends: tuple[str, str] | None = None) -> bool:
    """Does `text` match the pattern? Its literal ends (`ends` when the caller has them) are compared
    as strings, and only the part between them is matched by `_middle_matcher`: most ARN patterns
    then need no regular expression, and the others a short one."""
    pre, suf = ends if ends is not None else _literal_ends(tokens)
    if len(pre) == len(tokens):  # no wildcard: each literal token is one character
        return text == pre
    end = len(text) - len(suf)
    if end < len(pre) or not text.startswith(pre) or not text.endswith(suf):
        return False
    return _middle_matcher(tokens[len(pre):len(tokens) - len(suf)])(text, len(pre), end)


@lru_cache(maxsize=CACHE_SIZE)
def _middle_matcher(middle: tuple[Token, ...]) -> Callable[[str, int, int], bool]:
    """How `_fullmatch` tests the part between a pattern's literal ends, which starts and ends with a
    wildcard. When every wildcard is a star that may cross colons (`*:*:function:*`, the usual ARN
    pattern), the literal runs between them are found in order, leftmost first, which is exact for
    such stars; anything else is a regular expression."""
    if all(t[0] == "c" or t == _CROSSING for t in middle):
        runs = [run for run in _chunks(middle) if run]

        def in_order(text: str, start: int, end: int) -> bool:
            for run in runs:
                at = text.find(run, start, end)
                if at < 0:
                    return False
                start = at + len(run)
            return True

        return in_order
    regex = _token_regex(middle)
    return lambda text, start, end: regex.fullmatch(text, start, end) is not None


@lru_cache(maxsize=CACHE_SIZE)
def _token_regex(tokens: tuple[Token, ...]) -> re.Pattern[str]:
    """The same language as a regular expression: a star within a segment is [^:]*, one that may
    cross colons is .*, ? is [^:]."""
    parts = []
    for tok in tokens:
        if tok[0] == "c":
            parts.append(re.escape(tok[1]))
        elif tok[0] == "q":
            parts.append("[^:]")
        else:
            parts.append(".*" if tok[1] else "[^:]*")
    return re.compile("".join(parts), re.DOTALL)


def _product(r_tokens: tuple[Token, ...], p_tokens: list[tuple[Token, ...]], budget: int = 1 << 30) -> set[tuple[bool, ...]]:
    """Search the requirement automaton in product with every pattern automaton (bit masks), over the
    characters that matter. Returns the match vectors (one bool per pattern) seen at the requirement's
    accepting states."""
    return _search(_compile(r_tokens), [_compile(t) for t in p_tokens], budget)


@lru_cache(maxsize=CACHE_SIZE)
def _union(members: tuple[tuple[Token, ...], ...]) -> _Bits:
    """One automaton for "any of these patterns": their bit masks side by side. A member's stars and
    characters only ever move its bits up to its own accepting bit, so the members never mix."""
    if len(members) == 1:
        return _compile(members[0])
    start = accept = single = star_any = star_seg = 0
    literal: dict[str, int] = {}
    chars: list[tuple[int, str]] = []
    offset = 0
    for tokens in members:
        bits = _compile(tokens)
        start |= bits.start << offset
        accept |= bits.accept << offset
        single |= bits.single << offset
        star_any |= bits.star_any << offset
        star_seg |= bits.star_seg << offset
        for ch, mask in bits.literal.items():
            literal[ch] = literal.get(ch, 0) | mask << offset
        chars.extend((bit << offset, ch) for bit, ch in bits.chars)
        offset += len(tokens) + 1
    return _Bits(start, accept, literal, single, star_any, star_seg, single | star_any | star_seg, tuple(chars))


def _search(r: _Bits, ps: list[_Bits], budget: int = 1 << 30) -> set[tuple[bool, ...]]:
    """The product search of `_product`, on compiled automata."""
    start = (r.start, tuple(p.start for p in ps))
    seen = {start}
    todo = [start]
    vectors: set[tuple[bool, ...]] = set()
    steps: dict[tuple[int, int, str], int] = {}  # (automaton, mask, symbol) → next mask
    wants: dict[tuple[int, int], set[str]] = {}  # (automaton, mask) → literal characters expected next
    automata = [r, *ps]

    def step(k: int, mask: int, sym: str) -> int:
        key = (k, mask, sym)
        found = steps.get(key)
        if found is None:
            found = steps[key] = automata[k].step(mask, sym)
        return found

    def expected(k: int, mask: int) -> set[str]:
        key = (k, mask)
        found = wants.get(key)
        if found is None:
            found = wants[key] = automata[k].expected(mask)
        return found

    while todo:
        r_mask, p_masks = todo.pop()
        if r_mask & r.accept:
            vectors.add(tuple(bool(m & p.accept) for m, p in zip(p_masks, ps, strict=True)))
        if not r_mask & r.wild:
            symbols: Iterable[str] = expected(0, r_mask)  # the requirement can only take these
        else:
            # Every character that is neither ":" nor a literal some automaton expects next leads to
            # the same states as the stand-in: stepping on the stand-in covers them all.
            symbols = {":", _OTHER} | expected(0, r_mask)
            for k, m in enumerate(p_masks, 1):
                symbols |= expected(k, m)
        for sym in symbols:
            r_next = step(0, r_mask, sym)
            if not r_next:
                continue
            state = (r_next, tuple(step(k, m, sym) for k, m in enumerate(p_masks, 1)))
            if state not in seen:
                if len(seen) >= budget:
                    raise _TooBig
                seen.add(state)
                todo.append(state)
    return vectors


def _joint_by_segment(r_tokens: tuple[Token, ...], p_tokens: list[tuple[Token, ...]]) -> set[tuple[bool, ...]] | None:
    """The match vectors of several patterns that all line up with the requirement colon for colon
    (None otherwise): per segment, the vectors its strings give; a whole string matches a pattern
    when every one of its segments does, and the segments' strings combine freely."""
    if _CROSSING in r_tokens:
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
def _segment_vectors(r_seg: tuple[Token, ...], p_segs: tuple[tuple[Token, ...], ...]) -> frozenset[tuple[bool, ...]]:
    """The match vectors of colon-free patterns over the strings of one requirement segment."""
    open_ = [i for i, seg in enumerate(p_segs) if seg != (_STAR,)]  # a lone star matches every string
    found = _open_vectors(r_seg, tuple(p_segs[i] for i in open_))
    out = set()
    for vector in found:
        full = [True] * len(p_segs)
        for i, value in zip(open_, vector, strict=True):
            full[i] = value
        out.add(tuple(full))
    return frozenset(out)


def _open_vectors(r_seg: tuple[Token, ...], p_segs: tuple[tuple[Token, ...], ...]) -> set[tuple[bool, ...]] | frozenset:
    if not p_segs:
        return {()}
    if len(p_segs) == 1:
        return {(v,) for v in _segment_pair(r_seg, p_segs[0])}
    shapes = [_shape(seg) for seg in p_segs]
    if _STAR in r_seg and all(shape is not None and shape[0] == "contains" for shape in shapes):
        return _substring_vectors(r_seg, tuple(shape[1] for shape in shapes))  # type: ignore[index]
    return _product(r_seg, list(p_segs), MAX_STATES)


def _substring_vectors(r_seg: tuple[Token, ...], texts: tuple[str, ...]) -> set[tuple[bool, ...]]:
    """Match vectors of `*X*` patterns over a requirement segment with a star. A string holds X_j iff
    a literal run of the segment holds it, or text put into the wildcards does. Putting the chosen
    texts into the star, each between characters no pattern uses, gives a string that holds exactly
    those, the texts they contain, and those the segment always holds; every string's set of held
    texts is of that form."""
    chunks = _chunks(r_seg)
    always = [any(x in c for c in chunks) for x in texts]
    vectors = set()
    for chosen in range(1 << len(texts)):
        picked = [x for i, x in enumerate(texts) if chosen >> i & 1]
        vectors.add(tuple(always[j] or any(x in y for y in picked) for j, x in enumerate(texts)))
    return vectors


@lru_cache(maxsize=CACHE_SIZE)
def match_classes(requirement: str, patterns: tuple[str, ...]) -> frozenset[tuple[bool, ...]]:
    """For every string the requirement describes, which patterns match it. Returns the set of
    distinct match vectors (one bool per pattern) over all those strings.

    Each pattern is first settled on its own: it matches none, all or only some of the strings.
    Only the "some" patterns need the joint automaton (their union may cover what none covers alone)."""
    kinds = [_pair(requirement, p) for p in patterns]
    partial = [i for i, k in enumerate(kinds) if len(k) == 2]
    if not partial:
        return frozenset({tuple(next(iter(k)) for k in kinds)})
    joint = None
    if len(partial) <= MAX_JOINT:
        r_tokens = requirement_pattern(requirement)
        p_tokens = [policy_pattern(patterns[i]).tokens for i in partial]
        try:
            joint = _joint_by_segment(r_tokens, p_tokens)
            if joint is None:
                joint = _product(r_tokens, p_tokens, MAX_STATES)
        except _TooBig:
            joint = None
    return _whole_vectors(kinds, partial, joint)


def _whole_vectors(kinds: Sequence[frozenset[bool]], partial: list[int],
                   joint: set[tuple[bool, ...]] | None) -> frozenset[tuple[bool, ...]]:
    """The match vectors over all patterns (or groups): each settled one's value, and the joint
    vectors in the partial places. `joint` None means the joint automaton gave up (too many partial
    patterns or states): assume each matches strings the others do not, and that some strings match
    none. Conservative: a union of partial grants is then not counted as coverage (never a false
    "granted"); a Deny that overlaps the requirement still denies."""
    if joint is None:
        joint = {tuple(j == i for j in range(len(partial))) for i in range(len(partial))}
        joint.add(tuple(False for _ in partial))
    out = set()
    for vector in joint:
        full = [k == _ALL for k in kinds]
        for i, value in zip(partial, vector, strict=True):
            full[i] = value
        out.add(tuple(full))
    return frozenset(out)


def _union_kind(requirement: str, group: tuple[str, ...]) -> frozenset[bool]:
    """`_pair` for "any pattern of the group": none, all or some of the requirement's strings."""
    kinds = [_pair(requirement, p) for p in group]
    if _ALL in kinds:
        return _ALL
    some = [p for p, kind in zip(group, kinds, strict=True) if kind == _SOME]
    if len(some) <= 1:
        return _SOME if some else _NONE
    r_tokens = requirement_pattern(requirement)
    patterns = [policy_pattern(p) for p in some]
    members = tuple(p.tokens for p in patterns)
    witness = _filled(r_tokens)
    if not any(_fullmatch(p.tokens, witness, p.ends) for p in patterns):
        return _SOME  # a string of the requirement that no pattern matches: the union misses it
    try:
        # pattern by pattern and segment by segment while that stays small, else one union automaton
        vectors = _joint_by_segment(r_tokens, list(members)) if len(members) <= MAX_JOINT else None
        if vectors is None:
            vectors = _search(_compile(r_tokens), [_union(members)], MAX_STATES)
    except _TooBig:
        return _SOME  # conservative, as in match_classes: the union is not counted as covering
    return _ALL if all(any(v) for v in vectors) else _SOME


@lru_cache(maxsize=CACHE_SIZE)
def _filled(r_tokens: tuple[Token, ...]) -> str:
    """One string of the requirement: every wildcard filled with a character patterns do not use."""
    return "".join(t[1] if t[0] == "c" else _OTHER for t in r_tokens)


@lru_cache(maxsize=CACHE_SIZE)
def group_classes(requirement: str, groups: tuple[tuple[str, ...], ...]) -> frozenset[tuple[bool, ...]]:
    """`match_classes` for groups of patterns, a group matching a string when any of its patterns
    does: a statement's Resource list is one group, so a list of partial patterns costs one
    automaton in the joint search, not one each."""
    if all(len(g) == 1 for g in groups):
        return match_classes(requirement, tuple(g[0] for g in groups))
    kinds = [_union_kind(requirement, g) for g in groups]
    partial = [i for i, k in enumerate(kinds) if k == _SOME]
    joint: set[tuple[bool, ...]] | None = None
    if len(partial) <= 1:
        joint = {(True,), (False,)} if partial else {()}
    elif len(partial) <= MAX_JOINT:
        try:
            members = [_union(tuple(policy_pattern(p).tokens for p in groups[i])) for i in partial]
            joint = _search(_compile(requirement_pattern(requirement)), members, MAX_STATES)
        except _TooBig:
            joint = None
    return _whole_vectors(kinds, partial, joint)


@lru_cache(maxsize=CACHE_SIZE)
def covers(requirement: str, pattern: str) -> bool:
    """True if the policy resource `pattern` matches every resource the requirement describes."""
    policy = policy_pattern(pattern)
    r_pre, r_suf = requirement_ends(requirement)
    p_pre, p_suf = policy.ends
    if not (r_pre.startswith(p_pre) and r_suf.endswith(p_suf)):
        return False  # the requirement has strings that leave the pattern's literal start or end
    if not _fullmatch(policy.tokens, _filled(requirement_pattern(requirement)), policy.ends):
        return False  # nor does it match the requirement's wildcard-filled string
    classes = match_classes(requirement, (pattern,))
    return bool(classes) and all(v[0] for v in classes)


@lru_cache(maxsize=CACHE_SIZE)
def strict_overlaps(a: str, b: str) -> bool:
    """Do two globs share a string when no `*` may cross a colon (ARN structure taken literally)?
    Used to judge resource types, where a region `*` swallowing ":layer:..." would be nonsense."""
    if a != "*" and b != "*" and "**" not in a and "**" not in b:  # colon for colon, on the strings
        sa, sb = a.split(":"), b.split(":")
        return len(sa) == len(sb) and all(_text_segments_overlap(x, y) for x, y in zip(sa, sb, strict=True))
    ta, tb = requirement_pattern(a), requirement_pattern(b)
    if not _may_overlap(ta, tb):
        return False
    for one, other in ((ta, tb), (tb, ta)):
        if all(t[0] == "c" for t in one):  # a plain string: one match decides
            return _fullmatch(other, "".join(t[1] for t in one))
    return any(v[0] for v in _product(ta, [tb]))


@lru_cache(maxsize=CACHE_SIZE)
def _text_segments_overlap(a: str, b: str) -> bool:
    """`_segment_overlap` for two colon-free segments as written (no `**`): equal text, a lone star
    and plain text settle it without tokens."""
    if a == b or a == "*" or b == "*":
        return True
    if not any(c in a or c in b for c in "*?"):
        return False
    return _segment_overlap(requirement_pattern(a), requirement_pattern(b))


def overlaps(requirement: str, pattern: str) -> bool:
    """True if the policy resource `pattern` matches at least one resource the requirement describes
    (`_pair` says so on its own: "some" means some strings match; no joint search is needed)."""
    return True in _pair(requirement, pattern)


# --- verdicts ---------------------------------------------------------------------------------

YES, MAYBE, NO = 2, 1, 0


@dataclass(frozen=True)
class Verdict:
    status: str
    granted_by: tuple[Statement, ...] = ()
    denied_by: tuple[Statement, ...] = ()
    notes: tuple[str, ...] = ()  # conditions and policy variables that make it conditional
    allowing: tuple[Statement, ...] = ()  # every Allow statement that names the action at all


def _statement_level(stmt: Statement, vector: tuple[bool, ...], fixed: int | None, variable: int | None) -> int:
    """The statement's level for one class of strings, from whether its plain patterns (`fixed`) and
    its patterns with policy variables (`variable`) match them (indexes into the vector)."""
    hit_fixed = fixed is not None and vector[fixed]
    hit_variable = variable is not None and vector[variable]
    if stmt.resources is not None:
        level = YES if hit_fixed else MAYBE if hit_variable else NO
    else:  # NotResource: the statement applies to strings none of its patterns match
        level = NO if hit_fixed else MAYBE if hit_variable else YES
    if level == YES and stmt.conditions:
        level = MAYBE
    return level


def _groups(relevant: Sequence[Statement]) -> tuple[tuple[tuple[str, ...], ...], list[tuple[int | None, int | None]]]:
    """Each statement's plain and variable patterns as groups (equal groups shared), and per statement
    the indexes of its two groups."""
    index: dict[tuple[str, ...], int] = {}
    slots = []
    for stmt in relevant:
        patterns = stmt.resources or stmt.not_resources or ()
        pair = []
        for wanted in (False, True):
            group = tuple(sorted({p for p in patterns if policy_pattern(p).has_variable == wanted}))
            pair.append(index.setdefault(group, len(index)) if group else None)
        slots.append((pair[0], pair[1]))
    return tuple(index), slots


def _notes(stmt: Statement) -> list[str]:
    out = [f"{stmt.label}: condition {c}" for c in stmt.conditions]
    for p in stmt.resources or stmt.not_resources or ():
        if policy_pattern(p).has_variable:
            out.append(f'{stmt.label}: policy variable in "{p}" is not resolved')
    return out


def _plain_allows(requirement: str, relevant: Sequence[Statement]) -> Verdict | None:
    """The common case, without match vectors: every statement is an Allow of plain Resource patterns
    (a Condition is allowed). A statement then grants on a string iff its patterns match it, fully or
    (with a condition) conditionally. So the action is missing somewhere iff the statements' union
    misses part of the requirement, conditional somewhere iff the union of those without a condition
    does, and the statements that grant anywhere are those that match at all. None when the
    statements are not all of that kind (the general search below decides)."""
    kinds = []
    for stmt in relevant:
        if stmt.effect != "Allow" or stmt.resources is None or any(policy_pattern(p).has_variable for p in stmt.resources):
            return None
        kinds.append(_union_kind(requirement, _resource_group(stmt)))
    pairs = list(zip(relevant, kinds, strict=True))
    matching = [s for s, kind in pairs if kind != _NONE]
    if not _union_covers(requirement, pairs):
        status = MISSING
    elif _union_covers(requirement, [(s, kind) for s, kind in pairs if not s.conditions]):
        status = GRANTED
    else:
        status = CONDITIONAL
    notes: list[str] = []
    if status == CONDITIONAL:
        for stmt in matching:
            if stmt.conditions:
                notes.extend(_notes(stmt))
        matching.sort(key=lambda s: not s.conditions)  # the conditional grants first
    return Verdict(status, tuple(matching), (), tuple(dict.fromkeys(notes)), tuple(relevant))


def _resource_group(stmt: Statement) -> tuple[str, ...]:
    """A statement's Resource patterns as one group: sorted, without repeats (how _union_kind keys them)."""
    return tuple(sorted(set(stmt.resources or ())))


def _union_covers(requirement: str, pairs: Sequence[tuple[Statement, frozenset[bool]]]) -> bool:
    """Do these statements' Resource patterns together cover the requirement? (Each statement with its
    `_union_kind`.) More than MAX_JOINT partial ones count as not covering, as in match_classes."""
    if any(kind == _ALL for _, kind in pairs):
        return True
    partial = [s for s, kind in pairs if kind == _SOME]
    if not partial or len({_resource_group(s) for s in partial}) > MAX_JOINT:
        return False
    return _union_kind(requirement, tuple(sorted({p for s in partial for p in s.resources or ()}))) == _ALL


def _evaluate_once(action: str, requirement: str, relevant: Sequence[Statement], match: str) -> Verdict:
    plain = _plain_allows(requirement, relevant) if match == "every" else None
    return plain if plain is not None else _by_vectors(requirement, relevant, match)


def _by_vectors(requirement: str, relevant: Sequence[Statement], match: str) -> Verdict:
    """The general case: every class of the requirement's strings, every statement's level on it."""
    groups, slots = _groups(relevant)
    classes = group_classes(requirement, groups) if groups else frozenset({()})
    outcomes: set[str] = set()
    granting: dict[int, Statement] = {}
    denying: dict[int, Statement] = {}
    maybe_from: dict[int, Statement] = {}
    for vector in classes:
        allow = deny = NO
        for stmt, (fixed, variable) in zip(relevant, slots, strict=True):
            level = _statement_level(stmt, vector, fixed, variable)
            if level == NO:
                continue
            key = id(stmt)
            if stmt.effect == "Allow":
                allow = max(allow, level)
                granting[key] = stmt
            else:
                deny = max(deny, level)
                denying[key] = stmt
            if level == MAYBE:
                maybe_from[key] = stmt
        if deny == YES:
            outcomes.add(DENIED)
        elif allow == YES and deny == NO:
            outcomes.add(GRANTED)
        elif allow != NO:
            outcomes.add(CONDITIONAL)
        else:
            outcomes.add(MISSING)
    order = (DENIED, MISSING, CONDITIONAL, GRANTED) if match == "every" else (GRANTED, CONDITIONAL, DENIED, MISSING)
    status = next((s for s in order if s in outcomes), MISSING)
    notes: list[str] = []
    granted_by = [s for s in relevant if id(s) in granting]  # statement order
    if status == CONDITIONAL:
        conditional = [s for s in relevant if id(s) in maybe_from]
        for stmt in conditional:
            notes.extend(_notes(stmt))
        granted_by.sort(key=lambda s: id(s) not in maybe_from)  # the conditional grants first
    denied_by = tuple(s for s in relevant if id(s) in denying)
    allowing = tuple(s for s in relevant if s.effect == "Allow")
    return Verdict(status, tuple(granted_by), denied_by, tuple(dict.fromkeys(notes)), allowing)


_RANK = {GRANTED: 0, CONDITIONAL: 1, MISSING: 2, DENIED: 3}


def evaluate(action: str, requirement: str, statements: Sequence[Statement], *, match: str = "every",
             free_region: bool = False, free_account: bool = False) -> Verdict:
    """Evaluate one required (action, resource pattern) against a principal's statements.

    `requirement` is an ARN pattern; with `free_region`/`free_account` its region/account segments
    were not given by the user, so each value the policy pins is tried and the best verdict counts.
    """
    relevant = [s for s in statements if statement_matches_action(s, action)]
    return evaluate_relevant(action, requirement, relevant, match=match, free_region=free_region, free_account=free_account)


def evaluate_relevant(action: str, requirement: str, relevant: Sequence[Statement], *, match: str = "every",
                      free_region: bool = False, free_account: bool = False) -> Verdict:
    """`evaluate` given only the statements whose Action names `action` (see ActionIndex)."""
    if not relevant:
        return Verdict(MISSING)
    best = _evaluate_once(action, requirement, relevant, match)
    if best.status == GRANTED or not (free_region or free_account) or not requirement.startswith("arn:"):
        return best
    parts = requirement.split(":", 5)
    if len(parts) < 6:
        return best
    for candidate in _candidates(parts, relevant, free_region, free_account):
        verdict = _evaluate_once(action, candidate, relevant, match)
        if _RANK[verdict.status] < _RANK[best.status]:
            best = verdict
            if best.status == GRANTED:
                break
    return best


def _candidates(parts: list[str], relevant: Sequence[Statement], free_region: bool,
                free_account: bool) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for stmt in relevant:
        for p in stmt.resources or ():
            if "${" in p or not p.startswith("arn:"):
                continue
            q = p.split(":", 5)
            if len(q) < 6:
                continue
            region = q[3] if free_region else parts[3]
            account = q[4] if free_account else parts[4]
            cand = ":".join([*parts[:3], region, account, parts[5]])
            if cand not in seen:
                seen.add(cand)
                out.append(cand)
    return out


def within_boundary(verdict: Verdict, boundary: Verdict, boundary_name: str) -> Verdict:
    """What the identity policies grant, limited by a permissions boundary: an action is granted
    only if the boundary allows it too; a Deny in either wins."""
    if verdict.status == DENIED or boundary.status == GRANTED:
        return verdict
    if boundary.status == DENIED:
        return Verdict(DENIED, verdict.granted_by, boundary.denied_by,
                       (*verdict.notes, f"denied by the permissions boundary {boundary_name}"), verdict.allowing)
    if verdict.status == MISSING:
        return verdict
    if boundary.status == MISSING:
        return Verdict(MISSING, verdict.granted_by, verdict.denied_by,
                       (*verdict.notes, f"not allowed by the permissions boundary {boundary_name}"), verdict.allowing)
    return Verdict(CONDITIONAL, verdict.granted_by, verdict.denied_by,
                   (*verdict.notes, *boundary.notes, f"the permissions boundary {boundary_name} allows it only conditionally"),
                   verdict.allowing)
