"""pattern-never-matches: a Resource that never matches what AWS evaluates for the Jets calls it is for.

What it does
    For each Allow statement that names actions Jets needs, checks every Resource pattern against the
    resources AWS evaluates for those calls (the names Jets creates, rules/names.toml, and the ARN the
    service really authorizes, rules/README.md), for any project and any env. A pattern that matches
    none of them is reported: a log group's own ARN, log-group:/aws/lambda/demo-dev-web, never matches,
    because CloudWatch Logs authorizes logs:DeleteLogGroup on log-group:NAME:log-stream: (the name
    Terraform's aws_cloudwatch_log_group arn attribute gives, without the :* its docs add); a bucket
    name Jets never gives its bucket (CloudFormation names it PROJECT-ENV-s3bucket-RANDOM) never matches.

Why it matters
    The statement looks right in review and grants nothing: `jets delete` fails at its last step.

Example
    "arn:aws:logs:*:*:log-group:/aws/lambda/demo-dev-web" in Statement[0] can never match what AWS evaluates
    when Jets calls logs:DeleteLogGroup (arn:aws:logs:*:*:log-group:/aws/lambda/demo-*-*:log-stream:)

Fix
    Use the pattern in the fix (for log groups: log-group:/aws/lambda/{project}-*:*, or the fix's exact
    log-group:NAME:log-stream:).
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.base import Context
from auditor.checks.common import releases_of, summarise
from auditor.glob_text import policy_pattern
from auditor.globs import overlaps
from auditor.report import Hit

RULE_ID = "pattern-never-matches"
CATEGORY = "resource-mismatch"
SEVERITY = "medium"


def usable(resource: str) -> bool:
    return resource != "*" and "${" not in resource and "$" not in resource.replace("${", "")


def jets_resources(ctx: Context) -> Iterator[tuple]:
    """(statement, index, resource, Jets actions, their patterns for any project and env) for every
    plain Resource entry of an Allow statement that names actions Jets needs."""
    for stmt in ctx.statements:
        if stmt.effect != "Allow" or stmt.resources is None:
            continue
        actions = ctx.needed_by(stmt)
        if not actions:
            continue
        anywhere = ctx.jets_names(actions, project="*")
        for i, res in enumerate(stmt.resources):
            if usable(res) and not policy_pattern(res).has_variable:
                yield stmt, i, res, actions, anywhere


def check(ctx: Context) -> Iterator[Hit]:
    for stmt, i, res, actions, anywhere in jets_resources(ctx):
        if not any(overlaps(p, res) for p in anywhere):
            specific = ctx.rendered(actions)
            yield Hit(f'"{res}" in {stmt.label} can never match what AWS evaluates when Jets calls {summarise(actions, 3)} '
                      f"({summarise(specific, 2)})", res, stmt.element_location("Resource", i),
                      fix=f'use "{specific[0]}"' if specific else "remove it", releases=releases_of(ctx, actions))
