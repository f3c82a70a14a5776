from tests.checks.conftest import allow


def test_same_action_twice_case_insensitive(findings):
    (hit,) = findings("duplicate-action", allow(["lambda:GetFunctionConfiguration", "lambda:GetFunction",
                                                  "LAMBDA:getfunctionconfiguration"], "*"))
    assert hit == ("low", "LAMBDA:getfunctionconfiguration",
                   '"LAMBDA:getfunctionconfiguration" is listed twice in Statement[0] (first at /Statement/0/Action/0)',
                   "/Statement/0/Action/2")


def test_distinct_actions_pass(findings):
    assert findings("duplicate-action", allow(["lambda:GetFunction", "lambda:GetFunctionConfiguration"], "*")) == []
