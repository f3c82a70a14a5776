"""Policies of an IAM group, user or role: live from AWS (boto3, imported only here) or from a saved
`aws iam get-account-authorization-details` document.

A principal's policy set is what it deploys with: a group's inline and attached policies; a user's own
inline and attached policies plus those of every group it is in; a role's inline and attached policies
(its trust policy grants nothing). A permissions boundary is kept apart: it limits, it never grants.

Every AWS failure becomes an AwsError with one line that says what to do; nothing here prints, and no
credential ever reaches a message.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from auditor.model import Policy, is_aws_managed, parse_policy


class AwsError(Exception):
    """The live audit cannot run; the message is one line for the user."""


@dataclass(frozen=True)
class Principal:
    kind: str
    name: str
    policies: tuple[Policy, ...]
    boundary: tuple[Policy, ...] = ()


def _document(raw: object) -> object:
    """IAM returns documents URL-encoded JSON; boto3 and the AWS CLI usually decode them already."""
    if isinstance(raw, str):
        text = urllib.parse.unquote(raw)
        try:
            return json.loads(text)
        except ValueError:
            return text
    return raw


def _policy(raw: object, source: str) -> Policy:
    doc = _document(raw)
    text = doc if isinstance(doc, str) else json.dumps(doc, indent=2)
    policy = parse_policy(text, source)
    return replace(policy, aws_managed=True) if is_aws_managed(source) else policy


# --- live -------------------------------------------------------------------------------------

def _client(profile: str | None, region: str | None, endpoint_url: str | None, timeout: float = 20.0):
    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ProfileNotFound
    except ImportError as exc:  # pragma: no cover - boto3 is a dependency
        raise AwsError("live mode needs boto3: pip install boto3") from exc
    try:
        session = boto3.Session(profile_name=profile)
        retries: dict[str, object] = {"mode": "standard"}
        if "AWS_MAX_ATTEMPTS" not in os.environ:  # botocore reads it itself when set
            retries["max_attempts"] = 6
        config = Config(retries=retries, connect_timeout=min(5.0, timeout), read_timeout=timeout)
        return session.client("iam", region_name=region or session.region_name or "us-east-1",
                              endpoint_url=endpoint_url, config=config)
    except ProfileNotFound as exc:
        raise AwsError(f"AWS profile {profile!r} not found in the AWS config files") from exc
    except BotoCoreError as exc:
        raise AwsError(f"cannot set up the AWS client: {exc}") from exc


def _explain(exc: Exception, kind: str, name: str, endpoint_url: str | None) -> AwsError:
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ReadTimeoutError,
    )

    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return AwsError("no AWS credentials found: set AWS_PROFILE or --profile, or AWS_ACCESS_KEY_ID and "
                        "AWS_SECRET_ACCESS_KEY")
    if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError)):
        return AwsError(f"cannot reach the AWS IAM endpoint{' ' + endpoint_url if endpoint_url else ''}: check the "
                        "network, --endpoint-url or AWS_ENDPOINT_URL")
    if isinstance(exc, ReadTimeoutError):
        return AwsError("the AWS IAM endpoint did not answer in time (after retries)")
    if isinstance(exc, NoRegionError):
        return AwsError("no AWS region configured: pass --region")
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        operation = f"iam:{exc.operation_name}" if exc.operation_name else "an IAM read"
        if code == "NoSuchEntity":
            return AwsError(f"IAM {kind} {name!r} not found ({error.get('Message', 'no such entity')})")
        if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
            return AwsError(f"access denied to {operation}: the credentials running the audit need read access "
                            "to IAM (see the README for the read-only policy)")
        if code in ("ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"):
            return AwsError("the AWS credentials have expired: refresh the session (aws sso login, new STS token)")
        if code in ("InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException"):
            return AwsError("the AWS credentials were rejected (invalid access key or secret)")
        if code in ("Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"):
            return AwsError(f"AWS kept throttling {operation} after retries: try again later")
        message = str(error.get("Message", "")).splitlines()[0][:200] if error.get("Message") else ""
        return AwsError(f"AWS error {code or 'unknown'} in {operation}" + (f": {message}" if message else ""))
    from botocore.exceptions import BotoCoreError

    if isinstance(exc, BotoCoreError):
        return AwsError(f"AWS request failed: {str(exc).splitlines()[0][:200]}")
    return AwsError(f"AWS request failed: {type(exc).__name__}")


def _pages(client, operation: str, key: str, **kwargs) -> Iterator[dict[str, Any]]:  # IAM's list entries (JSON objects)
    paginator = client.get_paginator(operation)
    for page in paginator.paginate(**kwargs):
        yield from page.get(key, [])


WORKERS = 8  # concurrent IAM reads: botocore clients are thread-safe, and standard retries absorb throttling


def _concurrently(fn, items: list) -> list:
    """fn over items on a few threads, results in the items' order; the first error is raised."""
    if len(items) <= 1:
        return [fn(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(WORKERS, len(items))) as pool:
        return list(pool.map(fn, items))


def _managed(client, arn: str) -> Policy:
    policy = client.get_policy(PolicyArn=arn)["Policy"]
    version = client.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
    return _policy(version["PolicyVersion"]["Document"], arn)


NAME_KEY = {"group": "GroupName", "user": "UserName", "role": "RoleName"}


def _own(client, kind: str, name: str) -> tuple[list[Policy], dict]:
    """A group's, user's or role's own inline and attached policies, and the entity itself (a missing
    one raises NoSuchEntity, which names it)."""
    key = {NAME_KEY[kind]: name}
    entity = getattr(client, f"get_{kind}")(**key, **({"MaxItems": 1} if kind == "group" else {}))[kind.title()]
    get_inline = getattr(client, f"get_{kind}_policy")

    def inline(policy_name: str) -> Policy:
        return _policy(get_inline(**key, PolicyName=policy_name)["PolicyDocument"], f"{kind}/{name}/inline/{policy_name}")

    # the lists are paged one call after another; the documents are read concurrently
    policies = _concurrently(inline, list(_pages(client, f"list_{kind}_policies", "PolicyNames", **key)))
    attached = [p["PolicyArn"] for p in _pages(client, f"list_attached_{kind}_policies", "AttachedPolicies", **key)]
    policies += _concurrently(lambda arn: _managed(client, arn), attached)
    return policies, entity


def fetch_live(kind: str, name: str, *, profile: str | None = None, region: str | None = None,
               endpoint_url: str | None = None, timeout: float = 20.0) -> Principal:
    client = _client(profile, region, endpoint_url, timeout)
    try:
        return _fetch(client, kind, name)
    except AwsError:
        raise
    except Exception as exc:  # botocore's exceptions, mapped to one line
        raise _explain(exc, kind, name, endpoint_url) from exc


def _fetch(client, kind: str, name: str) -> Principal:
    if kind not in NAME_KEY:
        raise AwsError(f"unknown principal kind {kind!r}")
    policies, entity = _own(client, kind, name)
    if kind == "user":
        for group in _pages(client, "list_groups_for_user", "Groups", UserName=name):
            policies += _own(client, "group", group["GroupName"])[0]
    arn = (entity.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    boundary = [_managed(client, arn)] if arn else []
    return Principal(kind, name, tuple(_dedupe(policies)), tuple(boundary))


def _dedupe(policies: list[Policy]) -> list[Policy]:
    """A managed policy attached to the user and to one of its groups counts once."""
    seen: set[str] = set()
    out = []
    for p in policies:
        if p.source not in seen:
            seen.add(p.source)
            out.append(p)
    return out


# --- get-account-authorization-details --------------------------------------------------------

def from_auth_details(data: object, kind: str, name: str, source: str) -> Principal:
    """The same principal, read from `aws iam get-account-authorization-details` output."""
    details = _details(data, source)
    managed = managed_documents(details, source)

    def managed_policy(arn: str) -> Policy:
        if arn not in managed:
            raise AwsError(f"{source}: managed policy {arn} is attached but its document is not in the file "
                           "(run get-account-authorization-details without --filter, or with LocalManagedPolicy and AWSManagedPolicy)")
        return _policy(managed[arn], arn)

    def own(kind_of: str, wanted: str) -> tuple[list[Policy], dict]:
        title = kind_of.title()
        for entry in details.get(f"{title}DetailList", []) or []:
            if entry.get(NAME_KEY[kind_of]) == wanted:
                out = [_policy(p.get("PolicyDocument"), f"{kind_of}/{wanted}/inline/{p.get('PolicyName')}")
                       for p in entry.get(f"{title}PolicyList", []) or []]
                out += [managed_policy(p["PolicyArn"]) for p in entry.get("AttachedManagedPolicies", []) or []]
                return out, entry
        raise AwsError(f"IAM {kind_of} {wanted!r} not found in {source}")

    if kind not in NAME_KEY:
        raise AwsError(f"unknown principal kind {kind!r}")
    policies, entity = own(kind, name)
    if kind == "user":
        for group_name in entity.get("GroupList", []) or []:
            policies += own("group", group_name)[0]
    arn = (entity.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    boundary = [managed_policy(arn)] if arn else []
    return Principal(kind, name, tuple(_dedupe(policies)), tuple(boundary))


def _details(data: object, source: str) -> dict[str, Any]:
    """`data` if it is a get-account-authorization-details document (AwsError if it is not one)."""
    if not isinstance(data, dict) or not any(k in data for k in ("UserDetailList", "GroupDetailList", "RoleDetailList")):
        raise AwsError(f"{source}: not the output of aws iam get-account-authorization-details")
    return data


def managed_documents(data: object, source: str) -> dict[str, object]:
    """ARN → default version's document of every managed policy in a get-account-authorization-details
    document (AwsError if it is not one)."""
    managed = {}
    for p in _details(data, source).get("Policies", []) or []:
        versions = p.get("PolicyVersionList", []) or []
        default = next((v for v in versions if v.get("IsDefaultVersion")), versions[0] if versions else None)
        if default is not None:
            managed[p.get("Arn")] = default.get("Document")
    return managed


def managed_policies(data: object, source: str) -> dict[str, Policy]:
    """ARN → Policy for every managed policy in a get-account-authorization-details document."""
    return {arn: _policy(doc, arn) for arn, doc in managed_documents(data, source).items()}
