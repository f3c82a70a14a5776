"""The command line: parse options, call the core, pick a reporter, set the exit code (DESIGN §2).

Exit codes: 0 no finding at or above --fail-on; 1 findings; 2 the audit could not run.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from auditor import __version__, reporters
from auditor.choices import PRINCIPAL_KINDS, Attach, CatalogueFormat, Details, Format, GenerateFormat, Severity

if TYPE_CHECKING:  # types only: the CLI imports these where a command needs them (cold start)
    from auditor.catalogue import Catalogue
    from auditor.config import Config
    from auditor.project import Project
    from auditor.second_opinion import Reviewer

app = typer.Typer(
    name="jets-iam-audit",
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Audit an IAM policy against what `jets deploy` (Ruby on Jets) really needs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

EXIT_USAGE = 2


class AuditError(Exception):
    """The audit cannot run: printed as one line, exit 2."""


def _version(value: bool) -> None:
    if value:
        from auditor import awsdata

        typer.echo(f"jets-iam-audit {__version__} ({awsdata.data_version()})")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and the AWS data version.")] = False,
) -> None:
    """Audit an IAM policy against what `jets deploy` (Ruby on Jets) really needs."""


# --- shared options ---------------------------------------------------------------------------

PrefixOpt = Annotated[str | None, typer.Option(
    "--prefix", help="The Jets project name (the docs' MY_PREFIX). Inferred from the policy's ARNs when absent.")]
EnvOpt = Annotated[list[str] | None, typer.Option("--env", help="Jets env (repeatable): dev, prod, stag or any custom name. Default: dev.")]
VersionOpt = Annotated[str | None, typer.Option(
    "--jets-version", help="Jets release (5.0.14) or line (5; every release of it). Default: the project's Gemfile.lock, else 5.")]
FeatureOpt = Annotated[list[str] | None, typer.Option(
    "--feature", help="Feature to audit (repeatable, or 'all'). The release's defaults are always on: core and prewarm, "
                      "and public-assets for Jets 3-5 (with --project, only when the app has files in public/).")]
RegionOpt = Annotated[str | None, typer.Option("--region", help="AWS region Jets deploys to; ARNs for other regions then do not count.")]
AccountOpt = Annotated[str | None, typer.Option("--account", help="AWS account id; ARNs for other accounts then do not count.")]
FormatOpt = Annotated[Format | None, typer.Option("--format", help="Output format.")]
FailOnOpt = Annotated[Severity | None, typer.Option(
    "--fail-on", help="Exit 1 when a finding is at or above this severity.")]
OutputOpt = Annotated[str | None, typer.Option("--output", "-o", help="Write the report to this file instead of stdout.")]


def _features(catalogue, requested: list[str] | None, version: str, project=None) -> tuple[str, ...]:
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
    import re

    if region is not None and not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region):
        raise AuditError(f"--region {region!r} is not an AWS region name such as us-east-1")
    if account is not None and not re.fullmatch(r"\d{12}", account):
        raise AuditError(f"--account {account!r} is not a 12-digit AWS account id")


def _emit(text: str, output: str | None) -> None:
    if output:
        from auditor.atomic import WriteError, write_text

        try:
            write_text(output, text)
        except WriteError as exc:
            raise AuditError(str(exc)) from exc
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def _color(output: str | None) -> bool:
    """Colour on a terminal; NO_COLOR (set, not empty) turns it off, FORCE_COLOR (set, not empty) on
    where stdout is not a terminal (CI logs). A report written with --output never has colour."""
    if output is not None or os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or sys.stdout.isatty()


def _width() -> int:
    """The terminal's width (or COLUMNS), at least 60; 120 when neither says."""
    return max(60, shutil.get_terminal_size((120, 24)).columns)


# --- commands ---------------------------------------------------------------------------------

ConfigOpt = Annotated[str | None, typer.Option(
    "--config", help="Config file (.jets-iam-audit.toml or pyproject.toml) for every file. Default: the nearest one above each file.")]
ShowIgnoredOpt = Annotated[bool, typer.Option("--show-ignored", help="Also show findings that config ignores, with their reasons.")]
ProjectOpt = Annotated[str | None, typer.Option(
    "--project", help="A Jets app directory: take the project name and the features it uses from it.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Say on stderr what was read and how long it took.")]
ParliamentOpt = Annotated[bool | None, typer.Option(
    "--parliament", help="Also run parliament on every policy document; its findings join the report "
                         "(pip install 'jets-iam-audit[parliament]').")]
CommunityOpt = Annotated[bool | None, typer.Option(
    "--include-community-auditors", help="With --parliament: its community auditors too.")]
PrivateAuditorsOpt = Annotated[str | None, typer.Option(
    "--private-auditors", help="With --parliament: a directory of parliament private auditors.")]
ParliamentConfigOpt = Annotated[str | None, typer.Option(
    "--parliament-config", help="With --parliament: parliament's YAML config (severities, ignore_locations).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print only the summary line (stderr); --output still gets the report.")]
BaselineOpt = Annotated[str | None, typer.Option(
    "--baseline", help="Leave out the findings this baseline file records; say how many, and how many are fixed.")]
WriteBaselineOpt = Annotated[str | None, typer.Option(
    "--write-baseline", help="Record every finding of this run in FILE (then the run reports only what is new).")]
AlsoWriteOpt = Annotated[list[str] | None, typer.Option(
    "--also-write", metavar="FORMAT=FILE", help="Also write the report in FORMAT to FILE, from the same run (repeatable; "
                                                "e.g. --format github --also-write sarif=audit.sarif).")]
DetailsOpt = Annotated[Details, typer.Option(
    "--details", help="Table of several targets: after a summary row per target, the coverage and findings of the "
                      "targets with findings at or above --fail-on (failing), or of every target (all).")]


@dataclass(frozen=True)
class Resolved:
    """Options after merging: command line, then config file, then built-in defaults."""

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


def _resolve(config_path: str | None, *, prefix, env, jets_version, feature, region, account, fmt, fail_on,
             combine, project_path: str | None = None, parliament: tuple = (None, None, None, None),
             search_from: str | None = None) -> Resolved:
    """Load config (--config, else the nearest from `search_from` or the working directory) and
    catalogue, merge options, validate them. Raises AuditError."""
    from pathlib import Path

    from auditor import config as config_mod

    path = Path(config_path) if config_path else config_mod.find(Path(search_from) if search_from else Path.cwd())
    cfg = _load_config(path, trusted=bool(config_path))
    return _resolve_with(cfg, _catalogue(), _project(project_path), prefix=prefix, env=env, jets_version=jets_version,
                         feature=feature, region=region, account=account, fmt=fmt, fail_on=fail_on, combine=combine,
                         parliament=parliament)


def _load_config(path, trusted: bool):
    from auditor import config as config_mod
    from auditor.checks import ALWAYS_ON, RULE_IDS

    try:
        return config_mod.load(path, RULE_IDS, ALWAYS_ON, trusted)
    except config_mod.ConfigError as exc:
        raise AuditError(str(exc)) from exc


def _catalogue():
    from auditor import catalogue as catalogue_mod

    return catalogue_mod.load()


def _project(project_path: str | None):
    if not project_path:
        return None
    from auditor.project import ProjectError, scan

    try:
        project = scan(project_path)
    except ProjectError as exc:
        raise AuditError(str(exc)) from exc
    for line in project.skipped:
        _say(line)
    return project


def _resolve_with(cfg, cat, project, *, prefix, env, jets_version, feature, region, account, fmt, fail_on,
                  combine, parliament: tuple = (None, None, None, None)) -> Resolved:
    """Merge the command line, then one config file, then the defaults; validate. Raises AuditError."""
    from pathlib import Path

    from auditor import catalogue as catalogue_mod

    def pick(value, key, default):
        return value if value is not None else cfg.option(key, default)

    prefix = pick(prefix, "prefix", None) or (project.name if project else None)
    region = pick(region, "region", None)
    account = pick(account, "account", None)
    _check_region_account(region, account)
    error = catalogue_mod.validate_prefix(prefix) if prefix is not None else None
    if error:
        raise AuditError(error)
    configured = list(cfg.option("env", ()) or ())
    env_source = "option" if env else "config" if configured else "default"
    envs = _envs(list(env) if env else configured or None)
    requested = list(feature) if feature else list(cfg.option("feature", ()) or ())
    version, version_from, version_note = _jets_version(cat, jets_version, cfg, project)
    features = _features(cat, requested + list(project.feature_ids if project else ()), version, project)
    return Resolved(prefix, envs, version, features, region, account,
                    str(pick(fmt, "format", "table")), str(pick(fail_on, "fail-on", "low")),
                    bool(combine or cfg.option("combine", False)), cat, cfg, project, version_from, version_note,
                    _parliament_options(cfg, Path(cfg.file) if cfg.file else None, *parliament), env_source)


def _jets_version(cat, given: str | None, cfg, project) -> tuple[str, str, str | None]:
    from auditor.releases import ReleaseError, resolve

    configured = cfg.option("jets-version")
    try:
        return resolve(cat.releases, given, None if configured is None else (str(configured), cfg.path or "config"),
                       project)
    except ReleaseError as exc:
        raise AuditError(str(exc)) from exc


def _parliament_options(cfg, config_file, enabled, community, private_auditors, parliament_config):
    """parliament, loaded with its options (command line, then config file), or None when it is off:
    parliament is imported only here."""
    if not (enabled if enabled is not None else cfg.option("parliament", False)):
        if community or private_auditors or parliament_config:
            raise AuditError("--include-community-auditors, --private-auditors and --parliament-config need --parliament")
        return None
    from auditor import second_opinion

    def configured(key: str) -> str | None:
        value = cfg.option(key)
        return str(config_file.parent / value) if value and config_file is not None else value

    options = second_opinion.Options(
        bool(community if community is not None else cfg.option("include-community-auditors", False)),
        private_auditors if private_auditors is not None else configured("private-auditors"),
        parliament_config if parliament_config is not None else configured("parliament-config"))
    try:
        return second_opinion.load(options)
    except second_opinion.SecondOpinionError as exc:
        raise AuditError(str(exc)) from exc


def _settings(opts: Resolved, prefix_names: list[str], show_ignored: bool):
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


def _also(values: list[str] | None) -> list[tuple[str, str]]:
    """--also-write FORMAT=FILE values as (format, file). Raises AuditError."""
    from auditor.choices import FORMATS

    out: list[tuple[str, str]] = []
    for value in values or ():
        fmt, eq, path = value.partition("=")
        if not eq or fmt not in FORMATS or not path:
            raise AuditError(f"--also-write {value!r}: give FORMAT=FILE, FORMAT one of {', '.join(FORMATS)}")
        out.append((fmt, path))
    return out


def _report(groups, show_ignored: bool, output: str | None, verbose: bool = False, quiet: bool = False,
            baselines: tuple[str | None, str | None] = (None, None), details: Details = "failing",
            also: Sequence[tuple[str, str]] = ()) -> None:
    """Run the audit, writing the report target by target, print the summary, exit with the report's
    code. `groups`: (targets, their ARNs' project-name candidates, their Resolved options) per config
    file; the first group's are the run's."""
    import time

    from auditor import baseline, progress, streaming
    from auditor.scopes import Scope
    from auditor.text import safe

    started = time.perf_counter()
    scopes = [Scope(_settings(opts, names, show_ignored), opts.config, tuple(group_targets))
              for group_targets, names, opts in groups]
    if verbose:
        for scope in scopes:
            config = f"; config {scope.config.shown}" if scope.config.file else "; no config file"
            for t in scope.targets:
                typer.echo(safe(f"{t.kind} {t.name}: {t.documents} polic{'y' if t.documents == 1 else 'ies'} "
                                f"({', '.join(t.sources)})" + (f"; boundary {', '.join(p.source for p in t.boundary)}"
                                                              if t.boundary else "") + config), err=True)
    opts = groups[0][2]
    sieve = _sieve(*baselines)
    shown = output is None and not quiet
    try:
        with _destination(output) as out, contextlib.ExitStack() as extra:
            writer = (reporters.writer(opts.fmt, out, color=_color(output), width=_width(), details=details)
                      if output or not quiet else reporters.Nothing())
            more = [reporters.writer(fmt, extra.enter_context(_destination(path)), width=_width(), details=details)
                    for fmt, path in also]
            if more:
                writer = reporters.Tee(writer, *more)
            count = sum(len(scope.targets) for scope in scopes)
            enabled = progress.wanted(quiet, shown and sys.stdout.isatty()) and count >= progress.MANY_TARGETS
            with progress.bar("auditing", count, enabled) as advance:
                tail = streaming.stream(scopes, opts.catalogue, writer, opts.parliament, sieve, advance)
    except (AuditError, baseline.BaselineError) as exc:
        _fail(str(exc))
    if baselines[1] and tail.baseline is not None:
        count = tail.baseline.baselined
        _say(f"wrote {count} finding{'' if count == 1 else 's'} to the baseline {baselines[1]}")
    if verbose:
        _say(f"audited in {time.perf_counter() - started:.2f}s with {_iam_data()}")
    typer.echo(safe(tail.summary_line), err=True)
    raise typer.Exit(tail.exit_code)


def _iam_data() -> str:
    from auditor import awsdata

    return awsdata.data_version()


def _sieve(path: str | None, write: str | None):
    """--write-baseline records the run's findings (and then applies them: none is reported); --baseline
    leaves out what a baseline records."""
    from auditor import __version__, baseline

    try:
        if write:
            return baseline.Recorder(write, __version__)
        if path:
            return baseline.Sieve(path, baseline.read(path))
    except baseline.BaselineError as exc:
        _fail(str(exc))
    return None


@contextlib.contextmanager
def _destination(output: str | None):
    """Where the report goes as it is written: a temporary file beside the --output file (made before
    the audit starts, renamed over it when the run ends: auditor.atomic), or standard output."""
    if output:
        from auditor.atomic import WriteError, writing

        try:
            with writing(output) as fh:
                yield fh
        except WriteError as exc:
            raise AuditError(str(exc)) from exc
    else:
        yield sys.stdout
        sys.stdout.flush()


GroupOpt = Annotated[str | None, typer.Option("--group", help="IAM group name.")]
UserOpt = Annotated[str | None, typer.Option("--user", help="IAM user name (its own and its groups' policies).")]
RoleOpt = Annotated[str | None, typer.Option("--role", help="IAM role name.")]


def _principal(group: str | None, user: str | None, role: str | None) -> tuple[str, str]:
    given = [(k, v) for k, v in zip(PRINCIPAL_KINDS, (group, user, role), strict=True) if v is not None]
    if len(given) != 1:
        raise AuditError("name exactly one principal: --group NAME, --user NAME or --role NAME")
    kind, name = given[0]
    if not name:
        raise AuditError(f"--{kind} needs a name")
    return kind, name


@app.command("file")
def file_command(
    ctx: typer.Context,
    paths: Annotated[list[str] | None, typer.Argument(
        help="Policy JSON files, Terraform .tf files or plan JSON, CloudFormation/SAM/CDK templates, or directories of "
             "them (searched recursively); '-' reads standard input.")] = None,
    prefix: PrefixOpt = None,
    env: EnvOpt = None,
    jets_version: VersionOpt = None,
    feature: FeatureOpt = None,
    region: RegionOpt = None,
    account: AccountOpt = None,
    fmt: FormatOpt = None,
    fail_on: FailOnOpt = None,
    combine: Annotated[bool | None, typer.Option(
        "--combine", help="Audit all files as one principal's policy set (a group's inline and attached policies).")] = None,
    parameter: Annotated[list[str] | None, typer.Option(
        "--parameter", help="KEY=VALUE: a CloudFormation template parameter's value, over its Default (repeatable; "
                            "AWS::StackName=NAME too).")] = None,
    parameter_file: Annotated[list[str] | None, typer.Option(
        "--parameter-file", help="CloudFormation parameter values from a JSON file, as `aws cloudformation deploy "
                                 "--parameter-overrides file://FILE` or a CodePipeline template configuration reads "
                                 "them (repeatable; --parameter wins).")] = None,
    skip_non_policies: Annotated[bool, typer.Option(
        "--skip-non-policies", help="Quietly skip files that are not IAM policies (package.json, a .tf or template "
                                    "with no IAM policy, ...); for hooks.")] = False,
    auth_details: Annotated[str | None, typer.Option(
        "--auth-details", help="Output of `aws iam get-account-authorization-details`: audit --group/--user/--role from "
                               "it, or, with files, take the managed policies they attach by ARN from it.")] = None,
    aws_managed: Annotated[list[str] | None, typer.Option(
        "--aws-managed", help="An AWS managed policy (its JSON document) attached to the same principal (repeatable; "
                              "implies --combine): one finding for it, not line by line.")] = None,
    group: GroupOpt = None,
    user: UserOpt = None,
    role: RoleOpt = None,
    deploy_principal: Annotated[list[str] | None, typer.Option(
        "--deploy-principal", help="The deploy principal in Terraform or CloudFormation files, of any kind: its IAM name, "
                                   "address (aws_iam_role.deployer, or deployer) or logical id (repeatable); only those "
                                   "are audited. Else the principals that look like a Jets deployer are.")] = None,
    var: Annotated[list[str] | None, typer.Option(
        "--var", help="A Terraform variable's value, NAME=VALUE (repeatable), as terraform's -var: it wins over "
                      "terraform.tfvars, *.auto.tfvars and --var-file.")] = None,
    var_file: Annotated[list[str] | None, typer.Option(
        "--var-file", help="A Terraform variables file (.tfvars or .tfvars.json; repeatable, a later one wins), as "
                           "terraform's -var-file; read only inside the repository.")] = None,
    config: ConfigOpt = None,
    project: ProjectOpt = None,
    show_ignored: ShowIgnoredOpt = False,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
    baseline: BaselineOpt = None,
    write_baseline: WriteBaselineOpt = None,
    details: DetailsOpt = "failing",
    output: OutputOpt = None,
    also_write: AlsoWriteOpt = None,
    parliament: ParliamentOpt = None,
    include_community_auditors: CommunityOpt = None,
    private_auditors: PrivateAuditorsOpt = None,
    parliament_config: ParliamentConfigOpt = None,
) -> None:
    """Audit policy files, Terraform files and plans, CloudFormation templates (or a principal in a saved
    authorization-details file) against the Jets catalogue."""
    late = _options_after_dashes(ctx, paths or [])
    if late is not None:
        return file_command(ctx, **late)
    from auditor.config import ConfigError
    from auditor.report import Target
    from auditor.sources.file import SourceError
    from auditor.sources.targets import SelectionError

    cli: dict[str, Any] = {"prefix": prefix, "env": env, "jets_version": jets_version, "feature": feature, "region": region,
           "account": account, "fmt": fmt, "fail_on": fail_on, "combine": combine,
           "parliament": (parliament, include_community_auditors, private_auditors, parliament_config)}
    try:
        also = _also(also_write)
        named = _principal(group, user, role) if (group or user or role) is not None else None
        if deploy_principal and named is not None:
            raise AuditError("--deploy-principal and --group/--user/--role both name the deploy principal: give one of them")
        if any(not name for name in deploy_principal or ()):
            raise AuditError("--deploy-principal needs a name")
        if auth_details is not None and not paths:
            if deploy_principal:
                raise AuditError("--deploy-principal selects principals in Terraform or CloudFormation files; with "
                                 "--auth-details alone, name one with --group, --user or --role")
            if named is None:
                raise AuditError("name exactly one principal: --group NAME, --user NAME or --role NAME")
            if aws_managed:
                raise AuditError("--aws-managed goes with policy files")
            opts = _resolve(config, project_path=project, **cli)
            principal = _from_details(auth_details, *named)
            target = Target(principal.kind, principal.name, principal.policies, principal.boundary)
            groups = [([target], _names(principal.policies), opts)]
        else:
            if not paths:
                raise AuditError("give one or more policy files ('-' for standard input)")
            managed = _from_details(auth_details, None, None) if auth_details is not None else None
            extra = []
            if aws_managed:
                from dataclasses import replace

                from auditor.sources.file import read_policies

                extra = [replace(p, aws_managed=True) for p in read_policies(aws_managed)]
                cli["combine"] = True
            from auditor.sources.cfn_parameters import ParameterError, parameters
            from auditor.sources.selection import from_command_line

            try:
                values = parameters(parameter, parameter_file)
            except ParameterError as exc:
                raise AuditError(str(exc)) from exc
            variables = _terraform_variables(var or [], var_file or [])
            groups = _file_groups(paths, config, project, cli, skip_non_policies,
                                  from_command_line(named, deploy_principal), managed, extra, values, variables)
            if not skip_non_policies:  # a gate pointed at a mistyped path must not pass; the hook's files may be no policies
                _everything_audited(paths, groups)
            if not groups:
                raise typer.Exit(0)
    except (AuditError, SourceError, SelectionError, ConfigError) as exc:
        _fail(str(exc))
    _report(groups, show_ignored, output, verbose, quiet, (baseline, write_baseline), details, also)


def _everything_audited(paths: list[str], groups) -> None:
    """AuditError naming each directory that gave nothing to audit: no policy file under it, or none that
    is an IAM policy (a Terraform module or template that defines none)."""
    from auditor.sources.file import STDIN

    audited = (s for targets, _, _ in groups for t in targets
               for s in (*t.sources, *((t.defined_at.source,) if t.defined_at is not None else ())))
    sources = {os.path.abspath(s.partition("#")[0]) for s in audited if not s.startswith("<")}
    idle = []
    for path in dict.fromkeys(paths):
        if path == STDIN:
            continue
        full = os.path.abspath(path)  # a file named is always reported (an invalid finding when it defines no policy)
        if os.path.isdir(path) and not any(s == full or s.startswith(full.rstrip(os.sep) + os.sep) for s in sources):
            idle.append(f"{path} (a directory with no IAM policy in it)")
    if idle:
        raise AuditError(f"nothing to audit in {', '.join(idle)}: name the files or directories that hold the policies "
                         "(--skip-non-policies, the hook's mode, skips such paths quietly)")


def _options_after_dashes(ctx: typer.Context, paths: list[str]) -> dict | None:
    """The pre-commit hook's entry ends its options with `--`, so that no file name is read as an option
    (a committed file named `--output=package.json` would otherwise overwrite package.json). pre-commit
    puts the hook's `args` after the entry, before the file names: the leading paths that start with "-",
    are no existing file and parse as options of this command are those args. Returns the command's
    parameters with them applied (a later single-valued option wins, a repeatable one adds), or None when
    there are none. A path that exists is always a path."""
    from typer.core import TyperOption

    options: dict[str, TyperOption] = {}
    for declared in ctx.command.params:
        if isinstance(declared, TyperOption):
            options.update(dict.fromkeys((*declared.opts, *declared.secondary_opts), declared))
    taken = 0
    while taken < len(paths):
        token = paths[taken]
        if token == "-" or not token.startswith("-") or os.path.lexists(token):
            break
        name, eq, _ = token.partition("=")
        param = options.get(name)
        if param is None:
            _fail(f"{token!r} after `--` is neither an option of `file` nor an existing file")
        taken += 1 if eq or param.is_flag or param.count else 2
    if taken == 0:
        return None
    try:
        late = ctx.command.make_context(ctx.info_name, paths[:taken], parent=ctx.parent)
    except typer.TyperException as exc:
        _fail(f"the options after `--` ({' '.join(paths[:taken])}): {exc.format_message()}")
    params = dict(ctx.params)
    for name, value in late.params.items():
        source = late.get_parameter_source(name)
        if source is None or source.name != "COMMANDLINE":
            continue
        multiple = next(p.multiple for p in ctx.command.params if p.name == name)
        params[name] = [*(params[name] or []), *value] if multiple and params[name] else value
    params["paths"] = paths[taken:]
    return params


def _terraform_variables(values: list[str], files: list[str]):
    """--var and --var-file for Terraform files (None when neither is given). A --var-file is read through
    the repository-confined reader (the repository of the working directory: the nearest directory with
    .git, else the working directory), capped like a .tf file."""
    if not values and not files:
        return None
    from auditor.sources.confined import Confined, repository_root
    from auditor.sources.file import SourceError
    from auditor.sources.tf_load import MAX_TF_BYTES, cli_variables, read_text
    from auditor.sources.tf_values import HclError

    confined = Confined(repository_root(os.getcwd()) or os.getcwd())
    texts = []
    for path in files:
        try:
            raw = confined.read(path, MAX_TF_BYTES, path)
            if len(raw) > MAX_TF_BYTES:
                raise AuditError(f"--var-file {path}: larger than {MAX_TF_BYTES // 1024} KiB")
            texts.append((path, read_text(raw, path)))
        except SourceError as exc:
            raise AuditError(f"--var-file {exc}") from exc
    try:
        return cli_variables(values, texts)
    except (HclError, ValueError) as exc:
        raise AuditError(str(exc) if isinstance(exc, ValueError) else f"--var-file: {exc}") from exc


def _walk_roots(paths, walked) -> dict[str, str]:
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


def _file_groups(paths, config_path: str | None, project_path: str | None, cli: dict, skip_non_policies: bool,
                 named, managed, extra=(), parameters=None, variables=None):
    """The files (directories searched) grouped by the config file they answer to (the nearest above
    each, or --config), each group with its options and its targets as the readers build them (a file,
    a principal of infrastructure code, a config policy set), or one target for all with --combine
    (which also holds the AWS managed policies of --aws-managed); `parameters` are CloudFormation
    parameter values (--parameter, --parameter-file). Files found in directories that are
    not policies are skipped, as with --skip-non-policies."""
    from auditor import scopes
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
        _say(line)
    for directory in empty:
        _say(f"no policy files under {directory}")
    check_run_size(files)
    roots = _walk_roots(paths, walked)
    by_config = scopes.for_sources(files, config_path, RULE_IDS, STDIN, ALWAYS_ON)
    configs = [cfg for cfg, _ in by_config]
    run = dict(cli)
    for key, name in scopes.RUN_LEVEL.items():
        run[name] = scopes.run_level(configs, key, cli[name])
    if run["combine"] and len(configs) > 1:
        raise AuditError("--combine audits one policy set, but its files answer to different config files ("
                         + ", ".join(c.file or "none" for c in configs) + "): pass --config")
    cat, project = _catalogue(), _project(project_path)
    groups = []
    read_so_far: list = []  # what each read of the files found (auditor.sources.targets.Loaded)
    selections: list = []  # the config files' deploy-principals
    for cfg, members in by_config:
        opts = _resolve_with(cfg, cat, project, **run)

        chosen = named if named is not None else selection.configured(cfg)
        if chosen is not None and named is None:
            selections.append(chosen)

        def read(chunk, skip, opts=opts, chosen=chosen):
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
        targets = scopes.policy_sets(targets, cfg, lambda chunk, read=read: read(chunk, skip_non_policies))
        if opts.combine and (targets or extra):
            targets = [scopes.combined(targets, extra)]
        if targets:
            groups.append((targets, scopes.prefix_names(targets), opts))
    check_named(named, read_so_far)
    passed = passed_over(read_so_far, selections)  # principals found, none audited: which, and why
    for line in passed:
        _say(line)
    if not passed and not groups and walked:
        _say(f"no IAM policies among the {len(walked)} file{'s' if len(walked) != 1 else ''} found")
    return groups


def _names(policies) -> list[str]:
    from auditor.prefix import prefix_names

    return prefix_names(dict.fromkeys(policies))


def _from_details(path: str, kind: str | None, name: str | None):
    """The principal `kind name` from a saved get-account-authorization-details file, or (kind None) its
    managed policies by ARN."""
    from auditor.model import decode_text
    from auditor.sources.aws import MAX_AUTH_DETAILS_BYTES, AwsError, from_auth_details, managed_policies
    from auditor.sources.file import SourceError, read_bytes

    try:
        raw = read_bytes(path, MAX_AUTH_DETAILS_BYTES)
    except SourceError as exc:
        raise AuditError(str(exc)) from exc
    if len(raw) > MAX_AUTH_DETAILS_BYTES:
        raise AuditError(f"{path}: larger than {MAX_AUTH_DETAILS_BYTES // (1024 * 1024)} MiB; refused (an authorization-"
                         "details file that large is not read whole)")
    text, error = decode_text(raw)
    if text is None:
        raise AuditError(f"{path}: {error}")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise AuditError(f"{path}: not JSON ({exc})") from exc
    except RecursionError as exc:
        raise AuditError(f"{path}: not JSON (nesting too deep)") from exc
    try:
        if kind is None or name is None:
            return managed_policies(data, path)
        return from_auth_details(data, kind, name, path)
    except AwsError as exc:
        raise AuditError(str(exc)) from exc


@app.command("live")
def live_command(
    group: GroupOpt = None,
    user: UserOpt = None,
    role: RoleOpt = None,
    profile: Annotated[str | None, typer.Option("--profile", help="AWS profile (default: AWS_PROFILE or the default chain).")] = None,
    endpoint_url: Annotated[str | None, typer.Option(
        "--endpoint-url", help="IAM endpoint (default: AWS_ENDPOINT_URL or AWS's).")] = None,
    prefix: PrefixOpt = None,
    env: EnvOpt = None,
    jets_version: VersionOpt = None,
    feature: FeatureOpt = None,
    region: RegionOpt = None,
    account: AccountOpt = None,
    fmt: FormatOpt = None,
    fail_on: FailOnOpt = None,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help=(
        "Seconds each AWS request may take in all (connect, send, every read); the whole read may take 15 times that."))] = 20.0,
    config: ConfigOpt = None,
    project: ProjectOpt = None,
    show_ignored: ShowIgnoredOpt = False,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
    baseline: BaselineOpt = None,
    write_baseline: WriteBaselineOpt = None,
    details: DetailsOpt = "failing",
    output: OutputOpt = None,
    also_write: AlsoWriteOpt = None,
    parliament: ParliamentOpt = None,
    include_community_auditors: CommunityOpt = None,
    private_auditors: PrivateAuditorsOpt = None,
    parliament_config: ParliamentConfigOpt = None,
) -> None:
    """Audit an IAM group, user or role read live from AWS (read-only IAM calls)."""
    from auditor import progress
    from auditor.report import Target
    from auditor.sources.aws import AwsError, fetch_live
    from auditor.text import safe

    try:
        kind, name = _principal(group, user, role)
        also = _also(also_write)
        opts = _resolve(config, prefix=prefix, env=env, jets_version=jets_version, feature=feature, region=region,
                        account=account, fmt=fmt, fail_on=fail_on, combine=None, project_path=project,
                        parliament=(parliament, include_community_auditors, private_auditors, parliament_config))
        with progress.bar(safe(f"reading {kind} {name} from IAM"), None, progress.wanted(quiet, False)):
            principal = fetch_live(kind, name, profile=profile, region=region, endpoint_url=endpoint_url, timeout=timeout)
    except (AuditError, AwsError) as exc:
        _fail(str(exc))
    target = Target(principal.kind, principal.name, principal.policies, principal.boundary)
    _report([([target], _names(principal.policies), opts)], show_ignored, output, verbose, quiet, (baseline, write_baseline),
            details, also)


@app.command("generate")
def generate_command(
    prefix: PrefixOpt = None,
    env: EnvOpt = None,
    jets_version: VersionOpt = None,
    feature: FeatureOpt = None,
    region: RegionOpt = None,
    account: AccountOpt = None,
    from_file: Annotated[str | None, typer.Option(
        "--from", help="Repair this policy instead of writing a new one; shows the change as a diff.")] = None,
    write: Annotated[bool, typer.Option("--write", help="With --from: update that file in place.")] = False,
    fmt: Annotated[GenerateFormat, typer.Option(
        "--format", help="json (a policy document), terraform or cloudformation (the deploy group, user or role, per "
                         "--attach, with the policy attached: aws_iam_policy_document + aws_iam_policy, or a template "
                         "with an AWS::IAM::ManagedPolicy).")] = "json",
    attach: Annotated[Attach, typer.Option(
        "--attach", help="Where the policy goes; sets IAM's size quota (6,144 / 5,120 / 2,048 / 10,240 characters).")] = "managed",
    minimize: Annotated[bool, typer.Option(
        "--minimize", help="Shorten action lists with prefix wildcards that grant nothing more "
                           "(policyuniverse, checked against current AWS data).")] = False,
    output_dir: Annotated[str | None, typer.Option(
        "--output-dir", help="Write one file per policy document into this directory (created if needed).")] = None,
    config: ConfigOpt = None,
    project: ProjectOpt = None,
    output: OutputOpt = None,
) -> None:
    """Write the least-privilege policy for these options (JSON; split when it exceeds IAM's quota),
    or repair an existing one with --from."""
    from auditor import generate

    try:
        search = os.path.dirname(os.path.abspath(from_file)) if from_file and from_file != "-" else None  # the config follows the file it repairs
        opts = _resolve(config, prefix=prefix, env=env, jets_version=jets_version, feature=feature, region=region,
                        account=account, fmt=None, fail_on=None, combine=None, project_path=project, search_from=search)
        if write and not from_file:
            raise AuditError("--write needs --from FILE")
        if write and from_file == "-":
            raise AuditError("--write needs a file: --from - reads standard input (use --output FILE)")
        if from_file and fmt != "json":
            raise AuditError("--from repairs a JSON policy; --format terraform/cloudformation writes a new one")
        if output_dir is not None and (from_file or output):
            raise AuditError("--output-dir writes the generated documents: not with --from or --output")
        if output_dir is not None and fmt != "json":
            raise AuditError("--output-dir writes JSON documents; --format terraform/cloudformation writes one file")
        if from_file:
            _repair(from_file, opts, write, output)
            return
        if not opts.prefix:
            raise AuditError("generate needs the project name: --prefix NAME, --project PATH or prefix in the config file")
    except AuditError as exc:
        _fail(str(exc))
    try:
        built = generate.build(opts.catalogue, opts.jets_version, opts.features, opts.prefix, opts.envs,
                               opts.region, opts.account, attach=attach, minimize=minimize)
    except generate.GenerateError as exc:
        _fail(str(exc))
    from auditor.escalation import what_remains

    remains = what_remains(opts.catalogue, opts.jets_version, opts.features, opts.prefix, opts.envs, opts.region, opts.account)
    docs, notice = built.docs, built.notice
    if output_dir is not None:
        from auditor.atomic import WriteError

        try:
            written = generate.write_documents(docs, output_dir, opts.prefix)
        except WriteError as exc:
            _fail(str(exc))
        _say(f"wrote {len(written)} polic{'y' if len(written) == 1 else 'ies'}: {', '.join(written)}")
        if remains:
            _say(remains)
        if len(written) > 1:
            _say("they are one policy set (attach them all to the deploy principal): audit them together with "
                 "--combine, or declare them in the config file:")
            _say('[[tool.jets-iam-audit.policy-set]]')
            _say(f'files = ["{generate.set_glob(output_dir, opts.prefix)}"]')
        return
    if fmt != "json":
        from auditor import generate_iac

        writer = generate_iac.to_terraform if fmt == "terraform" else generate_iac.to_cloudformation
        text = writer(docs, opts.prefix, attach)
        shape = f"written as {len(docs)} managed policies, all attached to the deploy {generate_iac.KINDS[attach]} it defines"
    else:
        text = json.dumps(docs[0] if len(docs) == 1 else docs, indent=2) + "\n"
        shape = f"written as a JSON array of {len(docs)} documents; create one managed policy from each"
    if len(docs) > 1:
        notice = f"{notice}: {shape}" + ("" if minimize else " (or try --minimize)")
    try:
        _emit(text, output)
    except AuditError as exc:
        _fail(str(exc))
    if notice:
        _say(notice)
    if remains:
        _say(remains)


def _repair(path: str, opts: Resolved, write: bool, output: str | None) -> None:
    from auditor.repair_file import RepairError, repair_file

    try:
        fixed = repair_file(path, opts.catalogue, prefix=opts.prefix, envs=opts.envs, envs_given=opts.env_source != "default",
                            version=opts.jets_version, features=opts.features, region=opts.region, account=opts.account,
                            say=_say)
    except RepairError as exc:
        raise AuditError(str(exc)) from exc
    if output:
        _emit(fixed.after, output)
    if write and fixed.change:
        from auditor.atomic import WriteError, replace_file

        try:
            replace_file(path, fixed.after)
        except WriteError as exc:
            raise AuditError(str(exc)) from exc
    if fixed.change:
        from auditor.text import safe_lines

        sys.stdout.write(safe_lines(fixed.change))
        _say(f"{'updated' if write else 'would change'} {path}" + ("" if write else " (use --write to apply)"))
    else:
        _say(f"{path}: nothing to change")


@app.command("catalogue")
def catalogue_command(
    prefix: PrefixOpt = None,
    env: EnvOpt = None,
    jets_version: VersionOpt = None,
    feature: FeatureOpt = None,
    region: RegionOpt = None,
    account: AccountOpt = None,
    fmt: Annotated[CatalogueFormat, typer.Option("--format", help="Output format.")] = "table",
    config: ConfigOpt = None,
    project: ProjectOpt = None,
    output: OutputOpt = None,
) -> None:
    """What Jets needs for these options, per feature, with the reason and the evidence."""
    from auditor import catalogue_rows

    try:
        opts = _resolve(config, prefix=prefix, env=env, jets_version=jets_version, feature=feature, region=region,
                        account=account, fmt=fmt, fail_on=None, combine=None, project_path=project)
    except AuditError as exc:
        _fail(str(exc))
    text = catalogue_rows.render(opts.catalogue, fmt, version=opts.jets_version, version_from=opts.jets_version_from,
                                 version_note=opts.jets_version_note, features=opts.features, prefix=opts.prefix,
                                 envs=opts.envs, region=opts.region, account=opts.account,
                                 envs_chosen=opts.env_source != "default", color=_color(output), width=_width())
    try:
        _emit(text, output)
    except AuditError as exc:
        _fail(str(exc))


@app.command("rules")
def rules_command() -> None:
    """List every check: rule id, category, default severity."""
    from auditor.checks import CHECKS

    for module in CHECKS:
        summary = (module.__doc__ or "").strip().splitlines()[0]
        typer.echo(f"{module.RULE_ID:<22} {module.CATEGORY:<18} {module.SEVERITY:<8} {summary.split(': ', 1)[-1]}")


@app.command("explain")
def explain_command(rule_id: Annotated[str, typer.Argument(help="A rule id from `jets-iam-audit rules`.")]) -> None:
    """Print one check's documentation."""
    from auditor.checks import CHECKS, by_id

    module = by_id(rule_id)
    if module is None:
        from auditor.text import did_you_mean

        known = [m.RULE_ID for m in CHECKS]
        _fail(f"unknown rule {rule_id!r}{did_you_mean(rule_id, known)} (known rules: {', '.join(known)})")
    typer.echo(f"{module.RULE_ID} (category {module.CATEGORY}, default severity {module.SEVERITY})\n")
    typer.echo((module.__doc__ or "").strip())


def _say(message: str) -> None:
    """One line on stderr, neutralised: it may name files and policy text, and it may start with them
    (auditor.text.inert_line: never a CI workflow command)."""
    from auditor.text import inert_line, safe

    typer.echo(inert_line(safe(message)), err=True)


def _fail(message: str) -> NoReturn:
    from auditor.text import safe

    typer.echo(f"jets-iam-audit: error: {safe(message)}", err=True)
    raise typer.Exit(EXIT_USAGE)


def main() -> None:
    if sys.stdout is None:  # its descriptor was closed before the run: a write then says so (auditor.failures)
        from auditor.failures import ClosedStream

        sys.stdout = ClosedStream()
    for stream in (sys.stdout, sys.stderr):  # a character the terminal's encoding lacks is shown escaped, not a crash
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    from auditor.failures import Stdout

    sys.stdout = Stdout(sys.stdout)  # a broken pipe: its own message, exit 2
    # a run allocates millions of short-lived tuples and few cycles: the cyclic collector's youngest
    # generation is swept every 20,000 allocations rather than 700 (1% of a corpus run)
    gc.set_threshold(20_000, 10, 10)
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        sys.stderr.write("jets-iam-audit: interrupted\n")
        sys.exit(130)
    except typer.TyperException as exc:  # a usage error: its text may repeat what was typed, so it is neutralised
        from auditor.text import safe

        if type(exc).__name__ != "NoArgsIsHelpError":  # that one's message is the help text, ours
            exc.message = safe(exc.message)
        exc.show()  # type: ignore[attr-defined]  # typer declares show() on its click exceptions, not on TyperException
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("jets-iam-audit: interrupted\n")
        sys.exit(130)
    except Exception as exc:  # a full disk, a closed stdout, ... (auditor.failures), else a bug: one line, exit 2
        from auditor.failures import describe
        from auditor.text import safe

        message = describe(exc)
        _stop(f"jets-iam-audit: error: {safe(message)}" if message else
              f"jets-iam-audit: internal error: {type(exc).__name__}: {safe(exc)}")
    _leave(code if isinstance(code, int) else 0)


def _stop(line: str) -> NoReturn:
    """Exit 2 with one line on stderr, at once: standard output may be a broken pipe, whose flush at the
    interpreter's exit would print a traceback of its own."""
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    os._exit(EXIT_USAGE)


def _leave(code: int) -> NoReturn:
    """The end of a run that went as planned: the streams flushed, then out without tearing the
    interpreter down object by object (the memo tables and the AWS data go with the process; that
    teardown was 2.5% of a corpus run). Nothing of ours runs at exit: files we write are closed by
    then, temporary spools are unnamed."""
    try:
        sys.stdout.flush()
    except Exception as exc:  # the reader left (a broken pipe), the disk is full: the report is incomplete
        from auditor.failures import describe

        _stop(f"jets-iam-audit: error: {describe(exc) or exc}")
    with contextlib.suppress(OSError):
        sys.stderr.flush()
    os._exit(code)
