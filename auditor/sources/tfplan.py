"""Terraform plan or state JSON (`terraform show -json plan.out`, `terraform show -json`): the documented
format, where every value the plan knows is resolved. Resources are read from `planned_values` (a plan)
or `values` (a state), in the root module and every child module; a policy the plan knows only after
apply stays a placeholder. Attachments are linked to their group, user or role and policy by the
planned names and ARNs, or, where those are known only after apply, by the references in the plan's
`configuration` section.

Locations point into the plan file: the pointer of the resource's `policy` value followed by the
element's pointer in the policy (`/planned_values/root_module/resources/3/values/policy/Statement/2`),
and the line of that value (`terraform show -json` writes one line; a pretty-printed plan has more).

A plan may be 64 MiB (sources.READERS); each policy in it is held to the 2 MiB of a policy file.
"""

from __future__ import annotations

import json
import re

from auditor.model import Policy, Problem, Spot
from auditor.source_map import SourceMap
from auditor.sources.file import MAX_BYTES
from auditor.sources.iac import IacFile, IacPrincipal, MappedOrigin, policy_from_text, unreadable
from auditor.sources.terraform import ATTACH, INLINE, PRINCIPALS  # the resource types (terraform.py imports no parser)


def _resources(module: dict, at: str, out: list) -> None:
    for i, resource in enumerate(module.get("resources") or []):
        if isinstance(resource, dict):
            out.append((resource, f"{at}/resources/{i}"))
    for i, child in enumerate(module.get("child_modules") or []):
        if isinstance(child, dict):
            _resources(child, f"{at}/child_modules/{i}", out)


def _config_refs(config: dict, prefix: str, out: dict) -> None:
    """address → attribute → the addresses its expression refers to, for every module."""
    for resource in config.get("resources") or []:
        if not isinstance(resource, dict):
            continue
        refs = {}
        for attr, expr in (resource.get("expressions") or {}).items():
            if isinstance(expr, dict):
                refs[attr] = [prefix + r for r in expr.get("references") or [] if isinstance(r, str)]
        out[prefix + str(resource.get("address"))] = refs
    for name, call in (config.get("module_calls") or {}).items():
        if isinstance(call, dict) and isinstance(call.get("module"), dict):
            _config_refs(call["module"], f"{prefix}module.{name}.", out)


def read(path: str, text: str, **_: object) -> IacFile:
    try:
        plan = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return unreadable(path, f"not a Terraform plan: not JSON ({str(exc)[:120]})")
    if not isinstance(plan, dict):
        return unreadable(path, "not a Terraform plan: the document is not an object")
    section = "planned_values" if isinstance(plan.get("planned_values"), dict) else "values"
    root = (plan.get(section) or {}).get("root_module") if isinstance(plan.get(section), dict) else None
    resources: list[tuple[dict, str]] = []
    if isinstance(root, dict):
        _resources(root, f"/{section}/root_module", resources)
    refs: dict[str, dict] = {}
    config = plan.get("configuration")
    if isinstance(config, dict) and isinstance(config.get("root_module"), dict):
        _config_refs(config["root_module"], "", refs)
    unknown = {c.get("address"): (c.get("change") or {}).get("after_unknown") or {}
               for c in plan.get("resource_changes") or [] if isinstance(c, dict)}
    smap = SourceMap(text)

    def values(r: dict) -> dict:
        v = r.get("values")
        return v if isinstance(v, dict) else {}

    def module_prefix(address: str) -> str:
        parts = address.split(".")
        out = []
        while len(parts) >= 2 and parts[0] == "module":
            out += parts[:2]
            parts = parts[2:]
        return ".".join(out) + "." if out else ""

    def make_policy(r: dict, at: str, attr: str = "policy") -> Policy:
        address = str(r.get("address"))
        name = f"{path}#{address}"
        whole = Spot(path, f"{at}/values/{attr}", smap.line(f"{at}/values/{attr}"))
        doc = values(r).get(attr)
        if isinstance(doc, str) and len(doc) > MAX_BYTES:  # the plan may be 64 MiB; a policy in it is held to a file's cap
            message = f"refused: the policy is larger than {MAX_BYTES // (1024 * 1024)} MiB (the cap of policy files)"
            return Policy(name, "", (), (Problem("", message, name, whole.line),), origin=MappedOrigin({}, whole))
        if isinstance(doc, str):
            return policy_from_text(name, doc, whole, None, {})
        why = f"{address}: the policy is known only after apply" if unknown.get(address, {}).get(attr) else \
            f"{address}: no {attr} in the plan"
        placeholder = "${" + address.replace(":", ".") + "." + attr + "}"
        return Policy(name, placeholder, (), (), origin=MappedOrigin({}, whole), unresolved=((placeholder, why),))

    principals: dict[str, dict] = {}
    by_name: dict[tuple[str, str], str] = {}
    arns: dict[str, str] = {}
    policies: dict[str, Policy] = {}
    for r, at in resources:
        rtype, address = r.get("type"), str(r.get("address"))
        if r.get("mode") == "data":
            continue
        if rtype in PRINCIPALS:
            given = values(r).get("name")
            name = given if isinstance(given, str) else address
            principals[address] = {"kind": PRINCIPALS[rtype], "name": name, "spot": Spot(path, at, smap.line(at)),
                                    "policies": [], "arns": []}
            by_name[(PRINCIPALS[rtype], name)] = address
        elif rtype == "aws_iam_policy":
            policies[address] = make_policy(r, at)
            if isinstance(values(r).get("arn"), str):
                arns[values(r)["arn"]] = address

    def holder(kind: str, r: dict, attr: str) -> list[str]:
        address = str(r.get("address"))
        prefix = module_prefix(address)
        found = [ref for ref in refs.get(_config_address(address), {}).get(attr, [])
                 if ref in principals and principals[ref]["kind"] == kind]
        if found:
            return found[:1] if attr in ("group", "user", "role") else list(dict.fromkeys(found))
        value = values(r).get(attr)
        names = value if isinstance(value, list) else [value]
        return [by_name[(kind, n)] for n in names if isinstance(n, str) and (kind, n) in by_name] or \
            [ref for ref in (prefix + str(n) for n in names) if ref in principals]

    attached: set[str] = set()
    loose: list[Policy] = []
    for r, at in resources:
        rtype, address = r.get("type"), str(r.get("address"))
        if rtype in INLINE:
            policy = make_policy(r, at)
            owners = holder(INLINE[rtype], r, INLINE[rtype])
            for owner in owners:
                principals[owner]["policies"].append(policy)
            if not owners:
                loose.append(policy)
        elif rtype in ATTACH or rtype == "aws_iam_policy_attachment":
            owners = holder(ATTACH[rtype], r, ATTACH[rtype]) if rtype in ATTACH else \
                [o for kind, attr in (("group", "groups"), ("user", "users"), ("role", "roles")) for o in holder(kind, r, attr)]
            arn = values(r).get("policy_arn")
            target = arns.get(arn) if isinstance(arn, str) else None
            if target is None:
                target = next((ref for ref in refs.get(_config_address(address), {}).get("policy_arn", []) if ref in policies), None)
            for owner in owners:
                if target is not None:
                    principals[owner]["policies"].append(policies[target])
                    attached.add(target)
                else:
                    principals[owner]["arns"].append(arn if isinstance(arn, str) else f"{address}.policy_arn")
    out = [IacPrincipal(info["kind"], info["name"], address, info["spot"], tuple(dict.fromkeys(info["policies"])),
                        tuple(info["arns"])) for address, info in principals.items()]
    loose += [p for address, p in policies.items() if address not in attached]
    return IacFile(path, tuple(out), tuple(loose))


def _config_address(address: str) -> str:
    """A planned resource's address as the configuration names it (no count/for_each index)."""
    return re.sub(r"\[[^\]]*\]", "", address)

