"""internal-error: a check failed on this target.

What it does
    Every check runs on its own: if one raises (a bug in this tool, on input nobody foresaw), the
    engine keeps the findings it gave so far, runs every other check, and this rule reports the
    failure once, by rule id and error, instead of a traceback.

Why it matters
    The failed check's findings for this target may be incomplete.

Example
    check "duplicate-resource" failed on this target (IndexError: list index out of range); its
    findings may be incomplete

Fix
    Nothing in the policy needs to change. Report it, with the policy if you can share it.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model import Location
from auditor.report import Hit

RULE_ID = "internal-error"
CATEGORY = "invalid"
SEVERITY = "info"


def check(ctx) -> Iterator[Hit]:
    """Runs last (see checks/__init__.py): reports what the engine recorded for the checks before it."""
    source = ctx.target.sources[0] if ctx.target.sources else ctx.target.name
    for rule_id, error in ctx.memo.get("failed", ()):
        yield Hit(f'check "{rule_id}" failed on this target ({error}); its findings may be incomplete', rule_id,
                  Location(source))
