"""not-evaluated: a Terraform or CloudFormation construct the reader did not evaluate.

What it does
    Reports each construct of infrastructure code whose effect the audit could not work out from the
    files alone, where it is written (file and line), what the audit assumed in its place, and how to
    get the exact answer: a module the reader cannot open (a registry or Git source), a `count` or
    `for_each` over a value known only at apply time, a CloudFormation Condition that depends on a
    parameter without a value. The summary counts them.

Why it matters
    What a reader does not evaluate can add or remove grants: a policy attached by a registry module
    is not in the audit, a policy behind an undecided `count` may never be created. A report that
    stays silent about such a construct looks complete when it is not.

Example
    module "deployer" (source "terraform-aws-modules/iam/aws//modules/iam-group-with-policies") is not
    evaluated: its resources and policies are not part of this audit

Fix
    Audit the plan JSON (`terraform plan -out plan.out && terraform show -json plan.out > plan.json`),
    where Terraform has decided every count, module and value; or give the value the construct depends
    on (`--var NAME=VALUE`, `--parameter KEY=VALUE`).
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.base import Context
from auditor.report import Hit

RULE_ID = "not-evaluated"
CATEGORY = "invalid"
SEVERITY = "info"


def check(ctx: Context) -> Iterator[Hit]:
    for assumption in ctx.target.assumptions:
        yield Hit(f"{assumption.construct} is not evaluated: {assumption.assumed}", assumption.construct,
                  assumption.location, fix=assumption.exact)
