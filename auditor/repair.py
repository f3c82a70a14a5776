"""generate --from: repair an existing policy instead of writing a new one.

The user's document is changed as little as possible, statement by statement, keeping Sids, order and
statements that have nothing to do with Jets:
- shell placeholders (${MY_PREFIX}) become the project name;
- repeated actions go;
- a wildcard action is replaced by the actions Jets needs from it (or removed if it needs none);
- actions Jets needs that sit on Resource "*" although they can be scoped move out to scoped statements;
- a Resource that can never match what Jets creates is replaced by the pattern Jets needs;
- iam:PassRole moves to its own statement, scoped to the project's roles, conditioned on
  iam:PassedToService;
- what is still missing is added, as generate would write it, in statements whose Sids start with Jets.

It never narrows a grant Jets needs for an env, feature or region the options did not name: a wildcard
becomes the actions any feature needs from it, scoping uses the project's patterns for any env, and a
guard audits the original and the result (every feature; the envs named, the envs the ARNs name, any
env; any region) and grants again, as Jets statements, whatever an edit took away.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from collections.abc import Sequence

from auditor import awsdata, engine
from auditor.catalogue import Catalogue, Naming
from auditor.checks.pattern_never_matches import usable
from auditor.checks.shell_placeholder import placeholders
from auditor.evaluate import CONDITIONAL, GRANTED, MISSING, action_matches
from auditor.generate import passed_to, statements_for
from auditor.glob_text import policy_pattern
from auditor.globs import covers, overlaps
from auditor.infer import infer_envs
from auditor.model import parse_policy
from auditor.report import Settings


class RepairError(Exception):
    pass


def _as_list(value: object) -> list:
    return list(value) if isinstance(value, list) else [value]


def _indent(text: str) -> int | str:
    m = re.search(r"\n([ \t]+)\S", text)
    if not m:
        return 2
    unit = m.group(1)
    return "\t" if unit.startswith("\t") else len(unit)


def dump_like(doc: object, original: str) -> str:
    """The document in the original file's indentation, with its final newline (or without)."""
    text = json.dumps(doc, indent=_indent(original), ensure_ascii=False)
    return text + "\n" if original.endswith("\n") else text


ANY_ENV = "*"  # renders {ns} as "demo-*": every env of the project


def repair(text: str, source: str, settings: Settings, catalogue: Catalogue) -> dict:
    """The repaired document. It never narrows a grant Jets needs for an env, feature or region the
    options did not name: replacements keep every action any feature needs, and every requirement the
    original grants (all features; the envs asked for, the envs its ARNs name and any env; any region)
    is checked on the result and granted again where the edits lost it."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise RepairError(f"{source}: not JSON ({exc}); fix it by hand first") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("Statement"), (list, dict)):
        raise RepairError(f"{source}: not an IAM policy document")
    doc = copy.deepcopy(doc)
    if isinstance(doc["Statement"], dict):
        doc["Statement"] = [doc["Statement"]]
    every = catalogue.select(settings.jets_version, catalogue.feature_ids)
    needed = {r.action.lower(): r.action for r in every}  # an action any feature needs is never removed
    namings = [Naming(settings.prefix, env, settings.jets_version, settings.region, settings.account)
               for env in settings.envs]
    any_env = Naming(settings.prefix, ANY_ENV, settings.jets_version)

    def patterns_for(actions: Sequence[str], anywhere: bool = False) -> list[str]:
        wanted = {a.lower() for a in actions}
        return sorted({resource for n in ([any_env] if anywhere else namings) for _, resource in catalogue.rendered(n, None, wanted)})

    kept: list[dict] = []
    for stmt in doc["Statement"]:
        if not isinstance(stmt, dict) or stmt.get("Effect") != "Allow" or "Action" not in stmt or "Resource" not in stmt:
            kept.append(stmt)
            continue
        new = _repair_statement(stmt, needed, patterns_for, settings.prefix)
        if new is not None:
            kept.append(new)
    doc["Statement"] = kept

    # what is still missing for the options, and what the edits took away, as generate writes it
    original = parse_policy(text, source)
    repaired = parse_policy(json.dumps(doc), source)
    wanted: dict[str, set[str]] = {}
    for row in engine.coverage([repaired], settings, catalogue):
        if row.status == MISSING:
            wanted.setdefault(row.action, set()).add(row.resource)
    guard = _guard_settings(original, settings, catalogue)
    # rows in the plan's probe order; a probe's own resource is rendered for any Region and account
    # (a row's shows the Region and account its policy set is judged for, which an edit may change)
    probes = engine.plan_for(guard, catalogue).probes
    had = {i for i, r in enumerate(engine.coverage([original], guard, catalogue)) if r.status in (GRANTED, CONDITIONAL)}
    for i, row in enumerate(engine.coverage([repaired], guard, catalogue)):
        if row.status == MISSING and i in had:
            wanted.setdefault(row.action, set()).add(probes[i].resource)
    if wanted:
        taken = {s.get("Sid") for s in kept if isinstance(s, dict)}
        for stmt in statements_for({a: _widest(r) for a, r in wanted.items()}, passed_to(every)):
            sid, n = stmt["Sid"], 1
            while stmt["Sid"] in taken:
                n += 1
                stmt["Sid"] = f"{sid}{n}"
            taken.add(stmt["Sid"])
            kept.append(stmt)
    return doc


def envs_of(policy, prefix: str, catalogue: Catalogue, version: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The envs the policy's ARNs name and an ARN for each; RepairError when they name none."""
    if not policy.statements and policy.problems:
        raise RepairError(f"{policy.source}: {policy.problems[0].message}; fix it by hand first")
    found = infer_envs([policy], prefix, catalogue, version)
    if not found:
        raise RepairError(f"cannot tell which Jets envs {policy.source} is for (no ARN names one): "
                          "pass --env ENV (repeatable) or set env in the config file")
    return tuple(e for e, _ in found), tuple(a for _, a in found)


def _guard_settings(original, settings: Settings, catalogue: Catalogue) -> Settings:
    """What the repair must not take away: every feature; the envs asked for, the envs the policy's ARNs
    name and any env; any region and account."""
    named = [env for env, _ in infer_envs([original], settings.prefix, catalogue, settings.jets_version)]
    envs = tuple(dict.fromkeys([*settings.envs, *named, ANY_ENV]))
    return Settings(settings.prefix, False, None, envs, settings.jets_version, catalogue.feature_ids)


def _widest(resources: set[str]) -> set[str]:
    """The patterns no other pattern of the set contains (function:demo-dev-* goes when function:demo-*-* is there)."""
    return {r for r in resources if not any(o != r and covers(r, o) for o in resources)}


def _repair_statement(stmt: dict, needed: dict[str, str], patterns_for, prefix: str) -> dict | None:
    stmt = dict(stmt)
    scalar_action = isinstance(stmt["Action"], str)
    scalar_resource = isinstance(stmt["Resource"], str)
    actions = [a for a in _as_list(stmt["Action"]) if isinstance(a, str)]
    resources = [r for r in _as_list(stmt["Resource"]) if isinstance(r, str)]

    # shell placeholders become the project name
    def fill(value: str) -> str:
        for found in placeholders(value):
            value = value.replace(found, prefix)
        return value

    actions = [fill(a) for a in actions]
    resources = [fill(r) for r in resources]

    # a statement that names no action Jets needs is not ours to change
    jets = sorted({n for n in needed.values() if any(action_matches(a, n) for a in actions)})
    if not jets:
        return {**stmt, "Action": _back(actions, scalar_action), "Resource": _back(resources, scalar_resource)}

    # wildcards become the actions Jets needs from them; repeats go (case-insensitive)
    out: list[str] = []
    seen: set[str] = set()
    for action in actions:
        if "*" in action or "?" in action:
            replacement = sorted(n for n in needed.values() if action_matches(action, n))
        else:
            replacement = [action]
        for a in replacement:
            if a.lower() not in seen:
                seen.add(a.lower())
                out.append(a)
    actions = out

    # iam:PassRole leaves for a scoped, conditioned statement of its own (added with what is missing)
    if not (len(actions) == 1 and actions[0].lower() == "iam:passrole" and "Condition" in stmt):
        actions = [a for a in actions if a.lower() != "iam:passrole"]

    # Jets actions that can be scoped do not stay on "*"
    if "*" in resources:
        actions = [a for a in actions if a.lower() not in needed or not awsdata.resource_formats(a)]

    # resources that can never match what Jets creates for these actions (in any env) get the patterns
    # Jets needs for the audited envs
    ours = [a for a in actions if a.lower() in needed]
    if ours:
        anywhere = patterns_for(ours, anywhere=True)
        fixed: list[str] = []
        for res in resources:
            if res == "*" or not usable(res) or policy_pattern(res).has_variable or any(overlaps(p, res) for p in anywhere):
                fixed.append(res)
        if len(fixed) < len(resources):
            fixed += [p for p in patterns_for(ours) if p not in fixed]
        resources = fixed
        # on the project's own resources, actions no selected feature needs have no other use
        if resources and "*" not in resources and all(any(overlaps(p, r) for p in anywhere) for r in resources):
            actions = [a for a in actions if a.lower() in needed or "*" in a or "?" in a]
    if not actions or not resources:
        return None
    return {**stmt, "Action": _back(actions, scalar_action), "Resource": _back(resources, scalar_resource)}


def _back(values: list[str], scalar: bool) -> object:
    """Keep the user's style: a single string stays a string."""
    return values[0] if scalar and len(values) == 1 else values


def diff(before: str, after: str, name: str) -> str:
    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        fromfile=f"a/{name.lstrip('/')}", tofile=f"b/{name.lstrip('/')}"))

