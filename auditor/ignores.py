"""Config ignores, matched without backtracking and looked up in an index.

An ignore's `file` is a glob: `*` matches any run of characters ("/" included, as fnmatch does), `?` one
character, `[abc]`, `[a-z]` and `[!abc]` one character of (or not of) a set; anything else matches
itself. A glob is compiled once into tokens, and matched by the two-pointer wildcard walk: the text is
read left to right, and only the last `*` is ever resumed, so a match costs at most (length of the path ×
number of tokens) steps, whatever the glob (fnmatch's regular expressions are compiled per pattern, and
past its cache of 32,768 every call compiles again).

`Index` holds one config's ignores: per audited path, the ignores whose glob matches it (each glob tried
once per path), keyed by (rule, pointer), so a finding looks up its rule and the pointer prefixes it
lies under, never every ignore. The first matching ignore in the file's order wins, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from auditor.report import Finding

_MAGIC = frozenset("*?[")
_STAR = None  # a token: None is `*`, "" is `?`, a _Class a set of characters, any other str a literal character


class _Class(NamedTuple):
    members: frozenset[str]
    ranges: tuple[tuple[str, str], ...]
    negate: bool

    def has(self, ch: str) -> bool:
        return (ch in self.members or any(a <= ch <= b for a, b in self.ranges)) != self.negate


def _class(glob: str, at: int) -> tuple[_Class, int] | None:
    """The character class starting at glob[at] == "[", and where it ends; None when it is not closed
    (then "[" is a literal, as fnmatch reads it)."""
    i = at + 1
    negate = i < len(glob) and glob[i] == "!"
    if negate:
        i += 1
    start = i
    if i < len(glob) and glob[i] == "]":  # a "]" first is a member
        i += 1
    end = glob.find("]", i)
    if end < 0:
        return None
    body = glob[start:end]
    members: set[str] = set()
    ranges: list[tuple[str, str]] = []
    j = 0
    while j < len(body):
        if j + 2 < len(body) and body[j + 1] == "-":
            ranges.append((body[j], body[j + 2]))
            j += 3
        else:
            members.add(body[j])
            j += 1
    return _Class(frozenset(members), tuple(ranges), negate), end + 1


@lru_cache(maxsize=4096)  # a glob is compiled once however many paths it meets
def compile_glob(glob: str) -> tuple[object, ...]:
    tokens: list[object] = []
    i = 0
    while i < len(glob):
        ch = glob[i]
        if ch == "*":
            if not tokens or tokens[-1] is not _STAR:  # "**" is "*"
                tokens.append(_STAR)
            i += 1
        elif ch == "?":
            tokens.append("")
            i += 1
        elif ch == "[" and (found := _class(glob, i)) is not None:
            tokens.append(found[0])
            i = found[1]
        else:
            tokens.append(ch)
            i += 1
    return tuple(tokens)


def _one(token: object, ch: str) -> bool:
    if isinstance(token, _Class):
        return token.has(ch)
    return token == "" or token == ch


def glob_match(tokens: Sequence[object], text: str) -> bool:
    """Does the compiled glob match all of `text`? At most len(text) × len(tokens) steps."""
    t = p = 0
    star_p, star_t = -1, 0
    while t < len(text):
        if p < len(tokens) and tokens[p] is not _STAR and _one(tokens[p], text[t]):
            t += 1
            p += 1
        elif p < len(tokens) and tokens[p] is _STAR:
            star_p, star_t = p, t
            p += 1
        elif star_p >= 0:  # resume the last star one character further: earlier stars never need it
            star_t += 1
            t, p = star_t, star_p + 1
        else:
            return False
    while p < len(tokens) and tokens[p] is _STAR:
        p += 1
    return p == len(tokens)


def file_matches(glob: str, path: str) -> bool:
    """An ignore's `file` against a path relative to the config's directory: the whole path, or, for a
    glob without "/", the file name at any depth."""
    tokens = compile_glob(glob)
    return glob_match(tokens, path) or ("/" not in glob and glob_match(tokens, path.rpartition("/")[2]))


@dataclass(frozen=True)
class Ignore:
    reason: str
    file: str = "*"
    rule: str | None = None
    sid: str | None = None
    pointer: str | None = None
    number: int = 0  # its place among the config's ignores, from 1
    line: int | None = None  # where it starts in the config file

    def matches_file(self, path: str) -> bool:
        """`path`: relative to the config file's directory (or an AWS policy name). A glob: `*` any run of
        characters ("/" too), `?` one, `[...]` one of a set (auditor.ignores, linear in the path)."""
        return file_matches(self.file, path)

    def matches(self, finding: Finding, path: str | None = None) -> bool:
        loc = finding.location
        if not self.matches_file(loc.source if path is None else path):
            return False
        if self.rule is not None and self.rule != finding.rule_id:
            return False
        if self.sid is not None and self.sid != loc.sid:
            return False
        if self.pointer is not None and not (loc.pointer == self.pointer or loc.pointer.startswith(self.pointer + "/")):
            return False
        return True



def _prefixes(pointer: str) -> list[str]:
    """The pointers an ignore's `pointer` may be to match this one: itself and each of its parents ("" too)."""
    out = [pointer]
    at = pointer.rfind("/")
    while at >= 0:
        out.append(pointer[:at])
        at = pointer.rfind("/", 0, at)
    return out


class Index:
    """One config's ignores, looked up by path, rule and pointer. `glob_tests` counts the glob matches
    made (each glob at most twice per distinct path: whole path and file name)."""

    def __init__(self, ignores: Sequence[Ignore]) -> None:
        self.ignores = tuple(ignores)
        self.glob_tests = 0
        self._literal: dict[str, list[Ignore]] = {}  # a file without wildcards: by path
        self._named: dict[str, list[Ignore]] = {}  # ... and without "/": by file name at any depth
        self._globs: list[Ignore] = []
        for ignore in self.ignores:
            if _MAGIC & set(ignore.file):
                self._globs.append(ignore)
            else:
                self._literal.setdefault(ignore.file, []).append(ignore)
                if "/" not in ignore.file:
                    self._named.setdefault(ignore.file, []).append(ignore)
        self._matched: dict[str, list[Ignore]] = {}  # path → the ignores whose file matches it
        self._paths: dict[str, dict[tuple[str | None, str | None, str | None], Ignore]] = {}

    def matching(self, path: str) -> list[Ignore]:
        """The ignores whose `file` matches `path`, in the file's order (found once per path)."""
        known = self._matched.get(path)
        if known is not None:
            return known
        found = {id(i): i for i in (*self._literal.get(path, ()), *self._named.get(path.rpartition("/")[2], ()))}
        for ignore in self._globs:
            self.glob_tests += 1
            if file_matches(ignore.file, path):
                found[id(ignore)] = ignore
        self._matched[path] = sorted(found.values(), key=lambda i: i.number)
        return self._matched[path]

    def _table(self, path: str) -> dict[tuple[str | None, str | None, str | None], Ignore]:
        """(rule, pointer, sid) → the first ignore for `path` that names them (None: does not name one)."""
        table = self._paths.get(path)
        if table is None:
            table = {}
            for ignore in self.matching(path):
                table.setdefault((ignore.rule, ignore.pointer, ignore.sid), ignore)
            self._paths[path] = table
        return table

    def first(self, finding: Finding, path: str) -> Ignore | None:
        """The first ignore (by its number) that matches the finding at `path`: its rule or none, its Sid
        or none, and its pointer, one of its parents or none."""
        table = self._table(path)
        if not table:
            return None
        loc = finding.location
        found = [ignore for rule in (finding.rule_id, None) for sid in {loc.sid, None}
                 for pointer in (*_prefixes(loc.pointer), None) if (ignore := table.get((rule, pointer, sid))) is not None]
        return min(found, key=lambda i: i.number, default=None)
