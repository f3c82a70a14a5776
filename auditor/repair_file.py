"""generate --from FILE: read the policy, settle the project name and the envs, repair it (auditor/repair.py)
and show the change as a diff. The CLI writes the result where it is asked to."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from auditor import repair
from auditor.catalogue import Catalogue
from auditor.prefix import infer_prefix
from auditor.report import Settings
from auditor.sources.file import SourceError, read_policy
from auditor.text import safe

RepairError = repair.RepairError


@dataclass(frozen=True)
class Repaired:
    after: str  # the repaired document, indented like the original
    change: str  # a unified diff from the original; "" when nothing changes


def repair_file(path: str, catalogue: Catalogue, *, prefix: str | None, envs: Sequence[str], envs_given: bool,
                version: str, features: tuple[str, ...], region: str | None, account: str | None,
                say: Callable[[str], None]) -> Repaired:
    """The repair of the policy in `path`. Without a prefix it is inferred from the policy's ARNs (with
    the envs given, if any); without envs given (`envs_given`) they are the ones the ARNs name, never an
    assumed dev, and `say` tells which. RepairError when the file cannot be read or repaired."""
    try:
        policy = read_policy(path)
    except SourceError as exc:
        raise RepairError(str(exc)) from exc
    unreadable = next((p for p in policy.problems if p.unreadable), None)
    if unreadable is not None:
        where = f" at {unreadable.pointer}" if unreadable.pointer else ""
        raise RepairError(f"{policy.source}{where}: {unreadable.message}; fix it by hand first")
    project = prefix or infer_prefix([policy], envs if envs_given else ())
    if not project:
        raise RepairError(f"cannot tell the project name from {path}: pass --prefix NAME")
    chosen = tuple(envs)
    if not envs_given:
        chosen, evidence = repair.envs_of(policy, project, catalogue, version)
        say(f"envs {', '.join(chosen)}: inferred from the policy's ARNs ({', '.join(evidence)}); pass --env to choose")
    settings = Settings(project, prefix is None, None, chosen, version, features, region, account)
    try:
        after = repair.dump_like(repair.repair(policy.text, path, settings, catalogue), policy.text)
    except RecursionError as exc:  # deep nesting inside an element (a Condition value): JSON reads it, a repair cannot
        raise RepairError(f"{path}: nested too deeply to repair; fix it by hand first") from exc
    return Repaired(after, repair.diff(policy.text, after, safe(path)))  # the header names the file: one line, whatever its name
