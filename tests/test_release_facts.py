"""Release facts read from the Jets source at its tags (issue 26), each pinned to its entry and evidence:
every test here fails on the catalogue of 0.1."""

from __future__ import annotations

import json

from auditor import catalogue, engine
from auditor.model import parse_policy
from auditor.report import Settings, Target
from tests.conftest import audit_json

CAT = catalogue.load()


def rows(version: str, features=("core",), action: str | None = None, env: str = "dev") -> set[tuple[str, str, str]]:
    naming = catalogue.Naming("demo", env, version)
    return {(req.action, resource, req.caller) for req, resource in CAT.rendered(naming, features)
            if action is None or req.action == action}


def judged(policy: dict, version: str, features: tuple[str, ...], env: str = "dev") -> dict[tuple[str, str], str]:
    doc = parse_policy(json.dumps(policy), "p.json")
    report = engine.run([Target("file", "p.json", (doc,))], Settings("demo", False, None, (env,), version, features), CAT)
    return {(r.action, r.resource): r.status for r in report.coverage}


def entry(version: str, action: str, feature: str = "core", caller: str | None = None) -> catalogue.Requirement:
    return next(r for r in CAT.select(version, [feature]) if r.action == action and (caller is None or r.caller == caller))


def test_jets_6_autoloads_ssm_parameters_at_every_deploy_and_delete():
    """config.dotenv.ssm.autoload.enable is on by default (v6.0.5 project.rb:33): booting deploy or
    delete calls ssm:GetParametersByPath on /PROJECT/ENV/, and on the JETS_ENV path too when the env
    is not dev or prod (its conventional path falls back to dev); nothing rescues an AccessDenied."""
    assert rows("6", action="ssm:GetParametersByPath") == {
        ("ssm:GetParametersByPath", "arn:aws:ssm:*:*:parameter/demo/dev/", "cli")}
    assert rows("6", action="ssm:GetParametersByPath", env="sbx") == {
        ("ssm:GetParametersByPath", "arn:aws:ssm:*:*:parameter/demo/dev/", "cli"),
        ("ssm:GetParametersByPath", "arn:aws:ssm:*:*:parameter/demo/sbx/", "cli")}
    req = entry("6", "ssm:GetParametersByPath")
    assert req.phases == ("deploy", "update", "delete") and "v6.0.5:lib/jets/core/config/project.rb:33" in req.evidence
    assert "dotenv/ssm.rb:36-42,68-88" in req.evidence and "booter.rb:9-18" in req.evidence
    # the path as requested, with its slash: parameter/demo/dev/* grants it, parameter/demo/dev does not
    grant = {"Effect": "Allow", "Action": "ssm:GetParametersByPath"}
    assert judged({"Version": "2012-10-17", "Statement": [{**grant, "Resource": "arn:aws:ssm:*:*:parameter/demo/dev/*"}]},
                  "6", ("core",))[("ssm:GetParametersByPath", "arn:aws:ssm:*:*:parameter/demo/dev/")] == "granted"
    assert judged({"Version": "2012-10-17", "Statement": [{**grant, "Resource": "arn:aws:ssm:*:*:parameter/demo/dev"}]},
                  "6", ("core",))[("ssm:GetParametersByPath", "arn:aws:ssm:*:*:parameter/demo/dev/")] == "missing"


def test_jets_5_names_its_base_path_function_once():
    """v5.0.14 base_path/function.rb:44-46: {ns}-jets-base-path, without the timestamp of 3.x and 4.x, so a
    policy naming that function grants Jets 5 the custom resource's invoke and Jets 4 nothing."""
    assert rows("5.0.14", ("custom-domain",), "lambda:InvokeFunction") == {
        ("lambda:InvokeFunction", "arn:aws:lambda:*:*:function:demo-dev-jets-base-path", "cloudformation")}
    assert rows("4.0.12", ("custom-domain",), "lambda:InvokeFunction") == {
        ("lambda:InvokeFunction", "arn:aws:lambda:*:*:function:demo-dev-jets-base-path-*", "cloudformation")}
    assert "v5.0.14:lib/jets/cfn/resource/api_gateway/base_path/function.rb:38-46" in entry(
        "5", "lambda:InvokeFunction", "custom-domain").evidence
    # a Jets 5 deploy deletes no log group: only jets delete does
    assert entry("5", "logs:DeleteLogGroup").phases == ("delete",)
    assert set(entry("4", "logs:DeleteLogGroup").phases) == {"deploy", "update", "delete"}


def test_an_edge_custom_domain_needs_cloudfront_update_distribution():
    """v3.2.2 domain_name.rb:24-25: an EDGE domain carries CertificateArn, and API Gateway updates its
    CloudFront distribution with the caller's permission; no CloudFormation handler lists it (an
    [[extra]] in rules/cfn-handlers.toml), and a REGIONAL domain (the default) needs none."""
    req = entry("5", "cloudfront:UpdateDistribution", "edge-domain")
    assert (req.caller, req.phases) == ("cloudformation", ("deploy", "update"))
    assert "how-to-edge-optimized-custom-domain-name" in req.authorized_on and "v3.2.2" in req.evidence
    assert not [r for r in CAT.select("5", ["custom-domain"]) if r.action.startswith("cloudfront:")]
    statuses = judged({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "NotResource": "x"}]},
                      "5", ("core", "custom-domain", "edge-domain"))
    assert statuses[("cloudfront:UpdateDistribution", "arn:aws:cloudfront::*:distribution/*")] == "granted"


def test_public_assets_are_a_default_of_jets_3_to_5(tmp_path):
    """jets new puts files in public/ and every deploy uploads them with a public-read ACL, after a
    HeadObject that rescues only NotFound (v5.0.14 upload.rb:89-135): a default for Jets 3-5, which
    --project drops for an app without files in public/. Jets 6 uploads them from CodeBuild."""
    assert CAT.default_features("3") == CAT.default_features("5.0.14") == ("core", "prewarm", "public-assets")
    assert CAT.default_features("6") == ("core", "prewarm")
    listing = entry("5", "s3:ListBucket", "public-assets")
    assert "rescue Aws::S3::Errors::NotFound only" in listing.evidence and listing.phases == ("deploy", "update")
    policy = tmp_path / "p.json"
    policy.write_text(json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    app = tmp_path / "app"
    (app / "config").mkdir(parents=True)
    _, doc = audit_json(str(policy), "--project", str(app), "--prefix", "demo")
    assert doc["settings"]["features"] == ["core", "prewarm"]  # no public/: refined away
    (app / "public").mkdir()
    (app / "public" / "favicon.ico").write_bytes(b"\0")
    _, doc = audit_json(str(policy), "--project", str(app), "--prefix", "demo")
    assert doc["settings"]["features"] == ["core", "prewarm", "public-assets"]
    _, doc = audit_json(str(policy), "--prefix", "demo")
    assert doc["settings"]["features"] == ["core", "prewarm", "public-assets"]


def test_jets_6_bootstrap_updates_the_apps_nested_stacks_with_the_callers_credentials():
    """v6.0.5 genesis.rb:59-73 merges the existing template, nested stacks included, into the one the
    bootstrap updates, and CloudFormation updates nested stacks with every parent update
    (cfn/deploy.rb:51-57); a failed bootstrap reads the nested stack's events (cfn/status.rb:28-37)."""
    nested = "arn:aws:cloudformation:*:*:stack/demo-dev-*/*"
    found = rows("6")
    assert {("cloudformation:UpdateStack", nested, "cloudformation"), ("cloudformation:DescribeStacks", nested, "cloudformation"),
            ("cloudformation:DescribeStackEvents", nested, "cli")} <= found
    assert entry("6", "cloudformation:UpdateStack", caller="cloudformation").phases == ("update",)


def test_jets_6_sends_its_bootstrap_template_in_the_request():
    """v6.0.5 stack/template.rb:15-21,43-45: the bootstrap uses template_body, so the local principal
    puts only the code zip in the bucket, never jets/cfn/."""
    puts = {resource for action, resource, _ in rows("6") if action == "s3:PutObject"}
    assert puts == {"arn:aws:s3:::demo-dev-s3bucket-*/jets/code/*.zip"}


def test_the_jets_bucket_and_keys_have_the_shapes_jets_gives_them():
    """CloudFormation names the bucket STACK-s3bucket-RANDOM, lower-cased (rubyonjets/jets#553): a Deny on
    other demo-dev-* buckets takes nothing from the deploy, one on demo-dev-s3bucket-* takes it all."""
    allow = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    other = judged({"Version": "2012-10-17", "Statement": [allow, {"Effect": "Deny", "Action": "s3:*",
                                                                      "Resource": ["arn:aws:s3:::demo-dev-logs*"]}]},
                   "5", ("core",))
    assert {status for (action, _), status in other.items() if action.startswith("s3:")} == {"granted"}
    jets = judged({"Version": "2012-10-17", "Statement": [allow, {"Effect": "Deny", "Action": "s3:CreateBucket",
                                                                     "Resource": ["arn:aws:s3:::demo-dev-s3bucket-*"]}]},
                  "5", ("core",))
    assert jets[("s3:CreateBucket", "arn:aws:s3:::demo-dev-s3bucket-*")] == "denied"
    narrow = judged({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": [
        "arn:aws:s3:::demo-dev-s3bucket-*", "arn:aws:s3:::demo-dev-s3bucket-*/*"]}]}, "5", ("core", "prewarm", "public-assets"))
    assert {status for (action, _), status in narrow.items() if action.startswith("s3:")} == {"granted"}  # 0.1: missing
    keys = {resource.split("/jets/", 1)[1] for action, resource, _ in rows("5.0.14") if action == "s3:PutObject"}
    assert keys == {"cfn-templates/parent.yml", "cfn-templates/shas/*/*.yml", "cfn-templates/versions/*/*.yml",
                    "code/*.zip", "state/apigw/*.json"}
    keys = {resource.split("/jets/", 1)[1] for action, resource, _ in rows("4.0.12") if action == "s3:PutObject"}
    assert keys == {"cfn-templates/demo-dev.yml", "cfn-templates/demo-dev-*.yml", "code/*.zip", "state/apigw/*.json"}
