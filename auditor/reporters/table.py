"""The table format, rendered by rich (in colour on a terminal, plain text elsewhere): a coverage table
per feature, then findings grouped by category; for several targets a summary row per target first.

Policy text is data: every cell is inert text (never parsed as markup) and control characters are
shown as escapes, so a Sid of "[bold red]" or "\\x1b[2J" prints as those characters.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence
from typing import IO, TextIO, cast

from rich.console import Console, RenderableType
from rich.text import Text

from auditor.catalogue import shown_resource
from auditor.report import CATEGORIES, SEVERITIES, SEVERITY_RANK, CoverageRow, Finding, Head, Part, Report, Tail
from auditor.reporters.layout import Column, grid
from auditor.reporters.spool import Sink, Spool
from auditor.text import safe

STATUS_STYLE = {"granted": "green", "conditional": "yellow", "name-dependent": "magenta", "missing": "bold red",
                "denied": "bold magenta"}
SEVERITY_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}
STATUS_ORDER = {"denied": 0, "missing": 1, "name-dependent": 2, "conditional": 3, "granted": 4}


Sheet = tuple[Text, Sequence[Column], Sequence[Sequence[Text]]]  # a table's title, columns and rows, not laid out yet


def cell(value: object, style: str = "") -> Text:
    """Text from the input, inert (auditor.text.safe; never markup), in one style."""
    return Text.assemble((safe(value), style))


def _rule_cell(rule_id: str, releases: str | None) -> Text:
    return Text.assemble((safe(rule_id), ""), ("\nJets " + safe(releases), "dim")) if releases else cell(rule_id)


def _group_actions(actions: list[str]) -> str:
    by_service: dict[str, dict[str, None]] = defaultdict(dict)  # an action required in several envs is listed once
    for action in actions:
        service, _, name = action.partition(":")
        by_service[service][name] = None
    return "; ".join(f"{svc}: {', '.join(names)}" for svc, names in by_service.items())


COVERAGE = (Column("status"), Column("actions", body=True), Column("resource"), Column("granted by / note", body=True))
FINDINGS = (Column("severity"), Column("rule"), Column("message", body=True), Column("location"))
IGNORED = (*FINDINGS, Column("reason", body=True))
CATALOGUE = (Column("action"), Column("resource"), Column("phase / caller / Jets"), Column("conf."),
             Column("reason / evidence", body=True))


def _coverage_table(title: str, rows: list[CoverageRow]) -> Sheet:
    """Rows that are not granted in full detail; granted rows folded per granting statement set,
    so a policy that grants everything takes one line, not sixty."""
    table: list[list[Text]] = []
    groups: dict[tuple, list[str]] = {}
    shown: dict[tuple, str] = {}  # the resource as shown ("any one table (table/*)" when the app names it)
    granted: dict[tuple[str, ...], list[CoverageRow]] = {}
    for row in rows:
        if row.status == "granted":
            granted.setdefault(row.granted_by, []).append(row)
            continue
        key = (row.status, row.resource, row.granted_by if row.status != "missing" else (), row.denied_by, row.notes)
        groups.setdefault(key, []).append(row.action)
        shown.setdefault(key, shown_resource(row.action, row.resource, row.match))
    for key, actions in sorted(groups.items(), key=lambda kv: (STATUS_ORDER[kv[0][0]], kv[0][1])):
        status, _, granted_by, denied_by, notes = key
        who = denied_by if status in ("denied", "name-dependent") else granted_by
        detail = ", ".join(_short_ref(r) for r in who)
        if notes:
            detail = (detail + "; " if detail else "") + "; ".join(notes)
        table.append([cell(status, STATUS_STYLE[status]), cell(_group_actions(actions)),
                      cell(shown[key]), cell(detail)])
    for who, items in granted.items():
        services = sorted({r.action.partition(":")[0] for r in items})
        resources = sorted({shown_resource(r.action, r.resource, r.match) for r in items})
        actions = list(dict.fromkeys(r.action for r in items))
        what = _group_actions(actions) if len(actions) <= 3 else (
            f"{len(items)} requirements ({', '.join(services)})")
        where = resources[0] if len(resources) == 1 else f"{len(resources)} resource patterns"
        table.append([cell("granted", STATUS_STYLE["granted"]), cell(what), cell(where),
                      cell(", ".join(_short_ref(r) for r in who))])
    return cell(title, "bold"), COVERAGE, table


def _short_ref(ref: str) -> str:
    source, _, label = ref.rpartition("#")
    return label if source else ref


def _location(f: Finding, target: str) -> str:
    loc = f.location
    parts = [] if loc.source == target else [loc.source]
    if loc.line:
        parts.append(f"L{loc.line}")
    if loc.pointer:
        parts.append(loc.pointer)
    return " ".join(parts) or "-"


def _findings_table(category: str, findings: list[Finding], target: str) -> Sheet:
    rows = [(cell(f.severity, SEVERITY_STYLE[f.severity]), _rule_cell(f.rule_id, f.releases), cell(f.message),
             cell(_location(f, target))) for f in findings]
    return cell(f"{category} ({len(findings)})", "bold"), FINDINGS, rows


def _ignored_table(ignored: list[tuple[Finding, str]], target: str) -> Sheet:
    rows = [[cell(f.severity), cell(f.rule_id), cell(f.message), cell(_location(f, target)), cell(why)] for f, why in ignored]
    return cell(f"ignored ({len(ignored)})", "bold dim"), IGNORED, rows


class Canvas:
    """Where the table format prints: a rich Console on the stream, in colour or not."""

    def __init__(self, out: Sink, color: bool, width: int) -> None:
        self.out, self.width, self.color = out, width, color
        self.console = Console(file=cast(IO[str], out), width=width, force_terminal=color, no_color=not color,
                               color_system="standard" if color else None, highlight=False, emoji=False, markup=False,
                               soft_wrap=False)

    def on(self, out: Sink) -> Canvas:
        """The same kind of canvas, printing to `out`."""
        return Canvas(out, self.color, self.width)

    def print(self, item: RenderableType | None = None) -> None:
        if item is None:
            self.console.print()
        else:
            self.console.print(item)

    def table(self, sheet: Sheet) -> None:
        """A table, laid out by layout.grid."""
        self.console.print(grid(*sheet, self.width))

    def row(self, pieces: Sequence[tuple[str, str]]) -> None:
        """One line never wrapped (a summary row): (text, style) pieces."""
        self.console.print(Text.assemble(*pieces), soft_wrap=True)


SEVERITY_HEAD = {"critical": "crit", "high": "high", "medium": "med", "low": "low", "info": "info"}
CATEGORY_HEAD = {"missing-action": "miss", "over-broad": "broad", "duplicate": "dup", "resource-mismatch": "res",
                 "invalid": "inv"}


class Writer:
    """The table format, written target by target. One target: its coverage and findings. Several: a
    summary row per target as each is audited (findings by severity and category, requirements not
    granted), then the details of the targets with findings at or above --fail-on (of every target
    with --details all), kept in a spool until the summary is complete."""

    def __init__(self, out: TextIO, *, color: bool = False, width: int = 120, details: str = "failing", **_: object) -> None:
        self.out, self.width, self.details = out, width, details
        self.canvas = self.top = Canvas(out, color, width)
        self.later: Spool | None = None  # the details of several targets, or everything after --parliament's line
        self.placed = 0  # targets whose details were written

    def head(self, head: Head) -> None:
        s = self.settings = head.settings
        self.floor = SEVERITY_RANK[s.fail_on]
        canvas = self.canvas
        prefix = f"prefix {s.prefix}" + (" (inferred from the policy's ARNs)" if s.prefix_inferred else "")
        if s.prefix_note:
            prefix = s.prefix_note
        jets = f"Jets {s.jets_version}" + (f" ({s.jets_version_from})" if s.jets_version_from not in ("default", "--jets-version") else "")
        canvas.print(cell(f"jets-iam-audit {head.tool_version} · {jets} · {prefix} · "
                          f"env {', '.join(s.envs)} · features {', '.join(s.features)} · {head.iam_data}"))
        if s.project is not None:
            p = s.project
            used = ", ".join(f"{f} ({src})" for f, src in p.features) or "none beyond core and prewarm"
            name = f"name {p.name} ({p.name_from})" if p.name else "no project name found"
            jets = (f"; jets {p.jets_version or ', '.join(p.jets_requirement)} ({p.jets_version_from})"
                    if p.jets_version_from else "; no jets version in Gemfile.lock or Gemfile")
            canvas.print(cell(f"project {p.path}: {name}{jets}; features: {used}", "dim"))
        self.many = len(head.targets) > 1
        self.pending = [*((s.jets_version_note,) if s.jets_version_note else ()), *head.notes]  # notes not printed yet
        self.said = set(head.notes)
        if self.many:  # the targets' own notes (Part.notes) follow the summary rows
            self._notes(self.top)
        if head.second_opinion:  # its line comes next, known at the end: what follows waits
            self.later = Spool()
            self.canvas = self.top.on(self.later)
        if self.many:
            self.detail = Spool()
            self.canvas.print()
            self.canvas.print(cell(f"{len(head.targets)} targets: findings by severity and by category (miss missing-action, "
                                   "broad over-broad, dup duplicate, res resource-mismatch, inv invalid), requirements "
                                   "not granted", "bold"))
            self.canvas.row([(f"{SEVERITY_HEAD[sev]:>5}", "bold") for sev in reversed(SEVERITIES)]
                            + [(" │", "")] + [(f"{CATEGORY_HEAD[cat]:>6}", "bold") for cat in CATEGORIES]
                            + [(" │", ""), (f"{'not granted':>12}", "bold"), (" │ ", ""), ("target", "bold")])

    def _notes(self, canvas: Canvas) -> None:
        for note in self.pending:
            canvas.print(cell(f"note: {note}", "dim"))
        self.pending.clear()

    def part(self, part: Part) -> None:
        for note in part.notes:  # each once, as report.with_notes
            if note not in self.said:
                self.said.add(note)
                self.pending.append(note)
        if not self.many:  # one target: its notes after the head's, before --parliament's line
            self._notes(self.top)
            self._details(part, self.canvas)
            return
        findings, target = part.findings, part.target
        severities: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
        categories = dict.fromkeys(CATEGORIES, 0)
        for f in findings:
            severities[f.severity] += 1
            categories[f.category] += 1
        missing = sum(1 for r in part.coverage if r.status in ("missing", "denied"))
        wanted = f"{missing}/{len(part.coverage)}" if part.coverage else "-"
        self.canvas.row([(f"{severities[sev] or '-':>5}", SEVERITY_STYLE[sev] if severities[sev] else "")
                         for sev in reversed(SEVERITIES)]
                        + [(" │", "")] + [(f"{categories[cat] or '-':>6}", "") for cat in CATEGORIES]
                        + [(" │", ""), (f"{wanted:>12}", "bold red" if missing else "green"), (" │ ", ""),
                           (safe(f"{target.kind} {target.name}"), "")])
        if self.details == "all" or any(SEVERITY_RANK[f.severity] >= self.floor for f in findings):
            self.placed += 1
            self._details(part, self.top.on(self.detail))

    def _details(self, part: Part, canvas: Canvas) -> None:
        target, s = part.target, self.settings
        canvas.print()
        canvas.print(cell(f"{target.kind} {target.name}", "bold underline"))
        config = target.config_file
        if target.settings is not None and target.settings != s:
            t = target.settings
            canvas.print(cell(f"config {config}: prefix {t.prefix} · env {', '.join(t.envs)} · Jets {t.jets_version} · "
                              f"features {', '.join(t.features)}", "dim"))
        elif config:
            canvas.print(cell(f"config {config}", "dim"))
        by_feature: dict[str, list[CoverageRow]] = defaultdict(list)
        for row in part.coverage:
            by_feature[row.feature].append(row)
        if not part.coverage:
            canvas.print(cell("no requirements for these options", "dim"))
        for feature in s.features:
            if by_feature.get(feature):
                canvas.table(_coverage_table(f"coverage: {feature}", by_feature[feature]))
        if not part.findings:
            canvas.print(cell("no findings", "green"))
        by_category: dict[str, list[Finding]] = defaultdict(list)
        for f in part.findings:
            by_category[f.category].append(f)
        for category in CATEGORIES:
            if by_category.get(category):
                canvas.table(_findings_table(category, by_category[category], target.name))
        if s.show_ignored and part.ignored:
            canvas.table(_ignored_table(list(part.ignored), target.name))

    def tail(self, tail: Tail) -> None:
        canvas = self.canvas
        if not self.many:
            self._notes(self.top)  # when no target came
        if self.later is not None and tail.second_opinion is not None:  # --parliament: its line, then what waited
            self.top.print(cell(tail.second_opinion.line(), "dim"))
        if self.many:
            canvas.print()
            self._notes(canvas)  # those the targets' audits added
            floor = self.settings.fail_on
            if self.details == "all":
                canvas.print(cell("details of every target follow (--details all)", "dim"))
            elif self.placed:
                canvas.print(cell(f"details of the {self.placed} target{'s' if self.placed != 1 else ''} with findings at "
                                  f"or above {floor} follow (--details all for every target)", "dim"))
            else:
                canvas.print(cell(f"no target has findings at or above {floor} (--details all shows every target)", "dim"))
            self.detail.copy_to(self.later if self.later is not None else self.out)
        if tail.findings:  # about config files (unused-ignore)
            target = self.later if self.later is not None else self.out
            config = self.top.on(target)
            config.print()
            config.table(_findings_table("config", list(tail.findings), ""))
        if self.later is not None:
            self.later.copy_to(self.out)


def render(report: Report, *, color: bool = False, width: int = 120, details: str = "failing", **_: object) -> str:
    from auditor.reporters import feed

    buf = io.StringIO()
    feed(Writer(buf, color=color, width=width, details=details), report)
    return buf.getvalue()


def render_catalogue(rows: list[dict], notes: list[str], *, color: bool = False, width: int = 120) -> str:
    """The `catalogue` command's table: one table per feature."""
    buf = io.StringIO()
    console = Canvas(buf, color, width)
    for note in notes:
        console.print(cell(f"note: {note}", "dim"))
    by_feature: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_feature[row["feature"]].append(row)
    for feature, items in by_feature.items():
        lines = []
        for r in items:
            when = Text.assemble((safe(", ".join(r["phase"])), ""), ("\n", ""), (safe(f"by {r['caller']}"), ""), ("\n", ""),
                                 (safe(r["releases"]), "dim"))
            where = shown_resource(r["action"], r["resource"], r.get("match", "every"))
            lines.append([cell(r["action"]), cell(where), when, cell(r["confidence"]),
                          Text.assemble((safe(r["reason"]), ""), ("\n", ""), (safe(r["evidence"]), "dim"))])
        console.table((cell(f"{feature} ({len(items)} requirements)", "bold"), CATALOGUE, lines))
    if not rows:
        console.print(cell("no requirements for these options", "dim"))
    return buf.getvalue()
