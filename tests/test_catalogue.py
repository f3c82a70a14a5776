from __future__ import annotations

import shutil

import pytest

from auditor import awsdata
from auditor.catalogue import CatalogueError, Naming, load, rules_dir

FEATURE_IDS = ("core", "prewarm", "custom-domain", "dynamodb-events", "s3-events", "sqs-events",
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


def test_defaults_are_core_and_prewarm(catalogue):
    assert [f.id for f in catalogue.features if f.default] == ["core", "prewarm"]


def test_every_requirement_has_reason_evidence_and_a_real_action(catalogue):
    for req in catalogue.requirements:
        assert req.reason and req.evidence and req.phases
        assert awsdata.action_exists(req.action), req.action
        assert awsdata.action_name(req.action) == req.action, f"{req.action} is not spelled as AWS spells it"


def test_version_specific_requirements(catalogue):
    v3 = {(r.action, r.resource) for r in catalogue.select("3", ["core"])}
    v5 = {(r.action, r.resource) for r in catalogue.select("5", ["core"])}
    state = ("s3:GetObject", "arn:{partition}:s3:::{ns_lower}-*/jets/state/apigw/*")
    assert state in v5 and state not in v3


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


def test_unknown_action_is_rejected(tmp_path):
    rules = _copy_rules(tmp_path)
    path = rules / "jets3-5" / "prewarm.toml"
    path.write_text(path.read_text().replace("lambda:InvokeFunction", "lambda:InvokeFunctionz"))
    with pytest.raises(CatalogueError, match=r"rules/jets3-5/prewarm.toml#1: 'lambda:InvokeFunctionz' is not an action"):
        load(rules)


def test_bad_template_is_rejected(tmp_path):
    rules = _copy_rules(tmp_path)
    path = rules / "jets3-5" / "prewarm.toml"
    path.write_text(path.read_text().replace("{ns}-*", "{namespace}-*"))
    with pytest.raises(CatalogueError, match=r"unknown placeholder\(s\) \['namespace'\]"):
        load(rules)


def test_missing_evidence_is_rejected(tmp_path):
    rules = _copy_rules(tmp_path)
    path = rules / "jets3-5" / "prewarm.toml"
    text = path.read_text()
    path.write_text("\n".join(line for line in text.splitlines() if not line.startswith("evidence")))
    with pytest.raises(CatalogueError, match="missing 'evidence'"):
        load(rules)


def test_every_resource_fits_its_action(catalogue):
    """A requirement's resource must be a resource type the action takes (from current AWS data), and
    "*" exactly when the action takes no resource: otherwise a generated policy would grant nothing."""
    from auditor.checks.common import format_globs
    from auditor.evaluate import strict_overlaps

    bad = []
    for req in catalogue.requirements:
        formats = awsdata.resource_formats(req.action)
        rendered = Naming("shop", "dev", req.versions[0]).render(req.resource)
        if not formats:
            ok = req.resource == "*"
        else:
            ok = req.resource != "*" and any(strict_overlaps(g, rendered) for f in formats for g in format_globs(f))
        if not ok:
            bad.append((req.origin, req.action, req.resource))
    assert bad == []
