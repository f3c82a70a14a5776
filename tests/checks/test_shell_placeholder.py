from tests.checks.conftest import allow


def test_my_prefix_left_in(findings):
    hits = findings("shell-placeholder", allow("lambda:*", ["arn:aws:lambda:*:*:function:${MY_PREFIX}-*", "arn:aws:lambda:*:*:layer:$PREFIX-*"]))
    assert [(h[0], h[3]) for h in hits] == [("high", "/Statement/0/Resource/0"), ("high", "/Statement/0/Resource/1")]
    assert "contains the shell placeholder ${MY_PREFIX}" in hits[0][2] and "$PREFIX" in hits[1][2]


def test_iam_policy_variables_pass(findings):
    assert findings("shell-placeholder", allow("s3:*", ["arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::a/${*}"])) == []
