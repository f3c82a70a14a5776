"""duplicate-sid: two statements in one policy with the same Sid.

What it does
    Reports every statement whose Sid an earlier statement of the same policy document already uses.

Why it matters
    Sids name statements in reviews, in Access Analyzer and in this tool's reports; IAM requires them
    to be unique within some policy types and Access Analyzer flags repeats. A repeated Sid usually
    means a statement was copied and not renamed.

Example
    Sid "Lambda" of Statement[3] is already used by Statement[2]

Fix
    Give each statement its own Sid.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.base import Context
from auditor.report import Hit

RULE_ID = "duplicate-sid"
CATEGORY = "duplicate"
SEVERITY = "medium"


def check(ctx: Context) -> Iterator[Hit]:
    for policy in ctx.target.policies:
        seen: dict[str, int] = {}
        for stmt in policy.statements:
            if not stmt.sid:
                continue
            if stmt.sid in seen:
                yield Hit(f'Sid "{stmt.sid}" of Statement[{stmt.index}] is already used by Statement[{seen[stmt.sid]}]',
                          stmt.sid, stmt.location("/Sid"), fix=f'rename the Sid of Statement[{stmt.index}]')
            else:
                seen[stmt.sid] = stmt.index
