"""unused-action: actions named in an Allow that no selected Jets feature needs.

What it does
    Lists, per statement, the concrete actions it names (not wildcards: wildcard-action covers
    those) that none of the selected features' requirements use. When another feature of the Jets
    version needs the action, the finding says which, so the fix may be `--feature` rather than a
    deletion. One finding per statement.

Why it matters
    Every extra action is attack surface, and a policy that says more than Jets needs hides what Jets
    does need. The docs' policy still carries lambda:GetFunctionConfiguration, which CloudFormation's
    Lambda handler no longer calls.

Example
    Statement[2] names 1 action no selected Jets feature uses: lambda:GetFunctionConfiguration

Fix
    Remove the actions, or audit with the --feature that needs them.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor import awsdata
from auditor.checks.base import Context
from auditor.checks.common import feature_needing, summarise
from auditor.report import Hit

RULE_ID = "unused-action"
CATEGORY = "over-broad"
SEVERITY = "low"


def check(ctx: Context) -> Iterator[Hit]:
    need = ctx.needed
    for stmt in ctx.statements:
        if stmt.effect != "Allow" or stmt.actions is None:
            continue
        unused: dict[str, None] = {}  # in order, without repeats
        hints: set[str] = set()
        for pattern in stmt.actions:
            if "*" in pattern or "?" in pattern or pattern in unused or pattern.lower() in need:
                continue  # wildcard-action reports wildcards
            if not awsdata.action_exists(pattern):
                continue  # unknown-action reports these
            unused[pattern] = None
            feature = feature_needing(ctx, pattern)
            if feature:
                hints.add(feature)
        if not unused:
            continue
        word = "action" if len(unused) == 1 else "actions"
        message = f"{stmt.label} names {len(unused)} {word} no selected Jets feature uses: {summarise(list(unused))}"
        fix = "remove " + ", ".join(f'"{a}"' for a in unused)
        if hints:
            message += f" (needed by --feature {', '.join(sorted(hints))})"
            fix += " or audit with " + " ".join(f"--feature {h}" for h in sorted(hints))
        yield Hit(message, stmt.label, stmt.location("/Action"), fix=fix)
