"""Directory arguments: the policy files under a directory, recursively, in a stable order.

What counts as a candidate is the readers' file name endings (auditor.sources.EXTENSIONS: policy JSON,
Terraform, plans, CloudFormation templates), so a new reader is searched for without a change here.
Hidden directories (.git, .venv, ...) and dependency folders are not entered; symbolic links to
directories are not followed (no loops). Files found this way that are not IAM policies are skipped
quietly, as with --skip-non-policies; files named on the command line are always reported. Only regular
files are candidates: a FIFO or a device (or a link to one) is skipped with one line. The walk is
bounded: at most MAX_VISITED entries are looked at and MAX_FOUND candidates kept per run; past either,
the run stops (WalkError, exit 2) rather than audit part of a tree.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

from auditor.sources import EXTENSIONS
from auditor.sources.file import not_regular

SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "vendor", "venv"})
MAX_VISITED = 100_000  # directory entries looked at in one run
MAX_FOUND = 10_000  # candidate files kept in one run


class WalkError(Exception):
    """A directory holds more than one run walks; the message is one line."""


@dataclass
class Walk:
    """What the directory arguments of one run gave: the walk's counters are shared by all of them."""

    visited: int = 0
    found: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # one line each: a FIFO, a device, ...

    def candidates(self, directory: str) -> list[str]:
        """The regular files under `directory` whose names end with one of EXTENSIONS, sorted, paths joined
        to it."""
        start = len(self.found)
        for root, dirs, files in os.walk(directory, followlinks=False):
            self.visited += len(dirs) + len(files)
            if self.visited > MAX_VISITED:
                raise WalkError(f"{directory}: more than {MAX_VISITED:,} entries to look at; name the directories "
                                "that hold the policies")
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS)
            for name in sorted(files):
                if not name.lower().endswith(EXTENSIONS):
                    continue
                path = os.path.normpath(os.path.join(root, name))
                try:
                    kind = not_regular(os.stat(path).st_mode)
                except OSError:
                    kind = "unreadable (a broken link?)"
                if kind:
                    self.skipped.append(f"skipped {path}: not a regular file ({kind})")
                    continue
                if os.path.islink(path) and not inside(path, directory):
                    self.skipped.append(f"skipped {path}: a symbolic link out of {directory}")
                    continue
                self.found.append(path)
                if len(self.found) > MAX_FOUND:
                    raise WalkError(f"{directory}: more than {MAX_FOUND:,} policy candidates in one run; name the "
                                    "directories that hold the policies")
        return self.found[start:]


def inside(path: str, directory: str) -> bool:
    """Does `path`, its links resolved, lie in `directory` (its links resolved)?"""
    real, top = os.path.realpath(path), os.path.realpath(directory)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def glob_files(base: str, pattern: str, walk: Walk | None = None) -> list[str]:
    """The regular files under `base` that a config's policy-set glob names, as absolute paths, sorted.
    Glob syntax as Python's glob: components split at "/", `*`, `?` and `[...]` within one component
    (a leading "." matched only by a "."), `**` any number of directories. The walk is a Walk's: it
    never follows a link to a directory (no loop), looks at no more than MAX_VISITED entries (WalkError
    past them), descends only as deep as the glob can reach, and skips a link to a file out of `base`."""
    from auditor.ignores import compile_glob, glob_match

    walk = walk or Walk()
    parts = [p for p in pattern.replace(os.sep, "/").split("/") if p not in ("", ".")]
    literal = 0
    while literal < len(parts) - 1 and not set(parts[literal]) & set("*?["):
        literal += 1
    start = os.path.join(base, *parts[:literal])
    globs = [p for i, p in enumerate(parts[literal:]) if not (p == "**" and parts[literal:][i - 1:i] == ["**"])]  # "**/**" is "**"
    rest = [None if p == "**" else compile_glob(p) for p in globs]
    deep = None in rest
    found: list[str] = []

    def matches(names: list[str]) -> bool:
        """Do these path components match the glob's components? Each (component, name) pair is decided
        once (a table, not a search): at most len(globs) × len(names)² steps with `**`."""
        @cache
        def at(g: int, i: int) -> bool:
            if g == len(rest):
                return i == len(names)
            token = rest[g]
            if token is None:  # any number of directories, none hidden
                return at(g + 1, i) or (i < len(names) and not names[i].startswith(".") and at(g, i + 1))
            return (i < len(names) and (not names[i].startswith(".") or globs[g].startswith("."))
                    and glob_match(token, names[i]) and at(g + 1, i + 1))

        return at(0, 0)

    if not os.path.isdir(start) or os.path.islink(start):
        return []
    for root, dirs, files in os.walk(start, followlinks=False):
        walk.visited += len(dirs) + len(files)
        if walk.visited > MAX_VISITED:
            raise WalkError(f"policy-set {pattern!r}: more than {MAX_VISITED:,} entries to look at under {base}")
        depth = 0 if root == start else os.path.relpath(root, start).count(os.sep) + 1
        if not deep and depth >= len(rest) - 1:
            dirs[:] = []
        for name in files:
            path = os.path.join(root, name)
            names = os.path.relpath(path, start).split(os.sep)
            if matches(names) and os.path.isfile(path) and (not os.path.islink(path) or inside(path, base)):
                found.append(os.path.abspath(path))
    return sorted(found)


def expand(paths: Sequence[str]) -> tuple[list[str], frozenset[str], list[str], list[str]]:
    """(the paths with each directory replaced by its candidates, the paths that came from a directory,
    the directories that had none, a line for each file skipped). Raises WalkError past the walk's caps."""
    out: list[str] = []
    walked: set[str] = set()
    empty: list[str] = []
    walk = Walk()
    for path in paths:
        if path != "-" and os.path.isdir(path):
            found = walk.candidates(path)
            if not found:
                empty.append(path)
            out += found
            walked.update(found)
        else:
            out.append(path)
    return list(dict.fromkeys(out)), frozenset(walked), empty, walk.skipped
