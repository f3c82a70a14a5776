from tests.checks.conftest import allow


def test_scopable_actions_on_star(findings):
    (hit,) = findings("wildcard-resource", allow(["cloudformation:DescribeStacks", "logs:DescribeLogGroups"], "*"))
    assert hit[1] == "Statement[0]" and hit[3] == "/Statement/0/Resource"
    assert hit[2] == 'Statement[0] grants 1 action entries on "*" that can be scoped to ARNs: cloudformation:DescribeStacks'


def test_star_only_actions_pass(findings):
    assert findings("wildcard-resource", allow(["logs:DescribeLogGroups", "ec2:DescribeSubnets",
                                                 "lambda:CreateEventSourceMapping"], "*")) == []


def test_scoped_resources_pass(findings):
    assert findings("wildcard-resource", allow("lambda:GetFunction", "arn:aws:lambda:*:*:function:demo-*")) == []
