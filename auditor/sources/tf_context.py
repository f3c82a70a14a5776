"""What the Terraform expression handlers share: where an expression is evaluated (`Ctx`), the parse
tree's helpers, and the evaluator as the handlers see it (`Evaluates`). tf_eval.py's Evaluator dispatches
an expression to its handler (tf_operators.py, tf_functions.py, tf_refs.py, tf_policy_document.py)
and hands itself over: a handler calls back into it, and none imports tf_eval.py."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from auditor.model import Spot
from auditor.sources.iac import Unresolved, V
from auditor.sources.tf_load import Block
from auditor.sources.tf_values import Budget, Unknown


@dataclass(frozen=True)
class Ctx:
    """Where an expression is evaluated: the file and pointer its values are spotted at, the source its
    tree's positions index, the policy's Unresolved, the nesting depth, the module instance and the names
    bound around it (each, count, dynamic iterators, for and template variables). In a template file
    (`template`) only those names are in scope, as in Terraform's templatefile()."""

    path: str
    at: str
    text: str | None
    un: Unresolved
    depth: int
    inst: object  # tf_refs.Instance
    names: Mapping[str, V] = field(default_factory=dict)
    template: bool = False

    def to(self, at: str) -> Ctx:
        return replace(self, at=at)

    def deeper(self) -> Ctx:
        return replace(self, depth=self.depth + 1)

    def bind(self, names: Mapping[str, V]) -> Ctx:
        return replace(self, names={**self.names, **names})


def children_of(node) -> list:
    """A parse tree node's children, its new lines and comments left out."""
    from lark import Tree

    return [c for c in node.children if not (isinstance(c, Tree) and c.data == "new_line_or_comment")]


def trees_of(node) -> list:
    """A node's children that are trees (not tokens)."""
    from lark import Tree

    return [c for c in children_of(node) if isinstance(c, Tree)]


def line_of(node) -> int | None:
    """The line a node (or a token) starts on, where the parser kept it."""
    meta = getattr(node, "meta", None)
    if meta is not None and not meta.empty:
        return meta.line
    return getattr(node, "line", None)


def plain_value(value: V) -> object:
    """The JSON-like value of a V tree (placeholders as their text)."""
    raw = value.value
    if isinstance(raw, list):
        return [plain_value(v) for v in raw]
    if isinstance(raw, dict):
        return {k: plain_value(v) for k, v in raw.items()}
    return raw


class Evaluates(Protocol):
    """The evaluator (tf_eval.Evaluator) as an expression handler calls it back."""

    config: Any  # the configuration evaluated (tf_refs.Config)
    budget: Budget

    def attr(self, block: Block, name: str, ctx: Ctx) -> V | None: ...

    def eval(self, node: Any, ctx: Ctx) -> V: ...

    def source_text(self, node: Any, ctx: Ctx) -> str: ...

    def unknown(self, node: Any, ctx: Ctx, why: str, spot: Spot | None = None, error: bool = False) -> Unknown: ...

    def named_unknown(self, name: str, why: str, ctx: Ctx, spot: Spot, error: bool = False) -> Unknown: ...

    def as_text(self, value: V, ctx: Ctx, node: Any = None) -> tuple[str, bool]: ...

    def string(self, text: str, spot: Spot, partial: bool = False) -> V: ...

    def parsed_template(self, text: str, first_line: int | None) -> object: ...

    def template(self, tree: Any, ctx: Ctx, spot: Spot, first_line: int | None = None) -> V: ...

    def iterate(self, coll: V) -> list[tuple[V, V]] | None: ...

    def key_text(self, value: V) -> str: ...


class Remembers(Protocol):
    """A module instance (tf_refs.Instance) as `remembered` uses it."""

    memo: dict
    busy: set


def remembered(inst: Remembers, key: tuple, ctx: Ctx, compute: Callable[[Unresolved], V],
               looped: Callable[[Unresolved], V]) -> V:
    """The value of `key` (a variable, local, output or policy document) in `inst`, computed once by
    `compute(own)`, which records in `own` what it leaves unresolved: that is merged into every
    asker's `ctx.un`. Asked for while it is being computed (a reference cycle, which Terraform
    rejects), it is `looped(own)`, not kept."""
    if key not in inst.memo:
        own = Unresolved()
        if key in inst.busy:
            value = looped(own)
            ctx.un.merge(own.found.items())
            return value
        inst.busy.add(key)
        try:
            value = compute(own)
        finally:
            inst.busy.discard(key)
        inst.memo[key] = (value, own.found)
    value, found = inst.memo[key]
    ctx.un.merge(found.items())
    return value

