"""resource-type-mismatch: an action on ARNs of a resource type it does not take.

What it does
    For each Allow statement with a Resource list (without "*"), checks every action it names against
    the resource types the action takes (current AWS data): object actions on a bucket ARN, layer
    actions on a function ARN, actions that take only "*" on an ARN. A Resource fits as coverage
    matches it: a `*` that ends a segment also runs across the following colons, so
    AWSLambda_FullAccess's logs:GetLogEvents on log-group:/aws/lambda/* takes the log streams of those
    groups. Where AWS evaluates another resource than the service authorization reference lists (the
    catalogue's authorized_on entries: CloudWatch Logs evaluates log-group actions on
    log-group:NAME:log-stream:, DescribeLogGroups on log-group::log-stream:, so log-group:* grants it),
    that resource fits too. For wildcard entries only the actions Jets needs are checked, so `s3:Get*` on
    a bucket ARN yields one finding about the Jets actions it was meant for, not parliament's 60-action list.

Why it matters
    Such an action is granted on nothing in that statement. When Jets needs it, the deploy fails
    although the policy "lists" it.

Example
    "s3:GetObject" takes object ARNs (arn:${Partition}:s3:::${BucketName}/${ObjectName}), and no
    Resource of Statement[1] is one: it grants nothing here

Fix
    Add an ARN of the right type (for objects, append /* to the bucket ARN), or move the action to a
    statement whose resources fit.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor import awsdata
from auditor.arn import evaluated_as, format_globs
from auditor.budget import MAX_SCANNED, Work
from auditor.checks.base import Context
from auditor.checks.common import summarise
from auditor.glob_text import policy_pattern
from auditor.globs import overlaps
from auditor.report import Hit

RULE_ID = "resource-type-mismatch"
CATEGORY = "resource-mismatch"
SEVERITY = "medium"


def _formats_fit(formats: tuple[str, ...], resources: tuple[str, ...]) -> bool:
    """Does some Resource match some ARN of these formats, as the evaluator matches it (globs.overlaps:
    a `*` that ends a segment also runs across the following colons, so log-group:/aws/lambda/* takes
    the log streams arn:...:log-group:NAME:log-stream:STREAM)?"""
    return any(overlaps(glob, resource) for f in formats for glob in format_globs(f) for resource in resources)


def _grants_jets(ctx: Context, action: str, resources: tuple[str, ...]) -> bool:
    """Does a Resource match some resource Jets asks for with the action, as coverage decides it (the
    resource AWS really evaluates, a `*` that ends a segment running across colons)? Then the check
    never says it grants nothing: it agrees with coverage."""
    return any(overlaps(pattern, res) for pattern in ctx.jets_names([action], project="*") for res in resources)


def check(ctx: Context) -> Iterator[Hit]:
    need = ctx.needed
    work = Work(MAX_SCANNED)
    for stmt in ctx.statements:
        if stmt.effect != "Allow" or stmt.resources is None or stmt.actions is None or "*" in stmt.resources:
            continue
        if any(policy_pattern(r).has_variable for r in stmt.resources):
            continue
        for i, pattern in enumerate(stmt.actions):
            wildcard = "*" in pattern or "?" in pattern
            expansion = work.expand(pattern) if wildcard else ()
            if expansion is None:
                yield work.stopped_at(RULE_ID, stmt, "Action", i)
                return
            actions = [a for a in expansion if a.lower() in need] if wildcard else (
                [awsdata.action_name(pattern)] if awsdata.action_exists(pattern) else [])
            bad: list[tuple[str, tuple[str, ...]]] = []
            for action in actions:
                formats = awsdata.resource_formats(action) or ()
                ok = bool(formats) and _formats_fit(formats, stmt.resources)  # no formats: takes only "*", not here
                if not ok and not _grants_jets(ctx, action, stmt.resources):
                    bad.append((action, formats))
            if not bad:
                continue
            action, formats = bad[0]
            if formats:
                what = f"takes {summarise(formats, 2)}"
                evaluated = [e for e in map(evaluated_as, formats) if e]
                if evaluated:
                    what += f", which AWS evaluates as {summarise(evaluated, 2)}"
            else:
                what = 'takes no resource ARN (only "*")'
            if wildcard:
                message = (f'"{pattern}": {summarise([b[0] for b in bad], 3)}, which Jets needs, '
                           f"{'do' if len(bad) > 1 else 'does'} not fit any Resource of {stmt.label} ({action} {what})")
            else:
                message = f'"{action}" {what}, and no Resource of {stmt.label} is one: it grants nothing here'
            fix = 'add "*" for it in a statement of its own' if not formats else f"add an ARN of the form {formats[0]}"
            yield Hit(message, pattern, stmt.element_location("Action", i), fix=fix)
