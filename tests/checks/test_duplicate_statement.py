from tests.checks.conftest import allow


def test_repeated_statement_whatever_the_sid(findings):
    hits = findings("duplicate-statement", {"Sid": "A", **allow(["s3:GetObject", "s3:PutObject"], "*")},
                    {"Sid": "B", **allow(["S3:PutObject", "s3:GetObject"], "*")})
    assert hits == [("low", "B", "B repeats A", "/Statement/1")]


def test_different_statements_pass(findings):
    assert findings("duplicate-statement", allow("s3:GetObject", "*"), allow("s3:GetObject", "arn:aws:s3:::x/*")) == []
