from tests.checks.conftest import allow


def test_repeated_sid(findings):
    hits = findings("duplicate-sid", {"Sid": "Lambda", **allow("lambda:GetFunction", "*")},
                    {"Sid": "Lambda", **allow("lambda:InvokeFunction", "*")})
    assert hits == [("medium", "Lambda", 'Sid "Lambda" of Statement[1] is already used by Statement[0]', "/Statement/1/Sid")]


def test_unique_sids_pass(findings):
    assert findings("duplicate-sid", {"Sid": "A", **allow("s3:GetObject", "*")}, {"Sid": "B", **allow("s3:PutObject", "*")}) == []
