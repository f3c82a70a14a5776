"""invalid-policy: the file is not an IAM policy IAM would accept.

What it does
    Reports documents that are not JSON, not a JSON object, have no Statement, and statements with a
    bad Effect or Version, neither (or both) of Action/NotAction or Resource/NotResource, elements of
    the wrong type, unknown policy elements (a policy has only Version, Id and Statement) and statement
    elements, a Principal (identity policies have none), NaN, Infinity or numbers beyond a double's
    range, and duplicate keys at any depth, Condition blocks included (IAM rejects them; most JSON
    parsers silently keep the last one). A document wrapped as the AWS CLI prints it
    ({"PolicyDocument": {...}}, {"PolicyVersion": {"Document": {...}}}) is reported with the jq filter
    that unwraps it. Statements with a bad Effect or a missing element are left out of the coverage.

Why it matters
    IAM refuses the whole policy at put-group-policy / create-policy time, so nothing in it is
    granted, and every other result about the file assumes it would be accepted.

Example
    {"Statement": [{"Effect": "allow", "Action": "s3:GetObject", "Resource": "*"}]}
        Effect must be "Allow" or "Deny", not 'allow'

Fix
    Correct the element named by the location's pointer; `aws iam create-policy` (or Access Analyzer)
    accepts the document once it is valid.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.base import Context
from auditor.model import Location
from auditor.report import Hit

RULE_ID = "invalid-policy"
CATEGORY = "invalid"
SEVERITY = "high"


def check(ctx: Context) -> Iterator[Hit]:
    for policy in ctx.target.policies:
        for problem in policy.problems:
            yield Hit(problem.message, problem.subject, Location(policy.source, problem.pointer, line=problem.line))
