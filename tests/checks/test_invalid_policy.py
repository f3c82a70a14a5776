def test_bad_effect_and_version(findings):
    hits = findings("invalid-policy", text='{"Version": "2012-10-18", "Statement": [{"Effect": "allow", "Action": "s3:*", "Resource": "*"}]}')
    assert sorted((h[0], h[3]) for h in hits) == [("high", "/Statement/0/Effect"), ("high", "/Version")]


def test_not_json(findings):
    (hit,) = findings("invalid-policy", text="{")
    assert hit[2].startswith("not JSON: ")


def test_valid_policy_passes(findings):
    assert findings("invalid-policy", {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}) == []
