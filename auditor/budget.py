"""The work a check may do on one target, as documented limits (README, "Limits").

Checks that expand wildcard actions count the action names each expansion looks at (`Work.expand`,
MAX_SCANNED): a service wildcard such as `*:Describe*` looks at every action of every service. Checks
that compare a statement's entries with each other (duplicate-resource, redundant-action,
cross-policy-duplicate) look candidates up in a `StartIndex` instead of trying every pair, and count
what they still compare against a `Work` budget. Past the budget a check stops comparing and says so
in an info finding of its own rule: the rest of the audit goes on, and nothing is silently skipped.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable
from typing import Any

from auditor import awsdata

MAX_COMPARISONS = 200_000  # index look-ups, candidate pairs and resource checks one check makes on one target
MAX_SCANNED = 4_000_000  # action names the wildcard expansions of one check may look at on one target
HEAD = 64  # characters of a literal start an index keys on; longer starts share a bucket and are told apart by text


class Work:
    """A countdown of comparisons for one check on one target. Each check makes its own: a countdown
    is never shared between checks, targets or runs."""

    __slots__ = ("left", "limit", "spent", "where")

    def __init__(self, limit: int | None = None) -> None:
        self.limit = MAX_COMPARISONS if limit is None else limit
        self.left = self.limit
        self.spent = 0
        self.where = ""  # where a check stopped (an RFC 6901 pointer), for its message

    def spend(self, n: int = 1) -> bool:
        """Count `n` comparisons; False once the budget is used up (the caller stops)."""
        self.spent += n
        self.left -= n
        return self.left >= 0

    @property
    def exhausted(self) -> bool:
        return self.left < 0

    def expand(self, pattern: str) -> tuple[str, ...] | None:
        """awsdata.expand(pattern), its scan counted; None once the budget is spent (nothing expanded)."""
        return awsdata.expand(pattern) if self.spend(awsdata.scan_size(pattern)) else None

    def stopped_at(self, rule_id: str, stmt, element: str, index: int, done: str = "expanded"):
        """`stopped` at entry `index` of a statement's `element` (Action, Resource, ...)."""
        return self.stopped(rule_id, f"the {element} entries from {stmt.element_pointer(element, index)} on were",
                            stmt.element_location(element, index), done)

    def stopped(self, rule_id: str, what: str, location, done: str = "compared"):
        """The info finding (a Hit) a check yields when it stops: `what` "were" not `done`."""
        from auditor.report import Hit

        unit = "comparisons" if done == "compared" else "action names looked at"
        return Hit(f"{rule_id} stopped after {self.limit:,} {unit} (a per-check work limit, see the README's "
                   f"Limits): {what} not {done}", rule_id, location, "info")


def literal_start(text: str) -> str:
    """A pattern's text before its first `*`, `?` or `$` (where a wildcard or a `${...}` may begin).

    A pattern P can contain a pattern X (match every string X stands for) only if literal_start(P)
    begins literal_start(X). Every string of X starts with X's literal text up to its first wildcard,
    and some string goes on with any character one likes there (a wildcard takes more than one, or none
    followed by X's next character, and a `?` or `*` of any class here takes two at least): P's start,
    a prefix of every string P matches, is a prefix of X's literal text, and as it holds no `*`, `?`
    or `$` it cannot run past the place where X's text first has one."""
    return _LITERAL_START.match(text).group()  # type: ignore[union-attr]  # (the pattern matches every text)


_LITERAL_START = re.compile(r"[^*?$]*")


class StartIndex:
    """Patterns by their literal start (`literal_start`).

    A pattern can contain a string or pattern only if its literal start begins the other's literal
    start, so `candidates` looks at the patterns whose start is a prefix of the given one: at most
    HEAD + 1 dictionary look-ups, whatever the number of patterns, then the bucket's members in the
    order of their keys."""

    def __init__(self, items: Iterable[tuple[str, Hashable, Any]]) -> None:
        """`items`: (literal start, sort key, value); candidates come back sorted by key."""
        self._buckets: dict[str, list[tuple[Any, str, Any]]] = {}
        for start, order, value in items:
            self._buckets.setdefault(start[:HEAD], []).append((order, start, value))
        self._lengths = sorted({len(k) for k in self._buckets})

    def __bool__(self) -> bool:
        return bool(self._buckets)

    def looks(self, start: str) -> int:
        """How many members `candidates(start)` would look at (its dictionary look-ups only)."""
        total = 0
        for n in self._lengths:
            if n > len(start):
                break
            total += len(self._buckets.get(start[:n], ()))
        return total

    def candidates(self, start: str) -> tuple[list[Any], int]:
        """The values whose pattern's start begins `start`, by key, and how many members were looked at."""
        found: list[tuple[Any, str, Any]] = []
        for n in self._lengths:
            if n > len(start):
                break
            bucket = self._buckets.get(start[:n])
            if bucket:
                found.extend(bucket)
        looked = len(found)
        if len(found) > 1:
            found.sort(key=lambda member: member[0])
        return [value for _, s, value in found if start.startswith(s)], looked
