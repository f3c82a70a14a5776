"""Policies of an IAM group, user or role: live from AWS (boto3, imported only here) or from a saved
`aws iam get-account-authorization-details` document.

A principal's policy set is what it deploys with: a group's inline and attached policies; a user's own
inline and attached policies plus those of every group it is in; a role's inline and attached policies
(its trust policy grants nothing). A permissions boundary is kept apart: it limits, it never grants.

Every AWS failure becomes an AwsError with one line that says what to do; nothing here prints, and no
credential ever reaches a message: the endpoint's own error text (which may echo request headers) is never
repeated, and an endpoint URL is shown without its user information.

Bounded (auditor.sources.deadline): botocore's connect and read timeouts come from --timeout, a watchdog
bounds each attempt and the whole read, an answer over MAX_RESPONSE_BYTES is refused before it is
parsed; each list is read up to MAX_PAGES pages, and each policy document, live or in an
authorization-details file, up to MAX_DOCUMENT_BYTES.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from auditor.model import Policy, Problem, is_aws_managed, parse_policy
from auditor.sources.file import MAX_BYTES

MAX_PAGES = 100  # pages of one IAM list (100 items each): a principal has at most a few dozen policies
MAX_DOCUMENT_BYTES = MAX_BYTES  # one policy document, as for files (IAM's own quota is 10,240 characters)
MAX_AUTH_DETAILS_BYTES = 64 * MAX_BYTES  # a saved get-account-authorization-details file: a whole account's


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
    """A document read from AWS, named by its ARN or as kind/name/inline/policy (no file: from_aws)."""
    return replace(_parsed(raw, source), from_aws=True)


def _parsed(raw: object, source: str) -> Policy:
    if isinstance(raw, str) and len(raw) > 3 * MAX_DOCUMENT_BYTES:  # URL-encoding at most triples it
        return _too_large(source)
    try:
        doc = _document(raw)
        text = doc if isinstance(doc, str) else json.dumps(doc, indent=2)
    except (RecursionError, ValueError):  # nested too deep to re-encode, or not finite
        return Policy(source, "", (), (Problem("", "not a policy: the document cannot be read as JSON", source),))
    if len(text) > MAX_DOCUMENT_BYTES:
        return _too_large(source)
    policy = parse_policy(text, source)
    return replace(policy, aws_managed=True) if is_aws_managed(source) else policy


def _too_large(source: str) -> Policy:
    limit = MAX_DOCUMENT_BYTES // (1024 * 1024)
    return Policy(source, "", (), (Problem("", f"refused: a document larger than {limit} MiB; IAM policies are at most a "
                                               "few KB", source),))


def endpoint_shown(url: str | None) -> str:
    """An endpoint URL as messages show it: scheme, host and port only (never a user name or password,
    a path or a query); "" when it cannot be read."""
    if not url:
        return ""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    if not parts.scheme or not parts.hostname:
        return ""
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def check_endpoint(url: str | None) -> None:
    """AwsError unless `url` is an http(s) URL with a host (its text is not repeated: it may hold a password)."""
    if url is None:
        return
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        raise AwsError("--endpoint-url is not an http(s) URL with a host, such as https://iam.amazonaws.com")


# --- live -------------------------------------------------------------------------------------

def _client(profile: str | None, region: str | None, endpoint_url: str | None, timeout: float):
    try:
        import boto3
        import botocore.session
        from botocore.exceptions import BotoCoreError, ProfileNotFound
    except ImportError as exc:  # pragma: no cover - boto3 is a dependency
        raise AwsError("live mode needs boto3: pip install boto3") from exc
    from auditor.sources.deadline import config

    check_endpoint(endpoint_url)
    try:
        core = botocore.session.Session(profile=profile)
        try:
            attempts_configured = core.get_config_variable("max_attempts") is not None  # AWS_MAX_ATTEMPTS or the profile's
        except ValueError as exc:
            raise AwsError("AWS_MAX_ATTEMPTS (or the profile's max_attempts) is not a whole number") from exc
        session = boto3.Session(botocore_session=core)
        client = session.client("iam", region_name=region or session.region_name or "us-east-1", endpoint_url=endpoint_url,
                                config=config(timeout, attempts_configured, WORKERS))
    except ProfileNotFound as exc:
        named = exc.kwargs.get("profile", profile)  # --profile, or AWS_PROFILE
        raise AwsError(f"AWS profile {named!r} not found in the AWS config files") from exc
    except BotoCoreError as exc:
        raise AwsError(f"cannot set up the AWS client ({type(exc).__name__}): check the AWS config files") from exc
    except ValueError as exc:  # botocore: "Invalid endpoint" (AWS_ENDPOINT_URL, a profile's endpoint_url)
        raise AwsError("the IAM endpoint URL (AWS_ENDPOINT_URL or the profile's endpoint_url) is not a valid URL") from exc
    return client


_CODE = re.compile(r"[A-Za-z][A-Za-z0-9.]{0,63}")  # an AWS error code; anything else is not repeated


def _explain(exc: Exception, kind: str, name: str, endpoint_url: str | None, timeout: float | None = None) -> AwsError:
    from auditor.sources.deadline import (
        ATTEMPT_TIMEOUTS,
        MAX_RESPONSE_BYTES,
        RUN_TIMEOUTS,
        AttemptDeadline,
        RunDeadline,
        TooLarge,
    )

    if isinstance(exc, RunDeadline):
        return AwsError(f"the live read did not finish within {exc.seconds:g} s ({RUN_TIMEOUTS} x --timeout): "
                        "the AWS IAM endpoint is too slow; try again, or raise --timeout")
    if isinstance(exc, AttemptDeadline):
        return AwsError(f"the AWS IAM endpoint was still answering {exc.operation} after {exc.seconds:g} s "
                        f"({ATTEMPT_TIMEOUTS} x --timeout): stopped waiting; try again, or raise --timeout")
    if isinstance(exc, TooLarge):
        return AwsError(f"the AWS IAM endpoint sent an answer larger than {MAX_RESPONSE_BYTES // (1024 * 1024)} MiB to "
                        f"{exc.operation}: refused (IAM answers are a few KB)")
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ReadTimeoutError,
        SSLError,
    )

    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return AwsError("no AWS credentials found: set AWS_PROFILE or --profile, or AWS_ACCESS_KEY_ID and "
                        "AWS_SECRET_ACCESS_KEY")
    if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError)):
        shown = endpoint_shown(endpoint_url)
        return AwsError(f"cannot reach the AWS IAM endpoint{' ' + shown if shown else ''}: check the "
                        "network, --endpoint-url or AWS_ENDPOINT_URL")
    if isinstance(exc, SSLError):
        shown = endpoint_shown(endpoint_url)
        return AwsError(f"no TLS connection to the AWS IAM endpoint{' ' + shown if shown else ''} (a certificate that "
                        "is not trusted, or no TLS): check --endpoint-url, AWS_ENDPOINT_URL or AWS_CA_BUNDLE")
    if isinstance(exc, ReadTimeoutError):
        within = f" within --timeout {timeout:g} s" if timeout is not None else ""
        return AwsError(f"the AWS IAM endpoint did not answer in time{within} (after retries)")
    if isinstance(exc, NoRegionError):
        return AwsError("no AWS region configured: pass --region")
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        code = code if _CODE.fullmatch(code) else ""
        operation = f"iam:{exc.operation_name}" if exc.operation_name else "an IAM read"
        if code == "NoSuchEntity":
            return AwsError(f"IAM {kind} {name!r} not found (NoSuchEntity in {operation})")
        if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
            return AwsError(f"access denied to {operation}: the credentials running the audit need read access "
                            "to IAM (see the README for the read-only policy)")
        if code in ("ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"):
            return AwsError("the AWS credentials have expired: refresh the session (aws sso login, new STS token)")
        if code in ("InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException"):
            return AwsError("the AWS credentials were rejected (invalid access key or secret)")
        if code in ("Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"):
            return AwsError(f"AWS kept throttling {operation} after retries: try again later")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return AwsError(f"AWS error {code or 'unknown'} in {operation}" + (f" (HTTP {status})" if isinstance(status, int) else "")
                        + ": the endpoint's message is not shown (it may repeat the request)")
    from botocore.exceptions import BotoCoreError, PaginationError

    if isinstance(exc, PaginationError):
        return AwsError("an IAM list repeated its page marker: stopped paging")
    if isinstance(exc, BotoCoreError):
        return AwsError(f"AWS request failed ({type(exc).__name__}): the AWS IAM endpoint's answer could not be read")
    return AwsError(f"AWS request failed: {type(exc).__name__}")


def _pages(client, operation: str, key: str, **kwargs) -> Iterator[dict[str, Any]]:  # IAM's list entries (JSON objects)
    """The items of every page of an IAM list, at most MAX_PAGES pages (an endless IsTruncated stops)."""
    paginator = client.get_paginator(operation)
    for number, page in enumerate(paginator.paginate(**kwargs), 1):
        if number > MAX_PAGES:
            name = "iam:" + "".join(part.title() for part in operation.split("_"))
            raise AwsError(f"{name} answered more than {MAX_PAGES} pages: stopped paging (no IAM principal has that many "
                           "policies or groups)")
        yield from page.get(key, [])


WORKERS = 8  # concurrent IAM reads: botocore clients are thread-safe, and standard retries absorb throttling


def _concurrently(fn, items: list) -> list:
    """fn over items on WORKERS threads, results in the items' order; the first error is raised."""
    from auditor.sources.deadline import concurrently

    return concurrently(fn, items, WORKERS)


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
    """The principal's policies read live, within the limits of auditor.sources.deadline: botocore's
    timeouts (--timeout per connect and read, retried), and a watchdog over each attempt (ATTEMPT_TIMEOUTS
    of --timeout) and the whole read (RUN_TIMEOUTS of them)."""
    from auditor.sources.deadline import Watchdog

    watchdog = Watchdog(timeout)
    client = _client(profile, region, endpoint_url, timeout)
    watchdog.watch(client.meta.events)
    try:
        return watchdog.run(lambda: _fetch(client, kind, name))
    except AwsError:
        raise
    except Exception as exc:  # botocore's exceptions and the watchdog's, mapped to one line
        raise _explain(exc, kind, name, endpoint_url, timeout) from exc


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

def _entries(data: Mapping, key: str, source: str) -> list[dict]:
    """The list `key` of an authorization-details object (AwsError when it is not a list of objects)."""
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise AwsError(f"{source}: {key} is not a list of objects, as get-account-authorization-details writes it")
    return value


def _text(entry: Mapping, key: str, source: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str):
        raise AwsError(f"{source}: an entry without a text {key}, as get-account-authorization-details writes it")
    return value


def from_auth_details(data: object, kind: str, name: str, source: str) -> Principal:
    """The same principal, read from `aws iam get-account-authorization-details` output."""
    details = _details(data, source)
    managed = managed_policies(details, source)

    def managed_policy(arn: str) -> Policy:
        if arn not in managed:
            raise AwsError(f"{source}: managed policy {arn} is attached but its document is not in the file "
                           "(run get-account-authorization-details without --filter, or with LocalManagedPolicy and AWSManagedPolicy)")
        return managed[arn]

    def own(kind_of: str, wanted: str) -> tuple[list[Policy], dict]:
        title = kind_of.title()
        for entry in _entries(details, f"{title}DetailList", source):
            if entry.get(NAME_KEY[kind_of]) == wanted:
                out = [_policy(p.get("PolicyDocument"), f"{kind_of}/{wanted}/inline/{_text(p, 'PolicyName', source)}")
                       for p in _entries(entry, f"{title}PolicyList", source)]
                out += [managed_policy(_text(p, "PolicyArn", source)) for p in _entries(entry, "AttachedManagedPolicies", source)]
                return out, entry
        raise AwsError(f"IAM {kind_of} {wanted!r} not found in {source}")

    if kind not in NAME_KEY:
        raise AwsError(f"unknown principal kind {kind!r}")
    policies, entity = own(kind, name)
    if kind == "user":
        groups = entity.get("GroupList") or []
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise AwsError(f"{source}: GroupList is not a list of group names, as get-account-authorization-details writes it")
        for group_name in groups:
            policies += own("group", group_name)[0]
    boundary_entry = entity.get("PermissionsBoundary") or {}
    arn = boundary_entry.get("PermissionsBoundaryArn") if isinstance(boundary_entry, dict) else None
    boundary = [managed_policy(arn)] if isinstance(arn, str) else []
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
    for p in _entries(_details(data, source), "Policies", source):
        versions = _entries(p, "PolicyVersionList", source)
        default = next((v for v in versions if v.get("IsDefaultVersion") is True), versions[0] if versions else None)
        if default is not None:
            managed[_text(p, "Arn", source)] = default.get("Document")
    return managed


class _Managed(Mapping[str, Policy]):
    """ARN → Policy, each document parsed when first asked for: an account's file holds every managed
    policy, a principal attaches a few."""

    def __init__(self, documents: dict[str, object]) -> None:
        self._documents = documents
        self._parsed: dict[str, Policy] = {}

    def __getitem__(self, arn: str) -> Policy:
        if arn not in self._parsed:
            self._parsed[arn] = _policy(self._documents[arn], arn)
        return self._parsed[arn]

    def __contains__(self, arn: object) -> bool:
        return arn in self._documents

    def __iter__(self) -> Iterator[str]:
        return iter(self._documents)

    def __len__(self) -> int:
        return len(self._documents)


def managed_policies(data: object, source: str) -> Mapping[str, Policy]:
    """ARN → Policy for every managed policy in a get-account-authorization-details document."""
    return _Managed(managed_documents(data, source))
