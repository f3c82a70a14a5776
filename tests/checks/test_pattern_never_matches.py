from tests.checks.conftest import allow


def test_a_log_groups_own_arn_never_matches(findings):
    """CloudWatch Logs authorizes DeleteLogGroup on log-group:NAME:log-stream: (its AccessDenied texts),
    so the group's bare ARN, as Terraform's aws_cloudwatch_log_group.arn gives it, never matches."""
    (hit,) = findings("pattern-never-matches", allow("logs:DeleteLogGroup", "arn:aws:logs:*:*:log-group:/aws/lambda/demo-dev-web"))
    assert hit == ("medium", "arn:aws:logs:*:*:log-group:/aws/lambda/demo-dev-web",
                   '"arn:aws:logs:*:*:log-group:/aws/lambda/demo-dev-web" in Statement[0] can never match what AWS evaluates '
                   "when Jets calls logs:DeleteLogGroup (arn:aws:logs:*:*:log-group:/aws/lambda/demo-*-*:log-stream:)",
                   "/Statement/0/Resource")


def test_the_docs_log_group_pattern_matches(findings):
    """The Jets docs' log-group:/aws/lambda/PREFIX-*:*:* matches log-group:NAME:log-stream: (0.1 said it
    could never match, judging it against log-group:NAME:*)."""
    assert findings("pattern-never-matches", allow("logs:DeleteLogGroup", "arn:aws:logs:*:*:log-group:/aws/lambda/demo-*:*:*"),
                    allow("logs:DeleteLogGroup", "arn:aws:logs:*:*:log-group:/aws/lambda/demo-dev-*:log-stream:")) == []


def test_a_bucket_name_jets_never_gives_its_bucket(findings):
    """CloudFormation names the Jets bucket PROJECT-ENV-s3bucket-RANDOM: a policy on demo-dev-assets/* never
    matches the objects Jets uploads."""
    (hit,) = findings("pattern-never-matches", allow("s3:PutObject", "arn:aws:s3:::demo-dev-assets/*"))
    assert hit[2].startswith('"arn:aws:s3:::demo-dev-assets/*" in Statement[0] can never match what AWS evaluates when '
                             "Jets calls s3:PutObject (arn:aws:s3:::demo-*-s3bucket-*/jets/")


def test_matching_patterns_pass(findings):
    assert findings("pattern-never-matches", allow("logs:DeleteLogGroup", "arn:aws:logs:*:*:log-group:/aws/lambda/demo-*"),
                    allow(["lambda:PublishLayerVersion", "lambda:GetFunction"],
                          ["arn:aws:lambda:*:*:function:demo-*", "arn:aws:lambda:*:*:layer:prod-demo-*"])) == []


def test_non_jets_actions_are_not_judged(findings):
    assert findings("pattern-never-matches", allow("logs:GetLogEvents", "arn:aws:logs:*:*:log-group:x:*:*")) == []
