from tests.checks.conftest import allow

ROLE = "arn:aws:iam::*:role/demo-*"
COND = {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}


def test_passrole_on_star_is_high(findings):
    (hit,) = findings("passrole-unscoped", allow("iam:PassRole", "*"))
    assert hit[0] == "high" and hit[2].startswith('"iam:PassRole" is granted on roles outside the project (Statement[0])')


def test_passrole_through_a_wildcard(findings):
    assert [h[0] for h in findings("passrole-unscoped", allow("iam:Pass*", "arn:aws:iam::*:role/*"))] == ["high"]


def test_scoped_without_condition_is_medium(findings):
    (hit,) = findings("passrole-unscoped", allow("iam:PassRole", ROLE))
    assert hit[0] == "medium" and "no iam:PassedToService condition" in hit[2]


def test_scoped_with_condition_passes(findings):
    assert findings("passrole-unscoped", allow("iam:PassRole", ROLE, Condition=COND)) == []
