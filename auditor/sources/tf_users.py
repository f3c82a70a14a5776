"""Which Terraform files of a repository use a given file: the `.tf` files that render a template with
`file()`/`templatefile()`, and the callers of a local module.

A JSON policy template (`policies/deploy.json.tpl`, or a `.json` with `${prefix}` in it) is audited as
the `.tf` that renders it renders it, not on its own (where its placeholders would give false
findings), and a file of a local module through the module that calls it. A pre-commit run passes only
the files a commit changes, so for each file given this finds, in its repository (the nearest directory
above holding `.git`, else the directory given), the `.tf` files that name it in a `file(`,
`templatefile(` or `fileexists(` call or a module `source` (a text search, bounded: MAX_SCANNED entries
looked at, MAX_READ bytes of `.tf` read, each through the repository-confined reader). targets.load
reads them with the rest and keeps those whose configuration really reads a file given (IacFile.reads);
the files they read are then audited through them only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence

from auditor.sources.confined import Confined, repository_root
from auditor.sources.file import STDIN, SourceError

MAX_SCANNED = 20_000  # directory entries looked at per repository
MAX_READ = 8 * 1024 * 1024  # bytes of .tf files read per repository
MAX_TF_BYTES = 256 * 1024
SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "vendor", "venv"})
_CALLS = re.compile(r"\b(?:templatefile|file|fileexists)\s*\(([^)\n]*)")
_SOURCES = re.compile(r"\bsource\s*=\s*\"([^\"\n]*)\"")


def root_of(path: str, roots: Mapping[str, str]) -> str:
    directory = os.path.dirname(os.path.abspath(path))
    return repository_root(directory) or os.path.abspath(roots.get(path, directory))


def candidates(paths: Sequence[str], roots: Mapping[str, str] | None = None) -> list[str]:
    """The .tf files (not among `paths`) of the repositories of `paths` that name one of them where a
    template is rendered or a module is called."""
    roots = roots or {}
    wanted: dict[str, tuple[set[str], set[str]]] = {}  # root → (file names used as templates, module directory names)
    given = {os.path.realpath(p) for p in paths if p != STDIN}
    for path in paths:
        if path == STDIN:
            continue
        names, dirs = wanted.setdefault(root_of(path, roots), (set(), set()))
        if path.endswith(".tf"):
            dirs.add(os.path.basename(os.path.dirname(os.path.abspath(path))))
        else:
            names.add(os.path.basename(path))
    out: list[str] = []
    for root, (names, dirs) in wanted.items():
        for tf in _tf_files(root):
            if os.path.realpath(tf) in given:
                continue
            text = _text(Confined(root), tf)
            if text is not None and _names(text, names, dirs):
                out.append(tf)
    return list(dict.fromkeys(out))


def _names(text: str, names: set[str], dirs: set[str]) -> bool:
    if names and any(name in args for args in _CALLS.findall(text) for name in names):
        return True
    return bool(dirs) and any(os.path.basename(source.rstrip("/")) in dirs for source in _SOURCES.findall(text)
                              if source.startswith((".", "/")))


def _tf_files(root: str) -> list[str]:
    found: list[str] = []
    seen = 0
    read = 0
    for directory, subdirs, files in os.walk(root, followlinks=False):
        seen += len(subdirs) + len(files)
        if seen > MAX_SCANNED:
            break
        subdirs[:] = sorted(d for d in subdirs if not d.startswith(".") and d not in SKIPPED_DIRS)
        for name in sorted(files):
            if name.endswith(".tf"):
                full = os.path.join(directory, name)
                try:
                    read += min(os.lstat(full).st_size, MAX_TF_BYTES)
                except OSError:
                    continue
                if read > MAX_READ:
                    return found
                found.append(os.path.relpath(full) if not os.path.isabs(root) or full.startswith(os.getcwd() + os.sep)
                             else full)
    return found


def _text(confined: Confined, path: str) -> str | None:
    try:
        raw = confined.read(path, MAX_TF_BYTES)
    except SourceError:
        return None
    if len(raw) > MAX_TF_BYTES:
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
