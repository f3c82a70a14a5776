#!/usr/bin/env python3
"""Write auditor/data/aws-managed-policies.json.gz, the dated snapshot of AWS's managed policies that
the audit reads when a policy is attached by ARN (auditor/managed_policies.py).

From saved AWS CLI output (the usual way; no credentials needed here):

    aws iam list-policies --scope AWS > list.json
    mkdir versions && jq -r '.Policies[] | [.PolicyName, .Arn, .DefaultVersionId] | @tsv' list.json |
      while IFS=$'\t' read -r name arn version; do
        aws iam get-policy-version --policy-arn "$arn" --version-id "$version" > "versions/$name.json"
      done
    python scripts/refresh_managed_policies.py --list list.json --versions versions --date 2026-03-07

`--versions DIR` holds one file per policy named after it (`NAME` or `NAME.json`): get-policy-version
output (`{"PolicyVersion": {"Document": ..., "VersionId": ...}}`) or the bare document. A file that no
list names is kept by name, with no ARN: the audit then matches it by name alone. `--list` may be given
again with older list-policies output: policies the first list lacks but an older one names keep that
ARN and are marked as no longer listed (deprecated: AWS keeps them where they are attached).

Straight from an account (boto3; read-only IAM calls: iam:ListPolicies, iam:GetPolicyVersion):

    python scripts/refresh_managed_policies.py --aws [--profile NAME] [--endpoint-url URL]

The snapshot is gzip'd compact JSON, sorted by name, with no timestamp in the gzip header, so the same
input writes the same bytes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import io
import json
import sys
import urllib.parse
from pathlib import Path

FORMAT = 1
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "auditor" / "data" / "aws-managed-policies.json.gz"


def _document(raw: object) -> dict:
    """A policy document as get-policy-version gives it: decoded by the CLI and boto3, URL-encoded JSON by the API."""
    if isinstance(raw, str):
        raw = json.loads(urllib.parse.unquote(raw))
    if not isinstance(raw, dict) or "Statement" not in raw:
        raise ValueError("not a policy document (no Statement)")
    return raw


def _listed(paths: list[Path]) -> tuple[dict[str, dict], set[str]]:
    """Policy name → list-policies entry (the first list wins), and the names the first list holds."""
    by_name: dict[str, dict] = {}
    current: set[str] = set()
    for i, path in enumerate(paths):
        data = json.loads(path.read_text(encoding="utf-8"))
        for entry in data.get("Policies", []):
            name = entry.get("PolicyName")
            if not isinstance(name, str):
                continue
            by_name.setdefault(name, entry)
            if i == 0:
                current.add(name)
    return by_name, current


def from_files(lists: list[Path], versions: Path) -> list[dict]:
    by_name, current = _listed(lists)
    out = []
    seen: dict[str, str] = {}
    for path in sorted(versions.iterdir()):
        if not path.is_file():
            continue
        name = path.name[:-5] if path.name.endswith(".json") else path.name
        if name in seen:  # NAME and NAME.json: the first in name order (NAME) is kept
            print(f"skipped {path.name}: {seen[name]} already gives {name}", file=sys.stderr)
            continue
        seen[name] = path.name
        text = path.read_text(encoding="utf-8").strip()
        if not text:
            print(f"skipped {path.name}: empty", file=sys.stderr)
            continue
        data = json.loads(text)
        wrapped = data.get("PolicyVersion") if isinstance(data, dict) else None
        try:
            document = _document(wrapped.get("Document") if isinstance(wrapped, dict) else data)
        except ValueError as exc:
            print(f"skipped {path.name}: {exc}", file=sys.stderr)
            continue
        listed = by_name.get(name, {})
        version = wrapped.get("VersionId") if isinstance(wrapped, dict) else None
        out.append({"name": name, "arn": listed.get("Arn"), "version": version or listed.get("DefaultVersionId"),
                    "updated": listed.get("UpdateDate"), "listed": name in current if lists else True,
                    "document": document})
    return out


def from_aws(profile: str | None, endpoint_url: str | None) -> list[dict]:
    import boto3

    session = boto3.Session(profile_name=profile)
    iam = session.client("iam", endpoint_url=endpoint_url, region_name="us-east-1")
    out = []
    for page in iam.get_paginator("list_policies").paginate(Scope="AWS"):
        for entry in page["Policies"]:
            version = iam.get_policy_version(PolicyArn=entry["Arn"], VersionId=entry["DefaultVersionId"])["PolicyVersion"]
            updated = entry.get("UpdateDate")
            out.append({"name": entry["PolicyName"], "arn": entry["Arn"], "version": entry["DefaultVersionId"],
                        "updated": updated.isoformat() if hasattr(updated, "isoformat") else updated, "listed": True,
                        "document": _document(version["Document"])})
    return out


def write(policies: list[dict], date: str, source: str, out: Path) -> None:
    policies = sorted(policies, key=lambda p: p["name"])
    body = json.dumps({"format": FORMAT, "date": date, "source": source, "policies": policies},
                      separators=(",", ":"), sort_keys=True).encode("utf-8")
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9, mtime=0, filename="") as stream:
        stream.write(body)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(buffer.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="append", type=Path, default=[],
                        help="`aws iam list-policies --scope AWS` output (repeatable: the first is current, older ones "
                             "give the ARNs of deprecated policies)")
    parser.add_argument("--versions", type=Path, help="a directory of get-policy-version outputs or documents, one per policy")
    parser.add_argument("--aws", action="store_true", help="read them from AWS with boto3 instead")
    parser.add_argument("--profile")
    parser.add_argument("--endpoint-url")
    parser.add_argument("--date", help="when the documents were read (YYYY-MM-DD; default: today, UTC)")
    parser.add_argument("--source", help="where they were read from, as the snapshot records it")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if args.aws == (args.versions is not None):
        parser.error("give --versions DIR (with --list FILE) or --aws")
    date = args.date or dt.datetime.now(dt.UTC).date().isoformat()
    dt.date.fromisoformat(date)
    if args.aws:
        policies = from_aws(args.profile, args.endpoint_url)
        source = args.source or "aws iam list-policies --scope AWS, get-policy-version"
    else:
        policies = from_files(args.list, args.versions)
        source = args.source or "saved list-policies and get-policy-version output"
    if not policies:
        print("no policies read: nothing written", file=sys.stderr)
        return 1
    write(policies, date, source, args.out)
    unknown = sum(1 for p in policies if p["arn"] is None)
    print(f"{args.out}: {len(policies)} AWS managed policies of {date} ({unknown} without an ARN, "
          f"{sum(1 for p in policies if not p['listed'])} no longer listed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
