from tests.checks.conftest import allow


def test_object_action_on_bucket_arn(findings):
    (hit,) = findings("resource-type-mismatch", allow("s3:GetObject", "arn:aws:s3:::demo-bucket"))
    assert hit[0] == "medium" and hit[3] == "/Statement/0/Action"
    assert hit[2].startswith('"s3:GetObject" takes ') and hit[2].endswith("no Resource of Statement[0] is one: it grants nothing here")


def test_layer_action_on_function_arn(findings):
    (hit,) = findings("resource-type-mismatch", allow("lambda:PublishLayerVersion", "arn:aws:lambda:*:*:function:demo-*"))
    assert "arn:${Partition}:lambda:${Region}:${Account}:layer:${LayerName}" in hit[2]


def test_star_only_action_on_an_arn(findings):
    (hit,) = findings("resource-type-mismatch", allow("ec2:DescribeVpcs", "arn:aws:ec2:*:*:vpc/*"), features=("core", "prewarm", "vpc"))
    assert hit[2] == '"ec2:DescribeVpcs" takes no resource ARN (only "*"), and no Resource of Statement[0] is one: it grants nothing here'


def test_what_coverage_counts_as_granting_is_never_called_a_mismatch(findings):
    """AWS evaluates logs:DescribeLogGroups on log-group::log-stream: (the CloudWatch Logs guide's
    log-group:* grants it), and a `*` that ends a segment runs across colons (lambda:us-east-1:*)."""
    assert findings("resource-type-mismatch", allow("logs:DescribeLogGroups", "arn:aws:logs:*:*:log-group:*"),
                    allow("lambda:CreateFunction", "arn:aws:lambda:us-east-1:*")) == []


def test_wildcard_reports_only_the_jets_actions_once(findings):
    hits = findings("resource-type-mismatch", allow("s3:Get*", "arn:aws:s3:::demo-bucket"))
    assert len(hits) == 1
    assert hits[0][2].startswith('"s3:Get*": s3:GetObject, s3:GetObjectVersion, which Jets needs, do not fit any Resource')


def test_fitting_resources_pass(findings):
    assert findings("resource-type-mismatch", allow(["s3:GetObject", "s3:ListBucket"], ["arn:aws:s3:::demo-*", "arn:aws:s3:::demo-*/*"]),
                    allow("logs:DeleteLogGroup", "arn:aws:logs:*:*:log-group:/aws/lambda/demo-*:*")) == []


def test_a_trailing_star_runs_across_colons_as_the_evaluator_reads_it(findings):
    """AWS's AWSLambda_FullAccess grants logs:GetLogEvents on log-group:/aws/lambda/*: the `*` ends the
    segment, so it runs across the colons of arn:aws:logs:R:A:log-group:NAME:log-stream:STREAM and the
    action is granted on the log streams of those groups (0.1 called this "grants nothing here")."""
    assert findings("resource-type-mismatch", allow(["logs:GetLogEvents", "logs:FilterLogEvents"],
                                                    "arn:aws:logs:*:*:log-group:/aws/lambda/*")) == []
    # without a star that may cross a colon, the log-stream ARN has one colon too many
    (hit,) = findings("resource-type-mismatch", allow("logs:GetLogEvents", "arn:aws:logs:*:*:log-group:/aws/lambda/demo"))
    assert hit[2].startswith('"logs:GetLogEvents" takes arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}:log-stream:')
    # a star inside a segment stays inside it
    (hit,) = findings("resource-type-mismatch", allow("logs:GetLogEvents", "arn:aws:logs:*:*:log-group:/aws/*/demo"))
    assert hit[2].endswith("it grants nothing here")


def test_the_log_group_arn_aws_evaluates_is_not_a_mismatch(findings):
    """CloudWatch Logs authorizes DeleteLogGroup on log-group:NAME:log-stream: (its AccessDenied texts),
    so an exact grant on that ARN fits, as the Jets docs' log-group:NAME-*:*:* does."""
    assert findings("resource-type-mismatch",
                    allow("logs:DeleteLogGroup", "arn:aws:logs:*:*:log-group:/aws/lambda/demo-dev-*:log-stream:"),
                    allow("logs:DeleteLogGroup", "arn:aws:logs:*:*:log-group:/aws/lambda/demo-*:*:*")) == []
