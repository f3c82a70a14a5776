"""Runs the audit: coverage per target, then every check; stamps rule id, category and severity."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import ModuleType

from auditor import __version__, awsdata
from auditor.catalogue import SHORT_ENVS, Catalogue, Naming, Requirement
from auditor.checks import CHECKS, aws_managed_policy, unused_ignore
from auditor.config import Config, RuleSetting
from auditor.evaluate import MISSING, ActionIndex, evaluate_relevant, statement_matches_action, within_boundary
from auditor.model import Location, Policy, SourceMap, Statement
from auditor.report import (
    CoverageRow,
    Finding,
    Part,
    Report,
    Settings,
    Target,
    finding_order,
)

NO_CONFIG = Config()


@dataclass(frozen=True)
class Context:
    """What a check sees: one target, the settings, and its coverage."""

    target: Target
    settings: Settings
    catalogue: Catalogue
    plan: Plan
    coverage: tuple[CoverageRow, ...]
    statements: tuple[Statement, ...]  # the target's, in order
    action_index: ActionIndex  # which statements name each needed or escalation action
    memo: dict = field(default_factory=dict, compare=False, repr=False)  # per-target results shared by checks

    @property
    def requirements(self) -> tuple[Requirement, ...]:
        return self.plan.requirements

    @property
    def needed(self) -> dict[str, str]:
        """Lower-cased → canonical spelling of every action the selected features need."""
        return self.plan.needed

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


# --- prefix inference ---------------------------------------------------------------------------

_NAMED = re.compile(
    r"^arn:[^:]*:(?:lambda:[^:]*:[^:]*:function:|cloudformation:[^:]*:[^:]*:stack/|iam::[^:]*:role/"
    r"|events:[^:]*:[^:]*:rule/|s3:::)([A-Za-z0-9_-]+)"
)


def prefix_names(policies: Iterable[Policy]) -> list[str]:
    """The project-name candidates of the policies' Jets-shaped ARNs (function:demo-*, stack/demo-*,
    role/demo-*, rule/demo-*, arn:aws:s3:::demo-*) in order, before an env suffix is taken off."""
    names = []
    for policy in policies:
        for stmt in policy.statements:
            if stmt.effect != "Allow" or stmt.resources is None:
                continue
            for arn in stmt.resources:
                m = _NAMED.match(arn)
                if not m:
                    continue
                rest = arn[m.end():]
                if not rest or rest[0] not in "*?":
                    continue  # a concrete name, not a prefix pattern
                name = m.group(1).rstrip("-_")
                if name:
                    names.append(name)
    return names


def pick_prefix(names: Iterable[str], envs: Sequence[str]) -> str | None:
    """The name most candidates give once an env suffix (-dev, -prod, ...) is taken off; the first seen
    of equals; None without candidates."""
    suffixes = {f"-{e}" for e in envs} | {f"-{e}" for e in SHORT_ENVS.values()}
    counts: Counter[str] = Counter()
    for name in names:
        for suffix in suffixes:
            if name.endswith(suffix) and len(name) > len(suffix):
                name = name[: -len(suffix)]
                break
        if name:
            counts[name] += 1
    if not counts:
        return None
    return counts.most_common(1)[0][0]


def infer_prefix(policies: Sequence[Policy], envs: Sequence[str]) -> str | None:
    """The project name most of the policy's Jets-shaped ARNs start with, or None (see prefix_names)."""
    return pick_prefix(prefix_names(policies), envs)


# --- coverage -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Probe:
    """One (action, rendered resource) the coverage asks about, and how (see evaluate)."""

    requirement: Requirement
    resource: str
    match: str
    free_region: bool
    free_account: bool

    @cached_property
    def unnamed(self) -> tuple:
        """The fields of its coverage row after the target's name when no statement names the action."""
        req = self.requirement
        return (req.feature, req.action, self.resource, MISSING, (), (), (), (), req.confidence, req.phases,
                req.reason, req.evidence, req.releases.text)


def _probes(settings: Settings, requirements: tuple[Requirement, ...]) -> tuple[Probe, ...]:
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


@dataclass(frozen=True)
class Plan:
    """What every target of a run shares, worked out once (see plan_for)."""

    requirements: tuple[Requirement, ...]
    probes: tuple[Probe, ...]
    needed: dict[str, str]  # lower-cased → canonical spelling of every action the requirements need
    universe: frozenset[str]  # what the ActionIndex answers: the needed actions, the escalation paths', PassRole
    checks: tuple[tuple[ModuleType, RuleSetting], ...]  # the checks the config leaves on, with their settings
    every: tuple[Requirement, ...] = ()  # the requirements of every feature of this Jets version


MAX_PLANS = 16


def plan_for(settings: Settings, catalogue: Catalogue, config: Config = NO_CONFIG) -> Plan:
    """The run's Plan, kept in the catalogue's memo: a caller that audits target by target (one run
    per file) works it out once."""
    key = ("plan", settings, config)
    plan = catalogue.memo.get(key)
    if plan is None:
        requirements = catalogue.select(settings.jets_version, settings.features)
        needed = {r.action.lower(): r.action for r in requirements}
        chosen = [(module, config.rule(module.RULE_ID)) for module in CHECKS]
        plan = Plan(requirements, _probes(settings, requirements), needed,
                    frozenset({*needed, *catalogue.escalation_actions, "iam:passrole"}),
                    tuple((module, rule) for module, rule in chosen if rule.enabled),
                    catalogue.select(settings.jets_version, catalogue.feature_ids))
        if len(catalogue.memo) >= MAX_PLANS:
            catalogue.memo.clear()
        catalogue.memo[key] = plan
    return plan


def coverage_for(target: Target, plan: Plan, index: ActionIndex) -> tuple[CoverageRow, ...]:
    """One row per probe. `index` covers the target's statements and the plan's universe."""
    limits = [s for p in target.boundary for s in p.statements]
    boundary_name = ", ".join(p.source for p in target.boundary)
    if not any(p.statements for p in target.policies) and any(p.problems for p in target.policies):
        return ()  # nothing readable: the invalid-policy findings say why; no coverage noise
    bounded = ActionIndex(limits, plan.universe) if limits else None
    rows: list[CoverageRow] = []
    for probe in plan.probes:
        req, resource = probe.requirement, probe.resource
        relevant = index.relevant(req.action)
        if not relevant and not target.boundary:  # no statement names it
            rows.append(CoverageRow(target.name, *probe.unnamed))
            continue
        free = {"match": probe.match, "free_region": probe.free_region, "free_account": probe.free_account}
        verdict = evaluate_relevant(resource, relevant, **free)
        if target.boundary:
            limit = evaluate_relevant(resource, bounded.relevant(req.action) if bounded else [], **free)
            verdict = within_boundary(verdict, limit, boundary_name)
        rows.append(
            CoverageRow(
                target.name, req.feature, req.action, resource, verdict.status,
                tuple(s.ref for s in verdict.granted_by), tuple(s.ref for s in verdict.denied_by),
                verdict.notes, tuple(s.ref for s in verdict.allowed_by), req.confidence, req.phases, req.reason, req.evidence,
                req.releases.text,
            )
        )
    return tuple(rows)


def coverage(policies: Sequence[Policy], settings: Settings, catalogue: Catalogue) -> tuple[CoverageRow, ...]:
    """The coverage rows of one policy set, without running the checks (generate --from uses it)."""
    plan = plan_for(settings, catalogue)
    target = Target("file", "policy", tuple(policies))
    return coverage_for(target, plan, ActionIndex(tuple(s for p in policies for s in p.statements), plan.universe))


# --- the run ------------------------------------------------------------------------------------

def _line_stamper(policies: Sequence[Policy]):
    """A function that gives a location its line, from the policy it points into. A policy read from
    Terraform or CloudFormation has an origin: its locations become the file, the path in the file and
    the line where the element is written (also for findings about the whole document)."""
    maps = {p.source: SourceMap(p.text) for p in policies if p.origin is None}
    origins = {p.source: p.origin for p in policies if p.origin is not None}

    def stamp(loc: Location) -> Location:
        origin = origins.get(loc.source) if origins else None
        if origin is not None:
            spot = origin.locate(loc.pointer)  # type: ignore[attr-defined]
            return Location(spot.path, spot.pointer, loc.sid, spot.line)
        if not loc.pointer or loc.line is not None:  # the whole target, or a line already known
            return loc
        smap = maps.get(loc.source)
        return loc if smap is None else Location(loc.source, loc.pointer, loc.sid, smap.line(loc.pointer))

    return stamp


def _stamp(module: ModuleType, rule: RuleSetting, hit, location: Location | None = None, target: str | None = None) -> Finding:
    """A check's hit as a finding: rule id, category, the severity config sets (else the hit's, else the
    check's), its location with its line, and the target it is about."""
    return Finding(module.RULE_ID, module.CATEGORY, rule.severity or hit.severity or module.SEVERITY, hit.message,
                   hit.subject, location or hit.location, hit.resource, hit.feature, hit.fix, target, hit.releases)


def audit_target(target: Target, settings: Settings, catalogue: Catalogue,
                 plan: Plan) -> tuple[list[Finding], tuple[CoverageRow, ...]]:
    statements = tuple(s for p in target.policies for s in p.statements)
    index = ActionIndex(statements, plan.universe)
    coverage = coverage_for(target, plan, index)
    ctx = Context(target, settings, catalogue, plan, coverage, statements, index)
    findings: list[Finding] = []
    stamp = _line_stamper(target.policies)
    seen: set[tuple[str, str, str, str, str | None]] = set()
    for module, rule in plan.checks:
        rule_id = module.RULE_ID
        try:
            for hit in module.check(ctx):
                loc = hit.location
                key = (rule_id, loc.source, loc.pointer, hit.subject, hit.resource)
                if key in seen:
                    continue
                seen.add(key)
                findings.append(_stamp(module, rule, hit, stamp(loc), target.name))
        except Exception as exc:  # a bug in one check must not cost the others: internal-error reports it
            ctx.memo.setdefault("failed", []).append((module.RULE_ID, f"{type(exc).__name__}: {exc}"))
    return findings, coverage


def _fold_managed(target: Target, findings: list[Finding], plan: Plan) -> tuple[list[Finding], list[tuple[Finding, str]]]:
    """Findings inside AWS managed policies, which nobody can edit, become one aws-managed-policy finding
    per policy; they are kept as folded (shown with --show-ignored)."""
    managed = {p.source: p for p in target.policies if p.aws_managed}
    kept: list[Finding] = []
    inside: dict[str, list[Finding]] = {}
    for f in findings:
        if f.location.source in managed and f.rule_id not in aws_managed_policy.KEPT:
            inside.setdefault(f.location.source, []).append(f)
        else:
            kept.append(f)
    rule = next((r for m, r in plan.checks if m is aws_managed_policy), None)
    folded: list[tuple[Finding, str]] = []
    for source, policy in managed.items():
        found = inside.get(source, [])
        folded += [(f, f"in the AWS managed policy {source}, which cannot be edited (see its aws-managed-policy finding)")
                   for f in found]
        hit = aws_managed_policy.summary(policy, found, plan.needed, f"{target.kind} {target.name}") if rule else None
        if hit is not None:
            kept.append(_stamp(aws_managed_policy, rule, hit, target=target.name))
    return kept, folded


class Audit:
    """A run, one target at a time: `part(target)` audits a target with its own settings and config (a
    target's config file may not be the run's) and returns its share of the report; `finish()` then
    reports the ignores of each config that silenced nothing. Between targets it keeps, per config,
    only the ignores used and the names of the files audited: never a target's findings or coverage.
    `review` (auditor.second_opinion.Reviewer, with --parliament) adds a second opinion's findings to
    each target's and merges those that repeat ours."""

    def __init__(self, settings: Settings, catalogue: Catalogue, config: Config = NO_CONFIG, review=None) -> None:
        self.settings, self.catalogue, self.config, self.review = settings, catalogue, config, review
        self._configs: dict[int, tuple[Config, set[int], list[str]]] = {}  # id → (config, ignores used, files audited)

    def part(self, target: Target) -> Part:
        target = target.loaded()
        own_settings = target.settings or self.settings
        own = target.config if isinstance(target.config, Config) else self.config
        _, used, audited = self._configs.setdefault(id(own), (own, set(), []))
        is_file = target.kind == "file"
        audited.extend(own.relative(source, is_file) for source in target.sources)
        plan = plan_for(own_settings, self.catalogue, own)
        found, rows = audit_target(target, own_settings, self.catalogue, plan)
        ignored: list[tuple[Finding, str]] = []
        if self.review is not None:
            found = self.review.review(target, found, _line_stamper(target.policies))
        if any(p.aws_managed for p in target.policies):  # after the second opinion: its findings there fold too
            found, folded = _fold_managed(target, found, plan)
            ignored += folded
        findings: list[Finding] = []
        for finding in found:
            ignore = own.ignore_for(finding, is_file)
            if ignore is None:
                findings.append(finding)
            else:
                used.add(ignore.number)
                ignored.append((finding, ignore.reason))
        findings.sort(key=finding_order)
        return Part(target, tuple(findings), rows, tuple(ignored))

    def finish(self) -> tuple[Finding, ...]:
        """The findings about the run's config files: ignores that silenced nothing (unused-ignore)."""
        findings: list[Finding] = []
        for own, used, audited in self._configs.values():
            rule = own.rule(unused_ignore.RULE_ID)
            if own.ignores and rule.enabled:
                findings.extend(_stamp(unused_ignore, rule, hit) for hit in unused_ignore.unused(own, used, audited))
        return tuple(sorted(findings, key=finding_order))


def notes_for(targets: Sequence[Target], settings: Settings, catalogue: Catalogue) -> tuple[str, ...]:
    """What a report says before its targets: requirements that do not apply to the local principal,
    and how the targets were assembled."""
    return catalogue.remote_notes(settings.jets_version, settings.features) + tuple(
        dict.fromkeys(note for target in targets for note in target.notes))


def run(targets: Sequence[Target], settings: Settings, catalogue: Catalogue, config: Config = NO_CONFIG,
        review=None) -> Report:
    """Every target audited (see Audit), as one Report: findings target by target, in the targets'
    order, each target's sorted (finding_order), then those about config files."""
    audit = Audit(settings, catalogue, config, review)
    parts = [audit.part(target) for target in targets]
    findings = [f for part in parts for f in part.findings] + list(audit.finish())
    return Report(__version__, awsdata.data_version(), settings, tuple(part.target for part in parts), tuple(findings),
                  tuple(row for part in parts for row in part.coverage), notes_for(targets, settings, catalogue),
                  tuple(item for part in parts for item in part.ignored), review.summary() if review is not None else None)

