"""AWS managed policies by ARN, from the dated snapshot shipped in the package.

Terraform (`policy_arn`, `managed_policy_arns`), CloudFormation (`ManagedPolicyArns`) and CDK synth
output attach AWS managed policies by ARN only: the document is AWS's, not in the repository. The
snapshot `auditor/data/aws-managed-policies.json.gz` holds AWS's managed policies as `aws iam
list-policies --scope AWS` and `aws iam get-policy-version` gave them on its date: per policy its
name, ARN, default version id, last update, whether AWS still lists it (a deprecated policy stays
attached where it was attached) and its document. scripts/refresh_managed_policies.py writes it
(docs/development.md, "Data: AWS managed policies").

It is read (gunzip and JSON, about 0.3 s) only when an ARN of account `aws` needs it, and once per run.
`--auth-details` documents and live mode, which read the account's current version, win over it.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from auditor.model import Policy, is_aws_managed, parse_policy

SNAPSHOT = Path(__file__).parent / "data" / "aws-managed-policies.json.gz"
FORMAT = 1
_MARK = ":iam::aws:policy/"


@dataclass(frozen=True)
class Entry:
    """One AWS managed policy as the snapshot holds it."""

    name: str  # AdministratorAccess
    arn: str | None  # arn:aws:iam::aws:policy/AdministratorAccess (None: its path was not known)
    version: str | None  # the default version id when read: v1
    updated: str | None  # when AWS last changed it (list-policies' UpdateDate)
    listed: bool  # AWS still lists it (False: deprecated, kept where it was attached)
    document: dict


@dataclass(frozen=True)
class Snapshot:
    date: str  # when the documents were read from AWS (YYYY-MM-DD)
    source: str  # where they were read from
    entries: tuple[Entry, ...]

    def find(self, arn: str) -> Entry | None:
        """The entry for an AWS managed policy ARN in any partition (`arn:aws-cn:...`, or a placeholder
        for one such as `arn:${data.aws_partition.current.partition}:...`): the same path and name, or
        the same name where the snapshot does not know the policy's path. None for any other ARN."""
        if not arn.startswith("arn:") or _MARK not in arn:
            return None
        tail = arn.split(_MARK, 1)[1]  # path/name, as in the ARN
        for entry in self.entries:  # 1,523 comparisons of short strings: no index needed
            if entry.arn is not None and entry.arn.split(_MARK, 1)[1] == tail:
                return entry
        name = tail.rpartition("/")[2]
        return next((e for e in self.entries if e.arn is None and e.name == name), None)


def read_snapshot(path: Path) -> Snapshot:
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        data = json.load(stream)
    if data.get("format") != FORMAT:
        raise ValueError(f"{path}: snapshot format {data.get('format')!r}, expected {FORMAT}")
    entries = tuple(Entry(p["name"], p.get("arn"), p.get("version"), p.get("updated"), bool(p.get("listed", True)),
                          p["document"]) for p in data["policies"])
    return Snapshot(str(data["date"]), str(data.get("source", "")), entries)


@cache
def snapshot() -> Snapshot:
    """The snapshot shipped with the package, read on first use."""
    return read_snapshot(SNAPSHOT)


def documents() -> Iterator[Entry]:
    """Every AWS managed policy of the shipped snapshot (the corpus tests and benchmarks can read these
    instead of a directory of documents)."""
    yield from snapshot().entries


def policy(arn: str, held: Snapshot | None = None) -> tuple[Policy, Entry] | None:
    """The document of an AWS managed policy ARN as a Policy named by the ARN as written (an AWS managed
    policy: its findings fold into one aws-managed-policy finding), and its entry; None when the ARN is
    not an AWS managed policy's or the snapshot does not hold it."""
    if not is_aws_managed(arn) and not (arn.startswith("arn:") and _MARK in arn):
        return None
    entry = (held or snapshot()).find(arn)
    if entry is None:
        return None
    return replace(parse_policy(json.dumps(entry.document, indent=2), arn), aws_managed=True), entry
