"""Helpers several checks share: summaries, and which selected feature and releases need an action."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from auditor.awsdata import probe_arn
from auditor.checks.base import Context
from auditor.evaluate import CONDITIONAL, GRANTED, evaluate_relevant

def summarise(items: Sequence[str], limit: int = 5) -> str:
    """'a, b, c' or 'a, b, c, d, e and 12 more': expansions are counted, never dumped."""
    items = list(items)
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f" and {len(items) - limit} more"


def feature_needing(ctx: Context, action: str) -> str | None:
    """A feature of this Jets version (selected or not) that needs `action`."""
    return ctx.catalogue.feature_needing(ctx.settings.jets_version, action)


def releases_of(ctx: Context, actions: Iterable[str]) -> str | None:
    """The release ranges of the selected requirements for these actions ("; "-joined when they differ)."""
    wanted = {a.lower() for a in actions}
    found = sorted({r.releases.text for r in ctx.requirements if r.action.lower() in wanted})
    return "; ".join(found) or None


def granted_beyond_project(ctx: Context, action: str) -> bool:
    """Is `action` granted on a resource outside every Jets project (a probe ARN)?"""
    relevant = ctx.statements_naming(action)
    probe = probe_arn(action) if relevant else None
    if probe is None:
        return False
    return evaluate_relevant(probe, relevant).status in (GRANTED, CONDITIONAL)
