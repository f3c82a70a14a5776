"""duplicate-resource: a resource listed twice in a statement, or contained in another entry.

What it does
    Reports Resource (or NotResource) entries of a statement that repeat an earlier entry exactly
    (low), or that another entry of the same statement already contains (info), e.g.
    arn:aws:s3:::demo-*/* beside arn:aws:s3:::demo-* (a `*` that ends an ARN also matches "/" and ":").
    An entry is compared only with the wildcard entries whose literal start begins its own, at most
    200,000 comparisons per target; past that an info finding says from which entry on it stopped.

Why it matters
    A repeat is copy-paste noise; a contained entry suggests the author expected the broader one to
    mean less than it does: arn:aws:s3:::demo-* already grants every object in every demo-* bucket.

Example
    "arn:aws:s3:::demo-*/*" in Statement[3] is already contained in "arn:aws:s3:::demo-*"

Fix
    Delete the repeat; for a contained entry, decide which one you meant.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.budget import StartIndex, Work, literal_start
from auditor.checks.base import Context
from auditor.glob_text import policy_pattern
from auditor.globs import as_requirement, covers
from auditor.report import Hit

RULE_ID = "duplicate-resource"
CATEGORY = "duplicate"
SEVERITY = "low"


def check(ctx: Context) -> Iterator[Hit]:
    work = Work()  # containment is looked up by literal start, and counted (see auditor/budget.py)
    for stmt in ctx.statements:
        element = stmt.resource_element
        entries = stmt.resource_patterns
        # only a wildcard entry without policy variables can contain another: indexed once per statement
        wild = StartIndex((literal_start(o), j, (j, o)) for j, o in enumerate(entries)
                          if ("*" in o or "?" in o) and not policy_pattern(o).has_variable)
        listed: set[str] = set()
        for i, res in enumerate(entries):
            if res in listed:
                yield Hit(f'"{res}" is listed twice in {stmt.label}', res, stmt.element_location(element, i),
                          fix=f'delete the second "{res}"')
                continue
            listed.add(res)
            if not wild or work.exhausted or res == "*" or policy_pattern(res).has_variable:
                continue
            inner = as_requirement(res)  # the pattern as the requirement it is (a segment-ending star stays one)
            if inner is None:
                continue
            found, looked = wild.candidates(literal_start(inner))
            if not work.spend(1 + looked):
                what = f"the Resource entries from {stmt.element_pointer(element, i)} on (and later statements') were"
                yield work.stopped(RULE_ID, what, stmt.element_location(element, i))
                continue
            container = next((o for j, o in found if j != i and o != res and covers(inner, o)), None)
            if container:
                yield Hit(f'"{res}" in {stmt.label} is already contained in "{container}"', res,
                          stmt.element_location(element, i), "info", fix=f'delete "{res}" or narrow "{container}"')
