"""Directory arguments: the policy files under a directory, recursively, in a stable order.

What counts as a candidate is the readers' file name endings (auditor.sources.EXTENSIONS: policy JSON,
Terraform, plans, CloudFormation templates), so a new reader is searched for without a change here.
Hidden directories (.git, .venv, ...) and dependency folders are not entered; symbolic links to
directories are not followed (no loops). Files found this way that are not IAM policies are skipped
quietly, as with --skip-non-policies; files named on the command line are always reported.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from auditor.sources import EXTENSIONS

SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "vendor", "venv"})


def candidates(directory: str) -> list[str]:
    """The files under `directory` whose names end with one of EXTENSIONS, sorted, paths joined to it."""
    found: list[str] = []
    for root, dirs, files in os.walk(directory, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS)
        found += [os.path.normpath(os.path.join(root, f)) for f in sorted(files) if f.lower().endswith(EXTENSIONS)]
    return found


def expand(paths: Sequence[str]) -> tuple[list[str], frozenset[str], list[str]]:
    """(the paths with each directory replaced by its candidates, the paths that came from a directory,
    the directories that had none)."""
    out: list[str] = []
    walked: set[str] = set()
    empty: list[str] = []
    for path in paths:
        if path != "-" and os.path.isdir(path):
            found = candidates(path)
            if not found:
                empty.append(path)
            out += found
            walked.update(found)
        else:
            out.append(path)
    return list(dict.fromkeys(out)), frozenset(walked), empty
