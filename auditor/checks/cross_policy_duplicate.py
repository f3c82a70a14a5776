"""cross-policy-duplicate: a policy repeats what another policy of the same principal already grants.

What it does
    When a principal has several policies (a group's inline and attached policies in live mode or
    --auth-details, files audited with --combine, the documents of a split policy), the lint checks
    run per document; this rule compares the documents: for each pair, the statements of one that
    repeat a statement of the other, and its action entries that a wildcard of the other already
    grants on the same or broader resources. One finding per pair of policies, naming both. Each
    policy's wildcards are indexed once; at most 200,000 comparisons per target, past which an info
    finding says from which pair on it stopped.

Why it matters
    Grants spread over several policies are hard to take back: removing an action from one policy
    changes nothing while another still grants it (an AWS managed policy attached to the group, for
    instance). It is information, not an error: the duplicate may be deliberate.

Example
    12 entries of iam/deploy.json are already granted by arn:aws:iam::aws:policy/AWSLambda_FullAccess
    (lambda:CreateFunction by "lambda:*", ... )

Fix
    Keep each grant in one policy: delete the repeated entries, or detach the broader policy.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.budget import Work
from auditor.checks.base import Context
from auditor.checks.common import summarise
from auditor.checks.duplicate_statement import key
from auditor.checks.redundant_action import plain, redundant, wildcards
from auditor.model import Location
from auditor.report import Hit

RULE_ID = "cross-policy-duplicate"
CATEGORY = "duplicate"
SEVERITY = "info"


def check(ctx: Context) -> Iterator[Hit]:
    policies = [p for p in ctx.target.policies if p.statements]
    if len(policies) < 2:
        return
    keys = {id(p): {key(s) for s in p.statements} for p in policies}
    held = {id(p): wildcards(plain(p.statements)) for p in policies}
    work = Work()
    for n, other in enumerate(policies):
        for m, policy in enumerate(policies):
            if policy is other:
                continue
            if not work.spend(1 + len(policy.statements)):
                yield work.stopped(RULE_ID, f"{policy.name} and the policies after it were",
                                   Location(policy.source, "" if policy.document is None else f"/{policy.document}"))
                return
            # a statement both repeat is reported once, on the later policy; wildcard cover in either direction
            repeated = [s.label for s in policy.statements if m > n and key(s) in keys[id(other)]]
            covered = [f"{action} by \"{wildcard}\"" for _, _, action, wildcard, _ in redundant(plain(policy.statements),
                                                                                                held[id(other)], work)]
            if work.exhausted:
                yield work.stopped(RULE_ID, f"the entries of {policy.name} from {work.where} on, against {other.name}, "
                                            "and the pairs after them were", Location(policy.source, work.where))
                return
            if not repeated and not covered:
                continue
            parts = ([f"{len(repeated)} statement{'s' if len(repeated) > 1 else ''} ({summarise(repeated, 3)})"] if repeated else [])
            parts += [f"{len(covered)} action entr{'ies' if len(covered) > 1 else 'y'} ({summarise(covered, 3)})"] if covered else []
            base = "" if policy.document is None else f"/{policy.document}"
            yield Hit(f"{' and '.join(parts)} of {policy.name} {'are' if len(repeated) + len(covered) > 1 else 'is'} already "
                      f"granted by {other.name}", other.name, Location(policy.source, base),
                      fix=f"keep each grant in one policy: delete them from {policy.name}, or detach {other.name}")
