"""Policy documents as frozen data: parse, normalise, keep where every element came from.

A policy that cannot be read as an IAM policy is not an error here: `parse_policy` returns a Policy
whose `problems` say what is wrong and where (RFC 6901 pointers); the `invalid-policy` check turns
them into findings. Line numbers are found lazily (`SourceMap`), only for the findings that need one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import repeat
from typing import Protocol

VALID_EFFECTS = ("Allow", "Deny")
MAX_ELEMENT = 2048  # IAM caps ARNs at 2,048 characters and action names far lower
VALID_VERSIONS = ("2012-10-17", "2008-10-17")
STATEMENT_KEYS = ("Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition")
PRINCIPAL_KEYS = ("Principal", "NotPrincipal")  # resource and trust policies only: IAM rejects them here
POLICY_KEYS = ("Version", "Id", "Statement")
# what `aws iam get-*-policy` and get-policy-version print around a document: (its key path, the command)
WRAPPERS = ((("PolicyDocument",), "aws iam get-group-policy, get-user-policy or get-role-policy"),
            (("PolicyVersion", "Document"), "aws iam get-policy-version"))


def pointer_escape(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer(*tokens: str | int) -> str:
    return "".join("/" + pointer_escape(t) for t in tokens)


def pointer_unescape(token: str) -> str:
    """The key or index a pointer token names (RFC 6901: ~1 is "/", ~0 is "~")."""
    return token.replace("~1", "/").replace("~0", "~")


@dataclass(frozen=True, slots=True)
class Location:
    """Where a finding points: `source` (a file, or an AWS policy name or ARN), an RFC 6901 `pointer`
    into it, the statement's `sid`, the 1-based `line` where known. `file` says whether `source` is the
    path of a file (False: an AWS policy name or ARN, standard input, a principal's name): reporters
    write only a file as a file (a SARIF artifact URI, a GitHub annotation's file=). `column`: the
    1-based column where the element starts in a policy file, where its line was found in it (the
    concise format shows it). The JSON report writes the first four."""

    source: str
    pointer: str = ""
    sid: str | None = None
    line: int | None = None
    file: bool = True
    column: int | None = field(default=None, compare=False)

    def as_dict(self) -> dict[str, object]:
        return {"source": self.source, "pointer": self.pointer, "sid": self.sid, "line": self.line}


@dataclass(frozen=True)
class Assumption:
    """A construct of infrastructure code that the reader did not evaluate, where it is written, what
    the audit assumed in its place, and how to get the exact answer (the not-evaluated check reports it)."""

    location: Location  # the file and line that write the construct
    construct: str  # what it is: 'module "iam" (source "terraform-aws-modules/iam/aws")'
    assumed: str  # what the audit assumed instead: "its resources and policies are not audited"
    exact: str  # how to get the exact answer: "audit the plan JSON (terraform show -json plan.out)"


@dataclass(frozen=True)
class Problem:
    """Something that makes the document (or part of it) not a valid IAM policy."""

    pointer: str
    message: str
    subject: str
    line: int | None = None
    unreadable: bool = False  # the text does not read as IAM reads it (not JSON, a repeated key, NaN): no repair


@dataclass(frozen=True)
class Condition:
    operator: str
    key: str
    values: tuple[str, ...]

    def __str__(self) -> str:
        vals = ", ".join(self.values)
        return f"{self.operator} {self.key}={vals}"


@dataclass(frozen=True)
class Statement:
    source: str
    index: int
    pointer: str
    sid: str | None
    effect: str
    # Exactly one of actions / not_actions is set (a tuple); the other is None.
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    conditions: tuple[Condition, ...] = ()
    scalars: frozenset[str] = frozenset()  # elements written as one string rather than a list
    document: int | None = None  # its document's index when the file is a JSON array of documents

    def element_pointer(self, name: str, index: int) -> str:
        """Pointer to entry `index` of element `name` (Action, Resource, ...), string or list."""
        return f"{self.pointer}/{name}" if name in self.scalars else f"{self.pointer}/{name}/{index}"

    def element_location(self, name: str, index: int) -> Location:
        return Location(self.source, self.element_pointer(name, index), self.sid)

    @property
    def action_element(self) -> str:
        return "Action" if self.actions is not None else "NotAction"

    @property
    def resource_element(self) -> str:
        return "Resource" if self.resources is not None else "NotResource"

    @property
    def action_patterns(self) -> tuple[str, ...]:
        return self.actions if self.actions is not None else self.not_actions or ()

    @property
    def resource_patterns(self) -> tuple[str, ...]:
        return self.resources if self.resources is not None else self.not_resources or ()

    @property
    def label(self) -> str:
        return label_of(self.sid, self.index)

    @property
    def ref(self) -> str:
        return f"{document_name(self.source, self.document)}#{self.label}"

    def location(self, element_pointer: str = "") -> Location:
        return Location(self.source, self.pointer + element_pointer, self.sid)


_AWS_MANAGED = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy/")


def is_aws_managed(source: str) -> bool:
    """Is this the ARN of an AWS managed policy (account "aws")?"""
    return bool(_AWS_MANAGED.match(source))


def document_name(source: str, document: int | None) -> str:
    """How reports name one document: the file, or `file[i]` for document i of a JSON array."""
    return source if document is None else f"{source}[{document}]"


@dataclass(frozen=True, slots=True)
class Spot:
    """Where a value of infrastructure code is written: the file, the path in it, the line (1-based;
    None when unknown)."""

    path: str
    pointer: str
    line: int | None


class Origin(Protocol):
    """Where a policy built from infrastructure code is written (auditor.sources.iac's MappedOrigin, TextOrigin)."""

    def locate(self, ptr: str) -> Spot:
        """The file, path in it and line of the element at document pointer `ptr`."""
        ...


@dataclass(frozen=True)
class Policy:
    """One policy document. `source` names it (a file, an AWS policy name or ARN, or for a policy read
    from Terraform or CloudFormation the file and the policy's address); its statements' pointers are
    into the document. A policy built from infrastructure code has an `origin` (auditor.sources.iac)
    that maps those pointers to the file, pointer and line where each element is written, and names the
    references it could not resolve (`unresolved`: placeholder text, why). A file that holds a JSON array of
    documents (what `generate` writes when IAM's size quota splits the policy) gives one Policy per
    document: each keeps the file as its source and the whole file as its text, its `document` index, and
    pointers into the file (/1/Statement/0)."""

    source: str
    text: str = field(repr=False)
    statements: tuple[Statement, ...]
    problems: tuple[Problem, ...] = ()
    version: str | None = None
    origin: Origin | None = field(default=None, repr=False, compare=False)
    unresolved: tuple[tuple[str, str], ...] = ()
    document: int | None = None
    aws_managed: bool = False  # an AWS managed policy: attached, but nobody can edit it
    from_aws: bool = False  # read from AWS (live, or an authorization-details file): `source` names no file

    @property
    def name(self) -> str:
        return document_name(self.source, self.document)


class _Object(dict[str, object]):
    """A JSON object that had duplicate keys: the first value of each is kept, the repeats are listed
    out of band (a key that happens to be named like a marker is just a key)."""

    __slots__ = ("duplicates",)

    def __init__(self, pairs: dict[str, object], duplicates: list[str]) -> None:
        super().__init__(pairs)
        self.duplicates = duplicates


class _NonFinite:
    """A number IAM rejects: NaN, Infinity, -Infinity, or a literal beyond a double's range (1e999)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _dumps(value: object) -> str:
    """A value as JSON for a message: a non-finite number as JSON parsers print it (Infinity, NaN)."""
    return json.dumps(value, default=lambda o: float(o.text) if isinstance(o, _NonFinite) else repr(o))


class _Loader:
    """json.loads hooks that note what IAM rejects but JSON parsers let through: duplicate keys (every
    level) and non-finite numbers. `special` says whether the document holds either (only then is it
    walked to find where)."""

    def __init__(self) -> None:
        self.special = False

    def pairs(self, pairs: list[tuple[str, object]]) -> dict[str, object]:
        out: dict[str, object] = dict(pairs)  # the last value of a repeated key: kept only when none repeats
        if len(out) == len(pairs):
            return out
        out = {}
        duplicates: list[str] = []
        for key, value in pairs:
            if key in out:
                duplicates.append(key)
            else:
                out[key] = value
        if not duplicates:
            return out
        self.special = True
        return _Object(out, duplicates)

    def constant(self, text: str) -> object:
        self.special = True
        return _NonFinite(text)

    def number(self, text: str) -> object:
        value = float(text)
        if value in (float("inf"), float("-inf")):
            self.special = True
            return _NonFinite(text)
        return value

    def load(self, text: str) -> object:
        return json.loads(text, object_pairs_hook=self.pairs, parse_constant=self.constant, parse_float=self.number)


def _rejected(doc: object, base: str) -> list[Problem]:
    """Where the document holds what IAM rejects (duplicate keys, non-finite numbers), in document order.
    Iterative: a deeply nested document does not exhaust the stack."""
    problems: list[Problem] = []
    stack: list[tuple[object, str]] = [(doc, base)]
    while stack:
        value, at = stack.pop()
        if isinstance(value, _NonFinite):
            problems.append(Problem(at, f"{shorten(value.text)} is not a JSON number IAM accepts (no NaN or Infinity, "
                                        "nothing beyond a double's range)", shorten(value.text), unreadable=True))
        elif isinstance(value, dict):
            if isinstance(value, _Object):
                problems += [Problem(at + pointer(dup), f'key "{shorten(dup)}" appears twice; IAM rejects duplicate keys',
                                     shorten(dup), unreadable=True) for dup in dict.fromkeys(value.duplicates)]
            stack += [(child, at + pointer(key)) for key, child in reversed(value.items())]
        elif isinstance(value, list):
            stack += [(child, f"{at}/{i}") for i, child in reversed(list(enumerate(value)))]
    return problems


def decode_text(raw: bytes) -> tuple[str | None, str | None]:
    """Bytes to text. Returns (text, error). Accepts UTF-8 (with or without BOM) and UTF-16 with BOM."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), None
        except UnicodeDecodeError as exc:
            return None, f"not valid UTF-16 text ({exc.reason} at byte {exc.start})"
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, f"not valid UTF-8 text ({exc.reason} at byte {exc.start})"


def _as_str_list(value: object) -> tuple[str, ...] | None:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


_STR = repeat(str)  # map(isinstance, values, _STR): is each a string


def _conditions(value: object, at: str, problems: list[Problem]) -> tuple[Condition, ...]:
    if not isinstance(value, dict):
        problems.append(Problem(at, "Condition must be an object of operator: {key: value}", "Condition"))
        return ()
    out: list[Condition] = []
    for op, block in value.items():
        if not isinstance(block, dict):
            problems.append(Problem(at + pointer(op), f'condition operator "{op}" must map keys to values', op))
            continue
        for key, vals in block.items():
            if isinstance(vals, str):  # the usual values first: a string, a list of strings
                out.append(Condition(op, key, (vals,)))
                continue
            if isinstance(vals, list) and all(map(isinstance, vals, _STR)):
                out.append(Condition(op, key, tuple(vals)))
                continue
            if isinstance(vals, _NonFinite) or isinstance(vals, list) and any(isinstance(v, _NonFinite) for v in vals):
                continue  # reported where the number is (_rejected)
            if isinstance(vals, (str, bool, int, float)) and not isinstance(vals, bool):
                norm: tuple[str, ...] = (str(vals),)
            elif isinstance(vals, bool):
                norm = ("true" if vals else "false",)
            elif isinstance(vals, list) and all(isinstance(v, (str, int, float, bool)) for v in vals):
                norm = tuple(("true" if v else "false") if isinstance(v, bool) else str(v) for v in vals)
            else:
                problems.append(
                    Problem(at + pointer(op, key), f'condition "{op}" "{key}" has a value that is not a string or list', key)
                )
                continue
            out.append(Condition(str(op), str(key), norm))
    return tuple(out)


_STATEMENT_KEY_SET = frozenset(STATEMENT_KEYS)


def _entries(value: object) -> tuple[str, ...] | None:
    """An Action/Resource element as its entries when IAM takes it as written (a string, or a non-empty
    list of strings, none longer than MAX_ELEMENT); None when the element has a problem."""
    if isinstance(value, str):
        return (value,) if len(value) <= MAX_ELEMENT else None
    if isinstance(value, list) and value and all(map(isinstance, value, _STR)) and max(map(len, value)) <= MAX_ELEMENT:
        return tuple(value)
    return None


def build_statement(source: str, index: int, raw: object, at: str, problems: list[Problem],
               document: int | None = None) -> Statement | None:
    """One statement, or None (with its problems added) when it is not one IAM would take. The usual
    statement (known keys, a string Sid, a valid Effect, one of each pair of elements, each a string or a
    list of strings) is built at once; any other goes through every check, in order (checked_statement)."""
    if isinstance(raw, dict) and _STATEMENT_KEY_SET.issuperset(raw):
        sid = raw.get("Sid")
        has_action, has_resource = "Action" in raw, "Resource" in raw
        if ((sid is None or isinstance(sid, str) and len(sid) <= MAX_ELEMENT) and raw.get("Effect") in VALID_EFFECTS
                and has_action != ("NotAction" in raw) and has_resource != ("NotResource" in raw)):
            action_key = "Action" if has_action else "NotAction"
            resource_key = "Resource" if has_resource else "NotResource"
            action_value, resource_value = raw[action_key], raw[resource_key]
            actions, resources = _entries(action_value), _entries(resource_value)
            if actions is not None and resources is not None:
                conditions = _conditions(raw["Condition"], at + "/Condition", problems) if "Condition" in raw else ()
                if isinstance(action_value, str):
                    scalars = frozenset((action_key, resource_key)) if isinstance(resource_value, str) else frozenset((action_key,))
                else:
                    scalars = frozenset((resource_key,)) if isinstance(resource_value, str) else frozenset()
                return Statement(source, index, at, sid, raw["Effect"], actions if has_action else None,
                                 None if has_action else actions, resources if has_resource else None,
                                 None if has_resource else resources, conditions, scalars, document)
    return checked_statement(source, index, raw, at, problems, document)


def checked_statement(source: str, index: int, raw: object, at: str, problems: list[Problem],
                       document: int | None = None) -> Statement | None:
    if not isinstance(raw, dict):
        problems.append(Problem(at, "statement is not a JSON object", f"Statement[{index}]"))
        return None
    for key in raw:
        if key in PRINCIPAL_KEYS:
            problems.append(Problem(at + pointer(key), f"{key} has no place in an identity policy: IAM rejects it (a "
                                                       "principal belongs in a trust or resource policy)", key))
        elif key not in STATEMENT_KEYS:
            problems.append(Problem(at + pointer(key), f'unknown statement element "{shorten(key)}" (a statement has '
                                                       f"only {', '.join(STATEMENT_KEYS)})", shorten(key)))
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        problems.append(Problem(at + "/Sid", "Sid must be a string", "Sid"))
        sid = None
    elif sid is not None and len(sid) > MAX_ELEMENT:
        problems.append(Problem(at + "/Sid", f"Sid of {len(sid):,} characters: {shorten(sid)}", "Sid"))
        sid = shorten(sid)
    effect = raw.get("Effect")
    if effect not in VALID_EFFECTS:
        shown = effect if isinstance(effect, str) else _dumps(effect)
        problems.append(Problem(at + "/Effect", f'Effect must be "Allow" or "Deny", not {shown!r}', "Effect"))
        return None

    too_long: list[str] = []

    def str_list(name: str) -> tuple[str, ...] | None:
        if name not in raw:
            return None
        value = _as_str_list(raw[name])
        if value is None:
            problems.append(Problem(at + "/" + name, f"{name} must be a string or a list of strings", name))
        elif not value:
            problems.append(Problem(at + "/" + name, f"{name} is an empty list", name))
        else:
            for i, item in enumerate(value):
                if len(item) > MAX_ELEMENT:
                    where = at + "/" + name + ("" if isinstance(raw[name], str) else f"/{i}")
                    problems.append(Problem(where, f"{name} entry of {len(item):,} characters (IAM allows at most "
                                                   f"{MAX_ELEMENT:,}): {shorten(item)}", shorten(item)))
                    too_long.append(name)
        return value

    actions, not_actions = str_list("Action"), str_list("NotAction")
    resources, not_resources = str_list("Resource"), str_list("NotResource")
    if (actions is None) == (not_actions is None):
        if "Action" not in raw and "NotAction" not in raw:
            problems.append(Problem(at, "statement has neither Action nor NotAction", label_of(sid, index)))
        elif "Action" in raw and "NotAction" in raw:
            problems.append(Problem(at, "statement has both Action and NotAction", label_of(sid, index)))
        return None
    if (resources is None) == (not_resources is None):
        if "Resource" not in raw and "NotResource" not in raw:
            problems.append(Problem(at, "statement has neither Resource nor NotResource", label_of(sid, index)))
        elif "Resource" in raw and "NotResource" in raw:
            problems.append(Problem(at, "statement has both Resource and NotResource", label_of(sid, index)))
        return None
    if too_long:
        return None
    conditions = _conditions(raw["Condition"], at + "/Condition", problems) if "Condition" in raw else ()
    scalars = frozenset(k for k in ("Action", "NotAction", "Resource", "NotResource") if isinstance(raw.get(k), str))
    return Statement(source, index, at, sid, effect, actions, not_actions, resources, not_resources, conditions, scalars,
                     document)


def shorten(text: str, limit: int = 60) -> str:
    """A long policy string cut for a message: its start, an ellipsis and its length."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def label_of(sid: str | None, index: int) -> str:
    """How reports name a statement (also one too broken to be a Statement): its Sid, else its index."""
    return sid if sid else f"Statement[{index}]"


def parse_policy(text: str, source: str) -> Policy:
    """Parse one policy document. Never raises on bad input: problems are recorded instead. A JSON
    array is a problem here (see parse_policies)."""
    loaded = _load(text, source)
    if isinstance(loaded, Policy):
        return loaded
    doc, special = loaded
    return _document(doc, text, source, "", None, special)


def parse_policies(text: str, source: str) -> tuple[Policy, ...]:
    """The documents of a policy file: one, or one per element of a non-empty JSON array of objects
    (generate's split output). Never raises on bad input."""
    loaded = _load(text, source)
    if isinstance(loaded, Policy):
        return (loaded,)
    doc, special = loaded
    if isinstance(doc, list) and doc and all(isinstance(d, dict) for d in doc):
        return tuple(_document(d, text, source, f"/{i}", i, special) for i, d in enumerate(doc))
    return (_document(doc, text, source, "", None, special),)


def holds_statement(text: str) -> bool:
    """Is the text one JSON object with a Statement member, read as parse_policies reads it? Such a file
    is one document, which looks like a policy (sources.file.looks_like_policy) whatever its statements."""
    loaded = _load(text, "")
    return not isinstance(loaded, Policy) and isinstance(loaded[0], dict) and "Statement" in loaded[0]


def allowing_statements(text: str, source: str, wanted: Callable[[str], bool]) -> tuple[Statement, ...] | None:
    """For a text that is one JSON object with a Statement member, its statements that allow on Resource
    entries of which one is `wanted`, built as parse_policies builds them (the others are not built);
    None for any other text. The Statement is a JSON object, an array or anything else, as _document
    reads it."""
    loaded = _load(text, source)
    if isinstance(loaded, Policy) or not isinstance(loaded[0], dict) or "Statement" not in loaded[0]:
        return None
    raw_statements = loaded[0]["Statement"]
    items = [raw_statements] if isinstance(raw_statements, dict) else raw_statements if isinstance(raw_statements, list) else []
    found = []
    for index, raw in enumerate(items):
        if not isinstance(raw, dict) or raw.get("Effect") != "Allow" or "Resource" not in raw:
            continue  # not built: it could only be a statement that does not allow on Resource entries
        resources = raw["Resource"]
        if not any(wanted(r) for r in (resources if isinstance(resources, list) else [resources]) if isinstance(r, str)):
            continue
        at = "/Statement" if isinstance(raw_statements, dict) else f"/Statement/{index}"
        stmt = build_statement(source, index, raw, at, [])
        if stmt is not None:
            found.append(stmt)
    return tuple(found)


def _load(text: str, source: str) -> tuple[object, bool] | Policy:
    """The parsed JSON and whether it holds duplicate keys or non-finite numbers, or a Policy whose
    problem says why there is none."""
    if not text.strip():
        return Policy(source, text, (), (Problem("", "file is empty", source, unreadable=True),))
    loader = _Loader()
    try:
        return loader.load(text), loader.special
    except json.JSONDecodeError as exc:
        problem = Problem("", f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", source, exc.lineno, True)
        return Policy(source, text, (), (problem,))
    except RecursionError:
        return Policy(source, text, (), (Problem("", "not JSON: nesting too deep", source, unreadable=True),))
    except ValueError as exc:  # an integer past Python's int-string conversion limit (4,300 digits)
        from auditor.failures import digits_message

        why = digits_message(exc)
        if why is None:
            raise
        return Policy(source, text, (), (Problem("", f"not a policy: {why}", source, unreadable=True),))


def _document(doc: object, text: str, source: str, base: str, document: int | None, special: bool = False) -> Policy:
    """One document at pointer `base` of the file (base "" for a file that is one document)."""
    problems: list[Problem] = _rejected(doc, base) if special else []
    if not isinstance(doc, dict):
        kind = {list: "an array", str: "a string", type(None): "null", bool: "a boolean"}.get(type(doc), "a number")
        return Policy(source, text, (), (*problems, Problem("", f"not an IAM policy: the document is {kind}, not an object",
                                                             source)))
    name = document_name(source, document)
    if "Statement" not in doc:
        wrapped = _wrapper(doc)
        if wrapped is not None:
            path, command = wrapped
            problems.append(Problem(base + pointer(*path), f"not an IAM policy document but the output of {command}: the "
                                    f"policy is its {'.'.join(path)}; save only that ({unwrap(path)})", name))
        else:
            problems.append(Problem(base, "not an IAM policy: no Statement element", name))
        return Policy(source, text, (), tuple(problems), document=document)
    for key in doc:
        if key not in POLICY_KEYS:
            problems.append(Problem(base + pointer(key), f'unknown policy element "{shorten(key)}" (a policy has only '
                                                         "Version, Id and Statement)", shorten(key)))
    version = doc.get("Version")
    if version is None:
        pass
    elif version not in VALID_VERSIONS:
        problems.append(Problem(base + "/Version", f'Version must be "2012-10-17", not {_dumps(version)}', "Version"))
    raw_statements = doc["Statement"]
    statements = []
    if isinstance(raw_statements, dict):
        stmt = build_statement(source, 0, raw_statements, base + "/Statement", problems, document)
        if stmt is not None:
            statements.append(stmt)
    elif isinstance(raw_statements, list):
        at = base + "/Statement/"
        for index, raw in enumerate(raw_statements):
            stmt = build_statement(source, index, raw, at + str(index), problems, document)
            if stmt is not None:
                statements.append(stmt)
    else:
        problems.append(Problem(base + "/Statement", "Statement must be an object or a list of objects", "Statement"))
    return Policy(source, text, tuple(statements), tuple(problems), version if isinstance(version, str) else None,
                  document=document)


def _wrapper(doc: dict) -> tuple[tuple[str, ...], str] | None:
    """A policy document wrapped as the AWS CLI prints it: (the key path to it, the command), or None."""
    for path, command in WRAPPERS:
        inner: object = doc
        for key in path:
            inner = inner.get(key) if isinstance(inner, dict) else None
        if isinstance(inner, dict) and "Statement" in inner or isinstance(inner, str) and "Statement" in inner:
            return path, command
    return None


def unwrap(path: tuple[str, ...]) -> str:
    """How to unwrap: the jq filter for the document at `path`."""
    return "jq '." + ".".join(path) + "'"
