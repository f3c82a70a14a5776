"""Terraform configuration (.tf): IAM groups, users and roles with the policies attached to them in the
same module, and the policy documents themselves.

HCL is parsed by python-hcl2's grammar (Lark, imported only here), whose tree keeps every element's
line. The expressions a policy is written with are evaluated here, as Terraform would at plan time,
where the configuration alone decides them:

- literals, strings with `${...}` interpolation (`$${aws:username}` is the literal `${aws:username}`),
  heredocs, tuples, objects, `a ? b : c` with a decided condition;
- `var.x` from terraform.tfvars and *.auto.tfvars of the module's directory, else the variable's default;
  `local.x`; `data.aws_caller_identity.*.account_id`, `data.aws_region.*.name`,
  `data.aws_partition.*.partition` (--account/--region when given, else `*`, the account and region
  Terraform runs in);
- `jsonencode`, `jsondecode`, `file`, `templatefile`, `format`, `join`, `concat`, `flatten`, `distinct`,
  `compact`, `tolist`, `toset`, `lower`, `upper`, `trimspace`, `replace` (plain text), `merge`;
- `data "aws_iam_policy_document"` rendered as the AWS provider renders it: statements in order,
  Action/Resource lists de-duplicated and sorted (one entry becomes a string), `&{...}` for `${...}`,
  `source_policy_documents` merged first, then the document's own statements, then
  `override_policy_documents` (a statement with the Sid of an earlier one replaces it in place).

Anything else (a resource attribute known after apply, a variable without a value, a reference loop)
stays a named placeholder, such as `${var.prefix}` (see iac.py). The module's other .tf files are read
for variables, locals and the principals' other policies; findings point into the file each element is
written in.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from auditor.model import Assumption, Location
from auditor.model import pointer as make_pointer
from auditor.sources.iac import (
    IacFile,
    IacPrincipal,
    MappedOrigin,
    Spot,
    Unresolved,
    V,
    plain,
    policy_from_text,
    policy_from_value,
    unreadable,
)

MAX_TF_BYTES = 256 * 1024  # the HCL parser (pure Python) reads 25-70 KB, some 5,000 lines, a second here:
MAX_TF_LINES = 10_000  # a larger file is refused (an `invalid` finding) rather than parsed for minutes
MAX_MODULE_BYTES = 512 * 1024  # the module's other .tf and .tfvars files read for context, all together
MAX_MODULE_LINES = 20_000
MAX_STEPS = 200_000  # expressions evaluated for one module: bounds any configuration
MAX_DEPTH = 100  # expressions nested in expressions (a chain of locals is bounded by the recursion limit)
MAX_STRING = 64 * 1024  # a string built by interpolation: locals that double a string cannot grow it without end
# Terraform's lower(), upper() and trimspace()
CASE_FUNCTIONS: dict[str, Callable[[str], str]] = {"lower": str.lower, "upper": str.upper, "trimspace": str.strip}
PRINCIPALS = {"aws_iam_group": "group", "aws_iam_user": "user", "aws_iam_role": "role"}
INLINE = {"aws_iam_group_policy": "group", "aws_iam_user_policy": "user", "aws_iam_role_policy": "role"}
ATTACH = {"aws_iam_group_policy_attachment": "group", "aws_iam_user_policy_attachment": "user",
          "aws_iam_role_policy_attachment": "role"}
_CONTEXT = re.compile(r'^\s*(variable|locals|data|resource\s+"aws_iam_)', re.M)


class HclError(Exception):
    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class Doc(V):
    """A JSON string whose document is known element by element (jsonencode, a policy document)."""

    __slots__ = ("doc",)
    value: str  # the JSON text (a V's value is any of its kinds; a Doc's is always text)

    def __init__(self, value: str, spot: Spot, doc: V) -> None:
        super().__init__(value, spot)
        self.doc = doc


class Text(V):
    """A string written as text whose lines are the file's (a heredoc, a file() read)."""

    __slots__ = ("first_line",)

    def __init__(self, value: str, spot: Spot, first_line: int) -> None:
        super().__init__(value, spot)
        self.first_line = first_line


# --- parsing ----------------------------------------------------------------------------------

def _parse(text: str):
    import hcl2.api
    from lark.exceptions import LarkError, UnexpectedInput

    try:
        return hcl2.api.parses_to_tree(text)
    except UnexpectedInput as exc:
        line = getattr(exc, "line", None)
        what = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise HclError(f"not valid HCL: {what}", line if isinstance(line, int) and line > 0 else None) from exc
    except (LarkError, RecursionError) as exc:
        raise HclError(f"not valid HCL: {type(exc).__name__}") from exc


def _name_of(node) -> str:
    """An attribute name, block type or block label (identifier, keyword or string)."""
    from lark import Token

    if isinstance(node, Token):
        return str(node)
    if node.data == "string":
        return "".join(str(part.children[0]) for part in node.children[1:-1] if hasattr(part, "children"))
    return str(node.children[0])


@dataclass
class Block:
    type: str
    labels: tuple[str, ...]
    path: str
    pointer: str
    line: int
    attrs: dict[str, object]  # name → expression tree
    attr_lines: dict[str, int]
    blocks: list[Block]


def _body(body, path: str, at: str) -> tuple[dict, dict, list[Block]]:
    from lark import Tree

    attrs: dict[str, object] = {}
    lines: dict[str, int] = {}
    blocks: list[Block] = []
    counts: dict[str, int] = {}
    for child in body.children:
        if not isinstance(child, Tree):
            continue
        if child.data == "attribute":
            name = _name_of(child.children[0])
            attrs.setdefault(name, child.children[-1])
            lines.setdefault(name, child.meta.line)
        elif child.data == "block":
            parts = [c for c in child.children if isinstance(c, Tree) and c.data in ("identifier", "keyword", "string", "literal_value")]
            kind, labels = _name_of(parts[0]), tuple(_name_of(p) for p in parts[1:])
            inner = next(c for c in child.children if isinstance(c, Tree) and c.data == "body")
            if labels:
                ptr = at + "".join("/" + make_pointer(x)[1:] for x in (kind, *labels))
            else:  # repeated nested blocks (statement, condition) are numbered
                index = counts.get(kind, 0)
                counts[kind] = index + 1
                ptr = f"{at}/{make_pointer(kind)[1:]}/{index}"
            sub_attrs, sub_lines, sub_blocks = _body(inner, path, ptr)
            blocks.append(Block(kind, labels, path, ptr, child.meta.line, sub_attrs, sub_lines, sub_blocks))
    return attrs, lines, blocks


# --- the module -------------------------------------------------------------------------------

@dataclass
class Module:
    directory: str
    region: str | None
    account: str | None
    blocks: list[Block] = field(default_factory=list)
    tfvars: dict[str, tuple[object, str, int]] = field(default_factory=dict)  # name → (expr, path, line)
    skipped: list[str] = field(default_factory=list)
    steps: int = 0
    memo: dict = field(default_factory=dict)
    busy: set = field(default_factory=set)

    def find(self, kind: str, *labels: str) -> Block | None:
        for block in self.blocks:
            if block.type == kind and block.labels[: len(labels)] == labels:
                return block
        return None

    def of_type(self, kind: str, first: str | None = None) -> list[Block]:
        return [b for b in self.blocks if b.type == kind and (first is None or (b.labels and b.labels[0] == first))]


def load_module(path: str, text: str, region: str | None, account: str | None, memo: dict | None = None) -> Module:
    """The module `path` belongs to: `text` parsed (HclError if it cannot be), the directory's other
    .tf files that declare variables, locals, data sources or IAM resources, and its tfvars."""
    directory = os.path.dirname(os.path.abspath(path))
    key = (directory, region, account)
    module = memo.get(key) if memo is not None else None
    if module is None:
        module = Module(directory, region, account)
        if memo is not None:
            memo[key] = module
    if any(b.path == path for b in module.blocks):
        return module
    tree = _parse(text)
    _, _, blocks = _body(tree.children[0], path, "")
    module.blocks.extend(blocks)
    if not module.memo.get("siblings"):
        module.memo["siblings"] = True
        _siblings(module, path)
    return module


def _siblings(module: Module, given: str) -> None:
    budget, lines_left = MAX_MODULE_BYTES, MAX_MODULE_LINES
    try:
        names = sorted(os.listdir(module.directory))
    except OSError:
        return
    base = os.path.dirname(given)
    given_abs = os.path.abspath(given)
    for name in names:
        full = os.path.join(module.directory, name)
        if full == given_abs or not (name.endswith(".tf") or name == "terraform.tfvars" or name.endswith(".auto.tfvars")):
            continue
        shown = os.path.join(base, name) if base else name
        try:
            size = os.path.getsize(full)
            if size > MAX_TF_BYTES or size > budget:
                module.skipped.append(f"{shown} (too large)")
                continue
            with open(full, encoding="utf-8-sig") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError):
            module.skipped.append(f"{shown} (unreadable)")
            continue
        if name.endswith(".tf") and not _CONTEXT.search(text):
            continue
        lines = text.count("\n")
        if lines > MAX_TF_LINES or lines > lines_left:
            module.skipped.append(f"{shown} (too large)")
            continue
        budget -= size
        lines_left -= lines
        try:
            tree = _parse(text)
        except HclError:
            module.skipped.append(f"{shown} (not valid HCL)")
            continue
        attrs, attr_lines, blocks = _body(tree.children[0], shown, "")
        if name.endswith(".tfvars"):
            for attr, expr in attrs.items():
                if name != "terraform.tfvars" or attr not in module.tfvars:  # *.auto.tfvars win over terraform.tfvars
                    module.tfvars[attr] = (expr, shown, attr_lines[attr])
        else:
            module.blocks.extend(blocks)


# --- evaluation -------------------------------------------------------------------------------

class Evaluator:
    """Evaluates HCL expressions of one module into V trees; what it cannot decide becomes a
    placeholder recorded in the Unresolved it is given."""

    def __init__(self, module: Module, source: dict[str, str]) -> None:
        self.m = module
        self.source = source  # path → text, for the text of an expression left unresolved

    def _tick(self, line: int | None) -> None:
        self.m.steps += 1
        if self.m.steps > MAX_STEPS:
            raise HclError(f"the configuration needs more than {MAX_STEPS:,} evaluation steps", line)

    def attr(self, block: Block, name: str, un: Unresolved, depth: int = 0) -> V | None:
        expr = block.attrs.get(name)
        if expr is None:
            return None
        return self.eval(expr, block.path, f"{block.pointer}/{make_pointer(name)[1:]}", un, depth)

    def eval(self, node, path: str, at: str, un: Unresolved, depth: int = 0) -> V:
        from lark import Token, Tree

        line = node.meta.line if isinstance(node, Tree) and not node.meta.empty else getattr(node, "line", None)
        self._tick(line)
        spot = Spot(path, at, line)
        if depth > MAX_DEPTH:
            return V(un.add("nested expression", "expression nested too deeply"), spot)
        if isinstance(node, Token):
            return V(str(node), spot)
        kind = node.data
        kids = [c for c in node.children if not (isinstance(c, Tree) and c.data == "new_line_or_comment")]
        if kind == "expr_term":
            inner = [c for c in kids if not isinstance(c, Token)]
            return self.eval(inner[0], path, at, un, depth + 1) if inner else V(None, spot)
        if kind == "string":
            return self._template(kids[1:-1], path, at, un, depth, spot)
        if kind in ("heredoc_template", "heredoc_template_trim"):
            return self._heredoc(str(kids[0]), kind.endswith("trim"), path, at, un, depth, spot)
        if kind == "int_lit":
            return V(int(str(kids[0])), spot)
        if kind == "float_lit":
            return V(float(str(kids[0])), spot)
        if kind == "literal_value":
            return V({"true": True, "false": False}.get(str(kids[0])), spot)
        if kind == "tuple":
            items = [c for c in kids if isinstance(c, Tree)]
            return V([self.eval(c, path, f"{at}/{i}", un, depth + 1) for i, c in enumerate(items)], spot)
        if kind == "object":
            out: dict[str, V] = {}
            for elem in (c for c in kids if isinstance(c, Tree) and c.data == "object_elem"):
                key_node, value_node = elem.children[0], elem.children[-1]
                key = self._key(key_node, path, un, depth)
                out[key] = self.eval(value_node, path, f"{at}/{make_pointer(key)[1:]}", un, depth + 1)
            return V(out, spot)
        if kind == "function_call":
            return self._call(kids, path, at, un, depth, spot)
        if kind == "conditional":
            cond = self.eval(kids[0], path, at, un, depth + 1)
            if isinstance(cond.value, bool):
                branch = [c for c in kids if isinstance(c, Tree)][1 if cond.value else 2]
                return self.eval(branch, path, at, un, depth + 1)
            return self._unknown(node, path, "a condition the configuration does not decide", un, spot)
        if kind in ("get_attr_expr_term", "index_expr_term", "identifier"):
            return self._traversal(node, path, at, un, depth, spot)
        if kind == "binary_op":
            return self._binary(node, kids, path, at, un, depth, spot)
        return self._unknown(node, path, "an expression this reader does not evaluate", un, spot)

    def _unknown(self, node, path: str, why: str, un: Unresolved, spot: Spot) -> V:
        text = self._text(node, path)
        return V(un.add(text, f"{text}: {why}"), spot)

    def _text(self, node, path: str) -> str:
        source = self.source.get(path)
        meta = getattr(node, "meta", None)
        if source is None or meta is None or meta.empty:
            return "expression"
        return source[meta.start_pos:meta.end_pos].strip() or "expression"

    def _key(self, key_node, path: str, un: Unresolved, depth: int) -> str:
        from lark import Tree

        inner = key_node.children[0] if isinstance(key_node, Tree) and key_node.data == "object_elem_key" else key_node
        while isinstance(inner, Tree) and inner.data == "expr_term" and len(inner.children) == 1:
            inner = inner.children[0]
        if isinstance(inner, Tree) and inner.data in ("identifier", "keyword"):
            return str(inner.children[0])
        value = self.eval(inner, path, "", un, depth + 1).value
        return value if isinstance(value, str) else json.dumps(value)

    def _template(self, parts, path: str, at: str, un: Unresolved, depth: int, spot: Spot) -> V:
        from hcl2.utils import process_escape_sequences
        from lark import Tree

        out: list[str] = []
        only: V | None = None
        for part in parts:
            piece = part.children[0] if isinstance(part, Tree) and part.data == "string_part" else part
            if isinstance(piece, Tree) and piece.data == "interpolation":
                inner = [c for c in piece.children if isinstance(c, Tree)][0]
                value = self.eval(inner, path, at, un, depth + 1)
                if len(parts) == 1:
                    only = value
                out.append(self._as_text(value, un))
            elif isinstance(piece, Tree):
                out.append(un.add("%{...}", "template directives (%{if}, %{for}) are not evaluated"))
            else:
                raw = str(piece)
                if piece.type == "ESCAPED_INTERPOLATION":
                    out.append(raw[1:])
                elif piece.type == "ESCAPED_DIRECTIVE":
                    out.append(raw[1:])
                else:
                    out.append(process_escape_sequences(raw))
        if only is not None and not isinstance(only.value, str):
            return V(only.value, spot)  # "${local.list}" is the list itself
        if only is not None and isinstance(only, Doc):
            return Doc(only.value, spot, only.doc)
        return self._string("".join(out), spot, un)

    def _string(self, text: str, spot: Spot, un: Unresolved) -> V:
        if len(text) > MAX_STRING:
            return V(un.add("long string", f"a string of more than {MAX_STRING // 1024} KiB built by interpolation"), spot)
        return V(text, spot)

    def _as_text(self, value: V, un: Unresolved) -> str:
        if isinstance(value.value, str):
            return value.value
        if isinstance(value.value, bool):
            return "true" if value.value else "false"
        if isinstance(value.value, (int, float)):
            return str(value.value)
        return un.add("non-string value", "a list or object where a string is needed")

    def _heredoc(self, raw: str, trim: bool, path: str, at: str, un: Unresolved, depth: int, spot: Spot) -> V:
        body = raw.split("\n", 1)[1] if "\n" in raw else ""
        lines = body.rstrip("\n").split("\n")[:-1]  # the last line is the closing marker
        if trim:
            indents = [len(x) - len(x.lstrip(" \t")) for x in lines if x.strip()]
            cut = min(indents) if indents else 0
            lines = [x[cut:] for x in lines]
        text = self.interpolate("\n".join(lines) + ("\n" if lines else ""), path, at, un, depth)
        if len(text) > MAX_STRING:
            return self._string(text, spot, un)
        return Text(text, spot, (spot.line or 0) + 1)

    def interpolate(self, text: str, path: str, at: str, un: Unresolved, depth: int, scope: dict | None = None) -> str:
        """A template's text with each ${...} evaluated ($${ stays a literal ${)."""
        out: list[str] = []
        i = 0
        while True:
            j = text.find("${", i)
            k = text.find("%{", i)
            if k != -1 and (j == -1 or k < j) and not text.startswith("%%{", k - 1 if k else 0):
                end = _closing(text, k + 2)
                if end != -1:
                    out.append(text[i:k] + un.add("%{...}", "template directives (%{if}, %{for}) are not evaluated"))
                    i = end + 1
                    continue
            if j == -1:
                out.append(text[i:])
                break
            if j > 0 and text[j - 1] == "$":
                out.append(text[i:j - 1] + "${")
                i = j + 2
                continue
            end = _closing(text, j + 2)
            if end == -1:
                out.append(text[i:])
                break
            out.append(text[i:j])
            inner = text[j + 2:end].strip()
            out.append(self._as_text(self.expression(inner, path, at, un, depth, scope), un))
            i = end + 1
        return "".join(out)

    def expression(self, source: str, path: str, at: str, un: Unresolved, depth: int, scope: dict | None = None) -> V:
        """One expression given as text (inside a heredoc or a templatefile)."""
        if scope is not None and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", source) and source in scope:
            return scope[source]
        try:
            tree = _parse(f"x = {source}\n")
        except HclError:
            return V(un.add(source, f"{source}: not an expression this reader can parse"), Spot(path, at, None))
        expr = tree.children[0].children[0].children[-1]
        return self.eval(expr, "", at, un, depth + 1)

    def _call(self, kids, path: str, at: str, un: Unresolved, depth: int, spot: Spot) -> V:
        from lark import Tree

        names = [str(c.children[0]) for c in kids if isinstance(c, Tree) and c.data == "identifier"]
        name = names[-1]
        args_node = next((c for c in kids if isinstance(c, Tree) and c.data == "arguments"), None)
        arg_nodes = [c for c in args_node.children if isinstance(c, Tree) and c.data != "new_line_or_comment"] if args_node else []
        if name == "jsonencode" and len(arg_nodes) == 1:
            doc = self.eval(arg_nodes[0], path, at, un, depth + 1)
            return Doc(json.dumps(plain(doc)), spot, doc)
        args = [self.eval(a, path, at, un, depth + 1) for a in arg_nodes]
        values = [a.value for a in args]
        strings = [v for v in values if isinstance(v, str)]
        texts = len(strings) == len(values)  # then strings[i] is values[i]
        try:
            if name == "jsondecode" and len(args) == 1 and texts:
                return _json_tree(strings[0], args[0], un)
            if name in ("file", "templatefile") and args and isinstance(values[0], str) and "${" not in values[0]:
                return self._file(name, args, path, at, un, depth, spot)
            if name == "format" and args and texts:
                return self._string(_format(strings[0], strings[1:]), spot, un)
            if name == "join" and len(args) == 2 and isinstance(values[0], str) and isinstance(values[1], list):
                return self._string(values[0].join(self._as_text(v, un) for v in values[1]), spot, un)
            if name in ("concat", "flatten") and all(isinstance(v, list) for v in values):
                return V(_flatten(args, deep=name == "flatten"), spot)
            if name in ("distinct", "toset", "tolist", "compact") and len(args) == 1 and isinstance(values[0], list):
                items = values[0]
                if name == "compact":
                    items = [i for i in items if i.value not in ("", None)]
                if name in ("distinct", "toset"):
                    seen: dict[str, V] = {}
                    for item in items:
                        seen.setdefault(json.dumps(plain(item)), item)
                    items = list(seen.values())
                    if name == "toset" and all(isinstance(i.value, str) for i in items):
                        items.sort(key=lambda i: i.value)  # Terraform orders a set of strings lexically
                return V(items, spot)
            if name in ("lower", "upper", "trimspace") and len(args) == 1 and texts:
                return V(CASE_FUNCTIONS[name](strings[0]), spot)
            if name == "replace" and len(args) == 3 and texts and not (strings[1].startswith("/") and strings[1].endswith("/")):
                return V(strings[0].replace(strings[1], strings[2]), spot)
            dicts = [v for v in values if isinstance(v, dict)]
            if name == "merge" and len(dicts) == len(values):
                merged: dict[str, V] = {}
                for d in dicts:
                    merged.update(d)
                return V(merged, spot)
            if name in ("tostring",) and len(args) == 1:
                return args[0]
        except (ValueError, TypeError, IndexError):
            pass
        return V(un.add(f"{name}(...)", f"{name}(...): a function call this reader does not evaluate here"), spot)

    def _file(self, name: str, args: list[V], path: str, at: str, un: Unresolved, depth: int, spot: Spot) -> V:
        target = args[0].value
        assert isinstance(target, str)
        full = target if os.path.isabs(target) else os.path.join(self.m.directory, target)
        shown = os.path.relpath(full)
        try:
            if os.path.getsize(full) > MAX_TF_BYTES:
                raise OSError("too large")
            with open(full, encoding="utf-8-sig") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            return V(un.add(f"{name}({target})", f"{name}({target}): cannot read it ({exc})"), spot)
        if name == "templatefile":
            scope = args[1].value if len(args) > 1 and isinstance(args[1].value, dict) else {}
            text = self.interpolate(text, shown, "", un, depth + 1, scope)
        return Text(text, Spot(shown, "", 1), 1)

    def _binary(self, node, kids, path: str, at: str, un: Unresolved, depth: int, spot: Spot) -> V:
        from lark import Tree

        left = self.eval(kids[0], path, at, un, depth + 1)
        term = kids[1]
        op_node = [c for c in term.children if isinstance(c, Tree) and c.data == "binary_operator"][0]
        op = str(op_node.children[0])
        right = self.eval([c for c in term.children if isinstance(c, Tree) and c.data != "binary_operator"
                           and c.data != "new_line_or_comment"][0], path, at, un, depth + 1)
        a, b = left.value, right.value
        if op in ("==", "!=") and isinstance(a, (str, int, float, bool)) and isinstance(b, (str, int, float, bool)) \
                and "${" not in str(a) + str(b):
            return V((a == b) == (op == "=="), spot)
        if op in ("&&", "||") and isinstance(a, bool) and isinstance(b, bool):
            return V(a and b if op == "&&" else a or b, spot)
        return self._unknown(node, path, "an operation this reader does not evaluate", un, spot)

    # --- references ---

    def _traversal(self, node, path: str, at: str, un: Unresolved, depth: int, spot: Spot) -> V:
        parts = _steps(node)
        if parts is None:
            return self._unknown(node, path, "an expression this reader does not evaluate", un, spot)
        text = ".".join(str(p) for p in parts)
        head = parts[0]
        if head == "var" and len(parts) >= 2:
            return self._index(self.variable(str(parts[1]), un, depth), parts[2:], text, un, spot)
        if head == "local" and len(parts) >= 2:
            return self._index(self.local(str(parts[1]), un, depth), parts[2:], text, un, spot)
        if head == "data" and len(parts) >= 4:
            return self._data(parts, text, un, depth, spot)
        if head == "path" and len(parts) == 2 and parts[1] in ("module", "root", "cwd"):
            return V(self.m.directory, spot)  # file() reads relative to the module either way
        if len(parts) >= 3 and isinstance(head, str) and head.startswith("aws_") and parts[2] == "name":
            block = self.m.find("resource", head, str(parts[1]))
            if block is not None and "name" in block.attrs:
                value = self.attr(block, "name", un)
                if value is not None and isinstance(value.value, str):
                    return V(value.value, spot)
        return V(un.add(text, _why(text)), spot)

    def _index(self, value: V, rest: list, text: str, un: Unresolved, spot: Spot) -> V:
        for step in rest:
            inner = value.value
            if isinstance(inner, dict) and str(step) in inner:
                value = inner[str(step)]
            elif isinstance(inner, list) and isinstance(step, int) and 0 <= step < len(inner):
                value = inner[step]
            elif isinstance(inner, str) and inner.startswith("${"):
                return V(un.add(text, _why(text)), spot)
            else:
                return V(un.add(text, f"{text}: no such element"), spot)
        return value

    def variable(self, name: str, un: Unresolved, depth: int) -> V:
        key = ("var", name)
        if key not in self.m.memo:
            self.m.memo[key] = self._variable(name, depth)
        value, found = self.m.memo[key]
        un.merge(found.items())
        return value

    def _variable(self, name: str, depth: int) -> tuple[V, dict[str, str]]:
        own = Unresolved()
        if name in self.m.tfvars:
            expr, where, line = self.m.tfvars[name]
            return self.eval(expr, where, "/" + make_pointer(name)[1:], own, depth + 1), own.found
        block = self.m.find("variable", name)
        if block is not None and "default" in block.attrs:
            value = self.attr(block, "default", own, depth)
            if value is not None and value.value is not None:
                return value, own.found
        why = f"var.{name} has no default and no value in terraform.tfvars or *.auto.tfvars" if block is not None \
            else f"var.{name} is not declared in this module"
        spot = Spot(block.path, block.pointer, block.line) if block is not None else Spot("", "", None)
        return V(own.add(f"var.{name}", why), spot), own.found

    def local(self, name: str, un: Unresolved, depth: int) -> V:
        key = ("local", name)
        if key not in self.m.memo:
            if key in self.m.busy:
                return V(un.add(f"local.{name}", f"local.{name} refers to itself (a reference loop)"), Spot("", "", None))
            self.m.busy.add(key)
            own = Unresolved()
            value = None
            for block in self.m.of_type("locals"):
                if name in block.attrs:
                    value = self.attr(block, name, own, depth)
                    break
            if value is None:
                value = V(own.add(f"local.{name}", f"local.{name} is not defined in this module"), Spot("", "", None))
            self.m.busy.discard(key)
            self.m.memo[key] = (value, own.found)
        value, found = self.m.memo[key]
        un.merge(found.items())
        return value

    def _data(self, parts: list, text: str, un: Unresolved, depth: int, spot: Spot) -> V:
        kind, name, attr = str(parts[1]), str(parts[2]), str(parts[3])
        m = self.m
        if kind == "aws_caller_identity" and attr == "account_id":
            return V(m.account or "*", spot)
        if kind == "aws_region" and attr in ("name", "id", "region"):
            return V(m.region or "*", spot)
        if kind == "aws_partition" and attr in ("partition", "id"):
            return V(_partition(m.region), spot)
        if kind == "aws_partition" and attr == "dns_suffix":
            return V("amazonaws.com.cn" if _partition(m.region) == "aws-cn" else "amazonaws.com", spot)
        if kind == "aws_iam_policy_document" and attr in ("json", "minified_json"):
            block = m.find("data", kind, name)
            if block is not None:
                return self.document(block, un, depth)
        return V(un.add(text, _why(text)), spot)

    def document(self, block: Block, un: Unresolved, depth: int) -> V:
        """A policy document data source, rendered (memoised: each is evaluated once)."""
        key = ("doc", block.path, block.pointer)
        if key not in self.m.memo:
            if key in self.m.busy:
                return V(un.add(f"data.aws_iam_policy_document.{block.labels[-1]}", "a policy document that includes itself"),
                         Spot(block.path, block.pointer, block.line))
            self.m.busy.add(key)
            own = Unresolved()
            doc = self._render(block, own, depth + 1)
            self.m.busy.discard(key)
            self.m.memo[key] = (Doc(json.dumps(plain(doc)), Spot(block.path, block.pointer, block.line), doc), own.found)
        value, found = self.m.memo[key]
        un.merge(found.items())
        return value

    def _render(self, block: Block, un: Unresolved, depth: int) -> V:
        spot = Spot(block.path, block.pointer, block.line)
        statements: list[V] = []
        version = "2012-10-17"
        ident = None
        for source_attr in ("source_policy_documents", "source_json"):
            for doc in self._documents(block, source_attr, un, depth):
                version, ident = _merge(statements, doc, version, ident)
        own: list[V] = []
        for stmt in (b for b in block.blocks if b.type == "statement"):
            own.append(self._statement(stmt, un, depth))
        version_v = self.attr(block, "version", un)
        if version_v is not None and isinstance(version_v.value, str):
            version = max(version, version_v.value)
        own_doc = V({"Statement": V(own, spot)}, spot)
        version, ident = _merge(statements, own_doc, version, ident)
        if "policy_id" in block.attrs:
            ident = self.attr(block, "policy_id", un)
        for override_attr in ("override_policy_documents", "override_json"):
            for doc in self._documents(block, override_attr, un, depth):
                version, ident = _merge(statements, doc, version, ident)
        out: dict[str, V] = {"Version": version_v if version_v is not None and version_v.value == version else V(version, spot)}
        if ident is not None:
            out["Id"] = ident
        out["Statement"] = V(statements, spot)
        return V(out, spot)

    def _documents(self, block: Block, name: str, un: Unresolved, depth: int) -> list[V]:
        value = self.attr(block, name, un)
        if value is None or value.value is None:
            return []
        items = value.value if isinstance(value.value, list) else [value]
        out = []
        for item in items:
            if isinstance(item, Doc):
                out.append(item.doc)
            elif isinstance(item.value, str) and not item.value.startswith("${"):
                out.append(_json_tree(item.value, item, un))
            else:
                un.add(f"{name} entry", f"an entry of {name} the configuration does not decide")
        return out

    def _statement(self, block: Block, un: Unresolved, depth: int) -> V:
        spot = Spot(block.path, block.pointer, block.line)
        out: dict[str, V] = {}
        sid = self.attr(block, "sid", un)
        if sid is not None and sid.value not in ("", None):
            out["Sid"] = sid
        effect = self.attr(block, "effect", un)
        out["Effect"] = effect if effect is not None else V("Allow", spot)
        for attr, key in (("actions", "Action"), ("not_actions", "NotAction"), ("resources", "Resource"),
                          ("not_resources", "NotResource")):
            value = self.attr(block, attr, un)
            if value is None:
                continue
            listed = _string_set(value, un)
            if listed is not None:
                out[key] = listed
        for kind, key in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
            found = [b for b in block.blocks if b.type == kind]
            if found:
                principals: dict[str, V] = {}
                for p in found:
                    ptype = self.attr(p, "type", un)
                    ids = self.attr(p, "identifiers", un)
                    if ptype is not None and isinstance(ptype.value, str) and ids is not None:
                        principals[ptype.value] = _string_set(ids, un) or ids
                out[key] = V(principals, Spot(block.path, found[0].pointer, found[0].line))
        conditions = [b for b in block.blocks if b.type == "condition"]
        if conditions:
            tests: dict[str, V] = {}
            for c in conditions:
                test, variable, values = (self.attr(c, n, un) for n in ("test", "variable", "values"))
                if test is None or variable is None or values is None or not isinstance(test.value, str) \
                        or not isinstance(variable.value, str):
                    continue
                entry = tests.setdefault(test.value, V({}, Spot(c.path, c.pointer, c.line)))
                given = values.value if isinstance(values.value, list) else [values]
                fixed = [V(_amp(i.value), i.spot) if isinstance(i.value, str) else i for i in given]
                entry.value[variable.value] = fixed[0] if len(fixed) == 1 else V(fixed, values.spot)  # type: ignore[index]
            out["Condition"] = V(tests, Spot(block.path, conditions[0].pointer, conditions[0].line))
        return V(out, spot)


def _string_set(value: V, un: Unresolved) -> V | None:
    """A policy document's actions/resources as the provider renders them: de-duplicated, sorted, one
    entry as a string; `&{x}` written for `${x}`."""
    items = value.value if isinstance(value.value, list) else [value]
    seen: dict[str, V] = {}
    for item in items:
        if isinstance(item.value, str):
            text = _amp(item.value)
            seen.setdefault(text, V(text, item.spot))
        else:
            seen.setdefault(json.dumps(plain(item)), item)
    if not seen:
        return V([], value.spot)
    ordered = [seen[k] for k in sorted(seen)]
    return ordered[0] if len(ordered) == 1 else V(ordered, value.spot)


def _amp(text: str) -> str:
    return text.replace("&{", "${")


def _merge(statements: list[V], doc: V, version: str, ident: V | None) -> tuple[str, V | None]:
    """Merge a document's statements into `statements` as the provider does: a statement whose Sid is
    already there replaces it in place; others are appended."""
    body = doc.value if isinstance(doc.value, dict) else {}
    new_version = body.get("Version")
    if new_version is not None and isinstance(new_version.value, str) and new_version.value > version:
        version = new_version.value
    if body.get("Id") is not None:
        ident = body["Id"]
    raw = body.get("Statement")
    items = [] if raw is None else raw.value if isinstance(raw.value, list) else [raw]
    for stmt in items:
        sid = stmt.value.get("Sid") if isinstance(stmt.value, dict) else None
        sid_text = sid.value if sid is not None else None
        if sid_text:
            for i, old in enumerate(statements):
                old_sid = old.value.get("Sid") if isinstance(old.value, dict) else None
                if old_sid is not None and old_sid.value == sid_text:
                    statements[i] = stmt
                    break
            else:
                statements.append(stmt)
        else:
            statements.append(stmt)
    return version, ident


def _json_tree(text: str, origin: V, un: Unresolved) -> V:
    """A JSON string as a V tree whose spots point into where the text is written."""
    from auditor.model import SourceMap

    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return V(un.add("jsondecode", "a string that is not JSON where a document is needed"), origin.spot)
    first = origin.first_line if isinstance(origin, Text) else None
    smap = SourceMap(text) if first is not None else None

    def build(value: object, at: str) -> V:
        line = origin.spot.line
        if smap is not None and first is not None:
            found = smap.line(at)
            line = None if found is None else first + found - 1
        spot = Spot(origin.spot.path, origin.spot.pointer + at, line)
        if isinstance(value, dict):
            return V({str(k): build(v, f"{at}/{make_pointer(str(k))[1:]}") for k, v in value.items()}, spot)
        if isinstance(value, list):
            return V([build(v, f"{at}/{i}") for i, v in enumerate(value)], spot)
        return V(value, spot)

    return build(data, "")


def _steps(node) -> list | None:
    """A traversal (var.x, data.a.b.c, local.l[0]) as its names and indexes, or None."""
    from lark import Token, Tree

    if isinstance(node, Tree) and node.data == "expr_term" and len(node.children) == 1:
        return _steps(node.children[0])
    if isinstance(node, Tree) and node.data == "identifier":
        return [str(node.children[0])]
    if isinstance(node, Tree) and node.data == "get_attr_expr_term":
        base = _steps(node.children[0])
        attr = node.children[1].children[-1]
        return None if base is None else [*base, str(attr.children[0]) if isinstance(attr, Tree) else str(attr)]
    if isinstance(node, Tree) and node.data == "index_expr_term":
        base = _steps(node.children[0])
        index = node.children[1]
        if base is None:
            return None
        if index.data == "short_index":
            return [*base, int(str(index.children[-1]))]
        inner = [c for c in index.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]
        leaf = inner[0]
        while isinstance(leaf, Tree) and leaf.data == "expr_term" and len(leaf.children) == 1:
            leaf = leaf.children[0]
        if isinstance(leaf, Tree) and leaf.data == "int_lit":
            return [*base, int(str(leaf.children[0]))]
        if isinstance(leaf, Tree) and leaf.data == "string" and len(leaf.children) == 3 \
                and isinstance(leaf.children[1].children[0], Token):
            return [*base, str(leaf.children[1].children[0])]
        return None
    return None


def _why(text: str) -> str:
    if text.startswith("aws_") or text.startswith("data."):
        return f"{text}: known only once Terraform has planned or applied it (audit the plan JSON to see it)"
    return f"{text}: not something the configuration decides"


def _partition(region: str | None) -> str:
    if region and region.startswith("cn-"):
        return "aws-cn"
    if region and region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _format(spec: str, args: list) -> str:
    parts = iter(args)

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "%%":
            return "%"
        value = next(parts)
        return value if isinstance(value, str) else json.dumps(value)

    return re.sub(r"%%|%[-+ #0-9.]*[sdvq]", sub, spec)


def _flatten(args: list[V], deep: bool) -> list[V]:
    out: list[V] = []
    for arg in args:
        assert isinstance(arg.value, list)  # callers flatten only lists
        for item in arg.value:
            if deep and isinstance(item.value, list):
                out.extend(_flatten([item], True))
            else:
                out.append(item)
    return out


def _closing(text: str, start: int) -> int:
    """The index of the `}` that closes an interpolation starting at `start`, or -1."""
    depth, i, quote = 0, start, False
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quote = False
        elif ch == '"':
            quote = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return -1


# --- principals and policies ------------------------------------------------------------------

def _address(block: Block) -> str:
    prefix = "data." if block.type == "data" else ""
    return prefix + ".".join(block.labels)


def _block_refs(block: Block) -> list[str]:
    """Every address a block's attributes and nested blocks refer to."""
    out = [ref for expr in block.attrs.values() for ref in _refs(expr)]
    for inner in block.blocks:
        out += _block_refs(inner)
    return out


def _refs(node) -> list[str]:
    """Resource addresses an expression refers to (aws_iam_group.deploy.name → aws_iam_group.deploy)."""
    from lark import Tree

    out: list[str] = []
    if not isinstance(node, Tree):
        return out
    steps = _steps(node)
    if steps is not None and len(steps) >= 2 and isinstance(steps[0], str) and isinstance(steps[1], str):
        if steps[0] == "data" and len(steps) >= 3:
            return [f"data.{steps[1]}.{steps[2]}"]
        return [f"{steps[0]}.{steps[1]}"]
    for child in node.children:
        out.extend(_refs(child))
    return out


def read(path: str, text: str, *, region: str | None = None, account: str | None = None, memo: dict | None = None) -> IacFile:
    """The principals and policies `path` defines (or contributes to), with its module as context."""
    if len(text.encode("utf-8")) > MAX_TF_BYTES or text.count("\n") > MAX_TF_LINES:
        return unreadable(path, f"refused: larger than {MAX_TF_BYTES // 1024} KiB or {MAX_TF_LINES:,} lines (the HCL "
                                "parser reads about 5,000 lines a second); split the file or audit the plan JSON")
    try:
        module = load_module(path, text, region, account, memo)
        sources = module.memo.setdefault("texts", {})
        sources[path] = text
        return _assemble(module, path, sources)
    except HclError as exc:
        return unreadable(path, str(exc), exc.line)
    except RecursionError:
        return unreadable(path, "not valid HCL: nested too deeply")


def _texts(module: Module, sources: dict[str, str]) -> dict[str, str]:
    for block in module.blocks:
        if block.path not in sources:
            try:
                full = os.path.join(module.directory, os.path.basename(block.path))
                with open(full, encoding="utf-8-sig") as fh:
                    sources[block.path] = fh.read()
            except (OSError, UnicodeDecodeError):
                sources[block.path] = ""
    return sources


def _assemble(module: Module, path: str, sources: dict[str, str]) -> IacFile:
    ev = Evaluator(module, _texts(module, sources))
    principals: dict[str, dict] = {}
    by_name: dict[tuple[str, str], str] = {}
    for block in module.of_type("resource"):
        kind = PRINCIPALS.get(block.labels[0]) if block.labels else None
        if kind is None or len(block.labels) < 2:
            continue
        address = _address(block)
        scratch = Unresolved()
        name_v = ev.attr(block, "name", scratch)
        name = name_v.value if name_v is not None and isinstance(name_v.value, str) and not scratch.found else address
        principals[address] = {"kind": kind, "name": name, "block": block, "policies": [], "arns": []}
        by_name[(kind, name)] = address
        for i, inline in enumerate(b for b in block.blocks if b.type == "inline_policy"):
            if "policy" in inline.attrs:
                label = ev.attr(inline, "name", Unresolved())
                shown = label.value if label is not None and isinstance(label.value, str) else str(i)
                policy = _policy(ev, f"{block.path}#{address}/inline_policy/{shown}", inline, "policy")
                principals[address]["policies"].append((policy, block.path))

    def owners(kind: str, block: Block, attr: str) -> list[str]:
        expr = block.attrs.get(attr)
        if expr is None:
            return []
        found = [r for r in _refs(expr) if r in principals and principals[r]["kind"] == kind]
        if found:
            return found
        value = ev.attr(block, attr, Unresolved())
        names = value.value if value is not None and isinstance(value.value, list) else [value] if value is not None else []
        return [by_name[(kind, n.value)] for n in names if isinstance(n.value, str) and (kind, n.value) in by_name]

    policies: dict[str, tuple] = {}  # address of an aws_iam_policy → (Policy, block)
    for block in module.of_type("resource"):
        rtype = block.labels[0] if block.labels else ""
        if (rtype == "aws_iam_policy" or rtype in INLINE) and "policy" in block.attrs:
            policy = _policy(ev, f"{block.path}#{_address(block)}", block, "policy")
            holders = owners(INLINE[rtype], block, INLINE[rtype]) if rtype in INLINE else []
            for holder in holders:
                principals[holder]["policies"].append((policy, block.path))
            if not holders:
                policies[_address(block)] = (policy, block)
    # a policy document any block refers to (a policy, a role's trust policy, a bucket policy, a local) is
    # audited where it is used, or not at all; one nothing refers to is a policy of its own
    used_docs = {ref for block in module.blocks for ref in _block_refs(block) if ref != _address(block)}

    attached: set[str] = set()
    for block in module.of_type("resource"):
        rtype = block.labels[0] if block.labels else ""
        if rtype in ATTACH:
            attached_to = owners(ATTACH[rtype], block, ATTACH[rtype])
        elif rtype == "aws_iam_policy_attachment":
            attached_to = [h for kind, attr in (("group", "groups"), ("user", "users"), ("role", "roles"))
                           for h in owners(kind, block, attr)]
        else:
            continue
        arn_expr = block.attrs.get("policy_arn")
        refs = [r for r in _refs(arn_expr) if r in policies] if arn_expr is not None else []
        for holder in attached_to:
            if refs:
                principals[holder]["policies"].append((policies[refs[0]][0], policies[refs[0]][1].path))
                attached.add(refs[0])
            else:
                scratch = Unresolved()
                arn = ev.attr(block, "policy_arn", scratch)
                principals[holder]["arns"].append(arn.value if arn is not None and isinstance(arn.value, str) else "?")
    for info in principals.values():  # aws_iam_role's managed_policy_arns
        expr = info["block"].attrs.get("managed_policy_arns")
        if expr is None:
            continue
        for ref in (r for r in _refs(expr) if r in policies):
            info["policies"].append((policies[ref][0], policies[ref][1].path))
            attached.add(ref)
        value = ev.attr(info["block"], "managed_policy_arns", Unresolved())
        for item in value.value if value is not None and isinstance(value.value, list) else []:
            if isinstance(item.value, str) and not item.value.startswith("${"):
                info["arns"].append(item.value)

    out = []
    for address, info in principals.items():
        block = info["block"]
        files = {block.path} | {where for _, where in info["policies"]}
        if path not in files:
            continue
        unique = []
        for policy, _ in info["policies"]:
            if policy not in unique:
                unique.append(policy)
        out.append(IacPrincipal(info["kind"], info["name"], address, Spot(block.path, block.pointer, block.line),
                                tuple(unique), tuple(info["arns"])))
    loose = [policy for address, (policy, block) in policies.items() if address not in attached and block.path == path]
    for block in module.of_type("data", "aws_iam_policy_document"):
        if block.path == path and _address(block) not in used_docs:
            un = Unresolved()
            doc = ev.document(block, un, 0)
            whole = Spot(block.path, block.pointer, block.line)
            loose.append(policy_from_value(f"{path}#{_address(block)}", doc.doc if isinstance(doc, Doc) else doc, whole, un.found))
    notes = (f"{path}: not read for context (variables, locals, other policies): {', '.join(module.skipped)}",) \
        if module.skipped else ()
    return IacFile(path, tuple(out), tuple(loose), notes=notes, assumptions=_not_evaluated(module, path, ev))


PLAN_ANSWER = "audit the plan JSON (terraform plan -out plan.out && terraform show -json plan.out > plan.json), where Terraform has decided it"
_IAM_TYPES = ("aws_iam_",)


def _not_evaluated(module: Module, path: str, ev: Evaluator) -> tuple[Assumption, ...]:
    """The constructs of `path` this reader does not evaluate, each where it is written: module calls,
    count/for_each on IAM resources, dynamic blocks in policy documents."""
    found: list[Assumption] = []

    def at(block: Block, line: int | None = None) -> Location:
        return Location(block.path, block.pointer, None, line if line is not None else block.line)

    for block in module.blocks:
        if block.path != path:
            continue
        if block.type == "module" and block.labels:
            source = ev.attr(block, "source", Unresolved()) if "source" in block.attrs else None
            shown = f'module "{block.labels[0]}"'
            if source is not None and isinstance(source.value, str):
                shown += f' (source "{source.value}")'
            found.append(Assumption(at(block), shown, "its resources and policies are not part of this audit", PLAN_ANSWER))
            continue
        if block.type not in ("resource", "data") or len(block.labels) < 2 or not block.labels[0].startswith(_IAM_TYPES):
            continue
        address = _address(block)
        for meta in ("count", "for_each"):
            if meta in block.attrs:
                found.append(Assumption(at(block, block.attr_lines.get(meta)), f"{meta} on {address}",
                                        "assumed to create it once", PLAN_ANSWER))
        for inner in block.blocks:
            if inner.type == "dynamic":
                label = inner.labels[0] if inner.labels else "?"
                found.append(Assumption(at(inner), f'dynamic "{label}" block in {address}',
                                        f"its {label} blocks are not part of this audit", PLAN_ANSWER))
    return tuple(found)


def _policy(ev: Evaluator, name: str, block: Block, attr: str):
    un = Unresolved()
    whole = Spot(block.path, f"{block.pointer}/{attr}", block.attr_lines.get(attr, block.line))
    try:
        value = ev.attr(block, attr, un)
    except HclError as exc:
        from auditor.model import Policy, Problem

        return Policy(name, "", (), (Problem("", str(exc), name),), origin=MappedOrigin({}, whole))
    assert value is not None
    if isinstance(value, Doc):
        return policy_from_value(name, value.doc, whole, un.found)
    if isinstance(value.value, str) and value.value in un.found:  # the whole document is a reference left unresolved
        from auditor.model import Policy

        return Policy(name, value.value, (), (), origin=MappedOrigin({}, whole), unresolved=((value.value, un.found[value.value]),))
    if isinstance(value.value, str):
        if isinstance(value, Text):
            return policy_from_text(name, value.value, Spot(value.spot.path, value.spot.pointer, value.spot.line),
                                    value.first_line, un.found)
        return policy_from_text(name, value.value, whole, None, un.found)
    return policy_from_value(name, value, whole, un.found)

