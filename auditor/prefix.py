"""The project name inferred from a policy's ARNs, when no --prefix is given: the name most of its
Jets-shaped ARNs start with (function:demo-*, stack/demo-*, ...), an env suffix taken off."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from auditor.catalogue import SHORT_ENVS
from auditor.model import Policy

NAMED_ARN = re.compile(
    r"^arn:[^:]*:(?:lambda:[^:]*:[^:]*:function:|cloudformation:[^:]*:[^:]*:stack/|iam::[^:]*:role/"
    r"|events:[^:]*:[^:]*:rule/|s3:::)([A-Za-z0-9_-]+)"
)


def prefix_names(policies: Iterable[Policy]) -> list[str]:
    """The project-name candidates of the policies' Jets-shaped ARNs (function:demo-*, stack/demo-*,
    role/demo-*, rule/demo-*, arn:aws:s3:::demo-*) in order, before an env suffix is taken off."""
    names = []
    for policy in policies:
        for stmt in policy.statements:
            if stmt.effect != "Allow" or stmt.resources is None:
                continue
            for arn in stmt.resources:
                m = NAMED_ARN.match(arn)
                if not m:
                    continue
                rest = arn[m.end():]
                if not rest or rest[0] not in "*?":
                    continue  # a concrete name, not a prefix pattern
                name = m.group(1).rstrip("-_")
                if name:
                    names.append(name)
    return names


def pick_prefix(names: Iterable[str], envs: Sequence[str]) -> str | None:
    """The name most candidates give once an env suffix (-dev, -prod, ...) is taken off; the first seen
    of equals; None without candidates."""
    suffixes = {f"-{e}" for e in envs} | {f"-{e}" for e in SHORT_ENVS.values()}
    counts: Counter[str] = Counter()
    for name in names:
        for suffix in suffixes:
            if name.endswith(suffix) and len(name) > len(suffix):
                name = name[: -len(suffix)]
                break
        if name:
            counts[name] += 1
    if not counts:
        return None
    return counts.most_common(1)[0][0]


def infer_prefix(policies: Sequence[Policy], envs: Sequence[str]) -> str | None:
    """The project name most of the policy's Jets-shaped ARNs start with, or None (see prefix_names)."""
    return pick_prefix(prefix_names(policies), envs)
