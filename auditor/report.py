"""What an audit produces: frozen data that every reporter renders (DESIGN §3)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from auditor.model import Location, Policy

SEVERITIES = ("info", "low", "medium", "high", "critical")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
CATEGORIES = ("missing-action", "over-broad", "duplicate", "resource-mismatch", "invalid")
CONFIDENCE_SEVERITY = {"high": "high", "medium": "medium", "low": "low"}


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
    project: object = None  # auditor.project.Project when --project was given
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
            out["project"] = {"path": p.path, "name": p.name, "name_from": p.name_from,  # type: ignore[attr-defined]
                              "jets_version": p.jets_version,  # type: ignore[attr-defined]
                              "jets_requirement": list(p.jets_requirement),  # type: ignore[attr-defined]
                              "jets_version_from": p.jets_version_from,  # type: ignore[attr-defined]
                              "features": [{"feature": f, "source": src} for f, src in p.features]}  # type: ignore[attr-defined]
        return out


@dataclass(frozen=True)
class Deferred:
    """A policy file listed but not kept: it was read once (to know it is a policy, and for prefix
    inference) and is read again when its turn to be audited comes, so a run holds one target's
    policies at a time, whatever the number of files."""

    read: Callable[[], tuple[Policy, ...]]  # its documents, read again (a problem of the second read is a finding)
    documents: int  # how many documents the first read found
    prefix_names: tuple[str, ...] = ()  # the project-name candidates of its ARNs (engine.prefix_names)


@dataclass(frozen=True)
class Target:
    """One principal's policy set: a file, several files with --combine, or an IAM group/user/role."""

    kind: str  # file | group | user | role
    name: str
    policies: tuple[Policy, ...]
    boundary: tuple[Policy, ...] = ()  # a permissions boundary limits what the policies grant
    notes: tuple[str, ...] = ()  # what the report should say about how the target was assembled
    settings: Settings | None = None  # its own, when its config file is not the run's (None: the run's)
    config: object = None  # the auditor.config.Config it is audited with (None: the run's)
    deferred: Deferred | None = field(default=None, compare=False, repr=False)  # policies read when audited

    @property
    def sources(self) -> tuple[str, ...]:
        """The files (or AWS policy names) of its policies, each once: a file of several documents is one source."""
        if self.deferred is not None:
            return (self.name,)  # a deferred target is one file, named by its path
        return tuple(dict.fromkeys(p.source for p in self.policies))

    @property
    def documents(self) -> int:
        return self.deferred.documents if self.deferred is not None else len(self.policies)

    def loaded(self) -> Target:
        """This target with its policies (a deferred one is read now)."""
        if self.deferred is None:
            return self
        return replace(self, policies=self.deferred.read(), deferred=None)


class CoverageRow(NamedTuple):
    """One requirement on one target, and how the policies answer it. A named tuple (immutable, like
    the dataclasses here) because a run makes one per requirement per target: 94,000 on the AWS
    corpus, where a frozen dataclass's field-by-field __init__ was 5% of the time."""

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

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "target": self.target,
            "action": self.action,
            "resource": self.resource,
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


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    category: str
    severity: str
    message: str
    subject: str
    location: Location
    resource: str | None = None
    feature: str | None = None
    fix: str | None = None
    target: str | None = field(default=None, compare=False)  # the target's name (not in the JSON: location says where)
    releases: str | None = None  # for a finding about catalogue requirements: the Jets releases they apply to
    also_reported_by: tuple[str, ...] = ()  # second-opinion rule ids merged into this finding (--parliament)

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
class Report:
    tool_version: str
    iam_data: str
    settings: Settings
    targets: tuple[Target, ...]
    findings: tuple[Finding, ...]
    coverage: tuple[CoverageRow, ...]
    requirement_notes: tuple[str, ...] = field(default=())
    ignored: tuple[tuple[Finding, str], ...] = field(default=())
    second_opinion: object = None  # auditor.second_opinion.Summary with --parliament
    baseline: object = None  # auditor.baseline.Outcome when --baseline left findings out

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
        return self.tally().summary_line(self.baseline, self.second_opinion)

    def stream(self) -> tuple[Head, list[Part], Tail]:
        """The report as a run streams it (reporters write that): the head, a part per target (its
        findings, coverage and ignored findings, found by the target's name) and the tail."""
        parts = {t.name: Part(t, [], [], []) for t in self.targets}
        rest: list[Finding] = []
        for f in self.findings:
            part = parts.get(f.target) if f.target is not None else None
            (part.findings if part is not None else rest).append(f)  # type: ignore[union-attr]
        for row in self.coverage:
            parts[row.target].coverage.append(row)  # type: ignore[union-attr]
        for f, why in self.ignored:
            part = parts.get(f.target) if f.target is not None else None
            if part is not None:
                part.ignored.append((f, why))  # type: ignore[union-attr]
        head = Head(self.tool_version, self.iam_data, self.settings, self.targets, self.requirement_notes,
                    self.second_opinion is not None)
        tail = Tail(tuple(rest), self.tally(), self.second_opinion, self.baseline)
        return head, list(parts.values()), tail


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
    notes: tuple[str, ...]  # the requirement notes and the targets' notes
    second_opinion: bool = False  # --parliament: its summary and rules come with the tail


@dataclass(frozen=True)
class Part:
    """One target's share of a report: its findings (sorted, see finding_order), coverage rows and,
    with --show-ignored, ignored findings with their reasons."""

    target: Target
    findings: Sequence[Finding]
    coverage: Sequence[CoverageRow]
    ignored: Sequence[tuple[Finding, str]] = ()


@dataclass(frozen=True)
class Tail:
    """What a report ends with: the findings about config files (unused-ignore), the counts, and what
    --parliament and --baseline did."""

    findings: tuple[Finding, ...]
    tally: Tally
    second_opinion: object = None
    baseline: object = None

    @property
    def summary_line(self) -> str:
        return self.tally.summary_line(self.baseline, self.second_opinion)

    @property
    def exit_code(self) -> int:
        return self.tally.exit_code


class Tally:
    """The counts of a run, kept as it streams (a run never holds every finding): by severity, by
    category, coverage statuses in the order first seen, ignored findings; the exit code and the
    summary line come from them."""

    def __init__(self, fail_on: str = "low") -> None:
        self.floor = SEVERITY_RANK[fail_on]
        self.by_severity = {s: 0 for s in reversed(SEVERITIES)}
        self.by_category = {c: 0 for c in CATEGORIES}
        self.statuses: dict[str, int] = {}
        self.findings = 0
        self.failing = 0
        self.ignored = 0

    def add(self, findings: Iterable[Finding] = (), coverage: Iterable[CoverageRow] = (), ignored: int = 0) -> None:
        severities, categories, statuses, floor = self.by_severity, self.by_category, self.statuses, self.floor
        for f in findings:
            severities[f.severity] += 1
            categories[f.category] += 1
            self.findings += 1
            if SEVERITY_RANK[f.severity] >= floor:
                self.failing += 1
        for row in coverage:
            statuses[row.status] = statuses.get(row.status, 0) + 1
        self.ignored += ignored

    @property
    def exit_code(self) -> int:
        return 1 if self.failing else 0

    def summary_line(self, baseline: object = None, second_opinion: object = None) -> str:
        sev = ", ".join(f"{n} {s}" for s, n in self.by_severity.items() if n)
        word = "finding" if self.findings == 1 else "findings"
        cov = ", ".join(f"{n} {s}" for s, n in self.statuses.items())
        head = f"{self.findings} {word}" + (f" ({sev})" if sev else "")
        if self.ignored:
            head += f", {self.ignored} ignored"
        if baseline is not None:
            b = baseline
            head += f", {b.baselined} baselined"  # type: ignore[attr-defined]
            if b.fixed:  # type: ignore[attr-defined]
                head += f" ({b.fixed} baseline {'entry' if b.fixed == 1 else 'entries'} now fixed)"  # type: ignore[attr-defined]
        opinion = f"; {second_opinion.line()}" if second_opinion is not None else ""  # type: ignore[attr-defined]
        return f"{head}; coverage: {cov or 'no requirements'}{opinion}; exit {self.exit_code}"
