"""duplicate-statement: two statements that say the same thing.

What it does
    Reports a statement whose effect, actions (case-insensitive), resources and conditions equal
    those of an earlier statement in the same principal's policy set, whatever their Sids.

Why it matters
    Policies get merged by hand; a repeated statement doubles its size (IAM's quota counts it) and
    the next edit will change one copy and not the other.

Example
    Statement[4] repeats Statement[1]

Fix
    Delete one copy.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.report import Hit

RULE_ID = "duplicate-statement"
CATEGORY = "duplicate"
SEVERITY = "low"


def _key(stmt):
    return (stmt.effect, stmt.actions is None, frozenset(a.lower() for a in stmt.action_patterns),
            stmt.resources is None, frozenset(stmt.resource_patterns), frozenset(stmt.conditions))


def check(ctx) -> Iterator[Hit]:
    seen: dict[tuple, object] = {}
    for stmt in ctx.statements:
        key = _key(stmt)
        if key in seen:
            first = seen[key]
            where = first.label if first.source == stmt.source else f"{first.label} of {first.source}"
            yield Hit(f"{stmt.label} repeats {where}", stmt.label, stmt.location(), fix=f"delete {stmt.label}")
        else:
            seen[key] = stmt
