"""CloudFormation and SAM templates, YAML or JSON (CDK synth output is a JSON template): IAM groups,
users and roles with their inline `Policies` and `ManagedPolicyArns`, and `AWS::IAM::Policy`,
`AWS::IAM::ManagedPolicy` and `AWS::IAM::{Group,User,Role}Policy` resources attached to them.

YAML is read with PyYAML's composer (imported only here), which keeps every node's line; the short-form
intrinsic tags (`!Sub`, `!Ref`, `!GetAtt`, `!Join`, `!If`, ...) become their long form (`Fn::Sub`, ...).
An unknown tag, a syntax error or an alias bomb is an `invalid` finding at its line.

The template is read as CloudFormation applies it (cfn_resolve.py: parameters with --parameter values
over Defaults, pseudo parameters, conditions, intrinsic functions): a resource whose `Condition` is
false is not created; `Fn::If` and `AWS::NoValue` remove a Policies or ManagedPolicyArns entry, a
Groups/Users/Roles entry, a statement or a list element. What the template does not decide stays a named
placeholder (see iac.py), or, for a condition, is assumed true and said (a not-evaluated finding at its
line), as are macros (a Transform other than SAM's, Fn::ForEach). A policy that renders to more than a
policy file may hold (2 MiB) is an `invalid` finding, as is a template past its budgets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping

from auditor.model import Assumption
from auditor.model import pointer as make_pointer
from auditor.sources.file import MAX_BYTES
from auditor.sources.cfn_resolve import EXACT, SAM_TRANSFORM, Budget, Resolver, TemplateError
from auditor.sources.iac import (
    IacFile,
    IacPrincipal,
    Spot,
    Unresolved,
    V,
    policy_from_value,
    unreadable,
)

SHORT_TAGS = frozenset({"Ref", "Sub", "GetAtt", "Join", "If", "Select", "Split", "FindInMap", "ImportValue",
                        "Base64", "Cidr", "GetAZs", "Equals", "And", "Or", "Not", "Condition", "Transform",
                        "ToJsonString", "Length"})
PRINCIPAL_TYPES = {"AWS::IAM::Group": "group", "AWS::IAM::User": "user", "AWS::IAM::Role": "role"}
NAME_PROPERTY = {"group": "GroupName", "user": "UserName", "role": "RoleName"}
ATTACHED_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
ONE_PRINCIPAL_POLICY = {"AWS::IAM::GroupPolicy": ("group", "GroupName"), "AWS::IAM::UserPolicy": ("user", "UserName"),
                        "AWS::IAM::RolePolicy": ("role", "RoleName")}


# --- reading: YAML or JSON into a V tree ------------------------------------------------------

def _yaml_tree(text: str, path: str, budget: Budget) -> V:
    import yaml

    try:  # the pure-Python composer: its recursion is bounded (RecursionError); LibYAML's is not checked
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise TemplateError(f"not YAML: {exc.problem or exc.context}", mark.line + 1 if mark else None) from exc
    except yaml.YAMLError as exc:
        raise TemplateError(f"not YAML: {str(exc).splitlines()[0]}") from exc
    if node is None:
        raise TemplateError("the template is empty")
    return _from_node(node, path, "", budget, 0)


_INT = re.compile(r"[-+]?(0|[1-9][0-9_]*)$")
_FLOAT = re.compile(r"[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+]?[0-9]+)?$")


def _scalar(node) -> object:
    tag, value = node.tag, node.value
    if node.style is not None:  # quoted or block scalars are strings
        return value
    if tag.endswith(":null"):
        return None
    if tag.endswith(":bool"):
        return value.lower() in ("true", "yes", "on", "y")
    if tag.endswith(":int") and _INT.match(value):
        return int(value.replace("_", ""))
    if tag.endswith(":float") and _FLOAT.match(value):
        return float(value.replace("_", ""))
    return value  # str, and timestamps such as an unquoted Version: 2012-10-17, kept as written


def _from_node(node, path: str, at: str, budget: Budget, depth: int, line: int | None = None) -> V:
    """A node as a V tree. `line`: where a mapping's value is said to be (its key's line: a block
    mapping or list starts on the line after its key). PyYAML composes an alias as the node it names,
    shared: each use is built and charged to the budget (elements and characters), so an alias bomb
    stops at the budget, whatever the file's size."""
    import yaml

    budget.spend(1, len(node.value) if isinstance(node, yaml.ScalarNode) else 0, "the template's values (aliases expanded)")
    if depth > 200:
        raise TemplateError("template nested too deeply", node.start_mark.line + 1)
    spot = Spot(path, at, line or node.start_mark.line + 1)
    tag = node.tag or ""
    short = tag[1:] if tag.startswith("!") else None
    if short is not None and short not in SHORT_TAGS:
        raise TemplateError(f"unknown tag {tag} (CloudFormation's short forms are !{', !'.join(sorted(SHORT_TAGS))})",
                            node.start_mark.line + 1)
    if short is not None:
        key = "Ref" if short == "Ref" else "Condition" if short == "Condition" else f"Fn::{short}"
        inner_at = f"{at}/{make_pointer(key)[1:]}"
        if isinstance(node, yaml.ScalarNode):
            if short == "GetAtt":
                obj, _, attr = node.value.partition(".")
                inner = V([V(obj, spot), V(attr, spot)], Spot(path, inner_at, spot.line))
            else:
                inner = V(node.value, Spot(path, inner_at, spot.line))
        else:
            inner = _from_node(_untagged(node), path, inner_at, budget, depth + 1)
        return V({key: inner}, spot)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, V] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            if key not in out:
                out[key] = _from_node(value_node, path, f"{at}/{make_pointer(key)[1:]}", budget, depth + 1,
                                      key_node.start_mark.line + 1)
        return V(out, spot)
    if isinstance(node, yaml.SequenceNode):
        return V([_from_node(item, path, f"{at}/{i}", budget, depth + 1) for i, item in enumerate(node.value)], spot)
    return V(_scalar(node), spot)


def _untagged(node):
    """The same sequence or mapping node without its short-form tag (so it is read as plain data)."""
    import yaml

    if isinstance(node, yaml.SequenceNode):
        return yaml.SequenceNode("tag:yaml.org,2002:seq", node.value, node.start_mark, node.end_mark)
    return yaml.MappingNode("tag:yaml.org,2002:map", node.value, node.start_mark, node.end_mark)


def _json_tree(text: str, path: str) -> V:
    from auditor.source_map import SourceMap

    try:
        data = json.loads(text)
    except ValueError as exc:
        raise TemplateError(f"not JSON: {exc}") from exc
    except RecursionError as exc:
        raise TemplateError("not JSON: nesting too deep") from exc
    smap = SourceMap(text)
    return _from_json(data, path, "", smap.line)


def _from_json(value: object, path: str, at: str, line_of: Callable[[str], int | None]) -> V:
    spot = Spot(path, at, line_of(at))
    if isinstance(value, dict):
        return V({str(k): _from_json(v, path, f"{at}/{make_pointer(str(k))[1:]}", line_of) for k, v in value.items()}, spot)
    if isinstance(value, list):
        return V([_from_json(v, path, f"{at}/{i}", line_of) for i, v in enumerate(value)], spot)
    return V(value, spot)


# --- principals and their policies ------------------------------------------------------------

def _prop(resource: V, name: str) -> V | None:
    props = resource.value.get("Properties") if isinstance(resource.value, dict) else None
    if props is None or not isinstance(props.value, dict):
        return None
    return props.value.get(name)


def _type(resource: V) -> str:
    kind = resource.value.get("Type") if isinstance(resource.value, dict) else None
    return kind.value if kind is not None and isinstance(kind.value, str) else ""


def _entries(resolver: Resolver, value: V | None, what: str) -> list[V]:
    """The entries of a Policies, ManagedPolicyArns, Groups, Users or Roles property (a single value
    counts as one), with Fn::If applied and AWS::NoValue left out at the property and at each entry, as
    CloudFormation does (intrinsic-function-reference-conditions.html, Fn::If's "conditionally remove a
    property" example)."""
    chosen = resolver.choose(value, what)
    if chosen is None:
        return []
    items = chosen.value if isinstance(chosen.value, list) else [chosen]
    return [picked for item in items if (picked := resolver.choose(item, what)) is not None]


def read(path: str, text: str, *, region: str | None = None, account: str | None = None,
         parameters: Mapping[str, str] | None = None, **_: object) -> IacFile:
    """Every IAM principal of the template with its policies, and the policies attached to none.
    `parameters`: values for the template's parameters (--parameter), over their Defaults."""
    budget = Budget()
    try:
        stripped = text.lstrip()
        tree = _json_tree(text, path) if stripped.startswith("{") else _yaml_tree(text, path, budget)
        if not isinstance(tree.value, dict):
            raise TemplateError("not a CloudFormation template: the document is not a mapping")
        return _read(path, tree.value, Resolver(path, tree.value, region, account, parameters, budget))
    except TemplateError as exc:
        return unreadable(path, f"not a CloudFormation template: {exc}" if not str(exc).startswith("not ") else str(exc),
                          exc.line)
    except RecursionError:
        return unreadable(path, "not a CloudFormation template: nested too deeply")


def _not_run(template: dict[str, V], resources: dict[str, V]) -> list[Assumption]:
    """Macros the template calls, which CloudFormation runs before it creates anything and this reader
    does not: a Transform other than SAM's (SAM makes function roles, not the deploy principal), and
    AWS::LanguageExtensions' Fn::ForEach resources."""
    from auditor.model import Location

    found = []
    transform = template.get("Transform")
    names = transform.value if transform is not None and isinstance(transform.value, list) else [transform] if transform else []
    for item in names:
        named = item.value.get("Name") if isinstance(item.value, dict) else None
        name = item.value if isinstance(item.value, str) else named.value if named is not None else None
        if name != SAM_TRANSFORM:
            found.append(Assumption(Location(item.spot.path, item.spot.pointer, None, item.spot.line), f"Transform {name}",
                                    "the macro is not run: the template is audited as written", EXACT))
    for key, value in resources.items():
        if key.startswith("Fn::ForEach::"):
            found.append(Assumption(Location(value.spot.path, value.spot.pointer, None, value.spot.line), key,
                                    "the resources it makes are not part of this audit", EXACT))
    return found


def _read(path: str, template: dict[str, V], resolver: Resolver) -> IacFile:
    resources = resolver.resources
    file_level = _not_run(template, resources)  # every target of the file gets these
    principals: dict[str, dict] = {}  # logical id → kind, name, spot, policies, managed ARNs, assumptions
    by_name: dict[tuple[str, str], str] = {}
    assumed: dict[int, list[Assumption]] = {}  # a policy → what its reading assumed

    def created(logical: str, resource: V) -> bool:
        """Is the resource created? Its Condition decides (conditions-section-structure.html: a resource
        whose condition is false is not created); undecided, it is assumed created, and said."""
        condition = resource.value.get("Condition") if isinstance(resource.value, dict) else None
        if condition is None or not isinstance(condition.value, str):
            return True
        decided = resolver.condition(condition.value)
        if decided is None:
            resolver.assume(condition.spot, f"Condition {condition.value} on {logical}",
                            f"{condition.value} is assumed true, so {logical} is audited as created "
                            f"({resolver.why(condition.value)})")
            return True
        return decided

    def policy_of(name: str, document: V, sink: list[Assumption]):
        policy, found = _policy(resolver, name, document)
        assumed.setdefault(id(policy), []).extend([*sink, *found])
        resolver.assumptions = sink
        return policy

    for logical, resource in resources.items():
        kind = PRINCIPAL_TYPES.get(_type(resource))
        if kind is None:
            continue
        own: list[Assumption] = []
        resolver.assumptions = own
        if not created(logical, resource):
            continue
        scratch = Unresolved()
        name_value = _prop(resource, NAME_PROPERTY[kind])
        name = logical
        if name_value is not None:
            resolved = resolver.resolve(name_value, scratch)
            if isinstance(resolved, V) and isinstance(resolved.value, str) and not scratch.found:
                name = resolved.value
        principals[logical] = {"kind": kind, "name": name, "spot": resource.spot, "policies": [], "arns": [], "assumed": own,
                               "groups": _entries(resolver, _prop(resource, "Groups"), logical) if kind == "user" else []}
        by_name[(kind, name)] = logical
        for i, entry in enumerate(_entries(resolver, _prop(resource, "Policies"), f"{logical} Policies")):
            if not isinstance(entry.value, dict) or "PolicyDocument" not in entry.value:
                continue
            label = _policy_name(resolver, entry.value.get("PolicyName"), str(i))
            principals[logical]["policies"].append(
                policy_of(f"{path}#{logical}/Policies/{label}", entry.value["PolicyDocument"], own))
        principals[logical]["arns"] = _entries(resolver, _prop(resource, "ManagedPolicyArns"), f"{logical} ManagedPolicyArns")

    def owner(kind: str, entry: V) -> str | None:
        """The logical id of the principal a Groups/Users/Roles entry names (a Ref, or its name)."""
        value = entry.value
        if isinstance(value, dict) and set(value) == {"Ref"} and isinstance(value["Ref"].value, str):
            ref = value["Ref"].value
            return ref if ref in principals and principals[ref]["kind"] == kind else None
        scratch = Unresolved()
        resolved = resolver.resolve(entry, scratch)
        if isinstance(resolved, V) and isinstance(resolved.value, str):
            return by_name.get((kind, resolved.value))
        return None

    loose = []
    managed_by_id: dict[str, object] = {}
    for logical, resource in resources.items():
        rtype = _type(resource)
        if rtype in ATTACHED_TYPES or rtype in ONE_PRINCIPAL_POLICY:
            document = _prop(resource, "PolicyDocument")
            if document is None:
                continue
            sink: list[Assumption] = []
            resolver.assumptions = sink
            if not created(logical, resource):
                continue
            if rtype in ONE_PRINCIPAL_POLICY:
                kind, prop = ONE_PRINCIPAL_POLICY[rtype]
                holders = [(kind, _entries(resolver, _prop(resource, prop), f"{logical} {prop}"))]
            else:
                holders = [(kind, _entries(resolver, _prop(resource, prop), f"{logical} {prop}")) for kind, prop in
                           (("group", "Groups"), ("user", "Users"), ("role", "Roles"))]
            policy = policy_of(f"{path}#{logical}", document, sink)
            attached = False
            for kind, entries in holders:
                for entry in entries:
                    logical_owner = owner(kind, entry)
                    if logical_owner is not None:
                        principals[logical_owner]["policies"].append(policy)
                        attached = True
            if rtype == "AWS::IAM::ManagedPolicy":
                managed_by_id[logical] = policy
            if not attached:
                loose.append(policy)

    out = []
    for logical, info in principals.items():
        policies = list(info["policies"])
        arns: list[str] = []
        resolver.assumptions = info["assumed"]
        for entry in info["arns"]:
            value = entry.value
            if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"].value in managed_by_id:
                policy = managed_by_id[value["Ref"].value]
                if policy not in policies:
                    policies.append(policy)
                    if policy in loose:
                        loose.remove(policy)
                continue
            scratch = Unresolved()
            resolved = resolver.resolve(entry, scratch)
            arns.append(resolved.value if isinstance(resolved, V) and isinstance(resolved.value, str) else next(iter(scratch.found), "?"))
        if info["kind"] == "user":  # a user deploys with its groups' policies too
            for entry in info["groups"]:
                group = owner("group", entry)
                if group is not None:
                    policies += [p for p in principals[group]["policies"] if p not in policies]
        found = [*info["assumed"], *(a for p in policies for a in assumed.get(id(p), ()))]
        out.append(IacPrincipal(info["kind"], info["name"], logical, info["spot"], tuple(policies), tuple(arns),
                                tuple(dict.fromkeys(found))))
    file_level += [a for p in loose for a in assumed.get(id(p), ())]
    return IacFile(path, tuple(out), tuple(loose), assumptions=tuple(dict.fromkeys(file_level)))


def _policy_name(resolver: Resolver, value: V | None, default: str) -> str:
    if value is None:
        return default
    resolved = resolver.resolve(value, Unresolved())
    return resolved.value if isinstance(resolved, V) and isinstance(resolved.value, str) else default


def _policy(resolver: Resolver, name: str, document: V):
    """The policy a PolicyDocument renders to, and what resolving it assumed. Over a budget, or larger than
    a policy file may be (2 MiB), it is an `invalid` finding naming the limit, and nothing is rendered."""
    from auditor.model import Policy, Problem
    from auditor.sources.iac import MappedOrigin

    unresolved = Unresolved()
    found: list[Assumption] = []
    resolver.assumptions = found
    before = resolver.budget.chars
    try:
        resolved = resolver.resolve(document, unresolved)
    except TemplateError as exc:
        return Policy(name, "", (), (Problem("", str(exc), name, document.spot.line),),
                      origin=MappedOrigin({}, document.spot)), found
    if before - resolver.budget.chars > MAX_BYTES:
        message = f"refused: the policy comes to more than {MAX_BYTES // (1024 * 1024)} MiB (the cap of policy files)"
        return Policy(name, "", (), (Problem("", message, name, document.spot.line),),
                      origin=MappedOrigin({}, document.spot)), found
    if not isinstance(resolved, V):
        resolved = V({}, document.spot)
    return policy_from_value(name, resolved, document.spot, unresolved.found), found
