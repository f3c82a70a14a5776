"""CloudFormation and SAM templates, YAML or JSON (CDK synth output is a JSON template): IAM groups,
users and roles with their inline `Policies` and `ManagedPolicyArns`, and `AWS::IAM::Policy`,
`AWS::IAM::ManagedPolicy` and `AWS::IAM::{Group,User,Role}Policy` resources attached to them.

YAML is read with PyYAML's composer (imported only here), which keeps every node's line; the short-form
intrinsic tags (`!Sub`, `!Ref`, `!GetAtt`, `!Join`, `!If`, ...) become their long form (`Fn::Sub`, ...).
An unknown tag, a syntax error or an alias bomb is an `invalid` finding at its line.

Intrinsics are resolved where the template alone decides them: `Ref` and `Fn::Sub` of parameters (their
Default), of the pseudo-parameters AWS::Partition, AWS::URLSuffix, AWS::AccountId and AWS::Region (the
last two: --account/--region when given, else `*`, the stack's own account or region), `Fn::Join`,
`Fn::Select`, `Fn::Split`, `Fn::FindInMap`, `Fn::If` on conditions that parameter defaults decide, and
`AWS::NoValue`. Anything else (`!GetAtt Bucket.Arn`, `!Ref` to a resource, `Fn::ImportValue`, a parameter
without a default) stays a named placeholder (see iac.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from auditor.model import pointer as make_pointer
from auditor.sources.iac import (
    IacFile,
    IacPrincipal,
    Spot,
    Unresolved,
    V,
    plain,
    policy_from_value,
    unreadable,
)

SHORT_TAGS = frozenset({"Ref", "Sub", "GetAtt", "Join", "If", "Select", "Split", "FindInMap", "ImportValue",
                        "Base64", "Cidr", "GetAZs", "Equals", "And", "Or", "Not", "Condition", "Transform",
                        "ToJsonString", "Length"})
MAX_NODES = 200_000  # a template's nodes, aliases expanded: bounds an alias bomb
MAX_DEPTH = 64  # intrinsics nested in intrinsics, conditions in conditions
PRINCIPAL_TYPES = {"AWS::IAM::Group": "group", "AWS::IAM::User": "user", "AWS::IAM::Role": "role"}
NAME_PROPERTY = {"group": "GroupName", "user": "UserName", "role": "RoleName"}
ATTACHED_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
ONE_PRINCIPAL_POLICY = {"AWS::IAM::GroupPolicy": ("group", "GroupName"), "AWS::IAM::UserPolicy": ("user", "UserName"),
                        "AWS::IAM::RolePolicy": ("role", "RoleName")}
_SUB = re.compile(r"\$\{([^}]*)\}")


class TemplateError(Exception):
    """The file cannot be read as a template: one line, and the line of the file where known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


# --- reading: YAML or JSON into a V tree ------------------------------------------------------

def _yaml_tree(text: str, path: str) -> V:
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
    budget = [MAX_NODES]
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


def _from_node(node, path: str, at: str, budget: list[int], depth: int, line: int | None = None) -> V:
    """A node as a V tree. `line`: where a mapping's value is said to be (its key's line: a block
    mapping or list starts on the line after its key)."""
    import yaml

    budget[0] -= 1
    if budget[0] < 0:
        raise TemplateError(f"template too large: more than {MAX_NODES:,} values (aliases included)")
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
    from auditor.model import SourceMap

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


# --- intrinsics -------------------------------------------------------------------------------

NO_VALUE = object()


class Resolver:
    """Resolves intrinsic functions against one template's parameters, mappings and conditions."""

    def __init__(self, template: dict[str, V], region: str | None, account: str | None) -> None:
        self.template = template
        self.region, self.account = region, account
        self.resources = _section(template, "Resources")
        self.parameters = _section(template, "Parameters")
        self.mappings = _section(template, "Mappings")
        self.conditions = _section(template, "Conditions")
        self._steps = 0

    def _tick(self) -> None:
        self._steps += 1
        if self._steps > MAX_NODES:
            raise TemplateError(f"intrinsic functions expand beyond {MAX_NODES:,} steps")

    def pseudo(self, name: str) -> str | None:
        region = self.region
        partition = "aws-cn" if region and region.startswith("cn-") else "aws-us-gov" if region and region.startswith("us-gov-") else "aws"
        return {"AWS::Partition": partition, "AWS::URLSuffix": "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com",
                "AWS::AccountId": self.account or "*", "AWS::Region": region or "*"}.get(name)

    def resolve(self, v: V, unresolved: Unresolved, depth: int = 0) -> V | object:
        """The value with every intrinsic resolved or replaced by a placeholder; NO_VALUE for
        AWS::NoValue (the element is left out, as CloudFormation does)."""
        self._tick()
        if depth > MAX_DEPTH:
            raise TemplateError("intrinsic functions nested too deeply", v.spot.line)
        value = v.value
        if isinstance(value, list):
            items = [self.resolve(item, unresolved, depth + 1) for item in value]
            return V([i for i in items if i is not NO_VALUE], v.spot)
        if not isinstance(value, dict):
            return v
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref" or key.startswith("Fn::"):
                return self._intrinsic(key, arg, v.spot, unresolved, depth)
        out = {}
        for key, item in value.items():
            resolved = self.resolve(item, unresolved, depth + 1)
            if resolved is not NO_VALUE:
                out[key] = resolved
        return V(out, v.spot)

    def _intrinsic(self, key: str, arg: V, spot: Spot, unresolved: Unresolved, depth: int) -> V | object:
        fn = key[4:] if key.startswith("Fn::") else key
        if fn == "Ref":
            return self._ref(arg, spot, unresolved, depth)
        if fn == "Sub":
            return self._sub(arg, spot, unresolved, depth)
        if fn == "GetAtt":
            parts = self.resolve(arg, unresolved, depth + 1)
            names = plain(parts) if isinstance(parts, V) else None
            if isinstance(names, str):
                names = names.split(".", 1)
            label = ".".join(str(n) for n in names) if isinstance(names, list) else "GetAtt"
            return V(unresolved.add(label, f"!GetAtt {label}: an attribute known only once the stack exists"), spot)
        if fn == "Join":
            return self._join(arg, spot, unresolved, depth)
        if fn == "If":
            return self._if(arg, spot, unresolved, depth)
        if fn == "Select":
            resolved = self.resolve(arg, unresolved, depth + 1)
            items = resolved.value if isinstance(resolved, V) else None
            if isinstance(items, list) and len(items) == 2:
                index, seq = plain(items[0]), items[1]
                if isinstance(index, (int, str)) and str(index).isdigit() and isinstance(seq.value, list) \
                        and int(index) < len(seq.value):
                    return seq.value[int(index)]
            return V(unresolved.add("Select", "Fn::Select over a list the template does not decide"), spot)
        if fn == "Split":
            resolved = self.resolve(arg, unresolved, depth + 1)
            items = plain(resolved) if isinstance(resolved, V) else None
            if isinstance(items, list) and len(items) == 2 and all(isinstance(i, str) for i in items) and items[0]:
                return V([V(part, spot) for part in items[1].split(items[0])], spot)
            return V(unresolved.add("Split", "Fn::Split of a value the template does not decide"), spot)
        if fn == "FindInMap":
            return self._find_in_map(arg, spot, unresolved, depth)
        label = "ImportValue" if fn == "ImportValue" else fn
        return V(unresolved.add(label, f"Fn::{fn} is decided only when the stack is deployed"), spot)

    def _ref(self, arg: V, spot: Spot, unresolved: Unresolved, depth: int) -> V | object:
        name = arg.value if isinstance(arg.value, str) else None
        if name is None:
            return V(unresolved.add("Ref", "Ref of a value that is not a name"), spot)
        if name == "AWS::NoValue":
            return NO_VALUE
        pseudo = self.pseudo(name)
        if pseudo is not None:
            return V(pseudo, spot)
        if name in self.parameters:
            return self._parameter(name, spot, unresolved)
        if name in self.resources:
            return V(unresolved.add(name, f"!Ref {name}: the name or ARN of a resource of this stack, known once it exists"), spot)
        if name.startswith("AWS::"):
            return V(unresolved.add(name, f"{name} is known only when the stack is deployed"), spot)
        return V(unresolved.add(name, f"!Ref {name}: no parameter or resource of that name in the template"), spot)

    def _parameter(self, name: str, spot: Spot, unresolved: Unresolved) -> V:
        param = self.parameters[name].value
        default = param.get("Default") if isinstance(param, dict) else None
        if default is None:
            return V(unresolved.add(name, f"parameter {name} has no Default"), spot)
        kind = plain(param["Type"]) if "Type" in param else "String"  # type: ignore[operator,index]
        value = plain(default)
        if isinstance(kind, str) and (kind == "CommaDelimitedList" or kind.startswith("List<")) and isinstance(value, str):
            return V([V(part.strip(), spot) for part in value.split(",")], spot)
        if isinstance(value, list):
            return V([V(str(item), spot) for item in value], spot)
        return V(value if isinstance(value, str) else json.dumps(value), spot)

    def _sub(self, arg: V, spot: Spot, unresolved: Unresolved, depth: int) -> V:
        template, variables = arg, {}
        if isinstance(arg.value, list) and len(arg.value) == 2:
            template = arg.value[0]
            if isinstance(arg.value[1].value, dict):
                for key, item in arg.value[1].value.items():
                    resolved = self.resolve(item, unresolved, depth + 1)
                    variables[key] = resolved.value if isinstance(resolved, V) else ""
        if not isinstance(template.value, str):
            return V(unresolved.add("Sub", "Fn::Sub of something that is not a string"), spot)

        def replace(m: re.Match[str]) -> str:
            name = m.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"  # ${!Literal}: the text ${Literal}
            name = name.strip()
            if name in variables:
                value = variables[name]
                return value if isinstance(value, str) else unresolved.add(name, f"Fn::Sub variable {name} is not a string")
            if "." in name and name.split(".", 1)[0] in self.resources:
                return unresolved.add(name, f"${{{name}}}: an attribute known only once the stack exists")
            if ":" in name and "::" not in name:
                return m.group(0)  # an IAM policy variable such as ${aws:username}
            resolved = self._ref(V(name, spot), spot, unresolved, depth + 1)
            if isinstance(resolved, V) and isinstance(resolved.value, str):
                return resolved.value
            if isinstance(resolved, V) and isinstance(resolved.value, list):
                return ",".join(str(plain(i)) for i in resolved.value)
            return ""

        return V(_SUB.sub(replace, template.value), spot)

    def _join(self, arg: V, spot: Spot, unresolved: Unresolved, depth: int) -> V:
        resolved = self.resolve(arg, unresolved, depth + 1)
        items = resolved.value if isinstance(resolved, V) else None
        if isinstance(items, list) and len(items) == 2 and isinstance(items[0].value, str) and isinstance(items[1].value, list):
            parts = [plain(i) for i in items[1].value]
            return V(items[0].value.join(p if isinstance(p, str) else json.dumps(p) for p in parts), spot)
        return V(unresolved.add("Join", "Fn::Join over a list the template does not decide"), spot)

    def _if(self, arg: V, spot: Spot, unresolved: Unresolved, depth: int) -> V | object:
        items = arg.value
        if not (isinstance(items, list) and len(items) == 3 and isinstance(items[0].value, str)):
            return V(unresolved.add("If", "Fn::If that is not [condition, then, else]"), spot)
        name = items[0].value
        decided = self.condition(name, unresolved, depth + 1)
        if decided is None:
            return V(unresolved.add(f"If {name}", f"condition {name} is decided only when the stack is deployed"), spot)
        return self.resolve(items[1] if decided else items[2], unresolved, depth + 1)

    def condition(self, name: str, unresolved: Unresolved, depth: int) -> bool | None:
        """A named condition's value when parameter defaults decide it, else None."""
        if depth > MAX_DEPTH or name not in self.conditions:
            return None
        return self._truth(self.conditions[name], unresolved, depth + 1)

    def _truth(self, v: V, unresolved: Unresolved, depth: int) -> bool | None:
        self._tick()
        value = v.value
        if depth > MAX_DEPTH or not isinstance(value, dict) or len(value) != 1:
            return None
        (key, arg), = value.items()
        if key == "Condition":
            return self.condition(arg.value, unresolved, depth + 1) if isinstance(arg.value, str) else None
        args = arg.value if isinstance(arg.value, list) else None
        if args is None:
            return None
        if key == "Fn::Equals" and len(args) == 2:
            scratch = Unresolved()  # a placeholder compared with anything decides nothing
            sides = [self.resolve(a, scratch, depth + 1) for a in args]
            if scratch.found or not all(isinstance(s, V) for s in sides):
                return None
            return plain(sides[0]) == plain(sides[1])  # type: ignore[arg-type]
        truths = [self._truth(a, unresolved, depth + 1) for a in args]
        if key == "Fn::Not" and len(truths) == 1:
            return None if truths[0] is None else not truths[0]
        if key == "Fn::And":
            return False if False in truths else None if None in truths else True
        if key == "Fn::Or":
            return True if True in truths else None if None in truths else False
        return None

    def _find_in_map(self, arg: V, spot: Spot, unresolved: Unresolved, depth: int) -> V:
        resolved = self.resolve(arg, unresolved, depth + 1)
        keys = plain(resolved) if isinstance(resolved, V) else None
        if isinstance(keys, list) and len(keys) >= 3 and all(isinstance(k, str) for k in keys[:3]):
            top = self.mappings.get(keys[0])
            level = top.value.get(keys[1]) if top is not None and isinstance(top.value, dict) else None
            found = level.value.get(keys[2]) if level is not None and isinstance(level.value, dict) else None
            if found is not None:
                return found
        return V(unresolved.add("FindInMap", "Fn::FindInMap with keys the template does not decide"), spot)


def _section(template: dict[str, V], name: str) -> dict[str, V]:
    section = template.get(name)
    return section.value if section is not None and isinstance(section.value, dict) else {}


# --- principals and their policies ------------------------------------------------------------

def _prop(resource: V, name: str) -> V | None:
    props = resource.value.get("Properties") if isinstance(resource.value, dict) else None
    if props is None or not isinstance(props.value, dict):
        return None
    return props.value.get(name)


def _type(resource: V) -> str:
    kind = resource.value.get("Type") if isinstance(resource.value, dict) else None
    return kind.value if kind is not None and isinstance(kind.value, str) else ""


def _targets(value: V | None) -> list[V]:
    """The entries of a Groups/Users/Roles/ManagedPolicyArns list (a single value counts as one)."""
    if value is None:
        return []
    return value.value if isinstance(value.value, list) else [value]


def read(path: str, text: str, *, region: str | None = None, account: str | None = None, **_: object) -> IacFile:
    """Every IAM principal of the template with its policies, and the policies attached to none."""
    try:
        stripped = text.lstrip()
        tree = _json_tree(text, path) if stripped.startswith("{") else _yaml_tree(text, path)
        if not isinstance(tree.value, dict):
            raise TemplateError("not a CloudFormation template: the document is not a mapping")
        return _read(path, tree.value, region, account)
    except TemplateError as exc:
        return unreadable(path, f"not a CloudFormation template: {exc}" if not str(exc).startswith("not ") else str(exc),
                          exc.line)
    except RecursionError:
        return unreadable(path, "not a CloudFormation template: nested too deeply")


def _read(path: str, template: dict[str, V], region: str | None, account: str | None) -> IacFile:
    resolver = Resolver(template, region, account)
    resources = resolver.resources
    principals: dict[str, dict] = {}  # logical id → kind, name, spot, policies, managed ARNs
    by_name: dict[tuple[str, str], str] = {}
    for logical, resource in resources.items():
        kind = PRINCIPAL_TYPES.get(_type(resource))
        if kind is None:
            continue
        scratch = Unresolved()
        name_value = _prop(resource, NAME_PROPERTY[kind])
        name = logical
        if name_value is not None:
            resolved = resolver.resolve(name_value, scratch)
            if isinstance(resolved, V) and isinstance(resolved.value, str) and not scratch.found:
                name = resolved.value
        principals[logical] = {"kind": kind, "name": name, "spot": resource.spot, "policies": [], "arns": [],
                               "groups": _targets(_prop(resource, "Groups")) if kind == "user" else []}
        by_name[(kind, name)] = logical
        for i, entry in enumerate(_targets(_prop(resource, "Policies"))):
            if not isinstance(entry.value, dict) or "PolicyDocument" not in entry.value:
                continue
            label = _policy_name(resolver, entry.value.get("PolicyName"), str(i))
            principals[logical]["policies"].append(
                _policy(resolver, f"{path}#{logical}/Policies/{label}", entry.value["PolicyDocument"]))
        for entry in _targets(_prop(resource, "ManagedPolicyArns")):
            principals[logical]["arns"].append(entry)

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
            policy = _policy(resolver, f"{path}#{logical}", document)
            attached = False
            if rtype in ONE_PRINCIPAL_POLICY:
                kind, prop = ONE_PRINCIPAL_POLICY[rtype]
                holders = [(kind, _prop(resource, prop))]
            else:
                holders = [(kind, _prop(resource, prop)) for kind, prop in
                           (("group", "Groups"), ("user", "Users"), ("role", "Roles"))]
            for kind, value in holders:
                for entry in _targets(value):
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
        out.append(IacPrincipal(info["kind"], info["name"], logical, info["spot"], tuple(policies), tuple(arns)))
    return IacFile(path, tuple(out), tuple(loose))


def _policy_name(resolver: Resolver, value: V | None, default: str) -> str:
    if value is None:
        return default
    resolved = resolver.resolve(value, Unresolved())
    return resolved.value if isinstance(resolved, V) and isinstance(resolved.value, str) else default


def _policy(resolver: Resolver, name: str, document: V):
    unresolved = Unresolved()
    try:
        resolved = resolver.resolve(document, unresolved)
    except TemplateError as exc:
        from auditor.model import Policy, Problem
        from auditor.sources.iac import MappedOrigin

        return Policy(name, "", (), (Problem("", str(exc), name),), origin=MappedOrigin({}, document.spot))
    if not isinstance(resolved, V):
        resolved = V({}, document.spot)
    return policy_from_value(name, resolved, document.spot, unresolved.found)
