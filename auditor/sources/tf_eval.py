"""Terraform expressions, evaluated as Terraform would at plan time where the configuration alone decides
them: literals, templates (tf_template.py), tuples and objects, operators, `a ? b : c`, `for`
expressions, splats, function calls (tf_functions.py) and references. References (`var.`, `local.`,
`each.`, `count.`, `path.`, iterator and `for` names here; resources, data sources and modules in
tf_refs.py) are followed through the configuration's module instances.

What the configuration does not decide (a variable with no value, an attribute known only after apply)
becomes an `Unknown` whose text is a named placeholder recorded, with the reason, in the Unresolved of
the policy being built (see iac.py); an operation on an undecided value is undecided too. Every value
built is charged to the configuration's Budget (tf_values.py).
"""

from __future__ import annotations

import json
from dataclasses import replace

from auditor.model import Spot
from auditor.model import pointer as make_pointer
from auditor.sources import tf_functions, tf_operators, tf_refs, tf_template
from auditor.sources.iac import V
from auditor.sources.tf_context import Ctx, children_of, line_of, plain_value, trees_of
from auditor.sources.tf_load import Block
from auditor.sources.tf_values import (
    MAX_STRING,
    Budget,
    HclError,
    Lazy,
    Partial,
    SetV,
    Text,
    Unknown,
    is_unknown,
    number_text,
    type_name,
)


def boolean(value: V) -> bool | None:
    return tf_operators.boolean(value)


class Evaluator:
    """Evaluates one configuration's expressions (`config`: tf_refs.Config)."""

    def __init__(self, config) -> None:
        self.config = config
        self.budget: Budget = config.budget

    # --- entry points ---

    def attr(self, block: Block, name: str, ctx: Ctx) -> V | None:
        """Attribute `name` of `block`, evaluated in `ctx` (its path and pointer set to the attribute's)."""
        expr = block.attrs.get(name)
        if expr is None:
            return None
        here = replace(ctx, path=block.path, at=f"{block.pointer}/{make_pointer(name)[1:]}",
                       text=self.config.texts.get(block.path))
        return self.eval(expr, here)

    def eval(self, node, ctx: Ctx) -> V:
        from lark import Token

        line = line_of(node)
        self.budget.step(line)
        self.budget.depth(ctx.depth, line)
        spot = Spot(ctx.path, ctx.at, line)
        if isinstance(node, Token):
            return V(str(node), spot)
        kind = node.data
        kids = children_of(node)
        inner = ctx.deeper()
        if kind == "expr_term":
            trees = [c for c in kids if not isinstance(c, Token)]
            return self.eval(trees[0], inner) if trees else V(None, spot)
        if kind == "string":
            return self.template(tf_template.build(tf_template.from_string(kids[1:-1], ctx.text)), ctx, spot)
        if kind in ("heredoc_template", "heredoc_template_trim"):
            return self._heredoc(str(kids[0]), kind.endswith("trim"), ctx, spot)
        if kind == "int_lit":
            return V(int(str(kids[0])), spot)
        if kind == "float_lit":
            return V(float(str(kids[0])), spot)
        if kind == "literal_value":
            return V({"true": True, "false": False}.get(str(kids[0])), spot)
        if kind == "tuple":
            items = [c for c in kids if not isinstance(c, Token)]
            self.budget.items(len(items), line)
            return V([self.eval(c, inner.to(f"{ctx.at}/{i}")) for i, c in enumerate(items)], spot)
        if kind == "object":
            return self._object(kids, inner, spot)
        if kind == "function_call":
            return tf_functions.call(self, node, kids, inner, spot)
        if kind == "conditional":
            return self._conditional(node, trees_of(node), inner, spot)
        if kind in ("binary_op", "unary_op"):
            return tf_operators.operation(self, node, inner, spot)
        if kind in ("for_tuple_expr", "for_object_expr"):
            return self._for(node, kind == "for_object_expr", inner, spot)
        if kind in ("identifier", "get_attr_expr_term", "index_expr_term", "attr_splat_expr_term", "full_splat_expr_term"):
            return tf_refs.traversal(self, node, inner, spot)
        if kind == "template_string":
            return self.unknown(node, ctx, "an escaped template string this reader does not evaluate", spot)
        return self.unknown(node, ctx, "an expression this reader does not evaluate", spot)

    # --- undecided values ---

    def source_text(self, node, ctx: Ctx) -> str:
        """The expression's text as written, on one line, for the placeholder that names it: double quotes
        become single ones and backslashes go, so that the placeholder can stand in JSON text as it is."""
        meta = getattr(node, "meta", None)
        if ctx.text is None or meta is None or meta.empty:
            return "expression"
        text = " ".join(ctx.text[meta.start_pos:meta.end_pos].split())
        return text.replace('"', "'").replace("\\", "") or "expression"

    def unknown(self, node, ctx: Ctx, why: str, spot: Spot | None = None, error: bool = False) -> Unknown:
        """An undecided value named after the expression `node`, with the reason."""
        text = self.source_text(node, ctx)
        return Unknown(ctx.un.add(text, f"{text}: {why}"), spot or Spot(ctx.path, ctx.at, line_of(node)), error)

    def named_unknown(self, name: str, why: str, ctx: Ctx, spot: Spot, error: bool = False) -> Unknown:
        return Unknown(ctx.un.add(name, why), spot, error)

    # --- strings ---

    def as_text(self, value: V, ctx: Ctx, node=None) -> tuple[str, bool]:
        """A value interpolated into a string as Terraform converts it (bool and number to text), and
        whether it is undecided; a null, a list or an object there is an error (undecided)."""
        if isinstance(value, (Unknown, Partial)):
            return str(value.value), True
        raw = value.value
        if isinstance(raw, str) and not isinstance(value, Lazy):
            return raw, False
        if isinstance(raw, bool):
            return ("true" if raw else "false"), False
        if isinstance(raw, (int, float)):
            return number_text(raw), False
        why = "a null value in a string template" if raw is None else f"a {type_name(value)} where a string is needed"
        if node is not None:
            return self.unknown(node, ctx, why, error=True).value, True
        return ctx.un.add("non-string value", why), True

    def string(self, text: str, spot: Spot, partial: bool = False) -> V:
        """A string the evaluator builds (charged to the budget)."""
        self.budget.text(len(text), spot.line)
        return Partial(text, spot) if partial else V(text, spot)

    def parsed_template(self, text: str, first_line: int | None) -> object:
        """The template tree of a heredoc body or a template file (tf_template.Node), parsed once per text:
        a template evaluated for every instance of a count is not parsed again for each. HclError if it is
        not a template."""
        key = (text, first_line)
        cache = self.config.templates
        if key not in cache:
            try:
                cache[key] = tf_template.build(tf_template.from_text(text, first_line))
            except HclError as exc:
                cache[key] = exc
        found = cache[key]
        if isinstance(found, HclError):
            raise found
        return found

    def template(self, tree, ctx: Ctx, spot: Spot, first_line: int | None = None) -> V:
        """A template's value (`tree`: a tf_template.Node): a string, or the value of its one interpolation."""
        if len(tree.items) == 1 and not isinstance(tree.items[0], str) and tree.items[0].kind == "interp":
            only = tree.items[0]
            return self.eval(only.node, replace(ctx, text=only.text).deeper())  # "${local.list}" is the list itself
        pieces: list[str] = []
        state = {"partial": False, "lines": first_line is not None, "size": 0}
        self._render(tree.items, ctx, pieces, state)
        text = "".join(pieces)
        lines = first_line if state["lines"] else None  # a directive or a multi-line value: lines are not the file's
        if state["partial"]:
            return Partial(text, spot, lines)
        return Text(text, spot, lines) if first_line is not None else V(text, spot)

    def _render(self, items: list, ctx: Ctx, out: list[str], state: dict) -> None:
        for item in items:
            if isinstance(item, str):
                self._piece(item, out, state, ctx)
                continue
            here = replace(ctx, text=item.text).deeper() if item.text is not None else ctx.deeper()
            if item.kind == "interp":
                value = self.eval(item.node, here)
                text, undecided = self.as_text(value, here, item.node)
                state["partial"] |= undecided
                state["lines"] &= "\n" not in text
                self._piece(text, out, state, ctx)
            elif item.kind == "if":
                state["lines"] = False
                cond = boolean(self.eval(item.node, here))
                if cond is not None:
                    self._render(item.items if cond else (item.other or []), ctx, out, state)
                else:
                    state["partial"] = True
                    self._piece(self.unknown(item.node, here, "a %{if} condition the configuration does not decide").value,
                                out, state, ctx)
            elif item.kind == "for":
                state["lines"] = False
                coll = self.eval(item.node, here)
                pairs = self.iterate(coll)
                if pairs is None:
                    state["partial"] = True
                    self._piece(self.unknown(item.node, here, "a %{for} over a collection the configuration does not "
                                                         "decide").value, out, state, ctx)
                    continue
                for key, value in pairs:
                    self.budget.step(item.line)
                    names = {item.names[-1]: value} if len(item.names) == 1 else {item.names[0]: key, item.names[1]: value}
                    self._render(item.items, ctx.bind(names), out, state)

    def _piece(self, text: str, out: list[str], state: dict, ctx: Ctx) -> None:
        """Append a piece of a template's result, charged as it is made (a loop's repeats each count)."""
        state["size"] += len(text)
        self.budget.text(len(text))
        if state["size"] > MAX_STRING:
            self.budget.text(state["size"])  # raises: one string past the string budget
        out.append(text)

    def _heredoc(self, raw: str, trim: bool, ctx: Ctx, spot: Spot) -> V:
        body = raw.split("\n", 1)[1] if "\n" in raw else ""
        lines = body.rstrip("\n").split("\n")[:-1]  # the last line is the closing marker
        if trim:
            indents = [len(x) - len(x.lstrip(" \t")) for x in lines if x.strip()]
            cut = min(indents) if indents else 0
            lines = [x[cut:] for x in lines]
        text = "\n".join(lines) + ("\n" if lines else "")
        first = (spot.line or 0) + 1
        try:
            tree = self.parsed_template(text, first)
        except HclError as exc:
            return self.named_unknown("heredoc", f"a heredoc that is not a valid template: {exc}", ctx, spot, error=True)
        return self.template(tree, ctx, spot, first)

    # --- collections ---

    def _object(self, kids: list, ctx: Ctx, spot: Spot) -> V:
        from lark import Tree

        out: dict[str, V] = {}
        elems = [c for c in kids if isinstance(c, Tree) and c.data == "object_elem"]
        self.budget.items(len(elems), spot.line)
        for elem in elems:
            key = self._key(elem.children[0], ctx)
            if key is None:
                return self.unknown(elem.children[0], ctx, "an object key the configuration does not decide", spot)
            out[key] = self.eval(elem.children[-1], ctx.to(f"{ctx.at}/{make_pointer(key)[1:]}"))
        return V(out, spot)

    def _key(self, key_node, ctx: Ctx) -> str | None:
        from lark import Token, Tree

        inner = key_node.children[0] if isinstance(key_node, Tree) and key_node.data == "object_elem_key" else key_node
        while isinstance(inner, Tree) and inner.data == "expr_term" and len(inner.children) == 1:
            inner = inner.children[0]
        if isinstance(inner, Tree) and inner.data in ("identifier", "keyword"):
            return str(inner.children[0])
        if isinstance(inner, Token):
            return str(inner)
        value = self.eval(inner, ctx)
        if is_unknown(value):
            return None
        text, undecided = self.as_text(value, ctx)
        return None if undecided else text

    def iterate(self, coll: V) -> list[tuple[V, V]] | None:
        """(key, value) pairs of a collection as Terraform iterates it: a list by index, a set by element
        (key and value alike), a map or object by key in lexical order; None when it is undecided (or
        not a collection)."""
        if isinstance(coll, Unknown):
            return None
        value = coll.value
        if isinstance(coll, SetV) and isinstance(value, list):
            return [(item, item) for item in value]
        if isinstance(value, list):
            return [(V(i, item.spot), item) for i, item in enumerate(value)]
        if isinstance(value, dict):
            return [(V(k, value[k].spot), value[k]) for k in sorted(value)]
        return None

    def _for(self, node, is_object: bool, ctx: Ctx, spot: Spot) -> V:
        from lark import Token, Tree

        kids = children_of(node)
        intro = next(c for c in kids if isinstance(c, Tree) and c.data == "for_intro")
        names = [str(c.children[0]) for c in intro.children if isinstance(c, Tree) and c.data == "identifier"]
        coll_node = [c for c in trees_of(intro) if c.data != "identifier"][-1]
        rest = [c for c in kids if isinstance(c, Tree) and c.data != "for_intro"]
        cond_node = next((c for c in rest if c.data == "for_cond"), None)
        exprs = [c for c in rest if c.data != "for_cond"]
        grouping = any(isinstance(c, Token) and c.type == "ELLIPSIS" for c in kids)
        pairs = self.iterate(self.eval(coll_node, ctx))
        if pairs is None:
            return self.unknown(node, ctx, "a for expression over a collection the configuration does not decide", spot)
        self.budget.items(len(pairs), spot.line)
        items: list[V] = []
        mapping: dict[str, V] = {}
        for key, value in pairs:
            bound = ctx.bind({names[-1]: value} if len(names) == 1 else {names[0]: key, names[1]: value})
            if cond_node is not None:
                keep = boolean(self.eval(trees_of(cond_node)[-1], bound))
                if keep is None:
                    return self.unknown(node, ctx, "a for expression whose if the configuration does not decide", spot)
                if not keep:
                    continue
            if not is_object:
                items.append(self.eval(exprs[0], bound.to(f"{ctx.at}/{len(items)}")))
                continue
            key_v = self.eval(exprs[0], bound)
            text, undecided = self.as_text(key_v, bound, exprs[0])
            if undecided:
                return self.unknown(node, ctx, "a for expression whose keys the configuration does not decide", spot)
            value_v = self.eval(exprs[1], bound.to(f"{ctx.at}/{make_pointer(text)[1:]}"))
            if grouping:
                group = mapping.setdefault(text, V([], value_v.spot)).value
                assert isinstance(group, list)
                group.append(value_v)
            elif text in mapping:
                return self.unknown(node, ctx, f"duplicate key {text!r} in a for expression (Terraform rejects it)",
                                    spot, error=True)
            else:
                mapping[text] = value_v
        return V(mapping, spot) if is_object else V(items, spot)

    def _conditional(self, node, trees: list, ctx: Ctx, spot: Spot) -> V:
        cond = boolean(self.eval(trees[0], ctx))
        if cond is not None:
            return self.eval(trees[1] if cond else trees[2], ctx)
        return self.unknown(node, ctx, "a condition the configuration does not decide", spot)

    # --- values for messages and keys ---

    def key_text(self, value: V) -> str:
        return json.dumps(plain_value(value), sort_keys=True)
