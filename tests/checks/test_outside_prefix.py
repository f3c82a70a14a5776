from tests.checks.conftest import allow


def test_other_project_name(findings):
    (hit,) = findings("outside-prefix", allow("lambda:CreateFunction", "arn:aws:lambda:*:*:function:shop-*"))
    assert hit == ("low", "arn:aws:lambda:*:*:function:shop-*",
                   '"arn:aws:lambda:*:*:function:shop-*" in Statement[0] is outside the project\'s naming for lambda:CreateFunction '
                   "(arn:aws:lambda:*:*:function:demo-*-*)", "/Statement/0/Resource")


def test_project_names_pass(findings):
    assert findings("outside-prefix", allow("lambda:CreateFunction", "arn:aws:lambda:*:*:function:demo-*")) == []


def test_unknown_prefix_skips(findings):
    assert findings("outside-prefix", allow("lambda:CreateFunction", "arn:aws:lambda:*:*:function:shop-*"), prefix="*") == []
