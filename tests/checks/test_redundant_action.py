from tests.checks.conftest import allow


def test_covered_by_wildcard_in_same_statement(findings):
    (hit,) = findings("redundant-action", allow(["s3:Get*", "s3:GetObject"], "arn:aws:s3:::demo-*/*"))
    assert hit == ("low", "s3:GetObject", '"s3:GetObject" in Statement[0] is already granted by "s3:Get*" in the same statement',
                   "/Statement/0/Action/1")


def test_covered_by_wildcard_on_broader_resources_elsewhere(findings):
    hits = findings("redundant-action", allow("lambda:GetFunction", "arn:aws:lambda:*:*:function:demo-dev-*"),
                    allow("lambda:*", "arn:aws:lambda:*:*:function:demo-*"))
    assert [h[2] for h in hits] == ['"lambda:GetFunction" in Statement[0] is already granted by "lambda:*" in Statement[1]']


def test_narrower_resources_elsewhere_pass(findings):
    assert findings("redundant-action", allow("lambda:GetFunction", "arn:aws:lambda:*:*:function:demo-*"),
                    allow("lambda:*", "arn:aws:lambda:*:*:function:demo-dev-*")) == []


def test_conditional_wildcard_does_not_make_it_redundant(findings):
    cond = {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
    assert findings("redundant-action", allow("lambda:GetFunction", "*"), allow("lambda:*", "*", Condition=cond)) == []
