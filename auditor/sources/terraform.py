"""Terraform configuration (.tf): the IAM groups, users and roles a configuration creates, with the
policies it attaches to them, and the policies it attaches to none.

The file given is read with its module (every .tf file of its directory, its tfvars, --var and
--var-file: tf_load.py) and the local modules it calls (tf_refs.py), all through the repository-confined
reader (confined.py). The configuration is evaluated as Terraform would at plan time where it alone
decides (tf_eval.py, tf_template.py, tf_functions.py, tf_operators.py): count and for_each make one
principal or policy per instance (none for a count of 0), dynamic blocks make their blocks, and
`aws_iam_policy_document` data sources render as the AWS provider renders them (tf_policy_document.py).
This module assembles what that gives into principals (iac.IacPrincipal):

- `aws_iam_group`, `aws_iam_user`, `aws_iam_role` (and a role's `inline_policy` blocks and
  `managed_policy_arns`); `aws_iam_group_policy`/`_user_policy`/`_role_policy` (inline);
  `aws_iam_policy` attached by `aws_iam_*_policy_attachment` or `aws_iam_policy_attachment`, matched by
  the resource they reference (`aws_iam_group.deploy.name`, `aws_iam_policy.p[0].arn`, a module's
  output) or by name; a policy ARN that is no policy of the configuration is a managed policy by ARN;
- a policy attached to no principal of the configuration, or a policy document nothing refers to, is a
  policy of its own.

Anything the configuration does not decide stays a named placeholder in the policy (iac.py) or, when it
decides what exists (a count, a for_each, a dynamic block, a module that is not read, a variable with no
value), an Assumption at its file and line that the not-evaluated check reports. Over a budget
(tf_values.py), the file is an `invalid` finding naming the budget.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

from auditor.model import Policy, Problem
from auditor.sources.confined import Confined, repository_root
from auditor.sources.iac import (
    IacFile,
    IacPrincipal,
    MappedOrigin,
    Spot,
    Unresolved,
    V,
    policy_from_text,
    policy_from_value,
    unreadable,
)
from auditor.sources.tf_context import Ctx
from auditor.sources.tf_eval import Evaluator
from auditor.sources.tf_load import MAX_TF_BYTES, MAX_TF_LINES, Block, CliVariables, load_module
from auditor.sources.tf_refs import (
    PLAN_ANSWER,
    Config,
    Instance,
    ResourceValue,
    address_of,
    blocks,
    expand,
    instances,
    key_suffix,
    references,
)
from auditor.sources.tf_values import Attr, BudgetError, Doc, HclError, ResourceAttr, Text, Unknown

PRINCIPALS = {"aws_iam_group": "group", "aws_iam_user": "user", "aws_iam_role": "role"}
INLINE = {"aws_iam_group_policy": "group", "aws_iam_user_policy": "user", "aws_iam_role_policy": "role"}
ATTACH = {"aws_iam_group_policy_attachment": "group", "aws_iam_user_policy_attachment": "user",
          "aws_iam_role_policy_attachment": "role"}
__all__ = ["PLAN_ANSWER", "read"]


def read(path: str, text: str, *, region: str | None = None, account: str | None = None, memo: dict | None = None,
         variables: CliVariables | None = None, root: str | None = None) -> IacFile:
    """The principals and policies `path` defines or contributes to, with its configuration as context.
    `root`: the directory given on the command line, the repository root when no .git is found above."""
    if len(text.encode("utf-8")) > MAX_TF_BYTES or text.count("\n") > MAX_TF_LINES:
        return unreadable(path, f"refused: larger than {MAX_TF_BYTES // 1024} KiB or {MAX_TF_LINES:,} lines (the HCL "
                                "parser reads about 5,000 lines a second); split the file or audit the plan JSON")
    try:
        config = _config(path, text, region, account, memo if memo is not None else {}, variables, root)
        return _assemble(config, path)
    except HclError as exc:
        return unreadable(path, str(exc), exc.line)
    except RecursionError:
        return unreadable(path, "not valid HCL: nested too deeply")


def _config(path: str, text: str, region: str | None, account: str | None, memo: dict, variables: CliVariables | None,
            root: str | None) -> Config:
    """The configuration `path` belongs to, parsed and set up once for all the files of its directory."""
    directory = os.path.dirname(os.path.abspath(path))
    key = ("terraform", directory, region, account, variables, root)
    config = memo.get(key)
    if config is None or isinstance(config, HclError):
        top = repository_root(directory) or (os.path.abspath(root) if root else directory)
        if not Confined(top).inside(directory):
            top = directory
        module = load_module(directory, os.path.dirname(path), Confined(top), given=(path, text))
        config = Config(module, Confined(top), region, account, variables, memo.setdefault("terraform modules", {}),
                        evaluator=Evaluator)
        memo[key] = config
    elif not any(b.path == path for b in config.root.module.blocks):
        config.texts[path] = text  # a file of the module read under another name: its blocks are there already
    return config


# --- assembly ---------------------------------------------------------------------------------------

@dataclass
class _Principal:
    kind: str
    name: str
    address: str
    block: Block
    files: set[str]
    policies: list[Policy] = field(default_factory=list)
    arns: list[str] = field(default_factory=list)


@dataclass
class _Loose:
    policy: Policy
    files: set[str]
    attached: bool = False


def _assemble(config: Config, path: str) -> IacFile:
    ev = config.ev
    principals: dict[str, _Principal] = {}
    by_name: dict[tuple[str, str], list[str]] = {}
    policies: dict[str, _Loose] = {}  # aws_iam_policy instances and inline policies without a holder, by address
    pending: list[tuple[Instance, Block, dict, str]] = []  # the attachments and inline policies, once principals are known
    all_instances = instances(config)  # every module read: the documents they use are known then
    used = _used_documents(config)
    for inst in all_instances:
        calls = {c.path for c in inst.calls}
        for block in inst.module.of_type("resource"):
            rtype = block.labels[0] if block.labels else ""
            if len(block.labels) < 2:
                continue
            for key, names in expand(config, inst, block):
                address = f"{inst.prefix}{address_of(block)}{key_suffix(key)}"
                ctx = inst.ctx(Unresolved(), names)
                if rtype in PRINCIPALS:
                    name_v = ev.attr(block, "name", ctx)
                    name = name_v.value if name_v is not None and isinstance(name_v.value, str) and name_v.value \
                        and not isinstance(name_v, Unknown) else address
                    p = _Principal(PRINCIPALS[rtype], name, address, block, {block.path, *calls})
                    principals[address] = p
                    by_name.setdefault((p.kind, name), []).append(address)
                    for inner, inner_ctx in blocks(config, block, "inline_policy", ctx, address):
                        if "policy" not in inner.attrs:
                            continue
                        label = ev.attr(inner, "name", inner_ctx)
                        shown = label.value if label is not None and isinstance(label.value, str) else inner.pointer.rsplit("/", 1)[-1]
                        p.policies.append(_policy(config, f"{block.path}#{address}/inline_policy/{shown}", inner, "policy", inner_ctx))
                    pending.append((inst, block, names, address))
                elif rtype == "aws_iam_policy" and "policy" in block.attrs:
                    policies[address] = _Loose(_policy(config, f"{block.path}#{address}", block, "policy", ctx), {block.path, *calls})
                elif rtype in INLINE or rtype in ATTACH or rtype == "aws_iam_policy_attachment":
                    pending.append((inst, block, names, address))
    for inst, block, names, address in pending:
        rtype = block.labels[0]
        ctx = inst.ctx(Unresolved(), names)
        calls = {c.path for c in inst.calls}
        if rtype in PRINCIPALS:
            _managed_arns(config, principals[address], block, ctx, policies)
        elif rtype in INLINE:
            if "policy" not in block.attrs:
                continue
            policy = _policy(config, f"{block.path}#{address}", block, "policy", ctx)
            holders = _owners(config, INLINE[rtype], block, INLINE[rtype], ctx, principals, by_name)
            for holder in holders:
                principals[holder].policies.append(policy)
                principals[holder].files.add(block.path)
            if not holders:
                policies[address] = _Loose(policy, {block.path, *calls})
        else:
            pairs = [(ATTACH[rtype], ATTACH[rtype])] if rtype in ATTACH else [("group", "groups"), ("user", "users"), ("role", "roles")]
            holders = [h for kind, attr in pairs for h in _owners(config, kind, block, attr, ctx, principals, by_name)]
            arn = ev.attr(block, "policy_arn", ctx)
            for holder in holders:
                _attach(principals[holder], arn, policies, block)
    out = []
    files_of_file = {path}
    for p in principals.values():
        if path not in p.files:
            continue
        files_of_file |= p.files
        unique = list(dict.fromkeys(p.policies))
        out.append(IacPrincipal(p.kind, p.name, p.address, p.block.spot, tuple(unique), tuple(p.arns)))
    loose = [item.policy for item in policies.values() if not item.attached and path in item.files]
    for inst in all_instances:
        calls = {c.path for c in inst.calls}
        for block in inst.module.of_type("data", "aws_iam_policy_document"):
            if (inst.module.directory, address_of(block)) in used or path not in {block.path, *calls}:
                continue
            for key, names in expand(config, inst, block):
                address = f"{inst.prefix}{address_of(block)}{key_suffix(key)}"
                res = ResourceValue(inst, block, key, names, address)
                un = Unresolved()
                from auditor.sources.tf_policy_document import document

                doc = document(config, res, inst.ctx(un, names))
                loose.append(_from_value(f"{block.path}#{address}", doc, block.spot, un))
    files_of_file |= {f for item in policies.values() if path in item.files for f in item.files}
    skipped = [s for module in config.modules.values() for s in module.skipped]
    notes = (f"{path}: not read for context (variables, locals, other policies): {', '.join(skipped)}",) if skipped else ()
    assumptions = tuple(a for a in config.assumptions.values() if a.location.source in files_of_file)
    return IacFile(path, tuple(out), tuple(dict.fromkeys(loose)), notes=notes, assumptions=assumptions,
                   reads=tuple(sorted(config.reads)))


def _owners(config: Config, kind: str, block: Block, attr: str, ctx: Ctx, principals: dict[str, _Principal],
            by_name: dict[tuple[str, str], list[str]]) -> list[str]:
    """The principals of `kind` an attribute names: by the resource it refers to, else by IAM name."""
    value = config.ev.attr(block, attr, ctx)
    if value is None:
        return []
    items = value.value if isinstance(value.value, list) and not isinstance(value, Unknown) else [value]
    found: list[str] = []
    for item in items:
        address = getattr(item, "address", None)
        if isinstance(item, (Attr, ResourceAttr, ResourceValue)) and address in principals and principals[address].kind == kind:
            found.append(address)
        elif isinstance(item.value, str):
            found += by_name.get((kind, item.value), [])
    return list(dict.fromkeys(found))


def _attach(holder: _Principal, arn: V | None, policies: dict[str, _Loose], block: Block) -> None:
    """A policy ARN attached to a principal: a policy of the configuration, else a managed policy by ARN."""
    if arn is None:
        return
    address = getattr(arn, "address", None)
    if isinstance(arn, ResourceAttr) and address in policies and arn.attr == "arn":
        holder.policies.append(policies[address].policy)
        holder.files |= policies[address].files | {block.path}
        policies[address].attached = True
    elif isinstance(arn.value, str):
        holder.arns.append(arn.value)
        holder.files.add(block.path)


def _managed_arns(config: Config, holder: _Principal, block: Block, ctx: Ctx, policies: dict[str, _Loose]) -> None:
    value = config.ev.attr(block, "managed_policy_arns", ctx)
    if value is None:
        return
    for item in value.value if isinstance(value.value, list) and not isinstance(value, Unknown) else [value]:
        _attach(holder, item, policies, block)


def _used_documents(config: Config) -> set[tuple[str, str]]:
    """(module directory, address) of every policy document data source some block refers to: it is audited
    where it is used (a policy, a role's trust policy, a bucket policy, a local), or not at all."""
    used: set[tuple[str, str]] = set()
    for module in config.modules.values():
        for block in module.blocks:
            own = address_of(block) if block.type in ("data", "resource") else None
            for ref in _block_refs(block):
                if ref != own:
                    used.add((module.directory, ref))
    return used


def _block_refs(block: Block) -> list[str]:
    out = [ref for expr in block.attrs.values() for ref in references(expr)]
    for inner in block.blocks:
        out += _block_refs(inner)
    return out


def _policy(config: Config, name: str, block: Block, attr: str, ctx: Ctx) -> Policy:
    un = Unresolved()
    whole = block.attr_spot(attr)
    try:
        value = config.ev.attr(block, attr, replace(ctx, un=un))
    except BudgetError:
        raise
    except HclError as exc:
        return Policy(name, "", (), (Problem("", str(exc), name),), origin=MappedOrigin({}, whole))
    assert value is not None
    return _from_value(name, value, whole, un)


def _from_value(name: str, value: V, whole: Spot, un: Unresolved) -> Policy:
    if isinstance(value, Doc):
        policy = policy_from_value(name, value.doc, whole, un.found)
        if value.problems:
            extra = tuple(Problem("", message, name, line) for message, line in value.problems)
            policy = replace(policy, problems=(*policy.problems, *extra))
        return policy
    if isinstance(value, Unknown):  # the whole document is undecided
        return Policy(name, value.value, (), (), origin=MappedOrigin({}, whole), unresolved=((value.value, un.found.get(value.value, "")),))
    if isinstance(value.value, str):
        if isinstance(value, Text):
            first = value.first_line
            return policy_from_text(name, value.value, value.spot if first is not None else whole, first, un.found)
        return policy_from_text(name, value.value, whole, None, un.found)
    return policy_from_value(name, value, whole, un.found)
