from tests.checks.conftest import allow


def test_malformed_arns(findings):
    hits = findings("malformed-arn", allow("lambda:*", ["lambda:function:demo", "arn:aws:lamda:*:*:function:demo-*",
                                                       "arn:aws:lambda:useast1:*:function:demo-*", "arn:aws:lambda:*:1234:function:x",
                                                       "arn:aws:lambda:us-east-1"]))
    assert [h[2].split(": ", 1)[1] for h in hits] == [
        'not an ARN (it must be "*" or start with "arn:")',
        'unknown service "lamda" (did you mean lambda?)',
        'region "useast1" is not a region name',
        'account "1234" is not a 12-digit account id',
        "has 4 of the 6 colon-separated parts arn:partition:service:region:account:resource",
    ]


def test_well_formed_arns_pass(findings):
    assert findings("malformed-arn", allow("*", ["*", "arn:aws:lambda:*", "arn:aws:iam::aws:policy/ReadOnlyAccess",
                                                "arn:aws-cn:s3:::b/*", "arn:aws:lambda:eu-west-1:123456789012:function:x"])) == []
