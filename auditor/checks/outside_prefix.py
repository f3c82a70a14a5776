"""outside-prefix: a Resource for Jets actions that names resources outside the project's naming.

What it does
    For each Allow statement that names actions Jets needs, checks every Resource pattern: it fits the
    resource type Jets uses but matches none of the names Jets gives them for this project
    ({project}-{env}-... for stacks, functions, roles and rules, {env}-{project}-gems for the gem layer,
    the lower-cased bucket name), in any env. Skipped when the prefix is unknown.

Why it matters
    Either the pattern is a typo or a stale project name, and the deploy will fail, or it grants the
    deploy user actions on other projects' resources.

Example
    "arn:aws:lambda:*:*:function:shop-*" in Statement[2] is outside the project's naming for
    lambda:CreateFunction (arn:aws:lambda:*:*:function:demo-*-*)

Fix
    Use the project's prefix (the fix shows the pattern), or move grants for other resources to a
    statement of their own.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.base import Context
from auditor.checks.common import releases_of, summarise
from auditor.checks.pattern_never_matches import jets_resources
from auditor.globs import overlaps
from auditor.report import Hit

RULE_ID = "outside-prefix"
CATEGORY = "resource-mismatch"
SEVERITY = "low"


def check(ctx: Context) -> Iterator[Hit]:
    if ctx.settings.prefix == "*":
        return
    for stmt, i, res, actions, anywhere in jets_resources(ctx):
        if not any(overlaps(p, res) for p in anywhere) or any(overlaps(p, res) for p in ctx.jets_names(actions)):
            continue
        fitting = [a for a in actions if any(overlaps(p, res) for p in ctx.jets_names([a], project="*"))]
        yield Hit(f'"{res}" in {stmt.label} is outside the project\'s naming for {summarise(fitting, 3)} '
                  f"({summarise(ctx.rendered(fitting), 2)})", res, stmt.element_location("Resource", i),
                  fix=f'use "{ctx.rendered(fitting)[0]}"', releases=releases_of(ctx, fitting))
