"""What a check is (the `Check` protocol) and what it sees (`Context`, read-only).

A check is a module with RULE_ID, CATEGORY, SEVERITY (the default), a docstring that is its
documentation and `check(ctx)`, which yields Hits. It sees one target through a frozen Context: the
target, the settings, the catalogue, the requirements, the coverage rows and the statements, with the
lookups several checks share. Nothing in it is writable: checks cannot pass data to each other, and
the engine, not a check, reports a check that raised (see checks/internal_error.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from auditor.catalogue import Catalogue, Naming, Requirement
from auditor.deploy import DeployChoice
from auditor.evaluate import ActionIndex, statement_matches_action
from auditor.model import Statement
from auditor.name_parts import Text
from auditor.report import CoverageRow, Hit, Settings, Target


class Check(Protocol):
    """One rule: a module of the registry (auditor/checks/__init__.py)."""

    RULE_ID: str
    CATEGORY: str
    SEVERITY: str

    def check(self, ctx: Context) -> Iterable[Hit]: ...


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
        return self.catalogue.rendered_resources(self._naming(project, env), frozenset(a.lower() for a in actions))

    def jets_names(self, actions: Iterable[str], *, project: str | None = None, env: str = "*") -> tuple[Text, ...]:
        """`rendered`'s resources as the evaluator reads them, each name part the names Jets can create
        there (rules/names.toml): what a policy's Resource is matched against, as coverage matches it."""
        return self.catalogue.resource_patterns(self._naming(project, env), frozenset(a.lower() for a in actions))

    def _naming(self, project: str | None, env: str) -> Naming:
        s = self.settings
        return Naming(project or s.prefix, env, s.jets_version, s.region, s.account)
