"""Configuration: `[tool.jets-iam-audit]` in pyproject.toml or a `.jets-iam-audit.toml`: the nearest one
above each audited file, like ruff (or the one --config names). Defaults for CLI options, per-rule
enable and severity, and ignores (by file, optionally rule, Sid and pointer), each with a reason. An
ignore's `file` glob is matched against the file's path relative to the config file's directory (a
glob without "/" also matches the file name at any depth), so the same file gets the same result from
any working directory.

Any unknown key or bad value is a ConfigError (exit 2) that names it.

Trust: a config file found by searching is repository content, which anyone who can open a pull request
writes. The settings that make the tool run or load code (parliament and its auditors, its config) are
taken only from the command line or a config file named with --config (`trusted`); a found config that
sets them keeps them in `untrusted`, unused, and the run reports them (untrusted-setting). A config file is
read through the capped reader (regular files only, MAX_BYTES); a found one is never read through a
symbolic link (which could point out of the repository).

Ignores are compiled once (auditor.ignores: linear glob matching, indexed by rule and pointer), so tens of
thousands of them cost one pass, not one per finding.
"""

from __future__ import annotations

import os
import re
import stat
import tomli
from bisect import bisect_left
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from auditor.choices import FORMATS, SEVERITIES
from auditor.ignores import Ignore, Index
from auditor.releases import VERSION
from auditor.report import Finding
from auditor.text import did_you_mean

OPTION_KEYS = {
    "prefix": str, "env": list, "jets-version": str, "feature": list, "region": str, "account": str,
    "format": str, "fail-on": str, "combine": bool,
    # the deploy principals in Terraform and CloudFormation files (any kind): IAM names, addresses or logical ids
    "deploy-principals": list,
    # --parliament and its options; paths are relative to the config file
    "parliament": bool, "include-community-auditors": bool, "private-auditors": str, "parliament-config": str,
}
CHOICES = {
    "format": FORMATS,
    "fail-on": SEVERITIES,
}
CODE_KEYS = ("parliament", "include-community-auditors", "private-auditors", "parliament-config")  # run or load code
FILE_NAME = ".jets-iam-audit.toml"
MAX_BYTES = 2 * 1024 * 1024  # a config file: IAM policies' own cap; a real one is a few KB


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class RuleSetting:
    enabled: bool = True
    severity: str | None = None


@dataclass(frozen=True)
class PolicySet:
    """Files that are one principal's policies (generate --output-dir's documents): whenever one of them
    is audited, all of them are, together, as one target."""

    files: tuple[str, ...]  # globs relative to the config file's directory
    name: str | None = None


@dataclass(frozen=True)
class Config:
    path: str | None = None  # how messages name it: the file, and the table for pyproject.toml
    options: tuple[tuple[str, object], ...] = ()
    rules: tuple[tuple[str, RuleSetting], ...] = ()
    ignores: tuple[Ignore, ...] = ()
    file: str | None = None  # the config file as found (None: no config)
    base: str | None = None  # its directory, absolute: ignore globs are relative to it
    policy_sets: tuple[PolicySet, ...] = ()
    untrusted: tuple[tuple[str, int | None], ...] = ()  # (key, line) of code settings a found config set: not used
    trusted: bool = field(default=True, compare=False)  # named with --config (or no file)

    def option(self, key: str, default: object = None) -> object:
        return dict(self.options).get(key, default)

    def strings(self, key: str) -> tuple[str, ...]:
        """A list option's values (env, feature, deploy-principals; parse makes each a tuple of strings)."""
        value = dict(self.options).get(key, ())
        return tuple(str(v) for v in value) if isinstance(value, (tuple, list)) else ()

    def rule(self, rule_id: str) -> RuleSetting:
        return dict(self.rules).get(rule_id, RuleSetting())

    @property
    def shown(self) -> str | None:
        """The config file as reports name it: relative to the working directory when it lies below it."""
        if self.file is None:
            return None
        rel = os.path.relpath(self.file)
        return self.file if rel.startswith("..") else rel

    def relative(self, source: str, is_file: bool) -> str:
        """The path an ignore's `file` glob is matched against: a file's path relative to the config's
        directory (posix separators); an AWS policy name as it is."""
        if not is_file or self.base is None or source.startswith("<"):
            return source
        rel = os.path.relpath(os.path.abspath(source), self.base)
        return rel.replace(os.sep, "/")

    @cached_property
    def index(self) -> Index:
        """The ignores compiled and indexed (auditor.ignores.Index), made on first use."""
        return Index(self.ignores)

    def ignore_for(self, finding: Finding) -> Ignore | None:
        """The first ignore (in the file's order) that matches the finding, or None."""
        if not self.ignores:
            return None
        loc = finding.location
        # a file (a policy file, the .tf or template) relative to the config
        return self.index.first(finding, self.relative(loc.source, loc.file))


def search_path(start: Path) -> list[Path]:
    """The directories the implicit search looks in, nearest first: `start` and its parents, up to the
    repository root (the nearest directory that holds .git) and never past it; and never a directory
    anyone may write to (world-writable, such as /tmp), where anyone could plant a config that turns
    every rule off."""
    out = []
    for directory in (start, *start.parents):
        try:
            if directory.stat().st_mode & stat.S_IWOTH:
                break
        except OSError:
            break
        out.append(directory)
        if (directory / ".git").exists():
            break
    return out


def find(start: Path) -> Path | None:
    """The nearest .jets-iam-audit.toml, or pyproject.toml with a [tool.jets-iam-audit] table, on
    `search_path(start)`."""
    for directory in search_path(start):
        candidate = directory / FILE_NAME
        if os.path.lexists(candidate):
            return candidate  # a link, a FIFO, ...: load() refuses it, naming it
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and not pyproject.is_symlink():
            try:
                data = tomli.loads(_read(pyproject, trusted=False))
            except (ConfigError, tomli.TOMLDecodeError, ValueError, RecursionError):
                continue
            if "jets-iam-audit" in data.get("tool", {}):
                return pyproject
    return None


def _read(path: Path, trusted: bool) -> str:
    """The config file's text: a regular file of at most MAX_BYTES, UTF-8; a found one (not `trusted`)
    never through a symbolic link. Raises ConfigError."""
    from auditor.sources.file import SourceError, read_bytes

    if not trusted and path.is_symlink():
        raise ConfigError(f"{path}: a symbolic link (it may point out of the repository); a config file found by "
                          "searching is read only when it is a regular file (name it with --config to use it)")
    try:
        raw = read_bytes(str(path), MAX_BYTES)
    except SourceError as exc:
        message = str(exc)
        raise ConfigError(f"{path}: no such file" if message.endswith("no such file") else message) from exc
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MiB; refused")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: cannot read ({exc})") from exc


def load(path: Path | None, rule_ids: tuple[str, ...], always_on: Collection[str] = (), trusted: bool = True) -> Config:
    """The config file at `path` (None: no config). `trusted`: named with --config; a config found by
    searching (False) does not set the settings that run code (CODE_KEYS): they are kept in
    Config.untrusted, unused."""
    if path is None:
        return Config()
    text = _read(path, trusted)
    try:
        data = tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    except RecursionError as exc:
        raise ConfigError(f"{path}: not valid TOML (nested too deeply)") from exc
    except ValueError as exc:  # a number past Python's int-string conversion limit
        from auditor.failures import digits_message

        raise ConfigError(f"{path}: not valid TOML ({digits_message(exc) or exc})") from exc
    if path.name == "pyproject.toml":
        section = data.get("tool", {}).get("jets-iam-audit", {})
        where = f"{path} [tool.jets-iam-audit]"
    else:
        section = data
        where = str(path)
    config = parse(section, where, rule_ids, always_on)
    lines = _ignore_lines(text, path.name == "pyproject.toml", len(config.ignores))
    ignores = tuple(Ignore(i.reason, i.file, i.rule, i.sid, i.pointer, i.number, line)
                    for i, line in zip(config.ignores, lines, strict=True))
    options, untrusted = config.options, tuple[tuple[str, int | None], ...]()
    if not trusted:
        options = tuple((k, v) for k, v in config.options if k not in CODE_KEYS)
        untrusted = tuple((k, _key_line(text, k)) for k, _ in config.options if k in CODE_KEYS)
    return Config(config.path, options, config.rules, ignores, str(path), str(path.resolve().parent), config.policy_sets,
                  untrusted, trusted)


def _key_line(text: str, key: str) -> int | None:
    """The line a top-level key is set on (the first `key =` line), for the finding about it."""
    m = re.search(rf'^[ \t]*"?{re.escape(key)}"?[ \t]*=', text, re.MULTILINE)
    return text.count("\n", 0, m.start()) + 1 if m else None


_HEADER = re.compile(r'^[ \t]*\[\[[ \t]*(?:tool[ \t]*\.[ \t]*"?jets-iam-audit"?[ \t]*\.[ \t]*)?ignore[ \t]*\]\]', re.MULTILINE)
_INLINE = re.compile(r'^[ \t]*(?:tool[ \t]*\.[ \t]*"?jets-iam-audit"?[ \t]*\.[ \t]*)?ignore[ \t]*=', re.MULTILINE)


def _ignore_lines(text: str, pyproject: bool, count: int) -> list[int | None]:
    """The line each of `count` ignores starts on: its [[ignore]] header ([[tool.jets-iam-audit.ignore]]
    in pyproject.toml), or the `ignore = [...]` line for every entry of an inline array."""
    newlines = [m.start() for m in re.finditer("\n", text)]

    def line_of(offset: int) -> int:  # one pass over the text for all the ignores, not one per ignore
        return bisect_left(newlines, offset) + 1

    headers = [line_of(m.start()) for m in _HEADER.finditer(text) if pyproject == ("tool" in m.group())]
    if len(headers) == count:
        return list(headers)
    inline = _INLINE.search(text)
    return [line_of(inline.start()) if inline else None] * count


def parse(section: dict, where: str, rule_ids: tuple[str, ...], always_on: Collection[str] = ()) -> Config:
    """`always_on`: rules config may give a severity, but neither disable nor ignore (internal-error)."""
    options: dict[str, object] = {}
    rules: dict[str, RuleSetting] = {}
    ignores: list[Ignore] = []
    sets: list[PolicySet] = []
    for key, value in section.items():
        if key == "rules":
            rules = _rules(value, where, rule_ids, always_on)
        elif key == "ignore":
            ignores = _ignores(value, where, rule_ids, always_on)
        elif key == "policy-set":
            sets = _policy_sets(value, where)
        elif key in OPTION_KEYS:
            options[key] = _option(key, value, where)
        else:
            known = [*OPTION_KEYS, "rules", "ignore", "policy-set"]
            raise ConfigError(f"{where}: unknown key {key!r}{did_you_mean(key, known)} (known: {', '.join(known)})")
    return Config(where, tuple(options.items()), tuple(rules.items()), tuple(ignores), policy_sets=tuple(sets))


def _tables(value: object, where: str, name: str, keys: set[str]) -> Iterator[tuple[int, dict]]:
    """(number from 1, entry) of an array of tables ([[name]]) whose entries take only `keys`."""
    if not isinstance(value, list):
        raise ConfigError(f"{where}: '{name}' must be an array of tables ([[{name}]])")
    for n, entry in enumerate(value, 1):
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: {name} #{n} must be a table")
        extra = set(entry) - keys
        if extra:
            raise ConfigError(f"{where}: unknown key {sorted(extra)[0]!r} in {name} #{n}")
        yield n, entry


def _policy_sets(value: object, where: str) -> list[PolicySet]:
    out = []
    for n, entry in _tables(value, where, "policy-set", {"files", "name"}):
        files = entry.get("files")
        files = [files] if isinstance(files, str) else files
        if not isinstance(files, list) or not files or not all(isinstance(f, str) and f for f in files):
            raise ConfigError(f"{where}: policy-set #{n} needs 'files', a glob or a list of globs")
        outside = next((f for f in files if os.path.isabs(f) or ".." in f.replace(os.sep, "/").split("/")), None)
        if outside is not None:  # the config is repository content: its globs stay below it
            raise ConfigError(f"{where}: policy-set #{n}: {outside!r} reaches out of the config file's directory; "
                              "globs are relative to it, without '..'")
        name = entry.get("name")
        if name is not None and not isinstance(name, str):
            raise ConfigError(f"{where}: policy-set #{n}: 'name' must be a string")
        out.append(PolicySet(tuple(files), name))
    return out


def _option(key: str, value: object, where: str) -> object:
    kind = OPTION_KEYS[key]
    if kind is list and isinstance(value, str):
        value = [value]
    if kind is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: {key!r} must be a string or a list of strings")
        if key == "deploy-principals" and not all(v.strip() for v in value):
            raise ConfigError(f"{where}: 'deploy-principals' names principals (IAM names, addresses or logical ids), not "
                              "empty strings")
        return tuple(value)
    if key == "jets-version" and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, kind):
        raise ConfigError(f"{where}: {key!r} must be a {kind.__name__}, not {value!r}")
    if key == "jets-version" and not VERSION.fullmatch(str(value)):
        raise ConfigError(f"{where}: 'jets-version' must be a Jets line or release such as 5 or 5.0.14, not {value!r}")
    if key in CHOICES and value not in CHOICES[key]:
        raise ConfigError(f"{where}: {key!r} must be one of {', '.join(CHOICES[key])}, not {value!r}")
    return value


_WHY_ON = {"": "it reports a check that failed",  # internal-error
           "untrusted-setting": "it reports a setting the config file itself may not make"}


def _rules(value: object, where: str, rule_ids: tuple[str, ...], always_on: Collection[str]) -> dict[str, RuleSetting]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: 'rules' must be a table of rule id = {{enabled, severity}}")
    out = {}
    for rule_id, setting in value.items():
        if rule_id not in rule_ids:
            raise ConfigError(f"{where}: unknown rule {rule_id!r} in 'rules'{did_you_mean(rule_id, rule_ids)} (see `jets-iam-audit rules`)")
        if not isinstance(setting, dict):
            raise ConfigError(f"{where}: rules.{rule_id} must be a table with 'enabled' and/or 'severity'")
        extra = set(setting) - {"enabled", "severity"}
        if extra:
            raise ConfigError(f"{where}: unknown key {sorted(extra)[0]!r} in rules.{rule_id}")
        enabled = setting.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError(f"{where}: rules.{rule_id}.enabled must be true or false")
        if not enabled and rule_id in always_on:
            raise ConfigError(f"{where}: rules.{rule_id} cannot be disabled: {_WHY_ON.get(rule_id, _WHY_ON[''])} "
                              "(its severity can be changed)")
        severity = setting.get("severity")
        if severity is not None and severity not in SEVERITIES:
            raise ConfigError(f"{where}: rules.{rule_id}.severity must be one of {', '.join(SEVERITIES)}, not {severity!r}")
        out[rule_id] = RuleSetting(enabled, severity)
    return out


def _ignores(value: object, where: str, rule_ids: tuple[str, ...], always_on: Collection[str]) -> list[Ignore]:
    out = []
    for n, entry in _tables(value, where, "ignore", {"file", "rule", "sid", "pointer", "reason"}):
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(f"{where}: ignore #{n} needs a 'reason'")
        for key in ("file", "rule", "sid", "pointer"):
            if key in entry and not isinstance(entry[key], str):
                raise ConfigError(f"{where}: ignore #{n}: {key!r} must be a string")
        rule = entry.get("rule")
        if rule is not None and rule not in rule_ids and not rule.startswith("parliament/"):  # parliament/<ISSUE>: any
            raise ConfigError(f"{where}: ignore #{n}: unknown rule {rule!r}{did_you_mean(rule, rule_ids)}")
        if rule is not None and rule in always_on:
            raise ConfigError(f"{where}: ignore #{n}: {rule} findings cannot be ignored: each {_WHY_ON.get(rule or '', _WHY_ON[''])[3:]}")
        out.append(Ignore(reason, entry.get("file", "*"), rule, entry.get("sid"), entry.get("pointer"), n))
    return out
