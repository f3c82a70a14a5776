"""Which config file each audited file answers to: the nearest one above the file (like ruff), or the
one --config names for all. Files under different config files are audited with different settings;
the options that shape the whole run (format, fail-on, combine) must then agree, or come from the
command line. A config's policy sets, and --combine, decide which files are audited together.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import NamedTuple

from auditor import config as config_mod
from auditor.config import Config, ConfigError, PolicySet
from auditor.prefix import prefix_names as policy_prefix_names
from auditor.report import Settings, Target
from auditor.sources.targets import loaded


class Scope(NamedTuple):
    """The targets that answer to one config file, with the settings and the config they are audited with."""

    settings: Settings
    config: Config
    targets: tuple[Target, ...]


RUN_LEVEL = {"format": "fmt", "fail-on": "fail_on", "combine": "combine"}  # config key → the CLI parameter


def for_sources(sources: Sequence[str], explicit: str | None, rule_ids: tuple[str, ...],
                stdin_name: str, always_on: Collection[str] = ()) -> list[tuple[Config, list[str]]]:
    """(config, the sources that answer to it), in the order the sources first appear. Standard
    input answers to the config found from the working directory."""
    if explicit is not None:
        return [(config_mod.load(Path(explicit), rule_ids, always_on, trusted=True), list(dict.fromkeys(sources)))]
    by_dir: dict[str, Path | None] = {}
    groups: dict[Path | None, list[str]] = {}
    for source in dict.fromkeys(sources):
        directory = os.getcwd() if source == stdin_name else os.path.dirname(os.path.abspath(source))
        if directory not in by_dir:
            by_dir[directory] = config_mod.find(Path(directory))
        groups.setdefault(by_dir[directory], []).append(source)
    return [(config_mod.load(path, rule_ids, always_on, trusted=False), members) for path, members in groups.items()]


def run_level(configs: Sequence[Config], key: str, given: object) -> object:
    """A run-level option: the command line's, else the one value the config files set (None when none
    sets it). Config files that disagree are a ConfigError naming them."""
    if given is not None:
        return given
    values = {c.file: c.option(key) for c in configs if key in dict(c.options)}
    distinct = set(values.values())
    if len(distinct) > 1:
        listed = ", ".join(f"{v!r} in {f}" for f, v in values.items())
        raise ConfigError(f"the audited files' config files disagree on {key!r} ({listed}): pass --{key} on the command line")
    return distinct.pop() if distinct else None


def policy_sets(targets: list, cfg: Config, read) -> list:
    """Files of a policy set of the config are one target: whenever one of them is audited, the others
    are read (with `read`: paths → targets) and the set is audited whole."""
    if not cfg.policy_sets or not cfg.base:
        return targets
    by_path = {os.path.abspath(t.name): t for t in targets if t.kind == "file"}
    out: list[Target] = []
    done: set[int] = set()
    for policy_set in cfg.policy_sets:
        members = _members(policy_set, cfg.base)
        if not any(m in by_path for m in members):
            continue
        shown = {m: by_path[m].name if m in by_path else (m if os.path.relpath(m).startswith("..") else os.path.relpath(m))
                 for m in members}
        for t in read([shown[m] for m in members if m not in by_path]):
            by_path.setdefault(os.path.abspath(t.name), t)
        listed = [by_path[m] for m in members if m in by_path]
        chosen = [loaded(t) for t in listed]
        out.append(Target("file", policy_set.name or " + ".join(t.name for t in chosen),
                          tuple(p for t in chosen for p in t.policies), notes=tuple(n for t in chosen for n in t.notes),
                          assumptions=tuple(dict.fromkeys(a for t in chosen for a in t.assumptions))))
        done.update(id(t) for t in listed)
    return out + [t for t in targets if id(t) not in done]


def _members(policy_set: PolicySet, base: str) -> list[str]:
    """The files of a policy set, as absolute paths, sorted: a bounded walk that follows no link to a
    directory (auditor.sources.discover.glob_files). Raises ConfigError past the walk's bound."""
    from auditor.sources.discover import Walk, WalkError, glob_files

    walk = Walk()
    try:
        found = {f for pattern in policy_set.files for f in glob_files(base, pattern, walk)}
    except WalkError as exc:
        raise ConfigError(str(exc)) from exc
    return sorted(found)


def combined(targets: Sequence[Target], extra: Sequence = ()) -> Target:
    """--combine: every policy of the targets (and the AWS managed policies of --aws-managed) as one
    principal's set."""
    targets = [loaded(t) for t in targets]
    policies = tuple(dict.fromkeys([*(p for t in targets for p in t.policies), *extra]))
    notes = tuple(dict.fromkeys(n for t in targets for n in t.notes))
    assumptions = tuple(dict.fromkeys(a for t in targets for a in t.assumptions))
    return Target("file", " + ".join(dict.fromkeys(p.source for p in policies)), policies, notes=notes,
                  assumptions=assumptions)


def prefix_names(targets: Sequence[Target]) -> list[str]:
    """The project-name candidates of every policy of the targets, each policy once, in order (a deferred
    target's were noted when it was first read)."""
    names: list[str] = []
    seen: set = set()
    for t in targets:
        if t.deferred is not None:
            names += t.deferred.prefix_names
            continue
        fresh = [p for p in t.policies if p not in seen]
        seen.update(fresh)
        names += policy_prefix_names(fresh)
    return names
