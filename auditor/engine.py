"""Runs the audit: coverage per target, then every check; stamps rule id, category and severity."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

from auditor import __version__, awsdata
from auditor.catalogue import SHORT_ENVS, Catalogue, Naming, Requirement
from auditor.checks import CHECKS, aws_managed_policy, internal_error, unused_ignore
from auditor.checks.base import Check, Context
from auditor.config import Config, RuleSetting
from auditor.evaluate import MISSING, ActionIndex, evaluate_relevant, within_boundary
from auditor.model import Location, Policy, SourceMap
from auditor.report import (
    SEVERITY_RANK,
    CoverageRow,
    Finding,
    Hit,
    Report,
    Settings,
    Target,
)

NO_CONFIG = Config()


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

    def unnamed_row(self, target: str) -> CoverageRow:
        """Its coverage row on a target none of whose statements names the action: missing."""
        req = self.requirement
        return CoverageRow(target=target, feature=req.feature, action=req.action, resource=self.resource, status=MISSING,
                           granted_by=(), denied_by=(), notes=(), allowed_by=(), confidence=req.confidence,
                           phases=req.phases, reason=req.reason, evidence=req.evidence, releases=req.releases.text)


def _probes(settings: Settings, catalogue: Catalogue) -> tuple[Probe, ...]:
    """What to evaluate for every target of a run: each requirement rendered for each env, once."""
    out = []
    seen: set[tuple[str, str]] = set()
    for env in settings.envs:
        naming = Naming(settings.prefix, env, settings.jets_version, settings.region, settings.account)
        for req, resource in catalogue.rendered(naming, settings.features):
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
    needed: Mapping[str, str]  # lower-cased → canonical spelling of every action the requirements need
    universe: frozenset[str]  # what the ActionIndex answers: the needed actions, the escalation paths', PassRole
    checks: tuple[tuple[Check, RuleSetting], ...]  # the checks the config leaves on, with their settings
    failure: RuleSetting  # internal-error's setting: the engine reports a failed check, whatever the config says


MAX_PLANS = 16


@lru_cache(maxsize=MAX_PLANS)
def plan_for(settings: Settings, catalogue: Catalogue, config: Config = NO_CONFIG) -> Plan:
    """The run's Plan, kept (a bounded cache keyed by the settings, the loaded catalogue and the config):
    a caller that audits target by target (one run per file) works it out once, and the ActionIndex's
    cache keeps answering for the same universe object."""
    requirements = catalogue.select(settings.jets_version, settings.features)
    needed = {r.action.lower(): r.action for r in requirements}
    chosen = [(module, config.rule(module.RULE_ID)) for module in CHECKS]
    return Plan(requirements, _probes(settings, catalogue), MappingProxyType(needed),
                frozenset({*needed, *catalogue.escalation_actions, "iam:passrole"}),
                tuple((module, rule) for module, rule in chosen if rule.enabled),
                RuleSetting(True, config.rule(internal_error.RULE_ID).severity))


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
            rows.append(probe.unnamed_row(target.name))
            continue
        verdict = evaluate_relevant(resource, relevant, match=probe.match, free_region=probe.free_region,
                                    free_account=probe.free_account)
        if target.boundary:
            limit = evaluate_relevant(resource, bounded.relevant(req.action) if bounded else [], match=probe.match,
                                      free_region=probe.free_region, free_account=probe.free_account)
            verdict = within_boundary(verdict, limit, boundary_name)
        rows.append(CoverageRow(
            target=target.name, feature=req.feature, action=req.action, resource=resource, status=verdict.status,
            granted_by=tuple(s.ref for s in verdict.granted_by), denied_by=tuple(s.ref for s in verdict.denied_by),
            notes=verdict.notes, allowed_by=tuple(s.ref for s in verdict.allowed_by), confidence=req.confidence,
            phases=req.phases, reason=req.reason, evidence=req.evidence, releases=req.releases.text,
            by_boundary=verdict.by_boundary))
    return tuple(rows)


def coverage(policies: Sequence[Policy], settings: Settings, catalogue: Catalogue) -> tuple[CoverageRow, ...]:
    """The coverage rows of one policy set, without running the checks (generate --from uses it)."""
    plan = plan_for(settings, catalogue)
    target = Target("file", "policy", tuple(policies))
    return coverage_for(target, plan, ActionIndex(tuple(s for p in policies for s in p.statements), plan.universe))


# --- the run ------------------------------------------------------------------------------------

def _line_stamper(policies: Sequence[Policy]) -> Callable[[Location], Location]:
    """A function that gives a location its line, from the policy it points into. A policy read from
    Terraform or CloudFormation has an origin: its locations become the file, the path in the file and
    the line where the element is written (also for findings about the whole document)."""
    maps = {p.source: SourceMap(p.text) for p in policies if p.origin is None}
    origins = {p.source: p.origin for p in policies if p.origin is not None}

    def stamp(loc: Location) -> Location:
        origin = origins.get(loc.source) if origins else None
        if origin is not None:
            spot = origin.locate(loc.pointer)
            return Location(spot.path, spot.pointer, loc.sid, spot.line)
        if not loc.pointer or loc.line is not None:  # the whole target, or a line already known
            return loc
        smap = maps.get(loc.source)
        return loc if smap is None else Location(loc.source, loc.pointer, loc.sid, smap.line(loc.pointer))

    return stamp


def _stamp(module: Check, rule: RuleSetting, hit: Hit, location: Location | None = None, target: str | None = None) -> Finding:
    """A check's hit as a finding: rule id, category, the severity config sets (else the hit's, else the
    check's), its location with its line, and the target it is about."""
    return Finding(module.RULE_ID, module.CATEGORY, rule.severity or hit.severity or module.SEVERITY, hit.message,
                   hit.subject, location or hit.location, hit.resource, hit.feature, hit.fix, target, hit.releases)


def audit_target(target: Target, settings: Settings, catalogue: Catalogue,
                 plan: Plan) -> tuple[list[Finding], tuple[CoverageRow, ...]]:
    """Every check the plan keeps on one target. A check that raises keeps the findings it gave so far;
    the others still run, and the engine reports the failure as an internal-error finding."""
    statements = tuple(s for p in target.policies for s in p.statements)
    index = ActionIndex(statements, plan.universe)
    coverage = coverage_for(target, plan, index)
    ctx = Context(target, settings, catalogue, plan.requirements, plan.needed, coverage, statements, index)
    findings: list[Finding] = []
    stamp = _line_stamper(target.policies)
    seen: set[tuple[str, str, str, str, str | None]] = set()

    def add(module: Check, rule: RuleSetting, hit: Hit) -> None:
        loc = hit.location
        key = (module.RULE_ID, loc.source, loc.pointer, hit.subject, hit.resource)
        if key not in seen:
            seen.add(key)
            findings.append(_stamp(module, rule, hit, stamp(loc), target.name))

    failed: list[tuple[str, Exception]] = []
    for module, rule in plan.checks:
        try:
            for hit in module.check(ctx):
                add(module, rule, hit)
        except Exception as exc:  # a bug in one check must not cost the others
            failed.append((module.RULE_ID, exc))
    for rule_id, error in failed:
        add(internal_error, plan.failure, internal_error.failure(target, rule_id, error))
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
        if rule is None:  # aws-managed-policy is disabled: the findings stay folded, nothing sums them up
            continue
        hit = aws_managed_policy.summary(policy, found, plan.needed, f"{target.kind} {target.name}")
        if hit is not None:
            kept.append(_stamp(aws_managed_policy, rule, hit, target=target.name))
    return kept, folded


def run(targets: Sequence[Target], settings: Settings, catalogue: Catalogue, config: Config = NO_CONFIG,
        review=None) -> Report:
    """Audit every target with its own settings and config (a target's config file may not be the
    run's), then report the ignores of each config that silenced nothing. `review`
    (auditor.second_opinion.Reviewer, with --parliament) adds a second opinion's findings to each
    target's and merges those that repeat ours."""
    findings: list[Finding] = []
    ignored: list[tuple[Finding, str]] = []
    coverage: list[CoverageRow] = []
    configs: dict[int, tuple[Config, set[int], list[str]]] = {}  # id → (config, ignores used, files audited)
    for target in targets:
        own_settings = target.settings or settings
        own = target.config if isinstance(target.config, Config) else config
        _, used, audited = configs.setdefault(id(own), (own, set(), []))
        is_file = target.kind == "file"
        audited.extend(own.relative(source, is_file) for source in target.sources)
        plan = plan_for(own_settings, catalogue, own)
        found, rows = audit_target(target, own_settings, catalogue, plan)
        if review is not None:
            found = review.review(target, found, _line_stamper(target.policies))
        if any(p.aws_managed for p in target.policies):  # after the second opinion: its findings there fold too
            found, folded = _fold_managed(target, found, plan)
            ignored += folded
        for finding in found:
            ignore = None if finding.rule_id == internal_error.RULE_ID else own.ignore_for(finding, is_file)
            if ignore is None:
                findings.append(finding)
            else:
                used.add(ignore.number)
                ignored.append((finding, ignore.reason))
        coverage.extend(rows)
    for own, used, audited in configs.values():
        rule = own.rule(unused_ignore.RULE_ID)
        if own.ignores and rule.enabled:
            findings.extend(_stamp(unused_ignore, rule, hit) for hit in unused_ignore.unused(own, used, audited))
    findings.sort(key=lambda f: (-SEVERITY_RANK[f.severity], f.category, f.location.source,
                                 f.location.line or 0, f.subject))
    notes = catalogue.remote_notes(settings.jets_version, settings.features) + tuple(
        dict.fromkeys(note for target in targets for note in target.notes))
    return Report(__version__, awsdata.data_version(), settings, tuple(targets), tuple(findings),
                  tuple(coverage), notes, tuple(ignored), review.summary() if review is not None else None)
