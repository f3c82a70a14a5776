"""What an audit produces: plain data that every reporter renders (docs/design.md, "Data flow").

The report knows the run's settings, its targets, findings and coverage, and what the second opinion
and a baseline did, as values: never the config, baseline or second-opinion machinery that made them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from auditor.choices import SEVERITIES
from auditor.model import Assumption, Location, Policy

SEVERITY_RANK: dict[str, int] = {s: i for i, s in enumerate(SEVERITIES)}  # keyed by str: config and findings carry plain strings
CATEGORIES = ("missing-action", "over-broad", "duplicate", "resource-mismatch", "invalid")


@dataclass(frozen=True)
class Project:
    """What the scan of a Jets app found (--project), and where: the report's settings show it."""

    path: str
    name: str | None
    name_from: str | None
    features: tuple[tuple[str, str], ...]  # (feature, "file:line" that shows it is used)
    jets_version: str | None = None  # the release Gemfile.lock resolved
    jets_requirement: tuple[str, ...] = ()  # without a lock file: the Gemfile's constraint, e.g. ("~> 5.0",)
    jets_version_from: str | None = None  # "Gemfile.lock:87" or "Gemfile:12"
    skipped: tuple[str, ...] = ()  # one line for each file not read (not a regular file, too large) or walk cut short

    @property
    def feature_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f for f, _ in self.features))


@dataclass(frozen=True)
class Settings:
    prefix: str  # the Jets project name; "*" when none was given or inferred
    prefix_inferred: bool
    prefix_note: str | None
    envs: tuple[str, ...]
    jets_version: str
    features: tuple[str, ...]
    region: str | None = None
    account: str | None = None
    fail_on: str = "low"
    show_ignored: bool = False
    project: Project | None = None  # when --project was given
    jets_version_from: str = "default"  # "--jets-version", the config file, "Gemfile.lock:87", ... or "default"
    jets_version_note: str | None = None  # a release newer than the reviewed ones, for instance

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "prefix": self.prefix,
            "prefix_inferred": self.prefix_inferred,
            "envs": list(self.envs),
            "jets_version": self.jets_version,
            "jets_version_from": self.jets_version_from,
            "features": list(self.features),
            "region": self.region,
            "account": self.account,
            "fail_on": self.fail_on,
        }
        if self.prefix_note:
            out["prefix_note"] = self.prefix_note
        if self.jets_version_note:
            out["jets_version_note"] = self.jets_version_note
        if self.project is not None:
            p = self.project
            out["project"] = {"path": p.path, "name": p.name, "name_from": p.name_from,
                              "jets_version": p.jets_version,
                              "jets_requirement": list(p.jets_requirement),
                              "jets_version_from": p.jets_version_from,
                              "features": [{"feature": f, "source": src} for f, src in p.features]}
        return out


@dataclass(frozen=True)
class Deferred:
    """A policy file listed but not kept: it was read once (to know it is a policy, and for prefix
    inference) and is read again when its turn to be audited comes (auditor.sources.targets.loaded), so
    a run holds one target's policies at a time, whatever the number of files."""

    path: str  # the file, as given
    documents: int  # how many documents the first read found
    prefix_names: tuple[str, ...] = ()  # the project-name candidates of its ARNs (auditor.prefix.prefix_names)
    skip_non_policies: bool = False  # read again as it was read first: documents that are no policy left out


@dataclass(frozen=True)
class Target:
    """One principal's policy set: a file, several files with --combine, or an IAM group/user/role."""

    kind: str  # file | group | user | role
    name: str
    policies: tuple[Policy, ...]
    boundary: tuple[Policy, ...] = ()  # a permissions boundary limits what the policies grant
    notes: tuple[str, ...] = ()  # what the report should say about how the target was assembled
    assumptions: tuple[Assumption, ...] = ()  # infrastructure-code constructs not evaluated (not-evaluated findings)
    defined_at: Location | None = None  # a principal of infrastructure code: the file and line that define it
    settings: Settings | None = None  # the settings it is audited with (None: the run's)
    config_file: str | None = None  # the config file it answers to, as reports name it (None: none)
    deferred: Deferred | None = field(default=None, compare=False, repr=False)  # policies read when audited

    @property
    def sources(self) -> tuple[str, ...]:
        """The files (or AWS policy names) of its policies, each once: a file of several documents is one source."""
        if self.deferred is not None:
            return (self.name,)  # a deferred target is one file, named by its path
        return tuple(dict.fromkeys(p.source for p in self.policies))

    @property
    def whole(self) -> Location:
        """Where a finding about the target as a whole points (an action no statement grants, a split
        deploy): the file and line that define the principal (infrastructure code), else its first
        policy's source (a JSON file, an AWS policy), else its name (a principal with no policy: no file)."""
        if self.defined_at is not None:
            return self.defined_at
        sources = self.sources
        return Location(sources[0]) if sources else Location(self.name, file=False)

    @property
    def documents(self) -> int:
        return self.deferred.documents if self.deferred is not None else len(self.policies)


class CoverageRow(NamedTuple):
    """One requirement on one target, and how the policies answer it (a run makes one per requirement
    per target)."""

    target: str
    feature: str
    action: str
    resource: str
    status: str
    granted_by: tuple[str, ...]
    denied_by: tuple[str, ...]
    notes: tuple[str, ...]
    allowed_by: tuple[str, ...]  # Allow statements naming the action, whatever their resources
    confidence: str
    phases: tuple[str, ...]
    reason: str
    evidence: str
    releases: str = ""  # the Jets releases the requirement applies to, as in a Gemfile: ">= 3.2.1, < 6"
    by_boundary: bool = False  # the permissions boundary, not the identity policies, set the status
    match: str = "every"  # every resource Jets may create under `resource`, or "some" one (app-named resources)
    caller: str = "cli"  # who makes the request: the Jets CLI, CloudFormation (the caller's session), CodeBuild
    unmet: tuple[str, ...] = ()  # Allow statements that match but whose Condition the request fails

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "target": self.target,
            "action": self.action,
            "resource": self.resource,
            "match": self.match,
            "caller": self.caller,
            "feature": self.feature,
            "status": self.status,
            "granted_by": list(self.granted_by),
        }
        if self.denied_by:
            out["denied_by"] = list(self.denied_by)
        if self.notes:
            out["notes"] = list(self.notes)
        return out


class Hit(NamedTuple):
    """What a check yields. The engine stamps rule id, category and severity. A named tuple, not a
    dataclass: it lives only between a check and the engine, and a run makes one per finding."""

    message: str
    subject: str
    location: Location
    severity: str | None = None  # None: the check's default severity
    resource: str | None = None
    feature: str | None = None
    fix: str | None = None
    releases: str | None = None  # for a finding about a requirement: the Jets releases it applies to


class Finding(NamedTuple):
    """A check's hit, stamped by the engine with its rule id, category and severity (auditor/stamp.py)."""

    rule_id: str
    category: str
    severity: str
    message: str
    subject: str
    location: Location
    resource: str | None = None
    feature: str | None = None
    fix: str | None = None
    target: str | None = None  # the target's name (not in the JSON: location says where)
    releases: str | None = None  # for a finding about catalogue requirements: the Jets releases they apply to
    also_reported_by: tuple[str, ...] = ()  # second-opinion rule ids merged into this finding (--parliament)
    # where the check put it in the policy document it read (the policy's source, a pointer into the document)
    # when `location` is elsewhere: the file and path of Terraform or CloudFormation, the principal's definition.
    # Not in the JSON; baselines name the finding's place by it (auditor.baseline)
    in_policy: Location | None = None

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "rule_id": self.rule_id,
            "category": self.category,
            "severity": self.severity,
            "message": self.message,
            "subject": self.subject,
        }
        if self.resource is not None:
            out["resource"] = self.resource
        if self.feature is not None:
            out["feature"] = self.feature
        if self.releases is not None:
            out["releases"] = self.releases
        out["location"] = self.location.as_dict()
        if self.fix is not None:
            out["fix"] = self.fix
        if self.also_reported_by:
            out["also_reported_by"] = list(self.also_reported_by)
        return out


@dataclass(frozen=True)
class BaselineOutcome:
    """What a baseline did to a run (--baseline, --write-baseline): findings left out, and entries no
    finding matches any more."""

    path: str
    baselined: int
    fixed: int

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "baselined": self.baselined, "fixed": self.fixed}


@dataclass(frozen=True)
class Refuted:
    """A second opinion's finding that current AWS data refutes: dropped, counted and listed."""

    rule_id: str
    subject: str
    location: Location
    why: str

    def as_dict(self) -> dict[str, object]:
        return {"rule_id": self.rule_id, "subject": self.subject, "location": self.location.as_dict(), "why": self.why}


@dataclass(frozen=True)
class RuleInfo:
    """A second opinion's issue as a rule (SARIF lists every rule its results use)."""

    rule_id: str
    title: str
    description: str
    severity: str
    category: str


@dataclass(frozen=True)
class SecondOpinion:
    """What the second opinion (--parliament) added to the report."""

    version: str
    options: Mapping[str, object]  # the options it ran with, as the JSON report names them
    added: int  # findings that joined the report as parliament/<ISSUE>
    merged: int  # findings merged into one of ours
    refuted: tuple[Refuted, ...]
    failed: int  # documents parliament raised on
    rules: tuple[RuleInfo, ...] = field(default=())

    def line(self) -> str:
        text = (f"parliament {self.version}: {self.added} added, {self.merged} merged into ours, "
                f"{len(self.refuted)} refuted by current AWS data")
        return text + (f", failed on {self.failed} document{'s' if self.failed > 1 else ''}" if self.failed else "")

    def as_dict(self) -> dict[str, object]:
        return {"version": self.version, "options": dict(self.options), "added": self.added, "merged": self.merged,
                "refuted": len(self.refuted), "failed": self.failed, "refuted_findings": [r.as_dict() for r in self.refuted]}


@dataclass(frozen=True)
class Report:
    tool_version: str
    iam_data: str
    settings: Settings
    targets: tuple[Target, ...]
    findings: tuple[Finding, ...]
    coverage: tuple[CoverageRow, ...]
    requirement_notes: tuple[str, ...] = field(default=())  # those known before the audit, then target_notes'
    ignored: tuple[tuple[Finding, str], ...] = field(default=())
    second_opinion: SecondOpinion | None = None  # with --parliament
    baseline: BaselineOutcome | None = None  # when --baseline left findings out
    # (target name, note): what auditing a target added to requirement_notes (the Region and account it
    # was judged for); a streamed report gives each with its target's Part
    target_notes: tuple[tuple[str, str], ...] = field(default=())

    def failing(self) -> tuple[Finding, ...]:
        floor = SEVERITY_RANK[self.settings.fail_on]
        return tuple(f for f in self.findings if SEVERITY_RANK[f.severity] >= floor)

    def tally(self) -> Tally:
        tally = Tally(self.settings.fail_on)
        tally.add(self.findings, self.coverage, len(self.ignored))
        return tally

    @property
    def exit_code(self) -> int:
        return 1 if self.failing() else 0

    def by_severity(self) -> dict[str, int]:
        return self.tally().by_severity

    def by_category(self) -> dict[str, int]:
        return self.tally().by_category

    def summary_line(self) -> str:
        return self.tally().summary_line(self.baseline, self.second_opinion, self.config_files())

    def config_files(self) -> tuple[str, ...]:
        return config_files(self.targets)

    def stream(self) -> tuple[Head, list[Part], Tail]:
        """The report as a run streams it (reporters write that): the head, a part per target (its
        findings, coverage, ignored findings and notes, found by the target's name) and the tail."""
        parts = {t.name: _Gathered(t) for t in self.targets}
        rest: list[Finding] = []
        for f in self.findings:
            part = parts.get(f.target) if f.target is not None else None
            (part.findings if part is not None else rest).append(f)
        for row in self.coverage:
            parts[row.target].coverage.append(row)
        for f, why in self.ignored:
            part = parts.get(f.target) if f.target is not None else None
            if part is not None:
                part.ignored.append((f, why))
        added = set()
        for name, note in self.target_notes:
            part = parts.get(name)
            if part is not None:
                part.notes.append(note)
                added.add(note)
        head = Head(self.tool_version, self.iam_data, self.settings, self.targets,
                    tuple(n for n in self.requirement_notes if n not in added), self.second_opinion is not None)
        tail = Tail(tuple(rest), self.tally(), self.second_opinion, self.baseline, self.config_files())
        return head, [Part(p.target, p.findings, p.coverage, p.ignored, p.notes) for p in parts.values()], tail


class _Gathered:
    """A target's share of a whole Report, gathered by Report.stream."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.findings: list[Finding] = []
        self.coverage: list[CoverageRow] = []
        self.ignored: list[tuple[Finding, str]] = []
        self.notes: list[str] = []


def config_files(targets: Iterable[Target]) -> tuple[str, ...]:
    """The config files the targets were audited with, as reports name them (each once, in order)."""
    return tuple(dict.fromkeys(t.config_file for t in targets if t.config_file))


def with_notes(before: Sequence[str], added: Iterable[str]) -> tuple[str, ...]:
    """A report's notes: those known before the audit, then those the audit of each target added (each
    once, none repeating one said before)."""
    said = dict.fromkeys(before)
    for note in added:
        said.setdefault(note, None)
    return tuple(said)


def finding_order(f: Finding) -> tuple:
    """How findings are sorted within a target (and those about config files, after every target):
    most severe first, then by category, file, line and subject."""
    return (-SEVERITY_RANK[f.severity], f.category, f.location.source, f.location.line or 0, f.subject)


@dataclass(frozen=True)
class Head:
    """What a report starts with, known before the first target is audited."""

    tool_version: str
    iam_data: str
    settings: Settings
    targets: tuple[Target, ...]  # every target of the run, in order (deferred ones not read yet)
    notes: tuple[str, ...]  # the requirement notes and how the targets were assembled (Part.notes come later)
    second_opinion: bool = False  # --parliament: its summary and rules come with the tail


@dataclass(frozen=True)
class Part:
    """One target's share of a report: its findings (sorted, see finding_order), coverage rows,
    ignored findings with their reasons (shown with --show-ignored) and the notes its audit added (the
    Region and account it was judged for: engine.deploy_note)."""

    target: Target
    findings: Sequence[Finding]
    coverage: Sequence[CoverageRow]
    ignored: Sequence[tuple[Finding, str]] = ()
    notes: Sequence[str] = ()


@dataclass(frozen=True)
class Tail:
    """What a report ends with: the findings about config files (unused-ignore), the counts, and what
    --parliament and --baseline did."""

    findings: tuple[Finding, ...]
    tally: Tally
    second_opinion: SecondOpinion | None = None
    baseline: BaselineOutcome | None = None
    configs: tuple[str, ...] = ()  # the config files the targets were audited with (config_files)

    @property
    def summary_line(self) -> str:
        return self.tally.summary_line(self.baseline, self.second_opinion, self.configs)

    @property
    def exit_code(self) -> int:
        return self.tally.exit_code


class Tally:
    """The counts of a run, kept as it streams (a run never holds every finding): by severity, by
    category, coverage statuses in the order first seen, ignored findings; the exit code and the
    summary line come from them."""

    def __init__(self, fail_on: str = "low") -> None:
        self.floor = SEVERITY_RANK[fail_on]
        self.by_severity: dict[str, int] = {s: 0 for s in reversed(SEVERITIES)}
        self.by_category: dict[str, int] = {c: 0 for c in CATEGORIES}
        self.statuses: dict[str, int] = {}
        self.findings = 0
        self.failing = 0
        self.ignored = 0
        self.not_evaluated = 0  # not-evaluated findings: constructs the infrastructure-code readers did not evaluate

    def add(self, findings: Iterable[Finding] = (), coverage: Iterable[CoverageRow] = (), ignored: int = 0) -> None:
        for f in findings:
            self.by_severity[f.severity] += 1
            self.by_category[f.category] += 1
            self.findings += 1
            if f.rule_id == "not-evaluated":
                self.not_evaluated += 1
            if SEVERITY_RANK[f.severity] >= self.floor:
                self.failing += 1
        for row in coverage:
            self.statuses[row.status] = self.statuses.get(row.status, 0) + 1
        self.ignored += ignored

    @property
    def exit_code(self) -> int:
        return 1 if self.failing else 0

    def summary_line(self, baseline: BaselineOutcome | None = None, second_opinion: SecondOpinion | None = None,
                     configs: Sequence[str] = ()) -> str:
        sev = ", ".join(f"{n} {s}" for s, n in self.by_severity.items() if n)
        word = "finding" if self.findings == 1 else "findings"
        cov = ", ".join(f"{n} {s}" for s, n in self.statuses.items())
        head = f"{self.findings} {word}" + (f" ({sev})" if sev else "")
        if self.ignored:
            head += f", {self.ignored} ignored"
        if baseline is not None:
            head += f", {baseline.baselined} baselined"
            if baseline.fixed:
                head += f" ({baseline.fixed} baseline {'entry' if baseline.fixed == 1 else 'entries'} now fixed)"
        if self.not_evaluated:
            head += f"; {self.not_evaluated} construct{'' if self.not_evaluated == 1 else 's'} not evaluated"
        opinion = f"; {second_opinion.line()}" if second_opinion is not None else ""
        config = f"; config {', '.join(configs)}" if configs else ""
        return f"{head}; coverage: {cov or 'no requirements'}{opinion}{config}; exit {self.exit_code}"
