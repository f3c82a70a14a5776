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

from auditor.budget import StartIndex, Work
from auditor.checks.base import Context
from auditor.checks.common import has_variable, literal_runs, policy_start, requirement_start
from auditor.globs import NAME_START, as_requirement, covers
from auditor.model import Statement
from auditor.report import Hit

RULE_ID = "duplicate-resource"
CATEGORY = "duplicate"
SEVERITY = "low"


def check(ctx: Context) -> Iterator[Hit]:
    work = Work()  # containment is looked up by literal start, and counted (see auditor/budget.py)
    for stmt in ctx.statements:
        element = stmt.resource_element
        entries = stmt.resource_patterns
        if len(entries) == 1 and NAME_START not in entries[0]:
            # one entry: no repeat, and the index would hold at most the entry itself (its only candidate,
            # never its own container); the look-up is counted as the index counts it (1 + 1 member)
            res = entries[0]
            if ("*" in res or "?" in res) and res != "*" and as_requirement(res) is not None and not work.exhausted and not work.spend(2):
                yield _stopped(work, stmt, element, 0)
            continue
        # only a wildcard entry without policy variables can contain another: indexed once per statement
        wild = StartIndex((policy_start(o), j, (j, o, literal_runs(o))) for j, o in enumerate(entries)
                          if ("*" in o or "?" in o) and not has_variable(o))
        listed: set[str] = set()
        for i, res in enumerate(entries):
            if res in listed:
                yield Hit(f'"{res}" is listed twice in {stmt.label}', res, stmt.element_location(element, i),
                          fix=f'delete the second "{res}"')
                continue
            listed.add(res)
            if not wild or work.exhausted or res == "*" or has_variable(res):
                continue
            inner = as_requirement(res)  # the pattern as the requirement it is (a segment-ending star stays one)
            if inner is None:
                continue
            found, looked = wild.candidates(requirement_start(res))
            if not work.spend(1 + looked):
                yield _stopped(work, stmt, element, i)
                continue
            named = NAME_START in res
            container = None
            for j, o, runs in found:
                if j == i or o == res:
                    continue
                if runs is not None and not named and not all(run in res for run in runs):
                    continue  # a literal run of o that res lacks: o cannot contain it (see literal_runs)
                if covers(inner, o):
                    container = o
                    break
            if container:
                yield Hit(f'"{res}" in {stmt.label} is already contained in "{container}"', res,
                          stmt.element_location(element, i), "info", fix=f'delete "{res}" or narrow "{container}"')


def _stopped(work: Work, stmt: Statement, element: str, i: int) -> Hit:
    what = f"the Resource entries from {stmt.element_pointer(element, i)} on (and later statements') were"
    return work.stopped(RULE_ID, what, stmt.element_location(element, i))
