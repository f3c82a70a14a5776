"""Terraform templates: quoted strings, heredocs and `templatefile()` files, evaluated as HCL does.

A template is literal text with interpolations (`${expr}`) and directives (`%{if c}`, `%{else}`,
`%{endif}`, `%{for v in coll}`, `%{for k, v in coll}`, `%{endfor}`); `$${` and `%%{` are the literal
`${` and `%{`. Strip markers follow hashicorp/hcl hclsyntax/parser_template.go: a `~` right after `${` or
`%{` trims every whitespace character (unicode.IsSpace, newlines included) from the end of the literal
before it; a `~` before the closing `}` trims the start of the literal after it. `%{if}` picks a branch on
a bool (an undecided condition leaves the whole template undecided); `%{for}` repeats its body over a
list (key: the index), a set (key and value: the element) or a map (keys in lexical order), joining the
results. A template that is one interpolation and nothing else is that value itself ("${local.list}" is
the list), as in HCL's TemplateWrapExpr.

In a quoted string python-hcl2's grammar gives the parts (escapes \\n, \\t, \\", \\\\, \\uNNNN, \\UNNNNNNNN
are decoded here); a heredoc body or a template file is split into parts here (backslashes are literal
there), each expression parsed on its own. python-hcl2's grammar does not accept `${~` in a quoted
string: such a file is reported as not valid HCL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from auditor.sources.tf_values import HclError

_ESCAPE = re.compile(r"\\(?:u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", re.S)
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def unescape(raw: str) -> str:
    """A quoted string's characters with HCL's escape sequences decoded (an unknown one is kept as written)."""
    def one(m: re.Match[str]) -> str:
        seq = m.group(0)
        if seq[1] in "uU":
            try:
                return chr(int(seq[2:], 16))
            except (ValueError, OverflowError):
                return seq
        return _SIMPLE_ESCAPES.get(seq[1], seq)

    return _ESCAPE.sub(one, raw) if "\\" in raw else raw


@dataclass
class Part:
    """One token of a template: literal text, an interpolation or a directive (`kind`), with the
    expression tree `node` whose positions index `text`, and its strip markers."""

    kind: str  # "lit", "interp", "if", "else", "endif", "for", "endfor"
    value: str = ""  # the literal text
    node: object = None
    text: str | None = None
    names: tuple[str, ...] = ()  # a for directive's key and value names (one name: the value)
    strip_before: bool = False
    strip_after: bool = False
    line: int | None = None


@dataclass
class Node:
    """A template as a tree: `items` are literal strings and Nodes (interp, if, for)."""

    kind: str  # "template", "interp", "if", "for"
    items: list
    other: list | None = None  # an if's else branch
    node: object = None
    text: str | None = None
    names: tuple[str, ...] = ()
    line: int | None = None


def from_string(parts: list, text: str | None) -> list[Part]:
    """The parts of a quoted string (the `string_part` children python-hcl2's parser gives)."""
    from lark import Token, Tree

    out: list[Part] = []
    for part in parts:
        piece = part.children[0] if isinstance(part, Tree) and part.data == "string_part" else part
        if isinstance(piece, Token):
            raw = str(piece)
            if piece.type in ("ESCAPED_INTERPOLATION", "ESCAPED_DIRECTIVE"):
                out.append(Part("lit", raw[1:]))
            else:
                out.append(Part("lit", unescape(raw)))
            continue
        if not isinstance(piece, Tree):
            continue
        kids = [c for c in piece.children if not (isinstance(c, Tree) and c.data == "new_line_or_comment")]
        exprs = [c for c in kids if isinstance(c, Tree)]
        line = piece.meta.line if not piece.meta.empty else None
        if piece.data == "interpolation":
            out.append(Part("interp", node=exprs[0], text=text, line=line))
            continue
        strips = [i for i, c in enumerate(kids) if isinstance(c, Token) and c.type == "STRIP_MARKER"]
        before = 1 in strips  # right after %{
        after = bool(strips) and strips[-1] == len(kids) - 2  # right before }
        kind = {"template_if_start": "if", "template_else": "else", "template_endif": "endif",
                "template_for_start": "for", "template_endfor": "endfor"}.get(piece.data)
        if kind is None:
            continue
        if kind == "for":
            names = tuple(str(c.children[0]) for c in exprs if c.data == "identifier")
            coll = [c for c in exprs if c.data != "identifier"] or exprs[-1:]
            out.append(Part("for", node=coll[-1], text=text, names=names[:2] if len(names) > 1 else names,
                            strip_before=before, strip_after=after, line=line))
        else:
            out.append(Part(kind, node=exprs[0] if kind == "if" else None, text=text, strip_before=before,
                            strip_after=after, line=line))
    return out


def _closing(text: str, start: int) -> int:
    """The index of the `}` that closes a sequence whose expression starts at `start`, or -1 (braces
    nest; quoted strings inside are skipped, a template inside one included)."""
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


_DIRECTIVE = re.compile(r"\s*(if|else|endif|for|endfor)\b(.*)\Z", re.S)
_FOR = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_-]*)\s*(?:,\s*([A-Za-z_][A-Za-z0-9_-]*)\s*)?in\b(.*)\Z", re.S)


def from_text(body: str, first_line: int | None) -> list[Part]:
    """The parts of a heredoc body or a template file (HclError for a sequence that is not closed or a
    directive that is not one)."""
    from auditor.sources.tf_load import parse_expression

    out: list[Part] = []
    literal: list[str] = []
    i = 0
    n = len(body)
    while i < n:
        j = min((k for k in (body.find("${", i), body.find("%{", i)) if k != -1), default=-1)
        if j == -1:
            literal.append(body[i:])
            break
        if j > i and body[j - 1] == body[j]:  # $${ and %%{ are the literal ${ and %{
            literal.append(body[i:j] + "{")  # $${ → ${ (the first $ already copied), %%{ → %{
            i = j + 2
            continue
        literal.append(body[i:j])
        end = _closing(body, j + 2)
        line = None if first_line is None else first_line + body.count("\n", 0, j)
        if end == -1:
            raise HclError(f"a template sequence ({body[j:j + 2]}) is not closed", line)
        inner = body[j + 2:end]
        before = inner.startswith("~")
        after = inner.endswith("~") and len(inner) > (1 if before else 0)
        inner = inner[1 if before else 0: len(inner) - (1 if after else 0)]
        if literal:
            out.append(Part("lit", "".join(literal)))
            literal = []
        if body[j] == "$":
            out.append(Part("interp", node=parse_expression(inner.strip()), text=f"x = {inner.strip()}\n",
                            strip_before=before, strip_after=after, line=line))
        else:
            m = _DIRECTIVE.match(inner)
            if m is None:
                raise HclError(f"not a template directive: %{{{inner.strip()[:40]}}}", line)
            kind, rest = m.group(1), m.group(2).strip()
            if kind == "if":
                out.append(Part("if", node=parse_expression(rest), text=f"x = {rest}\n", strip_before=before,
                                strip_after=after, line=line))
            elif kind == "for":
                f = _FOR.match(rest)
                if f is None:
                    raise HclError(f"not a for directive: %{{for {rest[:40]}}}", line)
                names = (f.group(1), f.group(2)) if f.group(2) else (f.group(1),)
                coll = f.group(3).strip()
                out.append(Part("for", node=parse_expression(coll), text=f"x = {coll}\n", names=names,
                                strip_before=before, strip_after=after, line=line))
            else:
                if rest:
                    raise HclError(f"%{{{kind}}} takes nothing after it", line)
                out.append(Part(kind, strip_before=before, strip_after=after, line=line))
        i = end + 1
    if literal:
        out.append(Part("lit", "".join(literal)))
    return out


def build(parts: list[Part]) -> Node:
    """The template tree: strip markers applied to the neighbouring literals, directives nested."""
    for i, part in enumerate(parts):
        if part.kind == "lit":
            continue
        if part.strip_before and i > 0 and parts[i - 1].kind == "lit":
            parts[i - 1].value = parts[i - 1].value.rstrip()
        if part.strip_after and i + 1 < len(parts) and parts[i + 1].kind == "lit":
            parts[i + 1].value = parts[i + 1].value.lstrip()
    root = Node("template", [])
    stack: list[Node] = [root]
    for part in parts:
        top = stack[-1]
        target = top.other if top.kind == "if" and top.other is not None else top.items
        if part.kind == "lit":
            if part.value:
                target.append(part.value)
        elif part.kind == "interp":
            target.append(Node("interp", [], node=part.node, text=part.text, line=part.line))
        elif part.kind in ("if", "for"):
            node = Node(part.kind, [], node=part.node, text=part.text, names=part.names, line=part.line)
            target.append(node)
            stack.append(node)
        elif part.kind == "else":
            if top.kind != "if" or top.other is not None:
                raise HclError("%{else} without its %{if}", part.line)
            top.other = []
        elif part.kind == "endif":
            if top.kind != "if":
                raise HclError("%{endif} without its %{if}", part.line)
            stack.pop()
        elif part.kind == "endfor":
            if top.kind != "for":
                raise HclError("%{endfor} without its %{for}", part.line)
            stack.pop()
    if len(stack) > 1:
        raise HclError(f"%{{{stack[-1].kind}}} without its %{{end{stack[-1].kind}}}", stack[-1].line)
    return root


def has_directives(node: Node) -> bool:
    return any(isinstance(i, Node) and i.kind in ("if", "for") for i in node.items)
