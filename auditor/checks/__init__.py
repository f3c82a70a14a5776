"""The explicit registry of checks: one module per rule id (DESIGN §7).

Each module has RULE_ID, CATEGORY, SEVERITY (the default), a docstring that is its documentation
(`jets-iam-audit explain RULE_ID` prints it) and `check(ctx)`, which yields Hits.
"""

from __future__ import annotations

from types import ModuleType

from auditor.checks import invalid_policy, missing_action

CHECKS: tuple[ModuleType, ...] = (
    missing_action,
    invalid_policy,
)


def by_id(rule_id: str) -> ModuleType | None:
    for module in CHECKS:
        if module.RULE_ID == rule_id:
            return module
    return None
