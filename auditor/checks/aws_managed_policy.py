"""aws-managed-policy: an AWS managed policy in the set grants more than Jets needs, and nobody can edit it.

What it does
    An AWS managed policy attached to the principal (seen in live mode, in --auth-details, or given
    with --aws-managed FILE) cannot be changed: line-level findings in it would point at lines
    nobody can fix. They are folded into one finding per policy, which names the action entries it
    grants beyond what the selected Jets features need and how many findings it holds, at the
    severity of the worst of them. `--show-ignored` lists those findings one by one. Missing
    actions stay findings of their own: they are about the whole policy set.

Why it matters
    A broad managed policy (AWSLambda_FullAccess, AdministratorAccess, ...) attached to the deploy
    group widens every grant of the group's own policies, whatever they say; editing those cannot
    take it back.

Example
    arn:aws:iam::aws:policy/AWSLambda_FullAccess is an AWS managed policy, which cannot be edited, and
    grants 18 action entries beyond what Jets needs (cloudformation:DescribeStacks, lambda:*, s3:* and
    15 more); 9 findings in it (--show-ignored lists them)

Fix
    Detach it from the principal and attach the least-privilege policy `jets-iam-audit generate`
    writes for the project (or a customer managed copy cut down to what Jets needs).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from auditor import awsdata
from auditor.checks.base import Context
from auditor.checks.common import summarise
from auditor.model import Location, Policy
from auditor.report import SEVERITY_RANK, Finding, Hit

RULE_ID = "aws-managed-policy"
CATEGORY = "over-broad"
SEVERITY = "medium"
KEPT = ("missing-action", "internal-error", "cross-policy-duplicate")  # not folded: about the set, or not in the policy


def check(ctx: Context) -> Iterator[Hit]:
    """Folded by the engine after the other checks ran (see `summary`): nothing per target here."""
    return iter(())


def beyond(policy: Policy, needed: Mapping[str, str]) -> list[str]:
    """The policy's Allow action entries that grant some action Jets does not need."""
    out: dict[str, None] = {}
    for stmt in policy.statements:
        if stmt.effect != "Allow":
            continue
        if stmt.not_actions is not None:
            out[f"NotAction {summarise(list(stmt.not_actions), 2)}"] = None
            continue
        for pattern in stmt.actions or ():
            expansion = awsdata.expand(pattern) if ("*" in pattern or "?" in pattern) else (pattern,)
            if any(a.lower() not in needed for a in expansion):
                out[pattern] = None
    return list(out)


def summary(policy: Policy, folded: Sequence[Finding], needed: Mapping[str, str], principal: str) -> Hit | None:
    extra = beyond(policy, needed)
    if not extra and not folded:
        return None
    severity = max((f.severity for f in folded), key=SEVERITY_RANK.__getitem__, default="low")
    what = (f"grants {len(extra)} action entr{'ies' if len(extra) != 1 else 'y'} beyond what Jets needs ({summarise(extra, 3)})"
            if extra else "grants nothing Jets does not need")
    found = f"; {len(folded)} finding{'s' if len(folded) != 1 else ''} in it (--show-ignored lists them)" if folded else ""
    return Hit(f"{policy.name} is an AWS managed policy, which cannot be edited, and {what}{found}", policy.name,
               Location(policy.source), severity,
               fix=f"detach it from {principal} and attach the least-privilege policy `jets-iam-audit generate` writes "
                   "for the project")
