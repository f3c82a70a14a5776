"""redundant-action: an action already granted by a wildcard on the same or broader resources.

What it does
    For each action entry of an Action statement, looks for a wildcard entry (in the same or another
    statement of the same policy document and effect, without conditions) whose actions include it
    and whose resources contain every resource of the first statement. Action matching is
    case-insensitive; resource containment uses the evaluator's exact pattern containment. (Entries
    another policy of the same principal grants are reported by cross-policy-duplicate, once per pair
    of policies.)

Why it matters
    Redundant entries make a policy longer than it needs to be (IAM's size quota is 6,144 characters
    for a managed policy) and hide which statement really grants an action: narrowing the wildcard
    later silently keeps the explicit grant, or removing the explicit one changes nothing.

Example
    "s3:GetObject" in Statement[3] is already granted by "s3:Get*" in Statement[3]

Fix
    Delete the redundant entry, or narrow the wildcard and keep the explicit action.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence

from auditor.automata import literal_ends
from auditor.globs import covers, match_classes, policy_pattern, requirement_pattern
from auditor.report import Hit

RULE_ID = "redundant-action"
CATEGORY = "duplicate"
SEVERITY = "low"
FEW = 8  # holders left after the service filter below which the resource index is not consulted


def _resources_within(inner: tuple[str, ...], outer: tuple[str, ...]) -> bool:
    for r in inner:
        if r in outer or "*" in outer:
            continue
        classes = match_classes(r, tuple(outer))
        if not classes or not all(any(v) for v in classes):
            return False
    return True


def _service(action: str) -> str:
    return action.partition(":")[0].lower()


def _wildcards(stmt) -> dict[str, list[str]]:
    """The statement's wildcard entries by lower-cased service ("" for service wildcards such as "*")."""
    out: dict[str, list[str]] = {}
    for w in stmt.actions or ():
        if "*" in w or "?" in w:
            service = _service(w)
            out.setdefault("" if any(c in service for c in "*?") else service, []).append(w)
    return out


class Holders:
    """The statements holding wildcard actions, indexed so that a statement meets only those that may
    grant its actions on its resources, and cost grows with statements, not with pairs of them:

    - by service: a wildcard of another service ("s3:Get*" for "lambda:GetFunction") never covers;
    - by the literal start of their resources (the text before the first wildcard): a pattern whose
      start is neither a prefix of the resource's start nor starts with it shares no string with it
      (globs._ends_agree, the same necessary condition `extent` begins with), so a holder none of
      whose resources agree with one of the statement's cannot contain it;
    - holders alike in effect, conditions, resources and wildcards answer alike: the first stands for
      all (the first is the one reported).

    The exact tests (pattern containment, `covers`) then run on what is left, in statement order."""

    def __init__(self, statements: Sequence) -> None:
        self.items: list[tuple[object, dict[str, list[str]]]] = []
        seen: set = set()
        for s in statements:
            table = _wildcards(s)
            if not table:
                continue
            alike = (s.effect, s.conditions, s.resources, tuple(w for ws in table.values() for w in ws))
            if alike in seen:
                continue
            seen.add(alike)
            self.items.append((s, table))
        self.by_service: dict[str, set[int]] = {}
        by_start: dict[str, set[int]] = {}
        for n, (s, table) in enumerate(self.items):
            for service in table:
                self.by_service.setdefault(service, set()).add(n)
            for r in s.resources or ():  # type: ignore[attr-defined]
                by_start.setdefault(policy_pattern(r).ends[0], set()).add(n)
        self.by_start = by_start
        self.starts = sorted(by_start)

    def _agreeing(self, start: str) -> set[int]:
        """The holders with a resource whose literal start agrees with `start` (one a prefix of the other)."""
        found: set[int] = set()
        by_start = self.by_start
        for k in range(len(start) + 1):  # their start is a prefix of this one
            hit = by_start.get(start[:k])
            if hit:
                found |= hit
        starts = self.starts
        i = bisect_left(starts, start)
        while i < len(starts) and starts[i].startswith(start):  # this one is a prefix of theirs
            found |= by_start[starts[i]]
            i += 1
        return found

    def candidates(self, stmt) -> list[tuple[object, dict[str, list[str]]]]:
        """The holders that may grant some action of `stmt` on all its resources, in statement order."""
        if not self.items:
            return []
        services = {_service(a) for a in stmt.actions if a.strip("*")}
        found = set().union(self.by_service.get("", ()), *(self.by_service.get(s, ()) for s in services))
        if len(found) <= FEW:  # the exact tests on a few cost less than the index (cross-policy-duplicate asks per pair)
            return [self.items[n] for n in sorted(found)]
        for r in stmt.resources:
            if not found:
                break
            found &= self._agreeing(literal_ends(requirement_pattern(r))[0])
        return [self.items[n] for n in sorted(found)]


def redundant(statements, holders) -> Iterator[tuple[object, int, str, str, object]]:
    """(statement, index, action, wildcard, the statement holding it) for each action entry of
    `statements` that a wildcard of `holders` (statements, or their Holders index) already grants on the
    same or broader resources; of several, the first holding statement and its first such wildcard."""
    index = holders if isinstance(holders, Holders) else Holders(holders)
    for stmt in statements:
        if stmt.actions is None or stmt.resources is None:
            continue
        others = [(o, table) for o, table in index.candidates(stmt) if o.effect == stmt.effect  # type: ignore[attr-defined]
                  and not (o.conditions and o.conditions != stmt.conditions)  # type: ignore[attr-defined]
                  and _resources_within(stmt.resources or (), o.resources or ())]  # type: ignore[attr-defined]
        if not others:
            continue
        for i, action in enumerate(stmt.actions or ()):
            if action.strip("*") == "":
                continue
            low = action.lower()
            for other, table in others:
                candidates = table.get(_service(action), []) + table.get("", [])
                wildcard = next((w for w in candidates if w.lower() != low and covers(low, w.lower())), None)
                if wildcard:
                    yield stmt, i, action, wildcard, other
                    break


def plain(statements) -> list:
    return [s for s in statements if s.actions is not None and s.resources is not None]


def check(ctx) -> Iterator[Hit]:
    for policy in ctx.target.policies:
        statements = plain(policy.statements)
        for stmt, i, action, wildcard, other in redundant(statements, statements):
            where = "the same statement" if other is stmt else other.label
            yield Hit(f'"{action}" in {stmt.label} is already granted by "{wildcard}" in {where}', action,
                      stmt.element_location("Action", i), fix=f'delete "{action}" or narrow "{wildcard}"')
