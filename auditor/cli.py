"""The command line: typer's options turned into one options value (auditor/options.py), run by the
application (auditor/application.py), whose exit code ends the process.

Exit codes: 0 no finding at or above --fail-on; 1 findings; 2 the audit could not run.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Annotated, NoReturn

import typer

from auditor import __version__
from auditor.choices import Attach, CatalogueFormat, Details, Format, GenerateFormat, Severity
from auditor.options import (
    AuditError,
    CatalogueOptions,
    DeployOptions,
    FileOptions,
    GenerateOptions,
    LiveOptions,
    ParliamentOptions,
    Principal,
    ReportOptions,
)

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
FULL_EXIT = "JETS_IAM_AUDIT_FULL_EXIT"  # set (not empty): leave through the interpreter's own exit (see _leave)


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


# --- options: what each does, in its command's words -------------------------------------------------

def _prefix(what: str, default: str) -> object:
    return typer.Option("--prefix", show_default=default, help=f"The Jets project name (the docs' MY_PREFIX) {what}.")


AuditPrefix = Annotated[str | None, _prefix(
    "the resources are named by", "the config file's, else --project's, else inferred from the policy's ARNs")]
GeneratePrefix = Annotated[str | None, _prefix(
    "the policy's resources are named by; needed, unless the config file or --project gives it",
    "the config file's, else --project's; with --from, inferred from the policy's ARNs")]
CataloguePrefix = Annotated[str | None, _prefix(
    "the resources are shown for", "the config file's, else --project's, else none: they read <project>-<env>-*")]


def _env(what: str, more: str = "") -> object:
    return typer.Option("--env", show_default="the config file's, else dev",
                        help=f"A Jets env {what} (repeatable): dev, prod, stag or any custom name{more}.")


AuditEnv = Annotated[list[str] | None, _env("the policy must deploy")]
GenerateEnv = Annotated[list[str] | None, _env("the policy grants", "; with --from, those its ARNs name when none is given")]
CatalogueEnv = Annotated[list[str] | None, _env("the resources are shown for")]
VersionOpt = Annotated[str | None, typer.Option(
    "--jets-version", show_default="the config file's, else --project's Gemfile.lock, else 5",
    help="The Jets release (5.0.14) or line (5: every release of it).")]


def _feature(what: str) -> object:
    return typer.Option("--feature", show_default="the config file's, plus --project's",
                        help=f"A feature {what} (repeatable, or 'all'). The release's defaults are always "
                                          "on: core and prewarm, and public-assets for Jets 3-5 (with --project, only "
                                          "when the app has files in public/).")


AuditFeature = Annotated[list[str] | None, _feature("to audit")]
GenerateFeature = Annotated[list[str] | None, _feature("the policy grants")]
CatalogueFeature = Annotated[list[str] | None, _feature("to show")]
AuditRegion = Annotated[str | None, typer.Option(
    "--region", show_default="the config file's, else any",
    help="The AWS Region Jets deploys to; ARNs for other Regions then do not count.")]
AuditAccount = Annotated[str | None, typer.Option(
    "--account", show_default="the config file's, else any",
    help="The AWS account id Jets deploys to; ARNs for other accounts then do not count.")]
GenerateRegion = Annotated[str | None, typer.Option(
    "--region", show_default="the config file's, else any: *",
    help="The AWS Region Jets deploys to: the policy's ARNs name it.")]
GenerateAccount = Annotated[str | None, typer.Option(
    "--account", show_default="the config file's, else any: *",
    help="The AWS account id Jets deploys to: the policy's ARNs name it.")]
CatalogueRegion = Annotated[str | None, typer.Option(
    "--region", show_default="the config file's, else any: *",
    help="The AWS Region Jets deploys to: the resources are shown in it.")]
CatalogueAccount = Annotated[str | None, typer.Option(
    "--account", show_default="the config file's, else any: *",
    help="The AWS account id Jets deploys to: the resources are shown in it.")]
ProjectOpt = Annotated[str | None, typer.Option(
    "--project", help="A Jets app directory: take the project name, the Jets release (Gemfile.lock) and the features it "
                      "uses from it.")]
FileConfig = Annotated[str | None, typer.Option(
    "--config", show_default="the nearest one above each file",
    help="The config file (.jets-iam-audit.toml or pyproject.toml) for every file audited.")]
LiveConfig = Annotated[str | None, typer.Option(
    "--config", show_default="the nearest one above the working directory",
    help="The config file (.jets-iam-audit.toml or pyproject.toml).")]
GenerateConfig = Annotated[str | None, typer.Option(
    "--config", show_default="the nearest one above the --from file, else above the working directory",
    help="The config file (.jets-iam-audit.toml or pyproject.toml) whose options (prefix, env, ...) apply.")]
CatalogueConfig = Annotated[str | None, typer.Option(
    "--config", show_default="the nearest one above the working directory",
    help="The config file (.jets-iam-audit.toml or pyproject.toml) whose options (prefix, env, ...) apply.")]

# the report of an audit (file, live)
FormatOpt = Annotated[Format | None, typer.Option(
    "--format", show_default="the config file's, else table", help="The report's format.")]
FailOnOpt = Annotated[Severity | None, typer.Option(
    "--fail-on", show_default="the config file's, else low", help="Exit 1 when a finding is at or above this severity.")]
ReportOutput = Annotated[str | None, typer.Option(
    "--output", "-o", show_default="standard output", help="Write the report to this file (whole, or not at all).")]
ShowIgnoredOpt = Annotated[bool, typer.Option(
    "--show-ignored", help="Also show the findings the config file's ignores leave out, with their reasons.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Say on stderr what was read and how long it took.")]
QuietOpt = Annotated[bool, typer.Option(
    "--quiet", "-q", help="Print only the summary line (stderr); --output still gets the report.")]
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
LiveDetailsOpt = Annotated[Details, typer.Option(
    "--details", help="Table of several targets only (as for file): a live run audits one principal, which the table "
                      "always shows in full.")]
ParliamentOpt = Annotated[bool | None, typer.Option(
    "--parliament", show_default="the --config file's, else off",
    help="Also run parliament on every policy document; its findings join the report "
         "(pip install 'jets-iam-audit[parliament]').")]
CommunityOpt = Annotated[bool | None, typer.Option(
    "--include-community-auditors", show_default="the --config file's, else off",
    help="With --parliament: its community auditors too.")]
PrivateAuditorsOpt = Annotated[str | None, typer.Option(
    "--private-auditors", show_default="the --config file's, else none",
    help="With --parliament: a directory of parliament private auditors.")]
ParliamentConfigOpt = Annotated[str | None, typer.Option(
    "--parliament-config", show_default="the --config file's, else none",
    help="With --parliament: parliament's YAML config (severities, ignore_locations).")]
LiveGroup = Annotated[str | None, typer.Option("--group", help="The IAM group to audit, by name.")]
LiveUser = Annotated[str | None, typer.Option("--user", help="The IAM user to audit, by name (its own and its groups' policies).")]
LiveRole = Annotated[str | None, typer.Option("--role", help="The IAM role to audit, by name.")]


def _named(kind: str, more: str = "") -> object:
    return typer.Option(f"--{kind}", help=f"The IAM {kind} to audit{more}: with --auth-details alone, the one of that name "
                                          f"in the file; in Terraform or CloudFormation files, the one they define by that "
                                          "IAM name, address or logical id.")


FileGroup = Annotated[str | None, _named("group")]
FileUser = Annotated[str | None, _named("user", " (its own and its groups' policies)")]
FileRole = Annotated[str | None, _named("role")]


# --- commands -------------------------------------------------------------------------------------------

@app.command("file")
def file_command(
    ctx: typer.Context,
    paths: Annotated[list[str] | None, typer.Argument(
        help="Policy JSON files, Terraform .tf files or plan JSON, CloudFormation/SAM/CDK templates, or directories of "
             "them (searched recursively); '-' reads standard input.")] = None,
    prefix: AuditPrefix = None,
    env: AuditEnv = None,
    jets_version: VersionOpt = None,
    feature: AuditFeature = None,
    region: AuditRegion = None,
    account: AuditAccount = None,
    fmt: FormatOpt = None,
    fail_on: FailOnOpt = None,
    combine: Annotated[bool | None, typer.Option(
        "--combine", show_default="the config file's, else off",
        help="Audit all files as one principal's policy set (a group's inline and attached policies).")] = None,
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
    group: FileGroup = None,
    user: FileUser = None,
    role: FileRole = None,
    deploy_principal: Annotated[list[str] | None, typer.Option(
        "--deploy-principal", show_default="the config file's deploy-principals, else those that look like a Jets deployer",
        help="The deploy principal in Terraform or CloudFormation files, of any kind: its IAM name, address "
             "(aws_iam_role.deployer, or deployer) or logical id (repeatable); only those are audited.")] = None,
    var: Annotated[list[str] | None, typer.Option(
        "--var", help="A Terraform variable's value, NAME=VALUE (repeatable), as terraform's -var: it wins over "
                      "terraform.tfvars, *.auto.tfvars and --var-file.")] = None,
    var_file: Annotated[list[str] | None, typer.Option(
        "--var-file", help="A Terraform variables file (.tfvars or .tfvars.json; repeatable, a later one wins), as "
                           "terraform's -var-file; read only inside the repository.")] = None,
    config: FileConfig = None,
    project: ProjectOpt = None,
    show_ignored: ShowIgnoredOpt = False,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
    baseline: BaselineOpt = None,
    write_baseline: WriteBaselineOpt = None,
    details: DetailsOpt = "failing",
    output: ReportOutput = None,
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
    options = FileOptions(
        tuple(paths or ()),
        DeployOptions(prefix, tuple(env or ()), jets_version, tuple(feature or ()), region, account, config, project),
        ReportOptions(fmt, fail_on, output, tuple(also_write or ()), details, quiet, verbose, show_ignored, baseline,
                      write_baseline),
        ParliamentOptions(parliament, include_community_auditors, private_auditors, parliament_config),
        combine=combine, parameters=tuple(parameter or ()), parameter_files=tuple(parameter_file or ()),
        skip_non_policies=skip_non_policies, auth_details=auth_details, aws_managed=tuple(aws_managed or ()),
        principal=Principal(group, user, role), deploy_principals=tuple(deploy_principal or ()),
        variables=tuple(var or ()), variable_files=tuple(var_file or ()))
    from auditor import application

    _run(application.audit_files, options)


@app.command("live")
def live_command(
    group: LiveGroup = None,
    user: LiveUser = None,
    role: LiveRole = None,
    profile: Annotated[str | None, typer.Option(
        "--profile", show_default="AWS_PROFILE, else the default chain", help="The AWS profile to read IAM with.")] = None,
    endpoint_url: Annotated[str | None, typer.Option(
        "--endpoint-url", show_default="AWS_ENDPOINT_URL, else AWS's", help="The IAM endpoint to read from.")] = None,
    prefix: AuditPrefix = None,
    env: AuditEnv = None,
    jets_version: VersionOpt = None,
    feature: AuditFeature = None,
    region: AuditRegion = None,
    account: AuditAccount = None,
    fmt: FormatOpt = None,
    fail_on: FailOnOpt = None,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help=(
        "Seconds each AWS request may take in all (connect, send, every read); the whole read may take 15 times that."))] = 20.0,
    config: LiveConfig = None,
    project: ProjectOpt = None,
    show_ignored: ShowIgnoredOpt = False,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
    baseline: BaselineOpt = None,
    write_baseline: WriteBaselineOpt = None,
    details: LiveDetailsOpt = "failing",
    output: ReportOutput = None,
    also_write: AlsoWriteOpt = None,
    parliament: ParliamentOpt = None,
    include_community_auditors: CommunityOpt = None,
    private_auditors: PrivateAuditorsOpt = None,
    parliament_config: ParliamentConfigOpt = None,
) -> None:
    """Audit an IAM group, user or role read live from AWS (read-only IAM calls)."""
    options = LiveOptions(
        Principal(group, user, role),
        DeployOptions(prefix, tuple(env or ()), jets_version, tuple(feature or ()), region, account, config, project),
        ReportOptions(fmt, fail_on, output, tuple(also_write or ()), details, quiet, verbose, show_ignored, baseline,
                      write_baseline),
        ParliamentOptions(parliament, include_community_auditors, private_auditors, parliament_config),
        profile=profile, endpoint_url=endpoint_url, timeout=timeout)
    from auditor import application

    _run(application.audit_live, options)


@app.command("generate")
def generate_command(
    prefix: GeneratePrefix = None,
    env: GenerateEnv = None,
    jets_version: VersionOpt = None,
    feature: GenerateFeature = None,
    region: GenerateRegion = None,
    account: GenerateAccount = None,
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
    config: GenerateConfig = None,
    project: ProjectOpt = None,
    output: Annotated[str | None, typer.Option(
        "--output", "-o", show_default="standard output",
        help="Write the policy (with --from: the repaired policy; the diff still goes to standard output) to this "
             "file, whole or not at all.")] = None,
) -> None:
    """Write the least-privilege policy for these options (JSON; split when it exceeds IAM's quota),
    or repair an existing one with --from."""
    options = GenerateOptions(
        DeployOptions(prefix, tuple(env or ()), jets_version, tuple(feature or ()), region, account, config, project),
        fmt, attach, minimize, from_file, write, output_dir, output)
    from auditor import application

    _run(application.write_policy, options)


@app.command("catalogue")
def catalogue_command(
    prefix: CataloguePrefix = None,
    env: CatalogueEnv = None,
    jets_version: VersionOpt = None,
    feature: CatalogueFeature = None,
    region: CatalogueRegion = None,
    account: CatalogueAccount = None,
    fmt: Annotated[CatalogueFormat, typer.Option(
        "--format", help="table (one per feature) or json (a document of the requirements).")] = "table",
    config: CatalogueConfig = None,
    project: ProjectOpt = None,
    output: Annotated[str | None, typer.Option(
        "--output", "-o", show_default="standard output", help="Write the catalogue to this file, whole or not at all.")] = None,
) -> None:
    """What Jets needs for these options, per feature, with the reason and the evidence."""
    options = CatalogueOptions(
        DeployOptions(prefix, tuple(env or ()), jets_version, tuple(feature or ()), region, account, config, project),
        fmt, output)
    from auditor import application

    _run(application.show_catalogue, options)


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


def _run(command, options) -> NoReturn:
    """Run a command's options value through the application; its exit code (an AuditError: one line, exit 2)."""
    try:
        code = command(options)
    except AuditError as exc:
        _fail(str(exc))
    raise typer.Exit(code)


def _fail(message: str) -> NoReturn:
    from auditor.text import safe

    typer.echo(f"jets-iam-audit: error: {safe(message)}", err=True)
    raise typer.Exit(EXIT_USAGE)


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


def main() -> None:
    if sys.stdout is None:  # its descriptor was closed before the run: a write then says so (auditor.failures)
        from auditor.failures import ClosedStream

        sys.stdout = ClosedStream()
    for stream in (sys.stdout, sys.stderr):  # a character the terminal's encoding lacks is shown escaped, not a crash
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    from auditor.failures import Stdout

    sys.stdout = Stdout(sys.stdout)  # a broken pipe: its own message, exit 2
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
    """The end of a run that went as planned: the streams flushed, then out at once (os._exit), without
    tearing the interpreter down object by object: the AWS data, the catalogue and the caches go with the
    process (that teardown is 3% of a one-file run's instructions, about 5% of a corpus run's time).
    Nothing of ours runs at exit: the files we write are closed by then, temporary spools are unnamed.
    JETS_IAM_AUDIT_FULL_EXIT (set, not empty) leaves through the interpreter's own exit instead, where
    atexit handlers run (a profiler, a coverage tool)."""
    try:
        sys.stdout.flush()
    except Exception as exc:  # the reader left (a broken pipe), the disk is full: the report is incomplete
        from auditor.failures import describe

        _stop(f"jets-iam-audit: error: {describe(exc) or exc}")
    with contextlib.suppress(OSError):
        sys.stderr.flush()
    if os.environ.get(FULL_EXIT):
        sys.exit(code)
    os._exit(code)
