from tests.checks.conftest import allow, deny


def test_missing_and_denied(findings):
    hits = findings("missing-action", allow("*", "*"), deny("lambda:InvokeFunction", "arn:aws:lambda:*:*:function:demo-dev-*"))
    assert [(h[0], h[1], h[3]) for h in hits] == [("high", "lambda:InvokeFunction", "/Statement/1")]
    assert hits[0][2].startswith('"lambda:InvokeFunction" on function:demo-dev-* is denied by p.json#Statement[1]: ')


def test_a_deny_on_some_names_is_its_own_verdict(findings):
    """Jets names a function after the app's class and method: a Deny on demo-dev-web denies prewarm
    only in an app with such a function. That is "may be denied, depending on names", at low severity,
    and the message names the Deny's Resource."""
    hits = findings("missing-action", allow("*", "*"), deny("lambda:InvokeFunction", "arn:aws:lambda:*:*:function:demo-dev-web"))
    assert [(h[0], h[1], h[3]) for h in hits] == [("low", "lambda:InvokeFunction", "/Statement/1")]
    assert hits[0][2] == ('"lambda:InvokeFunction" on function:demo-dev-* may be denied, depending on names the app chooses '
                          "(Statement[1] denies it on the names its Resource matches (arn:aws:lambda:*:*:function:demo-dev-web)): "
                          "prewarm after deploy fails: jets invokes the functions (InvocationType Event) with the deployer's credentials "
                          "once the stack is up")


def test_everything_granted_passes(findings):
    assert findings("missing-action", allow("*", "*")) == []


def test_a_boundary_that_leaves_an_action_out_is_a_plain_missing_action(cat):
    # The identity policy allows everything; the boundary only S3. The coverage row says the boundary set
    # its status (by_boundary), and missing-action reports it as missing, with the boundary's note, not as
    # "allowed by Statement[0] but not on ...".
    import json

    from auditor import engine
    from auditor.model import parse_policy
    from auditor.report import Settings, Target

    def doc(*statements):
        return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})

    policy = parse_policy(doc(allow("*", "*")), "p.json")
    boundary = parse_policy(doc(allow("s3:*", "*")), "b.json")
    settings = Settings("demo", False, None, ("dev",), "5", ("core", "prewarm"))
    report = engine.run([Target("role", "deploy", (policy,), (boundary,))], settings, cat)
    row = next(r for r in report.coverage if r.action == "lambda:InvokeFunction")
    assert (row.status, row.by_boundary, row.allowed_by) == ("missing", True, ("p.json#Statement[0]",))
    finding = next(f for f in report.findings if f.subject == "lambda:InvokeFunction")
    assert finding.message.startswith('missing "lambda:InvokeFunction" on function:demo-dev-*: ')
    assert finding.message.endswith("(not allowed by the permissions boundary b.json)")
    s3 = next(r for r in report.coverage if r.action == "s3:PutObject")
    assert (s3.status, s3.by_boundary) == ("granted", False)
