"""Globs as automata: the exact machinery under auditor/globs.py.

A glob is a tuple of tokens, plain tuples (cheap to hash, shared through the caches):

    ("c", ch)     one literal character                         LITERAL kind
    ("s", cls)    a star: any run of characters of class cls    STAR_KIND
    ("q", cls)    a `?`: one character of class cls             ONE_KIND

A class is a key of CLASSES: "segment" (every character but ":", the `*` and `?` of IAM resource
patterns and a requirement's `*`) or "any" (every character: a policy `*` that ends a segment, a
requirement's `**`). The automaton, the product search and `fullmatch` honour any CharClass; the
shortcuts of globs.py are argued for these two only. A requirement whose names are restricted to an
alphabet (say, Jets' `[A-Za-z0-9_-]`) would be tokens with a class of its own, added to CLASSES;
the search then answers exactly, and each shortcut in globs.py says which classes its argument needs.

`search` is the reference: every shortcut in globs.py is argued against it and property-tested
against it (tests/test_globs_property.py), and it is tested against brute force itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

Token = tuple[str, str]
LITERAL, STAR_KIND, ONE_KIND = "c", "s", "q"

OTHER = "\x00"  # stands for every character no automaton of a search treats apart (see search)
CACHE_SIZE = 1024  # entries per memo: what one policy and its neighbours reuse; an account audit stays bounded


@dataclass(frozen=True)
class CharClass:
    """The characters one wildcard position stands for: every character but `excluded`, or, when
    `only` is given, the characters of `only` but `excluded`."""

    excluded: frozenset[str] = frozenset()
    only: frozenset[str] | None = None

    def admits(self, ch: str) -> bool:
        return ch not in self.excluded and (self.only is None or ch in self.only)

    @property
    def mentioned(self) -> frozenset[str]:
        """The characters the class may treat apart from one it does not name."""
        return self.excluded | (self.only or frozenset())


CLASSES: Mapping[str, CharClass] = {"segment": CharClass(frozenset(":")), "any": CharClass()}
ONLY = "only:"  # a class key "only:CHARS" is the class of exactly those characters (a name part, see globs)


@lru_cache(maxsize=CACHE_SIZE)
def char_class(key: str) -> CharClass:
    """The class a wildcard token names: "segment", "any", or "only:" and its characters."""
    if key.startswith(ONLY):
        return CharClass(only=frozenset(key[len(ONLY):]))
    return CLASSES[key]

STAR: Token = (STAR_KIND, "segment")  # a star within one segment
CROSSING: Token = (STAR_KIND, "any")  # a star that may run across colons
ONE: Token = (ONE_KIND, "segment")  # ? : one character of a segment


@lru_cache(maxsize=CACHE_SIZE)  # interning: without it each pattern held a tuple per character (8 MB on the AWS corpus)
def char(ch: str) -> Token:
    """The token of one literal character (one tuple per character, shared by every pattern)."""
    return (LITERAL, ch)


COLON = char(":")


def is_plain(tokens: Sequence[Token]) -> bool:
    """No wildcard: the tokens spell one string."""
    return all(t[0] == LITERAL for t in tokens)


def text_of(tokens: Iterable[Token]) -> str:
    """The characters of literal tokens, in order (wildcards skipped)."""
    return "".join(t[1] for t in tokens if t[0] == LITERAL)


@lru_cache(maxsize=CACHE_SIZE)
def literal_ends(tokens: tuple[Token, ...]) -> tuple[str, str]:
    """The literal text before the first wildcard and after the last one (each the whole text when
    there is no wildcard)."""
    wild = [i for i, t in enumerate(tokens) if t[0] != LITERAL]
    if not wild:
        text = text_of(tokens)
        return text, text
    return text_of(tokens[:wild[0]]), text_of(tokens[wild[-1] + 1:])


def chunks(tokens: Sequence[Token]) -> list[str]:
    """The literal runs between wildcards (with an empty run at either end, or between two
    wildcards side by side)."""
    out, current = [], []
    for tok in tokens:
        if tok[0] == LITERAL:
            current.append(tok[1])
        else:
            out.append("".join(current))
            current = []
    out.append("".join(current))
    return out


# --- automata as bit masks -------------------------------------------------------------------------

@dataclass(frozen=True)
class Automaton:
    """A glob's NFA as bit masks: bit i set means "i tokens matched"; bit len(tokens) accepts."""

    start: int
    accept: int
    literal: dict[str, int]  # character → positions whose token is that literal character
    stars: int  # positions of every star
    wild: int  # positions of every wildcard
    wildcards: tuple[tuple[CharClass, int, int], ...]  # per class: its stars' positions, its ?s' positions

    def close(self, mask: int) -> int:
        return _closed(mask, self.stars)

    def step(self, mask: int, sym: str) -> int:
        advance = self.literal.get(sym, 0)
        stay = 0
        for cls, stars, ones in self.wildcards:
            if cls.admits(sym):
                stay |= stars
                advance |= ones
        return self.close(((mask & advance) << 1) | (mask & stay))

    def expected(self, mask: int) -> set[str]:
        """The literal characters the positions in `mask` take next (one test per distinct character)."""
        return {c for c, positions in self.literal.items() if mask & positions}

    @property
    def mentioned(self) -> frozenset[str]:
        """Characters some wildcard class of the automaton treats apart (":" for segment wildcards)."""
        return frozenset().union(*(cls.mentioned for cls, _, _ in self.wildcards))


def _closed(mask: int, stars: int) -> int:
    """A star may match nothing: every star position reached also reaches the position after it."""
    while True:
        grown = mask | ((mask & stars) << 1)
        if grown == mask:
            return mask
        mask = grown


def _assemble(start: int, accept: int, literal: dict[str, int], by_class: dict[CharClass, list[int]]) -> Automaton:
    wildcards = tuple((cls, stars, ones) for cls, (stars, ones) in by_class.items())
    stars = wild = 0
    for _, s, o in wildcards:
        stars |= s
        wild |= s | o
    return Automaton(_closed(start, stars), accept, literal, stars, wild, wildcards)


@lru_cache(maxsize=CACHE_SIZE)
def compile_glob(tokens: tuple[Token, ...]) -> Automaton:
    literal: dict[str, int] = {}
    by_class: dict[CharClass, list[int]] = {}
    for i, (kind, value) in enumerate(tokens):
        bit = 1 << i
        if kind == LITERAL:
            literal[value] = literal.get(value, 0) | bit
        else:
            masks = by_class.setdefault(char_class(value), [0, 0])
            masks[0 if kind == STAR_KIND else 1] |= bit
    return _assemble(1, 1 << len(tokens), literal, by_class)


@lru_cache(maxsize=CACHE_SIZE)
def union_of(members: tuple[tuple[Token, ...], ...]) -> Automaton:
    """One automaton for "any of these globs": their bit masks side by side. A member's stars and
    characters only ever move its bits up to its own accepting bit, so the members never mix."""
    if len(members) == 1:
        return compile_glob(members[0])
    start = accept = 0
    literal: dict[str, int] = {}
    by_class: dict[CharClass, list[int]] = {}
    offset = 0
    for tokens in members:
        bits = compile_glob(tokens)
        start |= bits.start << offset
        accept |= bits.accept << offset
        for ch, mask in bits.literal.items():
            literal[ch] = literal.get(ch, 0) | mask << offset
        for cls, stars, ones in bits.wildcards:
            masks = by_class.setdefault(cls, [0, 0])
            masks[0] |= stars << offset
            masks[1] |= ones << offset
        offset += len(tokens) + 1
    return _assemble(start, accept, literal, by_class)


STEPS_PER_STATE = 16  # word-sized automaton steps per product state, on average, before the search gives up


class TooBig(Exception):
    """The product search reached its budget: `budget` product states, or STEPS_PER_STATE times as many
    automaton steps, each on 64 positions (a state of long patterns may try dozens of characters)."""


Vectors = set[tuple[bool, ...]]


def representatives(automata: Sequence[Automaton]) -> set[str]:
    """Characters that stand for every character in a search, beside the literals a state expects.

    Two characters that no automaton has as a literal, and that every wildcard class admits alike, take
    every automaton from every state to the same place: one of them stands for both. So each
    "signature" (which classes admit the character) of the characters some class treats apart, and of
    the rest (OTHER's), needs one such character. A signature whose characters are all literals of
    some automaton keeps each of them (they are few: a state expecting one tries it anyway, and the
    others must be tried where none is expected); the rest's signature always has a character named
    nowhere (OTHER, or a private-use character when a policy wrote OTHER itself)."""
    literals = set().union(*(a.literal for a in automata))
    mentioned = frozenset().union(*(a.mentioned for a in automata))
    classes = list(dict.fromkeys(cls for a in automata for cls, _, _ in a.wildcards))
    spare = next(c for c in itertools.chain(OTHER, map(chr, range(0xE000, 0xF900))) if c not in literals and c not in mentioned)
    groups: dict[tuple[bool, ...], list[str]] = {}
    for ch in sorted(mentioned | {spare}):
        groups.setdefault(tuple(cls.admits(ch) for cls in classes), []).append(ch)
    out: set[str] = set()
    for members in groups.values():
        unnamed = [ch for ch in members if ch not in literals]
        out.update(unnamed[:1] or members)
    return out


def search(r: Automaton, ps: Sequence[Automaton], *, budget: int) -> Vectors:
    """The product search: the requirement automaton `r` run in step with every pattern automaton of
    `ps`. Returns the match vectors (one bool per pattern: does it match?) of the requirement's
    strings, that is, the vectors seen where `r` accepts. Raises TooBig past `budget` product states or
    `budget * STEPS_PER_STATE` automaton steps, a step on a pattern of n tokens counting n // 64 + 1:
    the work of one search is O(budget * STEPS_PER_STATE) word operations, whatever the patterns.

    Only some characters need trying from a state: the literals the automata expect next, and one
    character for each way the wildcard classes can take a character (`representatives`). A character
    no literal of the state expects takes each automaton where a character that no automaton names
    at all, admitted by the same classes, takes it. A requirement with no wildcard active can only
    take the literals it expects."""
    start = (r.start, tuple(p.start for p in ps))
    seen = {start}
    todo = [start]
    vectors: Vectors = set()
    steps: dict[tuple[int, int, str], int] = {}  # (automaton, mask, symbol) → next mask
    wants: dict[tuple[int, int], set[str]] = {}  # (automaton, mask) → literal characters expected next
    automata = [r, *ps]
    special = representatives(automata)
    tries = budget * STEPS_PER_STATE
    weight = sum(a.accept.bit_length() // 64 + 1 for a in automata)  # the steps of trying one character

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
            symbols: set[str] = expected(0, r_mask)
        else:
            symbols = special | expected(0, r_mask)
            for k, m in enumerate(p_masks, 1):
                symbols |= expected(k, m)
        tries -= len(symbols) * weight
        if tries < 0:
            raise TooBig
        for sym in symbols:
            r_next = step(0, r_mask, sym)
            if not r_next:
                continue
            state = (r_next, tuple(step(k, m, sym) for k, m in enumerate(p_masks, 1)))
            if state not in seen:
                if len(seen) >= budget:
                    raise TooBig
                seen.add(state)
                todo.append(state)
    return vectors


def product(r_tokens: tuple[Token, ...], p_tokens: Sequence[tuple[Token, ...]], *, budget: int) -> Vectors:
    """`search` on globs given as tokens."""
    return search(compile_glob(r_tokens), [compile_glob(t) for t in p_tokens], budget=budget)


def can_start(tokens: tuple[Token, ...], text: str) -> bool:
    """Does some string of the glob start with `text`? (Its automaton is still alive after `text`.)"""
    bits = compile_glob(tokens)
    mask = bits.start
    for ch in text:
        mask = bits.step(mask, ch)
        if not mask:
            return False
    return True


# --- two globs of one segment: the star table ------------------------------------------------------

def table_overlaps(a: tuple[Token, ...], b: tuple[Token, ...]) -> bool:
    """Do two colon-free globs (every wildcard of class "segment") share a string? The classic
    table: fits[i][j] says whether a[i:] and b[j:] share one; a star either ends or takes the other
    side's next token (a character, a `?`, or the other star, which then ends first)."""
    n, m = len(a), len(b)
    fits = [[False] * (m + 1) for _ in range(n + 1)]
    fits[n][m] = True
    for i in range(n, -1, -1):
        for j in range(m, -1, -1):
            if i == n and j == m:
                continue
            if i < n and a[i] == STAR:
                fits[i][j] = fits[i + 1][j] or (j < m and fits[i][j + 1])
            elif j < m and b[j] == STAR:
                fits[i][j] = fits[i][j + 1] or (i < n and fits[i + 1][j])
            elif i < n and j < m:
                fits[i][j] = (a[i] == b[j] or a[i] == ONE or b[j] == ONE) and fits[i + 1][j + 1]
    return fits[0][0]


# --- a glob against one string ---------------------------------------------------------------------

def fullmatch(tokens: tuple[Token, ...], text: str, ends: tuple[str, str] | None = None) -> bool:
    """Does `text` match the glob? Its literal ends (`ends` when the caller has them) are compared as
    strings, and only the part between them is matched by `_middle_matcher`: most ARN patterns then
    need no regular expression, and the others a short one."""
    pre, suf = ends if ends is not None else literal_ends(tokens)
    if len(pre) == len(tokens):  # no wildcard: each literal token is one character
        return text == pre
    end = len(text) - len(suf)
    if end < len(pre) or not text.startswith(pre) or not text.endswith(suf):
        return False
    return _middle_matcher(tokens[len(pre):len(tokens) - len(suf)])(text, len(pre), end)


@lru_cache(maxsize=CACHE_SIZE)
def _middle_matcher(middle: tuple[Token, ...]) -> Callable[[str, int, int], bool]:
    """How `fullmatch` tests the part between a glob's literal ends, which starts and ends with a
    wildcard. When every wildcard is a star that may cross colons (`*:*:function:*`, the usual ARN
    pattern), the literal runs between them are found in order, leftmost first, which is exact for
    stars that take any character (O(len(text) * len(glob))). Anything else runs the glob's bit-mask
    automaton over the text, one step per character: O(len(text) * len(glob) * stars in a row / 64)
    word operations, with no backtracking whatever the text (no regular expression is ever built
    from policy text)."""
    if all(t[0] == LITERAL or t == CROSSING for t in middle):
        runs = [run for run in chunks(middle) if run]

        def in_order(text: str, start: int, end: int) -> bool:
            for run in runs:
                at = text.find(run, start, end)
                if at < 0:
                    return False
                start = at + len(run)
            return True

        return in_order
    bits = compile_glob(middle)

    def simulate(text: str, start: int, end: int) -> bool:
        mask = bits.start
        for i in range(start, end):
            mask = bits.step(mask, text[i])
            if not mask:
                return False
        return bool(mask & bits.accept)

    return simulate
