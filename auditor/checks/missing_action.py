"""missing-action: an action `jets deploy` needs is not granted on the resources Jets uses.

What it does
    For the selected Jets version, features and envs, every catalogue requirement (an action on a
    resource pattern, such as lambda:UpdateFunctionCode on function:demo-dev-*) is evaluated against
    the principal's policies, Deny statements and NotAction/NotResource included. Conditions are
    decided from what the request carries (who makes it: the Jets CLI, or CloudFormation with the
    caller's credentials; the deploy Region; TLS; the S3 headers of an upload; no permissions
    boundary on the roles Jets creates; ...: rules/request-context.toml). A requirement that is not
    granted on every resource Jets may create there (or that a Deny removes, or whose only Allow has a
    Condition the request does not meet) is reported, with the Jets step that breaks. A Condition on
    a value the audit cannot know (aws:SourceIp, MFA, principal tags, a date still to come) is reported at info
    level, naming the key: "not proven granted" for an Allow, "may be denied" for a Deny. A Deny that
    takes only some of the names Jets may create there (rules/names.toml: a function named after an app
    class, a stack after a logical id) is reported at low severity as "may be denied, depending on names
    the app chooses", naming the Deny's Resource; a Deny that takes every such name is a certain denial. A
    requirement no statement names is about the principal as a whole: it points at the policy file, or,
    for a principal of Terraform or CloudFormation, at the file and line that define the principal.

Why it matters
    Jets deploys with the caller's credentials. A missing action surfaces only when that step runs:
    lambda:UpdateFunctionCode on the second deploy, lambda:InvokeFunction in the prewarm step after a
    "successful" CloudFormation run, logs:DeleteLogGroup at the end of `jets delete`.

Example
    The Jets docs' 2019-10 least-privilege policy lists no lambda:UpdateFunctionCode:
        missing "lambda:UpdateFunctionCode" on function:demo-dev-*: the second jets deploy fails ...

Fix
    Add the action on the pattern shown (the fix line gives the full ARN), or run
    `jets-iam-audit catalogue` to see every requirement with its reason and evidence.
    Severity follows the requirement's confidence: high, medium or low.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.catalogue import shown_resource
from auditor.checks.base import Context
from auditor.evaluate import CONDITIONAL, DENIED, MISSING, NAME_DEPENDENT
from auditor.report import CoverageRow, Hit

CALLERS = {"cli": "the Jets CLI", "cloudformation": "CloudFormation", "codebuild": "the CodeBuild runner"}

RULE_ID = "missing-action"
CATEGORY = "missing-action"
SEVERITY = "high"
NAME_DEPENDENT_SEVERITY = "low"  # a Deny that takes some of the names Jets may create, not all


def check(ctx: Context) -> Iterator[Hit]:
    whole = ctx.target.whole  # a finding about the whole target points at the principal's definition
    for row in ctx.coverage:
        if row.status not in (MISSING, DENIED, CONDITIONAL, NAME_DEPENDENT):
            continue
        where = shown_resource(row.action, row.resource, row.match)
        caller = CALLERS.get(row.caller, row.caller)
        if row.status == MISSING and row.unmet and not row.by_boundary:  # an Allow that matches, behind a Condition the request fails
            stmt = ctx.statement(row.unmet[0])
            because = "; ".join(note for note in row.notes if note.startswith(stmt.label)) or f"{stmt.label}: a condition"
            message = f'"{row.action}" on {where} is not granted to the request {caller} makes ({because}): {row.reason}'
            fix = f'let the Condition of {stmt.label} hold for that request, or allow "{row.action}" without it'
            location = stmt.location("/Condition")
        elif row.status == MISSING and (not row.allowed_by or row.by_boundary):  # no statement allows it (or the boundary does not)
            message = f'missing "{row.action}" on {where}: {row.reason}'
            if row.notes:
                message += f" ({'; '.join(row.notes)})"
            fix = f'allow "{row.action}" on "{row.resource}"'
            location = whole
        elif row.status == MISSING:  # a statement allows the action, but not on this resource
            stmt = ctx.statement(row.allowed_by[0])
            because = f" ({'; '.join(row.notes)})" if row.notes else ""  # e.g. a Resource too complex to compare
            message = f'"{row.action}" is allowed by {stmt.label} but not on {where}{because}: {row.reason}'
            fix = f'allow "{row.action}" on "{row.resource}" (or a pattern that matches it)'
            location = stmt.location("/Resource" if stmt.resources is not None else "/NotResource")
        elif row.status == DENIED:
            because = f" ({'; '.join(row.notes)})" if row.notes else ""
            message = f'"{row.action}" on {where} is denied by {", ".join(row.denied_by)}{because}: {row.reason}'
            fix = f'narrow the Deny so it leaves "{row.action}" on "{row.resource}"'
            location = ctx.statement(row.denied_by[0]).location() if row.denied_by else whole
        elif row.status == NAME_DEPENDENT:  # a Deny on some of the names Jets may create there
            because = "; ".join(row.notes) or f"{', '.join(row.denied_by)} denies some of them"
            message = (f'"{row.action}" on {where} may be denied, depending on names the app chooses ({because}): '
                       f"{row.reason}")
            fix = (f'make sure Jets never names a resource so (the names follow the app\'s classes, functions and '
                   f'files), or narrow the Deny so it leaves "{row.action}" on "{row.resource}"')
            location = ctx.statement(row.denied_by[0]).location() if row.denied_by else whole
        elif row.denied_by:  # a Deny whose Condition the audit cannot decide
            because = "; ".join(row.notes) or "a condition"
            message = f'"{row.action}" on {where} may be denied ({because}): {row.reason}'
            fix = f"make sure the condition does not hold for the request {caller} makes"
            location = ctx.statement(row.denied_by[0]).location("/Condition")
        else:
            because = "; ".join(row.notes) or "a condition"
            message = f'"{row.action}" on {where} is not proven granted ({because}): {row.reason}'
            fix = f"make sure the condition holds for the request {caller} makes, or grant without it"
            location = ctx.statement(row.granted_by[0]).location() if row.granted_by else whole
        yield Hit(message, row.action, location, _severity(row), row.resource, row.feature, fix, row.releases)


def _severity(row: CoverageRow) -> str:
    """A requirement's confidence is the severity of its absence; an undecided condition is only info, a
    Deny on some names low (a deploy fails only if the app names something so)."""
    if row.status == CONDITIONAL:
        return "info"
    return NAME_DEPENDENT_SEVERITY if row.status == NAME_DEPENDENT else row.confidence
