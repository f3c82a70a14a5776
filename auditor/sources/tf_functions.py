"""Terraform's built-in functions, as its language documentation ("Functions") describes them, on decided
values; what they build is charged to the configuration's Budget before it is built (`join` and
`replace` count their result's length, `range` and `setproduct` their elements), so no argument can make
one call allocate more than the budgets allow.

`file()`, `templatefile()` and `fileexists()` read through the repository-confined reader: a path is
relative to the root module's directory (Terraform's working directory; `path.module` leads to a child
module's), and only a regular file inside the repository root is read (confined.py). A template file sees
only the variables given to it, and may not call templatefile() itself (Terraform: "cannot recursively
call templatefile from inside another templatefile call"). Regular-expression functions (`regex`,
`regexall`, `replace` with a /pattern/) are not evaluated: Terraform's RE2 is not Python's, and a
pattern from a stranger's file must not run here. A function this reader does not evaluate leaves the
value undecided, named.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re

from auditor.model import Spot
from auditor.sources.file import SourceError
from auditor.sources.iac import V, plain
from auditor.sources.tf_context import Ctx, Evaluates, children_of
from auditor.sources.tf_load import json_value, read_text
from auditor.sources.tf_operators import number
from auditor.sources.tf_policy_document import json_tree
from auditor.sources.tf_values import MAX_STRING, Doc, HclError, Partial, SetV, Text, Unknown, is_unknown, number_text

LAZY = ("try", "can", "file", "templatefile", "fileexists")
UNDECIDED = {  # functions whose result only Terraform knows
    "timestamp": "the time of the run", "uuid": "a random value", "bcrypt": "a random salt", "plantimestamp": "the time of the plan",
    "regex": "regular expressions are not evaluated here", "regexall": "regular expressions are not evaluated here",
    "abspath": "the absolute path of the run", "pathexpand": "the home directory of the run",
    "filebase64": "file contents as base64", "filemd5": "file hashes", "filesha1": "file hashes", "filesha256": "file hashes",
    "fileset": "a directory listing", "yamldecode": "YAML is not decoded here",
}


def _strings(values: list[V]) -> list[str] | None:
    """The arguments as strings (numbers and bools converted as Terraform does), or None."""
    out = []
    for v in values:
        raw = v.value
        if isinstance(raw, bool):
            out.append("true" if raw else "false")
        elif isinstance(raw, (int, float)):
            out.append(number_text(raw))
        elif isinstance(raw, str) and not isinstance(v, Unknown):
            out.append(raw)
        else:
            return None
    return out


def call(ev: Evaluates, node, kids: list, ctx: Ctx, spot: Spot) -> V:
    from lark import Token, Tree

    names = [str(c.children[0]) for c in kids if isinstance(c, Tree) and c.data == "identifier"]
    if any(isinstance(c, Token) and c.type == "COLONS" for c in kids):
        return ev.unknown(node, ctx, "a provider-defined function this reader does not evaluate", spot)
    name = names[0]
    args_node = next((c for c in kids if isinstance(c, Tree) and c.data == "arguments"), None)
    arg_nodes = [c for c in children_of(args_node) if isinstance(c, Tree)] if args_node is not None else []
    spread = args_node is not None and any(isinstance(c, Token) and c.type == "ELLIPSIS" for c in args_node.children)
    if name in UNDECIDED:
        return ev.unknown(node, ctx, f"{name}(): {UNDECIDED[name]}", spot)
    if name in LAZY:
        return _lazy(ev, name, node, arg_nodes, ctx, spot)
    args = [ev.eval(a, ctx) for a in arg_nodes]
    if spread and args:
        last = args.pop()
        if not isinstance(last.value, list) or is_unknown(last):
            return ev.unknown(node, ctx, "arguments expanded (...) from a value the configuration does not decide", spot)
        args.extend(last.value)
    function = FUNCTIONS.get(name)
    if function is None:
        return ev.unknown(node, ctx, f"{name}(): a function this reader does not evaluate", spot)
    try:
        result = function(ev, args, ctx, spot)
    except (ValueError, TypeError, IndexError, KeyError, OverflowError) as exc:
        return ev.unknown(node, ctx, f"{name}(): {exc or 'invalid arguments'} (Terraform rejects it)", spot, error=True)
    if result is None:
        return ev.unknown(node, ctx, f"{name}() of a value the configuration does not decide", spot)
    return result


# --- functions that evaluate their arguments themselves ----------------------------------------------

def _lazy(ev: Evaluates, name: str, node, arg_nodes: list, ctx: Ctx, spot: Spot) -> V:
    if name in ("try", "can"):
        for arg in arg_nodes:
            value = ev.eval(arg, ctx)
            if not _has_error(value):
                return V(True, spot) if name == "can" and not is_unknown(value) else value if name == "try" \
                    else ev.unknown(node, ctx, "can() of a value the configuration does not decide", spot)
            if name == "can":
                return V(False, spot)
        return ev.unknown(node, ctx, "try(): every argument fails (Terraform rejects it)", spot, error=True)
    args = [ev.eval(a, ctx) for a in arg_nodes]
    if not args or not isinstance(args[0].value, str) or is_unknown(args[0]):
        return ev.unknown(node, ctx, f"{name}() of a path the configuration does not decide", spot)
    target = args[0].value
    if name == "templatefile" and ctx.template:
        return ev.unknown(node, ctx, "templatefile() called from a template (Terraform rejects the recursion)", spot, error=True)
    config = ev.config
    root = config.root.module
    full = os.path.expanduser(target) if target.startswith("~") else os.path.join(root.directory, target)
    shown = target if target.startswith(("/", "~")) else os.path.normpath(os.path.join(root.shown, target))
    if name == "fileexists":
        kind = config.confined.kind(full)
        if kind == "outside the repository root":
            return ev.unknown(node, ctx, "outside the repository root, not looked at", spot)
        return V(kind is None, spot)
    try:
        text = _read(config, full, shown, spot)
    except SourceError as exc:
        message = str(exc)
        return ev.unknown(node, ctx, message[len(shown) + 2:] if message.startswith(shown + ": ") else message, spot)
    if name == "file":
        return Text(text, Spot(shown, "", 1), 1)
    variables = args[1] if len(args) > 1 else V({}, spot)
    if not isinstance(variables.value, dict):
        return ev.unknown(node, ctx, "templatefile() with variables the configuration does not decide", spot)
    from dataclasses import replace

    try:
        tree = ev.parsed_template(text, 1)
    except HclError as exc:
        return ev.unknown(node, ctx, f"not a valid template: {exc}", spot, error=True)
    here = replace(ctx, path=shown, at="", template=True, names=dict(variables.value)).deeper()
    return ev.template(tree, here, Spot(shown, "", 1), 1)


def _read(config, full: str, shown: str, spot: Spot) -> str:
    real = os.path.realpath(full)
    if real not in config.files:
        from auditor.sources.tf_load import MAX_TF_BYTES

        raw = config.confined.read(full, MAX_TF_BYTES, shown)
        if len(raw) > MAX_TF_BYTES:
            raise SourceError(f"{shown}: larger than {MAX_TF_BYTES // 1024} KiB, not read")
        config.budget.read(len(raw), spot.line)
        config.files[real] = read_text(raw, shown)
        config.reads.add(real)
    return config.files[real]


def _has_error(value: V) -> bool:
    if isinstance(value, Unknown):
        return value.error
    if isinstance(value.value, list):
        return any(_has_error(v) for v in value.value)
    if isinstance(value.value, dict):
        return any(_has_error(v) for v in value.value.values())
    return False


# --- strings ----------------------------------------------------------------------------------------

def _text_fn(transform):
    def run(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
        texts = _strings(args)
        if texts is None or any(is_unknown(a) for a in args):
            return None
        result = transform(*texts)
        if isinstance(result, str):
            return ev.string(result, spot)
        return V(result, spot)

    return run


def _format(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
    if not args or not isinstance(args[0].value, str) or is_unknown(args[0]):
        return None
    values = args[1:]
    partial = any(is_unknown(v) for v in values)
    parts = iter(values)
    pieces: list[str] = []
    for m in re.finditer(r"%%|%[-+ #0-9.]*[a-zA-Z]|[^%]+|%", args[0].value):
        token = m.group(0)
        if token == "%%":
            pieces.append("%")
        elif token.startswith("%") and len(token) > 1:
            value = next(parts)
            if isinstance(value.value, (list, dict)) and token[-1] != "v":
                raise ValueError("a list or object where a string is needed")
            text = json.dumps(plain(value)) if token[-1] == "q" or isinstance(value.value, (list, dict)) \
                else ev.as_text(value, ctx)[0]
            pieces.append(_width(ev, token, text, spot))
        else:
            pieces.append(token)
    ev.budget.text(sum(len(p) for p in pieces), spot.line)
    return ev.string("".join(pieces), spot, partial)


def _width(ev: Evaluates, spec: str, text: str, spot: Spot) -> str:
    m = re.match(r"%([-+ #0]*)(\d*)", spec)
    width = int(m.group(2)) if m and m.group(2) and len(m.group(2)) < 10 else 0 if not (m and m.group(2)) else MAX_STRING + 1
    ev.budget.text(width, spot.line)  # the padded piece, before it is built
    return text.ljust(width) if m and "-" in m.group(1) else text.rjust(width)


def _formatlist(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
    if not args or not isinstance(args[0].value, str) or any(isinstance(a, Unknown) for a in args):
        return None
    lists = [a.value for a in args[1:] if isinstance(a.value, list)]
    n = max((len(x) for x in lists), default=1)
    if any(len(x) != n for x in lists):
        raise ValueError("lists of different lengths")
    ev.budget.items(n, spot.line)
    out = []
    for i in range(n):
        row = [a.value[i] if isinstance(a.value, list) else a for a in args[1:]]
        made = _format(ev, [args[0], *row], ctx, spot)
        if made is None:
            return None
        out.append(made)
    return V(out, spot)


def _join(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
    if len(args) < 2 or not isinstance(args[0].value, str) or is_unknown(args[0]):
        return None
    items: list[V] = []
    for a in args[1:]:
        if not isinstance(a.value, list) or isinstance(a, Unknown):
            return None
        items.extend(a.value)
    texts = [ev.as_text(i, ctx) for i in items]
    ev.budget.text(sum(len(t) for t, _ in texts) + len(args[0].value) * max(len(texts) - 1, 0), spot.line)
    return ev.string(args[0].value.join(t for t, _ in texts), spot, any(u for _, u in texts))


def _replace(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
    texts = _strings(args)
    if texts is None or len(texts) != 3 or any(is_unknown(a) for a in args):
        return None
    text, old, new = texts
    if len(old) > 1 and old.startswith("/") and old.endswith("/"):
        return None  # a regular expression: not evaluated
    count = len(text) + 1 if old == "" else text.count(old)
    ev.budget.text(len(text) + count * (len(new) - len(old)), spot.line)  # the result's length, before it is built
    return ev.string(text.replace(old, new), spot)


def _split(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
    texts = _strings(args)
    if texts is None or len(texts) != 2 or any(is_unknown(a) for a in args):
        return None
    sep, text = texts
    pieces = list(text) if sep == "" else text.split(sep)
    ev.budget.items(len(pieces), spot.line)
    return V([V(p, spot) for p in pieces], spot)


def _substr(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
    if len(args) != 3 or any(is_unknown(a) for a in args) or not isinstance(args[0].value, str):
        return None
    text, offset, length = args[0].value, number(args[1]), number(args[2])
    if offset is None or length is None:
        raise ValueError("offset and length must be numbers")
    start = int(offset) if offset >= 0 else max(len(text) + int(offset), 0)
    end = len(text) if length == -1 else start + int(length)
    return ev.string(text[start:end], spot)


def _trim(chars_of):
    def run(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
        texts = _strings(args)
        if texts is None or len(texts) != 2 or any(is_unknown(a) for a in args):
            return None
        return ev.string(chars_of(*texts), spot)

    return run


# --- collections ------------------------------------------------------------------------------------

def _lists(args: list[V]) -> list[list[V]] | None:
    if any(isinstance(a, Unknown) or not isinstance(a.value, list) for a in args):
        return None
    return [a.value for a in args]  # type: ignore[misc]


def _concat(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
    lists = _lists(args)
    if lists is None:
        return None
    ev.budget.items(sum(len(x) for x in lists), spot.line)
    return V([item for x in lists for item in x], spot)


def _flatten(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
    if len(args) != 1 or isinstance(args[0], Unknown) or not isinstance(args[0].value, list):
        return None
    out: list[V] = []

    def walk(items: list[V], depth: int) -> bool:
        ev.budget.depth(depth, spot.line)
        for item in items:
            if isinstance(item, Unknown):
                return False
            if isinstance(item.value, list):
                if not walk(item.value, depth + 1):
                    return False
            else:
                out.append(item)
        ev.budget.items(len(items), spot.line)
        return True

    return V(out, spot) if walk(args[0].value, ctx.depth) else None


def _distinct(items: list[V]) -> list[V]:
    seen: dict[str, V] = {}
    for item in items:
        seen.setdefault(json.dumps(plain(item), sort_keys=True), item)
    return list(seen.values())


def _set_of(items: list[V], spot: Spot) -> SetV:
    items = _distinct(items)
    if all(isinstance(i.value, str) for i in items):
        items.sort(key=lambda i: str(i.value))
    return SetV(items, spot)


def _collection(kind: str):
    def run(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
        if len(args) != 1 or isinstance(args[0], Unknown):
            return None
        value = args[0]
        if kind == "tomap":
            return value if isinstance(value.value, dict) else None
        if not isinstance(value.value, list):
            return None
        items = list(value.value)
        ev.budget.items(len(items), spot.line)
        if kind == "toset":
            return _set_of(items, spot)
        if kind == "distinct":
            return V(_distinct(items), spot)
        if kind == "compact":
            return V([i for i in items if i.value not in ("", None)], spot)
        if kind == "reverse":
            return V(items[::-1], spot)
        if kind == "sort":
            if any(not isinstance(i.value, str) or is_unknown(i) for i in items):
                return None
            return V(sorted(items, key=lambda i: str(i.value)), spot)
        return V(items, spot)  # tolist

    return run


def _set_op(kind: str):
    def run(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
        lists = _lists(args)
        if lists is None or not lists:
            return None
        ev.budget.items(sum(len(x) for x in lists), spot.line)
        keyed = [{json.dumps(plain(i), sort_keys=True): i for i in x} for x in lists]
        result = dict(keyed[0])
        for other in keyed[1:]:
            if kind == "union":
                result.update(other)
            elif kind == "intersection":
                result = {k: v for k, v in result.items() if k in other}
            else:
                result = {k: v for k, v in result.items() if k not in other}
        return _set_of(list(result.values()), spot)

    return run


def _setproduct(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
    lists = _lists(args)
    if lists is None or not lists:
        return None
    total = math.prod(len(x) for x in lists)
    ev.budget.items(total * (len(lists) + 1), spot.line)  # counted before any is built
    rows: list[list[V]] = [[]]
    for items in lists:
        rows = [[*row, item] for row in rows for item in items]
    return V([V(row, spot) for row in rows], spot)


def _range(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
    numbers = [number(a) for a in args]
    if not 1 <= len(numbers) <= 3 or any(n is None or is_unknown(a) for n, a in zip(numbers, args, strict=True)):
        return None
    start, limit, step = (0, numbers[0], 1) if len(numbers) == 1 else (numbers[0], numbers[1], numbers[2] if len(numbers) == 3 else 1)
    assert start is not None and limit is not None and step is not None
    if step == 0:
        raise ValueError("step may not be zero")
    count = max(0, math.ceil((limit - start) / step))
    ev.budget.items(count, spot.line)  # counted before any is built
    return V([V(start + i * step, spot) for i in range(count)], spot)


def _length(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
    if len(args) != 1 or isinstance(args[0], Unknown):
        return None
    value = args[0]
    if isinstance(value.value, (list, dict)):
        return V(len(value.value), spot)
    if isinstance(value.value, str) and not is_unknown(value):
        return V(len(value.value), spot)
    return None


def _keys_values(kind: str):
    def run(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
        if len(args) != 1 or isinstance(args[0], Unknown) or not isinstance(args[0].value, dict):
            return None
        mapping = args[0].value
        ev.budget.items(len(mapping), spot.line)
        if kind == "keys":
            return V([V(k, mapping[k].spot) for k in sorted(mapping)], spot)
        return V([mapping[k] for k in sorted(mapping)], spot)

    return run


def _merge(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
    if any(isinstance(a, Unknown) or (a.value is not None and not isinstance(a.value, dict)) for a in args):
        return None
    merged: dict[str, V] = {}
    for a in args:
        if isinstance(a.value, dict):
            merged.update(a.value)
    ev.budget.items(len(merged), spot.line)
    return V(merged, spot)


def _lookup(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
    if len(args) not in (2, 3) or isinstance(args[0], Unknown) or not isinstance(args[0].value, dict) or is_unknown(args[1]):
        return None
    key = _strings([args[1]])
    if key is None:
        return None
    if key[0] in args[0].value:
        return args[0].value[key[0]]
    if len(args) == 3:
        return args[2]
    raise KeyError(f"no key {key[0]!r}")


def _element(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
    if len(args) != 2 or isinstance(args[0], Unknown) or not isinstance(args[0].value, list) or is_unknown(args[1]):
        return None
    index = number(args[1])
    if index is None or not args[0].value:
        raise ValueError("an index into an empty list, or not a number")
    return args[0].value[int(index) % len(args[0].value)]


def _contains(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
    if len(args) != 2 or isinstance(args[0], Unknown) or not isinstance(args[0].value, list) or is_unknown(args[1]):
        return None
    wanted = json.dumps(plain(args[1]), sort_keys=True)
    if any(json.dumps(plain(i), sort_keys=True) == wanted for i in args[0].value):
        return V(True, spot)
    return None if any(is_unknown(i) for i in args[0].value) else V(False, spot)


def _coalesce(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
    for a in args:
        if is_unknown(a):
            return None
        if a.value is not None and a.value != "":
            return a
    raise ValueError("no non-null, non-empty argument")


def _coalescelist(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
    for a in args:
        if isinstance(a, Unknown) or not isinstance(a.value, list):
            return None
        if a.value:
            return a
    raise ValueError("no non-empty list")


def _zipmap(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
    lists = _lists(args)
    if lists is None or len(lists) != 2 or len(lists[0]) != len(lists[1]):
        return None
    keys = _strings(lists[0])
    if keys is None or any(is_unknown(k) for k in lists[0]):
        return None
    ev.budget.items(len(keys), spot.line)
    return V(dict(zip(keys, lists[1], strict=True)), spot)


def _slice(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
    if len(args) != 3 or isinstance(args[0], Unknown) or not isinstance(args[0].value, list):
        return None
    start, end = number(args[1]), number(args[2])
    if start is None or end is None or not 0 <= start <= end <= len(args[0].value):
        raise ValueError("indexes out of range")
    return V(args[0].value[int(start):int(end)], spot)


def _one(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
    if len(args) != 1 or isinstance(args[0], Unknown) or not isinstance(args[0].value, list):
        return None
    if len(args[0].value) > 1:
        raise ValueError("more than one element")
    return args[0].value[0] if args[0].value else V(None, spot)


def _chunklist(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
    if len(args) != 2 or isinstance(args[0], Unknown) or not isinstance(args[0].value, list):
        return None
    size = number(args[1])
    if size is None or size < 0:
        raise ValueError("a chunk size of 0 or more")
    items = args[0].value
    if size == 0:
        return V([V(items, spot)], spot)
    ev.budget.items(len(items), spot.line)
    return V([V(items[i:i + int(size)], spot) for i in range(0, len(items), int(size))], spot)


def _all_any(kind: str):
    def run(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
        if len(args) != 1 or isinstance(args[0], Unknown) or not isinstance(args[0].value, list):
            return None
        values = [i.value if not is_unknown(i) else None for i in args[0].value]
        if any(v is None for v in values):
            return None
        return V(all(v is True for v in values) if kind == "all" else any(v is True for v in values), spot)

    return run


def _numbers(fn, listed: bool = False):
    def run(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
        if listed:  # sum() takes one list
            if len(args) != 1 or isinstance(args[0], Unknown) or not isinstance(args[0].value, list):
                return None
            args = args[0].value
        values = [number(a) for a in args]
        if not values or any(v is None or is_unknown(a) for v, a in zip(values, args, strict=True)):
            return None
        return V(fn(values), spot)

    return run


# --- encodings --------------------------------------------------------------------------------------

def _jsonencode(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
    if len(args) != 1:
        return None
    text = json.dumps(plain(args[0]))
    ev.budget.text(len(text), spot.line)
    return Doc(text, spot, args[0])


def _jsondecode(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
    if len(args) != 1 or not isinstance(args[0].value, str) or is_unknown(args[0]):
        return None

    return json_tree(ev, args[0].value, args[0], ctx.un)


def _tostring(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
    if len(args) != 1:
        return None
    value = args[0]
    if isinstance(value, (Unknown, Partial)) or isinstance(value.value, str) or value.value is None:
        return value
    texts = _strings([value])
    if texts is None:
        raise TypeError("a list or object where a string is needed")
    return V(texts[0], spot)


def _tonumber(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
    if len(args) != 1 or is_unknown(args[0]):
        return None
    n = number(args[0])
    if n is None and args[0].value is not None:
        raise ValueError("not a number")
    return V(n, spot)


def _tobool(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
    if len(args) != 1 or is_unknown(args[0]):
        return None
    raw = args[0].value
    if raw in (True, False, None) or raw in ("true", "false"):
        return V(raw if not isinstance(raw, str) else raw == "true", spot)
    raise ValueError("not a bool")


def _base64encode(ev: Evaluates, args: list[V], ctx: Ctx, spot: Spot) -> V | None:
    texts = _strings(args)
    if texts is None or len(texts) != 1 or is_unknown(args[0]):
        return None
    ev.budget.text(len(texts[0]) * 4 // 3 + 4, spot.line)
    return ev.string(base64.b64encode(texts[0].encode()).decode(), spot)


FUNCTIONS = {
    "format": _format, "formatlist": _formatlist, "join": _join, "replace": _replace, "split": _split,
    "substr": _substr,
    "lower": _text_fn(str.lower), "upper": _text_fn(str.upper), "title": _text_fn(str.title),
    "trimspace": _text_fn(str.strip), "chomp": _text_fn(lambda s: s.rstrip("\r\n")),
    "strrev": _text_fn(lambda s: s[::-1]), "startswith": _text_fn(str.startswith), "endswith": _text_fn(str.endswith),
    "strcontains": _text_fn(lambda s, sub: sub in s),
    "basename": _text_fn(lambda s: s.rstrip("/").rsplit("/", 1)[-1]), "dirname": _text_fn(lambda s: os.path.dirname(s) or "."),
    "trim": _trim(lambda s, chars: s.strip(chars)), "trimprefix": _trim(lambda s, p: s[len(p):] if p and s.startswith(p) else s),
    "trimsuffix": _trim(lambda s, p: s[: len(s) - len(p)] if p and s.endswith(p) else s),
    "concat": _concat, "flatten": _flatten, "distinct": _collection("distinct"), "toset": _collection("toset"),
    "tolist": _collection("tolist"), "tomap": _collection("tomap"), "compact": _collection("compact"),
    "reverse": _collection("reverse"), "sort": _collection("sort"),
    "setunion": _set_op("union"), "setintersection": _set_op("intersection"), "setsubtract": _set_op("subtract"),
    "setproduct": _setproduct, "range": _range, "length": _length, "keys": _keys_values("keys"),
    "values": _keys_values("values"), "merge": _merge, "lookup": _lookup, "element": _element, "contains": _contains,
    "coalesce": _coalesce, "coalescelist": _coalescelist, "zipmap": _zipmap, "slice": _slice, "one": _one,
    "chunklist": _chunklist, "alltrue": _all_any("all"), "anytrue": _all_any("any"),
    "min": _numbers(min), "max": _numbers(max), "sum": _numbers(sum, listed=True), "abs": _numbers(lambda v: abs(v[0])),
    "ceil": _numbers(lambda v: math.ceil(v[0])), "floor": _numbers(lambda v: math.floor(v[0])),
    "jsonencode": _jsonencode, "jsondecode": _jsondecode, "tostring": _tostring, "tonumber": _tonumber, "tobool": _tobool,
    "base64encode": _base64encode,
}

__all__ = ["FUNCTIONS", "call", "json_value"]
