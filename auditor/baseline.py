"""Baselines: adopt the tool on an existing policy without fixing everything first.

`--write-baseline FILE` records every finding of today's run by a stable fingerprint; `--baseline
FILE` leaves out the findings it records and counts the entries no finding matches any more (fixed).

A fingerprint is made of the rule id, the subject, the resource, the file (relative to the baseline
file's directory, so the run can start anywhere) and the finding's place in the policy, normalised so
that it survives reformatting the JSON and reordering statements: never a line number, and never a
statement's index. A statement is named by its Sid, or, without one, by a hash of everything but its
actions (keys sorted, lists sorted: adding an action keeps the name; changing its resources makes its
findings new); an entry of an Action or Resource list by its value; the document index of a
JSON array of documents is dropped. `Statement[3]` in a subject is named the same way.

A policy written in Terraform or CloudFormation is named the same way, in the JSON document it renders
to (the finding's `in_policy`), not by its path or line in the .tf or template file: the fingerprint holds
that file, the policy's address in it (`aws_iam_policy.deploy`, `DeployGroup/Policies/JetsDeploy`) and the
place in the document, so reordering statement blocks, inserting an action and reformatting the file keep
it. A finding about a principal as a whole is at the principal's definition (`/resource/aws_iam_group/deploy`,
`/Resources/DeployGroup`: its address, not an index). The file's format (version 1) is unchanged; a
baseline written before this naming keeps matching (`_previous`) until it is written again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from auditor import atomic
from auditor.model import Location, pointer_unescape
from auditor.report import BaselineOutcome, Finding, Report, Target

VERSION = 1
_LABEL = re.compile(r"\bStatement\[(\d+)\]")
_LISTS = ("Action", "NotAction", "Resource", "NotResource")


class BaselineError(Exception):
    """The baseline file cannot be read or written: exit 2."""


def _canonical(value: object) -> object:
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    return value


def _statement_name(raw: object) -> str:
    """By its Sid; without one, by a hash of what it applies to (all but its actions, so adding an action
    to a statement, the usual fix, keeps its findings' fingerprints)."""
    if isinstance(raw, dict) and isinstance(raw.get("Sid"), str) and raw["Sid"]:
        return f"Statement{{sid:{raw['Sid']}}}"
    if isinstance(raw, dict):
        raw = {k: v for k, v in raw.items() if k not in ("Action", "NotAction", "Sid")}
    digest = hashlib.sha256(json.dumps(_canonical(raw), sort_keys=True).encode()).hexdigest()[:12]
    return f"Statement{{#{digest}}}"


class _Documents:
    """The parsed policy files of some targets, to name statements and list entries by what they hold."""

    def __init__(self, targets: Iterable[Target]) -> None:
        self._texts = {p.source: p.text for t in targets for p in (*t.policies, *t.boundary)}
        self._parsed: dict[str, object] = {}

    def _doc(self, source: str) -> object:
        if source not in self._parsed:
            try:
                self._parsed[source] = json.loads(self._texts.get(source, ""))
            except (ValueError, RecursionError):
                self._parsed[source] = None
        return self._parsed[source]

    def _statements(self, source: str, document: int | None) -> list | None:
        doc = self._doc(source)
        if document is not None:
            doc = doc[document] if isinstance(doc, list) and document < len(doc) else None
        stmts = doc.get("Statement") if isinstance(doc, dict) else None
        return stmts if isinstance(stmts, list) else [stmts] if isinstance(stmts, dict) else None

    def place(self, loc: Location, subject: str) -> tuple[str, str]:
        """(the normalised pointer, the normalised subject) of a finding at `loc` in one of the policies."""
        tokens = [pointer_unescape(t) for t in loc.pointer.split("/")[1:]] if loc.pointer else []
        document = None
        if tokens and tokens[0].isdigit():
            document = int(tokens.pop(0))
        stmts = self._statements(loc.source, document)
        out: list[str] = []
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if token == "Statement" and stmts is not None:
                if i + 1 < len(tokens) and tokens[i + 1].isdigit() and int(tokens[i + 1]) < len(stmts):
                    raw = stmts[int(tokens[i + 1])]
                    out.append(_statement_name(raw))
                    i += 2
                    if i + 1 < len(tokens) and tokens[i] in _LISTS and tokens[i + 1].isdigit() and isinstance(raw, dict):
                        values = raw.get(tokens[i])
                        index = int(tokens[i + 1])
                        if isinstance(values, list) and index < len(values):
                            out.append(f"{tokens[i]}{{{json.dumps(values[index])}}}")
                            i += 2
                    continue
                if len(stmts) == 1:  # "Statement": {...} written as one object
                    out.append(_statement_name(stmts[0]))
                    i += 1
                    continue
            out.append(token)
            i += 1
        if stmts is not None:
            subject = _LABEL.sub(lambda m: _statement_name(stmts[int(m.group(1))]) if int(m.group(1)) < len(stmts)
                                 else m.group(), subject)
        return "/".join(out), subject


def _source(source: str, base: str) -> str:
    if not os.path.isfile(source):
        return source  # standard input, an AWS policy name
    return os.path.relpath(os.path.abspath(source), base).replace(os.sep, "/")


def _in_file(policy: str, file: str) -> str:
    """How a policy written in infrastructure code is named within its file: its address
    (`aws_iam_policy.deploy`, `DeployGroup/Policies/JetsDeploy`), or, for a policy that is written in no
    file of it (a managed policy by ARN), its name."""
    return policy[len(file) + 1:] if policy.startswith(file + "#") else policy


def _fingerprint(parts: dict[str, str]) -> str:
    return hashlib.sha256("\x1f".join(parts.values()).encode()).hexdigest()[:20]


def entries(report: Report, base: str) -> list[dict[str, str]]:
    """One entry per finding, with its fingerprint and the readable parts it is made of."""
    return _entries(report.findings, report.targets, base)


def _entries(findings: Iterable[Finding], targets: Iterable[Target], base: str) -> list[dict[str, str]]:
    docs = _Documents(targets)
    out = []
    for f in findings:
        if f.in_policy is None:  # a JSON policy file's element, or the principal as a whole: where it is
            where, subject = docs.place(f.location, f.subject)
        else:  # an element of a policy written in Terraform or CloudFormation: by its value in the document
            where, subject = docs.place(f.in_policy, f.subject)
            named = _in_file(f.in_policy.source, f.location.source)
            where = f"{named}#{where}" if where else named
        parts = {"rule_id": f.rule_id, "source": _source(f.location.source, base), "where": where, "subject": subject,
                 "resource": f.resource or ""}
        out.append({"fingerprint": _fingerprint(parts), **parts, "message": f.message})
    return out


def _previous(findings: Sequence[Finding], targets: Iterable[Target], base: str) -> list[str | None]:
    """The fingerprint each finding had before findings read from Terraform or CloudFormation were named by
    value (None: the same as now), so that a baseline written then keeps matching until it is written
    again: the place was the finding's path in the .tf or template file as it gave it (indices of
    statements and list entries), and a finding about the whole principal was at its first policy (an AWS
    policy's name, for one attached by ARN). Drop it when the baseline format's version next changes."""
    held = list(targets)
    by_name = {t.name: t for t in held}
    policies = {p.source: p for t in held for p in t.policies}
    docs = _Documents(held)
    out: list[str | None] = []
    for f in findings:
        target = by_name.get(f.target or "")
        loc: Location | None = None
        if f.in_policy is not None:
            policy = policies.get(f.in_policy.source)
            loc = f.location if policy is not None and policy.origin is not None else f.in_policy
        elif target is not None and target.defined_at is not None and f.location == target.defined_at:
            first = target.policies[0] if target.policies else None
            if first is None:
                loc = Location(target.name)
            elif first.origin is not None:
                spot = first.origin.locate("")
                loc = Location(spot.path, spot.pointer)
            else:
                loc = Location(first.source)
        if loc is None:
            out.append(None)
            continue
        where, subject = docs.place(loc, f.subject)
        parts = {"rule_id": f.rule_id, "source": _source(loc.source, base), "where": where, "subject": subject,
                 "resource": f.resource or ""}
        out.append(_fingerprint(parts))
    return out


def _base(path: str) -> str:
    return os.path.dirname(os.path.abspath(path))


def write(path: str, report: Report) -> int:
    return _write(path, entries(report, _base(path)), report.tool_version)


def _write(path: str, found: list[dict[str, str]], tool_version: str) -> int:
    rows = sorted(found, key=lambda e: (e["source"], e["rule_id"], e["where"], e["subject"], e["resource"]))
    doc = {"version": VERSION, "tool": f"jets-iam-audit {tool_version}", "findings": rows}
    try:  # all or nothing, never through a link: a failed write leaves the old baseline whole
        atomic.write_text(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n", "--write-baseline",
                          f"the baseline {path}")
    except atomic.WriteError as exc:
        raise BaselineError(str(exc)) from exc
    return len(rows)


MAX_BYTES = 64 * 1024 * 1024  # a baseline: some 200,000 findings; read no further


def read(path: str) -> Counter[str]:
    """The fingerprints a baseline file records. It is read as a policy is (auditor.sources.file.read_bytes:
    a regular file only, never a FIFO or a device, and no more than MAX_BYTES). Raises BaselineError."""
    from auditor.failures import describe
    from auditor.sources.file import SourceError, read_bytes

    try:
        raw = read_bytes(path, MAX_BYTES)
    except SourceError as exc:
        if str(exc).endswith(": no such file"):
            raise BaselineError(f"{path}: no such baseline file (write one with --write-baseline {path})") from exc
        raise BaselineError(str(exc)) from exc
    if len(raw) > MAX_BYTES:
        raise BaselineError(f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MiB; refused (not a baseline this tool writes)")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise BaselineError(f"{path}: not a baseline file ({describe(exc) or exc})") from exc
    if not isinstance(doc, dict) or doc.get("version") != VERSION or not isinstance(doc.get("findings"), list) or not all(
            isinstance(e, dict) and isinstance(e.get("fingerprint"), str) for e in doc["findings"]):
        raise BaselineError(f"{path}: not a version {VERSION} baseline of jets-iam-audit")
    return Counter(e["fingerprint"] for e in doc["findings"])


def apply(report: Report, path: str, recorded: Counter[str]) -> tuple[tuple[Finding, ...], BaselineOutcome]:
    """The findings the baseline does not record, and what it did."""
    sieve = Sieve(path, recorded)
    kept = sieve.kept(report.findings, report.targets)
    return kept, sieve.outcome()


class Sieve:
    """--baseline over a streamed run: `kept(findings, targets)` leaves out, target by target, the
    findings the baseline records (each entry matches one finding); `outcome()` counts what it did."""

    def __init__(self, path: str, recorded: Counter[str]) -> None:
        self.path, self.base = path, _base(path)
        self.left = Counter(recorded)
        self.baselined = 0

    def kept(self, findings: Sequence[Finding], targets: Iterable[Target]) -> tuple[Finding, ...]:
        left = self.left
        kept: list[Finding] = []
        targets = tuple(targets)
        now = _entries(findings, targets, self.base)
        before = _previous(findings, targets, self.base)  # what a baseline written by an earlier release recorded
        for finding, entry, previous in zip(findings, now, before, strict=True):
            if left[entry["fingerprint"]] > 0:
                left[entry["fingerprint"]] -= 1
            elif previous is not None and left[previous] > 0:
                left[previous] -= 1
            else:
                kept.append(finding)
        self.baselined += len(findings) - len(kept)
        return tuple(kept)

    def outcome(self) -> BaselineOutcome:
        return BaselineOutcome(self.path, self.baselined, sum(self.left.values()))


class Recorder:
    """--write-baseline over a streamed run: every finding is recorded (`kept` returns none: the
    baseline written records them all) and the file is written by `outcome()`, at the end of the run."""

    def __init__(self, path: str, tool_version: str) -> None:
        self.path, self.base, self.tool_version = path, _base(path), tool_version
        self.found: list[dict[str, str]] = []  # the fingerprints and their parts, not the findings

    def kept(self, findings: Sequence[Finding], targets: Iterable[Target]) -> tuple[Finding, ...]:
        self.found += _entries(findings, targets, self.base)
        return ()

    def outcome(self) -> BaselineOutcome:
        """Writes the baseline (BaselineError when it cannot)."""
        count = _write(self.path, self.found, self.tool_version)
        return BaselineOutcome(self.path, count, 0)

