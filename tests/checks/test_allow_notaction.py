def test_allow_notaction(findings):
    (hit,) = findings("allow-notaction", {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"})
    assert hit == ("high", "Statement[0]", "Statement[0] uses Allow with NotAction: it grants every action except iam:*, organizations:*",
                   "/Statement/0/NotAction")


def test_deny_notaction_passes(findings):
    assert findings("allow-notaction", {"Effect": "Deny", "NotAction": "iam:*", "Resource": "*"}) == []
