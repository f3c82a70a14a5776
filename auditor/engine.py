"""Runs the audit: coverage per target, then every check; stamps rule id, category and severity."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from types import MappingProxyType
from typing import cast

from auditor import __version__, awsdata
from auditor.arn import parse_arn
from auditor.budget import Work
from auditor.catalogue import SHORT_ENVS, Catalogue, NameClass, Naming, Requirement
from auditor.checks import CHECKS, aws_managed_policy, internal_error, untrusted_setting, unused_ignore
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
from auditor.model import Condition, Location, Policy, Statement
from auditor.report import (
    CoverageRow,
    Finding,
    Hit,
    Part,
    Report,
    Settings,
    Target,
    finding_order,
    with_notes,
)
from auditor.source_map import SourceMap
from auditor.sources.file import STDIN_NAME

NO_CONFIG = Config()


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
    """One requirement rendered for one env: an (action, resource) the coverage asks about, who asks,
    and how (see evaluate). Rendered again for the Region and account a target is judged for."""

    requirement: Requirement
    env: str
    resource: str  # as shown, rendered with the run's --region/--account ("*" where not given)
    pattern: str  # as the evaluator reads it: name parts as their classes (catalogue.Naming.pattern)
    names: Mapping[str, NameClass] = field(default_factory=dict, compare=False, repr=False, hash=False)

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

    def row(self, target: str, resource: str, verdict: Verdict | None = None) -> CoverageRow:
        """Its coverage row on a target: the verdict's, or missing when no statement names the action."""
        req = self.requirement
        if verdict is None:  # most rows: the same fields but the target's name, made without keywords
            fixed = self._missing
            return _ROW((target, fixed[0], fixed[1], resource, *fixed[2:]))
        refs = _refs
        return CoverageRow(
            target=target, feature=req.feature, action=req.action, resource=resource, status=verdict.status,
            granted_by=refs(verdict.granted_by), denied_by=refs(verdict.denied_by), notes=verdict.notes,
            allowed_by=refs(verdict.allowed_by), confidence=req.confidence, phases=req.phases, reason=req.reason,
            evidence=req.evidence, releases=req.releases.text, by_boundary=verdict.by_boundary, match=req.match,
            caller=req.caller, unmet=refs(verdict.unmet))

    @cached_property
    def _missing(self) -> tuple[object, ...]:
        """A missing row's fields but the target and the resource, in CoverageRow's order."""
        req = self.requirement
        row = CoverageRow("", req.feature, req.action, "", MISSING, (), (), (), (), req.confidence, req.phases, req.reason,
                          req.evidence, req.releases.text, False, req.match, req.caller, ())
        return (row[1], row[2], *row[4:])


_ROW = CoverageRow._make


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
    for deploy in options:
        if not work.spend(cost) and judged:
            break
        rows = _rows(target, plan, index, contexts, deploy)
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
          deploy: Deploy) -> tuple[CoverageRow, ...]:
    settings = plan.settings
    limits = [s for p in target.boundary for s in p.statements]
    boundary_name = ", ".join(p.source for p in target.boundary)
    bounded = ActionIndex(limits, plan.universe) if limits else None
    # a statement whose resources hold a policy variable is resolved per request (_known_variables);
    # the others as they are (most targets have none: no memo lookup, no hashing of statements)
    variables = any(_has_variables(s) for p in target.policies for s in p.statements)
    rows: list[CoverageRow] = []
    name, named, bounded_target = target.name, index.relevant, bool(target.boundary)
    for probe in plan.probes:
        req = probe.requirement
        relevant = named(req.action)
        shown = probe.rendered(settings, deploy)
        if not relevant and not bounded_target:  # no statement names it
            rows.append(probe.row(name, shown))
            continue
        judge: ConditionJudge = undecided
        requirement = probe.judged(settings, deploy)
        if contexts is not None:
            extra = {"iam:PassedToService": req.passed_to} if req.passed_to else None
            naming = _naming_values(settings.prefix, probe.env, str(req.releases.low[0]))
            request = contexts.context(req.action, req.resource, req.caller, features=settings.features,
                                       version=str(req.releases.low[0]), region=deploy.region, account=deploy.account,
                                       extra=extra, naming=naming)
            judge = _judge(request)
            if variables:
                own = _own_segments(requirement)
                relevant = [_known_variables(stmt, request, own) for stmt in relevant]
        verdict = evaluate_relevant(requirement, relevant, match=req.match, judge=judge)
        if target.boundary:
            limit = evaluate_relevant(requirement, bounded.relevant(req.action) if bounded else [], match=req.match,
                                      judge=judge)
            verdict = within_boundary(verdict, limit, boundary_name)
        rows.append(probe.row(name, shown, verdict))
    return tuple(rows)


@lru_cache(maxsize=256)
def _naming_values(prefix: str, env: str, version: str) -> tuple[tuple[str, str], ...]:
    """The project's names a request context's values may name (catalogue.Naming.values)."""
    return tuple(sorted(Naming(prefix, env, version).values().items()))


@lru_cache(maxsize=1024)
def _own_segments(requirement: str) -> tuple[str, str] | None:
    """The requirement's Region and account segments, which `${aws:RequestedRegion}` and
    `${aws:PrincipalAccount}` in a Resource equal (see conditions.resolve_own)."""
    arn = parse_arn(requirement)
    return None if arn is None else (arn.region, arn.account)


@lru_cache(maxsize=4096)
def _known_variables(stmt: Statement, context: RequestContext, own: tuple[str, str] | None = None) -> Statement:
    """The statement with the policy variables of its Resource (or NotResource) that the request
    context knows put in (`arn:aws:cloudformation:${aws:RequestedRegion}:...`), and those that stand
    for the request's own Region or account where its ARN has them (`own`: the requirement's Region
    and account segments); the others stay, and leave the statement applying only maybe."""
    if not _has_variables(stmt):
        return stmt

    def put(pattern: str) -> str:
        known = resolve_known(pattern, context)
        return known if own is None else resolve_own(known, *own)

    if stmt.resources is not None:
        return replace(stmt, resources=tuple(put(p) for p in stmt.resources))
    return replace(stmt, not_resources=tuple(put(p) for p in stmt.not_resources or ()))


def _has_variables(stmt: Statement) -> bool:
    return any("${" in p for p in stmt.resource_patterns)


JUDGED_KEPT = 1024  # Conditions decisions one judge keeps (the corpus: at most 172 distinct Conditions per request)


@lru_cache(maxsize=4096)
def _judge(context: RequestContext) -> ConditionJudge:
    """The condition judge for one request context: each statement's Conditions decided once."""
    memo: dict[tuple[str, tuple[Condition, ...]], Decision] = {}

    def judge(stmt: Statement) -> Decision:
        key = (stmt.effect, stmt.conditions)  # the effect matters for a key Jets sends in several requests
        found = memo.get(key)
        if found is None:
            if len(memo) >= JUDGED_KEPT:  # bounded like every memo: a judge outlives the targets it judged
                memo.clear()
            found = memo[key] = decide(stmt.conditions, context, stmt.effect)
        return found

    return judge


def coverage(policies: Sequence[Policy], settings: Settings, catalogue: Catalogue) -> tuple[CoverageRow, ...]:
    """The coverage rows of one policy set, without running the checks (generate --from uses it)."""
    plan = plan_for(settings, catalogue)
    target = Target("file", "policy", tuple(policies))
    index = ActionIndex(tuple(s for p in policies for s in p.statements), plan.universe)
    return coverage_for(target, plan, index, catalogue.contexts)[0]


# --- the run ------------------------------------------------------------------------------------

def _line_stamper(policies: Sequence[Policy], defined_at: Location | None = None) -> Callable[[Location], Location]:
    """A function that gives a location its line, from the policy it points into, and says whether its
    source is a file. A policy read from Terraform or CloudFormation has an origin: its locations become
    the file, the path in the file and the line where the element is written (also for findings about the
    whole document). In a principal of infrastructure code (`defined_at`: the file and line that define
    it), a location in a policy that is written in no file of it (a managed policy attached by ARN, its
    document from --auth-details) points at the principal's definition. Elsewhere a location in a policy
    read from AWS or standard input is no file. A location whose source is no policy of the target (an
    assumption's file and line, the target's own place) is kept as it is."""
    maps = {p.source: SourceMap(p.text) for p in policies if p.origin is None}
    origins = {p.source: p.origin for p in policies if p.origin is not None}
    not_files = {p.source for p in policies if p.origin is None and (p.from_aws or p.source == STDIN_NAME)}

    def stamp(loc: Location) -> Location:
        origin = origins.get(loc.source) if origins else None
        if origin is not None:
            spot = origin.locate(loc.pointer)
            return Location(spot.path, spot.pointer, loc.sid, spot.line, spot.path != STDIN_NAME)
        smap = maps.get(loc.source)
        if smap is None:
            return loc
        if defined_at is not None:
            return defined_at
        is_file = loc.source not in not_files
        if not loc.pointer or loc.line is not None:  # the whole target, or a line already known
            return loc if loc.file == is_file else replace(loc, file=is_file)
        return Location(loc.source, loc.pointer, loc.sid, smap.line(loc.pointer), is_file)

    return stamp


class _Stamped:
    """A Finding built without the frozen dataclass's __init__, which calls object.__setattr__ once per
    field (3.3 us a finding against 0.75 us here; a run makes one per hit, 108,000 on the AWS corpus).
    It has Finding's slots, so once every field is set it becomes a Finding (CPython allows a class
    change between classes of the same slots) and is frozen like any other. tests/test_engine_stamp.py
    checks it against Finding(...) field by field, and that the slots are still Finding's."""

    __slots__ = Finding.__slots__

    def __init__(self, rule_id: str, category: str, severity: str, message: str, subject: str, location: Location,
                 resource: str | None, feature: str | None, fix: str | None, target: str | None, releases: str | None,
                 in_policy: Location | None = None) -> None:
        self.rule_id, self.category, self.severity, self.message, self.subject = rule_id, category, severity, message, subject
        self.location, self.resource, self.feature, self.fix, self.target = location, resource, feature, fix, target
        self.releases, self.also_reported_by, self.in_policy = releases, (), in_policy
        self.__class__ = Finding  # type: ignore[assignment]


def _stamp(module: Check, rule: RuleSetting, hit: Hit, location: Location | None = None, target: str | None = None) -> Finding:
    """A check's hit as a finding: rule id, category, the severity config sets (else the hit's, else the
    check's), its location with its line (and, when that is elsewhere than the hit's place in the policy,
    that place: in_policy), and the target it is about. Finding(...) with these values."""
    place = hit.location
    where = location or place
    moved = where.source != place.source or where.pointer != place.pointer
    return cast(Finding, _Stamped(module.RULE_ID, module.CATEGORY, rule.severity or hit.severity or module.SEVERITY, hit.message,
                                  hit.subject, where, hit.resource, hit.feature, hit.fix, target, hit.releases,
                                  place if moved else None))


def audit_target(target: Target, settings: Settings, catalogue: Catalogue,
                 plan: Plan) -> tuple[list[Finding], tuple[CoverageRow, ...], DeployChoice]:
    """Every check the plan keeps on one target. A check that raises keeps the findings it gave so far;
    the others still run, and the engine reports the failure as an internal-error finding."""
    statements = tuple(s for p in target.policies for s in p.statements)
    index = ActionIndex(statements, plan.universe)
    coverage, deploy = coverage_for(target, plan, index, catalogue.contexts)
    ctx = Context(target, settings, catalogue, plan.requirements, plan.needed, coverage, statements, index, deploy)
    findings: list[Finding] = []
    stamp = _line_stamper(target.policies, target.defined_at)
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


def _fold_managed(target: Target, findings: list[Finding], plan: Plan) -> tuple[list[Finding], list[tuple[Finding, str]]]:
    """Findings inside AWS managed policies, which nobody can edit, become one aws-managed-policy finding
    per policy; they are kept as folded (shown with --show-ignored)."""
    managed = {p.source: p for p in target.policies if p.aws_managed}
    stamp = _line_stamper(target.policies, target.defined_at)
    kept: list[Finding] = []
    inside: dict[str, list[Finding]] = {}
    for f in findings:
        source = (f.in_policy or f.location).source
        if source in managed and f.rule_id not in aws_managed_policy.KEPT:
            inside.setdefault(source, []).append(f)
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
            kept.append(_stamp(aws_managed_policy, rule, hit, stamp(hit.location), target=target.name))
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
        audited.extend(own.relative(source, target.kind == "file") for source in target.sources)
        plan = plan_for(own_settings, self.catalogue, own)
        found, rows, choice = audit_target(target, own_settings, self.catalogue, plan)
        ignored: list[tuple[Finding, str]] = []
        if self.review is not None:
            found = self.review.review(target, found, _line_stamper(target.policies, target.defined_at))
        if any(p.aws_managed for p in target.policies):  # after the second opinion: its findings there fold too
            found, folded = _fold_managed(target, found, plan)
            ignored += folded
        findings: list[Finding] = []
        for finding in found:
            ignore = None if finding.rule_id == internal_error.RULE_ID else own.ignore_for(finding)
            if ignore is None:
                findings.append(finding)
            else:
                used.add(ignore.number)
                ignored.append((finding, ignore.reason))
        findings.sort(key=finding_order)
        note = deploy_note(target, choice, own_settings)
        return Part(target, tuple(findings), rows, tuple(ignored), (note,) if note is not None else ())

    def finish(self) -> tuple[Finding, ...]:
        """The findings about the run's config files: code settings a found config may not set
        (untrusted-setting), ignores that silenced nothing (unused-ignore)."""
        findings: list[Finding] = []
        for own, used, audited in self._configs.values():
            findings.extend(_stamp(untrusted_setting, own.rule(untrusted_setting.RULE_ID), hit)
                            for hit in untrusted_setting.settings(own))
            rule = own.rule(unused_ignore.RULE_ID)
            if own.ignores and rule.enabled:
                findings.extend(_stamp(unused_ignore, rule, hit) for hit in unused_ignore.unused(own, used, audited))
        return tuple(sorted(findings, key=finding_order))


def notes_for(targets: Sequence[Target], settings: Settings, catalogue: Catalogue) -> tuple[str, ...]:
    """What a report says before its targets: requirements that do not apply to the local principal,
    and how the targets were assembled. Auditing a target may add one (Part.notes: the Region and
    account it was judged for), said after these (report.with_notes)."""
    return catalogue.remote_notes(settings.jets_version, settings.features) + tuple(
        dict.fromkeys(note for target in targets for note in target.notes))


def run(targets: Sequence[Target], settings: Settings, catalogue: Catalogue, config: Config = NO_CONFIG,
        review=None) -> Report:
    """Every target audited (see Audit), as one Report: findings target by target, in the targets'
    order, each target's sorted (finding_order), then those about config files."""
    audit = Audit(settings, catalogue, config, review)
    parts = [audit.part(target) for target in targets]
    findings = [f for part in parts for f in part.findings] + list(audit.finish())
    added = tuple((part.target.name, note) for part in parts for note in part.notes)
    notes = with_notes(notes_for(targets, settings, catalogue), (note for _, note in added))
    return Report(__version__, awsdata.data_version(), settings, tuple(part.target for part in parts), tuple(findings),
                  tuple(row for part in parts for row in part.coverage), notes,
                  tuple(item for part in parts for item in part.ignored), review.summary() if review is not None else None,
                  target_notes=added)

