from tests.checks.conftest import allow


def test_exact_repeat(findings):
    (hit,) = findings("duplicate-resource", allow("s3:GetObject", ["arn:aws:s3:::demo-*/*", "arn:aws:s3:::demo-*/*"]))
    assert hit == ("low", "arn:aws:s3:::demo-*/*", '"arn:aws:s3:::demo-*/*" is listed twice in Statement[0]', "/Statement/0/Resource/1")


def test_contained_in_a_broader_entry_is_info(findings):
    (hit,) = findings("duplicate-resource", allow("s3:*", ["arn:aws:s3:::demo-*", "arn:aws:s3:::demo-*/*"]))
    assert hit[0] == "info" and hit[2] == '"arn:aws:s3:::demo-*/*" in Statement[0] is already contained in "arn:aws:s3:::demo-*"'


def test_distinct_resources_pass(findings):
    assert findings("duplicate-resource", allow("s3:*", ["arn:aws:s3:::demo-a", "arn:aws:s3:::demo-b"])) == []
