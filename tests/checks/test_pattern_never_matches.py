from tests.checks.conftest import allow


def test_docs_log_group_pattern(findings):
    (hit,) = findings("pattern-never-matches", allow("logs:DeleteLogGroup", "arn:aws:logs:*:*:log-group:/aws/lambda/demo-*:*:*"))
    assert hit == ("medium", "arn:aws:logs:*:*:log-group:/aws/lambda/demo-*:*:*",
                   '"arn:aws:logs:*:*:log-group:/aws/lambda/demo-*:*:*" in Statement[0] can never match what Jets creates for '
                   "logs:DeleteLogGroup (arn:aws:logs:*:*:log-group:/aws/lambda/demo-*-*:*)", "/Statement/0/Resource")


def test_matching_patterns_pass(findings):
    assert findings("pattern-never-matches", allow("logs:DeleteLogGroup", "arn:aws:logs:*:*:log-group:/aws/lambda/demo-*"),
                    allow(["lambda:PublishLayerVersion", "lambda:GetFunction"],
                          ["arn:aws:lambda:*:*:function:demo-*", "arn:aws:lambda:*:*:layer:prod-demo-*"])) == []


def test_non_jets_actions_are_not_judged(findings):
    assert findings("pattern-never-matches", allow("logs:GetLogEvents", "arn:aws:logs:*:*:log-group:x:*:*")) == []
