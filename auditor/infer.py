"""What a policy says about the project it was written for, when the options do not say it.

`infer_envs` reads the Jets envs a policy names from its Jets-shaped ARNs: every catalogue template
that holds the env (function:{ns}-*, layer:{env}-{project}-gems, parameter/{project}/{fullenv}/*, ...)
is turned into a pattern with the env as a group, and matched against the start of each Resource.
A pattern with a wildcard where the env goes (function:demo-*) names no env: it covers them all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from auditor.catalogue import SHORT_ENVS, Catalogue, Naming, major
from auditor.model import Policy

_MARK = "JETSENVMARK"
_ENV_FIELDS = ("{ns}", "{ns_lower}", "{env}", "{fullenv}")


@lru_cache(maxsize=64)
def _env_patterns(templates: frozenset[str], prefix: str, version: str) -> tuple[re.Pattern[str], ...]:
    """One regular expression per template that holds the env: its text up to the character after the
    env, with the env as group 1 (letters and digits only: Jets joins names with '-')."""
    naming = Naming(prefix, _MARK, version)
    out = []
    for template in sorted(templates):
        if not any(f in template for f in _ENV_FIELDS):
            continue
        rendered = naming.render(template)
        at = rendered.lower().find(_MARK.lower())
        if at < 0:
            continue
        head = re.escape(rendered[:at]).replace(r"\*", "[^:]*")
        head = re.sub(r"^arn:aws:", "arn:[^:]*:", head)
        follow = re.escape(rendered[at + len(_MARK): at + len(_MARK) + 1])
        out.append(re.compile(f"^{head}([A-Za-z0-9]+){follow}" if follow else f"^{head}([A-Za-z0-9]+)$",
                              re.IGNORECASE if "{ns_lower}" in template else 0))
    return tuple(out)


def infer_envs(policies: Sequence[Policy], prefix: str, catalogue: Catalogue, version: str) -> tuple[tuple[str, str], ...]:
    """(env, the ARN that names it) for each env the policy's Allow statements name, in order."""
    templates = frozenset(r.resource for r in catalogue.select(version, catalogue.feature_ids))
    patterns = _env_patterns(templates, prefix, version)
    found: dict[str, str] = {}
    for policy in policies:
        for stmt in policy.statements:
            if stmt.effect != "Allow" or stmt.resources is None:
                continue
            for arn in stmt.resources:
                for pattern in patterns:
                    m = pattern.match(arn)
                    if m:
                        env = m.group(1)
                        env = SHORT_ENVS.get(env, env) if major(version) != "6" else env
                        found.setdefault(env, arn)
                        break
    return tuple(found.items())
