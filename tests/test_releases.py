"""The catalogue against two independent sources, release by release.

1. rules/releases.toml: what each Jets release deploys (CloudFormation resource types and the
   properties Jets sets, per feature) and the calls its CLI makes, read from the Jets source.
2. CloudFormation's own handler permissions (handlers.create/update/delete.permissions) from the
   resource provider schemas cfn-lint ships, pinned in the test extra.

For every covered release and feature, every handler permission of every type the release deploys
is required by the catalogue (caller "cloudformation", the handler's phase) or excluded in
rules/cfn-handlers.toml with a reason; every CLI call is required (caller "cli"). And the other way:
every requirement is backed by a handler permission or a call in its release range. A failure says
what to decide and where.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from dataclasses import dataclass
from functools import cache

import pytest

from auditor import catalogue as catalogue_mod
from auditor.releases import ReleaseRange, key, parse_range
from tests.conftest import in_range

RULES = catalogue_mod.rules_dir()
REGION = "us-east-1"
OPERATIONS = ("create", "update", "delete")
PHASE_OF = {"create": "deploy", "update": "update", "delete": "delete"}  # the phase a handler runs in
# The other way, a requirement's phase is backed by these handlers: later deploys create, update and
# delete resources too (a new function, a removed job).
BACKED_BY = {"deploy": ("create",), "update": ("create", "update", "delete"), "delete": ("delete",)}

CAT = catalogue_mod.load()
RELEASES = CAT.releases.all()
FEATURES = CAT.feature_ids


@dataclass(frozen=True)
class Deployed:
    feature: str
    type: str
    releases: ReleaseRange
    properties: frozenset[str]
    passes_role_to: str | None
    origin: str
    operations: tuple[str, ...] = OPERATIONS  # the handlers that run on it with the local principal's credentials


@dataclass(frozen=True)
class Call:
    feature: str
    action: str
    phases: tuple[str, ...]
    releases: ReleaseRange
    step: str
    origin: str
    permission: bool = True  # False: AWS asks for none (sts:GetCallerIdentity)


def _toml(name: str) -> dict:
    return tomllib.loads((RULES / name).read_text(encoding="utf-8"))


def _model() -> tuple[tuple[Deployed, ...], tuple[Call, ...]]:
    data = _toml("releases.toml")
    resources = tuple(Deployed(e["feature"], e["type"], parse_range(e["releases"]), frozenset(e["properties"]),
                               e.get("passes_role_to"), f"rules/releases.toml resource #{n}",
                               tuple(e.get("operations", OPERATIONS)))
                      for n, e in enumerate(data["resource"], 1))
    calls = tuple(Call(e["feature"], e["action"], tuple(e["phases"]), parse_range(e["releases"]), e["step"],
                       f"rules/releases.toml call #{n}", e.get("permission", True))
                  for n, e in enumerate(data["call"], 1))
    return resources, calls


RESOURCES, CALLS = _model()
HANDLERS = _toml("cfn-handlers.toml")


@cache
def schema_permissions(type_name: str) -> dict[str, tuple[str, ...]] | None:
    """create/update/delete -> permissions from cfn-lint's provider schema; None when it lists none."""
    if type_name.startswith("Custom::"):
        return {}
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    handlers = PROVIDER_SCHEMA_MANAGER.get_resource_schema(REGION, type_name).schema.get("handlers") or {}
    found = {op: tuple(handlers[op].get("permissions") or ()) for op in OPERATIONS if op in handlers}
    return found or None


@cache
def permissions(type_name: str) -> dict[str, tuple[str, ...]]:
    """What CloudFormation asks IAM for, per operation: the schema's lists (or the reviewed manual
    ones when it has none) plus the reviewed extras."""
    found = schema_permissions(type_name)
    if found is None:
        manual = [m for m in HANDLERS.get("manual", []) if m["type"] == type_name]
        assert manual, (f"{type_name}: cfn-lint's schema lists no handler permissions and rules/cfn-handlers.toml has "
                        "no [[manual]] entry for it: add one with the permissions from the AWS docs")
        found = {op: tuple(manual[0].get(op, ())) for op in OPERATIONS}
    out = {op: list(found.get(op, ())) for op in OPERATIONS}
    for extra in HANDLERS.get("extra", []):
        if extra["type"] == type_name:
            for op in extra["operations"]:
                out[op].extend(extra["permissions"])
    return {op: tuple(dict.fromkeys(perms)) for op, perms in out.items()}


def exclusion(type_name: str, permission: str) -> dict | None:
    return next((e for e in HANDLERS.get("exclude", []) if e["type"] == type_name and permission in e["permissions"]), None)


def excluded(type_name: str, permission: str, properties: frozenset[str]) -> bool:
    entry = exclusion(type_name, permission)
    return entry is not None and entry.get("unless") not in properties


def deployed(release: str, features: set[str]) -> dict[str, tuple[frozenset[str], dict[str, set[str]]]]:
    """type -> (properties set by any selected feature, feature -> the properties it sets) for one release."""
    by: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for r in RESOURCES:
        if r.feature in features and in_range(r.releases, release):
            by[r.type][r.feature] |= r.properties
    return {t: (frozenset(p for props in per.values() for p in props), per) for t, per in by.items()}


def operations(release: str, features: set[str], type_name: str) -> set[str]:
    """The handlers that run with the local principal's credentials on a type the release deploys: every
    one, unless the [[resource]] entries name some (`operations`: Jets 6's nested stacks are only updated so)."""
    return {op for r in RESOURCES if r.type == type_name and r.feature in features and in_range(r.releases, release)
            for op in r.operations}


def owner(type_name: str, permission: str, per_feature: dict[str, set[str]], feature: str) -> str:
    """The feature a gap belongs to: the one whose property makes the handler use the permission,
    else core when core deploys the type, else the feature."""
    entry = exclusion(type_name, permission)
    if entry is not None:
        setting = sorted(f for f, props in per_feature.items() if entry.get("unless") in props)
        if setting:
            return next((f for f in setting if f != "core"), setting[0])
    return "core" if "core" in per_feature else feature


def selection(feature: str) -> set[str]:
    return {"core", "prewarm", feature}


def _compress(releases: list[str]) -> str:
    """'3.0.0-3.2.2, 5.0.0' for a list of covered releases (consecutive ones joined)."""
    order = list(RELEASES)
    runs: list[list[str]] = []
    for r in sorted(releases, key=order.index):
        if runs and order.index(r) == order.index(runs[-1][-1]) + 1:
            runs[-1].append(r)
        else:
            runs.append([r])
    return ", ".join(run[0] if len(run) == 1 else f"{run[0]}-{run[-1]}" for run in runs)


def _file_for(release: str) -> str:
    return "rules/jets6/" if key(release) >= key("6.0.0.beta1") else "rules/jets3-5/"


def handler_gaps(permissions_of=permissions) -> list[str]:
    """Every handler permission of every type a covered release deploys that the catalogue does not
    require (caller "cloudformation", the handler's phase) and no exclusion explains, as what to decide."""
    from importlib.metadata import version

    gaps: dict[tuple[str, str, str, str], list[str]] = defaultdict(list)
    for release in RELEASES:
        for feature in FEATURES:
            chosen = selection(feature)
            needed = {(r.action.lower(), phase) for r in CAT.select(release, chosen) if r.caller == "cloudformation"
                      for phase in r.phases}
            for type_name, (props, per_feature) in deployed(release, chosen).items():
                runs = operations(release, chosen, type_name)
                for op, perms in permissions_of(type_name).items():
                    if op not in runs:
                        continue
                    for perm in perms:
                        if (perm.lower(), PHASE_OF[op]) in needed or excluded(type_name, perm, props):
                            continue
                        gap = (type_name, op, perm, owner(type_name, perm, per_feature, feature))
                        if release not in gaps[gap]:
                            gaps[gap].append(release)
    problems = []
    for (type_name, op, perm, feature), releases in sorted(gaps.items()):
        where = _file_for(releases[0])
        problems.append(
            f"Jets {_compress(releases)}, feature {feature}: CloudFormation's {type_name} {op} handler needs {perm} "
            f"(cfn-lint {version('cfn-lint')}), and no requirement with caller \"cloudformation\" and phase "
            f"\"{PHASE_OF[op]}\" grants it. Decide: if Jets' templates make the handler use it, add it to "
            f"{where}{feature}.toml (caller = \"cloudformation\", that phase, the release range); if not, add an "
            f"[[exclude]] to rules/cfn-handlers.toml with the reason (and in `unless` the property that would make "
            f"the handler use it).")
    return problems


@pytest.mark.slow
def test_every_handler_permission_is_required_or_excluded():
    problems = handler_gaps()
    assert not problems, f"{len(problems)} handler permissions not decided:\n" + "\n".join(problems)


@pytest.mark.slow
def test_a_new_handler_permission_fails_and_says_what_to_decide():
    """What a cfn-lint update that adds a permission to a handler looks like: one line per new
    permission, naming the releases, the feature, the file to edit and the exclusion alternative."""
    def updated(type_name: str) -> dict[str, tuple[str, ...]]:
        found = dict(permissions(type_name))
        if type_name == "AWS::Lambda::LayerVersion":
            found["create"] = (*found["create"], "lambda:GetLayerVersionPolicy")
        return found

    (problem,) = handler_gaps(updated)
    assert problem.startswith("Jets 3.0.0-5.0.14, feature core: CloudFormation's AWS::Lambda::LayerVersion create "
                              "handler needs lambda:GetLayerVersionPolicy (cfn-lint 1.58.0), and no requirement with "
                              "caller \"cloudformation\" and phase \"deploy\" grants it. Decide: if Jets' templates make "
                              "the handler use it, add it to rules/jets3-5/core.toml")
    assert "add an [[exclude]] to rules/cfn-handlers.toml with the reason" in problem


def test_every_cli_call_is_required():
    problems = []
    for call in CALLS:
        if not call.permission:
            assert "No permissions are required" in _call_evidence(call), call.origin
            continue
        for release in RELEASES:
            if not in_range(call.releases, release):
                continue
            have = {phase for r in CAT.select(release, {"core", call.feature}) if r.caller == "cli"
                    and r.action == call.action for phase in r.phases}
            missing = set(call.phases) - have
            if missing:
                problems.append(f"{call.origin} ({call.step}): Jets {release} calls {call.action} itself in phase(s) "
                                f"{sorted(missing)}, and no requirement of {call.feature} or core with caller \"cli\" "
                                f"covers it: add one in {_file_for(release)}{call.feature}.toml")
                break
    assert not problems, "\n".join(problems)


def _call_evidence(call: Call) -> str:
    return _toml("releases.toml")["call"][int(call.origin.rsplit("#", 1)[1]) - 1]["evidence"]


def _backed_by_handler(req, release: str, phase: str) -> bool:
    for type_name, (props, per_feature) in deployed(release, selection(req.feature)).items():
        if req.feature not in per_feature and "core" not in per_feature:
            continue
        for op in BACKED_BY.get(phase, ()):
            if op not in operations(release, selection(req.feature), type_name):
                continue
            if any(p.lower() == req.action.lower() and not excluded(type_name, p, props)
                   for p in permissions(type_name)[op]):
                return True
    return False


def test_every_requirement_is_backed_by_a_handler_or_a_call():
    """The other way: a requirement names something Jets (or CloudFormation for Jets) does, in every
    phase it lists, in some release of its range. Stale entries and wrong phases fail here."""
    problems = []
    for req in CAT.requirements:
        covered = [r for r in RELEASES if in_range(req.releases, r)]
        assert covered, f"{req.origin}: releases {req.releases.text!r} contain no covered release"
        for phase in req.phases:
            if req.caller == "cloudformation":
                ok = any(_backed_by_handler(req, r, phase) for r in covered)
                source = "no handler (or [[extra]]) of a type its feature deploys lists it for that phase"
            elif req.caller == "cli":
                ok = any(c.action == req.action and phase in c.phases and c.feature in (req.feature, "core", "prewarm")
                         and any(in_range(c.releases, r) for r in covered) for c in CALLS)
                source = "no [[call]] in rules/releases.toml makes it in that phase"
            else:
                ok = True  # codebuild: the Jets 6 remote runner, not modelled call by call
                source = ""
            if not ok:
                problems.append(f"{req.origin}: {req.action} ({req.caller}, phase {phase}, releases "
                                f"{req.releases.text}): {source}")
    assert not problems, "\n".join(problems)


def test_passrole_goes_to_the_services_the_templates_name():
    for release in RELEASES:
        for feature in FEATURES:
            chosen = selection(feature)
            expected = {r.passes_role_to for r in RESOURCES if r.passes_role_to and r.feature in chosen
                        and in_range(r.releases, release)}
            got = {s for r in CAT.select(release, chosen) if r.action == "iam:PassRole" for s in r.passed_to}
            assert expected <= got, (release, feature, expected, got)


def test_every_exclusion_and_extra_still_applies():
    """An exclusion for a permission cfn-lint no longer lists, or for a type no release deploys, is stale."""
    types = {r.type for r in RESOURCES}
    for entry in HANDLERS.get("exclude", []):
        assert entry["type"] in types, f"rules/cfn-handlers.toml: no release deploys {entry['type']}: remove the exclusion"
        listed = {p for perms in permissions(entry["type"]).values() for p in perms}
        stale = set(entry["permissions"]) - listed
        assert not stale, (f"rules/cfn-handlers.toml: {entry['type']} handlers no longer list {sorted(stale)} "
                           "(cfn-lint update): remove them from the exclusion")
        assert entry.get("reason"), entry
    for entry in HANDLERS.get("manual", []):
        assert schema_permissions(entry["type"]) is None, (
            f"rules/cfn-handlers.toml: cfn-lint now lists handler permissions for {entry['type']}: remove the "
            "[[manual]] entry and decide each listed permission")


def test_model_is_well_formed():
    for r in RESOURCES:
        assert r.feature in FEATURES, r.origin
        assert any(in_range(r.releases, x) for x in RELEASES), r.origin
        assert r.type.startswith(("AWS::", "Custom::")), r.origin
    for c in CALLS:
        assert c.feature in FEATURES and set(c.phases) <= set(catalogue_mod.PHASES), c.origin


@pytest.mark.parametrize("release", ["3.0.0", "3.2.1", "4.0.9", "5.0.14", "6.0.5"])
def test_cfn_lint_knows_every_type_jets_deploys(release):
    for feature in FEATURES:
        for type_name in deployed(release, selection(feature)):
            assert isinstance(permissions(type_name), dict)


@pytest.mark.slow
@pytest.mark.parametrize("line", tuple(line.major for line in CAT.releases.lines))
def test_generated_policy_passes_every_handler(line):
    """The least-privilege policy `generate` writes for a release line names every permission the
    handlers of every type that line's releases deploy use (bar the reviewed exclusions), and every
    action the CLI calls: the Done-when of issue 13, end to end."""
    from auditor import generate

    for feature in FEATURES:
        chosen = selection(feature)
        docs = generate.generate(CAT, line, tuple(chosen), "shop", ("dev",))
        granted = {a.lower() for d in docs for s in d["Statement"] for a in s["Action"]}
        for release in (r for r in RELEASES if r.split(".")[0] == line):
            for type_name, (props, _) in deployed(release, chosen).items():
                for op, perms in permissions(type_name).items():
                    if op not in operations(release, chosen, type_name):
                        continue
                    for perm in perms:
                        assert perm.lower() in granted or excluded(type_name, perm, props), (
                            f"Jets {release}, {feature}: the generated policy lacks {perm} ({type_name} {op})")
            for call in CALLS:
                if call.permission and call.feature in chosen and in_range(call.releases, release):
                    assert call.action.lower() in granted, (release, feature, call.origin)
