"""unused-ignore: an ignore in the config file that matched no finding.

What it does
    After a run, every `[[ignore]]` of each config file in play is judged: when its `file` glob matches
    a file that was audited but the ignore silenced no finding there (its rule, Sid or pointer is not
    what the findings say), or when its `file` names, without wildcards, a path that does not exist
    next to the config file, it is reported once, with the config file and the line it starts on. An
    ignore whose file was not audited in this run (a pre-commit run sees only changed files) is not
    judged.

Why it matters
    An ignore that matches nothing silences nothing: the finding it was written for is still reported,
    or was fixed and the ignore is dead weight, or it was mistyped and hides nothing while looking as
    if it did.

Example
    ignore #1 of pyproject.toml (file "iam/deploy.json", rule pattern-never-matches, sid "Logs")
    matched no finding in iam/deploy.json

Fix
    Remove the ignore, or correct its file, rule, sid or pointer (`--show-ignored` lists what the
    other ignores silence, with their reasons).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from auditor.checks.base import Context
from auditor.model import Location
from auditor.report import Hit

RULE_ID = "unused-ignore"
CATEGORY = "invalid"
SEVERITY = "info"

_MAGIC = frozenset("*?[")


def check(ctx: Context) -> Iterator[Hit]:
    """Config-level: nothing per target. The engine calls `unused` after the run."""
    return iter(())


def _describe(ignore) -> str:
    parts = [f'file "{ignore.file}"']
    if ignore.rule:
        parts.append(f"rule {ignore.rule}")
    if ignore.sid is not None:
        parts.append(f'sid "{ignore.sid}"')
    if ignore.pointer is not None:
        parts.append(f'pointer "{ignore.pointer}"')
    return ", ".join(parts)


def unused(config, used: set[int], audited: Iterable[str]) -> Iterator[Hit]:
    """Hits for the ignores of `config` that silenced nothing. `used`: the numbers of those that did;
    `audited`: the audited files' paths relative to the config's directory (or AWS policy names)."""
    audited = list(dict.fromkeys(audited))
    shown = config.shown or "<config>"
    matched: dict[int, list[str]] = {}  # ignore number → the audited files its glob matches (one pass per file)
    for path in audited:
        for ignore in config.index.matching(path):
            matched.setdefault(ignore.number, []).append(path)
    for ignore in config.ignores:
        if ignore.number in used:
            continue
        pointer = f"/ignore/{ignore.number - 1}"
        where = Location(shown, pointer, None, ignore.line)
        label = f"ignore #{ignore.number} of {shown} ({_describe(ignore)})"
        fix = "remove it, or correct its file, rule, sid or pointer"
        files = matched.get(ignore.number, [])
        if files:
            more = f" and {len(files) - 1} more" if len(files) > 1 else ""
            yield Hit(f"{label} matched no finding in {files[0]}{more}", f"ignore #{ignore.number}", where, fix=fix)
        elif not _MAGIC & set(ignore.file) and config.base and not os.path.exists(os.path.join(config.base, ignore.file)):
            yield Hit(f"{label}: no file {ignore.file!r} next to the config file", f"ignore #{ignore.number}", where,
                      fix=fix)

