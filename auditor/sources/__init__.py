"""Where policies come from: policy files and stdin (file.py), AWS (aws.py), and infrastructure code:
Terraform (terraform.py), Terraform plan JSON (tfplan.py), CloudFormation/SAM/CDK templates
(cloudformation.py). targets.py turns what they read into the targets an audit runs on.

`READERS` is the one registry of file readers: which extensions each takes, and `detect(path, text)`
picks the reader for a file by its extension and content. A directory walker takes `EXTENSIONS`.
Detection only looks at text: no reader module (and none of the parsers they import) is loaded for a
plain JSON policy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Reader:
    name: str
    module: str  # imported only when a file of this kind is read
    extensions: tuple[str, ...]
    limit: int  # bytes read at most (a larger file is refused as an `invalid` finding)


MIB = 1024 * 1024
READERS: tuple[Reader, ...] = (
    Reader("terraform", "auditor.sources.terraform", (".tf",), 2 * MIB),
    Reader("tfplan", "auditor.sources.tfplan", (".json",), 64 * MIB),  # plans of large configurations run to megabytes
    Reader("cloudformation", "auditor.sources.cloudformation", (".yaml", ".yml", ".json", ".template"), 2 * MIB),
    Reader("policy", "auditor.sources.file", (".json",), 2 * MIB),
)
BY_NAME = {r.name: r for r in READERS}
EXTENSIONS: tuple[str, ...] = (".json", ".tf", ".yaml", ".yml", ".template")

_TEMPLATE = re.compile(r"^(AWSTemplateFormatVersion|Resources)\s*:|\"(AWSTemplateFormatVersion|Resources)\"\s*:", re.M)
_PLAN = re.compile(r'"(planned_values|resource_changes|prior_state)"\s*:')


def detect(path: str, text: str) -> str | None:
    """The name of the reader for this file, or None when a YAML file is not a CloudFormation template.
    .tf is Terraform; JSON is a plan (format_version and planned_values/resource_changes), a template
    (top-level Resources with AWS:: types) or else a policy; YAML is a template or nothing."""
    lower = path.lower()
    if lower.endswith(".tf"):
        return "terraform"
    head = text[:65536]
    template = "AWS::" in text and bool(_TEMPLATE.search(head))  # the substring first: the expression tries every line
    if lower.endswith((".yaml", ".yml", ".template")):
        return "cloudformation" if template else None
    stripped = head.lstrip("\ufeff \t\r\n")
    if stripped.startswith("{"):
        if '"format_version"' in head and _PLAN.search(head):
            return "tfplan"
        if template:
            return "cloudformation"
    elif template and not lower.endswith(".json"):  # YAML on stdin or under another name
        return "cloudformation"
    return "policy"


def looks_like_plan(head: bytes) -> bool:
    """From a file's first bytes: a Terraform plan, which may be larger than a policy file may be."""
    text = head.decode("utf-8", "replace")
    return '"format_version"' in text and bool(_PLAN.search(text))
