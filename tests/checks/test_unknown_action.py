from tests.checks.conftest import allow


def test_typo_with_suggestion(findings):
    (hit,) = findings("unknown-action", allow("lambda:UpdateFunctonCode", "*"))
    assert hit == ("medium", "lambda:UpdateFunctonCode",
                   '"lambda:UpdateFunctonCode" is not a lambda action (did you mean lambda:UpdateFunctionCode, lambda:UpdateFunctionUrlConfig?)',
                   "/Statement/0/Action")


def test_unknown_service_wildcard_and_shape(findings):
    hits = findings("unknown-action", allow(["lamda:GetFunction", "s3:Frobnicate*", "GetObject"], "*"))
    assert [h[2] for h in hits] == ['"lamda" is not an AWS service prefix (did you mean lambda:GetFunction?)',
                                    '"s3:Frobnicate*" matches no s3 action', '"GetObject" is not of the form service:action']


def test_retired_service_is_info(findings):
    (hit,) = findings("unknown-action", allow("codestar:*", "*"))
    assert hit[0] == "info" and "retired AWS service" in hit[2]


def test_real_actions_pass_whatever_their_case(findings):
    assert findings("unknown-action", allow(["LAMBDA:getfunction", "bedrock:InvokeModel", "logs:TagResource", "q:*"], "*")) == []
