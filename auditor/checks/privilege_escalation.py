"""privilege-escalation: the policy grants every action of a known privilege-escalation path.

What it does
    Checks the paths in rules/escalation.toml (new policy version, attach or put a policy on
    oneself, pass a role to a new Lambda function, CodeBuild project or EC2 instance, ...). A path is
    reported when every one of its actions is granted on resources outside the project (a probe ARN
    no Jets project creates), so the paths inherent to any Jets deploy user, confined to the
    project's own roles and functions, are not reported. All paths one statement opens are reported
    together, named, in one finding.

Why it matters
    A deploy key that can escalate is an admin key: whoever holds it (a CI system, a laptop) holds
    the account.

Example
    Statement[0] opens 16 privilege-escalation paths: new policy version (iam:CreatePolicyVersion), ...

Fix
    Scope IAM, Lambda and PassRole actions to the project's roles and functions
    (role/{project}-{env}-*, function:{project}-{env}-*) and drop IAM actions Jets never uses.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.base import Context
from auditor.checks.common import granted_beyond_project, summarise
from auditor.report import SEVERITY_RANK, Hit

RULE_ID = "privilege-escalation"
CATEGORY = "over-broad"
SEVERITY = "high"


def check(ctx: Context) -> Iterator[Hit]:
    broad: dict[str, bool] = {}

    def is_broad(action: str) -> bool:
        if action not in broad:
            broad[action] = granted_beyond_project(ctx, action)
        return broad[action]

    by_statement: dict[str, list] = {}
    for path in ctx.catalogue.escalations:
        if not all(is_broad(a) for a in path.actions):  # stops at the first action not granted broadly
            continue
        stmt = next(s for s in ctx.statements_naming(path.actions[0]) if s.effect == "Allow")
        by_statement.setdefault(stmt.ref, [stmt]).append(path)
    for stmt, *paths in by_statement.values():
        severity = max((p.severity for p in paths), key=SEVERITY_RANK.__getitem__)
        names = [f"{p.name} ({' + '.join(p.actions)})" for p in paths]
        word = "path" if len(paths) == 1 else "paths"
        first = paths[0]
        yield Hit(f"{stmt.label} opens {len(paths)} privilege-escalation {word}: {summarise(names, 3)}; "
                  f"e.g. the deploy user can {first.how}", stmt.label, stmt.location(), severity,
                  fix="scope IAM, Lambda and iam:PassRole to the project's roles and functions; drop IAM actions Jets never uses")
