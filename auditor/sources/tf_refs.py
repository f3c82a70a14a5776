"""References in Terraform expressions, followed as Terraform does through one configuration: module
instances, `var.` (tfvars, --var, a module call's arguments, defaults; converted by the variable's type),
`local.`, `path.`, `each.`/`count.` and dynamic-block iterators, resources and data sources with their
`count`/`for_each` instances (`aws_iam_policy.p[0].arn`, `aws_iam_user.u["a"].name`, splats), local
module calls (`source = "./..."`/`"../..."`) and their outputs.

Semantics followed (Terraform's language documentation, "Meta-Arguments" and "Expressions"):
- `count = N` makes instances 0..N-1 (`count.index`); 0 makes none. `for_each` over a map makes one
  instance per key (`each.key`, `each.value`), over a set of strings one per element (key = value);
  keys in lexical order. A list is rejected by Terraform (it needs a map or a set).
- A `dynamic "x"` block makes one `x` block per element of its `for_each` (any collection), the iterator
  (`x`, or its `iterator` name) holding `key` and `value`, in the position the dynamic block is written.
- A module call's variables come from its arguments, evaluated in the caller; outputs are evaluated in
  the module instance. Only local paths are read; a registry, Git or other source is not.

What they do not decide becomes an Assumption at its file and line (see Config.assume): a count or
for_each over a value known only after apply, a dynamic block over one, a module that is not read, a
variable with no value. Each says what the audit assumed and how to get the exact answer.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from auditor.model import Assumption, Location, Spot
from auditor.model import pointer as make_pointer
from auditor.sources import tf_policy_document
from auditor.sources.confined import Confined
from auditor.sources.iac import Unresolved, V, placeholder
from auditor.sources.tf_context import Ctx, Evaluates, children_of, line_of, remembered
from auditor.sources.tf_load import Assignment, Block, CliVariables, Module, json_value, load_module, parse_expression
from auditor.sources.tf_operators import number
from auditor.sources.tf_values import (
    Attr,
    Budget,
    HclError,
    Lazy,
    ResourceAttr,
    SetV,
    Unknown,
    is_unknown,
)

PLAN_ANSWER = ("audit the plan JSON (terraform plan -out plan.out && terraform show -json plan.out > plan.json), "
               "where Terraform has decided it")
MAX_MODULES = 50  # module directories read for one configuration
MAX_MODULE_DEPTH = 16  # module calls nested in module calls
NAMED_IDS = ("aws_iam_group", "aws_iam_user", "aws_iam_role")  # whose id is their name


def partition_of(region: str | None) -> str:
    if region and region.startswith("cn-"):
        return "aws-cn"
    if region and region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


class Instance:
    """One instance of a module: the root module, or a child module for one key of its call."""

    def __init__(self, config: Config, module: Module, prefix: str, parent: Instance | None = None,
                 call: Block | None = None, names: dict[str, V] | None = None, path_module: str = ".") -> None:
        self.config = config
        self.module = module
        self.prefix = prefix  # "" for the root, 'module.iam.' or 'module.iam["a"].' for a child
        self.parent = parent
        self.call = call  # the module block in the parent
        self.names = names or {}  # the call's each/count
        self.path_module = path_module  # Terraform's path.module, relative to the root module's directory
        self.memo: dict = {}
        self.busy: set = set()

    @property
    def calls(self) -> list[Block]:
        """The module blocks from the root to this instance."""
        return [*self.parent.calls, self.call] if self.parent is not None and self.call is not None else []

    def ctx(self, un: Unresolved, names: dict[str, V] | None = None, depth: int = 0) -> Ctx:
        return Ctx("", "", None, un, depth, self, names or {})


class Config:
    """One root module's evaluation: its module instances, budget, what it read and what it assumed."""

    def __init__(self, root: Module, confined: Confined, region: str | None, account: str | None,
                 variables: CliVariables | None = None, parsed: dict[str, Module] | None = None, *,
                 evaluator: Callable[[Config], Evaluates]) -> None:
        self.confined = confined
        self.parsed = parsed if parsed is not None else {}  # child modules parsed (by root and directory), shared in a run
        self.region = region
        self.account = account
        self.variables = variables or CliVariables()
        self.budget = Budget()
        self.texts: dict[str, str] = dict(root.texts)
        self.modules: dict[str, Module] = {root.directory: root}
        self.assumptions: dict[tuple, Assumption] = {}
        self.reads: set[str] = set()  # real paths of files read through this configuration (templates, modules)
        self.files: dict[str, str] = {}  # real path → text of files read by file()/templatefile()
        self.templates: dict[tuple[str, int | None], object] = {}  # heredoc and template texts → their parse (tf_eval)
        self.root = Instance(self, root, "")
        self.ev = evaluator(self)  # tf_eval.Evaluator, handed in: it dispatches to this module's traversal

    def blocks(self, block: Block, kind: str, ctx: Ctx, owner: str) -> list[tuple[Block, Ctx]]:
        """The nested blocks of type `kind` of `block`, dynamic blocks expanded (see `blocks`)."""
        return blocks(self, block, kind, ctx, owner)

    def assume(self, spot: Spot, construct: str, assumed: str, exact: str = PLAN_ANSWER) -> None:
        key = (spot.path, spot.line, construct)
        self.assumptions.setdefault(key, Assumption(Location(spot.path, spot.pointer, None, spot.line), construct,
                                                    assumed, exact))


# --- values of instances ----------------------------------------------------------------------------

class ResourceValue(Lazy):
    """A resource or data source instance as a value: its attributes are looked up when used."""

    __slots__ = ("inst", "block", "key", "names", "address")

    def __init__(self, inst: Instance, block: Block, key: V | None, names: dict[str, V], address: str) -> None:
        super().__init__(placeholder(address), block.spot)
        self.inst = inst
        self.block = block
        self.key = key
        self.names = names
        self.address = address


class ModuleValue(Lazy):
    """A module call instance as a value: its outputs are looked up when used."""

    __slots__ = ("child",)

    def __init__(self, child: Instance, spot: Spot) -> None:
        super().__init__(placeholder(child.prefix.rstrip(".")), spot)
        self.child = child


def address_of(block: Block) -> str:
    return ("data." if block.type == "data" else "") + ".".join(block.labels[:2])


def key_suffix(key: V | None) -> str:
    if key is None:
        return ""
    if isinstance(key.value, int) and not isinstance(key.value, bool):
        return f"[{key.value}]"
    return f'["{key.value}"]'


def cycle(inst: Instance, key: tuple, compute, broken):
    """compute(), unless `key` is already being computed in `inst` (a reference cycle, which Terraform
    rejects): then broken()."""
    if key in inst.busy:
        return broken()
    inst.busy.add(key)
    try:
        return compute()
    finally:
        inst.busy.discard(key)


def expand(config: Config, inst: Instance, block: Block, depth: int = 0) -> list[tuple[V | None, dict[str, V]]]:
    """The instances of a resource, data source or module call: (key, the names each/count bind), as
    `count` and `for_each` decide; an undecided one is assumed to make one instance (an Assumption)."""
    memo_key = ("expand", block.path, block.pointer)
    if memo_key not in inst.memo:
        what = f"{inst.prefix}{address_of(block)}" if block.type != "module" else f'{inst.prefix}module.{block.labels[0]}'

        def broken() -> list[tuple[V | None, dict[str, V]]]:
            meta = "count" if "count" in block.attrs else "for_each"
            config.assume(block.attr_spot(meta), f"{meta} on {what}", "refers to itself (a cycle Terraform rejects): "
                          "assumed created once")
            unknown = Unknown(placeholder(f"{what}.{meta}"), block.spot, True)
            return [(None, {"count": V({"index": unknown}, block.spot), "each": V({"key": unknown, "value": unknown}, block.spot)})]

        inst.memo[memo_key] = cycle(inst, memo_key, lambda: _expand(config, inst, block, what, depth), broken)
    return inst.memo[memo_key]


def _expand(config: Config, inst: Instance, block: Block, what: str, depth: int) -> list[tuple[V | None, dict[str, V]]]:
    ev = config.ev
    out: list[tuple[V | None, dict[str, V]]]
    scratch = Unresolved()
    ctx = inst.ctx(scratch, depth=depth + 1)
    if "count" in block.attrs:
        count = ev.attr(block, "count", ctx)
        spot = block.attr_spot("count")

        n = number(count) if count is not None and not is_unknown(count) else None
        if isinstance(n, float) and n.is_integer():
            n = int(n)
        if count is not None and not is_unknown(count) and isinstance(n, int) and not isinstance(n, bool) and n >= 0:
            config.budget.items(n, spot.line)
            out = [(V(i, spot), {"count": V({"index": V(i, spot)}, spot)}) for i in range(n)]
        else:
            decided = count is not None and not is_unknown(count)
            config.assume(spot, f"count on {what}",
                          "assumed 0 instances: Terraform rejects a count that is not a whole number of 0 or more"
                          if decided else "assumed created once (count = 1)")
            out = [] if decided else [(None, {"count": V({"index": Unknown(scratch.add("count.index", "undecided"), spot)}, spot)})]
    elif "for_each" in block.attrs:
        each = ev.attr(block, "for_each", ctx)
        spot = block.attr_spot("for_each")
        out = _for_each(config, each, spot, what, scratch) if each is not None else [(None, {})]
    else:
        out = [(None, {})]
    return out


def _for_each(config: Config, each: V, spot: Spot, what: str, scratch: Unresolved) -> list[tuple[V | None, dict[str, V]]]:
    def bound(key: V, value: V) -> dict[str, V]:
        return {"each": V({"key": key, "value": value}, spot)}

    value = each.value
    if isinstance(value, dict) and not isinstance(each, Unknown) and not any(isinstance(k, str) and "${" in k for k in value):
        config.budget.items(len(value), spot.line)
        return [(V(k, spot), bound(V(k, spot), value[k])) for k in sorted(value)]
    if isinstance(value, list) and not isinstance(each, Unknown) and all(isinstance(i.value, str) and not is_unknown(i) for i in value):
        if not isinstance(each, SetV):
            config.assume(spot, f"for_each on {what}", "assumed one instance per element: Terraform rejects for_each over "
                          "a list (it needs a map or a set of strings: toset(...))")
        keys = sorted({i.value for i in value})
        config.budget.items(len(keys), spot.line)
        return [(V(k, spot), bound(V(k, spot), V(k, spot))) for k in keys]
    config.assume(spot, f"for_each on {what}", "assumed created once, each.key and each.value undecided")
    unknown = Unknown(scratch.add("each.value", "undecided"), spot)
    return [(None, bound(Unknown(scratch.add("each.key", "undecided"), spot), unknown))]


def resource_value(config: Config, inst: Instance, block: Block, ctx: Ctx, spot: Spot) -> V:
    """A resource or data source as a value: one instance, a list of them (count) or a map (for_each)."""
    instances = expand(config, inst, block, ctx.depth)
    base = f"{inst.prefix}{address_of(block)}"
    made = [ResourceValue(inst, block, key, names, base + key_suffix(key)) for key, names in instances]
    if "count" in block.attrs:
        return V(made, spot)
    if "for_each" in block.attrs:
        if len(made) == 1 and made[0].key is None:
            return Unknown(ctx.un.add(base, f"{base}: its for_each is not decided by the configuration"), spot)
        return V({str(r.key.value): r for r in made if r.key is not None}, spot)
    return made[0]


def instance_attr(config: Config, res: ResourceValue, attr: str, ctx: Ctx, spot: Spot) -> V:
    """An attribute of a resource or data source instance: its configured value, what Terraform knows of
    it (an IAM group's, user's or role's id is its name; the data sources of the account, Region and
    partition; a policy document's json), else undecided until apply."""
    block = res.block
    rtype = block.labels[0] if block.labels else ""
    here = res.inst.ctx(ctx.un, res.names, ctx.depth + 1)
    if block.type == "data":
        known = _data_attr(config, res, rtype, attr, here, spot)
        if known is not None:
            return known
    name = "name" if rtype in NAMED_IDS and attr == "id" else attr
    if name in block.attrs and name not in ("count", "for_each", "provider", "depends_on", "lifecycle"):
        text = f"{res.address}.{name}"
        value = cycle(res.inst, ("attr", res.address, name), lambda: config.ev.attr(block, name, here),
                      lambda: Unknown(ctx.un.add(text, f"{text} refers to itself (a cycle Terraform rejects)"), spot, True))
        assert value is not None
        if type(value) is V and value.value is not None:  # configured: known, and whose it is
            return Attr(value.value, value.spot, res.address)
        if isinstance(value, Unknown) and not isinstance(value, ResourceAttr):
            return ResourceAttr(value.value, value.spot, res.address, name)
        if value.value is not None:
            return value
        # configured as null: the provider computes it (an IAM name from name_prefix), known after apply
    text = f"{res.address}.{attr}"
    if rtype == "aws_iam_policy" and attr == "id":
        attr = "arn"  # an aws_iam_policy's id is its ARN
    when = "reads the data source" if block.type == "data" else "has planned or applied it"
    return ResourceAttr(ctx.un.add(text, f"{text}: known only once Terraform {when} (audit the plan JSON to see it)"),
                        spot, res.address, attr)


def _data_attr(config: Config, res: ResourceValue, kind: str, attr: str, ctx: Ctx, spot: Spot) -> V | None:
    if kind == "aws_caller_identity" and attr == "account_id":
        return V(config.account or "*", spot)
    if kind == "aws_region" and attr in ("name", "id", "region"):
        return V(config.region or "*", spot)
    if kind == "aws_partition" and attr in ("partition", "id"):
        return V(partition_of(config.region), spot)
    if kind == "aws_partition" and attr == "dns_suffix":
        return V("amazonaws.com.cn" if partition_of(config.region) == "aws-cn" else "amazonaws.com", spot)
    if kind == "aws_iam_policy_document" and attr in ("json", "minified_json"):

        return tf_policy_document.document(config, res, ctx)
    return None


# --- variables and locals ---------------------------------------------------------------------------

def variable(config: Config, inst: Instance, name: str, ctx: Ctx, spot: Spot) -> V:
    """var.NAME in `inst`, evaluated once per instance."""
    return remembered(inst, ("var", name), ctx, lambda own: _variable(config, inst, name, own, ctx.depth + 1),
                      lambda own: Unknown(own.add(f"var.{name}", f"var.{name} refers to itself (a cycle Terraform rejects)"),
                                          spot, True))


def _variable(config: Config, inst: Instance, name: str, own: Unresolved, depth: int) -> V:
    ev = config.ev
    block = inst.module.find("variable", name)
    given = None
    if inst.parent is None:
        assignments = [a for a in (*inst.module.assignments, *config.variables.assignments) if a.name == name]
        if assignments:
            given = _assigned(config, inst, assignments[-1], block, own, depth)
    elif inst.call is not None and name in inst.call.attrs and name not in ("source", "version", "count", "for_each",
                                                                              "providers", "depends_on"):
        parent = inst.parent
        assert parent is not None
        given = ev.attr(inst.call, name, parent.ctx(own, inst.names, depth))
    if given is None and block is not None and "default" in block.attrs:
        from dataclasses import replace

        given = ev.attr(block, "default", replace(inst.ctx(own, {}, depth), template=True))  # a literal: no references
    if given is None:
        where = "the module call" if inst.parent is not None else "terraform.tfvars, *.auto.tfvars or --var"
        why = f"var.{name} has no default and no value in {where}" if block is not None \
            else f"var.{name} is not declared in this module"
        spot = block.spot if block is not None else Spot("", "", None)
        if block is not None:
            config.assume(block.spot, f'variable "{name}"' + (f" of {inst.prefix.rstrip('.')}" if inst.prefix else ""),
                          "no value: its uses stay undecided (placeholders)",
                          f"give it a value (--var {name}=VALUE, --var-file FILE or terraform.tfvars), or {PLAN_ANSWER}")
        return Unknown(own.add(f"var.{name}", why), spot)
    if block is None or "type" not in block.attrs:
        return given
    from auditor.sources import tf_types

    return tf_types.convert(ev, given, block.attrs["type"], inst.ctx(own, {}, depth))


def _assigned(config: Config, inst: Instance, a: Assignment, block: Block | None, own: Unresolved, depth: int) -> V:
    spot = Spot(a.path, "/" + make_pointer(a.name)[1:], a.line)
    if a.expr is not None:
        from dataclasses import replace

        ctx = replace(inst.ctx(own, {}, depth), path=a.path, at=spot.pointer, text=a.text, template=True)
        return config.ev.eval(a.expr, ctx)  # a .tfvars file holds values: no references
    if a.raw is None:
        return json_value(a.json_value, spot)
    from auditor.sources.tf_types import kind_of

    kind = kind_of(block.attrs.get("type")) if block is not None else None
    if kind is None or kind in ("string", "number", "bool"):  # Terraform parses -var literally for these
        return V(a.raw, spot)
    try:
        from dataclasses import replace

        ctx = replace(inst.ctx(own, {}, depth), path="--var", at=spot.pointer, text=f"x = {a.raw}\n", template=True)
        return config.ev.eval(parse_expression(a.raw), ctx)
    except HclError:
        return Unknown(own.add(f"var.{a.name}", f"--var {a.name}: not an HCL value for its type"), spot, True)


def local(config: Config, inst: Instance, name: str, ctx: Ctx, spot: Spot) -> V:
    """local.NAME in `inst`, evaluated once per instance; a reference loop is named."""
    def compute(own: Unresolved) -> V:
        for block in inst.module.of_type("locals"):
            if name in block.attrs:
                value = config.ev.attr(block, name, inst.ctx(own, {}, ctx.depth + 1))
                if value is not None:
                    return value
                break
        return Unknown(own.add(f"local.{name}", f"local.{name} is not defined in this module"), spot, True)

    return remembered(inst, ("local", name), ctx, compute,
                      lambda own: Unknown(own.add(f"local.{name}", f"local.{name} refers to itself (a reference loop)"),
                                          spot, True))


# --- modules ----------------------------------------------------------------------------------------

def source_of(config: Config, call: Block) -> str | None:
    value = config.ev.attr(call, "source", config.root.ctx(Unresolved())) if "source" in call.attrs else None
    return value.value if value is not None and isinstance(value.value, str) and not is_unknown(value) else None


def module_instances(config: Config, inst: Instance, call: Block, depth: int = 0) -> list[tuple[V | None, Instance]] | None:
    """The child instances of a module call, or None when the module is not read (an Assumption says why)."""
    memo_key = ("module", call.path, call.pointer)
    if memo_key in inst.memo:
        return inst.memo[memo_key]
    inst.memo[memo_key] = None
    name = call.labels[0] if call.labels else "?"
    source = source_of(config, call)
    shown = f'module "{name}"' + (f' (source "{source}")' if source is not None else "")
    module = _child_module(config, inst, call, source, shown)
    if module is None:
        return None
    rel = os.path.relpath(module.directory, config.root.module.directory)
    out = []
    for key, names in expand(config, inst, call, depth):
        child = Instance(config, module, f"{inst.prefix}module.{name}{key_suffix(key)}.", inst, call, names, rel)
        out.append((key, child))
    inst.memo[memo_key] = out
    return out


def _child_module(config: Config, inst: Instance, call: Block, source: str | None, shown: str) -> Module | None:
    if source is None or not source.startswith(("./", "../")) and source not in (".", ".."):
        config.assume(call.spot, shown, "not read (only local modules, ./ or ../ paths, are): its resources and "
                      "policies are not part of this audit")
        return None
    directory = os.path.normpath(os.path.join(inst.module.directory, source))
    chain = [c for c in inst.calls] + [call]
    ancestors = {inst.module.directory}
    parent = inst.parent
    while parent is not None:
        ancestors.add(parent.module.directory)
        parent = parent.parent
    if not config.confined.inside(directory) or not os.path.isdir(directory):
        config.assume(call.spot, shown, "not read: its directory is outside the repository root or does not exist")
        return None
    if directory in ancestors or len(chain) > MAX_MODULE_DEPTH:
        config.assume(call.spot, shown, "not read: a module that calls itself (Terraform rejects the loop)")
        return None
    module = config.modules.get(directory)
    if module is None:
        if len(config.modules) >= MAX_MODULES:
            config.assume(call.spot, shown, f"not read: more than {MAX_MODULES} module directories in one configuration")
            return None
        shown_dir = os.path.normpath(os.path.join(inst.module.shown or ".", source))
        shown_dir = "" if shown_dir == "." else shown_dir
        key = f"{config.confined.root}\n{directory}"  # read through this root's confinement
        module = config.parsed.get(key)
        if module is None or module.shown != shown_dir:
            module = load_module(directory, shown_dir, config.confined, root=False)
            config.parsed[key] = module
        config.budget.read(sum(len(t) for t in module.texts.values()), call.line)
        config.modules[directory] = module
        config.texts.update(module.texts)
        config.reads.update(module.files)
    return module


def module_value(config: Config, inst: Instance, name: str, ctx: Ctx, spot: Spot) -> V:
    call = inst.module.find("module", name)
    if call is None:
        return Unknown(ctx.un.add(f"module.{name}", f"module.{name} is not called in this module"), spot, True)
    children = module_instances(config, inst, call, ctx.depth)
    if children is None:
        return Unknown(ctx.un.add(f"module.{name}", f"module.{name}: a module this reader does not read"), spot)
    made = [(key, ModuleValue(child, spot)) for key, child in children]
    if "count" in call.attrs:
        return V([m for _, m in made], spot)
    if "for_each" in call.attrs:
        if len(made) == 1 and made[0][0] is None:
            return Unknown(ctx.un.add(f"module.{name}", f"module.{name}: its for_each is not decided"), spot)
        return V({str(k.value): m for k, m in made if k is not None}, spot)
    return made[0][1]


def output(config: Config, child: Instance, name: str, ctx: Ctx, spot: Spot) -> V:
    """module.NAME.OUTPUT: the output of a child module instance, evaluated once per instance."""
    text = f"{child.prefix}{name}"

    def compute(own: Unresolved) -> V:
        block = child.module.find("output", name)
        value = config.ev.attr(block, "value", child.ctx(own, {}, ctx.depth + 1)) if block is not None else None
        if value is None:
            return Unknown(own.add(text, f"{child.prefix.rstrip('.')} has no output {name}"), spot, True)
        return value

    return remembered(child, ("output", name), ctx, compute,
                      lambda own: Unknown(own.add(text, f"{text} refers to itself (a cycle Terraform rejects)"), spot, True))


# --- traversals -------------------------------------------------------------------------------------

def _chain(node) -> tuple[object, list[tuple[str, object]]]:
    """A traversal as its root (a name, or an expression tree) and its steps: ("attr", name),
    ("index", expression tree), ("splat", steps)."""
    from lark import Tree

    kids = children_of(node)
    if node.data == "expr_term" and len(kids) == 1 and isinstance(kids[0], Tree):
        return _chain(kids[0])
    if node.data == "identifier":
        return str(node.children[0]), []
    if node.data in ("get_attr_expr_term", "index_expr_term", "attr_splat_expr_term", "full_splat_expr_term"):
        base, steps = _chain(kids[0])
        tail = kids[1]
        if node.data in ("attr_splat_expr_term", "full_splat_expr_term"):
            return base, [*steps, ("splat", [_step(s) for s in children_of(tail) if isinstance(s, Tree)])]
        return base, [*steps, _step(tail)]
    return node, []


def _step(node) -> tuple[str, object]:
    from lark import Token, Tree

    if node.data == "get_attr":
        name = [c for c in node.children if isinstance(c, Tree)][-1]
        return ("attr", str(name.children[0]))
    if node.data == "short_index":
        return ("index", int(str([c for c in node.children if isinstance(c, Token) and c.type == "INT_LITERAL"][-1])))
    return ("index", [c for c in children_of(node) if isinstance(c, Tree)][0])


def traversal(ev: Evaluates, node, ctx: Ctx, spot: Spot) -> V:
    config: Config = ev.config
    inst: Instance = ctx.inst  # type: ignore[assignment]
    root, steps = _chain(node)
    text = ev.source_text(node, ctx)
    if not isinstance(root, str):
        value = ev.eval(root, ctx)
    elif root in ctx.names:
        value = ctx.names[root]
    elif ctx.template:
        return Unknown(ctx.un.add(text, f"{text}: not available here (a template file sees only the variables given to "
                                        "it; a variable's default and a tfvars file hold literal values)"), spot, True)
    else:
        head = [s[1] for s in steps[:2]]
        name = head[0] if head and steps[0][0] == "attr" else None
        if root == "var" and isinstance(name, str):
            value, steps = variable(config, inst, name, ctx, spot), steps[1:]
        elif root == "local" and isinstance(name, str):
            value, steps = local(config, inst, name, ctx, spot), steps[1:]
        elif root == "path" and name in ("module", "root", "cwd"):
            # path.module and path.root relative to the root module's directory, path.cwd absolute (Terraform
            # runs there)
            where = {"module": inst.path_module, "root": ".", "cwd": config.root.module.directory}[name]
            value, steps = V(where, spot), steps[1:]
        elif root == "module" and isinstance(name, str):
            value, steps = module_value(config, inst, name, ctx, spot), steps[1:]
        elif root == "data" and len(steps) >= 2 and steps[1][0] == "attr" and isinstance(name, str):
            block = inst.module.find("data", name, str(steps[1][1]))
            if block is None:
                return Unknown(ctx.un.add(text, f"{text}: no such data source in this module"), spot, True)
            value, steps = resource_value(config, inst, block, ctx, spot), steps[2:]
        elif root in ("count", "each", "self") or root == "terraform":
            why = "known only to Terraform" if root == "terraform" else f"{root} is not available here"
            return Unknown(ctx.un.add(text, f"{text}: {why}"), spot, root != "terraform")
        elif isinstance(name, str):
            block = inst.module.find("resource", root, name)
            if block is None:  # declared in a file not read, or nowhere (Terraform rejects that)
                return Unknown(ctx.un.add(text, f"{text}: known only once Terraform has planned or applied it (audit "
                                                "the plan JSON to see it)"), spot)
            value, steps = resource_value(config, inst, block, ctx, spot), steps[1:]
        else:
            return Unknown(ctx.un.add(text, f"{text}: not something the configuration decides"), spot, True)
    for step in steps:
        if isinstance(value, Unknown):
            break
        value = _apply(ev, value, step, ctx, spot, text)
    return value


def _apply(ev: Evaluates, value: V, step: tuple[str, object], ctx: Ctx, spot: Spot, text: str) -> V:
    config: Config = ev.config
    kind, arg = step
    if kind == "splat":
        items = value.value if isinstance(value.value, list) else [] if value.value is None else [value]
        out = []
        for item in items:
            for inner in arg:  # type: ignore[attr-defined]
                if isinstance(item, Unknown):
                    break
                item = _apply(ev, item, inner, ctx, spot, text)
            out.append(item)
        config.budget.items(len(out), spot.line)
        return V(out, spot)
    if kind == "index" and not isinstance(arg, int):
        key_v = ev.eval(arg, ctx)
        if is_unknown(key_v):
            return Unknown(ctx.un.add(text, f"{text}: an index the configuration does not decide"), spot)
        arg = key_v.value
    if isinstance(value, ResourceValue) and kind == "attr":
        return instance_attr(config, value, str(arg), ctx, spot)
    if isinstance(value, ModuleValue) and kind == "attr":
        return output(config, value.child, str(arg), ctx, spot)
    raw = value.value
    if isinstance(raw, dict) and isinstance(arg, (str, int)) and not isinstance(arg, bool) and str(arg) in raw:
        return raw[str(arg)]
    if isinstance(raw, list) and not isinstance(value, SetV) and kind == "index":
        index = int(arg) if isinstance(arg, (int, float)) and not isinstance(arg, bool) and float(arg).is_integer() else None
        if index is not None and 0 <= index < len(raw):
            return raw[index]
    return Unknown(ctx.un.add(text, f"{text}: no such element (Terraform rejects the reference)"), spot, True)


def references(node) -> list[str]:
    """The resources and data sources an expression refers to, by address without instance keys
    (`aws_iam_group.deploy.name` → aws_iam_group.deploy, `data.aws_iam_policy_document.d[0].json` →
    data.aws_iam_policy_document.d), read from its tree."""
    from lark import Tree

    out: list[str] = []
    if not isinstance(node, Tree):
        return out
    if node.data in ("identifier", "get_attr_expr_term", "index_expr_term", "attr_splat_expr_term", "full_splat_expr_term"):
        root, steps = _chain(node)
        names = [s[1] for s in steps if s[0] == "attr"][:2]
        if isinstance(root, str) and root == "data" and len(names) == 2 and steps[0][0] == steps[1][0] == "attr":
            out.append(f"data.{names[0]}.{names[1]}")
        elif isinstance(root, str) and root not in ("var", "local", "module", "path", "each", "count", "self", "terraform") \
                and names and steps[0][0] == "attr":
            out.append(f"{root}.{names[0]}")
    for child in node.children:
        out.extend(references(child))
    return out


def blocks(config: Config, block: Block, kind: str, ctx: Ctx, owner: str) -> list[tuple[Block, Ctx]]:
    """The nested blocks of type `kind`, with the names they are evaluated with: those written, and
    those a `dynamic "kind"` block makes (one per element of its for_each), in the order written."""
    out: list[tuple[Block, Ctx]] = []
    for inner in block.blocks:
        if inner.type == kind:
            out.append((inner, ctx))
            continue
        if inner.type != "dynamic" or not inner.labels or inner.labels[0] != kind:
            continue
        content = next((c for c in inner.blocks if c.type == "content"), None)
        if content is None:
            continue
        iterator = kind
        if "iterator" in inner.attrs:
            root, steps = _chain(inner.attrs["iterator"])
            iterator = root if isinstance(root, str) and not steps else kind
        coll = config.ev.attr(inner, "for_each", ctx) if "for_each" in inner.attrs else None
        # a list or map of known length makes its blocks, undecided values and all; a set with an undecided
        # element may have fewer elements than written: undecided
        decided = coll is not None and not isinstance(coll, Unknown) and not (isinstance(coll, SetV) and is_unknown(coll))
        pairs = config.ev.iterate(coll) if coll is not None and decided else None
        if pairs is None:
            config.assume(inner.spot, f'dynamic "{kind}" block in {owner}',
                          f"assumed 0 {kind} blocks: its for_each is not decided by the configuration")
            continue
        config.budget.items(len(pairs), inner.line)
        for key, value in pairs:
            out.append((content, ctx.bind({iterator: V({"key": key, "value": value}, value.spot)})))
    return out


def instances(config: Config) -> list[Instance]:
    """Every module instance of the configuration, the root first, each before its children."""
    out: list[Instance] = []
    todo = [config.root]
    while todo:
        inst = todo.pop(0)
        out.append(inst)
        for call in inst.module.of_type("module"):
            children = module_instances(config, inst, call)
            todo.extend(child for _, child in children or [])
    return out


__all__ = ["Config", "Instance", "ModuleValue", "ResourceValue", "address_of", "blocks", "expand", "instances",
           "key_suffix", "line_of", "references", "resource_value", "traversal"]
