from tests.checks.conftest import allow


def test_admin_policy_opens_every_path_in_one_finding(findings):
    (hit,) = findings("privilege-escalation", allow("*", "*"))
    assert hit[0] == "critical" and hit[3] == "/Statement/0"
    assert hit[2].startswith("Statement[0] opens 21 privilege-escalation paths: new policy version (iam:CreatePolicyVersion)")


def test_passrole_lambda_path(findings):
    (hit,) = findings("privilege-escalation", allow(["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"], "*"))
    assert hit[0] == "high"
    assert "pass a role to a new Lambda function (iam:PassRole + lambda:CreateFunction + lambda:InvokeFunction)" in hit[2]


def test_project_scoped_jets_grants_pass(findings):
    assert findings("privilege-escalation",
                    allow(["iam:PassRole", "iam:PutRolePolicy", "iam:CreateRole"], "arn:aws:iam::*:role/demo-*"),
                    allow(["lambda:CreateFunction", "lambda:InvokeFunction", "lambda:UpdateFunctionCode"],
                          "arn:aws:lambda:*:*:function:demo-*")) == []
