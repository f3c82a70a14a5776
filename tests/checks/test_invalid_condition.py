from tests.checks.conftest import allow


def test_unknown_operator(findings):
    (hit,) = findings("invalid-condition", allow("s3:ListBucket", "*", Condition={"StringEqualz": {"s3:prefix": "x"}}))
    assert hit == ("medium", "StringEqualz", 'Statement[0]: unknown condition operator "StringEqualz"', "/Statement/0/Condition/StringEqualz")


def test_unknown_key_and_key_for_no_action(findings):
    hits = findings("invalid-condition", allow("s3:ListBucket", "*", Condition={"StringEquals": {"s3:prefixx": "x"}}),
                    allow("s3:GetObject", "*", Condition={"StringEquals": {"s3:prefix": "x"}}))
    assert [h[2] for h in hits] == ['Statement[0]: "s3:prefixx" is not a s3 condition key',
                                    'Statement[1]: "s3:prefix" applies to none of the statement\'s actions, so the statement never matches']


def test_values_of_the_wrong_type(findings):
    hits = findings("invalid-condition", allow("s3:PutObject", "*", Condition={
        "DateGreaterThan": {"aws:CurrentTime": "notadate"}, "NumericLessThan": {"s3:TlsVersion": ["1.2", "one"]},
        "IpAddress": {"aws:SourceIp": "10.0.0.0/33"}, "Null": {"s3:x-amz-server-side-encryption": "yes"},
        "BoolIfExists": {"aws:SecureTransport": "maybe"}}))
    assert sorted((h[1], h[2], h[3]) for h in hits) == [
        ("BoolIfExists", 'Statement[0]: condition value of the wrong type: aws:SecureTransport under BoolIfExists needs true or false, '
         'not "maybe"', "/Statement/0/Condition/BoolIfExists/aws:SecureTransport"),
        ("DateGreaterThan", "Statement[0]: condition value of the wrong type: aws:CurrentTime under DateGreaterThan needs a date "
         '(ISO 8601) or epoch seconds, not "notadate"', "/Statement/0/Condition/DateGreaterThan/aws:CurrentTime"),
        ("IpAddress", 'Statement[0]: condition value of the wrong type: aws:SourceIp under IpAddress needs an IP address or CIDR range, '
         'not "10.0.0.0/33"', "/Statement/0/Condition/IpAddress/aws:SourceIp"),
        ("Null", 'Statement[0]: condition value of the wrong type: s3:x-amz-server-side-encryption under Null needs true or false, '
         'not "yes"', "/Statement/0/Condition/Null/s3:x-amz-server-side-encryption"),
        ("NumericLessThan", 'Statement[0]: condition value of the wrong type: s3:TlsVersion under NumericLessThan needs a number, '
         'not "one"', "/Statement/0/Condition/NumericLessThan/s3:TlsVersion"),
    ]


def test_typed_operator_on_a_key_of_another_type(findings):
    hits = findings("invalid-condition", allow("s3:GetObject", "*", Condition={
        "NumericEquals": {"aws:SecureTransport": "1"}, "DateLessThan": {"aws:EpochTime": "1700000000"},
        "Bool": {"s3:ExistingObjectTag/x": "true"}}))
    assert sorted(h[2] for h in hits) == [
        "Statement[0]: condition operator of the wrong type: Bool needs true or false, but s3:ExistingObjectTag/x is a String key",
        "Statement[0]: condition operator of the wrong type: NumericEquals needs a number, but aws:SecureTransport is a Bool key",
    ]


def test_mfa_condition_that_does_not_enforce_mfa(findings):
    (hit,) = findings("invalid-condition", {"Effect": "Deny", "Action": "*", "Resource": "*",
                                            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}})
    assert hit[0] == "medium" and hit[1] == "aws:MultiFactorAuthPresent"
    assert hit[2].startswith("Statement[0]: MFA condition that does not enforce MFA")
    assert findings("invalid-condition", {"Effect": "Deny", "Action": "*", "Resource": "*",
                                          "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}) == []


def test_typed_values_in_every_valid_form_pass(findings):
    assert findings("invalid-condition", allow("s3:GetObject", "*", Condition={
        "DateGreaterThan": {"aws:CurrentTime": ["2020-01-01T00:00:00Z", "2020-01-01", "1577836800"]},
        "NumericLessThan": {"s3:TlsVersion": [1.2, "1.2"]}, "IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"]},
        "Bool": {"aws:SecureTransport": [True, "TRUE"]}, "Null": {"aws:TokenIssueTime": "false"},
        "NumericGreaterThan": {"aws:MultiFactorAuthAge": "${aws:EpochTime}"}})) == []


def test_good_conditions_pass(findings):
    assert findings("invalid-condition", allow("iam:PassRole", "*", Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}),
                    allow("s3:ListBucket", "*", Condition={"StringLike": {"s3:prefix": "jets/*"}, "Bool": {"aws:SecureTransport": "true"}}),
                    # the data writes this key s3:ExistingObjectTag/<key>: a placeholder like ${TagKey}
                    allow("s3:GetObject", "*", Condition={"StringEquals": {"s3:ExistingObjectTag/UseWithCodeDeploy": "true"}})) == []
