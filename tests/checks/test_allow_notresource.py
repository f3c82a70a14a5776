def test_allow_notresource(findings):
    (hit,) = findings("allow-notresource", {"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secrets/*"})
    assert hit == ("medium", "Statement[0]",
                   "Statement[0] uses Allow with NotResource: it grants on every resource except arn:aws:s3:::secrets/*",
                   "/Statement/0/NotResource")


def test_deny_notresource_passes(findings):
    assert findings("allow-notresource", {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::demo-*"}) == []
