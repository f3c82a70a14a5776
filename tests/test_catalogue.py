from __future__ import annotations

import re
import shutil

import pytest

from auditor import awsdata
from auditor.catalogue import CatalogueError, Naming, load, major, rules_dir
from auditor.releases import ReleaseError, key
from tests.conftest import in_range

FEATURE_IDS = ("core", "prewarm", "custom-domain", "edge-domain", "dynamodb-events", "s3-events", "sqs-events",
               "sns-events", "kinesis-events", "iot-events", "log-events", "config-rules", "vpc",
               "ssm-dotenv", "managed-iam-policies", "resource-tags", "public-assets")


@pytest.fixture(scope="module")
def catalogue():
    return load()


def test_every_design_feature_exists_and_has_requirements_on_jets_5(catalogue):
    assert catalogue.feature_ids == FEATURE_IDS
    for fid in FEATURE_IDS:
        assert catalogue.select("5", [fid]), fid


def test_jets_6_core_and_notes_for_the_rest(catalogue):
    assert catalogue.select("6", ["core"])
    for fid in FEATURE_IDS[1:]:
        assert catalogue.feature(fid).remote_note, fid


def test_defaults_fit_a_stock_jets_new_app(catalogue):
    """jets new puts files in public/ (v3.0.0 lib/jets/commands/templates/skeleton/public/, v5.0.14
    lib/jets/generators/overrides/app/templates/public/), and every Jets 3-5 deploy uploads them with a
    public-read ACL; Jets 6 uploads them from CodeBuild."""
    assert [f.id for f in catalogue.features if f.default] == ["core", "prewarm", "public-assets"]
    assert catalogue.default_features("5") == catalogue.default_features("3.0.0") == ("core", "prewarm", "public-assets")
    assert catalogue.default_features("6") == ("core", "prewarm")


def test_every_requirement_has_reason_evidence_and_a_real_action(catalogue):
    for req in catalogue.requirements:
        assert req.reason and req.evidence and req.phases
        assert awsdata.action_exists(req.action), req.action
        assert awsdata.action_name(req.action) == req.action, f"{req.action} is not spelled as AWS spells it"


def _pairs(catalogue, version, features=("core",)):
    return {(r.action, r.resource) for r in catalogue.select(version, features)}


def test_release_specific_requirements(catalogue):
    """What changed between minors (rules/releases.toml): the route state in S3 from 3.2.0, the
    bucket's public access block from 3.2.1, its CORS configuration from 5.0; a line selects the
    union of its releases."""
    state = ("s3:PutObject", "arn:{partition}:s3:::{ns_lower}-s3bucket-{*random_lower}/jets/state/apigw/{*state}.json")
    block = ("s3:PutBucketPublicAccessBlock", "arn:{partition}:s3:::{ns_lower}-s3bucket-{*random_lower}")
    cors = ("s3:PutBucketCORS", "arn:{partition}:s3:::{ns_lower}-s3bucket-{*random_lower}")
    assert state not in _pairs(catalogue, "3.1.5") and state in _pairs(catalogue, "3.2.0")
    assert block not in _pairs(catalogue, "3.2.0") and block in _pairs(catalogue, "3.2.1")
    assert cors not in _pairs(catalogue, "4.0.12") and cors in _pairs(catalogue, "5.0.0")
    assert cors in _pairs(catalogue, "5.0.0.beta1") and cors in _pairs(catalogue, "5")
    assert {state, block} <= _pairs(catalogue, "3") and cors not in _pairs(catalogue, "3")
    assert _pairs(catalogue, "3.2") == _pairs(catalogue, "3.2.0") | _pairs(catalogue, "3.2.2")
    tags = ("lambda:TagResource", "arn:{partition}:lambda:{region}:{account}:function:{ns}-{*function}")
    assert tags not in _pairs(catalogue, "4.0.8", ["resource-tags"]) and tags in _pairs(catalogue, "4.0.9", ["resource-tags"])


def test_jets_version_values(catalogue):
    line = catalogue.version("5")
    inside = [r for r in line.line.releases if line.low <= key(r) < line.high]
    assert not line.is_release and (inside[0], inside[-1]) == ("5.0.0.beta1", "5.0.14")
    assert catalogue.version("5.0.14").is_release and not catalogue.version("5.0.14").unreviewed
    assert catalogue.version("5.0.15").unreviewed  # newer than reviewed: the newest entries apply
    assert _pairs(catalogue, "5.0.15") == _pairs(catalogue, "5.0.14")
    for bad, message in (("2.3.17", "covers Jets 3.x (3.0.0-3.2.2), 4.x"), ("7", "covers Jets"),
                         ("4.0.99x", "not a Jets version"), ("5.1", "no Jets release in it"),
                         ("3.0.99", "not a Jets 3.x release"), ("", "not a Jets version")):
        with pytest.raises(ReleaseError, match=re.escape(message)):
            catalogue.version(bad)


def test_a_gemfile_constraint_is_every_release_it_admits(catalogue):
    four = catalogue.version("~> 4.0")
    assert (four.constraint, four.major, four.is_release, four.remote) == (True, "4", False, False)
    assert _pairs(catalogue, "~> 4.0") == _pairs(catalogue, "4")
    assert _pairs(catalogue, "~> 5.0.3") == _pairs(catalogue, "5.0.14")
    span = catalogue.version(">= 4.0.9")
    assert [line.major for line in span.lines] == ["4", "5", "6"] and span.remote
    assert _pairs(catalogue, ">= 4.0.9") == _pairs(catalogue, "4.0.9") | _pairs(catalogue, "5") | _pairs(catalogue, "6")
    with pytest.raises(ReleaseError, match="allows no release this catalogue covers"):
        catalogue.version(">= 7")


def test_callers_and_passed_to(catalogue):
    assert {r.caller for r in catalogue.requirements} == {"cli", "cloudformation"}
    for req in catalogue.requirements:
        assert bool(req.passed_to) == (req.action == "iam:PassRole"), req.origin
    assert {s for r in catalogue.select("5.0.14", ["core"]) for s in r.passed_to} == {"lambda.amazonaws.com"}
    assert {s for r in catalogue.select("6", ["core"]) for s in r.passed_to} == {"codebuild.amazonaws.com"}
    cli = {(r.action, r.resource) for r in catalogue.select("5", ["core"]) if r.caller == "cli"}
    nested = "arn:{partition}:cloudformation:{region}:{account}:stack/{ns}-{*logical_id}-{*random}/{*stackid}"
    assert ("cloudformation:DescribeStacks", nested) in cli  # the CLI reads nested stacks' outputs
    assert ("cloudformation:CreateStack", nested) not in cli  # CloudFormation creates them


def test_naming():
    n = Naming("my_app", "development", "5")
    assert n.ns == "my-app-dev"
    assert n.render("arn:{partition}:lambda:{region}:{account}:layer:{env}-{project}-gems") == "arn:aws:lambda:*:*:layer:dev-my_app-gems"
    assert n.render("arn:{partition}:s3:::{ns_lower}-*") == "arn:aws:s3:::my-app-dev-*"
    assert n.render("parameter/{project}/{fullenv}/*") == "parameter/my_app/development/*"
    assert Naming("Shop", "staging", "6", "eu-west-1", "123456789012").render("{ns}:{ns_lower}:{region}:{account}") == "Shop-staging:shop-staging:eu-west-1:123456789012"


def _copy_rules(tmp_path):
    target = tmp_path / "rules"
    shutil.copytree(rules_dir(), target)
    return target


def test_missing_evidence_is_rejected(tmp_path):
    rules = _copy_rules(tmp_path)
    path = rules / "jets3-5" / "prewarm.toml"
    text = path.read_text()
    path.write_text("\n".join(line for line in text.splitlines() if not line.startswith("evidence")))
    with pytest.raises(CatalogueError, match="missing 'evidence'"):
        load(rules)


def test_an_unknown_name_part_in_escalation_toml_is_rejected(tmp_path):
    """The roles and compute of rules/escalation.toml are rendered like requirements: a name part that
    rules/names.toml does not define is refused when the catalogue loads, not a KeyError in generate."""
    rules = _copy_rules(tmp_path)
    path = rules / "escalation.toml"
    path.write_text(path.read_text().replace("role/{ns}-{*generated}-{*random}", "role/{ns}-{*role}-{*random}", 1))
    with pytest.raises(CatalogueError, match=r"escalation.toml \[\[runs_as\]\] #1: unknown placeholder\(s\) \['\*role'\]"):
        load(rules)


def test_every_resource_fits_its_action(catalogue):
    """A requirement's resource must be a resource type the action takes (from current AWS data), and
    "*" exactly when the action takes no resource: otherwise a generated policy would grant nothing.
    The exceptions are the resources AWS really evaluates, each with the AWS doc (authorized_on)."""
    from auditor.arn import format_globs
    from auditor.globs import strict_overlaps

    bad = []
    for req in catalogue.requirements:
        formats = awsdata.resource_formats(req.action)
        rendered = Naming("shop", "dev", str(req.releases.low[0])).render(req.resource)
        if not formats:
            ok = req.resource == "*" or bool(req.authorized_on)
        else:
            ok = req.resource != "*" and any(strict_overlaps(g, rendered) for f in formats for g in format_globs(f))
        if not ok:
            bad.append((req.origin, req.action, req.resource))
    assert bad == []
    evaluated = {r.action for r in catalogue.requirements if r.authorized_on}
    assert evaluated == {"logs:DescribeLogGroups", "logs:DeleteLogGroup", "logs:FilterLogEvents", "iam:GetUser",
                         "logs:PutSubscriptionFilter", "logs:DescribeSubscriptionFilters", "logs:DeleteSubscriptionFilter",
                         "ssm:GetParametersByPath", "cloudfront:UpdateDistribution"}


@pytest.mark.parametrize(("edit", "message"), [
    (("lambda:InvokeFunction", "lambda:InvokeFunctionz"), r"rules/jets3-5/prewarm.toml#1: 'lambda:InvokeFunctionz' is not an action"),
    (("{ns}-{*function}", "{namespace}-{*function}"), r"unknown placeholder\(s\) \['namespace'\]"),
    (('caller = "cli"', 'caller = "user"'), "caller must be one of"),
    (('caller = "cli"\n', ''), "missing 'caller'"),
    (('phases = ["prewarm"]', 'phases = ["prewarm"]\nreleases = ">= 2, < 6"'), "outside this directory's '>= 3, < 6'"),
    (('phases = ["prewarm"]', 'phases = ["prewarm"]\nreleases = "3.0"'), "has no operator"),
    (('phases = ["prewarm"]', 'phases = ["prewarm"]\npassed_to = ["lambda.amazonaws.com"]'), "goes with iam:PassRole, and only with it"),
])
def test_bad_entries_are_rejected(tmp_path, edit, message):
    rules = _copy_rules(tmp_path)
    path = rules / "jets3-5" / "prewarm.toml"
    path.write_text(path.read_text().replace(*edit))
    with pytest.raises(CatalogueError, match=message):
        load(rules)


def test_passrole_needs_its_services(tmp_path):
    rules = _copy_rules(tmp_path)
    path = rules / "jets3-5" / "core.toml"
    path.write_text(path.read_text().replace('passed_to = ["lambda.amazonaws.com"]\n', ''))
    with pytest.raises(CatalogueError, match=r"core.toml#\d+: passed_to"):
        load(rules)
    path.write_text((rules_dir() / "jets3-5" / "core.toml").read_text().replace('["lambda.amazonaws.com"]', '["lambda"]'))
    with pytest.raises(CatalogueError, match="not a service principal"):
        load(rules)


def test_major():
    assert major("5") == major("5.0") == major("5.0.14") == "5"


def test_release_ranges_read_as_in_a_gemfile():
    from auditor.releases import parse_range

    def inside(text, release):
        return in_range(parse_range(text), release)

    assert inside(">= 3.2.1, < 6", "5.0.14") and not inside(">= 3.2.1, < 6", "3.2.0") and not inside(">= 3.2.1, < 6", "6.0.0")
    assert inside(">= 5", "5.0.0.beta1") and not inside("< 5", "5.0.0.beta1") and inside("< 5", "4.0.12")
    assert inside("<= 4.0.9", "4.0.9") and not inside("<= 4.0.9", "4.0.10") and inside("> 4.0.9", "4.0.10")
    assert inside("= 4.0", "4.0.12") and not inside("= 4.0", "4.1.0") and inside("= 5.0.14", "5.0.14")
    with pytest.raises(ReleaseError, match="contains no release"):
        parse_range(">= 6, < 5")
    with pytest.raises(ReleaseError, match="is empty"):
        parse_range(">= 3,")
