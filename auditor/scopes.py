"""Which config file each audited file answers to: the nearest one above the file (like ruff), or the
one --config names for all. Files under different config files are audited with different settings;
the options that shape the whole run (format, fail-on, combine) must then agree, or come from the
command line.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from auditor import config as config_mod
from auditor.config import Config, ConfigError

RUN_LEVEL = ("format", "fail-on", "combine")


def for_sources(sources: Sequence[str], explicit: str | None, rule_ids: tuple[str, ...],
                stdin_name: str) -> list[tuple[Config, list[str]]]:
    """(config, the sources that answer to it), in the order the sources first appear. Standard
    input answers to the config found from the working directory."""
    if explicit is not None:
        return [(config_mod.load(Path(explicit), rule_ids), list(dict.fromkeys(sources)))]
    by_dir: dict[str, Path | None] = {}
    groups: dict[Path | None, list[str]] = {}
    for source in dict.fromkeys(sources):
        directory = os.getcwd() if source == stdin_name else os.path.dirname(os.path.abspath(source))
        if directory not in by_dir:
            by_dir[directory] = config_mod.find(Path(directory))
        groups.setdefault(by_dir[directory], []).append(source)
    return [(config_mod.load(path, rule_ids), members) for path, members in groups.items()]


def run_level(configs: Sequence[Config], key: str, given: object) -> object:
    """A run-level option: the command line's, else the one value the config files set (None when none
    sets it). Config files that disagree are a ConfigError naming them."""
    if given is not None:
        return given
    values = {c.file: c.option(key) for c in configs if key in dict(c.options)}
    distinct = set(values.values())
    if len(distinct) > 1:
        listed = ", ".join(f"{v!r} in {f}" for f, v in values.items())
        raise ConfigError(f"the audited files' config files disagree on {key!r} ({listed}): pass --{key} on the command line")
    return distinct.pop() if distinct else None
