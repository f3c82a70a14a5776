"""wildcard-action: `*`, `service:*` and wide partial wildcards in an Allow's Action.

What it does
    Expands each wildcard action of an Allow statement against current AWS data and reports it when
    it grants actions no selected Jets feature needs, naming the narrow replacement: the catalogue
    actions it covers. `"*"` is critical, `service:*` high; a partial wildcard (`s3:Put*`) is medium
    when it grants write or permissions-management actions Jets does not need, low otherwise. A
    partial wildcard all of whose actions Jets needs (`iam:GetRole*` grants little else) is not
    reported when it grants at most two unneeded read actions.

Why it matters
    A wildcard grants every action the service has today and every one it adds tomorrow.
    `s3:Put*` on the Jets bucket includes PutBucketPolicy and PutBucketAcl: whoever holds the deploy
    key can make the bucket public.

Example
    "s3:Put*" grants 40 actions, 21 of them writes Jets never makes (...); Jets needs 4: PutBucketOwnershipControls, ...

Fix
    Replace the wildcard by the actions listed in the finding's fix (`jets-iam-audit generate`
    writes the whole least-privilege policy).
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor import awsdata
from auditor.budget import MAX_SCANNED, Work
from auditor.checks.base import Context
from auditor.checks.common import summarise
from auditor.report import Hit

RULE_ID = "wildcard-action"
CATEGORY = "over-broad"
SEVERITY = "medium"

RISKY_LEVELS = ("Write", "Permissions management", "Tagging")


def check(ctx: Context) -> Iterator[Hit]:
    need = ctx.needed
    work = Work(MAX_SCANNED)
    for stmt in ctx.statements:
        if stmt.effect != "Allow" or stmt.actions is None:
            continue
        for i, pattern in enumerate(stmt.actions):
            if "*" not in pattern and "?" not in pattern:
                continue
            service, _, name = pattern.partition(":")
            whole_service = name.strip("*") == "" and "?" not in name
            everything = pattern.strip("*") == "" or (service.strip("*") == "" and whole_service)
            expansion = work.expand(pattern)
            if expansion is None:
                yield work.stopped_at(RULE_ID, stmt, "Action", i)
                return
            wanted: list[str] = []
            unneeded: list[str] = []
            for a in expansion:  # one pass, each name lower-cased once
                (wanted if a.lower() in need else unneeded).append(a)
            wanted.sort()
            if everything:
                severity = "critical"
                message = f'"{pattern}" grants every action of every AWS service ({len(expansion)} today)'
            elif whole_service and not any(c in service for c in "*?"):
                severity = "high"
                message = f'"{pattern}" grants all {len(expansion)} {service.lower()} actions'
            else:
                risky = [a for a in unneeded if awsdata.access_level(a) in RISKY_LEVELS]
                if not unneeded or (not risky and len(unneeded) <= 2):
                    continue
                severity = "medium" if risky else "low"
                message = f'"{pattern}" grants {len(expansion)} actions'
                if risky:
                    message += f", {len(risky)} of them writes Jets never makes ({summarise(risky, 3)})"
            if wanted:
                names = [a.partition(":")[2] for a in wanted]
                message += f"; Jets needs {len(wanted)}: {summarise(names, 3)}"
                fix = "replace with " + ", ".join(f'"{a}"' for a in wanted)
            else:
                message += "; no selected Jets feature needs any of them"
                fix = f'remove "{pattern}"'
            yield Hit(message, pattern, stmt.element_location("Action", i),
                      severity, fix=fix)
