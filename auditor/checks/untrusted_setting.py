"""untrusted-setting: a config file found by searching sets a setting that runs code; it is not used.

What it does
    A config file the tool finds by searching (the nearest `.jets-iam-audit.toml` or `pyproject.toml`
    above an audited file) is repository content: anyone who can open a pull request can write it. The
    settings that make the tool run or load code, `parliament`, `include-community-auditors`,
    `private-auditors` (parliament imports and runs every `*.py` in that directory) and
    `parliament-config` (its patterns and severities), are taken only from the command line or from a
    config file named with `--config`. A found config that sets one of them is reported once per
    setting, at its line, and the setting is left out of the run.

Why it matters
    Without this boundary a committed `.jets-iam-audit.toml` with `parliament = true` and
    `private-auditors = ".auditors"` would make every run of the tool (a CI job holding the runner's
    secrets, a reviewer's laptop, the pre-commit hook) import and execute the pull request's Python.

Example
    pyproject.toml sets private-auditors, which runs code: a config file found by searching cannot
    (name it with --config, or pass --private-auditors on the command line)

Fix
    Pass the option on the command line (`--parliament --private-auditors .auditors`), or name the
    config file with `--config` where you trust it (your CI workflow's own command), and remove the
    setting from the config file the tool finds on its own. Config can change this finding's
    severity, but neither disable nor ignore it.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.base import Context
from auditor.model import Location
from auditor.report import Hit

RULE_ID = "untrusted-setting"
CATEGORY = "invalid"
SEVERITY = "low"


def check(ctx: Context) -> Iterator[Hit]:
    """Config-level: nothing per target. The engine calls `settings` after the run."""
    return iter(())


def settings(config) -> Iterator[Hit]:
    """A hit for each code setting a found config (config.untrusted) set."""
    shown = config.shown or "<config>"
    for key, line in config.untrusted:
        yield Hit(f"{shown} sets {key}, which runs code: a config file found by searching cannot (name it with "
                  f"--config, or pass --{key} on the command line)", key, Location(shown, f"/{key}", None, line),
                  fix=f"pass --{key} on the command line, or name this config file with --config")
