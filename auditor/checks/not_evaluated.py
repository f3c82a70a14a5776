"""not-evaluated: a Terraform or CloudFormation construct the reader did not evaluate.

What it does
    Reports each construct of infrastructure code whose effect the audit could not work out from the
    files alone, where it is written (file and line), what the audit assumed in its place, and how to
    get the exact answer. Terraform: a module whose source is not a local path (registry, Git) or lies
    outside the repository, a `count` or `for_each` over a value known only after apply (assumed to
    create one instance), a `for_each` over a list (Terraform needs a map or a set), a `dynamic` block
    over such a value (assumed to make no blocks), a variable with no value, `source_json` or
    `override_json` (provider 4 only). CloudFormation: a Condition that depends on a parameter without
    a value. What the configuration decides (local modules, counts and for_each over known values,
    dynamic blocks over known collections, templates) is evaluated and not reported. The summary counts
    them.

Why it matters
    What a reader does not evaluate can add or remove grants: a policy attached by a registry module
    is not in the audit, a policy behind an undecided `count` may never be created. A report that
    stays silent about such a construct looks complete when it is not.

Example
    module "deployer" (source "terraform-aws-modules/iam/aws//modules/iam-group-with-policies") is not
    evaluated: not read (only local modules, ./ or ../ paths, are): its resources and policies are not
    part of this audit

    count on aws_iam_group_policy.admin is not evaluated: assumed created once (count = 1)

Fix
    Audit the plan JSON (`terraform plan -out plan.out && terraform show -json plan.out > plan.json`),
    where Terraform has decided every count, module and value; or give the value the construct depends
    on (`--var NAME=VALUE`, `--var-file FILE`, `--parameter KEY=VALUE`).
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
