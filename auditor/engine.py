"""Runs the audit: coverage per target, then every check; stamps rule id, category and severity."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from types import ModuleType

from auditor import __version__, awsdata
from auditor.catalogue import SHORT_ENVS, Catalogue, Naming, Requirement
from auditor.checks import CHECKS
from auditor.config import Config, RuleSetting
from auditor.evaluate import MISSING, ActionIndex, evaluate_relevant, statement_matches_action, within_boundary
from auditor.model import Location, Policy, SourceMap, Statement
from auditor.report import (
    SEVERITY_RANK,
    CoverageRow,
    Finding,
    Report,
    Settings,
    Target,
)

NO_CONFIG = Config()


@dataclass(frozen=True)
class Context:
    """What a check sees: one target, the settings, and its coverage."""

    target: Target
    settings: Settings
    catalogue: Catalogue
    requirements: tuple[Requirement, ...]
    coverage: tuple[CoverageRow, ...]
    action_index: ActionIndex  # which statements name each needed or escalation action
    memo: dict = field(default_factory=dict, compare=False, repr=False)  # per-run results shared by checks

    @cached_property
    def statements(self) -> tuple[Statement, ...]:
        return tuple(s for p in self.target.policies for s in p.statements)

    @cached_property
    def needed(self) -> dict[str, str]:
        """Lower-cased → canonical spelling of every action the selected features need."""
        return {r.action.lower(): r.action for r in self.requirements}

    def naming(self, action: str) -> list[Statement]:
        """The statements whose Action (or NotAction) covers `action`, in order."""
        if action.lower() in self.action_index:
            return self.action_index.relevant(action)
        return [s for s in self.statements if statement_matches_action(s, action)]

    def needed_by(self, stmt: Statement) -> list[str]:
        """The needed actions (canonical spelling, sorted) that `stmt`'s Action names."""
        return sorted(self.needed[a] for a in self.action_index.actions_of(stmt) if a in self.needed)

    @cached_property
    def _by_ref(self) -> dict[str, Statement]:
        return {stmt.ref: stmt for stmt in reversed(self.statements)}  # the first of equal refs wins

    def statement(self, ref: str) -> Statement:
        """The statement a coverage row names (refs always come from this target's statements)."""
        return self._by_ref[ref]


def action_index(statements: Sequence[Statement], requirements: Sequence[Requirement], catalogue: Catalogue) -> ActionIndex:
    """One ActionIndex for coverage and the checks: the needed actions, the escalation paths' and PassRole."""
    return ActionIndex(statements, {*(r.action.lower() for r in requirements), *catalogue.escalation_actions, "iam:passrole"})


# --- prefix inference ---------------------------------------------------------------------------

_NAMED = re.compile(
    r"^arn:[^:]*:(?:lambda:[^:]*:[^:]*:function:|cloudformation:[^:]*:[^:]*:stack/|iam::[^:]*:role/"
    r"|events:[^:]*:[^:]*:rule/|s3:::)([A-Za-z0-9_-]+)"
)


def infer_prefix(policies: Sequence[Policy], envs: Sequence[str]) -> str | None:
    """The project name most of the policy's Jets-shaped ARNs start with (function:demo-*,
    stack/demo-*, role/demo-*, rule/demo-*, arn:aws:s3:::demo-*), or None."""
    suffixes = {f"-{e}" for e in envs} | {f"-{e}" for e in SHORT_ENVS.values()}
    counts: Counter[str] = Counter()
    for policy in policies:
        for stmt in policy.statements:
            if stmt.effect != "Allow" or stmt.resources is None:
                continue
            for arn in stmt.resources:
                m = _NAMED.match(arn)
                if not m:
                    continue
                rest = arn[m.end():]
                name = m.group(1)
                if not rest or rest[0] not in "*?":
                    continue  # a concrete name, not a prefix pattern
                name = name.rstrip("-_")
                for suffix in suffixes:
                    if name.endswith(suffix) and len(name) > len(suffix):
                        name = name[: -len(suffix)]
                        break
                if name:
                    counts[name] += 1
    if not counts:
        return None
    return counts.most_common(1)[0][0]


# --- coverage -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Probe:
    """One (action, rendered resource) the coverage asks about, and how (see evaluate)."""

    requirement: Requirement
    resource: str
    match: str
    free_region: bool
    free_account: bool


@lru_cache(maxsize=64)
def probes_for(settings: Settings, requirements: tuple[Requirement, ...]) -> tuple[Probe, ...]:
    """What to evaluate for every target of a run: each requirement rendered for each env, once."""
    out = []
    seen: set[tuple[str, str]] = set()
    for env in settings.envs:
        naming = Naming(settings.prefix, env, settings.jets_version, settings.region, settings.account)
        for req in requirements:
            resource = naming.render(req.resource)
            if (req.action, resource) not in seen:
                seen.add((req.action, resource))
                out.append(Probe(req, resource, req.match, settings.region is None and "{region}" in req.resource,
                                 settings.account is None and "{account}" in req.resource))
    return tuple(out)


def coverage_for(target: Target, settings: Settings, requirements: Sequence[Requirement],
                 probes: Sequence[Probe] | None = None, index: ActionIndex | None = None) -> tuple[CoverageRow, ...]:
    """One row per probe. `index`, when given, must cover the target's statements and at least the
    requirements' actions (the checks' index does)."""
    statements = [s for p in target.policies for s in p.statements]
    limits = [s for p in target.boundary for s in p.statements]
    boundary_name = ", ".join(p.source for p in target.boundary)
    if not statements and any(p.problems for p in target.policies):
        return ()  # nothing readable: the invalid-policy findings say why; no coverage noise
    actions = {req.action for req in requirements}
    granted = index if index is not None else ActionIndex(statements, actions)
    bounded = ActionIndex(limits, actions)
    rows: list[CoverageRow] = []
    for probe in probes if probes is not None else probes_for(settings, tuple(requirements)):
        req, resource = probe.requirement, probe.resource
        relevant = granted.relevant(req.action)
        if not relevant and not target.boundary:  # no statement names it
            rows.append(CoverageRow(target.name, req.feature, req.action, resource, MISSING, (), (), (), (),
                                    req.confidence, req.phases, req.reason, req.evidence))
            continue
        free = {"match": probe.match, "free_region": probe.free_region, "free_account": probe.free_account}
        verdict = evaluate_relevant(req.action, resource, relevant, **free)
        if target.boundary:
            limit = evaluate_relevant(req.action, resource, bounded.relevant(req.action), **free)
            verdict = within_boundary(verdict, limit, boundary_name)
        rows.append(
            CoverageRow(
                target.name, req.feature, req.action, resource, verdict.status,
                tuple(s.ref for s in verdict.granted_by), tuple(s.ref for s in verdict.denied_by),
                verdict.notes, tuple(s.ref for s in verdict.allowing), req.confidence, req.phases, req.reason, req.evidence,
            )
        )
    return tuple(rows)


# --- the run ------------------------------------------------------------------------------------

def _line_stamper(policies: Sequence[Policy]):
    """A function that gives a finding's location its line, from the policy it points into."""
    maps = {p.source: SourceMap(p.text) for p in policies}

    def stamp(loc: Location) -> Location:
        smap = maps.get(loc.source)
        if smap is None or loc.line is not None or not loc.pointer:
            return loc
        return Location(loc.source, loc.pointer, loc.sid, smap.line(loc.pointer))

    return stamp


def enabled_checks(config: Config) -> list[tuple[ModuleType, RuleSetting]]:
    """The check modules the config leaves on, in registry order, each with its setting."""
    chosen = [(module, config.rule(module.RULE_ID)) for module in CHECKS]
    return [(module, rule) for module, rule in chosen if rule.enabled]


def audit_target(
    target: Target, settings: Settings, catalogue: Catalogue, requirements: tuple[Requirement, ...],
    checks: Sequence[tuple[ModuleType, RuleSetting]], probes: Sequence[Probe] | None = None,
) -> tuple[list[Finding], tuple[CoverageRow, ...]]:
    statements = tuple(s for p in target.policies for s in p.statements)
    index = action_index(statements, requirements, catalogue)
    coverage = coverage_for(target, settings, requirements, probes, index)
    ctx = Context(target, settings, catalogue, requirements, coverage, index)
    findings: list[Finding] = []
    stamp = _line_stamper(target.policies)
    seen: set[tuple[str, str, str, str]] = set()
    for module, rule in checks:
        try:
            for hit in module.check(ctx):
                key = (module.RULE_ID, hit.location.source, hit.location.pointer, hit.subject + (hit.resource or ""))
                if key in seen:
                    continue
                seen.add(key)
                findings.append(
                    Finding(module.RULE_ID, module.CATEGORY, rule.severity or hit.severity or module.SEVERITY, hit.message,
                            hit.subject, stamp(hit.location), hit.resource, hit.feature, hit.fix)
                )
        except Exception as exc:  # a bug in one check must not cost the others: internal-error reports it
            ctx.memo.setdefault("failed", []).append((module.RULE_ID, f"{type(exc).__name__}: {exc}"))
    return findings, coverage


def run(targets: Sequence[Target], settings: Settings, catalogue: Catalogue, config: Config = NO_CONFIG) -> Report:
    requirements = catalogue.select(settings.jets_version, settings.features)
    findings: list[Finding] = []
    ignored: list[tuple[Finding, str]] = []
    coverage: list[CoverageRow] = []
    probes = probes_for(settings, requirements)
    checks = enabled_checks(config)
    for target in targets:
        found, rows = audit_target(target, settings, catalogue, requirements, checks, probes)
        for finding in found:
            reason = next((i.reason for i in config.ignores if i.matches(finding)), None) if config.ignores else None
            if reason is None:
                findings.append(finding)
            else:
                ignored.append((finding, reason))
        coverage.extend(rows)
    findings.sort(key=lambda f: (-SEVERITY_RANK[f.severity], f.category, f.location.source,
                                 f.location.line or 0, f.subject))
    notes = catalogue.remote_notes(settings.jets_version, settings.features)
    return Report(__version__, awsdata.data_version(), settings, tuple(targets), tuple(findings),
                  tuple(coverage), notes, tuple(ignored))
