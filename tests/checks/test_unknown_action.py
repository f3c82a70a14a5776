import pytest

from auditor import awsdata
from auditor.checks.unknown_action import problem
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


@pytest.mark.parametrize("service", ["s3", "lambda", "iam", "ec2", "logs", "cloudformation"])
def test_every_action_of_the_data_has_no_problem(service):
    for details in awsdata.service_actions(service).values():
        for spelling in (f"{service}:{details.name}", f"{service.upper()}:{details.name.lower()}"):
            assert problem(spelling, frozenset({service}), True) is None, spelling
