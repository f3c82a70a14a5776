"""Privilege escalation: the ways a policy lets its holder gain more than it grants, each judged with
the evaluator (rules/escalation.toml says which ways there are).

A way is a chain of requests the holder makes itself: write a role's policy, pass the role to a
service that runs code, create a resource of that service and run it. Each request is judged on the
resource it would act on (a resource beyond the project, one Jets creates, or one the policy's own
patterns name) and with the values the holder's request would carry (the service it passes the role
to, the policy it attaches, the role it gives a stack), so a PassRole limited to roles the holder
cannot change, a condition on iam:PassedToService, or an iam:PolicyARN condition closes a way. A
request may also go through a CloudFormation stack of the holder's, when it may create or update
one (a Condition that asks for aws:CalledVia CloudFormation does not stop it then).

A way the narrowest policy that deploys the Jets release opens too (the one `generate` writes) is one
Jets forces: the check reports it apart, with what narrows it outside the policy (`forced`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from auditor import generate
from auditor.arn import parse_arn, short_resource
from auditor.automata import fullmatch
from auditor.awsdata import PROBE_NAME, probe_arn
from auditor.catalogue import Catalogue, Naming, major
from auditor.conditions import Decision, RequestContext, decide
from auditor.escalation_rules import EscalationRules, RunsAs, Service
from auditor.evaluate import CONDITIONAL, GRANTED, ActionIndex, Verdict, evaluate_relevant, statement_matches_action
from auditor.glob_text import requirement_pattern
from auditor.globs import overlaps
from auditor.model import Condition, Statement, parse_policy
from auditor.name_parts import Text

HOLDER = "cli"  # the holder's own requests carry what the CLI's do (rules/request-context.toml [caller.cli])
MAX_WITNESSES = 4  # names an action's Allow patterns give, asked about per action: bounded work on a policy of
#                    thousands of statements (the probe and Jets' names are always asked about)
VIA_STACK = "cloudformation"  # ... or what CloudFormation's do, through a stack of its own


class Res(NamedTuple):
    """A resource a request would act on, and how messages show it: the policy's pattern it was
    taken from, Jets' pattern, or the probe's `role/* beyond the project`."""

    arn: str
    shown: str


@dataclass(frozen=True)
class Step:
    """One request of a way, granted (or granted only if a Condition the audit cannot decide holds)."""

    action: str
    resource: Res
    status: str  # GRANTED or CONDITIONAL
    by: tuple[Statement, ...]  # the statements that grant it
    via_stack: bool = False  # granted only when CloudFormation makes it, for a stack of the holder's
    to: str = ""  # iam:PassRole: the service the role goes to

    def text(self) -> str:
        out = self.action
        if self.to:
            out += f" (to {self.to})"
        if self.via_stack:
            out += " (through a stack of its own)"
        return out

    @property
    def where(self) -> str:
        """The resource as the message shows it: a pattern of the policy's, Jets' or the probe's."""
        return self.resource.shown


@dataclass(frozen=True)
class Way:
    """A way to gain more: its steps, and what it is (`kind`, compared with the narrowest policy's)."""

    kind: tuple[str, ...]
    name: str
    severity: str
    how: str
    steps: tuple[Step, ...]
    role: str = ""  # the role the holder's code runs as ("a role it writes (role/demo-dev-*)")
    through: str = ""  # the service that runs it ("Lambda function")

    @property
    def maybe(self) -> bool:
        return any(s.status != GRANTED for s in self.steps)

    @property
    def statement(self) -> Statement:
        return self.steps[0].by[0]

    def text(self) -> str:
        """`name (a + b on r1; c on r2)`: the steps, those on one resource together."""
        runs: list[tuple[str, list[str]]] = []
        for step in self.steps:
            if runs and runs[-1][0] == step.where:
                runs[-1][1].append(step.text())
            else:
                runs.append((step.where, [step.text()]))
        return f"{self.name} ({'; '.join(' + '.join(texts) + ' on ' + where for where, texts in runs)})"


@dataclass
class _Role:
    res: Res
    source: str  # "existing", "jets" or "written"
    label: str
    steps: list[Step] = field(default_factory=list)


class Holder:
    """What one set of statements lets its holder do: each request judged once (a way asks about the
    same request many times: the role it passes, the resource it creates)."""

    def __init__(self, statements: Sequence[Statement], catalogue: Catalogue, version: str, project: str,
                 envs: Sequence[str], index: ActionIndex | None = None) -> None:
        """`index`: the statements' ActionIndex, when one is at hand (the actions it answers for are not
        matched against every statement again)."""
        self.statements = tuple(statements)
        self.index = index
        self.catalogue = catalogue
        self.rules: EscalationRules = catalogue.escalations
        selected = catalogue.version(version)
        self.runs_as = tuple(r for r in self.rules.runs_as if selected.selects(r.releases))
        self.namings = tuple(Naming(project, env, version) for env in envs)
        self._judged: dict[tuple[str, str, tuple[tuple[str, str], ...], str], Verdict] = {}
        self._relevant: dict[str, list[Statement]] = {}
        self._stack: bool | None = None

    # --- one request ---------------------------------------------------------------------------

    def relevant(self, action: str) -> list[Statement]:
        if self.index is not None and action.lower() in self.index:
            return self.index.relevant(action)
        found = self._relevant.get(action)
        if found is None:
            found = self._relevant[action] = [s for s in self.statements if statement_matches_action(s, action)]
        return found

    def _touching(self, action: str, resource: str) -> list[Statement]:
        """The statements naming the action whose Resource may match `resource` (any NotResource one may):
        the others neither grant nor deny it, and a policy of thousands of statements names each
        resource in a few."""
        return [s for s in self.relevant(action)
                if s.resources is None or any("${" in p or overlaps(resource, p) for p in s.resources)]

    def names(self, action: str) -> bool:
        """Does some Allow name the action at all? (A way with an action no Allow names is closed.)"""
        return any(s.effect == "Allow" for s in self.relevant(action))

    def step(self, action: str, resource: Res, keys: Mapping[str, str] | None = None, to: str = "") -> Step | None:
        """The request, if some Allow grants it (maybe only conditionally) and no Deny takes it away:
        made directly, else through a stack of the holder's."""
        if not self.names(action):
            return None
        for via_stack in (False, True):
            if via_stack and not self.can_stack():
                break
            verdict = self._verdict(action, resource.arn, keys or {}, VIA_STACK if via_stack else HOLDER)
            if verdict.status in (GRANTED, CONDITIONAL):
                by = verdict.granted_by or verdict.allowed_by
                return Step(action, resource, verdict.status, tuple(by), via_stack, to)
        return None

    def _verdict(self, action: str, resource: str, keys: Mapping[str, str], caller: str) -> Verdict:
        key = (action, resource, tuple(sorted(keys.items())), caller)
        found = self._judged.get(key)
        if found is None:
            context = self._context(action, caller, key[2])
            decided: dict[tuple[str, tuple[Condition, ...]], Decision] = {}  # statements repeat their Conditions

            def judge(stmt: Statement) -> Decision:
                at = (stmt.effect, stmt.conditions)
                if at not in decided:
                    decided[at] = decide(stmt.conditions, context, stmt.effect)
                return decided[at]

            found = self._judged[key] = evaluate_relevant(resource, self._touching(action, resource), free_region=True,
                                                          free_account=True, judge=judge)
        return found

    def _context(self, action: str, caller: str, keys: tuple[tuple[str, str], ...]) -> RequestContext:
        contexts = self.catalogue.contexts
        assert contexts is not None
        values = {k: v for k, v in keys if v not in ("absent", "present")}
        return contexts.holder_context(action, caller, values, absent=[k for k, v in keys if v == "absent"],
                                       present=[k for k, v in keys if v == "present"])

    def can_stack(self) -> bool:
        """May the holder create or update a stack of its own? (Then CloudFormation may make its requests.)"""
        if self._stack is None:
            self._stack = False  # a stack's own requests are judged directly (no recursion)
            self._stack = any(self.step(action, res) is not None
                              for action in ("cloudformation:CreateStack", "cloudformation:UpdateStack")
                              for res in self.candidates(action))
        return self._stack

    # --- which resources to ask about ----------------------------------------------------------

    def probe(self, action: str) -> Res:
        """A resource of the action's first type beyond every Jets project ("*" when it takes none)."""
        arn = probe_arn(action) or "*"
        return Res(arn, "*" if arn == "*" else beyond(arn))

    def candidates(self, action: str, jets: Iterable[Res] = ()) -> list[Res]:
        """A resource beyond the project (the probe), `jets` (resources Jets creates), and one of each
        pattern an Allow naming the action writes (a name the holder may choose)."""
        out = [self.probe(action), *jets]
        service = action.partition(":")[0]
        named: dict[str, Res] = {}
        for stmt in self.relevant(action):
            if stmt.effect != "Allow":
                continue
            for pattern in stmt.resources or ():
                found = _witness(pattern, service)
                if found and len(named) < MAX_WITNESSES:
                    named.setdefault(found, Res(found, short_resource(pattern)))
        return list(dict.fromkeys([*out, *named.values()]))

    def jets_resources(self, template: str) -> list[Res]:
        """A resource Jets creates under the template, for each env (its name parts filled)."""
        return list(dict.fromkeys(Res(_sample(n.pattern(template, self.catalogue.names)), short_resource(n.render(template)))
                                  for n in self.namings))

    def is_jets(self, arn: str, template: str) -> bool:
        """Is `arn` a name Jets can give a resource of the template (for any of the envs)?"""
        return any(fullmatch(requirement_pattern(n.pattern(template, self.catalogue.names)), arn) for n in self.namings)

    def keys(self, action: str, *, role: str = "", compute: str = "", service: str = "") -> dict[str, str]:
        """What the holder's request for `action` carries along a way (rules/escalation.toml [request])."""
        values = {"{role}": role, "{compute}": compute, "{service}": service, "{admin}": self.rules.admin}
        out = {}
        for key, template in self.rules.request:
            value = values.get(template, template)
            if value:
                out[key] = value
        if action == "iam:PassRole":  # asked in the Region of the request that passes the role, not IAM's
            out["aws:RequestedRegion"] = "{region}"  # (rules/request-context.toml, the iam:PassRole entry)
        return out


# --- the ways --------------------------------------------------------------------------------------

def find(holder: Holder) -> list[Way]:
    """Every way the holder's statements open, in rules/escalation.toml's order."""
    ways: list[Way] = []
    for path in holder.rules.paths:
        steps = []
        for action in path.actions:
            found = holder.step(action, holder.probe(action), holder.keys(action)) if holder.names(action) else None
            if found is None:
                break
            steps.append(found)
        else:
            ways.append(Way(("direct", path.name), path.name, path.severity, path.how, tuple(steps)))
    for service in holder.rules.services:
        ways.extend(_through(holder, service))
    return ways


def _through(holder: Holder, service: Service) -> Iterable[Way]:
    """The ways through one service: a new or an existing resource running as a role the holder
    passes it, and code the holder runs in an existing resource as that resource's role."""
    usable = all(holder.names(a) for a in service.create) or any(
        all(holder.names(a) for a in actions) for actions in service.switch)
    if usable and holder.names("iam:PassRole"):
        seen: set[tuple[str, ...]] = set()  # one way of each kind: the first role that opens it
        for role in _roles(holder, service.principal):
            if {("new", service.name, role.source), ("switch", service.name, role.source)} <= seen:
                continue
            passed = holder.step("iam:PassRole", role.res, holder.keys("iam:PassRole", service=service.principal),
                                 to=service.principal)
            if passed is None:
                continue
            doing = _created(holder, service, role.res) if ("new", service.name, role.source) not in seen else None
            if doing is not None:
                seen.add(("new", service.name, role.source))
                yield Way(("new", service.name, role.source), f"pass {role.label} to a new {service.name}",
                          service.severity, f"run code as {role.label} in a new {service.name}", (*role.steps, passed, *doing),
                          role.label, service.name)
            doing = _switched(holder, service, role.res) if ("switch", service.name, role.source) not in seen else None
            if doing is not None:
                seen.add(("switch", service.name, role.source))
                yield Way(("switch", service.name, role.source), f"give an existing {service.name} {role.label}",
                          service.severity, f"make an existing {service.name} run as {role.label}",
                          (*role.steps, passed, *doing), role.label, service.name)
    yield from _existing(holder, service)


def _roles(holder: Holder, principal: str) -> Iterable[_Role]:
    """The roles the holder could pass to `principal` that give more than it has: any existing role of
    the account (beyond the project), a role Jets makes privileged, a role whose policy it writes."""
    probe = holder.probe("iam:PassRole")
    # any role of the account, an admin's included (a role whose name the policy limits it to has only what
    # it was given, which the holder cannot change: passing it gains nothing the audit can know of)
    yield _Role(probe, "existing", "an existing role of the account")
    jets_roles = [(res, runs) for runs in holder.runs_as for res in holder.jets_resources(runs.role)]
    candidates = holder.candidates("iam:PassRole", [r for r, _ in jets_roles])
    for runs in holder.runs_as:
        if runs.privileged and runs.service == principal:
            res = holder.jets_resources(runs.role)[0]
            yield _Role(res, "jets", f"Jets' role {res.shown}")
    for res in candidates:
        if res == probe:
            continue
        role = _written(holder, res, principal, [runs for r, runs in jets_roles if holder.is_jets(res.arn, runs.role)])
        if role is not None:
            yield role
            return  # one role it writes is enough to show the way


def _written(holder: Holder, res: Res, principal: str, jets: Sequence[RunsAs]) -> _Role | None:
    """A role the holder can give any policy and that trusts `principal`, with the steps that make it so."""
    created = holder.step("iam:CreateRole", res, holder.keys("iam:CreateRole"))
    if created is None and not jets:
        return None  # a role it may write but that need not exist
    write = _write(holder, res)
    if write is None:
        return None
    steps = [s for s in (created, write) if s is not None]
    if created is None and not any(r.service == principal for r in jets):
        trust = holder.step("iam:UpdateAssumeRolePolicy", res, holder.keys("iam:UpdateAssumeRolePolicy"))
        if trust is None:
            return None  # a Jets role trusts only the service Jets passes it to
        steps.append(trust)
    return _Role(res, "written", f"a role it writes ({res.shown})", steps)


def _write(holder: Holder, res: Res) -> Step | None:
    """Give the role any policy: an inline one, or a managed one that grants everything."""
    return (holder.step("iam:PutRolePolicy", res, holder.keys("iam:PutRolePolicy"))
            or holder.step("iam:AttachRolePolicy", res, holder.keys("iam:AttachRolePolicy")))


def _created(holder: Holder, service: Service, role: Res) -> list[Step] | None:
    """A new resource of the service running as `role`, and its run."""
    if not all(holder.names(a) for a in service.create):
        return None
    for compute in holder.candidates(service.create[0]):
        made = _all(holder, service.create, compute, role.arn, service.principal)
        if made is None:
            continue
        for run in service.run:
            ran = _all(holder, run, compute, role.arn, service.principal)
            if ran is not None:
                return [*made, *ran]
    return None


def _switched(holder: Holder, service: Service, role: Res) -> list[Step] | None:
    """An existing resource of the service (beyond the project, or Jets') given `role`."""
    jets = [res for runs in holder.runs_as if runs.service == service.principal
            for res in holder.jets_resources(runs.compute)]
    for actions in service.switch:
        if not all(holder.names(a) for a in actions):
            continue
        for compute in [holder.probe(actions[0]), *jets]:
            done = _all(holder, actions, compute, role.arn, service.principal)
            if done is not None:
                return done
    return None


def _existing(holder: Holder, service: Service) -> Iterable[Way]:
    """Code the holder runs in an existing resource, as the role it has: one beyond the project (whose
    role may be anything), one Jets gives a privileged role, one whose role the holder writes."""
    for actions in service.code:
        if not all(holder.names(a) for a in actions):
            continue
        done = _all(holder, actions, holder.probe(actions[0]), "", service.principal)
        if done is not None:
            yield Way(("code", service.name, "existing"), f"run its code in an existing {service.name} of the account",
                      service.severity, f"replace what an existing {service.name} runs, as whatever role it has", tuple(done),
                      "the role of an existing resource", service.name)
        for runs in holder.runs_as:
            if runs.service != service.principal:
                continue
            done = _all(holder, actions, holder.jets_resources(runs.compute)[0], "", service.principal)
            if done is None:
                continue
            role = holder.jets_resources(runs.role)[0]
            if runs.privileged:
                yield Way(("code", service.name, "jets"), f"run its code in Jets' {service.name}", service.severity,
                          f"run its code as Jets' role {role.shown}, which has {runs.privileged}", tuple(done),
                          f"Jets' role {role.shown}", service.name)
                continue
            write = _write(holder, role)
            if write is not None:
                yield Way(("code", service.name, "written"), f"write the role of Jets' {service.name} and run its code",
                          service.severity, f"give Jets' role {role.shown} any policy and run its code as it",
                          (write, *done), f"a role it writes ({role.shown})", service.name)
        return  # one way of running code in an existing resource is enough


def _all(holder: Holder, actions: Sequence[str], compute: Res, role: str, principal: str) -> list[Step] | None:
    """Every action granted, each on `compute` when it acts on that kind of resource, else on a
    resource of its own the holder may choose."""
    out = []
    kind = _kind(compute.arn)
    for action in actions:
        keys = holder.keys(action, role=role, compute=compute.arn, service=principal)
        targets = [compute] if _kind(holder.probe(action).arn) == kind else holder.candidates(action)
        found = next((s for s in (holder.step(action, t, keys) for t in targets) if s is not None), None)
        if found is None:
            return None
        out.append(found)
    return out


def _kind(arn: str) -> tuple[str, str]:
    """The service and resource type of an ARN (`lambda`, `function`), to tell whether an action acts on it."""
    parsed = parse_arn(arn)
    if parsed is None:
        return ("", arn)
    return (parsed.service, parsed.resource.split(":")[0].split("/")[0])


def beyond(probe: str) -> str:
    """How a probe resource is shown: `role/* beyond the project`."""
    return short_resource(probe).replace(PROBE_NAME, "*") + " beyond the project"


def _witness(pattern: str, service: str) -> str | None:
    """A resource a policy pattern names, its wildcards filled (`role/demo-dev-*` → `role/demo-dev-x`);
    None for a pattern of another service, "*", or one with a policy variable."""
    if pattern == "*" or "${" in pattern:
        return None
    parsed = parse_arn(pattern)
    if parsed is None or parsed.service != service:
        return None
    parts = pattern.split(":", 5)
    for i in (3, 4):  # a Region or account that is only a wildcard stays one: any will do
        if parts[i] not in ("*", ""):
            parts[i] = parts[i].replace("*", "x").replace("?", "x")
    parts[5] = parts[5].replace("*", "x").replace("?", "x")
    return ":".join(parts)


def _sample(pattern: Text) -> str:
    """A requirement pattern's name parts filled with one character of their class (an upper-case
    letter where the class has one: CloudFormation's random ids are upper case), and a plain `*` of
    its resource part with nothing (`project/demo-dev-remote*` → `project/demo-dev-remote`)."""
    out = []
    for piece in (pattern,) if isinstance(pattern, str) else pattern.pieces:
        if isinstance(piece, str):
            out.append(piece)
        else:
            chars = sorted(piece.chars)
            out.append(next((c for c in chars if c.isupper()), next((c for c in chars if c.isalnum()), chars[0])))
    parts = "".join(out).split(":", 5)
    if len(parts) == 6:
        parts[5] = parts[5].replace("*", "")
    return ":".join(parts)


# --- what Jets forces ------------------------------------------------------------------------------

@lru_cache(maxsize=64)
def forced(catalogue: Catalogue, version: str, features: tuple[str, ...], project: str,
           envs: tuple[str, ...]) -> frozenset[tuple[str, ...]]:
    """The kinds of way the narrowest policy that deploys this release and these features opens (the
    policy `generate` writes): ways Jets forces on any deploy policy of it."""
    docs = generate.generate(catalogue, version, features, project, envs)
    statements = [s for i, doc in enumerate(docs) for s in parse_policy(json.dumps(doc), f"generated-{i}").statements]
    return frozenset(way.kind for way in find(Holder(statements, catalogue, version, project, envs)))


def what_remains(catalogue: Catalogue, version: str, features: Sequence[str], project: str, envs: Sequence[str],
                 region: str | None = None, account: str | None = None) -> str | None:
    """The privilege escalation the narrowest policy (the one `generate` writes) still opens, since the
    release itself needs it, as `generate` says it on stderr, with what narrows it outside the policy;
    None when it opens none."""
    statements = generate.narrowest(catalogue, version, features, project, envs, region, account)
    policy = parse_policy(json.dumps(generate.document(statements)), "generated")
    holder = Holder(policy.statements, catalogue, version, project, envs)
    ways = find(holder)
    if not ways:
        return None
    names = list(dict.fromkeys(w.name for w in ways))
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    said = "".join(f"; {fact}" for fact in facts(holder))
    return (f"what remains: {len(names)} privilege-escalation path{'s' if len(names) != 1 else ''} that Jets "
            f"{major(version)} itself needs, which no deploy policy can close ({shown}{said}); `jets-iam-audit file` "
            f"reports them as privilege-escalation (info). Narrow them outside the policy: {'; '.join(remedies(holder))}")


def remedies(holder: Holder) -> list[str]:
    """What narrows the forced ways outside the policy, for this release."""
    return list(dict.fromkeys(r.remedy for r in holder.runs_as))


def facts(holder: Holder) -> list[str]:
    """What Jets gives the roles its resources run as, where that alone is more than a deploy needs."""
    out = []
    for runs in holder.runs_as:
        if runs.privileged:
            role, compute = holder.jets_resources(runs.role)[0], holder.jets_resources(runs.compute)[0]
            out.append(f"Jets' role {role.shown}, which {compute.shown} runs as, has {runs.privileged}")
    return out
