"""Configuration: `[tool.jets-iam-audit]` in pyproject.toml or a `.jets-iam-audit.toml`: the nearest one
above each audited file, like ruff (or the one --config names). Defaults for CLI options, per-rule
enable and severity, and ignores (by file, optionally rule, Sid and pointer), each with a reason. An
ignore's `file` glob is matched against the file's path relative to the config file's directory (a
glob without "/" also matches the file name at any depth), so the same file gets the same result from
any working directory.

Any unknown key or bad value is a ConfigError (exit 2) that names it.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
import tomllib
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from auditor.choices import FORMATS, SEVERITIES
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
FILE_NAME = ".jets-iam-audit.toml"


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class RuleSetting:
    enabled: bool = True
    severity: str | None = None


@dataclass(frozen=True)
class Ignore:
    reason: str
    file: str = "*"
    rule: str | None = None
    sid: str | None = None
    pointer: str | None = None
    number: int = 0  # its place among the config's ignores, from 1
    line: int | None = None  # where it starts in the config file

    def matches_file(self, path: str) -> bool:
        """`path`: relative to the config file's directory (or an AWS policy name)."""
        return fnmatch.fnmatchcase(path, self.file) or ("/" not in self.file and fnmatch.fnmatchcase(path.rpartition("/")[2], self.file))

    def matches(self, finding: Finding, path: str | None = None) -> bool:
        loc = finding.location
        if not self.matches_file(loc.source if path is None else path):
            return False
        if self.rule is not None and self.rule != finding.rule_id:
            return False
        if self.sid is not None and self.sid != loc.sid:
            return False
        if self.pointer is not None and not (loc.pointer == self.pointer or loc.pointer.startswith(self.pointer + "/")):
            return False
        return True


@dataclass(frozen=True)
class PolicySet:
    """Files that are one principal's policies (generate --output-dir's documents): whenever one of them
    is audited, all of them are, together, as one target."""

    files: tuple[str, ...]  # globs relative to the config file's directory
    name: str | None = None

    def members(self, base: str) -> list[str]:
        """The files that match, as absolute paths, sorted."""
        import glob

        found = {os.path.join(base, f) for pattern in self.files for f in glob.glob(pattern, root_dir=base, recursive=True)}
        return sorted(f for f in found if os.path.isfile(f))


@dataclass(frozen=True)
class Config:
    path: str | None = None  # how messages name it: the file, and the table for pyproject.toml
    options: tuple[tuple[str, object], ...] = ()
    rules: tuple[tuple[str, RuleSetting], ...] = ()
    ignores: tuple[Ignore, ...] = ()
    file: str | None = None  # the config file as found (None: no config)
    base: str | None = None  # its directory, absolute: ignore globs are relative to it
    policy_sets: tuple[PolicySet, ...] = ()

    def option(self, key: str, default: object = None) -> object:
        return dict(self.options).get(key, default)

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

    def ignore_for(self, finding: Finding) -> Ignore | None:
        if not self.ignores:
            return None
        loc = finding.location
        path = self.relative(loc.source, loc.file)  # a file (a policy file, the .tf or template) relative to the config
        return next((i for i in self.ignores if i.matches(finding, path)), None)


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
        if candidate.is_file():
            return candidate
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            try:
                data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
                continue
            if "jets-iam-audit" in data.get("tool", {}):
                return pyproject
    return None


def load(path: Path | None, rule_ids: tuple[str, ...], always_on: Collection[str] = ()) -> Config:
    if path is None:
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    if path.name == "pyproject.toml":
        section = data.get("tool", {}).get("jets-iam-audit", {})
        where = f"{path} [tool.jets-iam-audit]"
    else:
        section = data
        where = str(path)
    config = parse(section, where, rule_ids, always_on)
    lines = _ignore_lines(path.read_text(encoding="utf-8"), path.name == "pyproject.toml", len(config.ignores))
    ignores = tuple(Ignore(i.reason, i.file, i.rule, i.sid, i.pointer, i.number, line)
                    for i, line in zip(config.ignores, lines, strict=True))
    return Config(config.path, config.options, config.rules, ignores, str(path), str(path.resolve().parent), config.policy_sets)


_HEADER = re.compile(r'^[ \t]*\[\[[ \t]*(?:tool[ \t]*\.[ \t]*"?jets-iam-audit"?[ \t]*\.[ \t]*)?ignore[ \t]*\]\]', re.MULTILINE)
_INLINE = re.compile(r'^[ \t]*(?:tool[ \t]*\.[ \t]*"?jets-iam-audit"?[ \t]*\.[ \t]*)?ignore[ \t]*=', re.MULTILINE)


def _ignore_lines(text: str, pyproject: bool, count: int) -> list[int | None]:
    """The line each of `count` ignores starts on: its [[ignore]] header ([[tool.jets-iam-audit.ignore]]
    in pyproject.toml), or the `ignore = [...]` line for every entry of an inline array."""
    def line_of(offset: int) -> int:
        return text.count("\n", 0, offset) + 1

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
    if key == "jets-version" and not VERSION.match(str(value)):
        raise ConfigError(f"{where}: 'jets-version' must be a Jets line or release such as 5 or 5.0.14, not {value!r}")
    if key in CHOICES and value not in CHOICES[key]:
        raise ConfigError(f"{where}: {key!r} must be one of {', '.join(CHOICES[key])}, not {value!r}")
    return value


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
            raise ConfigError(f"{where}: rules.{rule_id} cannot be disabled: it reports a check that failed "
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
        if rule in always_on:
            raise ConfigError(f"{where}: ignore #{n}: {rule} findings cannot be ignored: each reports a check that failed")
        out.append(Ignore(reason, entry.get("file", "*"), rule, entry.get("sid"), entry.get("pointer"), n))
    return out
