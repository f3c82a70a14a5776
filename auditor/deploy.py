"""Where a deploy runs: one Region and one account for every request of a `jets deploy`.

A policy may pin resources, or guard requests, to Regions and accounts. Jets deploys a project to one
Region of one account, so coverage is judged for one (Region, account) pair shared by every
requirement of a target: the one the user gave (--region, --account), else the pair that grants the
most. The candidates are exact and few: every real AWS Region is tried through one representative of
each group of Regions that every pattern of the policy (ARN Region segments, aws:RequestedRegion
values) treats alike; accounts are the ones the policy names, plus one it does not name.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from auditor.conditions import glob_match
from auditor.model import Statement
from auditor.report import CoverageRow

MAX_ACCOUNTS = 8  # accounts a policy names that are tried (the most named first); the rest are not
# One work budget per target for the search: (Region, account) pairs judged x requirements x the Resource
# entries of the statements naming them. A pair costs the same whatever it is, so the budget says how many
# pairs are judged, those the policy names first; the first pair is always judged. 34 Regions x 9 accounts
# of a policy pinning 1,600 ARNs came to 34 million comparisons (20 s); the budget stops it after 17 pairs
# (about 1 s). A policy of a few hundred Resource entries has every pair judged.
MAX_DEPLOY_WORK = 2_000_000
FRESH_ACCOUNT = "000000000000"  # stands for an account the policy does not name
_REGION, _ACCOUNT = 3, 4  # ARN segments: arn:partition:service:region:account:resource
_REGION_KEYS = frozenset({"aws:requestedregion"})
_ACCOUNT_KEYS = frozenset({"aws:principalaccount", "aws:resourceaccount"})


@dataclass(frozen=True)
class Deploy:
    """The Region and account a deploy is judged for (None: any; the policy does not tell them apart)."""

    region: str | None
    account: str | None
    named: bool = True  # the policy names this Region/account (or the user gave it)

    def label(self) -> str:
        parts = []
        if self.region is not None:
            parts.append(f"Region {self.region}")
        if self.account is not None:
            parts.append("an account the policy does not name" if self.account == FRESH_ACCOUNT else f"account {self.account}")
        return " and ".join(parts) or "any Region and account"


@cache
def aws_regions() -> tuple[str, ...]:
    """The Regions of the aws partition, from botocore's endpoint data (read as a file, botocore is
    not imported): the Regions a deploy can go to."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("botocore")
    if spec is None or spec.origin is None:  # pragma: no cover - boto3 is a dependency
        return ("us-east-1",)
    data = json.loads((Path(spec.origin).parent / "data" / "endpoints.json").read_text(encoding="utf-8"))
    for partition in data.get("partitions", ()):
        if partition.get("partition") == "aws":
            return tuple(sorted(partition.get("regions", {})))
    return ("us-east-1",)  # pragma: no cover


def _values(statements: Iterable[Statement], index: int, keys: frozenset[str]) -> list[str]:
    """The Region (or account) values the statements name: ARN segments (by index) other than "*" and empty,
    and the values of conditions on the given keys."""
    out: list[str] = []
    for stmt in statements:
        for pattern in stmt.resource_patterns:
            if "${" in pattern or not pattern.startswith("arn:"):
                continue
            parts = pattern.split(":", 5)  # a truncated ARN (arn:aws:lambda:us-east-1:*) still pins its Region
            if len(parts) > index and parts[index] not in ("", "*"):
                out.append(parts[index])
        for cond in stmt.conditions:
            if cond.key.lower() in keys:
                out.extend(v for v in cond.values if "${" not in v)
    return out


@dataclass(frozen=True)
class DeployChoice:
    """The Region and account a target was judged for, and what another choice would grant that this
    one does not (the pins that split the deploy)."""

    chosen: Deploy
    given: bool  # the user gave both (or the policy does not tell Regions and accounts apart)
    tried: int  # how many (Region, account) pairs were judged
    elsewhere: tuple[tuple[CoverageRow, Deploy, CoverageRow], ...] = ()  # row here, another deploy, its row there
    untried: int = 0  # pairs worth judging that the work budget (MAX_DEPLOY_WORK) left out


def candidates(statements: Sequence[Statement], region: str | None, account: str | None) -> tuple[Deploy, ...]:
    """The (Region, account) pairs worth judging, those the policy names first."""
    regions: list[tuple[str | None, bool]]
    if region is not None:
        regions = [(region, True)]
    else:
        patterns = sorted(set(_values(statements, _REGION, _REGION_KEYS)))
        regions = _region_groups(tuple(patterns)) if patterns else [(None, True)]
    accounts: list[tuple[str | None, bool]]
    if account is not None:
        accounts = [(account, True)]
    else:
        named = Counter(v for v in _values(statements, _ACCOUNT, _ACCOUNT_KEYS) if v.isdigit() and len(v) == 12)
        if named:
            accounts = [(a, True) for a, _ in sorted(named.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_ACCOUNTS]]
            accounts.append((FRESH_ACCOUNT, False))
        elif _values(statements, _ACCOUNT, _ACCOUNT_KEYS):
            accounts = [(FRESH_ACCOUNT, False)]  # only patterns: judged for an account they may not name
        else:
            accounts = [(None, True)]
    return tuple(Deploy(r, a, r_named and a_named) for r, r_named in regions for a, a_named in accounts)


@cache
def _region_groups(patterns: tuple[str, ...]) -> list[tuple[str | None, bool]]:
    """One Region per group of Regions every pattern treats alike (a glob as in an ARN or StringLike,
    equal as in StringEquals, equal without case): a Region the policy names stands for its group."""
    groups: dict[tuple[bool, ...], list[str]] = {}
    for name in aws_regions():
        signature = tuple(x for p in patterns for x in (glob_match(p, name), p == name, p.casefold() == name.casefold()))
        groups.setdefault(signature, []).append(name)
    literal = set(patterns)
    out: list[tuple[str | None, bool]] = []
    for members in groups.values():
        named = [m for m in members if m in literal]
        out.append((named[0] if named else members[0], bool(named)))
    out.sort(key=lambda pair: (not pair[1], pair[0] or ""))
    return out
