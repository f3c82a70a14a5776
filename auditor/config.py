"""Configuration: `[tool.jets-iam-audit]` in pyproject.toml or a `.jets-iam-audit.toml`, found from
the current directory upwards (or given with --config). Defaults for CLI options, per-rule enable and
severity, and ignores (by file, optionally rule, Sid and pointer), each with a reason.

Any unknown key or bad value is a ConfigError (exit 2) that names it.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from auditor.report import SEVERITIES, Finding

OPTION_KEYS = {
    "prefix": str, "env": list, "jets-version": str, "feature": list, "region": str, "account": str,
    "format": str, "fail-on": str, "combine": bool,
    # --parliament and its options; paths are relative to the config file
    "parliament": bool, "include-community-auditors": bool, "private-auditors": str, "parliament-config": str,
}
CHOICES = {
    "format": ("table", "json", "sarif", "markdown", "github"),
    "fail-on": SEVERITIES,
}
FILE_NAME = ".jets-iam-audit.toml"
JETS_VERSION = re.compile(r"^\d+(\.\d+(\.\d+(\.[A-Za-z]+\d*)?)?)?$")  # 5, 5.0, 5.0.14, 5.0.0.beta1


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

    def matches(self, finding: Finding) -> bool:
        loc = finding.location
        if not (fnmatch.fnmatchcase(loc.source, self.file) or fnmatch.fnmatchcase(Path(loc.source).name, self.file)):
            return False
        if self.rule is not None and self.rule != finding.rule_id:
            return False
        if self.sid is not None and self.sid != loc.sid:
            return False
        if self.pointer is not None and not (loc.pointer == self.pointer or loc.pointer.startswith(self.pointer + "/")):
            return False
        return True


@dataclass(frozen=True)
class Config:
    path: str | None = None
    options: tuple[tuple[str, object], ...] = ()
    rules: tuple[tuple[str, RuleSetting], ...] = ()
    ignores: tuple[Ignore, ...] = ()

    def option(self, key: str, default: object = None) -> object:
        return dict(self.options).get(key, default)

    def rule(self, rule_id: str) -> RuleSetting:
        return dict(self.rules).get(rule_id, RuleSetting())


def find(start: Path) -> Path | None:
    """The nearest .jets-iam-audit.toml, or pyproject.toml with a [tool.jets-iam-audit] table."""
    for directory in (start, *start.parents):
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


def load(path: Path | None, rule_ids: tuple[str, ...]) -> Config:
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
    return parse(section, where, rule_ids)


def parse(section: dict, where: str, rule_ids: tuple[str, ...]) -> Config:
    options: dict[str, object] = {}
    rules: dict[str, RuleSetting] = {}
    ignores: list[Ignore] = []
    for key, value in section.items():
        if key == "rules":
            rules = _rules(value, where, rule_ids)
        elif key == "ignore":
            ignores = _ignores(value, where, rule_ids)
        elif key in OPTION_KEYS:
            options[key] = _option(key, value, where)
        else:
            raise ConfigError(f"{where}: unknown key {key!r} (known: {', '.join([*OPTION_KEYS, 'rules', 'ignore'])})")
    return Config(where, tuple(options.items()), tuple(rules.items()), tuple(ignores))


def _option(key: str, value: object, where: str) -> object:
    kind = OPTION_KEYS[key]
    if kind is list and isinstance(value, str):
        value = [value]
    if kind is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: {key!r} must be a string or a list of strings")
        return tuple(value)
    if key == "jets-version" and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, kind):
        raise ConfigError(f"{where}: {key!r} must be a {kind.__name__}, not {value!r}")
    if key == "jets-version" and not JETS_VERSION.match(str(value)):
        raise ConfigError(f"{where}: 'jets-version' must be a Jets line or release such as 5 or 5.0.14, not {value!r}")
    if key in CHOICES and value not in CHOICES[key]:
        raise ConfigError(f"{where}: {key!r} must be one of {', '.join(CHOICES[key])}, not {value!r}")
    return value


def _rules(value: object, where: str, rule_ids: tuple[str, ...]) -> dict[str, RuleSetting]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: 'rules' must be a table of rule id = {{enabled, severity}}")
    out = {}
    for rule_id, setting in value.items():
        if rule_id not in rule_ids:
            raise ConfigError(f"{where}: unknown rule {rule_id!r} in 'rules' (see `jets-iam-audit rules`)")
        if not isinstance(setting, dict):
            raise ConfigError(f"{where}: rules.{rule_id} must be a table with 'enabled' and/or 'severity'")
        extra = set(setting) - {"enabled", "severity"}
        if extra:
            raise ConfigError(f"{where}: unknown key {sorted(extra)[0]!r} in rules.{rule_id}")
        enabled = setting.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError(f"{where}: rules.{rule_id}.enabled must be true or false")
        severity = setting.get("severity")
        if severity is not None and severity not in SEVERITIES:
            raise ConfigError(f"{where}: rules.{rule_id}.severity must be one of {', '.join(SEVERITIES)}, not {severity!r}")
        out[rule_id] = RuleSetting(enabled, severity)
    return out


def _ignores(value: object, where: str, rule_ids: tuple[str, ...]) -> list[Ignore]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: 'ignore' must be an array of tables ([[ignore]])")
    out = []
    for n, entry in enumerate(value, 1):
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: ignore #{n} must be a table")
        extra = set(entry) - {"file", "rule", "sid", "pointer", "reason"}
        if extra:
            raise ConfigError(f"{where}: unknown key {sorted(extra)[0]!r} in ignore #{n}")
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(f"{where}: ignore #{n} needs a 'reason'")
        for key in ("file", "rule", "sid", "pointer"):
            if key in entry and not isinstance(entry[key], str):
                raise ConfigError(f"{where}: ignore #{n}: {key!r} must be a string")
        rule = entry.get("rule")
        if rule is not None and rule not in rule_ids and not rule.startswith("parliament/"):  # parliament/<ISSUE>: any
            raise ConfigError(f"{where}: ignore #{n}: unknown rule {rule!r}")
        out.append(Ignore(reason, entry.get("file", "*"), rule, entry.get("sid"), entry.get("pointer")))
    return out
