"""allow-notaction: an Allow statement with NotAction.

What it does
    Reports every Allow statement that uses NotAction. Allow + NotAction grants every action of
    every service except those listed, including services and actions AWS adds later.

Why it matters
    `{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}` reads as "no IAM", but it grants
    everything else: data in every bucket and table, every Lambda, billing, Organizations.
    (parliament even expands the listed actions as if they were granted; this tool evaluates
    NotAction as the complement it is.)

Example
    Statement[0] uses Allow with NotAction: it grants every action except iam:*

Fix
    List the actions to allow with Action. Use NotAction only in a Deny.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.base import Context
from auditor.checks.common import summarise
from auditor.report import Hit

RULE_ID = "allow-notaction"
CATEGORY = "over-broad"
SEVERITY = "high"


def check(ctx: Context) -> Iterator[Hit]:
    for stmt in ctx.statements:
        if stmt.effect == "Allow" and stmt.not_actions is not None:
            yield Hit(f"{stmt.label} uses Allow with NotAction: it grants every action except "
                      f"{summarise(stmt.not_actions)}", stmt.label, stmt.location("/NotAction"),
                      fix="list the allowed actions with Action; keep NotAction for Deny statements")
