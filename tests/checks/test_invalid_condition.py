from tests.checks.conftest import allow


def test_unknown_operator(findings):
    (hit,) = findings("invalid-condition", allow("s3:ListBucket", "*", Condition={"StringEqualz": {"s3:prefix": "x"}}))
    assert hit == ("medium", "StringEqualz", 'Statement[0]: unknown condition operator "StringEqualz"', "/Statement/0/Condition/StringEqualz")


def test_unknown_key_and_key_for_no_action(findings):
    hits = findings("invalid-condition", allow("s3:ListBucket", "*", Condition={"StringEquals": {"s3:prefixx": "x"}}),
                    allow("s3:GetObject", "*", Condition={"StringEquals": {"s3:prefix": "x"}}))
    assert [h[2] for h in hits] == ['Statement[0]: "s3:prefixx" is not a s3 condition key',
                                    'Statement[1]: "s3:prefix" applies to none of the statement\'s actions, so the statement never matches']


def test_parliament_type_and_mfa_checks(findings):
    hits = findings("invalid-condition", allow("s3:GetObject", "*", Condition={
        "DateGreaterThan": {"aws:CurrentTime": "notadate"}, "Bool": {"aws:MultiFactorAuthPresent": "false"}}))
    messages = sorted(h[2] for h in hits)
    assert messages[0].startswith("Statement[0]: MFA condition that does not enforce MFA")
    assert messages[1].startswith("Statement[0]: condition value of the wrong type: Type mismatch: aws:CurrentTime requires a value of type Date")


def test_good_conditions_pass(findings):
    assert findings("invalid-condition", allow("iam:PassRole", "*", Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}),
                    allow("s3:ListBucket", "*", Condition={"StringLike": {"s3:prefix": "jets/*"}, "Bool": {"aws:SecureTransport": "true"}})) == []
