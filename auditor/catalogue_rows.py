"""What `jets-iam-audit catalogue` prints: the requirements for a set of options, rendered for the
project and envs, as JSON (`catalogue --format json`, docs/json.md) or one table per feature."""

from __future__ import annotations

import json
from collections.abc import Sequence

from auditor.catalogue import Catalogue, Naming
from auditor.choices import CatalogueFormat


def requirement_rows(cat: Catalogue, version: str, features: Sequence[str], prefix: str | None, envs: Sequence[str],
                     region: str | None, account: str | None, envs_chosen: bool) -> list[dict[str, object]]:
    """One row per requirement, rendered resource and caller, in catalogue order, env by env. Without a
    prefix and without envs chosen (by option or config), names read <project>-<env>-*, never the raw
    {ns} placeholders."""
    rows = []
    seen = set()
    for env in envs if envs_chosen or prefix else ("<env>",):
        for req, resource in cat.rendered(Naming(prefix or "<project>", env, version, region, account), features):
            if (req.action, resource, req.caller) in seen:
                continue
            seen.add((req.action, resource, req.caller))
            row: dict[str, object] = {
                "feature": req.feature, "action": req.action, "resource": resource, "match": req.match,
                "phase": list(req.phases),
                "confidence": req.confidence, "reason": req.reason, "evidence": req.evidence,
                "releases": req.releases.text, "caller": req.caller}
            if req.passed_to:
                row["passed_to"] = list(req.passed_to)
            row["template"] = req.resource
            rows.append(row)
    return rows


def render(cat: Catalogue, fmt: CatalogueFormat, *, version: str, version_from: str, version_note: str | None,
           features: Sequence[str], prefix: str | None, envs: Sequence[str], region: str | None, account: str | None,
           envs_chosen: bool, color: bool, width: int) -> str:
    """The command's output in `fmt`."""
    rows = requirement_rows(cat, version, features, prefix, envs, region, account, envs_chosen)
    notes = ([version_note] if version_note else []) + list(cat.remote_notes(version, features))
    if fmt == "json":
        return json.dumps({"schema_version": 1, "jets_version": version, "jets_version_from": version_from,
                           "features": list(features), "notes": notes, "requirements": rows}, indent=2) + "\n"
    from auditor.reporters.table import render_catalogue

    return render_catalogue(rows, notes, color=color, width=width)
