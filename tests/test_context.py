"""What each request Jets makes carries (rules/request-context.toml), key by key."""

from __future__ import annotations

import pytest

from auditor import catalogue, context
from auditor.conditions import ABSENT, UNKNOWN, Known, Truth, condition_truth
from auditor.model import Condition

RULES = catalogue.load().contexts  # with rules/names.toml's classes, for {*NAME} in values


def truth(operator, key, values, context):
    return condition_truth(Condition(operator, key, tuple(values)), context)
BUCKET_OBJECTS = "arn:{partition}:s3:::{ns_lower}-*/jets/code/*"
PUBLIC = "arn:{partition}:s3:::{ns_lower}-*/jets/public/*"
ROLES = "arn:{partition}:iam::{account}:role/{ns}-*"


@pytest.mark.parametrize(("caller", "key", "expected"), [
    ("cli", "aws:SecureTransport", Known(("true",))),
    ("cli", "aws:ViaAWSService", Known(("false",))),
    ("cli", "aws:CalledVia", ABSENT),
    ("cli", "aws:SourceIp", UNKNOWN),
    ("cli", "aws:SourceVpce", UNKNOWN),
    ("cli", "aws:MultiFactorAuthPresent", UNKNOWN),
    ("cli", "aws:PrincipalTag/team", UNKNOWN),
    ("cloudformation", "aws:ViaAWSService", Known(("true",))),
    ("cloudformation", "aws:CalledVia", Known(("cloudformation.amazonaws.com",))),
    ("cloudformation", "aws:CalledViaFirst", Known(("cloudformation.amazonaws.com",))),
    ("cloudformation", "aws:CalledViaLast", Known(("cloudformation.amazonaws.com",))),
    ("cloudformation", "aws:SourceVpce", ABSENT),
    ("cloudformation", "aws:SecureTransport", Known(("true",))),
])
def test_caller_keys(caller, key, expected):
    assert RULES.context("s3:PutObject", BUCKET_OBJECTS, caller, region="eu-west-1").lookup(key) == expected


def test_requested_region_is_the_deploy_region_or_us_east_1_for_global_services():
    assert RULES.context("lambda:CreateFunction", "x", "cloudformation", region="eu-west-1").lookup("aws:RequestedRegion") == Known(("eu-west-1",))
    assert RULES.context("iam:CreateRole", ROLES, "cloudformation", region="eu-west-1").lookup("aws:RequestedRegion") == Known(("us-east-1",))
    assert RULES.context("iam:CreateRole", ROLES, "cloudformation").lookup("aws:RequestedRegion") == Known(("us-east-1",))
    # a Region the run was not given stands for every Region: decided where every Region agrees
    free = RULES.context("lambda:CreateFunction", "x", "cloudformation")
    assert truth("StringEquals", "aws:RequestedRegion", ["eu-west-1"], free) is Truth.UNKNOWN
    assert truth("StringLike", "aws:RequestedRegion", ["*"], free) is Truth.TRUE
    assert truth("StringEquals", "aws:RequestedRegion", ["EU-WEST-1"], free) is Truth.FALSE  # no Region is upper case


def test_uploads_send_no_encryption_header_and_public_assets_a_public_read_acl():
    code = RULES.context("s3:PutObject", BUCKET_OBJECTS, "cli")
    assert code.lookup("s3:x-amz-server-side-encryption") == ABSENT
    assert code.lookup("s3:x-amz-acl") == ABSENT
    assets = RULES.context("s3:PutObject", PUBLIC, "cli")
    assert assets.lookup("s3:x-amz-acl") == Known(("public-read",))
    assert assets.lookup("s3:x-amz-server-side-encryption") == ABSENT


def test_keys_the_action_does_not_take_are_absent():
    ctx = RULES.context("lambda:GetFunction", "x", "cloudformation")
    assert ctx.lookup("aws:RequestTag/Owner") == ABSENT  # GetFunction takes no request tags
    assert ctx.lookup("aws:TagKeys") == ABSENT
    assert ctx.lookup("s3:x-amz-acl") == ABSENT  # another service's key
    assert ctx.lookup("lambda:FunctionUrlAuthType") == ABSENT
    assert ctx.lookup("aws:ResourceTag/Owner") == UNKNOWN  # it takes this one: an existing function's tags


def test_tags_only_with_the_resource_tags_feature_for_the_cli():
    plain = RULES.context("cloudformation:CreateStack", "x", "cli")
    assert plain.lookup("aws:RequestTag/Owner") == ABSENT
    tagged = RULES.context("cloudformation:CreateStack", "x", "cli", features=("core", "resource-tags"))
    assert tagged.lookup("aws:RequestTag/Owner") == UNKNOWN
    assert tagged.lookup("aws:TagKeys") == UNKNOWN
    # CloudFormation's requests carry only its own aws:cloudformation:* tags, unless the stack has tags
    made = RULES.context("lambda:CreateFunction", "x", "cloudformation")
    assert made.lookup("aws:RequestTag/Owner") == ABSENT
    assert made.lookup("aws:RequestTag/aws:cloudformation:stack-name") == UNKNOWN
    assert made.lookup("aws:TagKeys") == UNKNOWN
    tagged_stack = RULES.context("lambda:CreateFunction", "x", "cloudformation", features=("core", "resource-tags"))
    assert tagged_stack.lookup("aws:RequestTag/Owner") == UNKNOWN  # the stack's tags, propagated


def test_passrole_is_asked_in_the_region_of_the_request_that_passes_the_role():
    """iam:PassRole rides on lambda:CreateFunction (or codebuild:CreateProject): the deploy's Region,
    not IAM's us-east-1, which iam:CreateRole sees."""
    passrole = RULES.context("iam:PassRole", ROLES, "cloudformation", region="eu-west-1")
    assert passrole.lookup("aws:RequestedRegion") == Known(("eu-west-1",))
    create = RULES.context("iam:CreateRole", ROLES, "cloudformation", region="eu-west-1")
    assert create.lookup("aws:RequestedRegion") == Known(("us-east-1",))


def test_no_permissions_boundary_on_roles_jets_creates():
    assert RULES.context("iam:CreateRole", ROLES, "cloudformation").lookup("iam:PermissionsBoundary") == ABSENT
    assert RULES.context("iam:PutRolePolicy", ROLES, "cloudformation").lookup("iam:PermissionsBoundary") == ABSENT


def test_extra_keys_from_the_requirement():
    ctx = RULES.context("iam:PassRole", ROLES, "cloudformation", extra={"iam:PassedToService": ("lambda.amazonaws.com",)})
    assert ctx.lookup("iam:PassedToService") == Known(("lambda.amazonaws.com",))
    assert ctx.lookup("iam:AssociatedResourceArn") == UNKNOWN


def test_account_known_only_when_given():
    free = RULES.context("lambda:CreateFunction", "x", "cli")
    assert truth("StringEquals", "aws:PrincipalAccount", ["123456789012"], free) is Truth.UNKNOWN
    assert truth("StringEquals", "aws:PrincipalAccount", ["aws"], free) is Truth.FALSE  # an account is digits
    assert RULES.context("lambda:CreateFunction", "x", "cli", account="123456789012").lookup("aws:PrincipalAccount") == Known(("123456789012",))


def test_broken_rules_are_reported(tmp_path):
    (tmp_path / "request-context.toml").write_text('[caller.cli]\nlabel = "x"\n', encoding="utf-8")
    with pytest.raises(context.ContextError, match=r"\[caller.cli\] needs label, evidence and keys"):
        context.load(tmp_path)
