"""Which principals of Terraform and CloudFormation are audited as the Jets deploy principal, and why the
others are not.

The deploy principal is named (`--group/--user/--role NAME`: one of that kind; `--deploy-principal NAME`,
repeatable, or `deploy-principals = [...]` in the config: any kind), by its IAM name, its address
(`aws_iam_role.deployer`, or the address's last part `deployer`) or its logical id (`DeployRole`). Unnamed,
a principal is taken when it looks like one (`looks_like_deploy`: an Allow of
cloudformation:CreateStack or UpdateStack, which every Jets deploy makes). A principal or unattached policy
that is not taken is passed over with the reason (`PassedOver`): the report lists them when none was taken,
so that a module of Lambda roles is never "no IAM policies found" and exit 0.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from auditor.evaluate import statement_matches_action
from auditor.model import Location, Policy

DEPLOY_ACTIONS = "cloudformation:CreateStack or cloudformation:UpdateStack"
_DEPLOY_ACTIONS = ("cloudformation:createstack", "cloudformation:updatestack")
SHOWN_ACTIONS = 4  # the Allow actions a reason names, then "and N more"


class SelectionError(Exception):
    """--group/--user/--role or --deploy-principal names no principal of the files given (exit 2)."""


@dataclass(frozen=True)
class Selection:
    """The deploy principals named: (kind, name) pairs (kind None: any kind), how messages name where
    they come from, and whether a name that no file defines stops the run (the command line's do; the
    config's, which also applies to commits that touch other files, do not)."""

    names: tuple[tuple[str | None, str], ...]
    given_by: str  # "--group", "--deploy-principal", "deploy-principals in .jets-iam-audit.toml"
    required: bool = True

    def picks(self, kind: str, names: Iterable[str]) -> tuple[str, ...]:
        """The names of this selection that a principal of `kind` called any of `names` answers to."""
        called = set(names)
        return tuple(name for wanted, name in self.names if (wanted is None or wanted == kind) and name in called)

    def missing(self, matched: Iterable[str]) -> list[str]:
        """Its names that no principal answered to."""
        found = set(matched)
        return [name for _, name in self.names if name not in found]


@dataclass(frozen=True)
class PassedOver:
    """A principal (or a policy attached to none) that was found but not audited, and why."""

    kind: str  # group | user | role | policy
    name: str
    location: Location  # where it is defined
    why: str

    def line(self) -> str:
        where = os.path.normpath(self.location.source) + (f":{self.location.line}" if self.location.line else "")
        return f"{self.kind} {self.name} ({where}): {self.why}"


def looks_like_deploy(policies: Iterable[Policy]) -> bool:
    """Does this policy set look like a Jets deploy principal's? Every Jets version deploys by creating
    and updating CloudFormation stacks, so: some Allow statement names cloudformation:CreateStack or
    cloudformation:UpdateStack (by name or wildcard, `*` included). A Lambda execution role or an
    application's own policies do not."""
    return any(stmt.effect == "Allow" and statement_matches_action(stmt, action)
               for policy in policies for stmt in policy.statements for action in _DEPLOY_ACTIONS)


def why_not_deploy(policies: Sequence[Policy], managed_arns: Sequence[str] = ()) -> str:
    """Why a principal with these policies (and managed policies attached by ARN, not read) does not look
    like a Jets deploy principal: what it has instead of an Allow of CreateStack or UpdateStack."""
    if not policies:
        if managed_arns:
            return (f"no policy written in the files read, only managed policies attached by ARN ({', '.join(managed_arns)}; "
                    "--auth-details FILE supplies their documents)")
        return "no policy attached to it in the files read"
    allowed = list(dict.fromkeys(a for p in policies for s in p.statements if s.effect == "Allow" for a in s.action_patterns))
    not_actions = any(s.effect == "Allow" and s.not_actions is not None for p in policies for s in p.statements)
    if not allowed and not not_actions:
        return f"no Allow statement (so no {DEPLOY_ACTIONS})"
    shown = ", ".join(allowed[:SHOWN_ACTIONS]) + (f" and {len(allowed) - SHOWN_ACTIONS} more" if len(allowed) > SHOWN_ACTIONS else "")
    return f"no Allow of {DEPLOY_ACTIONS}" + (f"; it allows {shown}" if shown else "")


def summary(passed: Sequence[PassedOver], files: int, unmatched: Sequence[tuple[Selection, Sequence[str]]] = ()) -> list[str]:
    """What a run says when principals were found but none was audited: each, with its reason, the names
    a selection gave that nothing answered to, and how to name the deploy principal."""
    policies = sum(p.kind == "policy" for p in passed)
    principals = len(passed) - policies
    counted = " and ".join(([_counted(principals, "principal", "principals")] if principals else [])
                           + ([_counted(policies, "unattached policy", "unattached policies")] if policies else []))
    lines = [f"no Jets deploy principal among the {counted} found in {files} "
             f"infrastructure file{'' if files == 1 else 's'}; none was audited:"]
    lines += [f"  {p.line()}" for p in passed]
    lines += [f"  {selection.given_by} names {', '.join(names)}: no file read defines "
              f"{'it' if len(names) == 1 else 'them'}" for selection, names in unmatched if names]
    lines.append("name the deploy principal with --deploy-principal NAME (its IAM name, address or logical id), or "
                 "deploy-principals = [\"NAME\"] in the config")
    return lines


def _counted(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def from_command_line(named: tuple[str, str] | None, deploy_principals: Sequence[str] | None) -> Selection | None:
    """The deploy principals the command line names in infrastructure files: --group/--user/--role NAME
    (one of that kind), or each --deploy-principal NAME (any kind). Checked once every file is read
    (`check`), not per file."""
    if deploy_principals:
        return Selection(tuple((None, name) for name in deploy_principals), "--deploy-principal", required=False)
    if named is not None:
        return Selection((named,), f"--{named[0]}", required=False)
    return None


def configured(names: Sequence[str], config_file: str | None) -> Selection | None:
    """A config file's deploy-principals (a name that no file of a run defines is not an error: the
    config also applies to runs on other files, such as a commit's); `config_file` as messages name it."""
    if not names:
        return None
    return Selection(tuple((None, name) for name in names), f"deploy-principals in {config_file}", required=False)
