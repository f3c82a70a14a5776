"""internal-error: a helper analyser failed on this policy.

What it does
    parliament, which runs the condition checks, raises on some real policies (for example AWS's
    SageMakerStudioProjectUserRolePolicy: "Unknown data format: ArrayOfARN"). The error is caught and
    reported here, once per policy, instead of a traceback; every other check still runs.

Why it matters
    The condition checks did not run on this policy: a condition problem may be unreported.

Example
    parliament could not analyse the policy (Exception: Unknown data format: ArrayOfARN); condition
    checks were skipped

Fix
    Nothing in the policy needs to change. Report it if the policy is valid IAM.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.model import Location
from auditor.report import Hit

RULE_ID = "internal-error"
CATEGORY = "invalid"
SEVERITY = "info"


def check(ctx) -> Iterator[Hit]:
    for policy in ctx.target.policies:
        error = ctx.parliament(policy).error
        if error:
            yield Hit(f"parliament could not analyse the policy ({error}); condition checks were skipped", "parliament",
                      Location(policy.source))
