"""What the infrastructure-code readers (terraform.py, tfplan.py, cloudformation.py) share.

A policy written in Terraform or CloudFormation is audited as the JSON document it renders to, so every
check keeps working on RFC 6901 pointers into that document (`/Statement/2/Action/1`). Its `origin` maps
each of those pointers to where the element is written: the file, the path in the file
(`/Resources/DeployGroup/Properties/Policies/0/PolicyDocument/Statement/2/Action/1`, or
`/data/aws_iam_policy_document/deploy/statement/2/actions/1`) and the line. The engine stamps findings
with it, so every output format, SARIF regions included, points into the .tf or .yaml file.

A reference that cannot be resolved stays in the document as a named placeholder (`${var.prefix}`,
`${DeployBucket.Arn}`). A placeholder never has a colon, so it is never taken for an IAM policy variable
such as `${aws:username}`; it is literal text that matches no resource Jets names, and the
`unresolved-reference` check reports it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from auditor.model import Assumption, Origin, Policy, Spot, parse_policy
from auditor.source_map import SourceMap

MAX_PLACEHOLDER = 80


class V:
    """A value read from infrastructure code and the spot it is written at. `value` is a str, int,
    float, bool or None, a list of V, or a dict of str to V."""

    __slots__ = ("value", "spot")

    def __init__(self, value: object, spot: Spot) -> None:
        self.value = value
        self.spot = spot

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"V({self.value!r})"


def plain(v: V, at: str = "", spots: dict[str, Spot] | None = None) -> object:
    """The JSON value of a V tree; `spots` gets the spot of every element by its document pointer."""
    if spots is not None:
        spots[at] = v.spot
    value = v.value
    if isinstance(value, list):
        return [plain(item, f"{at}/{i}", spots) for i, item in enumerate(value)]
    if isinstance(value, dict):
        return {k: plain(item, f"{at}/{k.replace('~', '~0').replace('/', '~1')}", spots) for k, item in value.items()}
    return value


def placeholder(name: str) -> str:
    """The text an unresolved reference leaves in the policy: `${name}`, with no colon (so never an IAM
    policy variable) and no braces inside."""
    cleaned = " ".join(name.replace("::", ".").replace(":", ".").replace("{", "(").replace("}", ")").split())
    if len(cleaned) > MAX_PLACEHOLDER:
        cleaned = cleaned[: MAX_PLACEHOLDER - 1] + "…"
    return "${" + cleaned + "}"


class Unresolved:
    """The placeholders a reader left in one policy, with the reason for each (first reason wins)."""

    def __init__(self) -> None:
        self.found: dict[str, str] = {}

    def add(self, name: str, why: str) -> str:
        text = placeholder(name)
        self.found.setdefault(text, why)
        return text

    def merge(self, other: Iterable[tuple[str, str]]) -> None:
        for text, why in other:
            self.found.setdefault(text, why)


# --- origins: document pointer → where it is written ------------------------------------------

@dataclass(frozen=True)
class MappedOrigin:
    """For a document built from a template's values: the spot of every element, by pointer."""

    spots: Mapping[str, Spot]
    whole: Spot

    def locate(self, ptr: str) -> Spot:
        while True:
            spot = self.spots.get(ptr)
            if spot is not None:
                return spot
            if not ptr:
                return self.whole
            ptr = ptr.rpartition("/")[0]


class TextOrigin:
    """For a document written as JSON text inside the file (a heredoc, a string in a plan): the path
    in the file is the document's path under `whole.pointer`, the line counted from the text's first
    line (`first_line`; None: every element is on the whole's line)."""

    def __init__(self, whole: Spot, text: str, first_line: int | None) -> None:
        self.whole = whole
        self._map = SourceMap(text) if first_line is not None else None
        self._first = first_line

    def locate(self, ptr: str) -> Spot:
        if self._map is None or self._first is None:
            return Spot(self.whole.path, self.whole.pointer + ptr, self.whole.line)
        line = self._map.line(ptr)
        return Spot(self.whole.path, self.whole.pointer + ptr, None if line is None else self._first + line - 1)


def policy_from_value(name: str, doc: V, whole: Spot, unresolved: Mapping[str, str]) -> Policy:
    """A Policy from a document built out of template values (jsonencode, a policy document data
    source, a CloudFormation PolicyDocument)."""
    spots: dict[str, Spot] = {}
    data = plain(doc, "", spots)
    text = json.dumps(data, indent=2)
    return _finish(parse_policy(text, name), MappedOrigin(spots, whole), text, unresolved)


def policy_from_text(name: str, text: str, whole: Spot, first_line: int | None, unresolved: Mapping[str, str]) -> Policy:
    """A Policy from JSON text written in the file (`first_line`: the line its text starts on)."""
    return _finish(parse_policy(text, name), TextOrigin(whole, text, first_line), text, unresolved)


def _finish(policy: Policy, origin: Origin, text: str, unresolved: Mapping[str, str]) -> Policy:
    used = tuple((p, why) for p, why in unresolved.items() if p in text)
    return replace(policy, origin=origin, unresolved=used)


# --- principals -------------------------------------------------------------------------------

@dataclass(frozen=True)
class IacPrincipal:
    """A group, user or role defined in infrastructure code with the policies attached to it there."""

    kind: str  # group | user | role
    name: str  # its IAM name where it could be resolved, else its address
    address: str  # aws_iam_group.deploy, DeployGroup
    spot: Spot
    policies: tuple[Policy, ...]
    managed_arns: tuple[str, ...] = ()  # managed policies attached by ARN only (AWS managed, or made elsewhere)
    assumptions: tuple[Assumption, ...] = ()  # constructs about this principal the reader did not evaluate

    def names(self) -> tuple[str, ...]:
        """What --group/--user/--role may call it: its IAM name or its address (or the address's last part)."""
        return (self.name, self.address, self.address.rpartition(".")[2])


@dataclass(frozen=True)
class IacFile:
    """What a reader found in one file: principals and the policies attached to none of them."""

    path: str
    principals: tuple[IacPrincipal, ...]
    loose: tuple[Policy, ...]  # policies attached to no principal of the configuration
    problems: tuple[Policy, ...] = ()  # a file that could not be read: one Policy holding the problem
    notes: tuple[str, ...] = ()  # what the report should say about how the file was read
    assumptions: tuple[Assumption, ...] = ()  # constructs of the file the reader did not evaluate (every target of it gets them)
    reads: tuple[str, ...] = ()  # real paths of the files read through this one (templates, local modules' files)


def unreadable(path: str, message: str, line: int | None = None) -> IacFile:
    """A file that could not be read as infrastructure code: one policy with the problem (an `invalid`
    finding at the file, and its line when known)."""
    from auditor.model import Problem

    policy = Policy(path, "", (), (Problem("", message, path, line),))
    return IacFile(path, (), (), (policy,))
