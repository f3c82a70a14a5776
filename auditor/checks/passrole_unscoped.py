"""passrole-unscoped: iam:PassRole on "*" (any role) or without an iam:PassedToService condition.

What it does
    Finds Allow statements that grant iam:PassRole (directly or through a wildcard or NotAction).
    High when the grant reaches roles outside the project (Resource "*", role/*, NotResource);
    medium when it is scoped to the project's roles but has no iam:PassedToService condition.

Why it matters
    PassRole decides which role a new Lambda function, CodeBuild project or EC2 instance runs as.
    On "*" the deploy user can hand any role, an admin role included, to code it controls: a
    privilege escalation. Jets needs to pass only its own function roles, and only to the services
    the catalogue names for the release (lambda.amazonaws.com for Jets 3-5, codebuild.amazonaws.com
    for Jets 6).

Example
    "iam:PassRole" is granted on any role (Statement[0] on "*")

Fix
    Scope the Resource to arn:aws:iam::ACCOUNT:role/{project}-{env}-* and add
    "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.base import Context
from auditor.checks.common import granted_beyond_project
from auditor.report import Hit

RULE_ID = "passrole-unscoped"
CATEGORY = "over-broad"
SEVERITY = "high"


NAMES = {"lambda.amazonaws.com": "Lambda", "codebuild.amazonaws.com": "CodeBuild"}


def _services(ctx: Context) -> tuple[str, ...]:
    """The services the selected iam:PassRole requirements pass roles to (lambda.amazonaws.com if none)."""
    found = sorted({s for r in ctx.requirements if r.action == "iam:PassRole" for s in r.passed_to})
    return tuple(found) or ("lambda.amazonaws.com",)


def check(ctx: Context) -> Iterator[Hit]:
    granting = [s for s in ctx.statements_naming("iam:PassRole") if s.effect == "Allow"]
    if not granting:
        return
    services = _services(ctx)
    value = f'"{services[0]}"' if len(services) == 1 else "[" + ", ".join(f'"{s}"' for s in services) + "]"
    condition = f'{{"StringEquals": {{"iam:PassedToService": {value}}}}}'
    if granted_beyond_project(ctx, "iam:PassRole"):
        stmt = granting[0]
        yield Hit(f'"iam:PassRole" is granted on roles outside the project ({stmt.label}): the deploy user can hand '
                  "any role, an admin role included, to code it controls", "iam:PassRole", stmt.location(),
                  fix=f'scope the Resource to the project\'s roles and add "Condition": {condition}')
        return
    names = " and ".join(NAMES.get(s, s) for s in services)
    for stmt in granting:
        if not any(c.key.lower() == "iam:passedtoservice" for c in stmt.conditions):
            yield Hit(f'"iam:PassRole" in {stmt.label} has no iam:PassedToService condition: the project\'s roles can be '
                      f"passed to any service, not only to {names}", "iam:PassRole", stmt.location(), "medium",
                      fix=f'add "Condition": {condition}')
