"""CloudFormation's parameters, conditions and intrinsic functions, as CloudFormation applies them when
it creates a stack, within budgets (cloudformation.py reads templates with it).

Each rule follows the AWS CloudFormation User Guide:
- Parameters (parameters-section-structure.html): a value given with `--parameter KEY=VALUE` (or
  `--parameter-file`, auditor/sources/cfn_parameters.py) wins over the `Default`; `CommaDelimitedList` and
  `List<...>` values are lists; an `AWS::SSM::Parameter::Value<...>` parameter's value is read from
  Systems Manager at deploy time (its Default names the SSM parameter), so it stays open.
- Pseudo parameters (pseudo-parameter-reference.html): AWS::Region and AWS::AccountId are --region and
  --account, else `*` in a policy (the account and region the stack deploys to, whichever they are) and
  undecided in a condition; AWS::Partition and AWS::URLSuffix follow the Region (aws-cn for cn-*,
  aws-us-gov for us-gov-*); AWS::StackName, AWS::StackId and AWS::NotificationARNs are known only once
  the stack exists, unless given with --parameter AWS::StackName=NAME. `AWS::NoValue` removes the
  property, list element or statement it is the value of.
- Conditions (conditions-section-structure.html, intrinsic-function-reference-conditions.html):
  `Fn::Equals`, `Fn::And`, `Fn::Or`, `Fn::Not` and `Condition` references over parameters, pseudo
  parameters and mappings; each named condition has one value per stack, worked out once. A resource
  whose `Condition` is false is not created; `Fn::If` takes the branch its condition picks. A condition
  that refers to itself is a template error, as CloudFormation says.
- `Fn::Sub`, `Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::FindInMap`, `Ref`, `Fn::GetAtt`
  (intrinsic-function-reference.html): applied where their arguments are known.

What the template does not decide stays open, said per value: a reference becomes a named placeholder
(iac.Unresolved, reported by unresolved-reference); a condition the template does not decide is assumed
true and recorded as an Assumption at its line (reported by not-evaluated), with how to get the exact
answer.

Budgets (README "Limits"): a template's values may come to MAX_CHARS characters and MAX_ELEMENTS
elements, YAML aliases expanded (PyYAML shares an aliased node: each use is counted), and the
intrinsics may produce as much again (what Fn::Sub, Fn::Join and Fn::Split make is counted before it is
made) in at most MAX_STEPS steps. Past a budget the template is an `invalid` finding naming it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from auditor.model import Assumption, Location, Spot
from auditor.sources.iac import Unresolved, V, plain

MAX_ELEMENTS = 200_000  # values (mapping entries and list elements) of a template, aliases expanded; and as many made by intrinsics
MAX_CHARS = 8_000_000  # characters of a template's values, aliases expanded; and as many made by intrinsics
MAX_STEPS = 200_000  # intrinsic functions and condition functions applied
MAX_DEPTH = 64  # intrinsics nested in intrinsics, conditions in conditions
NO_VALUE = object()
SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
EXACT = ("give the values it depends on (--parameter KEY=VALUE, --parameter-file FILE, --region, --account), or audit the "
         "deployed stack's processed template (aws cloudformation get-template --stack-name STACK --template-stage Processed)")
_SUB = re.compile(r"\$\{([^}]*)\}")
_OPEN_PSEUDO = ("AWS::StackName", "AWS::StackId", "AWS::NotificationARNs")


class TemplateError(Exception):
    """The file cannot be read as a template: one line, and the line of the file where known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class Budget:
    """What one template may come to: values read (aliases expanded) and values the intrinsics make."""

    def __init__(self) -> None:
        self.elements = MAX_ELEMENTS
        self.chars = MAX_CHARS
        self.steps = MAX_STEPS

    def spend(self, elements: int = 0, chars: int = 0, what: str = "values") -> None:
        self.elements -= elements
        self.chars -= chars
        if self.elements < 0:
            raise TemplateError(f"template too large: {what} come to more than {MAX_ELEMENTS:,} elements (the template "
                                "element budget, README Limits)")
        if self.chars < 0:
            raise TemplateError(f"template too large: {what} come to more than {MAX_CHARS:,} characters (the template "
                                "character budget, README Limits)")

    def step(self) -> None:
        self.steps -= 1
        if self.steps < 0:
            raise TemplateError(f"intrinsic functions expand beyond {MAX_STEPS:,} steps (the template step budget, "
                                "README Limits)")


def size(v: V, budget: Budget, what: str) -> None:
    """Charge a value's elements and characters to the budget (a shared subtree is charged at each use)."""
    stack = [v]
    while stack:
        item = stack.pop().value
        if isinstance(item, list):
            budget.spend(len(item), 0, what)
            stack.extend(item)
        elif isinstance(item, dict):
            budget.spend(len(item), sum(len(k) for k in item), what)
            stack.extend(item.values())
        elif isinstance(item, str):
            budget.spend(0, len(item), what)


def section(template: Mapping[str, V], name: str) -> dict[str, V]:
    found = template.get(name)
    return found.value if found is not None and isinstance(found.value, dict) else {}


def _text(value: object) -> str:
    """A scalar as CloudFormation compares and joins it: a string (true, 5)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


class Resolver:
    """Resolves intrinsic functions against one template's parameters, mappings and conditions."""

    def __init__(self, path: str, template: Mapping[str, V], region: str | None, account: str | None,
                 parameters: Mapping[str, str] | None = None, budget: Budget | None = None) -> None:
        self.path = path
        self.region, self.account = region, account
        self.given = dict(parameters or {})
        self.budget = budget or Budget()
        self.resources = section(template, "Resources")
        self.parameters = section(template, "Parameters")
        self.mappings = section(template, "Mappings")
        self.conditions = section(template, "Conditions")
        self.assumptions: list[Assumption] = []  # where the caller collects what was assumed (it swaps the list per policy)
        self._decided: dict[str, tuple[bool | None, str]] = {}  # a named condition → its value (None: undecided), why
        self._deciding: list[str] = []  # the conditions being worked out (a repeat is a cycle)
        self._in_condition = 0

    # --- what the template decides ---------------------------------------------------------------

    def pseudo(self, name: str) -> str | None:
        """A pseudo parameter's value; None when it is not one or not known (inside a condition, an
        unknown Region or account decides nothing)."""
        if name in self.given and name in _OPEN_PSEUDO:
            return self.given[name]
        region, open_ = self.region, self._in_condition > 0
        if name == "AWS::Region":
            return region or (None if open_ else "*")
        if name == "AWS::AccountId":
            return self.account or (None if open_ else "*")
        if name in ("AWS::Partition", "AWS::URLSuffix"):
            if region is None and open_:
                return None
            partition = "aws-cn" if region and region.startswith("cn-") else "aws-us-gov" if region and region.startswith("us-gov-") else "aws"
            if name == "AWS::Partition":
                return partition
            return "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
        return None

    def resolve(self, v: V, unresolved: Unresolved, depth: int = 0) -> V | object:
        """The value with every intrinsic resolved or replaced by a placeholder; NO_VALUE for
        AWS::NoValue (the element is left out, as CloudFormation does)."""
        self.budget.step()
        if depth > MAX_DEPTH:
            raise TemplateError("intrinsic functions nested too deeply", v.spot.line)
        value = v.value
        if isinstance(value, list):
            items = [self.resolve(item, unresolved, depth + 1) for item in value]
            self.budget.spend(len(items), 0, "intrinsic functions' results")
            return V([i for i in items if i is not NO_VALUE], v.spot)
        if isinstance(value, str):
            self.budget.spend(0, len(value), "intrinsic functions' results")
            return v
        if not isinstance(value, dict):
            return v
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref" or key.startswith("Fn::"):
                return self._intrinsic(key, arg, v.spot, unresolved, depth)
        out = {}
        for key, item in value.items():
            resolved = self.resolve(item, unresolved, depth + 1)
            if resolved is not NO_VALUE:
                out[key] = resolved
        self.budget.spend(len(out), 0, "intrinsic functions' results")
        return V(out, v.spot)

    def choose(self, v: V | None, what: str) -> V | None:
        """A property or list entry with its Fn::If applied and AWS::NoValue removed (None), its inside
        left as written: how Policies, ManagedPolicyArns, Groups, Users and Roles entries are read."""
        depth = 0
        while v is not None and isinstance(v.value, dict) and len(v.value) == 1:
            (key, arg), = v.value.items()
            if key == "Ref" and arg.value == "AWS::NoValue":
                return None
            if key != "Fn::If" or depth > MAX_DEPTH:
                return v
            branches = self._branches(arg, v.spot, what)
            if branches is None:
                return v
            v, depth = branches, depth + 1
        return v

    def _branches(self, arg: V, spot: Spot, what: str) -> V | None:
        """The branch of `Fn::If [condition, then, else]` its condition picks (an undecided condition is
        assumed true, and said); None when the arguments are not that."""
        items = arg.value
        if not (isinstance(items, list) and len(items) == 3 and isinstance(items[0].value, str)):
            return None
        name = items[0].value
        decided = self.condition(name)
        if decided is None:
            self.assume(spot, f"Fn::If on condition {name} in {what}",
                        f"{name} is assumed true, so its first value is audited ({self.why(name)})")
            return items[1]
        return items[1] if decided else items[2]

    def assume(self, spot: Spot, construct: str, assumed: str) -> None:
        found = Assumption(Location(spot.path, spot.pointer, None, spot.line), construct, assumed, EXACT)
        if found not in self.assumptions:
            self.assumptions.append(found)

    # --- intrinsic functions ---------------------------------------------------------------------

    def _intrinsic(self, key: str, arg: V, spot: Spot, unresolved: Unresolved, depth: int) -> V | object:
        fn = key[4:] if key.startswith("Fn::") else key
        if fn == "Ref":
            return self._ref(arg, spot, unresolved)
        if fn == "Sub":
            return self._sub(arg, spot, unresolved, depth)
        if fn == "GetAtt":
            parts = self.resolve(arg, unresolved, depth + 1)
            names = plain(parts) if isinstance(parts, V) else None
            if isinstance(names, str):
                names = names.split(".", 1)
            label = ".".join(str(n) for n in names) if isinstance(names, list) else "GetAtt"
            return V(unresolved.add(label, f"!GetAtt {label}: an attribute known only once the stack exists"), spot)
        if fn == "Join":
            return self._join(arg, spot, unresolved, depth)
        if fn == "If":
            branch = self._branches(arg, spot, "a policy document")
            if branch is None:
                return V(unresolved.add("If", "Fn::If that is not [condition, then, else]"), spot)
            return self.resolve(branch, unresolved, depth + 1)
        if fn == "Select":
            resolved = self.resolve(arg, unresolved, depth + 1)
            items = resolved.value if isinstance(resolved, V) else None
            if isinstance(items, list) and len(items) == 2:
                index, seq = plain(items[0]), items[1]
                if isinstance(index, (int, str)) and str(index).isdigit() and isinstance(seq.value, list) \
                        and int(index) < len(seq.value):
                    return seq.value[int(index)]
            return V(unresolved.add("Select", "Fn::Select over a list the template does not decide"), spot)
        if fn == "Split":
            return self._split(arg, spot, unresolved, depth)
        if fn == "FindInMap":
            return self._find_in_map(arg, spot, unresolved, depth)
        label = "ImportValue" if fn == "ImportValue" else fn
        return V(unresolved.add(label, f"Fn::{fn} is decided only when the stack is deployed"), spot)

    def _ref(self, arg: V, spot: Spot, unresolved: Unresolved, charge: bool = True) -> V | object:
        """`charge`: count a parameter's value against the budget (not when Fn::Sub counts what it makes of it)."""
        name = arg.value if isinstance(arg.value, str) else None
        if name is None:
            return V(unresolved.add("Ref", "Ref of a value that is not a name"), spot)
        if name == "AWS::NoValue":
            return NO_VALUE
        pseudo = self.pseudo(name)
        if pseudo is not None:
            return V(pseudo, spot)
        if name in self.parameters:
            return self._parameter(name, spot, unresolved, charge)
        if name in self.resources:
            return V(unresolved.add(name, f"!Ref {name}: the name or ARN of a resource of this stack, known once it exists"), spot)
        if name in ("AWS::Region", "AWS::AccountId", "AWS::Partition", "AWS::URLSuffix"):
            flag = "--account" if name == "AWS::AccountId" else "--region"
            return V(unresolved.add(name, f"{name} is known only when the stack is deployed (give {flag})"), spot)
        if name.startswith("AWS::"):
            return V(unresolved.add(name, f"{name} is known only when the stack is deployed"), spot)
        return V(unresolved.add(name, f"!Ref {name}: no parameter or resource of that name in the template"), spot)

    def _parameter(self, name: str, spot: Spot, unresolved: Unresolved, charge: bool = True) -> V:
        param = self.parameters[name].value
        declared = param if isinstance(param, dict) else {}
        kind = plain(declared["Type"]) if "Type" in declared else "String"
        kind = kind if isinstance(kind, str) else "String"
        if kind.startswith("AWS::SSM::Parameter::Value<"):
            return V(unresolved.add(name, f"parameter {name} is read from SSM Parameter Store when the stack is deployed"), spot)
        if name in self.given:
            value: object = self.given[name]
        elif declared.get("Default") is not None:
            value = plain(declared["Default"])
        else:
            return V(unresolved.add(name, f"parameter {name} has no Default and no value (--parameter {name}=VALUE)"), spot)
        if isinstance(value, list):
            value = ",".join(_text(item) for item in value)
        text = _text(value)
        if charge:
            self.budget.spend(1, len(text), f"the values of parameter {name}")
        if kind == "CommaDelimitedList" or kind.startswith("List<"):
            parts = text.split(",")
            self.budget.spend(len(parts), 0, f"the values of parameter {name}")
            return V([V(part.strip(), spot) for part in parts], spot)
        return V(text, spot)

    def _sub(self, arg: V, spot: Spot, unresolved: Unresolved, depth: int) -> V:
        template, variables = arg, {}
        if isinstance(arg.value, list) and len(arg.value) == 2:
            template = arg.value[0]
            if isinstance(arg.value[1].value, dict):
                for key, item in arg.value[1].value.items():
                    resolved = self.resolve(item, unresolved, depth + 1)
                    variables[key] = resolved.value if isinstance(resolved, V) else ""
        if not isinstance(template.value, str):
            return V(unresolved.add("Sub", "Fn::Sub of something that is not a string"), spot)
        self.budget.spend(0, len(template.value), "Fn::Sub's results")

        def replace(m: re.Match[str]) -> str:
            text = self._substitute(m, variables, spot, unresolved)
            self.budget.spend(0, len(text), "Fn::Sub's results")  # counted before the result is made
            return text

        return V(_SUB.sub(replace, template.value), spot)

    def _substitute(self, m: re.Match[str], variables: dict, spot: Spot, unresolved: Unresolved) -> str:
        name = m.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"  # ${!Literal}: the text ${Literal}
        name = name.strip()
        if name in variables:
            value = variables[name]
            return value if isinstance(value, str) else unresolved.add(name, f"Fn::Sub variable {name} is not a string")
        if "." in name and name.split(".", 1)[0] in self.resources:
            return unresolved.add(name, f"${{{name}}}: an attribute known only once the stack exists")
        if ":" in name and "::" not in name:
            return m.group(0)  # an IAM policy variable such as ${aws:username}
        resolved = self._ref(V(name, spot), spot, unresolved, charge=False)
        if isinstance(resolved, V) and isinstance(resolved.value, str):
            return resolved.value
        if isinstance(resolved, V) and isinstance(resolved.value, list):
            return ",".join(str(plain(i)) for i in resolved.value)
        return ""

    def _join(self, arg: V, spot: Spot, unresolved: Unresolved, depth: int) -> V:
        resolved = self.resolve(arg, unresolved, depth + 1)
        items = resolved.value if isinstance(resolved, V) else None
        if isinstance(items, list) and len(items) == 2 and isinstance(items[0].value, str) and isinstance(items[1].value, list):
            parts = [plain(i) for i in items[1].value]
            if all(isinstance(p, (str, int, float, bool)) for p in parts):
                texts = [_text(p) for p in parts]
                separator = items[0].value
                self.budget.spend(0, sum(map(len, texts)) + len(separator) * max(len(texts) - 1, 0), "Fn::Join's results")
                return V(separator.join(texts), spot)
        return V(unresolved.add("Join", "Fn::Join over a list the template does not decide"), spot)

    def _split(self, arg: V, spot: Spot, unresolved: Unresolved, depth: int) -> V:
        resolved = self.resolve(arg, unresolved, depth + 1)
        items = plain(resolved) if isinstance(resolved, V) else None
        if isinstance(items, list) and len(items) == 2 and all(isinstance(i, str) for i in items) and items[0]:
            separator, text = items
            self.budget.spend(text.count(separator) + 1, len(text), "Fn::Split's results")  # counted before the split
            return V([V(part, spot) for part in text.split(separator)], spot)
        return V(unresolved.add("Split", "Fn::Split of a value the template does not decide"), spot)

    def _find_in_map(self, arg: V, spot: Spot, unresolved: Unresolved, depth: int) -> V:
        resolved = self.resolve(arg, unresolved, depth + 1)
        keys = plain(resolved) if isinstance(resolved, V) else None
        if isinstance(keys, list) and len(keys) >= 3 and all(isinstance(k, str) for k in keys[:3]):
            top = self.mappings.get(keys[0])
            level = top.value.get(keys[1]) if top is not None and isinstance(top.value, dict) else None
            found = level.value.get(keys[2]) if level is not None and isinstance(level.value, dict) else None
            if found is not None:
                size(found, self.budget, "Fn::FindInMap's results")
                return found
        return V(unresolved.add("FindInMap", "Fn::FindInMap with keys the template does not decide"), spot)

    # --- conditions ------------------------------------------------------------------------------

    def condition(self, name: str) -> bool | None:
        """A named condition's value when the template and the values given decide it, else None."""
        if name in self._decided:
            return self._decided[name][0]
        if name in self._deciding:
            cycle = " → ".join([*self._deciding[self._deciding.index(name):], name])
            raise TemplateError(f"circular dependency between conditions: {cycle}")
        if name not in self.conditions:
            self._decided[name] = (None, f"no condition {name} in the template")
            return None
        if len(self._deciding) > MAX_DEPTH:
            raise TemplateError("conditions nested too deeply", self.conditions[name].spot.line)
        self._deciding.append(name)
        reasons: list[str] = []
        try:
            value = self._truth(self.conditions[name], reasons, 0)
        finally:
            self._deciding.pop()
        self._decided[name] = (value, "; ".join(dict.fromkeys(reasons)) or "the template does not decide it")
        return value

    def why(self, name: str) -> str:
        """Why a condition is undecided: the values it depends on that are not known."""
        return self._decided.get(name, (None, "the template does not decide it"))[1]

    def _truth(self, v: V, reasons: list[str], depth: int) -> bool | None:
        self.budget.step()
        value = v.value
        if depth > MAX_DEPTH:
            raise TemplateError("condition functions nested too deeply", v.spot.line)
        if not isinstance(value, dict) or len(value) != 1:
            reasons.append("a condition that is not a condition function")
            return None
        (key, arg), = value.items()
        if key == "Condition":
            if not isinstance(arg.value, str):
                return None
            decided = self.condition(arg.value)
            if decided is None:
                reasons.append(self.why(arg.value))
            return decided
        args = arg.value if isinstance(arg.value, list) else None
        if args is None:
            reasons.append(f"{key} without a list of arguments")
            return None
        if key == "Fn::Equals" and len(args) == 2:
            scratch = Unresolved()  # a placeholder compared with anything decides nothing
            self._in_condition += 1
            try:
                sides = [self.resolve(a, scratch, depth + 1) for a in args]
            finally:
                self._in_condition -= 1
            if scratch.found or not all(isinstance(s, V) for s in sides):
                reasons.extend(scratch.found.values())
                return None
            left, right = (plain(s) for s in sides)  # type: ignore[arg-type]
            return _compared(left) == _compared(right)
        if key in ("Fn::And", "Fn::Or", "Fn::Not"):
            truths = [self._truth(a, reasons, depth + 1) for a in args]
            if key == "Fn::Not" and len(truths) == 1:
                return None if truths[0] is None else not truths[0]
            if key == "Fn::And":
                return False if False in truths else None if None in truths else True
            if key == "Fn::Or":
                return True if True in truths else None if None in truths else False
        reasons.append(f"{key} is not a condition function CloudFormation has")
        return None


def _compared(value: object) -> object:
    """A value as Fn::Equals compares it: strings (true and "true" are equal, as are 5 and "5")."""
    if isinstance(value, list):
        return [_compared(item) for item in value]
    return value if isinstance(value, dict) else _text(value)
