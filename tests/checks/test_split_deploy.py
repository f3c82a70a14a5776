from tests.checks.conftest import allow

EVERYTHING_ELSE = allow(["s3:*", "iam:*", "logs:*", "events:*", "apigateway:*"], "*")


def test_stacks_and_functions_in_two_regions(findings):
    (hit,) = findings("split-deploy",
                      allow("cloudformation:*", "arn:aws:cloudformation:eu-west-1:*:stack/demo-*", Sid="Stacks"),
                      allow("lambda:*", "arn:aws:lambda:us-east-1:*:function:demo-*", Sid="Functions"), EVERYTHING_ELSE)
    severity, subject, message, pointer = hit
    assert (severity, subject, pointer) == ("high", "Region eu-west-1", "")
    assert message == ("no single Region and account grants everything Jets needs: judged for Region eu-west-1, where 8 "
                       "needed actions are missing or denied, but Region us-east-1 grants lambda:CreateFunction, "
                       "lambda:GetFunction, lambda:UpdateFunctionCode and 5 more (Functions)")


def test_one_region_for_everything_passes(findings):
    assert findings("split-deploy",
                    allow("cloudformation:*", "arn:aws:cloudformation:eu-west-1:*:stack/demo-*"),
                    allow("lambda:*", "arn:aws:lambda:eu-west-1:*:function:demo-*"), EVERYTHING_ELSE) == []


def test_a_region_that_grants_nothing_more_is_no_split(findings):
    """Pins where nothing else is granted leave the best choice as it is: what is missing is missing everywhere."""
    assert findings("split-deploy", allow("lambda:*", "arn:aws:lambda:us-east-1:*:function:demo-*"),
                    allow("lambda:GetFunction", "arn:aws:lambda:eu-west-1:*:function:demo-*")) == []
