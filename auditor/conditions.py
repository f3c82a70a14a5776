"""Condition blocks decided against what a request carries, with IAM's semantics (docs/design.md, "The evaluator").

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
from auditor.name_parts import Named, Text, split


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
    """The key is in the request with these values (one for a single-valued key). A value that holds a
    part of a name Jets creates (a name_parts.Named) stands for every such name."""

    values: tuple[Text, ...]


@dataclass(frozen=True)
class Absent:
    """The key is certainly not in the request."""


@dataclass(frozen=True)
class Unknown:
    """The audit cannot know the value; `present`: the key is certainly in the request."""

    present: bool = False


@dataclass(frozen=True)
class AfterAudit:
    """A date key (aws:CurrentTime, aws:EpochTime) of a request made after the audit: a deploy runs
    later than the audit that judges its policy, so a bound already in the past is decided (a Deny
    "DateGreaterThan 2020-01-01" holds), and one in the future is not."""


@dataclass(frozen=True)
class OneOf:
    """The key is in one request with one of these values (each a Known or ABSENT), and the audit
    cannot know which: a condition is decided when it comes out the same for every one."""

    alternatives: tuple[Known | Absent, ...]


@dataclass(frozen=True)
class Each:
    """The requirement stands for several requests, one with each of these values (a Known or
    ABSENT): the CloudFormation handler attaches each managed policy in a request of its own. An Allow
    grants them all only if its condition holds for every one; a Deny denies a request if it holds
    for one."""

    alternatives: tuple[Known | Absent, ...]


Value = Known | Absent | Unknown | AfterAudit | OneOf | Each
ABSENT = Absent()
UNKNOWN = Unknown()
PRESENT_UNKNOWN = Unknown(present=True)
AFTER_AUDIT = AfterAudit()


def audit_time() -> datetime:
    """The audit's clock: a request Jets makes for this deploy is made after it."""
    return datetime.now(UTC)


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


def decide(conditions: Sequence[Condition], context: RequestContext, effect: str = "Allow") -> Decision:
    """Does a statement with these conditions apply to the request? (AND over every condition.) The
    effect matters only for a key whose value is `Each`: an Allow must hold for every request of the
    requirement, a Deny denies if it holds for one."""
    unknown: list[str] = []
    for cond in conditions:
        truth = condition_truth(cond, context, effect)
        if truth is Truth.FALSE:
            return Decision(Truth.FALSE, failed=str(cond))
        if truth is Truth.UNKNOWN:
            unknown.append(str(cond))
    return Decision(Truth.UNKNOWN, tuple(unknown)) if unknown else Decision(Truth.TRUE)


_OPERATOR = re.compile(r"^(ForAllValues:|ForAnyValue:)?([A-Za-z]+?)(IfExists)?$")

# base operator → (how one request value compares with one policy value, negated?)
Compare = Callable[[str, str], bool]


def condition_truth(cond: Condition, context: RequestContext, effect: str = "Allow") -> Truth:
    """One operator, one key, its values (OR, or NOR when negated)."""
    value = context.lookup(cond.key)
    if isinstance(value, OneOf):  # one request, one of these values: decided when they all agree
        found = {_truth(cond, v, context) for v in value.alternatives}
        return found.pop() if len(found) == 1 else Truth.UNKNOWN
    if isinstance(value, Each):  # several requests: an Allow must cover all, a Deny takes any
        truths = [_truth(cond, v, context) for v in value.alternatives]
        return all_of(truths) if effect == "Allow" else any_of(truths)
    return _truth(cond, value, context)


def _truth(cond: Condition, value: Value, context: RequestContext) -> Truth:
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
    if isinstance(value, AfterAudit):
        return _after_audit(m.group(2), cond.values)
    assert isinstance(value, Known)
    policy = [_resolve(v, context) for v in cond.values]

    def hit(request_value: Text) -> Truth:
        """Does this request value match some policy value (before negation)?"""
        return any_of(_compare(compare, request_value, p) for p in policy)

    def one(request_value: Text) -> Truth:
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
    if isinstance(value, OneOf | Each):  # a nested choice does not occur (alternatives are Known or ABSENT)
        return Truth.UNKNOWN
    absent = isinstance(value, Absent)
    return any_of(Truth.TRUE if (v.lower() == "true") == absent else Truth.FALSE
                  for v in values if v.lower() in ("true", "false"))


def _compare(compare: Compare, request_value: Text, policy_value: str | None) -> Truth:
    if policy_value is None:  # a policy variable the audit cannot resolve
        return Truth.UNKNOWN
    if isinstance(request_value, Named):  # a value with a part of a name Jets creates: decided over every such name
        return pattern_truth(compare, request_value, policy_value)
    return Truth.TRUE if compare(request_value, policy_value) else Truth.FALSE


# --- dates after the audit ---------------------------------------------------------------------

_LATER = {"DateGreaterThan", "DateGreaterThanEquals", "DateNotEquals",
          "NumericGreaterThan", "NumericGreaterThanEquals", "NumericNotEquals"}  # hold for every time after a past bound
_EARLIER = {"DateLessThan", "DateLessThanEquals", "DateEquals",
            "NumericLessThan", "NumericLessThanEquals", "NumericEquals"}  # hold for none


def _after_audit(operator: str, values: Sequence[str]) -> Truth:
    """A Date (or, for aws:EpochTime, Numeric) operator on a time after the audit's clock: decided
    for a policy value already in the past (OR over the values, as for any key); a value in the future,
    or another operator, leaves it unknown."""
    if operator not in _LATER and operator not in _EARLIER:
        return Truth.UNKNOWN
    now = audit_time()
    out = []
    for text in values:
        bound = _date(text) if operator.startswith("Date") else _epoch(text)
        if bound is None:
            out.append(Truth.FALSE)  # not a date (or number): never matches, as for a known value
        elif bound <= now:
            out.append(Truth.TRUE if operator in _LATER else Truth.FALSE)
        else:
            out.append(Truth.UNKNOWN)
    return any_of(out)


def _epoch(text: str) -> datetime | None:
    number = _number(text)
    if number is None:
        return None
    try:
        return datetime.fromtimestamp(number, UTC)
    except (OverflowError, OSError, ValueError):
        return None


# --- values with a name part ------------------------------------------------------------------

PATTERN_BUDGET = 2_000  # product states for one value against one policy value (short strings: a few dozen)


def pattern_truth(compare: Compare, request_value: Named, policy_value: str) -> Truth:
    """A request value that holds a part of a name Jets creates (rules/names.toml) against one policy
    value: TRUE when the operator holds for every name Jets can produce, FALSE when for none, else
    UNKNOWN. StringEquals and StringLike compare the whole string, ArnEquals and ArnLike its six
    colon-separated parts one by one (a name part holds no colon); the other operators are not decided
    on such a value."""
    from auditor.automata import TooBig, product
    from auditor.glob_text import requirement_pattern

    if compare is _string_equals:
        policies = [_literal_tokens(policy_value)]
        requests = [requirement_pattern(request_value)]
    elif compare is _string_like:
        policies = [_like_tokens(policy_value)]
        requests = [requirement_pattern(request_value)]
    elif compare is _arn:
        r_parts, p_parts = split(request_value, ":", 5), policy_value.split(":", 5)
        if len(r_parts) != 6 or len(p_parts) != 6:
            return Truth.FALSE if len(p_parts) != 6 else Truth.UNKNOWN
        policies = [_like_tokens(p) for p in p_parts]
        requests = [requirement_pattern(r) if r else () for r in r_parts]
    else:
        return Truth.UNKNOWN
    out = []
    for r_tokens, p_tokens in zip(requests, policies, strict=True):
        try:
            vectors = product(r_tokens, [p_tokens], budget=PATTERN_BUDGET)
        except TooBig:
            out.append(Truth.UNKNOWN)
            continue
        out.append(Truth.TRUE if vectors == {(True,)} else Truth.FALSE if vectors <= {(False,)} else Truth.UNKNOWN)
    return all_of(out)


def _literal_tokens(text: str) -> tuple[tuple[str, str], ...]:
    from auditor.automata import char

    return tuple(char(_literal(c)) for c in text)


def _like_tokens(text: str) -> tuple[tuple[str, str], ...]:
    """A StringLike/ArnLike part as automaton tokens: `*` any run of any characters, `?` any one."""
    from auditor.automata import CROSSING, ONE_KIND, char

    return tuple(CROSSING if c == "*" else (ONE_KIND, "any") if c == "?" else char(_literal(c)) for c in text)


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
    if isinstance(found, Known) and len(found.values) == 1 and isinstance(found.values[0], str):
        return found.values[0]  # (a value with a name part is many strings: not one to put in)
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


OWN_REGION = "${aws:requestedregion}"
OWN_ACCOUNT = ("${aws:principalaccount}", "${aws:resourceaccount}")
NO_REGION = "-"  # what a Region variable becomes in an ARN without a Region: it equals no Region segment


def resolve_own(text: str, region: str, account: str) -> str:
    """A Resource ARN whose Region segment is exactly `${aws:RequestedRegion}`, or whose account
    segment is exactly `${aws:PrincipalAccount}` or `${aws:ResourceAccount}`, with that segment
    taken from the requirement it is matched against (`region`, `account`: "*" when the run did not
    give them). A request acts in its own Region on resources of that Region, and Jets' resources are
    in the deploy principal's own account, so the variable equals the ARN's segment; an ARN with no
    Region there (IAM, S3) has none to equal (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html,
    "Where you can use policy variables": variables in the Resource element)."""
    if "${" not in text:
        return text
    parts = _arn_parts(text)
    if len(parts) != 6:
        return text
    if parts[3].lower() == OWN_REGION:
        parts[3] = region if region else NO_REGION
    if parts[4].lower() in OWN_ACCOUNT:
        parts[4] = account if account else NO_REGION
    return ":".join(parts)


def _arn_parts(text: str) -> list[str]:
    """An ARN's six colon-separated parts, a colon inside `${...}` (a policy variable's) not counting."""
    parts: list[str] = []
    start = depth = 0
    for i, ch in enumerate(text):
        if ch == "$" and text.startswith("${", i):
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
        elif ch == ":" and not depth and len(parts) < 5:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


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


def _string_like(request: str, policy: str) -> bool:
    return glob_match(policy, request)


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
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
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
