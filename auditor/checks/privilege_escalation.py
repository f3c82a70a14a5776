"""privilege-escalation: the policy lets its holder gain more than it grants.

What it does
    Looks for every way in rules/escalation.toml by which the holder could raise its own privileges:
    a new policy version, a policy attached to itself, another user's keys; or a role it can make
    powerful (one beyond the project, one whose policy it writes: iam:PutRolePolicy, or
    iam:AttachRolePolicy of a policy that grants everything) passed to a service that runs code
    (Lambda, CodeBuild, CloudFormation, EC2, Glue, ECS, SageMaker, Step Functions) with a resource it
    can create and run; or its code run in an existing resource as that resource's role. Each request
    of a way is judged with the evaluator, on the resource it would act on and with the values it
    would carry, so resources and conditions count: a PassRole scoped to roles the holder cannot
    change, or conditioned on another service, and an iam:PolicyARN condition on attaching close a way.
    Ways are compared with the narrowest policy that deploys the Jets release (`generate`'s): one that
    policy opens too is one Jets itself forces, reported apart at info level with what narrows it
    outside the policy; the others at the way's severity.

Why it matters
    A deploy key that can escalate is an admin key: whoever holds it (a CI system, a laptop) holds the
    account. Jets forces some of it: Jets 3-5 have CloudFormation write its roles' inline policies with
    the deploy user's credentials, and no condition key limits what iam:PutRolePolicy writes; Jets 6's
    remote runner builds as a role Jets gives iam:* and more.

Example
    Statement[1] opens 2 privilege-escalation paths: pass a role it writes (role/demo-dev-x) to a new
    CloudFormation stack (iam:CreateRole on role/demo-dev-x; iam:PutRolePolicy on role/demo-dev-x;
    iam:PassRole on role/demo-dev-x to cloudformation.amazonaws.com; cloudformation:CreateStack on ...)

Fix
    Condition iam:PassRole on iam:PassedToService (the services Jets passes its roles to), attach only
    the managed policies Jets attaches (an iam:PolicyARN condition), drop IAM and compute actions Jets
    never uses: `jets-iam-audit generate` writes the narrowest policy that deploys, and says what
    remains. For the ways Jets forces, the finding names what narrows them outside the policy.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.catalogue import major
from auditor.checks.base import Context
from auditor.checks.common import summarise
from auditor.report import SEVERITY_RANK, Hit

RULE_ID = "privilege-escalation"
CATEGORY = "over-broad"
SEVERITY = "high"
FORCED_SEVERITY = "info"
FIX = ("condition iam:PassRole on iam:PassedToService, attach only the managed policies Jets attaches (iam:PolicyARN), "
       "and drop IAM and compute actions Jets never uses: jets-iam-audit generate writes the narrowest policy that deploys")


def check(ctx: Context) -> Iterator[Hit]:
    from auditor import escalation  # not at import: it imports the checks' helpers

    s = ctx.settings
    holder = escalation.Holder(ctx.statements, ctx.catalogue, s.jets_version, s.prefix, s.envs, ctx.action_index)
    ways = escalation.find(holder)
    if not ways:
        return
    forced = escalation.forced(ctx.catalogue, s.jets_version, tuple(s.features), s.prefix, tuple(s.envs))
    needed = [w for w in ways if w.kind in forced]
    if needed:  # one finding for what Jets forces, where its first way starts
        line = major(s.jets_version)
        remedy = "; ".join(escalation.remedies(holder)) or "deploy from an account of its own"
        stmt = needed[0].statement
        facts = "".join(f"; {fact}" for fact in escalation.facts(holder))
        yield Hit(f"{forced_summary(needed, line)}{_maybe(needed)}{facts}; narrow them outside this policy: {remedy}",
                  f"Jets {line}", stmt.location(), FORCED_SEVERITY, fix=remedy)
    by_statement: dict[str, list] = {}
    for way in ways:
        if way.kind not in forced:
            by_statement.setdefault(way.statement.ref, []).append(way)
    for found in by_statement.values():
        stmt = found[0].statement
        severity = max((w.severity for w in found), key=SEVERITY_RANK.__getitem__)
        example = f"; e.g. the deploy user can {found[0].how}" if found[0].kind[0] == "direct" else ""
        yield Hit(f"{stmt.label} opens {_count(found)}{_maybe(found)}: {summarise([w.text() for w in found], 3)}"
                  f"{example}", stmt.label, stmt.location(), severity, fix=FIX)


def forced_summary(ways: list, line: str) -> str:
    """`the holder can run code as a role it writes (role/demo-dev-*) in a Lambda function: 3 privilege-
    escalation paths Jets 5 itself needs (its narrowest policy opens them too)`"""
    roles = list(dict.fromkeys(w.role for w in ways if w.role))
    services = list(dict.fromkeys(f"a {w.through}" for w in ways if w.through))
    direct = [w.name for w in ways if not w.through]
    what = []
    if roles:
        what.append(f"run code as {_either(roles)} in {_either(services)}")
    what.extend(direct)
    return (f"the holder can {'; '.join(what)}: {_count(ways)} Jets {line} itself needs "
            "(its narrowest policy opens them too)")


def _either(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _count(ways: list) -> str:
    return f"{len(ways)} privilege-escalation {'path' if len(ways) == 1 else 'paths'}"


def _maybe(ways: list) -> str:
    return " (some only if a Condition the audit cannot decide holds)" if any(w.maybe for w in ways) else ""
