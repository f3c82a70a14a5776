"""Helpers several checks share: catalogue lookups, probes, summaries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from auditor import awsdata
from auditor.arn import placeholder_values
from auditor.automata import OTHER, literal_ends
from auditor.checks.base import Context
from auditor.evaluate import CONDITIONAL, GRANTED, evaluate_relevant
from auditor.globs import NAME_START, policy_pattern, requirement_pattern

PROBE_NAME = "jets-iam-audit-probe"


def summarise(items: Sequence[str], limit: int = 5) -> str:
    """'a, b, c' or 'a, b, c, d, e and 12 more': expansions are counted, never dumped."""
    items = list(items)
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f" and {len(items) - limit} more"


def requirement_start(text: str) -> str:
    """`literal_ends(requirement_pattern(text))[0]` without tokenising: the text before its first `*`
    or `?`. (A lone "*" is the literal resource "*", and a name part is read by the tokeniser: both
    take the long way.)"""
    if text == "*" or NAME_START in text:
        return literal_ends(requirement_pattern(text))[0]
    return _before_wildcard(text)


def policy_start(text: str) -> str:
    """`policy_pattern(text).ends[0]` without tokenising when the text holds no `$` (only `${...}` reads
    otherwise than a character at a time)."""
    if "$" in text:
        return policy_pattern(text).ends[0]
    return _before_wildcard(text)


def _before_wildcard(text: str) -> str:
    """The text before its first `*` or `?` (all of it when it has neither)."""
    return text.split("*", 1)[0].split("?", 1)[0]


def literal_runs(pattern: str) -> tuple[str, ...] | None:
    """The runs of literal text of a policy pattern (between its `*` and `?`), or None when its text is
    not read a character at a time (a `$`) or holds OTHER, the character a requirement's witness puts
    in its wildcards.

    `covers(as_requirement(res), pattern)` is False when one of these runs is not in `res`: the pattern
    must match the requirement's witness, whose text is `res`'s literal runs joined by OTHER, and a run
    without OTHER can only be found within one of them. (A requirement with a name part, NAME_START in
    `res`, is judged otherwise: ask `covers`.)"""
    if "$" in pattern or OTHER in pattern:
        return None
    return tuple(run for part in pattern.split("*") for run in part.split("?") if run)


def has_variable(text: str) -> bool:
    """`policy_pattern(text).has_variable` (only a `${...}` can be one)."""
    return "${" in text and policy_pattern(text).has_variable


def feature_needing(ctx: Context, action: str) -> str | None:
    """A feature of this Jets version (selected or not) that needs `action`."""
    return ctx.catalogue.feature_needing(ctx.settings.jets_version, action)


def releases_of(ctx: Context, actions: Iterable[str]) -> str | None:
    """The release ranges of the selected requirements for these actions ("; "-joined when they differ)."""
    wanted = {a.lower() for a in actions}
    found = sorted({r.releases.text for r in ctx.requirements if r.action.lower() in wanted})
    return "; ".join(found) or None


@lru_cache(maxsize=4096)
def probe_arn(action: str) -> str | None:
    """A concrete resource of the action's first resource type that no Jets project creates, or
    "*" for actions that take no resource; None for unknown actions."""
    formats = awsdata.resource_formats(action)
    if formats is None:
        return None
    if not formats:
        return "*"
    values = {"Partition": "aws", "Region": "us-east-1", "Account": "123456789012"}
    return placeholder_values(formats[0], values, PROBE_NAME)


def granted_beyond_project(ctx: Context, action: str) -> bool:
    """Is `action` granted on a resource outside every Jets project (a probe ARN)?"""
    relevant = ctx.statements_naming(action)
    probe = probe_arn(action) if relevant else None
    if probe is None:
        return False
    return evaluate_relevant(probe, relevant).status in (GRANTED, CONDITIONAL)
