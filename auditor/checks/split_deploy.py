"""split-deploy: no single Region (or account) grants everything Jets needs.

What it does
    A `jets deploy` runs in one Region of one account: every request it makes, the CLI's and
    CloudFormation's, goes there. When no --region or --account is given, the audit judges the policy
    for the Region and account that grant the most (the ones its ARNs and conditions name, and any
    other). This check reports when what is missing there is granted in another Region or account:
    the policy's pins split the deploy, and no choice deploys.

Why it matters
    A policy that pins the stacks to eu-west-1 and the functions to us-east-1 grants every action
    somewhere, so a check that picks the best pin for each action on its own passes it; yet a deploy
    to either Region fails half-way.

Example
    no single Region and account grants everything Jets needs: judged for Region eu-west-1, where 8
    needed actions are missing or denied, but Region us-east-1 grants lambda:CreateFunction,
    lambda:GetFunction, lambda:UpdateFunctionCode and 5 more (Functions)

    The search is bounded by one work budget per target (README "Limits"): a policy that pins dozens
    of Regions and accounts has the pairs it names most judged first, and an `info` finding of this
    check says how many pairs were left out:

    the search for the Region and account that grant the most stopped after 17 of 306 (Region,
    account) pairs: the per-target work budget of 2,000,000 comparisons (README Limits); the other
    289 were not judged

Fix
    Pin every statement to the Region (and account) Jets deploys to, or use "*" there. To judge the
    Region and account you deploy to whatever the budget, give --region and --account.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.common import summarise
from auditor.deploy import MAX_DEPLOY_WORK
from auditor.report import Hit

RULE_ID = "split-deploy"
CATEGORY = "missing-action"
SEVERITY = "high"


def check(ctx) -> Iterator[Hit]:
    choice = ctx.deploy
    if choice is not None and choice.untried:
        total = choice.tried + choice.untried
        yield Hit(f"the search for the Region and account that grant the most stopped after {choice.tried} of {total} "
                  f"(Region, account) pairs: the per-target work budget of {MAX_DEPLOY_WORK:,} comparisons (README "
                  f"Limits); the other {choice.untried} were not judged", "deploy search",
                  ctx.target.whole, "info",
                  fix="give --region and --account (the Region and account Jets deploys to) to judge that pair")
    if choice is None or not choice.elsewhere:
        return
    by_deploy: dict[object, list[tuple[str, tuple[str, ...]]]] = {}
    for row, deploy, other in choice.elsewhere:
        by_deploy.setdefault(deploy, []).append((row.action, other.granted_by))
    parts = []
    for deploy, found in by_deploy.items():
        actions = list(dict.fromkeys(action for action, _ in found))
        grants = list(dict.fromkeys(ref.rpartition("#")[2] for _, refs in found for ref in refs))
        parts.append(f"{deploy.label()} grants {summarise(actions, 3)} ({summarise(grants, 3)})")  # type: ignore[attr-defined]
    yield Hit(f"no single Region and account grants everything Jets needs: judged for {choice.chosen.label()}, "
              f"where {len({row.action for row, _, _ in choice.elsewhere})} needed actions are missing or denied, but "
              + "; ".join(parts), choice.chosen.label(), ctx.target.whole,
              fix="pin every statement to the Region and account Jets deploys to (or use \"*\" there)")
