"""A command's options as one value, and how the shared ones are settled.

The CLI (auditor/cli.py) turns what was typed into one of FileOptions, LiveOptions, GenerateOptions and
CatalogueOptions; the application (auditor/application.py) runs it. The options about the deploy
(`DeployOptions`: prefix, envs, Jets release, features, Region, account) are settled by `resolve`: the
command line first, then the config file, then the built-in defaults, each checked. What cannot run is
an AuditError: one line, exit 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.choices import FORMATS, PRINCIPAL_KINDS, Attach, CatalogueFormat, Details, GenerateFormat
from auditor.console import say

if TYPE_CHECKING:  # types only: these are imported where a command needs them (cold start)
    from auditor.catalogue import Catalogue
    from auditor.config import Config
    from auditor.report import Project, Settings
    from auditor.second_opinion import Reviewer


class AuditError(Exception):
    """The audit cannot run: printed as one line, exit 2."""


@dataclass(frozen=True)
class DeployOptions:
    """What every command asks about the deploy, as typed (None or empty: not given)."""

    prefix: str | None = None  # --prefix
    envs: tuple[str, ...] = ()  # --env
    jets_version: str | None = None  # --jets-version
    features: tuple[str, ...] = ()  # --feature
    region: str | None = None  # --region
    account: str | None = None  # --account
    config: str | None = None  # --config
    project: str | None = None  # --project


@dataclass(frozen=True)
class ReportOptions:
    """How an audit's report is written (file, live)."""

    fmt: str | None = None  # --format (None: the config file's, else table)
    fail_on: str | None = None  # --fail-on (None: the config file's, else low)
    output: str | None = None  # --output
    also_write: tuple[str, ...] = ()  # --also-write FORMAT=FILE
    details: Details = "failing"  # --details
    quiet: bool = False  # --quiet
    verbose: bool = False  # --verbose
    show_ignored: bool = False  # --show-ignored
    baseline: str | None = None  # --baseline
    write_baseline: str | None = None  # --write-baseline


@dataclass(frozen=True)
class ParliamentOptions:
    """--parliament and its options (None: not given; the config file may set them)."""

    enabled: bool | None = None
    community: bool | None = None  # --include-community-auditors
    private_auditors: str | None = None
    config: str | None = None  # --parliament-config


@dataclass(frozen=True)
class Principal:
    """--group, --user, --role as typed (None: not given)."""

    group: str | None = None
    user: str | None = None
    role: str | None = None

    @property
    def given(self) -> bool:
        return (self.group or self.user or self.role) is not None

    def named(self) -> tuple[str, str]:
        """(kind, name) of the one principal named. Raises AuditError."""
        given = [(k, v) for k, v in zip(PRINCIPAL_KINDS, (self.group, self.user, self.role), strict=True) if v is not None]
        if len(given) != 1:
            raise AuditError("name exactly one principal: --group NAME, --user NAME or --role NAME")
        kind, name = given[0]
        if not name:
            raise AuditError(f"--{kind} needs a name")
        return kind, name


@dataclass(frozen=True)
class FileOptions:
    """`file`: policy files, Terraform and CloudFormation, or a saved authorization-details file."""

    paths: tuple[str, ...]
    deploy: DeployOptions
    report: ReportOptions
    parliament: ParliamentOptions
    combine: bool | None = None
    parameters: tuple[str, ...] = ()  # --parameter KEY=VALUE
    parameter_files: tuple[str, ...] = ()
    skip_non_policies: bool = False
    auth_details: str | None = None
    aws_managed: tuple[str, ...] = ()
    principal: Principal = Principal()
    deploy_principals: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()  # --var NAME=VALUE
    variable_files: tuple[str, ...] = ()  # --var-file


@dataclass(frozen=True)
class LiveOptions:
    """`live`: a group, user or role read from AWS."""

    principal: Principal
    deploy: DeployOptions
    report: ReportOptions
    parliament: ParliamentOptions
    profile: str | None = None
    endpoint_url: str | None = None
    timeout: float = 20.0


@dataclass(frozen=True)
class GenerateOptions:
    """`generate`: the least-privilege policy, or the repair of one (--from)."""

    deploy: DeployOptions
    fmt: GenerateFormat = "json"
    attach: Attach = "managed"
    minimize: bool = False
    from_file: str | None = None
    write: bool = False
    output_dir: str | None = None
    output: str | None = None


@dataclass(frozen=True)
class CatalogueOptions:
    """`catalogue`: what Jets needs, per feature."""

    deploy: DeployOptions
    fmt: CatalogueFormat = "table"
    output: str | None = None


# --- settled --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Resolved:
    """The deploy options after merging: command line, then config file, then built-in defaults."""

    prefix: str | None
    envs: tuple[str, ...]
    jets_version: str
    features: tuple[str, ...]
    region: str | None
    account: str | None
    fmt: str
    fail_on: str
    combine: bool
    catalogue: Catalogue
    config: Config
    project: Project | None = None
    jets_version_from: str = "default"
    jets_version_note: str | None = None
    parliament: Reviewer | None = None  # when --parliament is on (parliament imported)
    env_source: str = "default"  # where envs came from: "option", "config" or "default"


@dataclass(frozen=True)
class RunLevel:
    """The options that shape a whole run, as typed (None: the config file's, else the default)."""

    fmt: str | None = None
    fail_on: str | None = None
    combine: bool | None = None


def resolve(deploy: DeployOptions, run: RunLevel = RunLevel(), parliament: ParliamentOptions = ParliamentOptions(),
            search_from: str | None = None) -> Resolved:
    """Load the config (--config, else the nearest from `search_from` or the working directory) and the
    catalogue, merge the options, check them. Raises AuditError."""
    from auditor import config as config_mod

    path = Path(deploy.config) if deploy.config else config_mod.find(Path(search_from) if search_from else Path.cwd())
    cfg = load_config(path, trusted=bool(deploy.config))
    return resolve_with(cfg, load_catalogue(), scan_project(deploy.project), deploy, run, parliament)


def load_config(path: Path | None, trusted: bool) -> Config:
    from auditor import config as config_mod
    from auditor.checks import ALWAYS_ON, RULE_IDS

    try:
        return config_mod.load(path, RULE_IDS, ALWAYS_ON, trusted)
    except config_mod.ConfigError as exc:
        raise AuditError(str(exc)) from exc


def load_catalogue() -> Catalogue:
    from auditor import catalogue as catalogue_mod

    return catalogue_mod.load()


def scan_project(project_path: str | None) -> Project | None:
    """The Jets app of --project (None without it); what its scan skipped is said on stderr."""
    if not project_path:
        return None
    from auditor.project import ProjectError, scan

    try:
        project = scan(project_path)
    except ProjectError as exc:
        raise AuditError(str(exc)) from exc
    for line in project.skipped:
        say(line)
    return project


def resolve_with(cfg: Config, cat: Catalogue, project: Project | None, deploy: DeployOptions, run: RunLevel = RunLevel(),
                 parliament: ParliamentOptions = ParliamentOptions()) -> Resolved:
    """Merge the command line, then one config file, then the defaults; check. Raises AuditError."""
    from auditor import catalogue as catalogue_mod

    def pick(value, key, default):
        return value if value is not None else cfg.option(key, default)

    prefix = pick(deploy.prefix, "prefix", None) or (project.name if project else None)
    region = pick(deploy.region, "region", None)
    account = pick(deploy.account, "account", None)
    _check_region_account(region, account)
    error = catalogue_mod.validate_prefix(prefix) if prefix is not None else None
    if error:
        raise AuditError(error)
    configured = list(cfg.strings("env"))
    env_source = "option" if deploy.envs else "config" if configured else "default"
    envs = _envs(list(deploy.envs) if deploy.envs else configured or None)
    requested = list(deploy.features) if deploy.features else list(cfg.strings("feature"))
    version, version_from, version_note = _jets_version(cat, deploy.jets_version, cfg, project)
    features = _features(cat, requested + list(project.feature_ids if project else ()), version, project)
    return Resolved(prefix, envs, version, features, region, account,
                    str(pick(run.fmt, "format", "table")), str(pick(run.fail_on, "fail-on", "low")),
                    bool(run.combine or cfg.option("combine", False)), cat, cfg, project, version_from, version_note,
                    _parliament(cfg, Path(cfg.file) if cfg.file else None, parliament), env_source)


def settings_for(opts: Resolved, prefix_names: list[str], show_ignored: bool) -> Settings:
    """The audit's Settings for one group of policies: the prefix given, or inferred from their ARNs'
    project-name candidates (auditor.prefix.prefix_names)."""
    from auditor.prefix import pick_prefix
    from auditor.report import Settings

    inferred = None if opts.prefix else pick_prefix(prefix_names, opts.envs)
    note = None
    if not opts.prefix and not inferred:
        note = "no --prefix given and none could be inferred from the policy: checking for any project name"
    return Settings(
        prefix=opts.prefix or inferred or "*",
        prefix_inferred=opts.prefix is None and inferred is not None,
        prefix_note=note,
        envs=opts.envs,
        jets_version=opts.jets_version,
        features=opts.features,
        region=opts.region,
        account=opts.account,
        fail_on=opts.fail_on,
        show_ignored=show_ignored,
        project=opts.project,
        jets_version_from=opts.jets_version_from,
        jets_version_note=opts.jets_version_note,
    )


def also_write(values: tuple[str, ...]) -> list[tuple[str, str]]:
    """--also-write FORMAT=FILE values as (format, file). Raises AuditError."""
    out: list[tuple[str, str]] = []
    for value in values:
        fmt, eq, path = value.partition("=")
        if not eq or fmt not in FORMATS or not path:
            raise AuditError(f"--also-write {value!r}: give FORMAT=FILE, FORMAT one of {', '.join(FORMATS)}")
        out.append((fmt, path))
    return out


def _features(catalogue: Catalogue, requested: list[str] | None, version: str, project: Project | None = None) -> tuple[str, ...]:
    """The default features of the release (what a stock `jets new` app deploys), refined by --project (a
    default the project scan can detect, and did not find, is dropped; one it found is kept), plus
    those asked for and those the project uses."""
    from auditor.project import DETECTED

    ids = catalogue.feature_ids
    chosen = [f for f in catalogue.default_features(version)
              if project is None or f not in DETECTED or f in project.feature_ids]
    for item in requested or []:
        for name in item.split(","):
            name = name.strip()
            if name == "all":
                chosen.extend(ids)
            elif name in ids:
                chosen.append(name)
            else:
                from auditor.text import did_you_mean

                raise AuditError(f"unknown feature {name!r}{did_you_mean(name, ('all', *ids))} (choose from: all, {', '.join(ids)})")
    return tuple(f for f in ids if f in set(chosen))


def _envs(values: list[str] | None) -> tuple[str, ...]:
    from auditor.catalogue import validate_env

    envs = tuple(dict.fromkeys(values or ["dev"]))
    for env in envs:
        error = validate_env(env)
        if error:
            raise AuditError(error)
    return envs


def _check_region_account(region: str | None, account: str | None) -> None:
    if region is not None and not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region):
        raise AuditError(f"--region {region!r} is not an AWS region name such as us-east-1")
    if account is not None and not re.fullmatch(r"\d{12}", account):
        raise AuditError(f"--account {account!r} is not a 12-digit AWS account id")


def _jets_version(cat: Catalogue, given: str | None, cfg: Config, project: Project | None) -> tuple[str, str, str | None]:
    from auditor.releases import ReleaseError
    from auditor.releases import resolve as resolve_release

    configured = cfg.option("jets-version")
    assert cat.releases is not None  # catalogue.load reads rules/releases.toml
    try:
        return resolve_release(cat.releases, given, None if configured is None else (str(configured), cfg.path or "config"),
                               project)
    except ReleaseError as exc:
        raise AuditError(str(exc)) from exc


def _parliament(cfg: Config, config_file: Path | None, asked: ParliamentOptions) -> Reviewer | None:
    """parliament, loaded with its options (command line, then config file), or None when it is off:
    parliament is imported only here."""
    if not (asked.enabled if asked.enabled is not None else cfg.option("parliament", False)):
        if asked.community or asked.private_auditors or asked.config:
            raise AuditError("--include-community-auditors, --private-auditors and --parliament-config need --parliament")
        return None
    from auditor import second_opinion

    def configured(key: str) -> str | None:
        value = cfg.option(key)
        return str(config_file.parent / str(value)) if value and config_file is not None else value  # type: ignore[return-value]

    options = second_opinion.Options(
        bool(asked.community if asked.community is not None else cfg.option("include-community-auditors", False)),
        asked.private_auditors if asked.private_auditors is not None else configured("private-auditors"),
        asked.config if asked.config is not None else configured("parliament-config"))
    try:
        return second_opinion.load(options)
    except second_opinion.SecondOpinionError as exc:
        raise AuditError(str(exc)) from exc
