"""allow-notresource: an Allow statement with NotResource.

What it does
    Reports every Allow statement that uses NotResource. Allow + NotResource grants the actions on
    every resource except those listed, in every account the principal can reach.

Why it matters
    The exclusion list rarely keeps up: new buckets, functions and roles are all included.

Example
    Statement[1] uses Allow with NotResource: it grants on every resource except arn:aws:s3:::secrets/*

Fix
    List the resources to allow with Resource.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.base import Context
from auditor.checks.common import summarise
from auditor.report import Hit

RULE_ID = "allow-notresource"
CATEGORY = "over-broad"
SEVERITY = "medium"


def check(ctx: Context) -> Iterator[Hit]:
    for stmt in ctx.statements:
        if stmt.effect == "Allow" and stmt.not_resources is not None:
            yield Hit(f"{stmt.label} uses Allow with NotResource: it grants on every resource except "
                      f"{summarise(stmt.not_resources)}", stmt.label, stmt.location("/NotResource"),
                      fix="list the allowed resources with Resource")
