"""duplicate-statement: two statements that say the same thing.

What it does
    Reports a statement whose effect, actions (case-insensitive), resources and conditions equal
    those of an earlier statement of the same policy document, whatever their Sids. (A statement
    that repeats one of another policy of the same principal is reported by cross-policy-duplicate.)

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

from auditor.checks.base import Context
from auditor.model import Statement
from auditor.report import Hit

RULE_ID = "duplicate-statement"
CATEGORY = "duplicate"
SEVERITY = "low"


def key(stmt: Statement) -> tuple[object, ...]:
    """What makes two statements say the same thing."""
    return (stmt.effect, stmt.actions is None, frozenset(map(str.lower, stmt.action_patterns)),
            stmt.resources is None, frozenset(stmt.resource_patterns), frozenset(stmt.conditions))


def check(ctx: Context) -> Iterator[Hit]:
    for policy in ctx.target.policies:
        seen: dict[tuple[object, ...], Statement] = {}
        for stmt in policy.statements:
            k = key(stmt)
            if k in seen:
                first = seen[k]
                yield Hit(f"{stmt.label} repeats {first.label}", stmt.label, stmt.location(), fix=f"delete {stmt.label}")
            else:
                seen[k] = stmt
