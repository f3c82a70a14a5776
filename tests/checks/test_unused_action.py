from tests.checks.conftest import allow


def test_unused_action_listed_once_per_statement(findings):
    (hit,) = findings("unused-action", allow(["lambda:GetFunctionConfiguration", "lambda:GetFunction", "lambda:ListFunctions"], "*"))
    assert hit[0] == "low" and hit[3] == "/Statement/0/Action"
    assert hit[2] == "Statement[0] names 2 actions no selected Jets feature uses: lambda:GetFunctionConfiguration, lambda:ListFunctions"


def test_unused_but_needed_by_another_feature(findings):
    (hit,) = findings("unused-action", allow("dynamodb:DescribeTable", "*"))
    assert hit[2].endswith("(needed by --feature dynamodb-events)")
    assert findings("unused-action", allow("dynamodb:DescribeTable", "*"), features=("core", "dynamodb-events")) == []


def test_needed_actions_pass(findings):
    assert findings("unused-action", allow(["lambda:InvokeFunction", "lambda:GetFunction"], "*")) == []
