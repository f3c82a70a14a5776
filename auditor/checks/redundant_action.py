"""redundant-action: an action already granted by a wildcard on the same or broader resources.

What it does
    For each action entry of an Action statement, looks for a wildcard entry (in the same or another
    statement of the same policy document and effect, without conditions) whose actions include it
    and whose resources contain every resource of the first statement. Action matching is
    case-insensitive; resource containment uses the evaluator's exact pattern containment. (Entries
    another policy of the same principal grants are reported by cross-policy-duplicate, once per pair
    of policies.) An action is compared only with the wildcards whose literal start begins its own, or
    only with those of the statements whose Resource entries may contain its statement's (whichever
    are fewer), at most 200,000 comparisons per target; past that an info finding says from which
    entry on it stopped.

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
from dataclasses import dataclass

from auditor.budget import StartIndex, Work, literal_start
from auditor.checks.base import Context
from auditor.globs import MATCHES_NONE, as_requirement, covers, extent, match_classes
from auditor.model import Location, Statement
from auditor.report import Hit

RULE_ID = "redundant-action"
CATEGORY = "duplicate"
SEVERITY = "low"


def resources_within(inner: tuple[str, ...], outer: tuple[str, ...]) -> bool:
    for r in inner:
        if r in outer or "*" in outer:
            continue
        wanted = as_requirement(r)  # the entry as the requirement it is (a segment-ending star stays one)
        if wanted is None:
            return False  # a policy variable: its strings are not known
        if "**" in wanted:
            # Its strings whose crossing stars hold no colon are some of its strings: when no pattern
            # matches any of those (decided segment by segment, never a search that gave up), the entry
            # is not contained. Exact, and it spares the product search for unrelated resources.
            narrow = wanted.replace("**", "*") if wanted != "**" else "*"
            if all(extent(narrow, o) == MATCHES_NONE for o in outer):
                return False
        classes = match_classes(wanted, tuple(outer))
        if not classes or not all(any(v) for v in classes):
            return False
    return True


@dataclass(frozen=True)
class Held:
    """The wildcard Action entries of some statements (the holders), indexed two ways: by the
    wildcard's literal start (`by_action`: (lower-cased wildcard, as written, holder), in the order the
    statement-by-statement search tries them: holder by holder, within one the entries of the action's
    own service before service wildcards (`*`, `s3*:Get*`), each in policy order), and by the literal
    start of each holder's Resource entries (`by_resource`: (holder's place, holder)). `own` lists each
    holder's wildcards in that order, with their literal starts."""

    by_action: StartIndex
    by_resource: StartIndex
    own: dict[int, list[tuple[str, str, str]]]  # id(holder) → (start, lower-cased, as written)

    def __bool__(self) -> bool:
        return bool(self.by_action)


def wildcards(holders: Sequence[Statement]) -> Held:
    """The wildcard Action entries of `holders`, indexed (see Held)."""
    entries: list[tuple[str, tuple[int, bool, int], tuple[str, str, Statement]]] = []
    own: dict[int, list[tuple[str, str, str]]] = {}
    places: list[tuple[str, int, tuple[int, Statement]]] = []
    for h, stmt in enumerate(holders):
        found = []
        for k, w in enumerate(stmt.actions or ()):
            if "*" in w or "?" in w:
                low = w.lower()
                general = any(c in low.partition(":")[0] for c in "*?")
                start = literal_start(low)
                entries.append((start, (h, general, k), (low, w, stmt)))
                found.append(((general, k), (start, low, w)))
        if found:
            own[id(stmt)] = [entry for _, entry in sorted(found, key=lambda item: item[0])]
            places.extend((literal_start(r), h, (h, stmt)) for r in dict.fromkeys(stmt.resources or ()))
    return Held(StartIndex(entries), StartIndex(places), own)


def _candidates(action_start: str, held: Held, holders: list[Statement] | None, looked: int,
                work: Work) -> list[tuple[str, str, Statement]] | None:
    """The wildcards that may grant an action of literal start `action_start`, in the search's order: through the
    action index, or through the holders that may contain the statement's resources (`looked`: how many
    wildcards they hold) when they hold fewer wildcards (the same candidates but those of holders that
    cannot contain them). None once the work budget is spent."""
    if holders is not None:
        if looked == 0 or looked <= held.by_action.looks(action_start):
            if not work.spend(1 + looked):
                return None
            return [(w_low, w, h) for h in holders for start, w_low, w in held.own[id(h)] if action_start.startswith(start)]
    found, looked = held.by_action.candidates(action_start)
    return found if work.spend(1 + looked) else None


def redundant(statements: Iterable[Statement], held: Held, work: Work) -> Iterator[tuple[Statement, int, str, str, Statement]]:
    """(statement, index, action, wildcard, the statement holding it) for each action entry of
    `statements` that a wildcard of `held` (see `wildcards`) already grants on the same or broader
    resources. Stops, with `work.exhausted` set, when the work budget runs out.

    A holder contains a statement's resources only if, for each of them, one of its Resource entries
    has a literal start that begins the resource's own (the resource's string with OTHER in its first
    wildcard is one it must match; a lone "*" starts with ""): the holders found so for the resource
    with the longest start are the only ones worth trying, and when they hold fewer wildcards than the
    action index would give, they are tried instead (the same order, the same first answer)."""
    if not held:
        return
    for stmt in statements:
        if stmt.actions is None or stmt.resources is None:
            continue
        holders: list[Statement] | None = None
        if stmt.resources:
            best = max(map(literal_start, stmt.resources), key=len)
            places, looked = held.by_resource.candidates(best)
            if not work.spend(1 + looked):
                work.where = stmt.element_pointer("Resource", 0)
                return
            holders = [h for _, h in sorted({id(h): (place, h) for place, h in places}.values(), key=lambda ph: ph[0])]
        held_there = sum(len(held.own[id(h)]) for h in holders) if holders else 0  # their wildcards, for every action
        eligible: dict[int, bool] = {}  # id(holder) → can it hold stmt's actions (effect, conditions, resources)?
        for i, action in enumerate(stmt.actions or ()):
            if action.strip("*") == "":
                continue
            low = action.lower()
            found = _candidates(literal_start(low), held, holders, held_there, work)
            if found is None:
                work.where = stmt.element_pointer("Action", i)
                return
            for low_w, wildcard, other in found:
                if low_w == low:
                    continue
                ok = eligible.get(id(other))
                if ok is None:
                    work.spend(len(stmt.resources or ()))
                    ok = eligible[id(other)] = (other.effect == stmt.effect
                                                and not (other.conditions and other.conditions != stmt.conditions)
                                                and resources_within(stmt.resources or (), other.resources or ()))
                if ok and covers(low, low_w):
                    yield stmt, i, action, wildcard, other
                    break


def plain(statements: Iterable[Statement]) -> list[Statement]:
    return [s for s in statements if s.actions is not None and s.resources is not None]


def check(ctx: Context) -> Iterator[Hit]:
    work = Work()
    for policy in ctx.target.policies:
        statements = plain(policy.statements)
        for stmt, i, action, wildcard, other in redundant(statements, wildcards(statements), work):
            where = "the same statement" if other is stmt else other.label
            yield Hit(f'"{action}" in {stmt.label} is already granted by "{wildcard}" in {where}', action,
                      stmt.element_location("Action", i), fix=f'delete "{action}" or narrow "{wildcard}"')
        if work.exhausted:
            yield work.stopped(RULE_ID, f"the Action entries from {work.where} of {policy.name} on (and later policies') "
                                        "were", Location(policy.source, work.where))
            return
