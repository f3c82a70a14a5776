"""internal-error: a check failed on this target.

What it does
    Every check runs on its own: if one raises (a bug in this tool, on input nobody foresaw), the
    engine keeps the findings it gave so far, runs every other check, and reports the failure once,
    by rule id and error, instead of a traceback. The engine reports it, not a check: it cannot be
    disabled (`enabled = false` for this rule is a config error), no config ignore silences it and
    an AWS managed policy does not fold it; config may change its severity.

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

from auditor.checks.base import Context
from auditor.report import Hit, Target

RULE_ID = "internal-error"
CATEGORY = "invalid"
SEVERITY = "info"


def check(ctx: Context) -> Iterator[Hit]:
    """Nothing per target: the engine reports a failed check itself (see `failure`)."""
    return iter(())


def failure(target: Target, rule_id: str, error: Exception) -> Hit:
    """The hit the engine reports when check `rule_id` raised `error` on `target`."""
    return Hit(f'check "{rule_id}" failed on this target ({type(error).__name__}: {error}); its findings may be incomplete',
               rule_id, target.whole)
