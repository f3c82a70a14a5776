"""generate --attach and --minimize: IAM's quota per attachment, policyuniverse's wildcards checked against
current data, and a minimised policy that grants exactly what the plain one grants and audits clean."""

from __future__ import annotations

import json

import pytest

from auditor import awsdata, catalogue, engine, generate
from auditor.minimize import minimize_statements
from auditor.model import parse_policy
from auditor.report import SEVERITY_RANK, Settings, Target
from tests.conftest import run_cli

CAT = catalogue.load()
FEATURES = CAT.feature_ids
ENVS = ("dev", "prod")


def _grants(docs) -> set[tuple[str, str, str]]:
    """(action, resource, condition) for every action each statement grants under current AWS data."""
    out = set()
    for doc in docs:
        for stmt in doc["Statement"]:
            condition = json.dumps(stmt.get("Condition"), sort_keys=True)
            for pattern in stmt["Action"]:
                expanded = awsdata.expand(pattern)
                assert expanded, pattern
                out |= {(a, r, condition) for a in expanded for r in stmt["Resource"]}
    return out


def test_wildcards_that_grant_more_today_are_expanded_back(capsys):
    """policyuniverse's 2023 data has one lambda action starting with T (TagResource): today
    lambda:TerminateMicroVM starts so too, so lambda:t* would grant it."""
    (result,) = minimize_statements([["lambda:TagResource", "lambda:UntagResource", "lambda:ListTags"]])
    assert result.refuted == ("lambda:t*",)
    assert result.actions == ("lambda:ListT*", "lambda:TagResource", "lambda:Un*")
    assert awsdata.expand("lambda:ListT*") == ("lambda:ListTags",)
    assert awsdata.expand("lambda:Un*") == ("lambda:UntagResource",)
    assert capsys.readouterr() == ("", "")  # policyuniverse's prints never reach our output


@pytest.mark.slow
def test_a_wildcard_never_spans_two_statements():
    """Asked about several statements at once, each keeps its own wildcards: the same answer as
    asking about each alone."""
    lists = [["apigateway:POST"], ["apigateway:PATCH", "apigateway:DELETE"], ["apigateway:PUT"]]
    together = minimize_statements(lists)
    alone = [minimize_statements([actions])[0] for actions in lists]
    assert together == alone
    assert [m.actions for m in together] == [("apigateway:PO*",), ("apigateway:DELETE", "apigateway:PA*"), ("apigateway:PUT",)]


@pytest.mark.slow
def test_all_features_two_envs_fit_or_say_why():
    plain = generate.build(CAT, "5", FEATURES, "shop", ENVS)
    small = generate.build(CAT, "5", FEATURES, "shop", ENVS, minimize=True)
    assert _grants(small.docs) == _grants(plain.docs)  # exactly the same actions on the same resources
    sizes = [generate.minified_size(d) for d in small.docs]
    assert all(size <= generate.QUOTAS["managed"] for size in sizes)
    whole = generate.minified_size({"Version": "2012-10-17", "Statement": [s for d in small.docs for s in d["Statement"]]})
    assert whole < generate.minified_size({"Version": "2012-10-17", "Statement": [s for d in plain.docs for s in d["Statement"]]})
    if len(small.docs) == 1:
        assert small.notice.startswith("--minimize shortened the policy from 7,270 to ")
    else:
        assert small.notice.startswith(f"--minimize shortened the policy from 7,270 to {whole:,} characters (minified, without white space)")
        assert small.notice.endswith("; a managed policy holds 6,144")


@pytest.mark.slow
@pytest.mark.parametrize("version", ["5", "6"])
@pytest.mark.parametrize("feature", [*FEATURES, "all"])
def test_minimised_policy_audits_clean(version, feature):
    features = FEATURES if feature == "all" else tuple(dict.fromkeys(("core", "prewarm", feature)))
    plain = generate.build(CAT, version, features, "shop", ENVS)
    docs = generate.build(CAT, version, features, "shop", ENVS, minimize=True).docs
    assert _grants(docs) == _grants(plain.docs)
    policies = tuple(parse_policy(json.dumps(d, indent=2), f"generated-{i}.json") for i, d in enumerate(docs))
    report = engine.run([Target("file", "generated", policies)], Settings("shop", False, None, ENVS, version, features), CAT)
    assert {r.status for r in report.coverage} <= {"granted", "conditional"}
    assert [f.message for f in report.findings if f.category in ("missing-action", "over-broad")
            and f.severity != "info"] == []
    assert [(f.rule_id, f.subject) for f in report.findings if f.category == "over-broad"] == [
        ("privilege-escalation", f"Jets {version}")]  # what Jets itself needs, as for the policy without --minimize
    assert [f.message for f in report.findings if SEVERITY_RANK[f.severity] >= SEVERITY_RANK["medium"]] == []
    assert ["iam:PassRole"] in [s["Action"] for d in docs for s in d["Statement"]]  # kept by name


@pytest.mark.parametrize(("attach", "quota"), [("managed", 6144), ("group-inline", 5120), ("user-inline", 2048),
                                                ("role-inline", 10240)])
def test_each_attachment_has_its_quota(attach, quota):
    assert generate.QUOTAS[attach] == quota
    small = generate.build(CAT, "5", ("core", "prewarm"), "shop", ("dev",), attach=attach) if quota > 3164 else None
    if small:
        assert len(small.docs) == 1 and small.notice is None
    else:
        with pytest.raises(generate.GenerateError) as err:
            generate.build(CAT, "5", ("core", "prewarm"), "shop", ("dev",), attach=attach)
        assert str(err.value) == (
            "the policy is 3,164 characters (minified, without white space); a user's inline policies hold 2,048 in all "
            "(IAM counts every inline policy of the entity together, so splitting does not help): attach it as managed "
            "policies (--attach managed) or try --minimize")


@pytest.mark.slow
def test_cli_attach_and_minimize():
    args = ("generate", "--prefix", "shop", "--feature", "all", "--env", "dev", "--env", "prod")
    proc = run_cli(*args, "--attach", "role-inline", "--minimize")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # one document: policyuniverse printed nothing into it
    assert generate.minified_size(doc) <= 10240
    assert proc.stderr.decode().startswith("--minimize shortened the policy from 7,270 to ")
    proc = run_cli(*args, "--attach", "group-inline")
    assert proc.returncode == 2 and proc.stdout == b""
    assert proc.stderr.decode() == (
        "jets-iam-audit: error: the policy is 7,270 characters (minified, without white space); a group's inline "
        "policies hold 5,120 in all (IAM counts every inline policy of the entity together, so splitting does not help): "
        "attach it as managed policies (--attach managed) or try --minimize\n")
    proc = run_cli(*args, "--attach", "everywhere")
    assert proc.returncode == 2 and b"--attach" in proc.stderr
