"""What a check is (the `Check` protocol) and what it sees (`Context`, read-only).

A check is a module with RULE_ID, CATEGORY, SEVERITY (the default), a docstring that is its
documentation and `check(ctx)`, which yields Hits. It sees one target through a frozen Context: the
target, the settings, the catalogue, the requirements, the coverage rows and the statements, with the
lookups several checks share. Nothing in it is writable: checks cannot pass data to each other, and
the engine, not a check, reports a check that raised (see checks/internal_error.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Protocol

from auditor.catalogue import Catalogue, Naming, Requirement
from auditor.deploy import DeployChoice
from auditor.evaluate import ActionIndex, statement_matches_action
from auditor.model import Statement
from auditor.report import CoverageRow, Hit, Settings, Target


class Check(Protocol):
    """One rule: a module of the registry (auditor/checks/__init__.py)."""

    RULE_ID: str
    CATEGORY: str
    SEVERITY: str

    def check(self, ctx: Context) -> Iterable[Hit]: ...


@lru_cache(maxsize=64)  # by the catalogue's identity
def catalogue_actions(catalogue: Catalogue) -> frozenset[str]:
    """The actions (lower-cased) of every requirement of the catalogue: Catalogue.rendered_resources
    finds nothing for any other."""
    return frozenset(r.action.lower() for r in catalogue.requirements)


class RenderedPatterns:
    """The resource patterns Jets uses for sets of actions, rendered for one target's audit and kept
    for it (statements repeat action sets). Its only entry point computes from the catalogue: a check
    can read what another asked for, never put something else in its place."""

    __slots__ = ("_catalogue", "_settings", "_found")

    def __init__(self, catalogue: Catalogue, settings: Settings) -> None:
        self._catalogue = catalogue
        self._settings = settings
        self._found: dict[tuple[frozenset[str], str | None, str, bool], tuple[str, ...]] = {}

    def get(self, actions: Iterable[str], project: str | None, env: str, *, as_names: bool = False) -> tuple[str, ...]:
        """The resources as shown, or (`as_names`) as the evaluator reads them (Catalogue.resource_patterns)."""
        # only the catalogue's actions have patterns: the others are left out of the key (more hits)
        wanted = catalogue_actions(self._catalogue).intersection(map(str.lower, actions))
        key = (wanted, project, env, as_names)
        found = self._found.get(key)
        if found is None:
            s = self._settings
            naming = Naming(project or s.prefix, env, s.jets_version, s.region, s.account)
            read = self._catalogue.resource_patterns if as_names else self._catalogue.rendered_resources
            found = self._found[key] = read(naming, wanted)
        return found


@dataclass(frozen=True)
class Context:
    """What a check sees: one target, the settings, its coverage, and shared lookups. Read-only."""

    target: Target
    settings: Settings
    catalogue: Catalogue
    requirements: tuple[Requirement, ...]  # the selected features' requirements
    needed: Mapping[str, str]  # lower-cased → canonical spelling of every action they need
    coverage: tuple[CoverageRow, ...]
    statements: tuple[Statement, ...]  # the target's, in order
    action_index: ActionIndex  # which statements name each needed or escalation action
    deploy: DeployChoice | None = None  # the Region and account coverage was judged for (split-deploy)
    _patterns: RenderedPatterns = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_patterns", RenderedPatterns(self.catalogue, self.settings))

    def statements_naming(self, action: str) -> Sequence[Statement]:
        """The statements whose Action (or NotAction) covers `action`, in order."""
        if action.lower() in self.action_index:
            return self.action_index.relevant(action)
        return [s for s in self.statements if statement_matches_action(s, action)]

    def needed_by(self, stmt: Statement) -> list[str]:
        """The needed actions (canonical spelling, sorted) that `stmt`'s Action names."""
        return sorted(self.needed[a] for a in self.action_index.actions_of(stmt) if a in self.needed)

    @cached_property
    def _by_ref(self) -> dict[str, Statement]:
        return {stmt.ref: stmt for stmt in reversed(self.statements)}  # the first of equal refs wins

    def statement(self, ref: str) -> Statement:
        """The statement a coverage row names (refs always come from this target's statements)."""
        return self._by_ref[ref]

    def rendered(self, actions: Iterable[str], *, project: str | None = None, env: str = "*") -> tuple[str, ...]:
        """Resource patterns Jets uses for these actions (in any feature: a pattern another feature needs
        is not a wrong pattern), sorted, rendered for any env (env "*") and the audit's prefix (or
        `project`)."""
        return self._patterns.get(actions, project, env)

    def jets_names(self, actions: Iterable[str], *, project: str | None = None, env: str = "*") -> tuple[str, ...]:
        """`rendered`'s resources as the evaluator reads them, each name part the names Jets can create
        there (rules/names.toml): what a policy's Resource is matched against, as coverage matches it."""
        return self._patterns.get(actions, project, env, as_names=True)
