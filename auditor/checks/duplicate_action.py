"""duplicate-action: the same action listed twice in one statement.

What it does
    Compares the Action (or NotAction) entries of each statement case-insensitively, as IAM does,
    and reports every repeat at its position.

Why it matters
    Harmless to IAM but a sign of copy-paste editing: the Jets docs' least-privilege policy listed
    lambda:GetFunctionConfiguration twice for a year while lambda:UpdateFunctionCode, the action it
    was probably meant to be, was missing (fixed in rubyonjets/jets PR #509). No other IAM linter
    reports it.

Example
    "lambda:GetFunctionConfiguration" is listed twice in Statement[2] (first at /Statement/2/Action/5)

Fix
    Delete the repeat, and check whether another action was meant.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.base import Context
from auditor.report import Hit

RULE_ID = "duplicate-action"
CATEGORY = "duplicate"
SEVERITY = "low"


def check(ctx: Context) -> Iterator[Hit]:
    for stmt in ctx.statements:
        element = stmt.action_element
        first: dict[str, int] = {}
        for i, action in enumerate(stmt.action_patterns):
            key = action.lower()
            if key in first:
                yield Hit(f'"{action}" is listed twice in {stmt.label} (first at {stmt.element_pointer(element, first[key])})',
                          action, stmt.element_location(element, i), fix=f'delete the second "{action}"')
            else:
                first[key] = i
