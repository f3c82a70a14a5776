"""Terraform files into blocks: the HCL parse, and a module directory's configuration read once.

HCL is parsed by python-hcl2's documented entry point `hcl2.parses_to_tree` (its docs, "Advanced API":
HCL2 text to the raw Lark parse tree), the one stage of its pipeline that keeps every element's line
and position in the source; `hcl2.loads(..., with_meta=True)` keeps the lines of blocks only and gives
expressions back as text. The tree's node names are those of the grammar the package ships
(`hcl2/hcl2.lark`), pinned by the dependency's version range in pyproject.toml.

A module's configuration is every `.tf` file of its directory (override files merged as Terraform merges
them), read through the repository-confined reader (confined.py) within MAX_MODULE_BYTES; a root module
also gets its variable values from `terraform.tfvars`, `terraform.tfvars.json` and `*.auto.tfvars(.json)`
in Terraform's order, then `--var-file` and `--var` (later wins).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from auditor.model import Spot
from auditor.model import pointer as make_pointer
from auditor.sources.confined import Confined
from auditor.sources.file import SourceError
from auditor.sources.iac import V
from auditor.sources.tf_values import HclError

MAX_TF_BYTES = 256 * 1024  # the HCL parser (pure Python) reads 25-70 KB, some 5,000 lines, a second here:
MAX_TF_LINES = 10_000  # a larger file is refused (an `invalid` finding) rather than parsed for minutes
MAX_MODULE_BYTES = 512 * 1024  # a module directory's other .tf and .tfvars files, all together
MAX_MODULE_LINES = 20_000


def parse(text: str):
    """The Lark parse tree of HCL text; HclError (with the line when known) if it is not HCL."""
    import hcl2
    from lark.exceptions import LarkError, UnexpectedInput

    try:
        return hcl2.parses_to_tree(text)
    except UnexpectedInput as exc:
        line = getattr(exc, "line", None)
        what = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise HclError(f"not valid HCL: {what}", line if isinstance(line, int) and line > 0 else None) from exc
    except (LarkError, RecursionError) as exc:
        raise HclError(f"not valid HCL: {type(exc).__name__}") from exc


def parse_expression(source: str):
    """One expression given as text (inside a template, a --var value): its parse tree."""
    tree = parse(f"x = {source}\n")
    attrs = [c for c in tree.children[0].children if getattr(c, "data", None) == "attribute"]
    if len(attrs) != 1:
        raise HclError(f"not one expression: {source[:80]}")
    return attrs[0].children[-1]


def name_of(node) -> str:
    """An attribute name, block type or block label (identifier, keyword or string)."""
    from lark import Token

    if isinstance(node, Token):
        return str(node)
    if node.data == "string":
        return "".join(str(part.children[0]) for part in node.children[1:-1] if hasattr(part, "children"))
    return str(node.children[0])


@dataclass
class Block:
    """A block as written: `attrs` maps each attribute to its expression tree."""

    type: str
    labels: tuple[str, ...]
    path: str  # the file, as shown
    pointer: str
    line: int
    attrs: dict[str, object]
    attr_lines: dict[str, int]
    blocks: list[Block]

    @property
    def spot(self) -> Spot:
        return Spot(self.path, self.pointer, self.line)

    def attr_spot(self, name: str) -> Spot:
        return Spot(self.path, f"{self.pointer}/{make_pointer(name)[1:]}", self.attr_lines.get(name, self.line))


def body(node, path: str, at: str) -> tuple[dict, dict, list[Block]]:
    """The attributes (expression trees), their lines and the blocks of a body tree."""
    from lark import Tree

    attrs: dict[str, object] = {}
    lines: dict[str, int] = {}
    blocks: list[Block] = []
    counts: dict[str, int] = {}
    for child in node.children:
        if not isinstance(child, Tree):
            continue
        if child.data == "attribute":
            name = name_of(child.children[0])
            attrs.setdefault(name, child.children[-1])
            lines.setdefault(name, child.meta.line)
        elif child.data == "block":
            parts = [c for c in child.children if isinstance(c, Tree) and c.data in ("identifier", "keyword", "string", "literal_value")]
            kind, labels = name_of(parts[0]), tuple(name_of(p) for p in parts[1:])
            inner = next(c for c in child.children if isinstance(c, Tree) and c.data == "body")
            if labels and kind != "dynamic":
                ptr = at + "".join("/" + make_pointer(x)[1:] for x in (kind, *labels))
            elif labels:  # dynamic "statement": numbered among the block's dynamic blocks of that label
                index = counts.get(f"dynamic {labels[0]}", 0)
                counts[f"dynamic {labels[0]}"] = index + 1
                ptr = f"{at}/dynamic/{make_pointer(labels[0])[1:]}/{index}"
            else:  # repeated nested blocks (statement, condition) are numbered
                index = counts.get(kind, 0)
                counts[kind] = index + 1
                ptr = f"{at}/{make_pointer(kind)[1:]}/{index}"
            sub_attrs, sub_lines, sub_blocks = body(inner, path, ptr)
            blocks.append(Block(kind, labels, path, ptr, child.meta.line, sub_attrs, sub_lines, sub_blocks))
    return attrs, lines, blocks


def read_text(raw: bytes, shown: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{shown}: not UTF-8 text") from exc


@dataclass(frozen=True)
class Assignment:
    """A value given to a root module's variable: an expression (a .tfvars file), a JSON value
    (.tfvars.json) or a --var string (`raw`, parsed by the variable's type as Terraform does)."""

    name: str
    path: str
    line: int | None
    expr: object = None
    json_value: object = None
    raw: str | None = None
    text: str = ""  # the source the expression's positions index


@dataclass(frozen=True)
class CliVariables:
    """--var-file files and --var values, in the order Terraform applies them (later wins)."""

    assignments: tuple[Assignment, ...] = ()


def var_file(shown: str, text: str) -> tuple[Assignment, ...]:
    """The assignments of a .tfvars (HCL) or .tfvars.json file; HclError if it is neither."""
    if shown.endswith(".json"):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise HclError(f"not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise HclError("not a JSON object of variable values")
        return tuple(Assignment(str(k), shown, None, json_value=v) for k, v in data.items())
    tree = parse(text)
    attrs, lines, _ = body(tree.children[0], shown, "")
    return tuple(Assignment(name, shown, lines[name], expr=expr, text=text) for name, expr in attrs.items())


def cli_variables(values: list[str], files: list[tuple[str, str]]) -> CliVariables:
    """--var NAME=VALUE strings and (shown path, text) of --var-file files: HclError or ValueError on a
    malformed one."""
    import re

    out: list[Assignment] = []
    for shown, text in files:
        out.extend(var_file(shown, text))
    for item in values:
        name, eq, raw = item.partition("=")
        if not eq or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name):
            raise ValueError(f"--var {item!r}: give NAME=VALUE (a variable name, then =)")
        out.append(Assignment(name, "--var", None, raw=raw))
    return CliVariables(tuple(out))


@dataclass
class Module:
    """The configuration of one module directory, read once for all its instances and files."""

    directory: str  # absolute
    shown: str  # the directory as paths are shown ("infra", "infra/modules/iam", "" for the working directory)
    blocks: list[Block] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)  # a root module's tfvars, in precedence order
    skipped: list[str] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)  # shown path → its text
    files: list[str] = field(default_factory=list)  # real paths of the files read

    def find(self, kind: str, *labels: str) -> Block | None:
        for block in self.blocks:
            if block.type == kind and block.labels[: len(labels)] == labels:
                return block
        return None

    def of_type(self, kind: str, first: str | None = None) -> list[Block]:
        return [b for b in self.blocks if b.type == kind and (first is None or (b.labels and b.labels[0] == first))]


def _shown(directory_shown: str, name: str) -> str:
    return os.path.join(directory_shown, name) if directory_shown else name


def load_module(directory: str, shown: str, confined: Confined, *, given: tuple[str, str] | None = None,
                root: bool = True) -> Module:
    """The module in `directory`: `given` (shown path, text) parsed first (HclError if it is not HCL), then
    its other .tf files; a root module's tfvars files too. What cannot be read is named in `skipped`."""
    module = Module(os.path.abspath(directory), shown)
    given_real = None
    if given is not None:
        path, text = given
        tree = parse(text)
        _, _, blocks = body(tree.children[0], path, "")
        module.blocks.extend(blocks)
        module.texts[path] = text
        given_real = os.path.realpath(os.path.join(module.directory, os.path.basename(path)))
        module.files.append(given_real)
    try:
        names = sorted(os.listdir(module.directory))
    except OSError:
        names = []
    budget, lines_left = MAX_MODULE_BYTES, MAX_MODULE_LINES
    overrides: list[list[Block]] = []
    tfvars: list[tuple[str, str]] = []
    for name in names:
        is_tf = name.endswith(".tf")
        is_vars = root and (name in ("terraform.tfvars", "terraform.tfvars.json") or name.endswith((".auto.tfvars", ".auto.tfvars.json")))
        if not (is_tf or is_vars):
            continue
        full = os.path.join(module.directory, name)
        if os.path.realpath(full) == given_real and given is not None and os.path.basename(given[0]) == name:
            continue
        path = _shown(shown, name)
        try:
            raw = confined.read(full, min(MAX_TF_BYTES, budget), path)
            if len(raw) > min(MAX_TF_BYTES, budget):
                module.skipped.append(f"{path} (too large)")
                continue
            text = read_text(raw, path)
        except SourceError as exc:
            module.skipped.append(f"{path} ({_reason(str(exc), path)})")
            continue
        lines = text.count("\n")
        if lines > MAX_TF_LINES or lines > lines_left:
            module.skipped.append(f"{path} (too large)")
            continue
        budget -= len(raw)
        lines_left -= lines
        if is_vars:
            tfvars.append((name, text))
            continue
        try:
            tree = parse(text)
        except HclError:
            module.skipped.append(f"{path} (not valid HCL)")
            continue
        _, _, blocks = body(tree.children[0], path, "")
        module.texts[path] = text
        module.files.append(os.path.realpath(full))
        if name == "override.tf" or name.endswith("_override.tf"):
            overrides.append(blocks)
        else:
            module.blocks.extend(blocks)
    for blocks in overrides:  # Terraform merges override files last, in lexical order
        _override(module, blocks)
    module.assignments = _tfvars(module, tfvars)
    return module


def _reason(message: str, path: str) -> str:
    """A SourceError's message without the path it starts with."""
    return message[len(path) + 2:] if message.startswith(path + ": ") else message


def _tfvars(module: Module, files: list[tuple[str, str]]) -> list[Assignment]:
    """terraform.tfvars, terraform.tfvars.json, then *.auto.tfvars(.json) in lexical order (Terraform's
    order: a later file wins)."""
    def rank(item: tuple[str, str]) -> tuple[int, str]:
        name = item[0]
        return ({"terraform.tfvars": 0, "terraform.tfvars.json": 1}.get(name, 2), name)

    out: list[Assignment] = []
    for name, text in sorted(files, key=rank):
        path = _shown(module.shown, name)
        try:
            out.extend(var_file(path, text))
        except HclError:
            module.skipped.append(f"{path} (not valid {'JSON' if name.endswith('.json') else 'HCL'})")
            continue
        module.texts[path] = text
    return out


def _override(module: Module, blocks: list[Block]) -> None:
    """Terraform's override files: each top-level block merges into the block of the same type and labels;
    its attributes replace the original's, and its nested blocks of a type replace all of the original's
    nested blocks of that type (locals merge by name). A block with no original is ignored, as Terraform
    reports it as an error."""
    for over in blocks:
        if over.type == "locals":
            for block in module.of_type("locals"):
                for name in over.attrs:
                    if name in block.attrs:
                        block.attrs[name] = over.attrs[name]
                        block.attr_lines[name] = over.attr_lines[name]
            continue
        original = next((b for b in module.blocks if b.type == over.type and b.labels == over.labels), None)
        if original is None:
            continue
        original.attrs.update(over.attrs)
        original.attr_lines.update(over.attr_lines)
        replaced = {b.type if b.type != "dynamic" else b.labels[0] for b in over.blocks}
        original.blocks = [b for b in original.blocks if (b.type if b.type != "dynamic" else b.labels[0]) not in replaced] + over.blocks


def json_value(value: object, spot: Spot) -> V:
    """A JSON value as a V tree, every element at `spot` plus its pointer."""
    if isinstance(value, dict):
        return V({str(k): json_value(v, Spot(spot.path, f"{spot.pointer}/{make_pointer(str(k))[1:]}", spot.line))
                  for k, v in value.items()}, spot)
    if isinstance(value, list):
        return V([json_value(v, Spot(spot.path, f"{spot.pointer}/{i}", spot.line)) for i, v in enumerate(value)], spot)
    return V(value, spot)
