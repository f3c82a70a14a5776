from tests.checks.conftest import allow


def test_full_wildcard_is_critical(findings):
    (hit,) = findings("wildcard-action", allow("*", "*"))
    assert hit[0] == "critical" and hit[1] == "*" and hit[3] == "/Statement/0/Action"
    assert hit[2].startswith('"*" grants every action of every AWS service (')


def test_service_wildcard_names_the_narrow_replacement(findings):
    (hit,) = findings("wildcard-action", allow(["logs:*"], "*"))
    assert hit[0] == "high" and hit[3] == "/Statement/0/Action/0"
    assert hit[2].endswith("; Jets needs 2: DeleteLogGroup, DescribeLogGroups")


def test_partial_wildcard_with_writes_is_medium(findings):
    (hit,) = findings("wildcard-action", allow("s3:Put*", "arn:aws:s3:::demo-*/*"))
    assert hit[0] == "medium" and "writes Jets never makes" in hit[2]
    assert "Jets needs 5: PutBucketCORS, PutBucketOwnershipControls, PutBucketPublicAccessBlock and 2 more" in hit[2]


def test_narrow_partial_wildcard_passes(findings):
    assert findings("wildcard-action", allow("iam:GetRole*", "arn:aws:iam::*:role/demo-*")) == []
    assert findings("wildcard-action", allow(["lambda:GetFunction", "s3:GetObject"], "*")) == []


def test_deny_wildcards_are_fine(findings):
    assert findings("wildcard-action", {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}) == []


def test_wildcard_granting_exactly_what_jets_needs_passes(findings):
    """What `generate --minimize` writes: a prefix wildcard whose current expansion Jets needs in full."""
    assert findings("wildcard-action", allow(["cloudformation:DescribeStackE*"], "arn:aws:cloudformation:*:*:stack/demo-*")) == []
    assert findings("wildcard-action", allow(["lambda:Un*"], "arn:aws:lambda:*:*:function:demo-*"),
                    features=("core", "prewarm", "resource-tags")) == []


def test_wildcard_granting_one_action_more_is_reported(findings):
    """lambda:T* granted only TagResource in 2023; today it also grants TerminateMicrovm, a write."""
    (hit,) = findings("wildcard-action", allow(["lambda:T*"], "arn:aws:lambda:*:*:function:demo-*"),
                      features=("core", "prewarm", "resource-tags"))
    assert hit[0] == "medium" and hit[3] == "/Statement/0/Action/0"
    assert hit[2] == '"lambda:T*" grants 2 actions, 1 of them writes Jets never makes (lambda:TerminateMicrovm); Jets needs 1: TagResource'
