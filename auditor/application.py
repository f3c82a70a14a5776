"""The commands, run from their options value (auditor/options.py): each returns the exit code, or
raises AuditError (one line, exit 2) when it cannot run.

An audit (`file`, `live`) goes discover -> read -> plan -> audit -> filter -> write: the paths are
searched and grouped by the config file each answers to (auditor/scopes.py), read into targets by the
readers (auditor/sources/), each group's settings are worked out (auditor/options.py), and the run is
streamed target by target (auditor/streaming.py): the engine audits a target, the filters
(auditor/filters.py) take out what the second opinion, the config and a baseline say, and the
reporters write its share of the report. `generate` writes the least-privilege policy (or repairs one),
`catalogue` what Jets needs.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from typing import TextIO

from auditor import reporters
from auditor.console import color, say, width
from auditor.options import (
    AuditError,
    CatalogueOptions,
    FileOptions,
    GenerateOptions,
    LiveOptions,
    ReportOptions,
    Resolved,
    RunLevel,
    also_write,
    resolve,
    settings_for,
)
from auditor.report import Target
from auditor.text import safe

Group = tuple[list[Target], list[str], Resolved]  # the targets of one config file, their ARNs' project names, its options


def audit_files(options: FileOptions) -> int:
    """`file`: the policy files, Terraform and CloudFormation files given (directories searched), or a
    principal of a saved authorization-details file."""
    from auditor.config import ConfigError
    from auditor.sources.file import SourceError
    from auditor.sources.targets import SelectionError

    also = also_write(options.report.also_write)
    try:
        groups = _file_groups(options)
    except (SourceError, SelectionError, ConfigError) as exc:
        raise AuditError(str(exc)) from exc
    if not groups:
        return 0
    return _audit(groups, options.report, also)


def _file_groups(options: FileOptions) -> list[Group]:
    """What the files given hold, grouped by the config file they answer to (auditor/scopes.py)."""
    from dataclasses import replace

    named = options.principal.named() if options.principal.given else None
    deploy_principals = options.deploy_principals
    if deploy_principals and named is not None:
        raise AuditError("--deploy-principal and --group/--user/--role both name the deploy principal: give one of them")
    if any(not name for name in deploy_principals):
        raise AuditError("--deploy-principal needs a name")
    run = RunLevel(options.report.fmt, options.report.fail_on, options.combine)
    if options.auth_details is not None and not options.paths:
        if deploy_principals:
            raise AuditError("--deploy-principal selects principals in Terraform or CloudFormation files; with "
                             "--auth-details alone, name one with --group, --user or --role")
        if named is None:
            raise AuditError("name exactly one principal: --group NAME, --user NAME or --role NAME")
        if options.aws_managed:
            raise AuditError("--aws-managed goes with policy files")
        opts = resolve(options.deploy, run, options.parliament)
        principal = _from_details(options.auth_details, *named)
        target = Target(principal.kind, principal.name, principal.policies, principal.boundary)
        return [([target], _names(principal.policies), opts)]
    if not options.paths:
        raise AuditError("give one or more policy files ('-' for standard input)")
    managed = _from_details(options.auth_details, None, None) if options.auth_details is not None else None
    extra = []
    if options.aws_managed:
        from auditor.sources.file import read_policies

        extra = [replace(p, aws_managed=True) for p in read_policies(list(options.aws_managed))]
        run = replace(run, combine=True)
    from auditor import scopes
    from auditor.sources.cfn_parameters import ParameterError, parameters
    from auditor.sources.selection import from_command_line

    try:
        values = parameters(list(options.parameters), list(options.parameter_files))
    except ParameterError as exc:
        raise AuditError(str(exc)) from exc
    variables = _terraform_variables(list(options.variables), list(options.variable_files))
    paths = list(options.paths)
    groups = scopes.read_files(paths, options.deploy, run, options.parliament, options.skip_non_policies,
                               from_command_line(named, deploy_principals), managed, extra, values, variables)
    if not options.skip_non_policies:  # a gate pointed at a mistyped path must not pass; the hook's files may be no policies
        _everything_audited(paths, groups)
    return groups


def audit_live(options: LiveOptions) -> int:
    """`live`: a group, user or role read from AWS (read-only IAM calls)."""
    from auditor import progress
    from auditor.sources.aws import AwsError, fetch_live

    kind, name = options.principal.named()
    also = also_write(options.report.also_write)
    opts = resolve(options.deploy, RunLevel(options.report.fmt, options.report.fail_on), options.parliament)
    try:
        with progress.bar(safe(f"reading {kind} {name} from IAM"), None, progress.wanted(options.report.quiet, False)):
            principal = fetch_live(kind, name, profile=options.profile, region=options.deploy.region,
                                   endpoint_url=options.endpoint_url, timeout=options.timeout)
    except AwsError as exc:
        raise AuditError(str(exc)) from exc
    target = Target(principal.kind, principal.name, principal.policies, principal.boundary)
    return _audit([([target], _names(principal.policies), opts)], options.report, also)


# --- the audit: plan -> audit -> filter -> write ----------------------------------------------------

def _audit(groups: list[Group], asked: ReportOptions, also: Sequence[tuple[str, str]] = ()) -> int:
    """Run the audit, writing the report target by target (and in each `also` format to its file), and
    say the summary; the report's exit code. `groups`: the targets per config file; the first group's
    options are the run's."""
    from auditor import baseline, progress, streaming
    from auditor.scopes import Scope

    started = time.perf_counter()
    scopes = [Scope(settings_for(opts, names, asked.show_ignored), opts.config, tuple(targets))
              for targets, names, opts in groups]
    if asked.verbose:
        for scope in scopes:
            config = f"; config {scope.config.shown}" if scope.config.file else "; no config file"
            for t in scope.targets:
                _line(safe(f"{t.kind} {t.name}: {t.documents} polic{'y' if t.documents == 1 else 'ies'} "
                           f"({', '.join(t.sources)})" + (f"; boundary {', '.join(p.source for p in t.boundary)}"
                                                         if t.boundary else "") + config))
    opts = groups[0][2]
    output, quiet = asked.output, asked.quiet
    try:
        sieve = _sieve(asked.baseline, asked.write_baseline)
        with _destination(output) as out, contextlib.ExitStack() as extra:
            writer = (reporters.writer(opts.fmt, out, color=color(output), width=width(), details=asked.details)
                      if output or not quiet else reporters.Nothing())
            more = [reporters.writer(fmt, extra.enter_context(_destination(path)), width=width(), details=asked.details)
                    for fmt, path in also]
            if more:
                writer = reporters.Tee(writer, *more)
            count = sum(len(scope.targets) for scope in scopes)
            shown = output is None and not quiet
            enabled = progress.wanted(quiet, shown and sys.stdout.isatty()) and count >= progress.MANY_TARGETS
            with progress.bar("auditing", count, enabled) as advance:
                tail = streaming.stream(scopes, opts.catalogue, writer, opts.parliament, sieve, advance)
    except baseline.BaselineError as exc:
        raise AuditError(str(exc)) from exc
    if asked.write_baseline and tail.baseline is not None:
        count = tail.baseline.baselined
        say(f"wrote {count} finding{'' if count == 1 else 's'} to the baseline {asked.write_baseline}")
    if asked.verbose:
        from auditor import awsdata

        say(f"audited in {time.perf_counter() - started:.2f}s with {awsdata.data_version()}")
    _line(safe(tail.summary_line))
    return tail.exit_code


def _line(text: str) -> None:
    """A line on stderr as it is (the caller made it inert)."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _sieve(path: str | None, write: str | None):
    """--write-baseline records the run's findings (and then applies them: none is reported); --baseline
    leaves out what a baseline records. BaselineError when it cannot be read."""
    from auditor import __version__, baseline

    if write:
        return baseline.Recorder(write, __version__)
    if path:
        return baseline.Sieve(path, baseline.read(path))
    return None


@contextlib.contextmanager
def _destination(output: str | None) -> Iterator[TextIO]:
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


# --- reading ------------------------------------------------------------------------------------------

def _everything_audited(paths: list[str], groups: list[Group]) -> None:
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


# --- generate and catalogue -------------------------------------------------------------------------

def write_policy(options: GenerateOptions) -> int:
    """`generate`: the least-privilege policy for these options (split when it exceeds IAM's quota), or
    the repair of an existing one (--from)."""
    from auditor import generate

    from_file, fmt = options.from_file, options.fmt
    # the config follows the file it repairs
    search = os.path.dirname(os.path.abspath(from_file)) if from_file and from_file != "-" else None
    opts = resolve(options.deploy, search_from=search)
    if options.write and not from_file:
        raise AuditError("--write needs --from FILE")
    if options.write and from_file == "-":
        raise AuditError("--write needs a file: --from - reads standard input (use --output FILE)")
    if from_file and fmt != "json":
        raise AuditError("--from repairs a JSON policy; --format terraform/cloudformation writes a new one")
    if options.output_dir is not None and (from_file or options.output):
        raise AuditError("--output-dir writes the generated documents: not with --from or --output")
    if options.output_dir is not None and fmt != "json":
        raise AuditError("--output-dir writes JSON documents; --format terraform/cloudformation writes one file")
    if from_file:
        _repair(from_file, opts, options.write, options.output)
        return 0
    if not opts.prefix:
        raise AuditError("generate needs the project name: --prefix NAME, --project PATH or prefix in the config file")
    try:
        built = generate.build(opts.catalogue, opts.jets_version, opts.features, opts.prefix, opts.envs,
                               opts.region, opts.account, attach=options.attach, minimize=options.minimize)
    except generate.GenerateError as exc:
        raise AuditError(str(exc)) from exc
    from auditor.escalation import what_remains

    remains = what_remains(opts.catalogue, opts.jets_version, opts.features, opts.prefix, opts.envs, opts.region, opts.account)
    docs, notice = built.docs, built.notice
    if options.output_dir is not None:
        from auditor.atomic import WriteError

        try:
            written = generate.write_documents(docs, options.output_dir, opts.prefix)
        except WriteError as exc:
            raise AuditError(str(exc)) from exc
        say(f"wrote {len(written)} polic{'y' if len(written) == 1 else 'ies'}: {', '.join(written)}")
        if remains:
            say(remains)
        if len(written) > 1:
            say("they are one policy set (attach them all to the deploy principal): audit them together with "
                "--combine, or declare them in the config file:")
            say('[[tool.jets-iam-audit.policy-set]]')
            say(f'files = ["{generate.set_glob(options.output_dir, opts.prefix)}"]')
        return 0
    if fmt != "json":
        from auditor import generate_iac

        writer = generate_iac.to_terraform if fmt == "terraform" else generate_iac.to_cloudformation
        text = writer(docs, opts.prefix, options.attach)
        shape = f"written as {len(docs)} managed policies, all attached to the deploy {generate_iac.KINDS[options.attach]} it defines"
    else:
        text = json.dumps(docs[0] if len(docs) == 1 else docs, indent=2) + "\n"
        shape = f"written as a JSON array of {len(docs)} documents; create one managed policy from each"
    if len(docs) > 1:
        notice = f"{notice}: {shape}" + ("" if options.minimize else " (or try --minimize)")
    _emit(text, options.output)
    if notice:
        say(notice)
    if remains:
        say(remains)
    return 0


def _repair(path: str, opts: Resolved, write: bool, output: str | None) -> None:
    from auditor.repair_file import RepairError, repair_file

    try:
        fixed = repair_file(path, opts.catalogue, prefix=opts.prefix, envs=opts.envs, envs_given=opts.env_source != "default",
                            version=opts.jets_version, features=opts.features, region=opts.region, account=opts.account,
                            say=say)
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
        say(f"{'updated' if write else 'would change'} {path}" + ("" if write else " (use --write to apply)"))
    else:
        say(f"{path}: nothing to change")


def show_catalogue(options: CatalogueOptions) -> int:
    """`catalogue`: what Jets needs for these options, per feature, with the reason and the evidence."""
    from auditor import catalogue_rows

    opts = resolve(options.deploy, RunLevel(fmt=options.fmt))
    text = catalogue_rows.render(opts.catalogue, options.fmt, version=opts.jets_version, version_from=opts.jets_version_from,
                                 version_note=opts.jets_version_note, features=opts.features, prefix=opts.prefix,
                                 envs=opts.envs, region=opts.region, account=opts.account,
                                 envs_chosen=opts.env_source != "default", color=color(options.output), width=width())
    _emit(text, options.output)
    return 0


def _emit(text: str, output: str | None) -> None:
    """A command's whole output: to the --output file (written whole or not at all), or to stdout."""
    if output:
        from auditor.atomic import WriteError, write_text

        try:
            write_text(output, text)
        except WriteError as exc:
            raise AuditError(str(exc)) from exc
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
