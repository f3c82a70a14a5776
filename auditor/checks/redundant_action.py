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

from collections.abc import Iterable, Iterator, Sequence

from auditor.checks.base import Context
from auditor.globs import covers, match_classes
from auditor.model import Statement
from auditor.report import Hit

RULE_ID = "redundant-action"
CATEGORY = "duplicate"
SEVERITY = "low"


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


def redundant(statements: Sequence[Statement], holders: Sequence[Statement]) -> Iterator[tuple[Statement, int, str, str, Statement]]:
    """(statement, index, action, wildcard, the statement holding it) for each action entry of
    `statements` that a wildcard of `holders` already grants on the same or broader resources."""
    wild = {id(s): _wildcards(s) for s in holders}
    holders = [s for s in holders if wild[id(s)]]
    for stmt in statements:
        if stmt.actions is None or stmt.resources is None:
            continue
        others = [o for o in holders if o.effect == stmt.effect
                  and not (o.conditions and o.conditions != stmt.conditions)
                  and _resources_within(stmt.resources or (), o.resources or ())]
        if not others:
            continue
        for i, action in enumerate(stmt.actions or ()):
            if action.strip("*") == "":
                continue
            low = action.lower()
            for other in others:
                table = wild[id(other)]
                candidates = table.get(_service(action), []) + table.get("", [])
                wildcard = next((w for w in candidates if w.lower() != low and covers(low, w.lower())), None)
                if wildcard:
                    yield stmt, i, action, wildcard, other
                    break


def plain(statements: Iterable[Statement]) -> list[Statement]:
    return [s for s in statements if s.actions is not None and s.resources is not None]


def check(ctx: Context) -> Iterator[Hit]:
    for policy in ctx.target.policies:
        statements = plain(policy.statements)
        for stmt, i, action, wildcard, other in redundant(statements, statements):
            where = "the same statement" if other is stmt else other.label
            yield Hit(f'"{action}" in {stmt.label} is already granted by "{wildcard}" in {where}', action,
                      stmt.element_location("Action", i), fix=f'delete "{action}" or narrow "{wildcard}"')
