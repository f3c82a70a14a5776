"""The least-privilege policy for a set of options, built from the catalogue.

Statements are grouped by service and resource set: every action is granted exactly on the resource
patterns its requirements name (rendered for the prefix, envs, region and account), actions that take
only "*" get "*", iam:PassRole gets its own statement conditioned on iam:PassedToService. When the
document exceeds IAM's managed-policy quota (6,144 characters, minified), it is split.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence

from auditor.catalogue import Catalogue, Naming

POLICY_QUOTA = 6144
PASSED_TO = {"6": ("codebuild.amazonaws.com",)}
DEFAULT_PASSED_TO = ("lambda.amazonaws.com",)
SERVICE_TITLES = {
    "apigateway": "ApiGateway", "cloudformation": "CloudFormation", "codebuild": "CodeBuild", "dynamodb": "DynamoDB",
    "ec2": "Ec2", "events": "Events", "iam": "Iam", "iot": "Iot", "lambda": "Lambda", "logs": "Logs",
    "route53": "Route53", "s3": "S3", "sns": "Sns", "sqs": "Sqs", "ssm": "Ssm", "config": "Config",
}


def grants(catalogue: Catalogue, version: str, features: Sequence[str], project: str, envs: Sequence[str],
           region: str | None, account: str | None) -> dict[str, set[str]]:
    """action → the resource patterns it must be granted on."""
    out: dict[str, set[str]] = defaultdict(set)
    for env in envs:
        naming = Naming(project, env, version, region, account)
        for req in catalogue.select(version, features):
            out[req.action].add(naming.render(req.resource))
    return out


def statements_for(wanted: dict[str, set[str]], version: str) -> list[dict]:
    """Group actions by service and identical resource sets; PassRole apart, with its condition."""
    by_key: dict[tuple[str, frozenset[str]], set[str]] = defaultdict(set)
    passrole: set[str] = set()
    for action, resources in wanted.items():
        if action == "iam:PassRole":
            passrole |= resources
            continue
        by_key[(action.partition(":")[0], frozenset(resources))].add(action)
    statements = []
    counters: dict[str, int] = defaultdict(int)
    for (service, resources), actions in sorted(by_key.items(), key=lambda kv: (kv[0][0], sorted(kv[0][1]))):
        counters[service] += 1
        title = SERVICE_TITLES.get(service, service.title().replace("-", ""))
        sid = f"Jets{title}{counters[service] if counters[service] > 1 else ''}"
        statements.append({"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": sorted(resources)})
    if passrole:
        services = PASSED_TO.get(version, DEFAULT_PASSED_TO)
        statements.append({"Sid": "JetsPassRole", "Effect": "Allow", "Action": ["iam:PassRole"],
                           "Resource": sorted(passrole),
                           "Condition": {"StringEquals": {"iam:PassedToService": list(services) if len(services) > 1 else services[0]}}})
    _renumber(statements)
    return statements


def _renumber(statements: list[dict]) -> None:
    """Sids stay unique: JetsLambda, JetsLambda2, ..."""
    seen: dict[str, int] = {}
    for stmt in statements:
        sid = stmt["Sid"]
        if sid in seen:
            seen[sid] += 1
            stmt["Sid"] = f"{sid}{seen[sid]}"
        else:
            seen[sid] = 1


def minified_size(doc: dict) -> int:
    return len(json.dumps(doc, separators=(",", ":")))


def split(statements: list[dict], quota: int = POLICY_QUOTA) -> list[dict]:
    """One document if it fits the quota, else as few as fit (statements are never cut)."""
    docs: list[dict] = []
    current: list[dict] = []
    for stmt in statements:
        trial = {"Version": "2012-10-17", "Statement": [*current, stmt]}
        if current and minified_size(trial) > quota:
            docs.append({"Version": "2012-10-17", "Statement": current})
            current = [stmt]
        else:
            current.append(stmt)
    docs.append({"Version": "2012-10-17", "Statement": current})
    return docs


def generate(catalogue: Catalogue, version: str, features: Sequence[str], project: str, envs: Sequence[str],
             region: str | None = None, account: str | None = None) -> list[dict]:
    wanted = grants(catalogue, version, features, project, envs, region, account)
    return split(statements_for(wanted, version))
