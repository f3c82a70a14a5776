"""unresolved-reference: a Terraform or CloudFormation reference the audit could not resolve.

What it does
    Reports each placeholder a Terraform file, plan or CloudFormation template left in a policy: a
    variable without a default or a value in terraform.tfvars, an attribute known only after apply
    (`aws_iam_role.app.arn`), a `!GetAtt`, a `!Ref` to a resource, a parameter without a Default, a
    reference loop in locals. The placeholder (`${var.prefix}`, `${DeployBucket.Arn}`) names it; the
    finding says why it could not be resolved.

Why it matters
    The audit cannot know what the policy will grant there. A placeholder is literal text that matches
    no resource Jets names, so every requirement it would have granted shows as missing: nothing is
    granted on a guess. IAM policy variables such as `${aws:username}` are not placeholders.

Example
    "arn:aws:lambda:*:*:function:${var.prefix}-*" in Statement[2] refers to ${var.prefix}:
        var.prefix has no default and no value in terraform.tfvars or *.auto.tfvars

Fix
    Give the variable a default or a value in terraform.tfvars (or a parameter its Default), or audit
    the plan JSON (`terraform show -json plan.out`), where everything the plan knows is resolved.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.base import Context
from auditor.model import Location
from auditor.report import Hit

RULE_ID = "unresolved-reference"
CATEGORY = "resource-mismatch"
SEVERITY = "high"


def check(ctx: Context) -> Iterator[Hit]:
    for policy in ctx.target.policies:
        if not policy.unresolved:
            continue
        reasons = dict(policy.unresolved)
        if not policy.statements and not policy.problems:
            for text, why in policy.unresolved:
                yield Hit(f"the policy document is {text}: {why}", text, Location(policy.source, ""),
                          fix="give the reference a value the configuration decides, or audit the plan JSON")
            continue
        for stmt in (s for s in ctx.statements if s.source == policy.source):
            elements = ((stmt.action_element, stmt.action_patterns), (stmt.resource_element, stmt.resource_patterns))
            for element, values in elements:
                for i, value in enumerate(values):
                    found = next((t for t in reasons if t in value), None)
                    if found is not None:
                        yield Hit(f'"{value}" in {stmt.label} refers to {found}: {reasons[found]}', value,
                                  stmt.element_location(element, i), fix=f"give {found} a value the configuration decides")
            for cond in stmt.conditions:
                for value in cond.values:
                    found = next((t for t in reasons if t in value), None)
                    if found is not None:
                        yield Hit(f"condition {cond.operator} {cond.key} in {stmt.label} refers to {found}: {reasons[found]}",
                                  value, stmt.location(f"/Condition/{cond.operator}/{cond.key}"),
                                  fix=f"give {found} a value the configuration decides")
