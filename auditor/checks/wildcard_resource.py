"""wildcard-resource: `"Resource": "*"` on actions that support resource-level permissions.

What it does
    For each Allow statement whose Resource includes "*", lists the actions it grants that can be
    scoped to ARNs (resource types from current AWS data). Actions that take only "*"
    (logs:DescribeLogGroups, ec2:DescribeSubnets, lambda:CreateEventSourceMapping) are not reported.
    One finding per statement, with a count; for catalogue actions it names the ARN pattern Jets needs.

Why it matters
    "*" is every resource in the account: cloudformation:DescribeStacks on "*" reads every stack's
    outputs, apigateway:* on "*" changes every API, not only the app's.

Example
    Statement[4] grants 3 actions on "*" that can be scoped: apigateway:* (44 actions), ...

Fix
    Replace "*" by the ARN patterns in the fix (for Jets: stack/{project}-{env}*, /restapis, ...).
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor import awsdata
from auditor.budget import MAX_SCANNED, Work
from auditor.checks.base import Context
from auditor.checks.common import summarise
from auditor.report import Hit

RULE_ID = "wildcard-resource"
CATEGORY = "over-broad"
SEVERITY = "medium"


def check(ctx: Context) -> Iterator[Hit]:
    work = Work(MAX_SCANNED)
    for stmt in ctx.statements:
        if stmt.effect != "Allow" or stmt.resources is None or "*" not in stmt.resources:
            continue
        scoped: list[str] = []
        concrete: set[str] = set()
        for i, pattern in enumerate(stmt.actions or ()):
            expansion = work.expand(pattern)
            if expansion is None:
                yield work.stopped_at(RULE_ID, stmt, "Action", i)
                return
            scopable = [a for a in expansion if awsdata.resource_formats(a)]  # the actions that take an ARN
            if not scopable:
                continue
            concrete.update(scopable)
            if len(expansion) == 1:
                scoped.append(expansion[0])
            else:
                scoped.append(f"{pattern} ({len(scopable)} actions)")
        if not scoped:
            continue
        index = stmt.resources.index("*")
        patterns = ctx.rendered(concrete, env=ctx.settings.envs[0])
        fix = ("scope to " + ", ".join(f'"{p}"' for p in patterns if p != "*")) if patterns else "scope to the ARNs the actions need"
        yield Hit(f'{stmt.label} grants {len(scoped)} action entries on "*" that can be scoped to ARNs: {summarise(scoped)}',
                  stmt.label, stmt.element_location("Resource", index), fix=fix)
