"""A check's hit as a finding: the engine stamps its rule id, its category and its severity (the one the
config sets, else the hit's, else the check's), and gives its location the file, line and column where
the element is written (docs/design.md, "The check protocol")."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from auditor.checks.base import Check
from auditor.config import RuleSetting
from auditor.model import Location, Policy
from auditor.report import Finding, Hit
from auditor.source_map import SourceMap
from auditor.sources.file import STDIN_NAME


def line_stamper(policies: Sequence[Policy], defined_at: Location | None = None) -> Callable[[Location], Location]:
    """A function that gives a location its line and column, from the policy it points into, and says
    whether its source is a file. A policy read from Terraform or CloudFormation has an origin: its
    locations become the file, the path in the file and the line where the element is written (also for
    findings about the whole document). In a principal of infrastructure code (`defined_at`: the file and
    line that define it), a location in a policy that is written in no file of it (a managed policy
    attached by ARN, its document from --auth-details) points at the principal's definition. Elsewhere a
    location in a policy read from AWS or standard input is no file. A location whose source is no policy
    of the target (an assumption's file and line, the target's own place) is kept as it is."""
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
        if not loc.pointer:  # the whole document
            return loc if loc.file == is_file else replace(loc, file=is_file)
        line = smap.line(loc.pointer) if loc.line is None else loc.line
        column = smap.column(loc.pointer) if line else None
        return Location(loc.source, loc.pointer, loc.sid, line, is_file, column)

    return stamp


def stamp(module: Check, rule: RuleSetting, hit: Hit, location: Location | None = None, target: str | None = None) -> Finding:
    """A check's hit as a finding: rule id, category, the severity config sets (else the hit's, else the
    check's), its location (`location`: the hit's, stamped by line_stamper) and, when that is elsewhere
    than the hit's place in the policy, that place (in_policy), and the target it is about."""
    place = hit.location
    where = location or place
    moved = where.source != place.source or where.pointer != place.pointer
    return Finding(module.RULE_ID, module.CATEGORY, rule.severity or hit.severity or module.SEVERITY, hit.message,
                   hit.subject, where, hit.resource, hit.feature, hit.fix, target, hit.releases, (),
                   place if moved else None)
