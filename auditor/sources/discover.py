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
                self.found.append(path)
                if len(self.found) > MAX_FOUND:
                    raise WalkError(f"{directory}: more than {MAX_FOUND:,} policy candidates in one run; name the "
                                    "directories that hold the policies")
        return self.found[start:]


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
