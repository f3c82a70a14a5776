"""IAM patterns read from text: a policy's Resource values and a requirement's resources as glob
tokens (auditor/automata.py), the shape every question of auditor/globs.py is asked about.

A policy pattern's `*` and `?` stay inside one colon-separated segment, except that a `*` ending a
segment (followed by ":" or the end) may also run across the following colons; `${*}`, `${?}` and
`${$}` are those characters, an IAM policy variable (`${aws:username}`) matches like `*` within a
segment and marks the pattern, and any other `${...}` (a shell placeholder) is literal text. A
requirement's `*` is any name without a colon, `**` any string, a name part any run of its
characters, and a lone "*" the literal resource "*".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from auditor.automata import CACHE_SIZE, COLON, CROSSING, ONE, ONE_KIND, ONLY, STAR, STAR_KIND, Token, char, literal_ends
from auditor.name_parts import Named, Text

Glob = tuple[Token, ...]

_VAR = re.compile(r"\$\{([^}]*)\}")


@dataclass(frozen=True)
class Pattern:
    """A policy Resource/NotResource value, tokenised."""

    tokens: Glob
    has_variable: bool  # an IAM policy variable: the pattern matches only conditionally
    ends: tuple[str, str]  # the literal text before the first wildcard and after the last one


def is_iam_variable(name: str) -> bool:
    """`${aws:username}` and service keys are IAM policy variables; `${MY_PREFIX}` is not."""
    return ":" in name


@lru_cache(maxsize=4 * CACHE_SIZE)  # every check tokenises every resource: a policy of 3,000 statements has 6,000
def policy_pattern(text: str) -> Pattern:
    """Tokenise a Resource/NotResource value from a policy."""
    raw: list[Token | None] = []  # None: a star, decided below (does it end a segment?)
    has_variable = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "$" and text.startswith("${", i):
            m = _VAR.match(text, i)
            if m:
                name = m.group(1)
                if name in ("*", "?", "$"):
                    raw.append(char(name))
                elif is_iam_variable(name):
                    raw.append(STAR)
                    has_variable = True
                else:
                    raw.extend(char(c) for c in m.group(0))
                i = m.end()
                continue
        raw.append(None if ch == "*" else ONE if ch == "?" else char(ch))
        i += 1
    tokens = tuple(tok if tok is not None else CROSSING if k + 1 == len(raw) or raw[k + 1] == COLON else STAR
                   for k, tok in enumerate(raw))
    return Pattern(tokens, has_variable, literal_ends(tokens))


@lru_cache(maxsize=CACHE_SIZE)  # rendered requirements and their region/account candidates
def requirement_pattern(requirement: Text) -> Glob:
    """Tokenise a requirement's resource. Its `*` is any name without a colon, `**` any string (AWS
    ARN formats whose last part may hold colons), and a name part (name_parts.NamePart) any run of its
    characters (at least one when it says so). A lone "*" is the literal resource "*" that actions
    without resource-level permissions are evaluated against."""
    if requirement == "*":
        return (char("*"),)
    if isinstance(requirement, str):
        return _text_tokens(requirement)
    out: list[Token] = []
    for piece in requirement.pieces:
        if isinstance(piece, str):
            out.extend(_text_tokens(piece))
            continue
        key = ONLY + "".join(sorted(piece.chars))
        if piece.least:
            out.append((ONE_KIND, key))
        out.append((STAR_KIND, key))
    return tuple(out)


def _text_tokens(text: str) -> Glob:
    out: list[Token] = []
    i = 0
    while i < len(text):
        if text.startswith("**", i):
            out.append(CROSSING)
            i += 2
            continue
        ch = text[i]
        out.append(STAR if ch == "*" else ONE if ch == "?" else char(ch))
        i += 1
    return tuple(out)


def widened(requirement: Named) -> str:
    """The requirement with every name part as a plain `*` (`?*` for one of at least one character):
    a superset of its strings, since a name part never holds a colon. Whatever matches all (or none)
    of the superset matches all (or none) of the requirement; only "some" needs the exact answer."""
    wide = "".join(p if isinstance(p, str) else "?*" if p.least else "*" for p in requirement.pieces)
    return "**" if wide == "*" else wide  # a lone "*" would be the literal resource "*"; "**" is a superset too
