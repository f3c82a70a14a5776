"""generate: the least-privilege policy audits clean, for every feature alone and all together, on
every release line (3, 4, 5, 6) and on the releases where the catalogue changes, and fits IAM's quota
or is split."""

from __future__ import annotations

import json

import pytest

from auditor import catalogue, engine, escalation, generate
from auditor.globs import covers
from auditor.model import parse_policy
from auditor.report import SEVERITY_RANK, Settings, Target
from tests.conftest import invoke, run_cli

CAT = catalogue.load()
FEATURES = CAT.feature_ids


def _audit(docs, version, features, envs=("dev", "prod")):
    policies = tuple(parse_policy(json.dumps(d, indent=2), f"generated-{i}.json") for i, d in enumerate(docs))
    settings = Settings("shop", False, None, envs, version, features)
    return engine.run([Target("file", "generated", policies)], settings, CAT)


def _bad(report):
    return [(f.rule_id, f.severity, f.message) for f in report.findings
            if f.category == "missing-action" and f.severity != "info"
            or f.category != "missing-action" and SEVERITY_RANK[f.severity] >= SEVERITY_RANK["medium"]]


@pytest.mark.slow
@pytest.mark.parametrize("version", ["3", "4", "5", "6", "3.1.5", "3.2.0", "3.2.1", "4.0.8", "4.0.9",
                                     "5.0.0.beta1", "5.0.14", "6.0.5"])
@pytest.mark.parametrize("feature", [*FEATURES, "all"])
def test_generated_policy_audits_clean(version, feature):
    features = FEATURES if feature == "all" else tuple(dict.fromkeys(("core", "prewarm", feature)))
    docs = generate.generate(CAT, version, features, "shop", ("dev", "prod"))
    report = _audit(docs, version, features)
    assert _bad(report) == []
    # one info finding: the privilege escalation the release itself needs (tests/checks/test_privilege_escalation.py)
    assert [(f.rule_id, f.severity, f.subject) for f in report.findings] == [
        ("privilege-escalation", "info", f"Jets {version.split('.')[0]}")]
    assert {r.status for r in report.coverage} == {"granted"}  # its own Conditions hold for Jets' requests: no unknown row
    for doc in docs:
        assert generate.minified_size(doc) <= generate.POLICY_QUOTA


def test_passrole_is_scoped_and_conditioned():
    (doc,) = generate.generate(CAT, "5", ("core", "prewarm"), "shop", ("dev",))
    passrole = [s for s in doc["Statement"] if "iam:PassRole" in s["Action"]]
    assert passrole == [{"Sid": "JetsPassRole", "Effect": "Allow", "Action": ["iam:PassRole"],
                         "Resource": ["arn:aws:iam::*:role/shop-dev-*"],
                         "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}}]
    (doc6,) = generate.generate(CAT, "6", ("core",), "shop", ("dev",))
    assert [s["Condition"] for s in doc6["Statement"] if s["Sid"] == "JetsPassRole"] == [
        {"StringEquals": {"iam:PassedToService": "codebuild.amazonaws.com"}}]
    sids = [s["Sid"] for s in doc["Statement"]]
    assert len(sids) == len(set(sids)) and all(sid.startswith("Jets") for sid in sids)


def test_split_when_over_quota():
    statements = [{"Sid": f"S{i}", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::b{i}/" + "x" * 200]}
                  for i in range(60)]
    docs = generate.split(statements)
    assert len(docs) > 1 and all(generate.minified_size(d) <= generate.POLICY_QUOTA for d in docs)
    assert [s["Sid"] for d in docs for s in d["Statement"]] == [f"S{i}" for i in range(60)]


@pytest.mark.slow
def test_cli_generate_and_split_notice(tmp_path):
    proc = run_cli("generate", "--prefix", "shop", "--env", "dev", "--env", "prod", "--jets-version", "6")
    assert proc.returncode == 0 and proc.stderr.decode().startswith(
        "what remains: 5 privilege-escalation paths that Jets 6 itself needs, which no deploy policy can close (")
    doc = json.loads(proc.stdout)
    assert doc["Version"] == "2012-10-17" and any(s["Sid"] == "JetsCodeBuild" for s in doc["Statement"])
    proc = invoke("generate", "--prefix", "shop", "--feature", "all", "--env", "dev", "--env", "prod", "--env", "stag",
                   "--env", "qa", "--env", "perf")
    docs = json.loads(proc.stdout)
    assert isinstance(docs, list) and len(docs) >= 2
    assert "written as a JSON array of" in proc.stderr.decode()
    assert invoke("generate").returncode == 2


@pytest.mark.parametrize(("version", "documents"), [("3", 1), ("4", 2), ("5", 2), ("6", 1)])
def test_every_feature_for_one_env_fits_few_managed_policies(version, documents):
    """Exact grouping (by resource set or by action set, whichever is shorter; the actions that take no
    resource together on "*"; no pattern another one of the action's contains) keeps the whole catalogue
    of a release line for one env in one managed policy, or two for Jets 4 and 5 with every feature on
    (the object keys Jets writes are spelled out: jets/cfn-templates/shas/*/*.yml, jets/code/*.zip, ...)."""
    docs = generate.generate(CAT, version, FEATURES, "demo", ("dev",))
    assert len(docs) == documents
    assert all(generate.minified_size(doc) <= generate.POLICY_QUOTA for doc in docs)
    statements = [s for doc in docs for s in doc["Statement"]]
    star = [s for s in statements if s["Resource"] == ["*"]]
    assert [s["Sid"] for s in star] == (["JetsAnyResource"] if version != "6" else [])
    assert not any(p != q and covers(p, q) for s in statements for p in s["Resource"] for q in s["Resource"])
    (stock,) = generate.generate(CAT, version, CAT.default_features(version), "demo", ("dev",))  # a stock app: one
    assert generate.minified_size(stock) <= generate.POLICY_QUOTA


def test_attaching_is_limited_to_the_managed_policies_jets_attaches():
    """Jets 6 attaches AmazonSSMReadOnlyAccess and AWSCertificateManagerReadOnly to its CodeBuild role, s3_event
    AWSLambdaBasicExecutionRole: generate conditions iam:AttachRolePolicy and iam:DetachRolePolicy on them
    (iam:PolicyARN); managed_iam_policy names the app's own, so with that feature attaching is not limited."""
    (doc,) = generate.generate(CAT, "6", ("core",), "shop", ("dev",))
    (limited,) = [s for s in doc["Statement"] if s["Sid"] == "JetsIamManagedPolicies"]
    assert limited == {"Sid": "JetsIamManagedPolicies", "Effect": "Allow",
                       "Action": ["iam:AttachRolePolicy", "iam:DetachRolePolicy"], "Resource": ["arn:aws:iam::*:role/shop-dev-CodebuildRole-*"],
                       "Condition": {"ArnEquals": {"iam:PolicyARN": [
                           "arn:aws:iam::aws:policy/AWSCertificateManagerReadOnly", "arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess"]}}}
    (doc5,) = generate.generate(CAT, "5", ("core", "s3-events"), "shop", ("dev",))
    assert [s["Condition"] for s in doc5["Statement"] if s["Sid"] == "JetsIamManagedPolicies"] == [
        {"ArnEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}}]
    (app,) = generate.generate(CAT, "5", ("core", "s3-events", "managed-iam-policies"), "shop", ("dev",))
    assert not any(s["Sid"] == "JetsIamManagedPolicies" for s in app["Statement"])
    assert any("iam:AttachRolePolicy" in s["Action"] and "Condition" not in s for s in app["Statement"])


def test_attaching_fewer_policies_than_jets_attaches_is_missing():
    """Each managed policy is attached in a request of its own: a policy that lets only one through fails the
    other request, so the requirement is missing, not "maybe"."""
    (doc,) = generate.generate(CAT, "6", ("core",), "shop", ("dev",))
    for stmt in doc["Statement"]:
        if stmt["Sid"] == "JetsIamManagedPolicies":
            stmt["Condition"] = {"ArnEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess"}}
    report = _audit([doc], "6", ("core",), envs=("dev",))
    assert {(r.action, r.status) for r in report.coverage if r.status != "granted"} == {
        ("iam:AttachRolePolicy", "missing"), ("iam:DetachRolePolicy", "missing")}


@pytest.mark.parametrize(("version", "says"), [
    ("5", "what remains: 3 privilege-escalation paths that Jets 5 itself needs, which no deploy policy can close (pass a "
          "role it writes (role/shop-dev-*) to a new Lambda function, give an existing Lambda function a role it writes "
          "(role/shop-dev-*), write the role of Jets' Lambda function and run its code); `jets-iam-audit file` reports "
          "them as privilege-escalation (info). Narrow them outside the policy: deploy from an account of its own, or cap "
          "the account with an SCP (no condition key limits what iam:PutRolePolicy writes, and Jets 3-5 set no "
          "permissions boundary on the roles they create)"),
    ("6", "what remains: 5 privilege-escalation paths that Jets 6 itself needs, which no deploy policy can close (pass "
          "Jets' role role/shop-dev-CodebuildRole-* to a new CodeBuild project, give an existing CodeBuild project Jets' role "
          "role/shop-dev-CodebuildRole-*, pass a role it writes (role/shop-dev-CodebuildRole-*) to a new CodeBuild project and 2 more; Jets' role "
          "role/shop-dev-CodebuildRole-*, which project/shop-dev-remote* runs as, has iam:*, lambda:*, cloudformation:*, s3:* and 11 "
          "more services on * (config.codebuild.iam.default_policy)); `jets-iam-audit file` reports them as "
          "privilege-escalation (info). Narrow them outside the policy: narrow config.codebuild.iam.default_policy to "
          "what the app's stacks need, deploy from an account of its own, or cap the account with an SCP (whoever may "
          "start the remote runner's build acts as its role, and CloudFormation writes that role's inline policy with "
          "the deploy user's credentials)"),
])
def test_generate_says_what_remains(version, says):
    assert escalation.what_remains(CAT, version, ("core",), "shop", ("dev",)) == says
    proc = invoke("generate", "--prefix", "shop", "--jets-version", version, "--feature", "core")
    assert proc.returncode == 0 and proc.stderr.decode() == says + "\n"
