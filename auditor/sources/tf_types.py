"""A variable's type constraint applied to its value, as Terraform converts a value to the declared type
(Terraform's language documentation, "Type Constraints" and "Optional Object Type Attributes"):

- `string`, `number`, `bool`: a number or bool becomes a string and back ("true"/"false", "2");
- `list(T)`, `tuple([...])`: each element converted; a set becomes a list;
- `set(T)`: elements converted, de-duplicated, strings in lexical order;
- `map(T)`: each value converted;
- `object({a = T, b = optional(T, default)})`: each attribute converted; an attribute the value lacks is
  the optional's default (null without one); attributes the type does not name are dropped;
- `any`, or a constraint this reader does not know: the value as it is.

A value that does not convert is kept as it is (Terraform would reject the configuration; the audit goes on
with what is written). Undecided values stay undecided.
"""

from __future__ import annotations

from auditor.sources.iac import V
from auditor.sources.tf_values import Partial, SetV, Unknown, number_text


def _inner(node):
    from lark import Tree

    while isinstance(node, Tree) and node.data == "expr_term" and len([c for c in node.children if isinstance(c, Tree)]) == 1 \
            and len(node.children) == 1:
        node = node.children[0]
    return node


def _call(node) -> tuple[str, list] | None:
    """A type expression as (name, argument trees): `string` → ("string", []), `list(string)` →
    ("list", [string])."""
    from lark import Tree

    node = _inner(node)
    if not isinstance(node, Tree):
        return None
    if node.data == "identifier":
        return str(node.children[0]), []
    if node.data == "function_call" and isinstance(node.children[0], Tree):
        args = next((c for c in node.children if isinstance(c, Tree) and c.data == "arguments"), None)
        trees = [c for c in args.children if isinstance(c, Tree) and c.data != "new_line_or_comment"] if args is not None else []
        return str(node.children[0].children[0]), trees
    if node.data in ("object", "tuple"):
        return node.data, [node]
    return None


def kind_of(node) -> str | None:
    """The name of a type constraint's outer kind (string, list, set, map, object, ...), or None."""
    called = _call(node) if node is not None else None
    return called[0] if called is not None else None


def convert(ev, value: V, node, ctx) -> V:
    """`value` converted to the type constraint `node` (an expression tree)."""
    if node is None or isinstance(value, Unknown):
        return value
    called = _call(node)
    if called is None:
        return value
    kind, args = called
    raw = value.value
    if kind == "optional" and args:
        return convert(ev, value, args[0], ctx)
    if kind in ("string", "number", "bool"):
        return _primitive(value, kind)
    if kind in ("list", "set") and isinstance(raw, list):
        items = [convert(ev, item, args[0], ctx) if args else item for item in raw]
        if kind == "list":
            return V(items, value.spot)
        seen: dict[str, V] = {}
        for item in items:
            seen.setdefault(repr(item.value) if not isinstance(item.value, (list, dict)) else str(id(item)), item)
        distinct = list(seen.values())
        if all(isinstance(i.value, str) for i in distinct):
            distinct.sort(key=lambda i: str(i.value))
        return SetV(distinct, value.spot)
    if kind == "map" and isinstance(raw, dict):
        return V({k: convert(ev, v, args[0], ctx) if args else v for k, v in raw.items()}, value.spot)
    if kind == "object" and isinstance(raw, dict) and args:
        return _object(ev, value, raw, args[0], ctx)
    if kind == "tuple" and isinstance(raw, list) and args:
        return V(list(raw), value.spot)
    return value


def _primitive(value: V, kind: str) -> V:
    raw = value.value
    if isinstance(value, Partial) or raw is None:
        return value
    if kind == "string" and isinstance(raw, bool):
        return V("true" if raw else "false", value.spot)
    if kind == "string" and isinstance(raw, (int, float)):
        return V(number_text(raw), value.spot)
    if kind == "number" and isinstance(raw, str):
        try:
            return V(int(raw) if raw.strip().lstrip("-").isdigit() else float(raw), value.spot)
        except ValueError:
            return value
    if kind == "bool" and raw in ("true", "false"):
        return V(raw == "true", value.spot)
    return value


def _object(ev, value: V, raw: dict, type_node, ctx) -> V:
    """object({...}): each attribute converted; missing optional ones get their default or null."""
    from lark import Tree

    obj = _inner(type_node)
    if not isinstance(obj, Tree) or obj.data != "object":
        return value
    out: dict[str, V] = {}
    for elem in (c for c in obj.children if isinstance(c, Tree) and c.data == "object_elem"):
        key_node = _inner(elem.children[0].children[0] if isinstance(elem.children[0], Tree) and elem.children[0].data
                          == "object_elem_key" else elem.children[0])
        if not isinstance(key_node, Tree) or key_node.data not in ("identifier", "keyword", "string"):
            continue
        from auditor.sources.tf_load import name_of

        name = name_of(key_node)
        attr_type = elem.children[-1]
        if name in raw:
            out[name] = convert(ev, raw[name], attr_type, ctx)
            continue
        called = _call(attr_type)
        if called is not None and called[0] == "optional" and len(called[1]) == 2:
            default = ev.eval(called[1][1], ctx)
            out[name] = convert(ev, default, called[1][0], ctx)
        else:
            out[name] = V(None, value.spot)
    return V(out, value.spot)
