"""Runs the audit: coverage per target, then every check; stamps rule id, category and severity."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from types import ModuleType

from auditor import __version__, awsdata
from auditor.catalogue import SHORT_ENVS, Catalogue, NameClass, Naming, Requirement
from auditor.checks import CHECKS, aws_managed_policy, unused_ignore
from auditor.conditions import Decision, RequestContext, decide
from auditor.config import Config, RuleSetting
from auditor.context import ContextRules
from auditor.deploy import FRESH_ACCOUNT, Deploy, candidates
from auditor.evaluate import (
    CONDITIONAL,
    DENIED,
    GRANTED,
    MISSING,
    ActionIndex,
    ConditionJudge,
    Verdict,
    evaluate_relevant,
    statement_matches_action,
    undecided,
    within_boundary,
)
from auditor.model import Condition, Location, Policy, SourceMap, Statement
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
    plan: Plan
    coverage: tuple[CoverageRow, ...]
    statements: tuple[Statement, ...]  # the target's, in order
    action_index: ActionIndex  # which statements name each needed or escalation action
    deploy: DeployChoice | None = None  # the Region and account coverage was judged for
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
    """One requirement rendered for one env: an (action, resource) the coverage asks about, who asks,
    and how (see evaluate). Rendered again for the Region and account a target is judged for."""

    requirement: Requirement
    env: str
    resource: str  # as shown, rendered with the run's --region/--account ("*" where not given)
    pattern: str  # as the evaluator reads it: name parts as their classes (catalogue.Naming.pattern)
    names: dict[str, NameClass] = field(default_factory=dict, compare=False, repr=False, hash=False)

    def rendered(self, settings: Settings, deploy: Deploy) -> str:
        """The resource for this deploy's Region and account (an account the policy does not name
        stays "*" in what is shown; the evaluator uses `judged`)."""
        if deploy.region is None and deploy.account is None:
            return self.resource
        account = deploy.account if deploy.account != FRESH_ACCOUNT else settings.account
        return Naming(settings.prefix, self.env, settings.jets_version, deploy.region or settings.region,
                      account).render(self.requirement.resource)

    def judged(self, settings: Settings, deploy: Deploy) -> str:
        """The requirement the evaluator decides for this deploy."""
        if deploy.region is None and deploy.account is None:
            return self.pattern
        return Naming(settings.prefix, self.env, settings.jets_version, deploy.region or settings.region,
                      deploy.account or settings.account).pattern(self.requirement.resource, self.names)


def _probes(settings: Settings, requirements: tuple[Requirement, ...], names: dict[str, NameClass]) -> tuple[Probe, ...]:
    """What to evaluate for every target of a run: each requirement rendered for each env, once per
    request (the same action and resource asked by the CLI and by CloudFormation are two requests)."""
    out = []
    seen: set[tuple[str, str, str, tuple[str, ...], str]] = set()
    for env in settings.envs:
        naming = Naming(settings.prefix, env, settings.jets_version, settings.region, settings.account)
        for req in requirements:
            resource = naming.render(req.resource)
            key = (req.action, resource, req.caller, req.passed_to, req.match)
            if key not in seen:
                seen.add(key)
                out.append(Probe(req, env, resource, naming.pattern(req.resource, names), names))
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
    settings: Settings | None = None  # the run's settings (the probes are rendered for them)


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
        plan = Plan(requirements, _probes(settings, requirements, catalogue.names), needed,
                    frozenset({*needed, *catalogue.escalation_actions, "iam:passrole"}),
                    tuple((module, rule) for module, rule in chosen if rule.enabled),
                    catalogue.select(settings.jets_version, catalogue.feature_ids), settings)
        if len(catalogue.memo) >= MAX_PLANS:
            catalogue.memo.clear()
        catalogue.memo[key] = plan
    return plan


@dataclass(frozen=True)
class DeployChoice:
    """The Region and account a target was judged for, and what another choice would grant that this
    one does not (the pins that split the deploy)."""

    chosen: Deploy
    given: bool  # the user gave both (or the policy does not tell Regions and accounts apart)
    tried: int  # how many (Region, account) pairs were judged
    elsewhere: tuple[tuple[CoverageRow, Deploy, CoverageRow], ...] = ()  # row here, another deploy, its row there


def coverage_for(target: Target, plan: Plan, index: ActionIndex,
                 contexts: ContextRules | None = None) -> tuple[tuple[CoverageRow, ...], DeployChoice]:
    """One row per probe, for the one Region and account that grants the most (see auditor/deploy.py).
    `index` covers the target's statements and the plan's universe."""
    settings = plan.settings
    assert settings is not None
    if not any(p.statements for p in target.policies) and any(p.problems for p in target.policies):
        nowhere = Deploy(settings.region, settings.account)
        return (), DeployChoice(nowhere, True, 0)  # nothing readable: the invalid-policy findings say why
    statements = [s for p in (*target.policies, *target.boundary) for s in p.statements]
    options = candidates(statements, settings.region, settings.account)
    best: tuple[tuple[int, int], Deploy, tuple[CoverageRow, ...]] | None = None
    judged: list[tuple[Deploy, tuple[CoverageRow, ...]]] = []
    for deploy in options:
        rows = _rows(target, plan, index, contexts, deploy)
        judged.append((deploy, rows))
        score = (sum(r.status in (MISSING, DENIED) for r in rows), sum(r.status == CONDITIONAL for r in rows))
        if best is None or score < best[0]:
            best = (score, deploy, rows)
        if score == (0, 0):
            break
    assert best is not None
    _, chosen, rows = best
    given = len(options) == 1
    elsewhere = []
    if not given:
        for i, row in enumerate(rows):
            if row.status not in (MISSING, DENIED):
                continue
            for deploy, other in judged:
                if deploy != chosen and other[i].status == GRANTED:
                    elsewhere.append((row, deploy, other[i]))
                    break
    return rows, DeployChoice(chosen, given, len(judged), tuple(elsewhere))


def _rows(target: Target, plan: Plan, index: ActionIndex, contexts: ContextRules | None,
          deploy: Deploy) -> tuple[CoverageRow, ...]:
    settings = plan.settings
    assert settings is not None
    limits = [s for p in target.boundary for s in p.statements]
    boundary_name = ", ".join(p.source for p in target.boundary)
    bounded = ActionIndex(limits, plan.universe) if limits else None
    version = settings.jets_version.split(".")[0]
    rows: list[CoverageRow] = []
    for probe in plan.probes:
        req = probe.requirement
        relevant = index.relevant(req.action)
        shown = probe.rendered(settings, deploy)
        if not relevant and not target.boundary:  # no statement names it
            rows.append(_row(target, probe, shown, MISSING))
            continue
        judge = undecided
        if contexts is not None:
            extra = {"iam:PassedToService": req.passed_to} if req.passed_to else None
            judge = _judge(contexts.context(req.action, req.resource, req.caller, features=settings.features,
                                            version=version, region=deploy.region, account=deploy.account, extra=extra))
        requirement = probe.judged(settings, deploy)
        verdict = evaluate_relevant(requirement, relevant, match=req.match, judge=judge)
        if target.boundary:
            limit = evaluate_relevant(requirement, bounded.relevant(req.action) if bounded else [], match=req.match, judge=judge)
            verdict = within_boundary(verdict, limit, boundary_name)
        rows.append(_row(target, probe, shown, verdict.status, verdict))
    return tuple(rows)


def _refs(statements: Sequence[Statement]) -> tuple[str, ...]:
    return tuple(s.ref for s in statements)


def _row(target: Target, probe: Probe, resource: str, status: str, verdict: Verdict | None = None) -> CoverageRow:
    req = probe.requirement
    refs = _refs
    return CoverageRow(
        target.name, req.feature, req.action, resource, status,
        refs(verdict.granted_by) if verdict else (), refs(verdict.denied_by) if verdict else (),
        verdict.notes if verdict else (), refs(verdict.allowed_by) if verdict else (),
        req.confidence, req.phases, req.reason, req.evidence, req.releases.text,
        match=req.match, caller=req.caller, unmet=refs(verdict.unmet) if verdict else ())


@lru_cache(maxsize=4096)
def _judge(context: RequestContext) -> ConditionJudge:
    """The condition judge for one request context: each statement's Conditions decided once."""
    memo: dict[tuple[Condition, ...], Decision] = {}

    def judge(stmt: Statement) -> Decision:
        found = memo.get(stmt.conditions)
        if found is None:
            found = memo[stmt.conditions] = decide(stmt.conditions, context)
        return found

    return judge


def coverage(policies: Sequence[Policy], settings: Settings, catalogue: Catalogue) -> tuple[CoverageRow, ...]:
    """The coverage rows of one policy set, without running the checks (generate --from uses it)."""
    plan = plan_for(settings, catalogue)
    target = Target("file", "policy", tuple(policies))
    index = ActionIndex(tuple(s for p in policies for s in p.statements), plan.universe)
    return coverage_for(target, plan, index, catalogue.contexts)[0]


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
                 plan: Plan) -> tuple[list[Finding], tuple[CoverageRow, ...], DeployChoice]:
    statements = tuple(s for p in target.policies for s in p.statements)
    index = ActionIndex(statements, plan.universe)
    coverage, deploy = coverage_for(target, plan, index, catalogue.contexts)
    ctx = Context(target, settings, catalogue, plan, coverage, statements, index, deploy)
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
    return findings, coverage, deploy


def deploy_note(target: Target, choice: DeployChoice) -> str | None:
    """What the report says when the audit chose the Region or account (the user gave none, and the
    policy tells some apart)."""
    if choice.given:
        return None
    return (f"{target.name}: no --region/--account given; judged for {choice.chosen.label()}, which grants the most "
            f"of {choice.tried} choices the policy's Region and account pins and conditions allow")


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


def run(targets: Sequence[Target], settings: Settings, catalogue: Catalogue, config: Config = NO_CONFIG,
        review=None) -> Report:
    """Audit every target with its own settings and config (a target's config file may not be the
    run's), then report the ignores of each config that silenced nothing. `review`
    (auditor.second_opinion.Reviewer, with --parliament) adds a second opinion's findings to each
    target's and merges those that repeat ours."""
    findings: list[Finding] = []
    ignored: list[tuple[Finding, str]] = []
    coverage: list[CoverageRow] = []
    deploy_notes: list[str] = []
    configs: dict[int, tuple[Config, set[int], list[str]]] = {}  # id → (config, ignores used, files audited)
    for target in targets:
        own_settings = target.settings or settings
        own = target.config if isinstance(target.config, Config) else config
        _, used, audited = configs.setdefault(id(own), (own, set(), []))
        is_file = target.kind == "file"
        audited.extend(own.relative(source, is_file) for source in target.sources)
        plan = plan_for(own_settings, catalogue, own)
        found, rows, choice = audit_target(target, own_settings, catalogue, plan)
        note = deploy_note(target, choice)
        if note is not None:
            deploy_notes.append(note)
        if review is not None:
            found = review.review(target, found, _line_stamper(target.policies))
        if any(p.aws_managed for p in target.policies):  # after the second opinion: its findings there fold too
            found, folded = _fold_managed(target, found, plan)
            ignored += folded
        for finding in found:
            ignore = own.ignore_for(finding, is_file)
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
        dict.fromkeys([*(note for target in targets for note in target.notes), *deploy_notes]))
    return Report(__version__, awsdata.data_version(), settings, tuple(targets), tuple(findings),
                  tuple(coverage), notes, tuple(ignored), review.summary() if review is not None else None)
