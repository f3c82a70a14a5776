"""An independent evaluator: principalmapper's local policy simulation (PyPI principalmapper, pinned in the
`test` extra) against ours, on random policies with Conditions over the keys the request context decides,
for requests Jets really sends (rules/request-context.toml). Every disagreement must be one of the named
exceptions below, each adjudicated against the IAM User Guide: our answer must be the one the guide gives.

principalmapper 1.1.5 imports Mapping from `collections`, which Python 3.10 removed; the test puts the
abc classes back under those names before importing it (nothing else reads them).
"""

from __future__ import annotations

import collections
import collections.abc
import json
from dataclasses import dataclass

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

for _name in ("Mapping", "MutableMapping"):
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))
pm = pytest.importorskip("principalmapper.querying.local_policy_simulation")
from principalmapper.util.case_insensitive_dict import CaseInsensitiveDict  # noqa: E402

from auditor import awsdata, catalogue  # noqa: E402
from auditor.checks.invalid_condition import type_problem  # noqa: E402
from auditor.conditions import Absent, Known, Truth, condition_truth, decide, resolve_known  # noqa: E402
from auditor.evaluate import GRANTED, evaluate_relevant, statement_matches_action  # noqa: E402
from auditor.model import Condition, parse_policy  # noqa: E402
from tests.conftest import examples  # noqa: E402

CAT = catalogue.load()
NAMING = tuple(sorted({"partition": "aws", "ns": "demo-dev", "ns_lower": "demo-dev", "project": "demo", "env": "dev",
                       "fullenv": "development"}.items()))
REGION, ACCOUNT = "eu-west-1", "123456789012"


@dataclass(frozen=True)
class Scenario:
    """A request Jets sends, on one concrete resource, and the keys its context decides (plain values
    or absent: what principalmapper can be given)."""

    action: str
    arn: str
    template: str
    caller: str
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def context(self):
        return CAT.contexts.context(self.action, self.template, self.caller, features=("core", "prewarm", "public-assets"),
                                    version="5", region=REGION, account=ACCOUNT, extra=dict(self.extra), naming=NAMING)

    def decided(self) -> dict[str, Known | Absent]:
        ctx = self.context()
        out: dict[str, Known | Absent] = {}
        for key, value in ctx.entries:
            if key.endswith(("/", "*")):
                continue
            value = ctx.lookup(key)
            if isinstance(value, Absent) or (isinstance(value, Known) and value.values
                                             and all(isinstance(v, str) for v in value.values)):
                out[key] = value
        return out


SCENARIOS = [
    Scenario("lambda:CreateFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:demo-dev-posts_controller-index",
             "arn:{partition}:lambda:{region}:{account}:function:{ns}-{*function}", "cloudformation"),
    Scenario("s3:PutObject", "arn:aws:s3:::demo-dev-s3bucket-abc123/jets/public/index.html",
             "arn:{partition}:s3:::{ns_lower}-{*bucket}/jets/public/*", "cli"),
    Scenario("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/demo-dev-IamRole-ABC123",
             "arn:{partition}:iam::{account}:role/{ns}-{*role}-{*random}", "cloudformation",
             (("iam:PassedToService", ("lambda.amazonaws.com",)),)),
]
ABSENT_KEY = "aws:RequestTag/CostCenter"  # in no request Jets sends without the resource-tags feature
ABSENT_ARN = "aws:SourceArn"  # an ARN key none of these requests carries

OPERATORS = ["StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike",
             "StringNotLike", "StringEqualsIfExists", "StringNotLikeIfExists", "Null", "Bool", "BoolIfExists", "ArnLike",
             "ArnEquals", "ArnNotLike", "ForAnyValue:StringEquals", "ForAnyValue:StringLike", "ForAllValues:StringEquals",
             "ForAnyValue:StringNotEquals", "ForAllValues:StringNotLike"]


def _values_for(value: Known | Absent) -> list[str]:
    """Policy values for a key: its own value, a wildcard one, another case, other values."""
    base = value.values[0] if isinstance(value, Known) else "x"
    out = [base, base.upper(), base[: len(base) // 2] + "*", "*" + base[-3:], "other", "?" + base[1:], "true", "false"]
    if base.startswith("arn:"):
        out.append(base.rsplit(":", 1)[0] + ":*")
    return out


@st.composite
def conditions(draw, scenario: Scenario):
    decided = scenario.decided()
    keys = sorted(decided) + [ABSENT_KEY, ABSENT_ARN]
    out: dict[str, dict[str, list[str]]] = {}
    for _ in range(draw(st.integers(0, 2))):
        operator = draw(st.sampled_from(OPERATORS))
        key = draw(st.sampled_from(keys))
        if operator.startswith("Arn") != ("ARN" in "".join(awsdata.condition_key_types(SPELLING.get(key, key)) or ())):
            continue  # ARN operators on ARN keys, the others on the others: what IAM compares
        if operator in ("Null", "Bool", "BoolIfExists"):  # written true or false, as every example of the guide
            values = [draw(st.sampled_from(["true", "false"]))]
        else:
            values = draw(st.lists(st.sampled_from(_values_for(decided.get(key, Absent()))), min_size=1, max_size=2, unique=True))
        if type_problem(operator, SPELLING.get(key, key), tuple(values)) is None:  # well typed: what IAM compares
            out.setdefault(operator, {})[key] = values
    return out


@st.composite
def policies(draw, scenario: Scenario):
    service = scenario.action.split(":")[0]
    actions = [scenario.action, scenario.action.lower(), f"{service}:*", "*", f"{service}:Get*", "sqs:SendMessage"]
    stem = scenario.arn.rsplit("/", 1)[0] if "/" in scenario.arn.split(":", 5)[5] else scenario.arn.rsplit("-", 1)[0]
    arn = scenario.arn.split(":")
    variables = ":".join([*arn[:3], "${aws:RequestedRegion}" if arn[3] else "", "${aws:PrincipalAccount}" if arn[4] else "", *arn[5:]])
    resources = [scenario.arn, stem + "*", "*", "arn:aws:sqs:*:*:queue", variables]
    statements = []
    for _ in range(draw(st.integers(1, 3))):
        stmt = {"Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"])),
                "Action": draw(st.sampled_from(actions)), "Resource": draw(st.sampled_from(resources))}
        cond = draw(conditions(scenario))
        if cond:
            stmt["Condition"] = cond
        statements.append(stmt)
    return {"Version": "2012-10-17", "Statement": statements}


# --- the two evaluators ---------------------------------------------------------------------------

def ours(doc: dict, scenario: Scenario) -> bool:
    ctx = scenario.context()
    statements = parse_policy(json.dumps(doc), "p.json").statements
    relevant = [s for s in statements if statement_matches_action(s, scenario.action)]
    relevant = [type(s)(**{**s.__dict__, "resources": tuple(resolve_known(p, ctx) for p in s.resources or ())})
                if s.resources is not None else s for s in relevant]
    verdict = evaluate_relevant(scenario.arn, relevant, judge=lambda s: decide(s.conditions, ctx, s.effect))
    return verdict.status == GRANTED


def _spellings() -> dict[str, str]:
    """Each key as AWS spells it (rules/request-context.toml writes them so): principalmapper puts policy
    variables in by the key's spelling."""
    import tomllib

    data = tomllib.loads((catalogue.rules_dir() / "request-context.toml").read_text(encoding="utf-8"))
    tables = [t.get("keys", {}) for t in data["caller"].values()] + [r["keys"] for r in data["request"]]
    return {key.lower(): key for table in tables for key in table}


SPELLING = _spellings()


def pm_context(scenario: Scenario) -> CaseInsensitiveDict:
    out = {}
    for key, value in scenario.decided().items():
        if isinstance(value, Known):
            spelled = SPELLING.get(key, key)
            out[spelled] = value.values[0] if len(value.values) == 1 and key not in MULTIVALUED else list(value.values)
    return CaseInsensitiveDict(out)


MULTIVALUED = {"aws:calledvia", "aws:tagkeys"}


def theirs(doc: dict, scenario: Scenario) -> bool:
    ctx = pm_context(scenario)
    allowed = pm.policy_has_matching_statement(doc, "Allow", scenario.action, scenario.arn, ctx)
    denied = pm.policy_has_matching_statement(doc, "Deny", scenario.action, scenario.arn, ctx)
    return allowed and not denied


# --- where they may disagree: principalmapper departs from the IAM User Guide ------------------------

GUIDE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
EXCEPTIONS = {
    "negated operator on an absent key": (
        GUIDE + "reference_policies_elements_condition_operators.html",
        "If the policy condition requires that the key is not matched, such as StringNotLike or ArnNotLike, and the "
        "right key is not present, the condition is true (principalmapper: StringNotLike is false then)"),
    "several keys under one operator are and-ed": (
        GUIDE + "reference_policies_condition-logic-multiple-context-keys-or-values.html",
        "If your policy has multiple condition operators or multiple context keys attached to a single condition "
        "operator, the conditions are evaluated using a logical AND (principalmapper ors the keys of a ForAnyValue block)"),
}


def _pm_condition_block(condition: dict, scenario: Scenario) -> bool:
    """principalmapper's verdict on one Condition block, through its public policy check: a statement that
    allows every action on every resource under the block matches exactly when the block holds."""
    doc = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": condition}]}
    return pm.policy_has_matching_statement(doc, "Allow", scenario.action, scenario.arn, pm_context(scenario))


def _pm_condition(cond: Condition, scenario: Scenario) -> bool:
    return _pm_condition_block({cond.operator: {cond.key: list(cond.values)}}, scenario)


def adjudicate(doc: dict, scenario: Scenario) -> str | None:
    """The named exception that explains the disagreement, once our answer is checked to be the guide's;
    None when nothing does (the test then fails)."""
    ctx = scenario.context()
    statements = parse_policy(json.dumps(doc), "p.json").statements
    found = None
    for stmt in statements:
        for cond in stmt.conditions:
            mine = condition_truth(cond, ctx, stmt.effect)
            if (mine is Truth.TRUE) == _pm_condition(cond, scenario):
                continue
            value = ctx.lookup(cond.key)
            base = cond.operator.split(":")[-1]
            if isinstance(value, Absent) and "Not" in base and not base.endswith("IfExists"):
                assert mine is Truth.TRUE  # the guide: a negated operator on an absent key is true
                found = "negated operator on an absent key"
            else:
                return None
        for operator in {c.operator for c in stmt.conditions if c.operator.startswith("ForAnyValue:")}:
            block = [c for c in stmt.conditions if c.operator == operator]
            if len(block) < 2:
                continue
            theirs_block = _pm_condition_block({operator: {c.key: list(c.values) for c in block}}, scenario)
            mine_each = [condition_truth(c, ctx, stmt.effect) is Truth.TRUE for c in block]
            if theirs_block != all(mine_each) and theirs_block == any(_pm_condition(c, scenario) for c in block):
                found = found or "several keys under one operator are and-ed"
    return found


# --- the test ----------------------------------------------------------------------------------------

SEEN: dict[str, int] = {}  # how often each exception explained a disagreement (read when debugging)


@pytest.mark.slow  # hypothesis: 3 x 150 policies, about 5 s
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.action)
@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_principalmapper_agrees_or_the_guide_says_why(scenario, data):
    doc = data.draw(policies(scenario))
    if ours(doc, scenario) == theirs(doc, scenario):
        return
    why = adjudicate(doc, scenario)
    assert why in EXCEPTIONS, f"unexplained disagreement on {json.dumps(doc)}"
    SEEN[why] = SEEN.get(why, 0) + 1


def test_the_scenarios_decide_the_keys_the_policies_use():
    """The keys are the request context's decided ones: values Jets sends, and keys it certainly does not."""
    create = SCENARIOS[0].decided()
    assert create["aws:calledvia"] == Known(("cloudformation.amazonaws.com",))
    assert create["aws:requestedregion"] == Known((REGION,))
    assert isinstance(create["lambda:codesigningconfigarn"], Absent)
    upload = SCENARIOS[1].decided()
    assert upload["s3:x-amz-acl"] == Known(("public-read",)) and isinstance(upload["s3:x-amz-server-side-encryption"], Absent)
    assert SCENARIOS[2].decided()["iam:passedtoservice"] == Known(("lambda.amazonaws.com",))


NEGATED = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:CreateFunction", "Resource": "*",
           "Condition": {"StringNotLike": {ABSENT_KEY: "x*"}}}]}
SEVERAL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:CreateFunction", "Resource": "*",
           "Condition": {"ForAnyValue:StringEquals": {ABSENT_KEY: "x", "aws:CalledVia": "cloudformation.amazonaws.com"}}}]}


@pytest.mark.parametrize(("doc", "why", "granted"), [
    (NEGATED, "negated operator on an absent key", True),
    (SEVERAL, "several keys under one operator are and-ed", False),
])
def test_each_exception_is_one_principalmapper_really_makes(doc, why, granted):
    """The exceptions are not a blanket skip: each is a disagreement principalmapper really has, and our
    answer is the guide's."""
    scenario = SCENARIOS[0]
    assert (ours(doc, scenario), theirs(doc, scenario)) == (granted, not granted)
    assert adjudicate(doc, scenario) == why
