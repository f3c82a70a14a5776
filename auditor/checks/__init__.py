"""The explicit registry of checks: one module per rule id (docs/design.md, "The check protocol").

Each module is a `Check` (auditor/checks/base.py): RULE_ID, CATEGORY, SEVERITY (the default), a
docstring that is its documentation (`jets-iam-audit explain RULE_ID` prints it) and `check(ctx)`,
which yields Hits from a read-only Context.
"""

from __future__ import annotations

from auditor.checks import (
    allow_notaction,
    allow_notresource,
    aws_managed_policy,
    cross_policy_duplicate,
    duplicate_action,
    duplicate_resource,
    duplicate_sid,
    duplicate_statement,
    internal_error,
    invalid_condition,
    invalid_policy,
    malformed_arn,
    missing_action,
    not_evaluated,
    outside_prefix,
    passrole_unscoped,
    pattern_never_matches,
    privilege_escalation,
    redundant_action,
    resource_type_mismatch,
    shell_placeholder,
    split_deploy,
    unknown_action,
    unresolved_reference,
    untrusted_setting,
    unused_action,
    unused_ignore,
    wildcard_action,
    wildcard_resource,
)
from auditor.checks.base import Check

CHECKS: tuple[Check, ...] = (
    # missing-action
    missing_action,
    split_deploy,
    # over-broad
    wildcard_action,
    wildcard_resource,
    passrole_unscoped,
    privilege_escalation,
    allow_notaction,
    allow_notresource,
    unused_action,
    aws_managed_policy,
    # duplicate
    duplicate_action,
    redundant_action,
    duplicate_resource,
    duplicate_statement,
    duplicate_sid,
    cross_policy_duplicate,
    # resource-mismatch
    resource_type_mismatch,
    pattern_never_matches,
    outside_prefix,
    shell_placeholder,
    unresolved_reference,
    malformed_arn,
    # invalid
    invalid_policy,
    unknown_action,
    invalid_condition,
    not_evaluated,
    unused_ignore,
    untrusted_setting,
    internal_error,
)

RULE_IDS: tuple[str, ...] = tuple(m.RULE_ID for m in CHECKS)
# the engine reports them: config cannot disable or ignore them (a found config would otherwise silence the finding about itself)
ALWAYS_ON: frozenset[str] = frozenset({internal_error.RULE_ID, untrusted_setting.RULE_ID})


def by_id(rule_id: str) -> Check | None:
    for module in CHECKS:
        if module.RULE_ID == rule_id:
            return module
    return None
