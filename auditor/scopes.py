"""The files of a run grouped by the config file each answers to: the nearest one above the file (like
ruff), or the one --config names for all. Files under different config files are audited with
different settings; the options that shape the whole run (format, fail-on, combine) must then agree,
or come from the command line. A config's policy sets, and --combine, decide which files are audited
together. `read_files` reads the files of each group into its targets; a run audits `Scope`s.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, cast

from auditor import config as config_mod
from auditor.config import Config, ConfigError, PolicySet
from auditor.console import say
from auditor.model import Policy
from auditor.options import (
    AuditError,
    DeployOptions,
    ParliamentOptions,
    Resolved,
    RunLevel,
    load_catalogue,
    resolve_with,
    scan_project,
)
from auditor.prefix import prefix_names as policy_prefix_names
from auditor.report import Settings, Target
from auditor.sources.selection import Selection
from auditor.sources.targets import Loaded, loaded

if TYPE_CHECKING:
    from auditor.sources.tf_load import CliVariables


class Scope(NamedTuple):
    """The targets that answer to one config file, with the settings and the config they are audited with."""

    settings: Settings
    config: Config
    targets: tuple[Target, ...]


RUN_LEVEL = {"format": "fmt", "fail-on": "fail_on", "combine": "combine"}  # config key → options.RunLevel's field


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


def _run_level(configs: Sequence[Config], given: RunLevel) -> RunLevel:
    """The run-level options: the command line's, else the one value the config files set (run_level)."""
    fmt, fail_on, combine = (run_level(configs, key, getattr(given, name)) for key, name in RUN_LEVEL.items())
    return RunLevel(cast(str | None, fmt), cast(str | None, fail_on), cast(bool | None, combine))  # config.parse checked them


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


def read_files(paths: Sequence[str], deploy: DeployOptions, run: RunLevel, parliament: ParliamentOptions,
               skip_non_policies: bool, named: Selection | None, managed: Mapping[str, Policy] | None,
               extra: Sequence[Policy] = (), parameters: Mapping[str, str] | None = None,
               variables: CliVariables | None = None) -> list[tuple[list[Target], list[str], Resolved]]:
    """The files (directories searched) grouped by the config file they answer to (the nearest above
    each, or --config), each group with its targets as the readers build them (a file, a principal of
    infrastructure code, a config policy set), or one target for all with --combine (which also holds
    `extra`, the AWS managed policies of --aws-managed), their ARNs' project-name candidates and their
    options. `named`: the deploy principals the command line names; `managed`: the managed policies of
    --auth-details by ARN; `parameters`: CloudFormation parameter values (--parameter,
    --parameter-file); `variables`: Terraform's --var and --var-file. Files found in directories that
    are not policies are skipped, as with --skip-non-policies. Raises AuditError, ConfigError,
    SourceError, SelectionError."""
    from auditor.checks import ALWAYS_ON, RULE_IDS
    from auditor.sources import selection
    from auditor.sources.discover import WalkError, expand
    from auditor.sources.file import STDIN, check_run_size
    from auditor.sources.targets import check_named, load, passed_over

    try:
        files, walked, empty, skipped = expand(paths)
    except WalkError as exc:
        raise AuditError(str(exc)) from exc
    for line in skipped:
        say(line)
    for directory in empty:
        say(f"no policy files under {directory}")
    check_run_size(files)
    roots = _walk_roots(paths, walked)
    by_config = for_sources(files, deploy.config, RULE_IDS, STDIN, ALWAYS_ON)
    configs = [cfg for cfg, _ in by_config]
    run = _run_level(configs, run)
    if run.combine and len(configs) > 1:
        raise AuditError("--combine audits one policy set, but its files answer to different config files ("
                         + ", ".join(c.file or "none" for c in configs) + "): pass --config")
    cat, project = load_catalogue(), scan_project(deploy.project)
    groups = []
    read_so_far: list[Loaded] = []  # what each read of the files found
    selections: list[Selection] = []  # the config files' deploy-principals
    for cfg, members in by_config:
        opts = resolve_with(cfg, cat, project, deploy, run, parliament)
        chosen = named if named is not None else selection.configured(cfg.strings("deploy-principals"), cfg.shown or cfg.path)
        if chosen is not None and named is None:
            selections.append(chosen)

        def read(chunk: list[str], skip: bool, opts: Resolved = opts, chosen: Selection | None = chosen) -> list[Target]:
            loaded = load(chunk, region=opts.region, account=opts.account, skip_non_policies=skip, principal=chosen,
                          managed=managed, defer=not opts.combine, parameters=parameters, variables=variables, roots=roots)
            read_so_far.append(loaded)
            return list(loaded.targets)

        given = [m for m in members if m not in walked]
        found = [m for m in members if m in walked]
        if named is not None:  # a principal is chosen among all the files
            targets = read(members, skip_non_policies or bool(found))
        else:
            targets = (read(given, skip_non_policies) if given else []) + (read(found, True) if found else [])
            order = {m: i for i, m in enumerate(members)}  # back in the order the paths came
            targets.sort(key=lambda t: min((order.get(s.partition("#")[0], len(order)) for s in t.sources), default=len(order)))
        targets = policy_sets(targets, cfg, lambda chunk, read=read: read(chunk, skip_non_policies))
        if opts.combine and (targets or extra):
            targets = [combined(targets, extra)]
        if targets:
            groups.append((targets, prefix_names(targets), opts))
    check_named(named, read_so_far)
    passed = passed_over(read_so_far, selections)  # principals found, none audited: which, and why
    for line in passed:
        say(line)
    if not passed and not groups and walked:
        say(f"no IAM policies among the {len(walked)} file{'s' if len(walked) != 1 else ''} found")
    return groups


def _walk_roots(paths: Sequence[str], walked: Collection[str]) -> dict[str, str]:
    """Each file found in a directory argument → that directory (a Terraform file's repository root when
    no .git is found above it)."""
    from auditor.sources.file import STDIN

    directories = [os.path.normpath(p) for p in paths if p != STDIN and os.path.isdir(p)]
    roots: dict[str, str] = {}
    for found in walked:
        for directory in directories:
            if directory == "." or found.startswith(directory.rstrip(os.sep) + os.sep):
                roots[found] = directory
                break
    return roots
