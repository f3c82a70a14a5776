"""Condition blocks decided against what a request carries, with IAM's semantics (DESIGN §4).

A statement's Condition element is decided for one request context (what a Jets request carries:
see auditor/context.py). The answer has three values: TRUE (every condition holds, the statement
applies), FALSE (some condition fails, the statement does not apply to this request) and UNKNOWN
(it depends on a value the audit cannot know, such as aws:SourceIp; the keys are named).

IAM's rules, each from the IAM User Guide ("IAM JSON policy elements: Condition operators" and
"Conditions with multiple context keys or values"):
- Several operators, and several keys under one operator: AND. Several values for one key: OR,
  and NOR for a negated operator (StringNotEquals, NotIpAddress, ArnNotLike, ...: "none of").
- A key missing from the request: the condition is false, except that a negated operator is then
  true, `...IfExists` is true, `ForAllValues:` is true (there is no value that fails) and `Null`
  tests exactly that (`"true"`: the key is absent).
- `ForAnyValue:` holds when some value of the request matches, `ForAllValues:` when every one does.
- Keys are case-insensitive; String and Arn values are case-sensitive except the IgnoreCase
  operators; Bool compares true/false without case. StringLike and ArnLike take `*` (any run) and
  `?` (one character); ArnEquals/ArnLike compare the six colon-separated parts of an ARN one by one.
- Policy variables (`${aws:username}`, `${aws:PrincipalTag/team, 'default'}`) in values are
  resolved from the request context; one the audit cannot know makes that value unknown.
  `${*}`, `${?}` and `${$}` are the literal characters.

Unknown is Kleene's third value: TRUE OR UNKNOWN is TRUE, FALSE AND UNKNOWN is FALSE, so a block
is decided whenever the known parts decide it. Matching is linear or O(n·m) (globs) in the lengths
involved: no regular expression runs on policy text.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from enum import IntEnum

from auditor.model import Condition


class Truth(IntEnum):
    """Kleene's three values, ordered so that AND is min and OR is max."""

    FALSE = 0
    UNKNOWN = 1
    TRUE = 2


def all_of(values: Iterable[Truth]) -> Truth:
    out = Truth.TRUE
    for v in values:
        if v is Truth.FALSE:
            return Truth.FALSE
        out = min(out, v)
    return out


def any_of(values: Iterable[Truth]) -> Truth:
    out = Truth.FALSE
    for v in values:
        if v is Truth.TRUE:
            return Truth.TRUE
        out = max(out, v)
    return out


def negate(value: Truth) -> Truth:
    return Truth(2 - value)


# --- what a request carries -------------------------------------------------------------------

@dataclass(frozen=True)
class Known:
    """The key is in the request with these values (one for a single-valued key)."""

    values: tuple[str, ...]


@dataclass(frozen=True)
class Absent:
    """The key is certainly not in the request."""


@dataclass(frozen=True)
class Unknown:
    """The audit cannot know the value; `present`: the key is certainly in the request."""

    present: bool = False


Value = Known | Absent | Unknown
ABSENT = Absent()
UNKNOWN = Unknown()
PRESENT_UNKNOWN = Unknown(present=True)


@dataclass(frozen=True)
class RequestContext:
    """The request context of one kind of request, key by key (keys lower-cased). A key that ends
    with "/" stands for every key it starts (aws:requesttag/ for aws:RequestTag/Owner, ...): the
    longest such prefix answers for a key that is not listed; `otherwise` answers for the rest."""

    entries: tuple[tuple[str, Value], ...]
    otherwise: Value = UNKNOWN
    label: str = ""  # how notes name the request ("the Jets CLI", "CloudFormation for the caller")
    _exact: dict[str, Value] = field(init=False, repr=False, compare=False, hash=False)
    _prefixes: tuple[tuple[str, Value], ...] = field(init=False, repr=False, compare=False, hash=False)
    _hash: int = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        # hashed once: the engine's memos are keyed by contexts, and a dataclass's own __hash__ hashes
        # every entry's value again on each lookup (a subclass's fields are hashed too)
        object.__setattr__(self, "_hash", hash(tuple(getattr(self, f.name) for f in fields(self) if f.compare)))
        # a key that ends with "/" (aws:RequestTag/) or "*" (aws:RequestTag/aws:*) stands for every key it starts;
        # the longest one that starts a key decides
        object.__setattr__(self, "_exact", {k: v for k, v in self.entries if not k.endswith(("/", "*"))})
        prefixes = sorted(((k.rstrip("*"), v) for k, v in self.entries if k.endswith(("/", "*"))), key=lambda kv: -len(kv[0]))
        object.__setattr__(self, "_prefixes", tuple(prefixes))

    def __hash__(self) -> int:
        return self._hash

    def lookup(self, key: str) -> Value:
        low = key.lower()
        found = self._exact.get(low)
        if found is not None:
            return found
        for prefix, value in self._prefixes:
            if low.startswith(prefix):
                return value
        return self.otherwise

    def with_entries(self, entries: Mapping[str, Value] | Iterable[tuple[str, Value]]) -> RequestContext:
        """This context with some keys set (or overridden)."""
        pairs = entries.items() if isinstance(entries, Mapping) else entries
        merged = dict(self.entries)
        merged.update((k.lower(), v) for k, v in pairs)
        return replace(self, entries=tuple(sorted(merged.items())))


# --- the decision ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Decision:
    truth: Truth
    unknown: tuple[str, ...] = ()  # the conditions that need a value the audit cannot know
    failed: str | None = None  # a condition this request does not meet (when FALSE)


def decide(conditions: Sequence[Condition], context: RequestContext) -> Decision:
    """Does a statement with these conditions apply to the request? (AND over every condition.)"""
    unknown: list[str] = []
    for cond in conditions:
        truth = condition_truth(cond, context)
        if truth is Truth.FALSE:
            return Decision(Truth.FALSE, failed=str(cond))
        if truth is Truth.UNKNOWN:
            unknown.append(str(cond))
    return Decision(Truth.UNKNOWN, tuple(unknown)) if unknown else Decision(Truth.TRUE)


_OPERATOR = re.compile(r"^(ForAllValues:|ForAnyValue:)?([A-Za-z]+?)(IfExists)?$")

# base operator → (how one request value compares with one policy value, negated?)
Compare = Callable[[str, str], bool]


def condition_truth(cond: Condition, context: RequestContext) -> Truth:
    """One operator, one key, its values (OR, or NOR when negated)."""
    value = context.lookup(cond.key)
    if cond.operator == "Null":
        return _null(cond.values, value)
    m = _OPERATOR.match(cond.operator)
    spec = OPERATORS.get(m.group(2)) if m else None
    if m is None or spec is None:
        return Truth.UNKNOWN  # not an IAM operator: invalid-condition reports it
    qualifier, if_exists = m.group(1), bool(m.group(3))
    compare, negated = spec
    if isinstance(value, Absent):
        if if_exists or qualifier == "ForAllValues:":
            return Truth.TRUE
        if qualifier == "ForAnyValue:":
            return Truth.FALSE
        return Truth.TRUE if negated else Truth.FALSE
    if isinstance(value, Unknown):
        return Truth.UNKNOWN
    policy = [_resolve(v, context) for v in cond.values]

    def hit(request_value: str) -> Truth:
        """Does this request value match some policy value (before negation)?"""
        return any_of(_compare(compare, request_value, p) for p in policy)

    def one(request_value: str) -> Truth:
        found = hit(request_value)
        return negate(found) if negated else found

    if qualifier == "ForAllValues:":
        return all_of(one(r) for r in value.values)
    if qualifier == "ForAnyValue:":
        return any_of(one(r) for r in value.values)
    found = any_of(hit(r) for r in value.values)  # one value, as IAM expects without a qualifier
    return negate(found) if negated else found


def _null(values: Sequence[str], value: Value) -> Truth:
    if isinstance(value, Unknown) and not value.present:
        return Truth.UNKNOWN
    absent = isinstance(value, Absent)
    return any_of(Truth.TRUE if (v.lower() == "true") == absent else Truth.FALSE
                  for v in values if v.lower() in ("true", "false"))


def _compare(compare: Compare, request_value: str, policy_value: str | None) -> Truth:
    if policy_value is None:  # a policy variable the audit cannot resolve
        return Truth.UNKNOWN
    return Truth.TRUE if compare(request_value, policy_value) else Truth.FALSE


# --- policy variables in values -----------------------------------------------------------

_ESCAPES = {"*": "\x01", "?": "\x02", "$": "$"}  # ${*} and ${?} are literal: kept apart from wildcards


def _split(text: str) -> Iterator[tuple[str, str | None]]:
    """The text as pieces: (literal text, None) and (`${...}` as written, what is inside)."""
    i = 0
    while i < len(text):
        start = text.find("${", i)
        end = text.find("}", start + 2) if start >= 0 else -1
        if start < 0 or end < 0:
            yield text[i:], None
            return
        if start > i:
            yield text[i:start], None
        yield text[start:end + 1], text[start + 2:end]
        i = end + 1


def _resolve(text: str, context: RequestContext) -> str | None:
    """A policy value with its variables replaced from the request context (None when one cannot
    be known). Literal `${*}` and `${?}` become private characters that globs take literally."""
    if "${" not in text:
        return text
    out: list[str] = []
    for piece, inner in _split(text):
        if inner is None:
            out.append(piece)
        elif inner in _ESCAPES:
            out.append(_ESCAPES[inner])
        elif ":" not in _variable(inner)[0]:  # not an IAM variable (a shell placeholder): literal text
            out.append(piece)
        else:
            value = _known(inner, context)
            if value is None:
                return None
            out.append(value)
    return "".join(out)


def _known(inner: str, context: RequestContext) -> str | None:
    """The value of one policy variable (`aws:PrincipalTag/team, 'default'`) in this request, if known."""
    name, default = _variable(inner)
    found = context.lookup(name)
    if isinstance(found, Known) and len(found.values) == 1:
        return found.values[0]
    return default if isinstance(found, Absent) else None


def resolve_known(text: str, context: RequestContext) -> str:
    """A Resource pattern with each policy variable whose value the request context knows replaced
    by it (`${aws:RequestedRegion}` → eu-west-1); the others, and `${*}`/`${?}`/`${$}`, stay as
    written. A value holding a wildcard or a `$` is not put in (it would read as a pattern)."""
    if "${" not in text:
        return text
    out: list[str] = []
    for piece, inner in _split(text):
        value = _known(inner, context) if inner is not None and ":" in _variable(inner)[0] else None
        out.append(value if value is not None and not any(c in value for c in "*?$") else piece)
    return "".join(out)


def _variable(inner: str) -> tuple[str, str | None]:
    """`aws:PrincipalTag/team, 'default'` → (key, default)."""
    name, comma, rest = inner.partition(",")
    if not comma:
        return name.strip(), None
    rest = rest.strip()
    if len(rest) >= 2 and rest[0] == rest[-1] == "'":
        return name.strip(), rest[1:-1]
    return name.strip(), None


# --- comparisons ------------------------------------------------------------------------------

def glob_match(pattern: str, text: str) -> bool:
    """`*` any run, `?` one character, anything else itself; ${*}/${?} (see _resolve) literal.
    Two pointers and the last star to retry from: O(len(pattern) * len(text)), no recursion."""
    p = t = 0
    star = -1
    mark = 0
    while t < len(text):
        if p < len(pattern) and pattern[p] == "*":
            star, mark = p, t
            p += 1
        elif p < len(pattern) and (pattern[p] == "?" or _literal(pattern[p]) == text[t]):
            p += 1
            t += 1
        elif star >= 0:
            p = star + 1
            mark += 1
            t = mark
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)


def _literal(ch: str) -> str:
    return "*" if ch == "\x01" else "?" if ch == "\x02" else ch


def _plain(value: str) -> str:
    return value.replace("\x01", "*").replace("\x02", "?")


def _string_equals(request: str, policy: str) -> bool:
    return request == _plain(policy)


def _string_equals_ignore_case(request: str, policy: str) -> bool:
    return request.casefold() == _plain(policy).casefold()


def _number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if number == number and number not in (float("inf"), float("-inf")) else None


def _numeric(test: Callable[[float, float], bool]) -> Compare:
    def compare(request: str, policy: str) -> bool:
        a, b = _number(request), _number(policy)
        return a is not None and b is not None and test(a, b)

    return compare


def _date(text: str) -> datetime | None:
    text = text.strip()
    if text.isdigit():
        try:
            return datetime.fromtimestamp(int(text), UTC)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def _dates(test: Callable[[datetime, datetime], bool]) -> Compare:
    def compare(request: str, policy: str) -> bool:
        a, b = _date(request), _date(policy)
        return a is not None and b is not None and test(a, b)

    return compare


def _bool(request: str, policy: str) -> bool:
    return request.lower() == policy.lower() and policy.lower() in ("true", "false")


def _binary(request: str, policy: str) -> bool:
    try:
        return base64.b64decode(request, validate=True) == base64.b64decode(policy, validate=True)
    except (binascii.Error, ValueError):
        return False


def _ip(request: str, policy: str) -> bool:
    try:
        address = ipaddress.ip_address(request.split("/")[0])
        network = ipaddress.ip_network(policy, strict=False)
    except ValueError:
        return False
    return address.version == network.version and address in network


def _arn(request: str, policy: str) -> bool:
    """ArnEquals / ArnLike: the six parts of the ARN each matched on its own, wildcards allowed."""
    a, b = request.split(":", 5), policy.split(":", 5)
    return len(a) == 6 and len(b) == 6 and all(glob_match(p, r) for r, p in zip(a, b, strict=True))


OPERATORS: dict[str, tuple[Compare, bool]] = {
    "StringEquals": (_string_equals, False),
    "StringNotEquals": (_string_equals, True),
    "StringEqualsIgnoreCase": (_string_equals_ignore_case, False),
    "StringNotEqualsIgnoreCase": (_string_equals_ignore_case, True),
    "StringLike": (lambda r, p: glob_match(p, r), False),
    "StringNotLike": (lambda r, p: glob_match(p, r), True),
    "NumericEquals": (_numeric(lambda a, b: a == b), False),
    "NumericNotEquals": (_numeric(lambda a, b: a == b), True),
    "NumericLessThan": (_numeric(lambda a, b: a < b), False),
    "NumericLessThanEquals": (_numeric(lambda a, b: a <= b), False),
    "NumericGreaterThan": (_numeric(lambda a, b: a > b), False),
    "NumericGreaterThanEquals": (_numeric(lambda a, b: a >= b), False),
    "DateEquals": (_dates(lambda a, b: a == b), False),
    "DateNotEquals": (_dates(lambda a, b: a == b), True),
    "DateLessThan": (_dates(lambda a, b: a < b), False),
    "DateLessThanEquals": (_dates(lambda a, b: a <= b), False),
    "DateGreaterThan": (_dates(lambda a, b: a > b), False),
    "DateGreaterThanEquals": (_dates(lambda a, b: a >= b), False),
    "Bool": (_bool, False),
    "BinaryEquals": (_binary, False),
    "IpAddress": (_ip, False),
    "NotIpAddress": (_ip, True),
    "ArnEquals": (_arn, False),
    "ArnLike": (_arn, False),
    "ArnNotEquals": (_arn, True),
    "ArnNotLike": (_arn, True),
}
