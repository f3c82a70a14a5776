"""malformed-arn: a Resource that is not "*" and not a well-formed ARN.

What it does
    Checks every Resource/NotResource entry: it must start with "arn:", have partition, service,
    region, account and resource parts (six colon-separated fields, unless a `*` ending an earlier
    field stands for the rest), a known partition (aws, aws-cn, aws-us-gov, aws-iso...), a service that
    exists, a region that looks like one and an account of 12 digits (or "aws" for AWS managed
    policies). Wildcards are accepted in every field.

Why it matters
    IAM rejects some malformed ARNs outright and silently never matches the others.

Example
    "arn:aws:lamda:*:*:function:demo-*" in Statement[2]: unknown service "lamda" (did you mean lambda?)

Fix
    Correct the part named in the message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from auditor import awsdata
from auditor.checks.base import Context
from auditor.report import Hit

RULE_ID = "malformed-arn"
CATEGORY = "resource-mismatch"
SEVERITY = "medium"

PARTITIONS = re.compile(r"aws(-cn|-us-gov|-iso(-[a-z])?|-eusc)?")
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")
ACCOUNT = re.compile(r"\d{12}|aws")


def _wild(text: str) -> bool:
    return "*" in text or "?" in text or "${" in text


def problem(res: str, retired: frozenset[str] = frozenset()) -> str | None:
    if res == "*" or "${" in res:
        return None
    if not res.startswith("arn:"):
        return 'not an ARN (it must be "*" or start with "arn:")'
    parts = res.split(":", 5)
    if len(parts) < 6:
        if parts[-1].endswith("*"):
            return None
        return f"has {len(parts)} of the 6 colon-separated parts arn:partition:service:region:account:resource"
    _, partition, service, region, account, resource = parts
    if not _wild(partition) and not PARTITIONS.fullmatch(partition):
        return f'unknown partition "{partition}"'
    if not _wild(service):
        if not service:
            return "has no service"
        if not awsdata.service_exists(service) and service.lower() not in retired:
            close = awsdata.close_services(service)
            return f'unknown service "{service}"' + (f" (did you mean {', '.join(close)}?)" if close else "")
    if region and not _wild(region) and not REGION.fullmatch(region):
        return f'region "{region}" is not a region name'
    if account and not _wild(account) and not ACCOUNT.fullmatch(account):
        return f'account "{account}" is not a 12-digit account id'
    if not resource:
        return "has an empty resource part"
    return None


def check(ctx: Context) -> Iterator[Hit]:
    for stmt in ctx.statements:
        element = stmt.resource_element
        for i, res in enumerate(stmt.resource_patterns):
            why = problem(res, ctx.catalogue.retired_services)
            if why:
                yield Hit(f'"{res}" in {stmt.label}: {why}', res, stmt.element_location(element, i), fix="correct the ARN")
