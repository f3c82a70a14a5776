"""The IAM evaluator for identity policies (docs/design.md, "The evaluator"): which statements name an action, and verdicts.

Question answered: may this principal perform `action` on every resource Jets may create under the
requirement's resource pattern? (`match="some"`: on at least one of them, for resources the app names
freely, such as a DynamoDB table.)

Semantics:
- Allowed iff some Allow statement matches and no Deny statement matches; an explicit Deny wins.
- Actions match case-insensitively with `*` (any run) and `?` (one character); NotAction matches
  every action except those listed.
- Resources: the glob algebra of auditor/globs.py (containment, not one sample). NotResource matches
  every resource except those listed.
- Region and account: when the user gave none, the requirement's region/account segments are free,
  and a policy pinned to one region or account still counts as granting (each pinned value the policy
  uses is tried as a candidate). When given, they are literal and other values do not match.
- A Deny that matches some but not all of the names Jets may create under a requirement (a Deny on
  function:demo-dev-admin*: Jets names functions after the app's classes) makes it `name-dependent`:
  the deploy fails only if the app names something so. A Deny that matches every such name denies it.
- Conditions are judged by a ConditionJudge, the one place a Condition is decided. The judge in use,
  `undecided`, evaluates none: an Allow with a Condition grants only `conditional`ly, a Deny with a
  Condition makes the action `conditional`. Policy variables such as `${aws:username}` are not
  resolved: a resource that needs one to match grants only `conditional`ly. A shell placeholder such as
  `${MY_PREFIX}` (no colon, so not an IAM variable) is literal text and matches no Jets resource.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from auditor.arn import parse_arn
from auditor.automata import CACHE_SIZE
from auditor.conditions import Decision, Truth
from auditor.glob_text import policy_pattern
from auditor.globs import (
    MATCHES_ALL,
    MATCHES_NONE,
    MATCHES_SOME,
    MAX_JOINT,
    MAX_STATES,
    Extent,
    gave_up,
    group_classes,
    name_matcher,
    union_extent,
)
from auditor.model import Statement
from auditor.name_parts import Text, join_by, split

GRANTED, MISSING, DENIED, CONDITIONAL = "granted", "missing", "denied", "conditional"
NAME_DEPENDENT = "name-dependent"  # a Deny takes some of the names Jets may create under the requirement, not all


# --- actions ----------------------------------------------------------------------------------

def action_matches(pattern: str, action: str) -> bool:
    """`pattern` from a policy (may hold * and ?) against a concrete `service:Name`."""
    return name_matcher(pattern)(action.lower())


def statement_matches_action(stmt: Statement, action: str) -> bool:
    """Does the statement's Action name `action` (or its NotAction leave it out)?"""
    if stmt.actions is not None:
        return any(action_matches(p, action) for p in stmt.actions)
    return not any(action_matches(p, action) for p in stmt.not_actions or ())


@lru_cache(maxsize=CACHE_SIZE)
def _pattern_hits(pattern: str, universe: frozenset[str]) -> frozenset[str]:
    """The lower-cased actions of `universe` an Action pattern matches. Keyed by the universe object
    a run shares (engine.Plan), which hashes once and compares by identity."""
    if "*" not in pattern and "?" not in pattern:
        low = pattern.lower()
        return frozenset({low}) if low in universe else frozenset()
    fits = name_matcher(pattern)
    return frozenset(a for a in universe if fits(a))


class ActionIndex:
    """The statements that name each of a fixed set of actions, in statement order: every Action
    pattern is matched once against the set, not once per action asked about. Answers exactly what
    `statement_matches_action` answers, for the actions of the set."""

    def __init__(self, statements: Sequence[Statement], universe: frozenset[str]) -> None:
        """`universe`: the actions that will be asked about, lower-cased (pass the run's one object)."""
        self._universe = universe
        self._by_action: dict[str, list[Statement]] = {}
        self._by_statement: dict[int, frozenset[str]] = {}
        for stmt in statements:
            hits: set[str] = set()
            for pattern in stmt.action_patterns:
                if "*" in pattern or "?" in pattern:
                    hits.update(_pattern_hits(pattern, universe))
                elif (low := pattern.lower()) in universe:  # a literal action: no memo entry (most are not asked about)
                    hits.add(low)
            named = frozenset(hits if stmt.actions is not None else universe - hits)
            self._by_statement[id(stmt)] = named
            for action in named:
                self._by_action.setdefault(action, []).append(stmt)

    def __contains__(self, action: str) -> bool:
        return action in self._universe

    def relevant(self, action: str) -> list[Statement]:
        """The statements naming `action` (one of the universe), in statement order."""
        return self._by_action.get(action.lower(), [])

    def actions_of(self, stmt: Statement) -> frozenset[str]:
        """The (lower-cased) actions of the set that `stmt`'s Action names."""
        return self._by_statement[id(stmt)]


# --- verdicts ---------------------------------------------------------------------------------

YES, MAYBE, NO = 2, 1, 0  # how a statement applies to a class of strings

ConditionJudge = Callable[[Statement], Decision]


def undecided(stmt: Statement) -> Decision:
    """A judge that knows nothing of the request: every Condition stays undecided."""
    return Decision(Truth.UNKNOWN, tuple(str(c) for c in stmt.conditions))


def _condition_level(stmt: Statement, judge: ConditionJudge) -> int:
    if not stmt.conditions:
        return YES
    return _LEVEL[judge(stmt).truth]


_LEVEL = {Truth.TRUE: YES, Truth.UNKNOWN: MAYBE, Truth.FALSE: NO}


@dataclass(frozen=True)
class Verdict:
    status: str
    granted_by: tuple[Statement, ...] = ()
    denied_by: tuple[Statement, ...] = ()
    notes: tuple[str, ...] = ()  # conditions and policy variables that make it conditional (or deny it)
    allowed_by: tuple[Statement, ...] = ()  # every Allow statement that names the action at all
    by_boundary: bool = False  # the permissions boundary, not the identity policies, set the status
    unmet: tuple[Statement, ...] = ()  # Allow statements that match but whose Condition this request fails


def _statement_level(stmt: Statement, vector: tuple[bool, ...], fixed: int | None, variable: int | None,
                     condition: int) -> int:
    """The statement's level for one class of strings, from whether its plain patterns (`fixed`) and
    its patterns with policy variables (`variable`) match them (indexes into the vector)."""
    hit_fixed = fixed is not None and vector[fixed]
    hit_variable = variable is not None and vector[variable]
    if stmt.resources is not None:
        level = YES if hit_fixed else MAYBE if hit_variable else NO
    else:  # NotResource: the statement applies to strings none of its patterns match
        level = NO if hit_fixed else MAYBE if hit_variable else YES
    return min(level, condition)


def _groups(relevant: Sequence[Statement]) -> tuple[tuple[tuple[str, ...], ...], list[tuple[int | None, int | None]]]:
    """Each statement's plain and variable patterns as groups (equal groups shared), and per statement
    the indexes (plain, variable) of its two groups."""
    index: dict[tuple[str, ...], int] = {}
    slots = []
    for stmt in relevant:
        patterns = stmt.resource_patterns
        found = []
        for wanted in (False, True):
            group = tuple(sorted({p for p in patterns if policy_pattern(p).has_variable == wanted}))
            found.append(index.setdefault(group, len(index)) if group else None)
        slots.append((found[0], found[1]))
    return tuple(index), slots


def _notes(stmt: Statement, judge: ConditionJudge) -> list[str]:
    """Why the statement applies only maybe: each Condition the request context leaves undecided
    (an Allow grants only if it holds, a Deny denies if it holds), each unresolved policy variable."""
    verb = "grants it only if" if stmt.effect == "Allow" else "denies it if"
    out = [f"{stmt.label} {verb} {c}, which the audit cannot know" for c in judge(stmt).unknown] if stmt.conditions else []
    for p in stmt.resource_patterns:
        if policy_pattern(p).has_variable:
            out.append(f'{stmt.label}: policy variable in "{p}" is not resolved')
    return out


def _decided_notes(statements: Sequence[Statement], judge: ConditionJudge) -> list[str]:
    """What decided Conditions did: an Allow that does not apply to this request (and the condition
    it fails), a Deny that applies because its Conditions hold."""
    out = []
    for stmt in statements:
        if not stmt.conditions:
            continue
        decision = judge(stmt)
        if stmt.effect == "Allow" and decision.truth is Truth.FALSE:
            out.append(f"{stmt.label} allows it only if {decision.failed}, which this request does not meet")
        elif stmt.effect == "Deny" and decision.truth is Truth.TRUE:
            out.append(f"{stmt.label} denies it: {'; '.join(str(c) for c in stmt.conditions)} holds for this request")
    return out


def _resource_group(stmt: Statement) -> tuple[str, ...]:
    """A statement's Resource patterns as one group: sorted, without repeats (how union_extent keys them)."""
    return tuple(sorted(set(stmt.resources or ())))


def _plain_allows(requirement: Text, relevant: Sequence[Statement], judge: ConditionJudge) -> Verdict | None:
    """The common case, without match vectors: every statement is an Allow of plain Resource patterns
    (a Condition is allowed). A statement then grants on a string iff its patterns match it, fully or
    (with an undecided condition) conditionally, and not at all when its condition cannot hold. So the
    action is missing somewhere iff the union of the statements that may apply misses part of the
    requirement, conditional somewhere iff the union of those that fully apply does, and the
    statements that grant anywhere are those that may apply and match at all. None when the
    statements are not all of that kind (_by_vectors decides)."""
    extents: list[Extent] = []
    for stmt in relevant:
        if stmt.effect != "Allow" or stmt.resources is None or any(policy_pattern(p).has_variable for p in stmt.resources):
            return None
        extents.append(union_extent(requirement, _resource_group(stmt)))
    levels = [_condition_level(stmt, judge) for stmt in relevant]
    applying = [(s, e, level) for s, e, level in zip(relevant, extents, levels, strict=True) if level != NO]
    matching = [s for s, e, _ in applying if e != MATCHES_NONE]
    if not _union_covers(requirement, [(s, e) for s, e, _ in applying]):
        status = MISSING
    elif _union_covers(requirement, [(s, e) for s, e, level in applying if level == YES]):
        status = GRANTED
    else:
        status = CONDITIONAL
    unmet = tuple(s for s, e, level in zip(relevant, extents, levels, strict=True) if level == NO and e != MATCHES_NONE)
    notes: list[str] = []
    if status == CONDITIONAL:
        conditional = {id(s) for s, _, level in applying if level == MAYBE}
        for stmt in matching:
            if id(stmt) in conditional:
                notes.extend(_notes(stmt, judge))
        matching.sort(key=lambda s: id(s) not in conditional)  # the conditional grants first
    elif status == MISSING:
        notes.extend(_decided_notes(unmet, judge))
    return Verdict(status, tuple(matching), (), tuple(dict.fromkeys(notes)), tuple(relevant), unmet=unmet)


def _union_covers(requirement: Text, pairs: Sequence[tuple[Statement, Extent]]) -> bool:
    """Do these statements' Resource patterns together cover the requirement? (Each statement with its
    `union_extent`.) More than MAX_JOINT partial ones count as not covering, as in globs._whole_vectors."""
    if any(e == MATCHES_ALL for _, e in pairs):
        return True
    partial = [s for s, e in pairs if e == MATCHES_SOME]
    if not partial or len({_resource_group(s) for s in partial}) > MAX_JOINT:
        return False
    return union_extent(requirement, tuple(sorted({p for s in partial for p in s.resources or ()}))) == MATCHES_ALL


def _by_vectors(requirement: Text, relevant: Sequence[Statement], match: str, judge: ConditionJudge) -> Verdict:
    """The general case: every class of the requirement's strings, every statement's level on it."""
    groups, slots = _groups(relevant)
    classes = group_classes(requirement, groups) if groups else frozenset({()})
    conditions = [_condition_level(stmt, judge) for stmt in relevant]
    outcomes: set[str] = set()
    everywhere_denied = True
    granting: dict[int, Statement] = {}
    denying: dict[int, Statement] = {}
    maybe_from: dict[int, Statement] = {}
    unmet: dict[int, Statement] = {}  # Allows that match some strings but fail their Condition
    for vector in classes:
        allow = deny = NO
        for stmt, (fixed, variable), condition in zip(relevant, slots, conditions, strict=True):
            level = _statement_level(stmt, vector, fixed, variable, condition)
            if level == NO:
                if condition == NO and stmt.effect == "Allow" and _statement_level(stmt, vector, fixed, variable, YES) != NO:
                    unmet[id(stmt)] = stmt
                continue
            key = id(stmt)
            if stmt.effect == "Allow":
                allow = max(allow, level)
                granting[key] = stmt
            else:
                deny = max(deny, level)
                denying[key] = stmt
            if level == MAYBE:
                maybe_from[key] = stmt
        everywhere_denied = everywhere_denied and deny == YES
        if deny == YES:
            outcomes.add(DENIED)
        elif allow == YES and deny == NO:
            outcomes.add(GRANTED)
        elif allow != NO:
            outcomes.add(CONDITIONAL)
        else:
            outcomes.add(MISSING)
    if match == "every" and DENIED in outcomes and not everywhere_denied:
        # a Deny on some of the names only: certain only for the names it takes
        outcomes = (outcomes - {DENIED}) | {NAME_DEPENDENT}
    order = ((DENIED, MISSING, NAME_DEPENDENT, CONDITIONAL, GRANTED) if match == "every"
             else (GRANTED, CONDITIONAL, DENIED, MISSING))
    status = next((s for s in order if s in outcomes), MISSING)
    notes: list[str] = []
    granted_by = [s for s in relevant if id(s) in granting]  # statement order
    denied_by = tuple(s for s in relevant if id(s) in denying)
    unmet_allows = tuple(s for s in relevant if id(s) in unmet)
    if status == CONDITIONAL:
        for stmt in relevant:
            if id(stmt) in maybe_from:
                notes.extend(_notes(stmt, judge))
        granted_by.sort(key=lambda s: id(s) not in maybe_from)  # the conditional grants first
    elif status in (DENIED, NAME_DEPENDENT):
        notes.extend(_decided_notes(denied_by, judge))
    elif status == MISSING:
        notes.extend(_decided_notes(unmet_allows, judge))
    allowed_by = tuple(s for s in relevant if s.effect == "Allow")
    return Verdict(status, tuple(granted_by), denied_by, tuple(dict.fromkeys(notes)), allowed_by, unmet=unmet_allows)


def _evaluate_once(requirement: Text, relevant: Sequence[Statement], match: str, judge: ConditionJudge) -> Verdict:
    plain = _plain_allows(requirement, relevant, judge) if match == "every" else None
    verdict = plain if plain is not None else _by_vectors(requirement, relevant, match, judge)
    if verdict.status == GRANTED:
        return verdict
    undecided = [f"{s.label}: its Resource is too complex to compare within {MAX_STATES:,} automaton states, so it is "
                 f"counted as matching only part of what Jets needs" for s in relevant
                 if s.resources is not None and gave_up(union_extent(requirement, _resource_group(s)))]
    partial = [f"{s.label} denies it on the names its Resource matches ({', '.join(_resource_group(s))})"
               if s.resources is not None else
               f"{s.label} denies it on the names outside its NotResource ({', '.join(sorted(set(s.not_resources or ())))})"
               for s in verdict.denied_by if verdict.status == NAME_DEPENDENT]
    extra = (*undecided, *partial)
    return replace(verdict, notes=tuple(dict.fromkeys((*verdict.notes, *extra)))) if extra else verdict


_RANK = {GRANTED: 0, CONDITIONAL: 1, NAME_DEPENDENT: 2, MISSING: 3, DENIED: 4}


def evaluate(action: str, requirement: Text, statements: Sequence[Statement], *, match: str = "every",
             free_region: bool = False, free_account: bool = False, judge: ConditionJudge = undecided) -> Verdict:
    """Evaluate one required (action, resource pattern) against a principal's statements.

    `requirement` is an ARN pattern; with `free_region`/`free_account` its region/account segments
    were not given by the user, so each value the policy pins is tried and the best verdict counts.
    """
    relevant = [s for s in statements if statement_matches_action(s, action)]
    return evaluate_relevant(requirement, relevant, match=match, free_region=free_region, free_account=free_account,
                             judge=judge)


def evaluate_relevant(requirement: Text, relevant: Sequence[Statement], *, match: str = "every",
                      free_region: bool = False, free_account: bool = False, judge: ConditionJudge = undecided) -> Verdict:
    """`evaluate` given only the statements whose Action names the action (see ActionIndex)."""
    if not relevant:
        return Verdict(MISSING)
    best = _evaluate_once(requirement, relevant, match, judge)
    if best.status == GRANTED or not (free_region or free_account):
        return best
    for candidate in _candidates(requirement, relevant, free_region, free_account):
        verdict = _evaluate_once(candidate, relevant, match, judge)
        if _RANK[verdict.status] < _RANK[best.status]:
            best = verdict
            if best.status == GRANTED:
                break
    return best


def _candidates(requirement: Text, relevant: Sequence[Statement], free_region: bool, free_account: bool) -> list[Text]:
    """The requirement (an ARN) with the region and/or account each Resource ARN of the statements pins;
    none when the requirement is not an ARN."""
    parts = split(requirement, ":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return []
    seen: set[Text] = set()
    out: list[Text] = []
    for stmt in relevant:
        for p in stmt.resources or ():
            pinned = parse_arn(p) if "${" not in p else None
            if pinned is None:
                continue
            region = pinned.region if free_region else parts[3]
            account = pinned.account if free_account else parts[4]
            cand = join_by(":", (*parts[:3], region, account, parts[5]))
            if cand not in seen:
                seen.add(cand)
                out.append(cand)
    return out


def within_boundary(verdict: Verdict, boundary: Verdict, boundary_name: str) -> Verdict:
    """What the identity policies grant, limited by a permissions boundary: an action is granted
    only if the boundary allows it too; a Deny in either wins. A verdict the boundary changed says so
    (`by_boundary`) and in a note."""
    if verdict.status == DENIED or boundary.status == GRANTED:
        return verdict
    if boundary.status == NAME_DEPENDENT and verdict.status in (GRANTED, CONDITIONAL, NAME_DEPENDENT):
        return Verdict(NAME_DEPENDENT, verdict.granted_by, (*verdict.denied_by, *boundary.denied_by),
                       (*verdict.notes, *boundary.notes, f"the permissions boundary {boundary_name} denies it on some names"),
                       verdict.allowed_by, True)
    if boundary.status == DENIED:
        return Verdict(DENIED, verdict.granted_by, boundary.denied_by,
                       (*verdict.notes, f"denied by the permissions boundary {boundary_name}"), verdict.allowed_by, True)
    if verdict.status == MISSING:
        return verdict
    if boundary.status == MISSING:
        return Verdict(MISSING, verdict.granted_by, verdict.denied_by,
                       (*verdict.notes, f"not allowed by the permissions boundary {boundary_name}"), verdict.allowed_by, True)
    return Verdict(CONDITIONAL, verdict.granted_by, verdict.denied_by,
                   (*verdict.notes, *boundary.notes, f"the permissions boundary {boundary_name} allows it only conditionally"),
                   verdict.allowed_by, True)
