"""Runs the audit: coverage per target, then every check; stamps rule id, category and severity."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from types import MappingProxyType

from auditor import __version__, awsdata
from auditor.budget import Work
from auditor.catalogue import Catalogue, NameClass, Naming, Requirement
from auditor.checks import CHECKS, internal_error
from auditor.checks.base import Check, Context
from auditor.conditions import Decision, RequestContext, decide, resolve_known, resolve_own
from auditor.config import Config, RuleSetting
from auditor.context import ContextRules
from auditor.deploy import FRESH_ACCOUNT, MAX_DEPLOY_WORK, Deploy, DeployChoice, candidates
from auditor.evaluate import (
    CONDITIONAL,
    DENIED,
    GRANTED,
    MISSING,
    NAME_DEPENDENT,
    ActionIndex,
    ConditionJudge,
    Verdict,
    evaluate_relevant,
    undecided,
    within_boundary,
)
from auditor.filters import Filters, Reviewer
from auditor.model import Condition, Policy, Statement
from auditor.name_parts import Text, split
from auditor.report import CoverageRow, Finding, Hit, Part, Report, Settings, Target, with_notes
from auditor.stamp import line_stamper, stamp

NO_CONFIG = Config()


# --- coverage -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Probe:
    """One requirement rendered for one env: an (action, resource) the coverage asks about, who asks,
    and how (see evaluate). Rendered again for the Region and account a target is judged for."""

    requirement: Requirement
    env: str
    resource: str  # as shown, rendered with the run's --region/--account ("*" where not given)
    pattern: Text  # as the evaluator reads it: name parts as their classes (catalogue.Naming.pattern)
    names: Mapping[str, NameClass] = field(default_factory=dict, compare=False, repr=False, hash=False)

    def rendered(self, settings: Settings, deploy: Deploy) -> str:
        """The resource for this deploy's Region and account (an account the policy does not name
        stays "*" in what is shown; the evaluator uses `judged`)."""
        if deploy.region is None and deploy.account is None:
            return self.resource
        account = deploy.account if deploy.account != FRESH_ACCOUNT else settings.account
        return Naming(settings.prefix, self.env, settings.jets_version, deploy.region or settings.region,
                      account).render(self.requirement.resource)

    def judged(self, settings: Settings, deploy: Deploy) -> Text:
        """The requirement the evaluator decides for this deploy."""
        if deploy.region is None and deploy.account is None:
            return self.pattern
        return Naming(settings.prefix, self.env, settings.jets_version, deploy.region or settings.region,
                      deploy.account or settings.account).pattern(self.requirement.resource, self.names)

    def row(self, target: str, resource: str, verdict: Verdict | None = None) -> CoverageRow:
        """Its coverage row on a target: the verdict's, or missing when no statement names the action."""
        req = self.requirement
        if verdict is None:
            return CoverageRow(target, req.feature, req.action, resource, MISSING, (), (), (), (), req.confidence,
                               req.phases, req.reason, req.evidence, req.releases.text, match=req.match, caller=req.caller)
        return CoverageRow(
            target=target, feature=req.feature, action=req.action, resource=resource, status=verdict.status,
            granted_by=_refs(verdict.granted_by), denied_by=_refs(verdict.denied_by), notes=verdict.notes,
            allowed_by=_refs(verdict.allowed_by), confidence=req.confidence, phases=req.phases, reason=req.reason,
            evidence=req.evidence, releases=req.releases.text, by_boundary=verdict.by_boundary, match=req.match,
            caller=req.caller, unmet=_refs(verdict.unmet))


def _refs(statements: Sequence[Statement]) -> tuple[str, ...]:
    return tuple(s.ref for s in statements)


def _probes(settings: Settings, catalogue: Catalogue) -> tuple[Probe, ...]:
    """What to evaluate for every target of a run: each requirement rendered for each env, once per
    request (the same action and resource asked by the CLI and by CloudFormation are two requests)."""
    out = []
    seen: set[tuple[str, str, str, tuple[str, ...], str]] = set()
    for env in settings.envs:
        naming = Naming(settings.prefix, env, settings.jets_version, settings.region, settings.account)
        for req, resource in catalogue.rendered(naming, settings.features):
            key = (req.action, resource, req.caller, req.passed_to, req.match)
            if key not in seen:
                seen.add(key)
                out.append(Probe(req, env, resource, naming.pattern(req.resource, catalogue.names), catalogue.names))
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
    settings: Settings  # the run's settings (the probes are rendered for them)


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
                RuleSetting(True, config.rule(internal_error.RULE_ID).severity), settings)


def coverage_for(target: Target, plan: Plan, index: ActionIndex,
                 contexts: ContextRules | None = None) -> tuple[tuple[CoverageRow, ...], DeployChoice]:
    """One row per probe, for the one Region and account that grants the most (see auditor/deploy.py).
    `index` covers the target's statements and the plan's universe."""
    settings = plan.settings
    if not any(p.statements for p in target.policies) and any(p.problems for p in target.policies):
        nowhere = Deploy(settings.region, settings.account)
        return (), DeployChoice(nowhere, True, 0)  # nothing readable: the invalid-policy findings say why
    statements = [s for p in (*target.policies, *target.boundary) for s in p.statements]
    options = candidates(statements, settings.region, settings.account)
    best: tuple[tuple[int, int], Deploy, tuple[CoverageRow, ...]] | None = None
    judged: list[tuple[Deploy, tuple[CoverageRow, ...]]] = []
    # the search is pairs x requirements x Resource entries: one budget per target bounds the pairs judged
    cost = len(plan.probes) + sum(len(s.resource_patterns) + 1 for probe in plan.probes
                                  for s in index.relevant(probe.requirement.action))
    work = Work(MAX_DEPLOY_WORK)
    memo = _TargetMemo()
    for deploy in options:
        if not work.spend(cost) and judged:
            break
        rows = _rows(target, plan, index, contexts, deploy, memo)
        judged.append((deploy, rows))
        score = (sum(r.status in (MISSING, DENIED) for r in rows), sum(r.status in (CONDITIONAL, NAME_DEPENDENT) for r in rows))
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
    untried = len(options) - len(judged) if work.exhausted else 0
    return rows, DeployChoice(chosen, given, len(judged), tuple(elsewhere), untried)


def _rows(target: Target, plan: Plan, index: ActionIndex, contexts: ContextRules | None,
          deploy: Deploy, memo: _TargetMemo) -> tuple[CoverageRow, ...]:
    settings = plan.settings
    limits = [s for p in target.boundary for s in p.statements]
    boundary_name = ", ".join(p.source for p in target.boundary)
    bounded = ActionIndex(limits, plan.universe) if limits else None
    # a statement whose resources hold a policy variable is resolved per request (_TargetMemo.resolved);
    # when no statement has one there is nothing to resolve
    variables = any(_has_variables(s) for p in target.policies for s in p.statements)
    rows: list[CoverageRow] = []
    for probe in plan.probes:
        req = probe.requirement
        relevant = index.relevant(req.action)
        shown = probe.rendered(settings, deploy)
        if not relevant and not target.boundary:  # no statement names it
            rows.append(probe.row(target.name, shown))
            continue
        judge: ConditionJudge = undecided
        requirement = probe.judged(settings, deploy)
        if contexts is not None:
            extra = {"iam:PassedToService": req.passed_to} if req.passed_to else None
            naming = _naming_values(settings.prefix, probe.env, str(req.releases.low[0]))
            request = contexts.context(req.action, req.resource, req.caller, features=settings.features,
                                       version=str(req.releases.low[0]), region=deploy.region, account=deploy.account,
                                       extra=extra, naming=naming)
            judge = memo.judge(request)
            if variables:
                own = _own_segments(requirement)
                relevant = [memo.resolved(stmt, request, own) for stmt in relevant]
        verdict = evaluate_relevant(requirement, relevant, match=req.match, judge=judge)
        if target.boundary:
            limit = evaluate_relevant(requirement, bounded.relevant(req.action) if bounded else [], match=req.match,
                                      judge=judge)
            verdict = within_boundary(verdict, limit, boundary_name)
        rows.append(probe.row(target.name, shown, verdict))
    return tuple(rows)


@lru_cache(maxsize=256)
def _naming_values(prefix: str, env: str, version: str) -> tuple[tuple[str, str], ...]:
    """The project's names a request context's values may name (catalogue.Naming.values)."""
    return tuple(sorted(Naming(prefix, env, version).values().items()))


def _own_segments(requirement: Text) -> tuple[str, str] | None:
    """The requirement's Region and account segments, which `${aws:RequestedRegion}` and
    `${aws:PrincipalAccount}` in a Resource equal (see conditions.resolve_own)."""
    parts = split(requirement, ":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not isinstance(parts[3], str) or not isinstance(parts[4], str):
        return None
    return parts[3], parts[4]


class _TargetMemo:
    """What judging one target's requirements works out once, for every Region and account tried: a
    condition judge per request context (each statement's Conditions decided once for it), and each
    statement with the policy variables of its Resource that a request context knows put in. Made for
    one target and dropped with it: nothing of a target outlives its audit."""

    def __init__(self) -> None:
        self._judges: dict[RequestContext, ConditionJudge] = {}
        self._resolved: dict[tuple[int, RequestContext, tuple[str, str] | None], Statement] = {}

    def judge(self, context: RequestContext) -> ConditionJudge:
        """The condition judge for one request context."""
        if context not in self._judges:
            decided: dict[tuple[str, tuple[Condition, ...]], Decision] = {}

            def judge(stmt: Statement) -> Decision:
                key = (stmt.effect, stmt.conditions)  # the effect matters for a key Jets sends in several requests
                if key not in decided:
                    decided[key] = decide(stmt.conditions, context, stmt.effect)
                return decided[key]

            self._judges[context] = judge
        return self._judges[context]

    def resolved(self, stmt: Statement, context: RequestContext, own: tuple[str, str] | None) -> Statement:
        """The statement with the policy variables of its Resource (or NotResource) that the request
        context knows put in (`arn:aws:cloudformation:${aws:RequestedRegion}:...`), and those that stand
        for the request's own Region or account where its ARN has them (`own`: the requirement's Region
        and account segments); the others stay, and leave the statement applying only maybe."""
        if not _has_variables(stmt):
            return stmt
        key = (id(stmt), context, own)  # (the target's statements live as long as this memo)
        found = self._resolved.get(key)
        if found is None:
            def put(pattern: str) -> str:
                known = resolve_known(pattern, context)
                return known if own is None else resolve_own(known, *own)

            if stmt.resources is not None:
                found = replace(stmt, resources=tuple(put(p) for p in stmt.resources))
            else:
                found = replace(stmt, not_resources=tuple(put(p) for p in stmt.not_resources or ()))
            self._resolved[key] = found
        return found


def _has_variables(stmt: Statement) -> bool:
    return any("${" in p for p in stmt.resource_patterns)


def coverage(policies: Sequence[Policy], settings: Settings, catalogue: Catalogue) -> tuple[CoverageRow, ...]:
    """The coverage rows of one policy set, without running the checks (generate --from uses it)."""
    plan = plan_for(settings, catalogue)
    target = Target("file", "policy", tuple(policies))
    index = ActionIndex(tuple(s for p in policies for s in p.statements), plan.universe)
    return coverage_for(target, plan, index, catalogue.contexts)[0]


# --- the run ------------------------------------------------------------------------------------

def audit_target(target: Target, settings: Settings, catalogue: Catalogue,
                 plan: Plan) -> tuple[list[Finding], tuple[CoverageRow, ...], DeployChoice]:
    """Every check the plan keeps on one target. A check that raises keeps the findings it gave so far;
    the others still run, and the engine reports the failure as an internal-error finding."""
    statements = tuple(s for p in target.policies for s in p.statements)
    index = ActionIndex(statements, plan.universe)
    coverage, deploy = coverage_for(target, plan, index, catalogue.contexts)
    ctx = Context(target, settings, catalogue, plan.requirements, plan.needed, coverage, statements, index, deploy)
    findings: list[Finding] = []
    at = line_stamper(target.policies, target.defined_at)
    seen: set[tuple[str, str, str, str, str | None]] = set()

    def add(module: Check, rule: RuleSetting, hit: Hit) -> None:
        loc = hit.location
        key = (module.RULE_ID, loc.source, loc.pointer, hit.subject, hit.resource)
        if key not in seen:
            seen.add(key)
            findings.append(stamp(module, rule, hit, at(loc), target.name))

    failed: list[tuple[str, Exception]] = []
    for module, rule in plan.checks:
        try:
            for hit in module.check(ctx):
                add(module, rule, hit)
        except Exception as exc:  # a bug in one check must not cost the others
            failed.append((module.RULE_ID, exc))
    for rule_id, error in failed:
        add(internal_error, plan.failure, internal_error.failure(target, rule_id, error))
    return findings, coverage, deploy


def deploy_note(target: Target, choice: DeployChoice, settings: Settings) -> str | None:
    """What the report says when the audit chose the Region or account (the user did not give both,
    and the policy tells some apart)."""
    if choice.given:
        return None
    missing = "/".join(option for option, value in (("--region", settings.region), ("--account", settings.account))
                       if value is None)
    which = ("the only choice" if choice.tried == 1 and not choice.untried else
             f"which grants the most of the {choice.tried} choices")
    more = f"; {choice.untried} more were not judged (the work budget, see split-deploy)" if choice.untried else ""
    return (f"{target.name}: no {missing} given; judged for {choice.chosen.label()}, {which} the policy's Region "
            f"and account pins and conditions allow{more}")


class Audit:
    """A run, one target at a time: `part(target, config)` audits a target with its own settings (the
    target's, else the run's) and config (else the run's), then puts its findings through the run's
    filters (auditor/filters.py), and returns its share of the report; `finish()` then gives the
    findings about the config files. A target must be read before it is audited: the engine reads no
    file (a deferred target: auditor.sources.targets.loaded)."""

    def __init__(self, settings: Settings, catalogue: Catalogue, config: Config = NO_CONFIG,
                 filters: Filters | None = None) -> None:
        self.settings, self.catalogue, self.config = settings, catalogue, config
        self.filters = filters if filters is not None else Filters()

    def part(self, target: Target, config: Config | None = None) -> Part:
        if target.deferred is not None:
            raise ValueError(f"{target.name}: a deferred target is read before it is audited (auditor.sources.targets.loaded)")
        settings = target.settings or self.settings
        config = config if config is not None else self.config
        plan = plan_for(settings, self.catalogue, config)
        found, rows, choice = audit_target(target, settings, self.catalogue, plan)
        findings, left_out = self.filters.apply(target, found, config, plan.needed)
        note = deploy_note(target, choice, settings)
        return Part(target, tuple(findings), rows, tuple(left_out), (note,) if note is not None else ())

    def finish(self) -> tuple[Finding, ...]:
        return self.filters.finish()


def notes_for(targets: Sequence[Target], settings: Settings, catalogue: Catalogue) -> tuple[str, ...]:
    """What a report says before its targets: requirements that do not apply to the local principal,
    and how the targets were assembled. Auditing a target may add one (Part.notes: the Region and
    account it was judged for), said after these (report.with_notes)."""
    return catalogue.remote_notes(settings.jets_version, settings.features) + tuple(
        dict.fromkeys(note for target in targets for note in target.notes))


def run(targets: Sequence[Target], settings: Settings, catalogue: Catalogue, config: Config = NO_CONFIG,
        review: Reviewer | None = None) -> Report:
    """Every target audited (see Audit), as one Report: findings target by target, in the targets'
    order, each target's sorted (finding_order), then those about config files."""
    audit = Audit(settings, catalogue, config, Filters(review))
    parts = [audit.part(target) for target in targets]
    findings = [f for part in parts for f in part.findings] + list(audit.finish())
    added = tuple((part.target.name, note) for part in parts for note in part.notes)
    notes = with_notes(notes_for(targets, settings, catalogue), (note for _, note in added))
    return Report(__version__, awsdata.data_version(), settings, tuple(part.target for part in parts), tuple(findings),
                  tuple(row for part in parts for row in part.coverage), notes,
                  tuple(item for part in parts for item in part.ignored), audit.filters.second_opinion(), target_notes=added)

