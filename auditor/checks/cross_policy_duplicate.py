"""cross-policy-duplicate: a policy repeats what another policy of the same principal already grants.

What it does
    When a principal has several policies (a group's inline and attached policies in live mode or
    --auth-details, files audited with --combine, the documents of a split policy), the lint checks
    run per document; this rule compares the documents: for each pair, the statements of one that
    repeat a statement of the other, and its action entries that a wildcard of the other already
    grants on the same or broader resources. One finding per pair of policies, naming both.

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

from auditor.checks.common import summarise
from auditor.checks.duplicate_statement import key
from auditor.checks.redundant_action import Holders, plain, redundant
from auditor.model import Location
from auditor.report import Hit

RULE_ID = "cross-policy-duplicate"
CATEGORY = "duplicate"
SEVERITY = "info"


def check(ctx) -> Iterator[Hit]:
    policies = [p for p in ctx.target.policies if p.statements]
    if len(policies) < 2:
        return
    keys = {id(p): {key(s) for s in p.statements} for p in policies}
    statements = {id(p): plain(p.statements) for p in policies}
    holders = {id(p): Holders(statements[id(p)]) for p in policies}  # each policy's wildcards indexed once
    for n, other in enumerate(policies):
        for m, policy in enumerate(policies):
            if policy is other:
                continue
            # a statement both repeat is reported once, on the later policy; wildcard cover in either direction
            repeated = [s.label for s in policy.statements if m > n and key(s) in keys[id(other)]]
            covered = [f"{action} by \"{wildcard}\"" for _, _, action, wildcard, _ in redundant(statements[id(policy)],
                                                                                                holders[id(other)])]
            if not repeated and not covered:
                continue
            parts = ([f"{len(repeated)} statement{'s' if len(repeated) > 1 else ''} ({summarise(repeated, 3)})"] if repeated else [])
            parts += [f"{len(covered)} action entr{'ies' if len(covered) > 1 else 'y'} ({summarise(covered, 3)})"] if covered else []
            base = "" if policy.document is None else f"/{policy.document}"
            yield Hit(f"{' and '.join(parts)} of {policy.name} {'are' if len(repeated) + len(covered) > 1 else 'is'} already "
                      f"granted by {other.name}", other.name, Location(policy.source, base),
                      fix=f"keep each grant in one policy: delete them from {policy.name}, or detach {other.name}")
