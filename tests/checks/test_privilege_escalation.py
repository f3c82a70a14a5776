"""privilege-escalation: each way judged with the evaluator (resources and conditions count), and the ways
Jets itself needs told apart from the others."""

from __future__ import annotations

import pytest

from auditor import catalogue, generate
from tests.checks.conftest import allow, deny

CAT = catalogue.load()
LAMBDA_PATH = ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"]
ROLES = "arn:aws:iam::*:role/demo-*"
FUNCTIONS = "arn:aws:lambda:*:*:function:demo-*"
WRITE_ROLES = ["iam:CreateRole", "iam:PutRolePolicy"]


def test_admin_policy_opens_every_path_in_one_finding(findings):
    hits = findings("privilege-escalation", allow("*", "*"))
    assert [(h[0], h[3]) for h in hits] == [("critical", "/Statement/0"), ("info", "/Statement/0")]
    assert hits[0][2].startswith("Statement[0] opens 40 privilege-escalation paths: new policy version "
                                 "(iam:CreatePolicyVersion on policy/* beyond the project), switch policy version")
    assert hits[1][1] == "Jets 5"  # what Jets 5 itself needs, told apart


def test_passrole_to_a_new_lambda_function(findings):
    (hit,) = findings("privilege-escalation", allow(LAMBDA_PATH, "*"))
    assert hit[0] == "high"
    assert hit[2] == ("Statement[0] opens 1 privilege-escalation path: pass an existing role of the account to a new "
                      "Lambda function (iam:PassRole (to lambda.amazonaws.com) on role/* beyond the project; "
                      "lambda:CreateFunction + lambda:InvokeFunction on function:* beyond the project)")


def test_passrole_conditioned_on_another_service_is_no_lambda_path(findings):
    passrole = allow("iam:PassRole", "*", Condition={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}})
    assert findings("privilege-escalation", passrole, allow(LAMBDA_PATH[1:], "*")) == []


@pytest.mark.parametrize("roles", [ROLES, "arn:aws:iam::*:role/AppServerRole", "arn:aws:iam::*:role/*Instance*"])
def test_passrole_limited_to_roles_it_cannot_change_is_no_path(findings, roles):
    """The project's roles have what Jets gives them, a role named in the policy what it was given: without a
    way to write them, passing them gains nothing the audit can know of."""
    assert findings("privilege-escalation", allow("iam:PassRole", roles), allow(LAMBDA_PATH[1:], "*")) == []


def test_a_role_it_writes_is_a_path_and_jets_needs_it(findings):
    """Jets 3-5 have CloudFormation create the function roles and write their inline policies (the app's
    iam_policy) with the deploy user's credentials, and pass them to Lambda: a role it writes, run by a
    function it creates, is what any Jets 5 deploy policy opens."""
    (hit,) = findings("privilege-escalation", allow([*WRITE_ROLES, "iam:PassRole"], ROLES),
                      allow(["lambda:CreateFunction", "lambda:InvokeFunction", "lambda:UpdateFunctionCode"], FUNCTIONS))
    assert hit[:2] == ("info", "Jets 5")
    assert hit[2].startswith("the holder can run code as a role it writes (role/demo-dev-*) in a Lambda function: "
                             "2 privilege-escalation paths Jets 5 itself needs (its narrowest policy opens them too); "
                             "narrow them outside this policy: deploy from an account of its own, or cap the account with an SCP")


def test_what_jets_does_not_need_is_reported_apart(findings):
    """Without iam:PassedToService, the same roles go to a CloudFormation stack too: high, at the statement."""
    hits = findings("privilege-escalation", allow([*WRITE_ROLES, "iam:PassRole"], ROLES),
                    allow(["lambda:CreateFunction", "lambda:InvokeFunction"], FUNCTIONS),
                    allow("cloudformation:CreateStack", "arn:aws:cloudformation:*:*:stack/demo-*"))
    assert [(h[0], h[1]) for h in hits] == [("high", "Statement[0]"), ("info", "Jets 5")]
    assert hits[0][2] == ("Statement[0] opens 1 privilege-escalation path: pass a role it writes (role/demo-dev-*) to a "
                          "new CloudFormation stack (iam:CreateRole + iam:PutRolePolicy + iam:PassRole (to "
                          "cloudformation.amazonaws.com) on role/demo-dev-*; cloudformation:CreateStack on stack/demo-*)")


@pytest.mark.parametrize(("policies", "expected"), [
    (["arn:aws:iam::aws:policy/ReadOnlyAccess"], []),  # attaching only a read-only policy writes nothing more
    (["arn:aws:iam::aws:policy/*"], ["info"]),  # AdministratorAccess is among them
])
def test_attaching_is_judged_on_the_policy_attached(findings, policies, expected):
    attach = allow("iam:AttachRolePolicy", ROLES, Condition={"ArnLike": {"iam:PolicyARN": policies}})
    hits = findings("privilege-escalation", attach, allow(["iam:CreateRole", "iam:PassRole"], ROLES,
                    Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}),
                    allow(LAMBDA_PATH[1:], FUNCTIONS))
    assert [h[0] for h in hits] == expected


def test_a_deny_closes_a_way(findings):
    assert findings("privilege-escalation", allow(LAMBDA_PATH, "*"), deny("iam:PassRole", "*")) == []


def test_iam_only_through_cloudformation_still_opens_a_way_through_a_stack(findings):
    """A guard that lets IAM calls through only when CloudFormation makes them: the holder makes them
    through a stack of its own when it may create one."""
    via = {"StringEquals": {"aws:CalledViaFirst": "cloudformation.amazonaws.com"}}
    statements = [allow(["iam:CreateRole", "iam:PutRolePolicy", "iam:PassRole"], "*", Condition=via),
                  allow(LAMBDA_PATH[1:], "*")]
    assert findings("privilege-escalation", *statements) == []
    hits = findings("privilege-escalation", *statements, allow("cloudformation:CreateStack", "*"))
    assert [h[0] for h in hits] == ["high", "info"]
    assert "iam:PassRole (to lambda.amazonaws.com) (through a stack of its own) on role/* beyond the project" in hits[0][2]
    assert "iam:CreateRole (through a stack of its own)" in hits[0][2]


def test_a_condition_the_audit_cannot_decide_leaves_it_open_maybe(findings):
    office = {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}
    (hit,) = findings("privilege-escalation", allow(LAMBDA_PATH, "*", Condition=office))
    assert hit[2].startswith("Statement[0] opens 1 privilege-escalation path (some only if a Condition the audit "
                             "cannot decide holds): pass an existing role of the account to a new Lambda function")


def test_codebuild_start_build_beyond_the_project(findings):
    (hit,) = findings("privilege-escalation", allow("codebuild:StartBuild", "*"))
    assert hit[2] == ("Statement[0] opens 1 privilege-escalation path: run its code in an existing CodeBuild project "
                      "of the account (codebuild:StartBuild on project/* beyond the project)")


def test_jets6_generated_policy_shows_what_jets_forces(findings):
    """Jets 6's runner: the deploy user starts builds of a project that runs as a role Jets gives iam:* and
    more, and writes that role's inline policy; the narrowest policy cannot close it, and says so."""
    (doc,) = generate.generate(CAT, "6", ("core",), "demo", ("dev",))
    (hit,) = findings("privilege-escalation", *doc["Statement"], version="6", features=("core",))
    assert hit[:2] == ("info", "Jets 6")
    assert hit[2] == (
        "the holder can run code as Jets' role role/demo-dev-CodebuildRole-* or a role it writes (role/demo-dev-CodebuildRole-*) in a CodeBuild "
        "project: 5 privilege-escalation paths Jets 6 itself needs (its narrowest policy opens them too); Jets' role "
        "role/demo-dev-CodebuildRole-*, which project/demo-dev-remote* runs as, has iam:*, lambda:*, cloudformation:*, s3:* and 11 "
        "more services on * (config.codebuild.iam.default_policy); narrow them outside this policy: narrow "
        "config.codebuild.iam.default_policy to what the app's stacks need, deploy from an account of its own, or cap "
        "the account with an SCP (whoever may start the remote runner's build acts as its role, and CloudFormation "
        "writes that role's inline policy with the deploy user's credentials)")


def test_jets6_docs_style_attach_without_policy_arn_is_what_jets_forces_too(findings):
    """Attaching any policy adds no kind of way the inline policy Jets needs does not already open."""
    (doc,) = generate.generate(CAT, "6", ("core",), "demo", ("dev",))
    loose = [{k: v for k, v in s.items() if k != "Condition"} if s["Sid"] == "JetsIamManagedPolicies" else s
             for s in doc["Statement"]]
    assert [h[:2] for h in findings("privilege-escalation", *loose, version="6", features=("core",))] == [("info", "Jets 6")]
