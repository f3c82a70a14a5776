"""shell-placeholder: a shell variable such as ${MY_PREFIX} or $PREFIX left in the policy.

What it does
    Finds `${NAME}` (no colon, so not an IAM policy variable such as ${aws:username}), `$NAME` and
    `$(command)` in actions, resources and condition values.

Why it matters
    The Jets docs build the policy with a shell heredoc (`cat <<EOF`), which fills in ${MY_PREFIX};
    copied into the console or a file instead, the placeholder stays. IAM takes it as literal text,
    so the statement matches no resource and the deploy fails with AccessDenied.

Example
    "arn:aws:lambda:*:*:function:${MY_PREFIX}-*" in Statement[2] contains the shell placeholder ${MY_PREFIX}

Fix
    Replace the placeholder with the project name (or run the docs' heredoc in a shell).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from auditor.checks.base import Context
from auditor.glob_text import is_iam_variable
from auditor.report import Hit

RULE_ID = "shell-placeholder"
CATEGORY = "resource-mismatch"
SEVERITY = "high"

_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}|\$\(([^)]*)\)|\$([A-Za-z_][A-Za-z0-9_]*)")


def placeholders(text: str) -> list[str]:
    out = []
    for m in _PLACEHOLDER.finditer(text):
        braced = m.group(1)
        if braced is not None and (braced in ("*", "?", "$") or is_iam_variable(braced)):
            continue
        out.append(m.group(0))
    return out


def check(ctx: Context) -> Iterator[Hit]:
    # the placeholders a Terraform or CloudFormation reader left are unresolved-reference's to report
    left = {p.source: {text for text, _ in p.unresolved} for p in ctx.target.policies if p.unresolved}
    for stmt in ctx.statements:
        known = left.get(stmt.source, ())

        def found_in(value: str, known: set[str] | tuple = known) -> list[str]:
            if "$" not in value:  # every placeholder starts with one
                return []
            return [p for p in placeholders(value) if p not in known]

        for element, values in ((stmt.action_element, stmt.action_patterns), (stmt.resource_element, stmt.resource_patterns)):
            for i, value in enumerate(values):
                for found in found_in(value)[:1]:
                    yield Hit(f'"{value}" in {stmt.label} contains the shell placeholder {found}: IAM reads it as literal '
                              "text, so it matches nothing", value, stmt.element_location(element, i),
                              fix=f"replace {found} with its value")
        for cond in stmt.conditions:
            for value in cond.values:
                for found in found_in(value)[:1]:
                    yield Hit(f'condition {cond.operator} {cond.key} in {stmt.label} contains the shell placeholder {found}',
                              value, stmt.location(f"/Condition/{cond.operator}/{cond.key}"), fix=f"replace {found} with its value")
