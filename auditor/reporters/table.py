"""Rich tables for a terminal: a coverage table per feature, then findings grouped by category.

Policy text is data: every cell is a rich Text (never parsed as markup) and control characters are
shown as escapes, so a Sid of "[bold red]" or "\\x1b[2J" prints as those characters.
"""

from __future__ import annotations

import io
from collections import defaultdict

from rich.console import Console, RenderableType
from rich.text import Text

from auditor.catalogue import shown_resource
from auditor.report import CATEGORIES, CoverageRow, Finding, Report
from auditor.reporters.layout import Column, grid
from auditor.text import safe

STATUS_STYLE = {"granted": "green", "conditional": "yellow", "missing": "bold red", "denied": "bold magenta"}
SEVERITY_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}
STATUS_ORDER = {"denied": 0, "missing": 1, "conditional": 2, "granted": 3}


def cell(value: object, style: str = "") -> Text:
    return Text(safe(value), style=style)


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


def _coverage_table(title: str, rows: list[CoverageRow], width: int) -> RenderableType:
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
        who = denied_by if status == "denied" else granted_by
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
    return grid(Text(safe(title), style="bold"), COVERAGE, table, width)


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


def _findings_table(category: str, findings: list[Finding], target: str, width: int) -> RenderableType:
    rows = [[cell(f.severity, SEVERITY_STYLE[f.severity]),
             Text.assemble(safe(f.rule_id), ("\nJets " + safe(f.releases), "dim")) if f.releases else cell(f.rule_id),
             cell(f.message), cell(_location(f, target))] for f in findings]
    return grid(Text(f"{category} ({len(findings)})", style="bold"), FINDINGS, rows, width)


def _ignored_table(ignored: list[tuple[Finding, str]], target: str, width: int) -> RenderableType:
    rows = [[cell(f.severity), cell(f.rule_id), cell(f.message), cell(_location(f, target)), cell(why)] for f, why in ignored]
    return grid(Text(f"ignored ({len(ignored)})", style="bold dim"), IGNORED, rows, width)


def render(report: Report, *, color: bool = False, width: int = 120, **_: object) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=color, no_color=not color,
                      color_system="standard" if color else None, highlight=False, emoji=False,
                      markup=False, soft_wrap=False)
    s = report.settings
    prefix = f"prefix {s.prefix}" + (" (inferred from the policy's ARNs)" if s.prefix_inferred else "")
    if s.prefix_note:
        prefix = s.prefix_note
    jets = f"Jets {s.jets_version}" + (f" ({s.jets_version_from})" if s.jets_version_from not in ("default", "--jets-version") else "")
    console.print(cell(f"jets-iam-audit {report.tool_version} · {jets} · {prefix} · "
                       f"env {', '.join(s.envs)} · features {', '.join(s.features)} · {report.iam_data}"))
    if s.project is not None:
        p = s.project
        used = ", ".join(f"{f} ({src})" for f, src in p.features) or "none beyond core and prewarm"
        name = f"name {p.name} ({p.name_from})" if p.name else "no project name found"
        jets = (f"; jets {p.jets_version or ', '.join(p.jets_requirement)} ({p.jets_version_from})"
                if p.jets_version_from else "; no jets version in Gemfile.lock or Gemfile")
        console.print(cell(f"project {p.path}: {name}{jets}; features: {used}", "dim"))
    for note in ((s.jets_version_note,) if s.jets_version_note else ()) + report.requirement_notes:
        console.print(cell(f"note: {note}", "dim"))
    if report.second_opinion is not None:
        console.print(cell(report.second_opinion.line(), "dim"))
    placed: set[int] = set()  # the findings shown under a target
    for target in report.targets:
        console.print()
        console.print(cell(f"{target.kind} {target.name}", "bold underline"))
        config = getattr(target.config, "shown", None)
        if target.settings is not None and target.settings != s:
            t = target.settings
            console.print(cell(f"config {config}: prefix {t.prefix} · env {', '.join(t.envs)} · Jets {t.jets_version} · "
                               f"features {', '.join(t.features)}", "dim"))
        elif config:
            console.print(cell(f"config {config}", "dim"))
        rows = [r for r in report.coverage if r.target == target.name]
        by_feature: dict[str, list[CoverageRow]] = defaultdict(list)
        for row in rows:
            by_feature[row.feature].append(row)
        if not rows:
            console.print(cell("no requirements for these options", "dim"))
        for feature in s.features:
            if by_feature.get(feature):
                console.print(_coverage_table(f"coverage: {feature}", by_feature[feature], width))
        sources = set(target.sources) | {target.name}
        findings = [f for f in report.findings if (f.target == target.name if f.target else f.location.source in sources)]
        placed.update(id(f) for f in findings)
        if not findings:
            console.print(cell("no findings", "green"))
        for category in CATEGORIES:
            found = [f for f in findings if f.category == category]
            if found:
                console.print(_findings_table(category, found, target.name, width))
        if s.show_ignored:
            ignored = [(f, why) for f, why in report.ignored
                       if (f.target == target.name if f.target else f.location.source in sources)]
            if ignored:
                console.print(_ignored_table(ignored, target.name, width))
    elsewhere = [f for f in report.findings if id(f) not in placed]  # about config files (unused-ignore)
    if elsewhere:
        console.print()
        console.print(_findings_table("config", elsewhere, "", width))
    return buf.getvalue()


def render_catalogue(rows: list[dict], notes: list[str], *, color: bool = False, width: int = 120) -> str:
    """The `catalogue` command's table: one table per feature."""
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=color, no_color=not color,
                      color_system="standard" if color else None, highlight=False, emoji=False,
                      markup=False, soft_wrap=False)
    for note in notes:
        console.print(cell(f"note: {note}", "dim"))
    by_feature: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_feature[row["feature"]].append(row)
    for feature, items in by_feature.items():
        lines = []
        for r in items:
            when = Text.assemble(safe(", ".join(r["phase"])), "\n", safe(f"by {r['caller']}"), "\n",
                                 (safe(r["releases"]), "dim"))
            where = shown_resource(r["action"], r["resource"], r.get("match", "every"))
            lines.append([cell(r["action"]), cell(where), when, cell(r["confidence"]),
                          Text.assemble(safe(r["reason"]), "\n", (safe(r["evidence"]), "dim"))])
        console.print(grid(Text(f"{feature} ({len(items)} requirements)", style="bold"), CATALOGUE, lines, width))
    if not rows:
        console.print(cell("no requirements for these options", "dim"))
    return buf.getvalue()
