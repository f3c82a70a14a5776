from tests.checks.conftest import allow, deny


def test_missing_and_denied(findings):
    hits = findings("missing-action", allow("*", "*"), deny("lambda:InvokeFunction", "arn:aws:lambda:*:*:function:demo-dev-web"))
    assert [(h[0], h[1], h[3]) for h in hits] == [("high", "lambda:InvokeFunction", "/Statement/1")]


def test_everything_granted_passes(findings):
    assert findings("missing-action", allow("*", "*")) == []
