"""What an audit produces: frozen data that every reporter renders (DESIGN §3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from auditor.choices import SEVERITIES
from auditor.model import Location, Policy

if TYPE_CHECKING:  # types only: these modules are imported where their features are used
    from auditor.baseline import Outcome
    from auditor.config import Config
    from auditor.project import Project
    from auditor.second_opinion import Summary

SEVERITY_RANK: dict[str, int] = {s: i for i, s in enumerate(SEVERITIES)}  # keyed by str: config and findings carry plain strings
CATEGORIES = ("missing-action", "over-broad", "duplicate", "resource-mismatch", "invalid")


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
class Target:
    """One principal's policy set: a file, several files with --combine, or an IAM group/user/role."""

    kind: str  # file | group | user | role
    name: str
    policies: tuple[Policy, ...]
    boundary: tuple[Policy, ...] = ()  # a permissions boundary limits what the policies grant
    notes: tuple[str, ...] = ()  # what the report should say about how the target was assembled
    settings: Settings | None = None  # its own, when its config file is not the run's (None: the run's)
    config: Config | None = None  # the config it is audited with (None: the run's)

    @property
    def sources(self) -> tuple[str, ...]:
        """The files (or AWS policy names) of its policies, each once: a file of several documents is one source."""
        return tuple(dict.fromkeys(p.source for p in self.policies))


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
    second_opinion: Summary | None = None  # with --parliament
    baseline: Outcome | None = None  # when --baseline left findings out

    def failing(self) -> tuple[Finding, ...]:
        floor = SEVERITY_RANK[self.settings.fail_on]
        return tuple(f for f in self.findings if SEVERITY_RANK[f.severity] >= floor)

    @property
    def exit_code(self) -> int:
        return 1 if self.failing() else 0

    def by_severity(self) -> dict[str, int]:
        counts: dict[str, int] = {s: 0 for s in reversed(SEVERITIES)}
        for f in self.findings:
            counts[f.severity] += 1
        return counts

    def by_category(self) -> dict[str, int]:
        counts = {c: 0 for c in CATEGORIES}
        for f in self.findings:
            counts[f.category] += 1
        return counts

    def summary_line(self) -> str:
        sev = ", ".join(f"{n} {s}" for s, n in self.by_severity().items() if n)
        total = len(self.findings)
        word = "finding" if total == 1 else "findings"
        statuses: dict[str, int] = {}
        for row in self.coverage:
            statuses[row.status] = statuses.get(row.status, 0) + 1
        cov = ", ".join(f"{n} {s}" for s, n in statuses.items())
        head = f"{total} {word}" + (f" ({sev})" if sev else "")
        if self.ignored:
            head += f", {len(self.ignored)} ignored"
        if self.baseline is not None:
            b = self.baseline
            head += f", {b.baselined} baselined"
            if b.fixed:
                head += f" ({b.fixed} baseline {'entry' if b.fixed == 1 else 'entries'} now fixed)"
        opinion = f"; {self.second_opinion.line()}" if self.second_opinion is not None else ""
        configs = self.config_files()
        config = f"; config {', '.join(configs)}" if configs else ""
        return f"{head}; coverage: {cov or 'no requirements'}{opinion}{config}; exit {self.exit_code}"

    def config_files(self) -> tuple[str, ...]:
        """The config files the targets were audited with, as reports name them (each once, in order)."""
        shown = (t.config.shown for t in self.targets if t.config is not None)
        return tuple(dict.fromkeys(name for name in shown if name))
