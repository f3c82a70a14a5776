"""From the paths given to `file` to the targets an audit runs on.

A JSON policy file is one target, also when it holds a JSON array of documents (or, with --combine,
all files are one). A Terraform file, plan or
CloudFormation template is read by its reader (auditor.sources.READERS) into principals and the
policies attached to none; each principal is one target, audited as `live --group` audits a group:
coverage over the union of its policies, the lint checks per document. Which principals:

- those named (auditor.sources.selection): `--group/--user/--role NAME`, the one of that kind whose IAM
  name, address (`aws_iam_group.deploy`, or its last part `deploy`) or logical id (`DeployGroup`) is NAME;
  `--deploy-principal NAME` or the config's `deploy-principals`, those of any kind;
- else those that look like a Jets deploy principal (see selection.looks_like_deploy), and the unattached
  policies that look like a deploy policy; when a file has none, every principal and policy it defines,
  with a note that says why none looks like one (with --skip-non-policies, none: the file is skipped).

What is not taken is passed over with the reason (`Loaded.passed_over`): the command lists it when the run
took no principal of infrastructure code at all.

Managed policies attached by ARN: with --auth-details FILE their documents come from that file; an AWS
managed policy's otherwise from the snapshot shipped in the package (auditor/managed_policies.py); a
note names those judged by the snapshot and those left out.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from auditor.model import Assumption, Location, Policy, Problem, allowing_statements, decode_text, holds_statement
from auditor.prefix import prefix_names
from auditor.report import Deferred, Target
from auditor.sources import BY_NAME, detect, looks_like_plan
from auditor.sources.file import MAX_BYTES, STDIN, STDIN_NAME, SourceError, looks_like_policy, policies_from_bytes, read_bytes
from auditor.sources.selection import PassedOver, Selection, SelectionError, looks_like_deploy, summary, why_not_deploy

if TYPE_CHECKING:
    from auditor.sources.tf_load import CliVariables


@dataclass(frozen=True)
class Loaded:
    targets: tuple[Target, ...]
    policies: tuple[Policy, ...]  # every policy of every target (prefix inference reads them)
    passed_over: tuple[PassedOver, ...] = ()  # principals and policies of infrastructure code not taken, and why
    taken: int = 0  # principals and policies of infrastructure code taken as targets
    matched: frozenset[str] = frozenset()  # the names of the selection some principal answered to
    infrastructure: tuple[str, ...] = ()  # the Terraform files, plans and templates read that define a principal or policy


_IAM_WORDS = ("aws_iam_", "AWS::IAM::", "PolicyDocument", '"Statement"')


# Where auditor.prefix.prefix_names finds a project-name candidate: an Allow statement's Resource entry such as
# function:demo-*, stack/demo-*, role/demo-*, rule/demo-* or s3:::demo-* (a name, then a wildcard). A
# text with none of these and no escape (backslash) holds no candidate (tests/test_first_read.py).
_MARKS = ("function:", "stack/", "role/", "rule/", "s3:::")
_NAME_THEN_WILDCARD = re.compile(r"[A-Za-z0-9_-]+[*?]")


def may_name_project(text: str) -> bool:
    """Does the text hold a mark then a name then a wildcard, i.e. the regular expression
    (function:|stack/|role/|rule/|s3:::)[A-Za-z0-9_-]+[*?]? Each mark's occurrences are found with
    str.find (a regular expression that starts with an alternation tries every offset)."""
    for mark in _MARKS:
        at = text.find(mark)
        while at >= 0:
            at += len(mark)
            if _NAME_THEN_WILDCARD.match(text, at):
                return True
            at = text.find(mark, at)
    return False


def first_read(raw: bytes, name: str, skip_non_policies: bool, text: str | None = None) -> tuple[int, tuple[str, ...]]:
    """What the first read of a policy file keeps when its target is deferred: how many documents it
    holds (0: none left by --skip-non-policies) and their project-name candidates (auditor.prefix.prefix_names).
    The model is not built for a text that is not a JSON array (which may be several documents): such a
    text is one document; with --skip-non-policies one that is a JSON object with a Statement member is
    kept (looks_like_policy); the candidates come from the statements that allow on a Resource entry of a
    candidate's shape, the only ones built (none when the text shows no such entry and no escape). The
    same answers as building it all. `text`: the raw bytes decoded (decode_text), when the caller has them."""
    if len(raw) > MAX_BYTES or b"\x00" in raw:
        text = None
    elif text is None:
        text = decode_text(raw)[0]
    if text is not None and text.lstrip(" \t\n\r")[:1] != "[":
        if "\\" not in text and not may_name_project(text):
            if not skip_non_policies or holds_statement(text):
                return 1, ()
        else:
            allowing = allowing_statements(text, name, may_name_project)
            if allowing is not None:
                return 1, tuple(prefix_names([Policy(name, text, allowing)]))
            if not skip_non_policies:
                return 1, ()
    docs = [p for p in policies_from_bytes(raw, name) if not skip_non_policies or looks_like_policy(p)]
    return len(docs), tuple(prefix_names(docs))


def loaded(target: Target) -> Target:
    """The target with its policies: a deferred one (report.Deferred) is read again now, as it was read
    first (a problem of the second read is a finding)."""
    deferred = target.deferred
    if deferred is None:
        return target
    path = deferred.path
    try:
        docs = policies_from_bytes(read_bytes(path), path)
    except SourceError as exc:
        docs = (Policy(path, "", (), (Problem("", f"could not be read again to be audited: {exc}", path),)),)
    else:
        if deferred.skip_non_policies:
            docs = tuple(p for p in docs if looks_like_policy(p))
        docs = docs or (Policy(path, "", (), (Problem("", "changed while it was audited: no policy left in it", path),)),)
    return replace(target, policies=docs, deferred=None)


def load(paths: Sequence[str], *, region: str | None = None, account: str | None = None, combine: bool = False,
         skip_non_policies: bool = False, principal: tuple[str, str] | Selection | None = None,
         managed: Mapping[str, Policy] | None = None, defer: bool = False,
         parameters: Mapping[str, str] | None = None, variables: CliVariables | None = None,
         roots: Mapping[str, str] | None = None) -> Loaded:
    """The targets of the files `paths`. With `defer`, a policy file (not standard input) is read, checked
    and let go: its target is Deferred, read again when it is audited, so that a run of many files holds
    one file's policies at a time. `principal`: the deploy principals named (a (kind, name) pair is
    --group/--user/--role NAME); a required selection that names one no file defines is a SelectionError.
    `parameters`: values for CloudFormation template parameters (--parameter, --parameter-file);
    `variables`: Terraform's --var and --var-file values; `roots`: the directory argument each walked file
    came from (a Terraform repository's root when no .git is found). A file that a Terraform configuration
    of the repository renders (a template) or calls (a local module's file) is audited through that
    configuration (tf_users.py), not on its own."""
    selection = Selection(((principal[0], principal[1]),), f"--{principal[0]}") if isinstance(principal, tuple) else principal
    if list(paths).count(STDIN) > 1:
        raise SourceError("'-' (standard input) can be given only once")
    plain: list[Policy | Target] = []  # policies by file, and the deferred files' targets, in order
    deferred: set[str] = set()
    files = []
    empty: list[tuple[str, str]] = []
    memo: dict = {}  # Terraform modules parsed once for all their files
    roots = roots or {}
    from auditor.sources.tf_users import candidates

    users = candidates(paths, roots) if any(p != STDIN for p in paths) else []
    extra = []  # IacFiles of the Terraform files found to use a file given
    for path in [*paths, *users]:
        name = STDIN_NAME if path == STDIN else path
        if path in users:  # a Terraform file of the repository that may use one of the files given
            try:
                text, _ = decode_text(read_bytes(path, BY_NAME["terraform"].limit))
            except SourceError:
                continue
            found = _read_iac("terraform", name, text or "", region, account, memo, variables, roots)
            if not found.problems and (found.principals or found.loose):
                extra.append(found)
            continue
        raw = read_bytes(path)
        if len(raw) > MAX_BYTES and path != STDIN and looks_like_plan(raw[:65536]):
            raw = read_bytes(path, BY_NAME["tfplan"].limit)
        text, _ = decode_text(raw) if b"\x00" not in raw[:8192] else (None, None)
        kind = detect(name, text) if text is not None and len(raw) <= BY_NAME["tfplan"].limit else "policy"
        if kind == "policy" or (kind != "tfplan" and len(raw) > MAX_BYTES):  # one document, or an array of them
            if defer and not combine and path != STDIN and name not in deferred:
                documents, names = first_read(raw, name, skip_non_policies, text)
                if documents:
                    deferred.add(name)
                    plain.append(Target("file", name, (), deferred=Deferred(path, documents, names, skip_non_policies)))
                continue
            plain.extend(p for p in policies_from_bytes(raw, name) if not skip_non_policies or looks_like_policy(p))
            continue
        if kind is None:  # a YAML file that is not a template
            if not skip_non_policies:
                plain.append(Policy(name, "", (), (Problem("", "not an IAM policy or a CloudFormation template: no "
                                                                "Resources with AWS:: types", name),)))
            continue
        assert text is not None
        found = _read_iac(kind, name, text, region, account, memo, variables, roots, parameters)
        if found.problems:
            if not skip_non_policies or any(word in text for word in _IAM_WORDS):
                plain.extend(found.problems)
            continue
        if not found.principals and not found.loose:
            if not skip_non_policies:
                empty.append((name, kind))
            continue
        files.append(found)
    files, plain, empty = _through_users(paths, files, extra, plain, empty)
    # a .tf file given with others of its module (variables.tf beside main.tf) is context, not a finding
    modules = {os.path.dirname(os.path.abspath(f.path)) for f in files}
    for name, kind in empty:
        if kind != "terraform" or os.path.dirname(os.path.abspath(name)) not in modules:
            plain.append(Policy(name, "", (), (Problem("", f"defines no IAM policy ({kind} file with no IAM group, "
                                                            "user, role or policy)", name),)))
    if selection is not None and selection.required and not files:
        raise SelectionError(f"{selection.given_by} selects a principal defined in Terraform or CloudFormation files; "
                             "for an AWS account use --auth-details FILE alone, or the live command")
    chosen = _principal_targets(files, selection, skip_non_policies, managed or {}) if files else Loaded((), ())
    targets = list(chosen.targets)
    if combine:
        policies = tuple(dict.fromkeys([*(p for p in plain if isinstance(p, Policy)), *(p for t in targets for p in t.policies)]))
        if not policies:
            return replace(chosen, targets=(), policies=())
        notes = tuple(n for t in targets for n in t.notes)
        assumptions = tuple(dict.fromkeys(a for t in targets for a in t.assumptions))
        return replace(chosen, targets=(Target("file", " + ".join(dict.fromkeys(p.source for p in policies)), policies,
                                                notes=notes, assumptions=assumptions),), policies=policies)
    by_file: dict[str, list[Policy] | Target] = {}  # the documents of a split policy are attached to one principal
    for p in plain:
        if isinstance(p, Target):
            by_file[p.name] = p
        else:
            held = by_file.setdefault(p.source, [])
            assert isinstance(held, list)
            held.append(p)
    targets = [held if isinstance(held, Target) else Target("file", source, tuple(held))
               for source, held in by_file.items()] + list(targets)
    return replace(chosen, targets=tuple(targets), policies=tuple(dict.fromkeys(p for t in targets for p in t.policies)))


def check_named(selection: Selection | None, loaded: Sequence[Loaded]) -> None:
    """SelectionError unless the files read define every principal the command line names."""
    if selection is None:
        return
    if not any(part.infrastructure for part in loaded):
        raise SelectionError(f"{selection.given_by} selects a principal defined in Terraform or CloudFormation files; "
                             "for an AWS account use --auth-details FILE alone, or the live command")
    missing = selection.missing({name for part in loaded for name in part.matched})
    if missing:
        kind = next((k for k, name in selection.names if name == missing[0]), None)
        where = ", ".join(dict.fromkeys(path for part in loaded for path in part.infrastructure))
        raise SelectionError(f"no IAM {kind or 'group, user or role'} {missing[0]!r} in {where} (give its IAM name, its "
                             "address or its logical id)")


def passed_over(loaded: Sequence[Loaded], selections: Sequence[Selection] = ()) -> list[str]:
    """What the run says when principals were found in infrastructure files but none was audited (the
    lines of `summary`); nothing when some principal or policy was taken, or none was found."""
    passed = list(dict.fromkeys(p for part in loaded for p in part.passed_over))
    if not passed or any(part.taken for part in loaded):
        return []
    matched = {name for part in loaded for name in part.matched}
    files = len({path for part in loaded for path in part.infrastructure})
    return summary(passed, files, [(s, s.missing(matched)) for s in selections])


def _read_iac(kind: str, name: str, text: str, region: str | None, account: str | None, memo: dict,
              variables: CliVariables | None, roots: Mapping[str, str], parameters: Mapping[str, str] | None = None):
    """What the reader of `kind` finds in the file; a reader's bug is this file's finding."""
    reader = importlib.import_module(BY_NAME[kind].module)
    extra: dict[str, object] = {}
    if kind == "terraform":
        extra = {"variables": variables, "root": roots.get(name)}
    elif kind == "cloudformation":
        extra = {"parameters": parameters}
    try:
        return reader.read(name, text, region=region, account=account, memo=memo, **extra)
    except Exception as exc:  # a reader's bug: this file's finding, not a lost run (the readers catch bad input)
        from auditor.sources.iac import unreadable

        return unreadable(name, f"could not be read as {kind}: internal error {type(exc).__name__}: {str(exc)[:200]}")


def _through_users(paths: Sequence[str], files: list, extra: list, plain: list, empty: list) -> tuple[list, list, list]:
    """The files read, with the Terraform files that use a file given added, and every file a Terraform
    configuration of the run reads through itself (a template, a local module's file) taken out: it is
    audited through that configuration."""
    given = {os.path.realpath(p) for p in paths if p != STDIN}
    files = files + [f for f in extra if given & set(f.reads)]
    through = {r for f in files for r in f.reads}
    if not through:
        return files, plain, empty

    def used(name: str) -> bool:
        return name != STDIN_NAME and os.path.realpath(name) in through

    files = [f for f in files if not used(f.path)]
    plain = [p for p in plain if not used(p.name if isinstance(p, Target) else p.source)]
    empty = [(n, k) for n, k in empty if not used(n)]
    return files, plain, empty


def _principal_targets(files: list, selection: Selection | None, skip: bool, managed: Mapping[str, Policy]) -> Loaded:
    """The targets of the principals and unattached policies the readers found (see the module's
    docstring), with what was passed over and why (`policies` is left empty: load fills it in)."""
    seen: set[tuple[str, str, str]] = set()
    chosen = []
    loose: list[Policy] = []
    passed: list[PassedOver] = []
    matched: set[str] = set()
    file_notes: dict[int, tuple[str, ...]] = {}  # a principal or policy → the notes of the file it was read from
    file_assumptions: dict[int, tuple[Assumption, ...]] = {}  # likewise, the constructs the reader did not evaluate
    assembled: dict[int, tuple[tuple[Policy, ...], tuple[str, ...]]] = {}  # a principal → its policies and notes
    for found in files:
        for item in (*found.principals, *found.loose):
            file_notes.setdefault(id(item), found.notes)
            file_assumptions.setdefault(id(item), found.assumptions)
        candidates = []
        for p in found.principals:
            key = (p.kind, p.address, p.spot.path)
            if key not in seen:
                seen.add(key)
                candidates.append(p)
        if selection is not None:
            for p in candidates:
                picked = selection.picks(p.kind, p.names())
                if picked:
                    chosen.append(p)
                    matched.update(picked)
                else:
                    passed.append(PassedOver(p.kind, p.name, _defined_at(p.spot), f"not named by {selection.given_by}"))
            continue
        why: dict[int, str | None] = {}  # a principal → why it does not look like a deploy principal (None: it does)
        for p in candidates:
            assembled[id(p)] = _with_managed(p, managed)
            read = {policy.source for policy in assembled[id(p)][0]}  # a snapshot policy is named by its ARN
            unread = [arn for arn in p.managed_arns if arn not in managed and arn not in read]
            why[id(p)] = None if looks_like_deploy(assembled[id(p)][0]) else why_not_deploy(assembled[id(p)][0], unread)
        jets = [p for p in candidates if why[id(p)] is None]
        jets_loose = [p for p in found.loose if looks_like_deploy([p])]
        others = [PassedOver(p.kind, p.name, _defined_at(p.spot), str(why[id(p)])) for p in candidates if why[id(p)] is not None]
        others += [PassedOver("policy", _address(policy), _policy_spot(policy), why_not_deploy([policy])
                              + "; attached to no principal in the files read")
                   for policy in found.loose if policy not in jets_loose]
        if jets or jets_loose:
            chosen += jets
            loose += jets_loose
            passed += others
        elif not skip:
            chosen += candidates
            loose += found.loose
            if others:  # every principal and policy is audited: say why none is taken for the deploy principal
                note = _none_looks_like_deploy(found.path, others)
                for item in (*candidates, *found.loose):
                    file_notes[id(item)] = (*file_notes[id(item)], note)
        else:
            passed += others
    if selection is not None and selection.required:
        missing = selection.missing(matched)
        if missing:
            where = ", ".join(f.path for f in files) or "the files given"
            kind = next((k for k, name in selection.names if name == missing[0]), None)
            raise SelectionError(f"no IAM {kind or 'group, user or role'} {missing[0]!r} in {where} (give its IAM name, its "
                                 "address or its logical id)")
    names = [p.name for p in chosen]
    targets = []
    for p in chosen:
        policies, notes = assembled[id(p)] if id(p) in assembled else _with_managed(p, managed)
        shown = p.name if names.count(p.name) == 1 else f"{p.name} ({os.path.normpath(p.spot.path)})"
        assumptions = tuple(dict.fromkeys((*file_assumptions.get(id(p), ()), *p.assumptions)))
        targets.append(Target(p.kind, shown, policies, notes=(*file_notes.get(id(p), ()), *notes), assumptions=assumptions,
                              defined_at=_defined_at(p.spot)))
    targets += [Target("file", policy.source, (policy,), notes=file_notes.get(id(policy), ()),
                       assumptions=file_assumptions.get(id(policy), ())) for policy in dict.fromkeys(loose)]
    return Loaded(tuple(targets), (), tuple(passed), len(targets), frozenset(matched), tuple(f.path for f in files))


def _defined_at(spot) -> Location:
    """A principal's definition (an iac.Spot) as the location of findings about it."""
    return Location(spot.path, spot.pointer, None, spot.line, spot.path != STDIN_NAME)


def _policy_spot(policy: Policy) -> Location:
    """Where a policy of infrastructure code is written (its document's whole)."""
    if policy.origin is None:
        return Location(policy.source, file=False)
    spot = policy.origin.locate("")
    return Location(spot.path, spot.pointer, None, spot.line, spot.path != STDIN_NAME)


def _address(policy: Policy) -> str:
    """A policy of infrastructure code by its address (its source is FILE#ADDRESS)."""
    return policy.source.rpartition("#")[2] or policy.source


def _none_looks_like_deploy(path: str, others: Sequence[PassedOver], shown: int = 5) -> str:
    listed = "; ".join(f"{p.kind} {p.name}: {p.why}" for p in others[:shown])
    if len(others) > shown:
        listed += f"; and {len(others) - shown} more"
    return (f"{os.path.normpath(path)}: nothing there looks like a Jets deploy principal ({listed}), so every principal "
            "and policy of it is audited; name the deploy principal with --deploy-principal NAME or deploy-principals "
            "in the config")


def _with_managed(p, managed: Mapping[str, Policy]) -> tuple[tuple[Policy, ...], tuple[str, ...]]:
    """A principal's policies with the managed policies it attaches by ARN: from --auth-details where it
    has them, else an AWS managed policy's document from the snapshot shipped in the package
    (auditor/managed_policies.py); a note names those judged by the snapshot (its date) and those left
    out (a customer managed policy made elsewhere, an AWS managed policy the snapshot lacks)."""
    extra: list[Policy] = []
    missing: list[str] = []
    judged: list[str] = []
    held = None
    for arn in p.managed_arns:
        if arn in managed:
            extra.append(managed[arn])
            continue
        found = None
        if ":iam::aws:policy/" in arn:
            from auditor import managed_policies

            held = held or managed_policies.snapshot()
            found = managed_policies.policy(arn, held)
        if found is None:
            missing.append(arn)
        else:
            extra.append(found[0])
            judged.append(f"{arn} ({found[1].version or 'version unknown'}"
                          f"{'' if found[1].listed else ', deprecated'})")
    notes: list[str] = []
    if judged:
        assert held is not None
        notes.append(f"{p.kind} {p.name}: {len(judged)} AWS managed polic{'y' if len(judged) == 1 else 'ies'} attached by "
                     f"ARN, judged by the snapshot of {held.date} shipped with jets-iam-audit: {', '.join(judged)} (live "
                     "mode or --auth-details FILE reads the account's current version)")
    if missing:
        shown = ", ".join(missing)
        lacking = [arn for arn in missing if ":iam::aws:policy/" in arn]
        why = f"; not in the AWS managed policy snapshot: {', '.join(lacking)}" if lacking else ""
        notes.append(f"{p.kind} {p.name}: {len(missing)} managed polic{'y' if len(missing) == 1 else 'ies'} attached by ARN "
                     f"only, not audited: {shown} (pass --auth-details FILE from `aws iam get-account-authorization-details` "
                     f"to include them){why}")
    return tuple(dict.fromkeys([*p.policies, *extra])), tuple(notes)
