"""The least-privilege policy for a set of options, built from the catalogue.

Statements are grouped by service and resource set: every action is granted exactly on the resource
patterns its requirements name (rendered for the prefix, envs, region and account), actions that take
only "*" get "*" (in one statement), iam:PassRole gets its own statement conditioned on iam:PassedToService (the services
the catalogue's PassRole requirements name: lambda.amazonaws.com for Jets 3-5, codebuild.amazonaws.com
for Jets 6).

Where it goes sets the size quota (`--attach`; AWS IAM User Guide, "IAM and AWS STS quotas, name
requirements, and character limits": a managed policy holds 6,144 characters; the inline policies of a
group 5,120, of a user 2,048 and of a role 10,240, all of an entity's inline policies counted together;
IAM does not count white space). `--minimize` shortens the action lists first (auditor/minimize.py). A
policy that still does not fit is split into several managed policies; inline policies cannot be split
(the quota is for all of them together), so that is an error that says why.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from auditor.catalogue import Catalogue, Naming, Requirement
from auditor.choices import Attach

QUOTAS: dict[Attach, int] = {"managed": 6144, "group-inline": 5120, "user-inline": 2048, "role-inline": 10240}
ATTACH_NAMES: dict[Attach, str] = {"managed": "a managed policy", "group-inline": "a group's inline policies",
                "user-inline": "a user's inline policies", "role-inline": "a role's inline policies"}
POLICY_QUOTA = QUOTAS["managed"]
SERVICE_TITLES = {
    "apigateway": "ApiGateway", "cloudformation": "CloudFormation", "codebuild": "CodeBuild", "dynamodb": "DynamoDB",
    "ec2": "Ec2", "events": "Events", "iam": "Iam", "iot": "Iot", "lambda": "Lambda", "logs": "Logs",
    "route53": "Route53", "s3": "S3", "sns": "Sns", "sqs": "Sqs", "ssm": "Ssm", "config": "Config",
}


def grants(catalogue: Catalogue, version: str, features: Sequence[str], project: str, envs: Sequence[str],
           region: str | None, account: str | None) -> dict[str, set[str]]:
    """action → the resource patterns it must be granted on (none that another of them contains: the
    base-path function's pattern goes when the action is granted on every function of the project)."""
    from auditor.globs import covers

    out: dict[str, set[str]] = defaultdict(set)
    for env in envs:
        for req, resource in catalogue.rendered(Naming(project, env, version, region, account), features):
            out[req.action].add(resource)
    for action, patterns in out.items():
        if len(patterns) > 1:
            out[action] = {p for p in patterns if not any(q != p and covers(p, q) for q in patterns)}
    return out


def attached(catalogue: Catalogue, version: str, features: Sequence[str], project: str, envs: Sequence[str],
             region: str | None, account: str | None) -> dict[str, tuple[str, ...]]:
    """Actions that attach a managed policy (they take iam:PolicyARN) → the policies Jets attaches with
    them, when the request context knows every one (rules/request-context.toml: the CodeBuild role's
    two read-only policies for Jets 6, AWSLambdaBasicExecutionRole for s3_event). An action one of whose
    requirements attaches policies the app names (managed-iam-policies) is left out: not limited."""
    from auditor import awsdata
    from auditor.conditions import Each, Known, OneOf

    contexts = catalogue.contexts
    found: dict[str, set[str]] = {}
    refused: set[str] = set()
    for env in envs:
        naming = Naming(project, env, version, region, account)
        for req in catalogue.select(version, features):
            details = awsdata.action_details(req.action)
            if contexts is None or details is None or not _takes(details, "iam:PolicyARN"):
                continue
            value = contexts.context(req.action, req.resource, req.caller, features=features, version=version.split(".")[0],
                                     region=region, account=account, naming=tuple(sorted(naming.values().items()))
                                     ).lookup("iam:PolicyARN")
            options = value.alternatives if isinstance(value, Each | OneOf) else (value,)
            values = [v for o in options if isinstance(o, Known) for v in o.values]
            arns = [v for v in values if isinstance(v, str) and "*" not in v]  # one ARN each, no name part or wildcard
            if len(values) != len(options) or len(arns) != len(values):
                refused.add(req.action)
            found.setdefault(req.action, set()).update(arns)
    return {action: tuple(sorted(arns)) for action, arns in found.items() if action not in refused and arns}


def _takes(details, key: str) -> bool:
    low = key.lower()
    return any(k.lower() == low for k in details.condition_keys) or any(
        k.lower() == low for _, keys in details.resource_types for k in keys)


def passed_to(requirements: Sequence[Requirement]) -> tuple[str, ...]:
    """The services the selected iam:PassRole requirements pass roles to, sorted."""
    return tuple(sorted({s for r in requirements if r.action == "iam:PassRole" for s in r.passed_to}))


def _grouped(wanted: dict[str, set[str]]) -> list[tuple[frozenset[str], frozenset[str]]]:
    """One service's (actions, resources) pairs, whichever of two exact groupings is shorter: actions
    that share their resource set, or resources that share their action set. Both grant exactly `wanted`."""
    by_resources: dict[frozenset[str], set[str]] = defaultdict(set)
    for action, resources in wanted.items():
        by_resources[frozenset(resources)].add(action)
    needing: dict[str, set[str]] = defaultdict(set)
    for action, resources in wanted.items():
        for resource in resources:
            needing[resource].add(action)
    by_actions: dict[frozenset[str], set[str]] = defaultdict(set)
    for resource, actions in needing.items():
        by_actions[frozenset(actions)].add(resource)
    options = ([(frozenset(a), r) for r, a in by_resources.items()], [(a, frozenset(r)) for a, r in by_actions.items()])
    return min(options, key=lambda pairs: (len(json.dumps([[sorted(a), sorted(r)] for a, r in pairs])), len(pairs)))


def statements_for(wanted: dict[str, set[str]], services: Sequence[str],
                   attaching: dict[str, tuple[str, ...]] | None = None) -> list[dict]:
    """Group actions by service and identical resource sets (or resources by identical action sets,
    when that is shorter); the actions that take no resource in one statement on "*"; PassRole apart,
    with its condition; the actions of `attaching` (see attached) apart too, conditioned on the
    managed policies they may attach (iam:PolicyARN)."""
    by_service: dict[str, dict[str, set[str]]] = defaultdict(dict)
    passrole: set[str] = set()
    anywhere: set[str] = set()
    limited: dict[tuple[frozenset[str], tuple[str, ...]], set[str]] = defaultdict(set)
    for action, resources in wanted.items():
        if action == "iam:PassRole":
            passrole |= resources
        elif attaching and action in attaching:
            limited[(frozenset(resources), attaching[action])].add(action)
        elif resources == {"*"}:
            anywhere.add(action)
        else:
            by_service[action.partition(":")[0]][action] = resources
    statements: list[dict[str, Any]] = []  # JSON statements
    if anywhere:
        statements.append({"Sid": "JetsAnyResource", "Effect": "Allow", "Action": sorted(anywhere), "Resource": ["*"]})
    for service in sorted(by_service):
        title = SERVICE_TITLES.get(service, service.title().replace("-", ""))
        pairs = sorted(_grouped(by_service[service]), key=lambda pair: (sorted(pair[1]), sorted(pair[0])))
        for n, (same_actions, same_resources) in enumerate(pairs, 1):
            sid = f"Jets{title}{n if n > 1 else ''}"
            statements.append({"Sid": sid, "Effect": "Allow", "Action": sorted(same_actions), "Resource": sorted(same_resources)})
    for (where, policies), named in sorted(limited.items(), key=lambda item: (sorted(item[0][0]), item[0][1])):
        statements.append({"Sid": "JetsIamManagedPolicies", "Effect": "Allow", "Action": sorted(named),
                           "Resource": sorted(where),
                           "Condition": {"ArnEquals": {"iam:PolicyARN": list(policies) if len(policies) > 1 else policies[0]}}})
    if passrole:
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
        if current and minified_size(document([*current, stmt])) > quota:
            docs.append(document(current))
            current = [stmt]
        else:
            current.append(stmt)
    docs.append(document(current))
    return docs


class GenerateError(Exception):
    """The policy cannot be written for these options (it does not fit where it is to be attached)."""


@dataclass(frozen=True)
class Generated:
    docs: list[dict]  # one document, or several managed policies when one does not fit
    notice: str | None  # what stderr says: what --minimize did, and why the policy was split


def generate(catalogue: Catalogue, version: str, features: Sequence[str], project: str, envs: Sequence[str],
             region: str | None = None, account: str | None = None) -> list[dict]:
    return build(catalogue, version, features, project, envs, region, account).docs


def narrowest(catalogue: Catalogue, version: str, features: Sequence[str], project: str, envs: Sequence[str],
              region: str | None = None, account: str | None = None) -> list[dict]:
    """The statements of the narrowest policy that deploys this release and these features (before
    --minimize and before a split)."""
    wanted = grants(catalogue, version, features, project, envs, region, account)
    attaching = attached(catalogue, version, features, project, envs, region, account)
    return statements_for(wanted, passed_to(catalogue.select(version, features)), attaching)


def build(catalogue: Catalogue, version: str, features: Sequence[str], project: str, envs: Sequence[str],
          region: str | None = None, account: str | None = None, *, attach: Attach = "managed",
          minimize: bool = False) -> Generated:
    """The policy for `attach` (a key of QUOTAS), minimised when asked, split only when it must be."""
    statements = narrowest(catalogue, version, features, project, envs, region, account)
    quota = QUOTAS[attach]
    before = size = minified_size(document(statements))
    refuted: list[str] = []
    if minimize:
        from auditor.minimize import minimize_statements

        chosen = [stmt for stmt in statements if stmt["Action"] != ["iam:PassRole"]]  # kept: reviewers look for it
        for stmt, result in zip(chosen, minimize_statements([stmt["Action"] for stmt in chosen]), strict=True):
            stmt["Action"] = list(result.actions)
            refuted.extend(result.refuted)
        size = minified_size(document(statements))
    what = f"{size:,} characters (minified, without white space)"
    if minimize:
        what = f"--minimize shortened the policy from {before:,} to {what}"
        if refuted:
            what += (f"; {len(refuted)} of policyuniverse's wildcards (its data is from 2023) grant more today and "
                     f"were kept as actions, e.g. {sorted(refuted)[0]}")
    if size <= quota:
        return Generated([document(statements)], what if minimize else None)
    verb = "holds" if attach == "managed" else "hold"
    why = f"{what if minimize else 'the policy is ' + what}; {ATTACH_NAMES[attach]} {verb} {quota:,}"
    if attach != "managed":
        raise GenerateError(f"{why} in all (IAM counts every inline policy of the entity together, so splitting "
                            "does not help): attach it as managed policies (--attach managed)"
                            + ("" if minimize else " or try --minimize"))
    return Generated(split(statements, quota), why)  # the caller says how the documents are written


def document(statements: list[dict]) -> dict:
    """A policy document of these statements."""
    return {"Version": "2012-10-17", "Statement": statements}


def set_glob(directory: str, project: str) -> str:
    """The glob that names write_documents' files (for a policy-set in the config): relative to the
    current directory when below it, else absolute."""
    import os

    rel = os.path.relpath(directory)
    where = os.path.abspath(directory) if rel.startswith("..") else rel
    return os.path.join(where, f"{project}-jets-deploy-*.json").replace(os.sep, "/")


def write_documents(docs: Sequence[dict], directory: str, project: str) -> list[str]:
    """One file per document in `directory` (created if needed): {project}-jets-deploy.json, or
    {project}-jets-deploy-1.json, -2, ... when the quota split the policy. Returns the paths written.
    Each is written whole or not at all, never through a link (auditor.atomic; WriteError)."""
    import os

    from auditor import atomic

    atomic.directory(directory)
    names = ([f"{project}-jets-deploy.json"] if len(docs) == 1
             else [f"{project}-jets-deploy-{i}.json" for i in range(1, len(docs) + 1)])
    paths = []
    for name, doc in zip(names, docs, strict=True):
        path = os.path.join(directory, name)
        atomic.write_text(path, json.dumps(doc, indent=2) + "\n", "--output-dir")
        paths.append(path)
    return paths
