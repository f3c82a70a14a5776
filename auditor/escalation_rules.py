"""rules/escalation.toml loaded: the privilege-escalation paths, the services that run code as a role
they are given, and what Jets creates that runs as a role (auditor/escalation.py judges them)."""

from __future__ import annotations

import tomli
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from auditor.releases import ReleaseError, ReleaseRange, parse_range

SEVERITIES = ("critical", "high")


class EscalationError(Exception):
    """rules/escalation.toml is broken: a bug in this package, reported with the entry."""


@dataclass(frozen=True)
class EscalationPath:
    """A direct path: every action granted on a resource beyond the project."""

    name: str
    actions: tuple[str, ...]
    severity: str
    how: str


@dataclass(frozen=True)
class Service:
    """A service that runs code as a role passed to it (see the file's comments)."""

    name: str
    principal: str
    severity: str
    create: tuple[str, ...]
    run: tuple[tuple[str, ...], ...]
    switch: tuple[tuple[str, ...], ...] = ()
    code: tuple[tuple[str, ...], ...] = ()

    @property
    def actions(self) -> tuple[str, ...]:
        return (*self.create, *(a for group in (*self.run, *self.switch, *self.code) for a in group))


@dataclass(frozen=True)
class RunsAs:
    """What a Jets release creates that runs code, the role it runs as, and what Jets gives that role."""

    releases: ReleaseRange
    service: str
    compute: str
    role: str
    evidence: str
    remedy: str
    privileged: str = ""  # what Jets gives the role by default, when that alone is more than a deploy needs


@dataclass(frozen=True)
class EscalationRules:
    paths: tuple[EscalationPath, ...] = ()
    services: tuple[Service, ...] = ()
    runs_as: tuple[RunsAs, ...] = ()
    request: tuple[tuple[str, str], ...] = ()  # key → template of what the holder's requests carry
    admin: str = "arn:aws:iam::aws:policy/AdministratorAccess"

    @cached_property
    def actions(self) -> frozenset[str]:
        """Every action the paths and services name, and those a role is written with, lower-cased."""
        named = [a for p in self.paths for a in p.actions] + [a for s in self.services for a in s.actions]
        named += list(ROLE_ACTIONS)
        return frozenset(a.lower() for a in named)


# How a role is made privileged and passed: create it, write its policy, rewrite its trust, pass it.
ROLE_ACTIONS = ("iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy",
                "iam:PassRole", "sts:AssumeRole", "cloudformation:CreateStack", "cloudformation:UpdateStack")


def load(base: Path) -> EscalationRules:
    where = "rules/escalation.toml"
    try:
        data = tomli.loads((base / "escalation.toml").read_text(encoding="utf-8"))
    except (OSError, tomli.TOMLDecodeError) as exc:
        raise EscalationError(f"{where}: {exc}") from exc
    paths = []
    for n, entry in enumerate(data.get("path", []), 1):
        try:
            paths.append(EscalationPath(str(entry["name"]), tuple(entry["actions"]), str(entry["severity"]), str(entry["how"])))
        except KeyError as exc:
            raise EscalationError(f"{where} [[path]] #{n}: missing {exc}") from exc
    services = []
    for n, entry in enumerate(data.get("service", []), 1):
        try:
            services.append(Service(str(entry["name"]), str(entry["principal"]), str(entry["severity"]),
                                    tuple(entry["create"]), _groups(entry["run"]), _groups(entry.get("switch", [])),
                                    _groups(entry.get("code", []))))
        except (KeyError, TypeError) as exc:
            raise EscalationError(f"{where} [[service]] #{n}: {exc}") from exc
    runs_as = []
    for n, entry in enumerate(data.get("runs_as", []), 1):
        try:
            runs_as.append(RunsAs(parse_range(entry["releases"]), str(entry["service"]), str(entry["compute"]),
                                  str(entry["role"]), str(entry["evidence"]), str(entry["remedy"]),
                                  str(entry.get("privileged", ""))))
        except (KeyError, ReleaseError) as exc:
            raise EscalationError(f"{where} [[runs_as]] #{n}: {exc}") from exc
    for name, severity in [(p.name, p.severity) for p in paths] + [(s.name, s.severity) for s in services]:
        if severity not in SEVERITIES:
            raise EscalationError(f"{where}: {name!r}: severity {severity!r} is not one of {SEVERITIES}")
    request = dict(data.get("request", {}))
    admin = str(request.pop("admin", EscalationRules.admin))
    return EscalationRules(tuple(paths), tuple(services), tuple(runs_as),
                           tuple((k, str(v)) for k, v in request.items()), admin)


def _groups(raw: list) -> tuple[tuple[str, ...], ...]:
    if not isinstance(raw, list) or not all(isinstance(g, list) for g in raw):
        raise TypeError("run, switch and code are lists of action lists")
    return tuple(tuple(g) for g in raw)
