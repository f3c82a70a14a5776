"""A file that holds a JSON array of policy documents (what generate writes when IAM's quota splits the
policy) is one principal's policy set: one target, each document located as /i/... in pointers,
`file[i]#Sid` in granted_by, and in SARIF; generate --output-dir writes one file per document."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor import catalogue, engine, escalation
from auditor.model import parse_policies
from auditor.report import Settings, Target
from tests.conftest import examples, run_cli
from tests.test_hostile import policy_docs

ALL = ("--feature", "all", "--env", "dev", "--env", "prod", "--prefix", "demo")


def _generate_all(tmp_path):
    proc = run_cli("generate", *ALL, "--output", str(tmp_path / "all.json"))
    assert proc.returncode == 0, proc.stderr.decode()
    return tmp_path / "all.json"


@pytest.mark.slow
def test_generated_array_audits_as_one_policy_set(tmp_path):
    path = _generate_all(tmp_path)
    docs = json.loads(path.read_text())
    assert isinstance(docs, list) and len(docs) == 2
    proc = run_cli("file", str(path), *ALL, "--format", "json")
    assert proc.returncode == 0, proc.stdout.decode()
    report = json.loads(proc.stdout)
    assert report["targets"] == [{"kind": "file", "name": str(path), "sources": [str(path)]}]
    assert {r["status"] for r in report["coverage"]} == {"granted"}  # its own iam:PassedToService condition holds
    refs = {ref for r in report["coverage"] for ref in r["granted_by"]}
    assert f"{path}[0]#JetsCloudFormation" in refs and f"{path}[1]#JetsPassRole" in refs
    # the generated policy: its own iam:PassedToService condition holds; what Jets 5 itself needs is said at info level
    assert [(f["rule_id"], f["severity"]) for f in report["findings"]] == [("privilege-escalation", "info")]
    # a repeated action in the second document is located there, in pointers, lines and SARIF
    index = next(i for i, s in enumerate(docs[1]["Statement"]) if s["Sid"] == "JetsPassRole")
    actions = docs[1]["Statement"][index]["Action"]
    docs[1]["Statement"][index]["Action"] = [*actions, actions[0]] if isinstance(actions, list) else [actions, actions]
    path.write_text(json.dumps(docs, indent=2) + "\n")
    report = json.loads(run_cli("file", str(path), *ALL, "--format", "json").stdout)
    (dup,) = [f for f in report["findings"] if f["rule_id"] == "duplicate-action"]
    last = len(docs[1]["Statement"][index]["Action"]) - 1
    assert dup["location"]["pointer"] == f"/1/Statement/{index}/Action/{last}"
    line = dup["location"]["line"]
    assert path.read_text().splitlines()[line - 1].strip() == '"iam:PassRole"'
    sarif = json.loads(run_cli("file", str(path), *ALL, "--format", "sarif").stdout)
    result = next(r for r in sarif["runs"][0]["results"] if r["ruleId"] == "duplicate-action")
    (location,) = result["locations"]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == str(path)
    assert location["physicalLocation"]["region"]["startLine"] == line
    assert location["logicalLocations"][0]["fullyQualifiedName"] == f"/1/Statement/{index}/Action/{last}"


def test_a_bad_document_in_an_array_is_located(tmp_path):
    path = tmp_path / "set.json"
    path.write_text(json.dumps([
        {"Version": "2012-10-17", "Statement": [{"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject",
                                                 "Resource": "arn:aws:s3:::demo-dev-*/*"}]},
        {"Version": "2012-10-17", "Statement": [{"Sid": "A", "Effect": "allow", "Action": "s3:GetObject", "Resource": "*"}]},
    ], indent=2))
    proc = run_cli("file", str(path), "--prefix", "demo", "--format", "json")
    assert proc.returncode == 1
    (bad,) = [f for f in json.loads(proc.stdout)["findings"] if f["rule_id"] == "invalid-policy"]
    line = path.read_text().splitlines().index('        "Effect": "allow",') + 1
    assert bad["location"] == {"source": str(path), "pointer": "/1/Statement/0/Effect", "sid": None, "line": line}
    # the same Sid in two documents is not a duplicate Sid: each document is its own policy
    assert "duplicate-sid" not in proc.stdout.decode()


@pytest.mark.slow
def test_arrays_that_are_not_policy_sets_stay_invalid(tmp_path):
    for text, message in (("[]", "not an IAM policy: the document is an array, not an object"),
                          ('[{"Statement": []}, 3]', "not an IAM policy: the document is an array, not an object")):
        path = tmp_path / "x.json"
        path.write_text(text)
        proc = run_cli("file", str(path), "--prefix", "demo", "--format", "json")
        assert proc.returncode == 1
        assert [f["message"] for f in json.loads(proc.stdout)["findings"] if f["category"] == "invalid"] == [message]
    path.write_text('[{"name": "a"}, {"name": "b"}]')  # a JSON array of other things: not a policy
    assert run_cli("file", str(path), "--skip-non-policies").returncode == 0


@pytest.mark.slow
def test_output_dir_writes_one_file_per_document(tmp_path):
    out = tmp_path / "iam"
    proc = run_cli("generate", *ALL, "--output-dir", str(out))
    assert proc.returncode == 0 and proc.stdout == b""
    names = sorted(p.name for p in out.iterdir())
    assert names == ["demo-jets-deploy-1.json", "demo-jets-deploy-2.json"]
    remains = escalation.what_remains(CAT, "5", CAT.feature_ids, "demo", ("dev", "prod"))
    assert proc.stderr.decode() == (
        f"wrote 2 policies: {out / names[0]}, {out / names[1]}\n{remains}\nthey are one policy set (attach them all to the deploy "
        "principal): audit them together with --combine, or declare them in the config file:\n"
        f'[[tool.jets-iam-audit.policy-set]]\nfiles = ["{out}/demo-jets-deploy-*.json"]\n')
    joined = [s for n in names for s in json.loads((out / n).read_text())["Statement"]]
    assert joined == [s for d in json.loads(_generate_all(tmp_path).read_text()) for s in d["Statement"]]
    audit = run_cli("file", *(str(out / n) for n in names), *ALL, "--combine")
    assert audit.returncode == 0, audit.stdout.decode()
    single = run_cli("generate", "--prefix", "demo", "--output-dir", str(tmp_path / "one"))
    assert single.returncode == 0 and [p.name for p in (tmp_path / "one").iterdir()] == ["demo-jets-deploy.json"]
    assert run_cli("generate", "--prefix", "demo", "--output-dir", str(out), "--output", "x.json").returncode == 2


@pytest.mark.slow
def test_repair_refuses_an_array(tmp_path):
    path = _generate_all(tmp_path)
    proc = run_cli("generate", "--from", str(path), "--env", "dev")
    assert proc.returncode == 2
    assert proc.stderr.decode() == f"jets-iam-audit: error: {path} holds 2 policy documents (a JSON array); give one document\n"


CAT = catalogue.load()


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(policy_docs, min_size=1, max_size=3))
def test_random_document_arrays(docs):
    text = json.dumps(docs, indent=2)
    policies = parse_policies(text, "set.json")
    assert [p.document for p in policies] == list(range(len(docs)))
    report = engine.run([Target("file", "set.json", policies)], Settings("demo", False, None, ("dev",), "5", ("core",)), CAT)
    assert report.exit_code in (0, 1)
    assert not [f for f in report.findings if f.rule_id == "internal-error"]
    assert all(f.location.pointer == "" or f.location.pointer.split("/")[1].isdigit() for f in report.findings)


@pytest.mark.slow
def test_a_policy_set_is_audited_whole_from_any_of_its_files(tmp_path):
    config = '[tool.jets-iam-audit]\nprefix = "demo"\nfeature = ["all"]\nenv = ["dev", "prod"]\n'
    (tmp_path / "pyproject.toml").write_text(config)
    proc = run_cli("generate", "--output-dir", "iam", cwd=tmp_path)  # the options come from the config
    assert proc.returncode == 0
    hint = ('[[tool.jets-iam-audit.policy-set]]\nfiles = ["iam/demo-jets-deploy-*.json"]\n')
    assert proc.stderr.decode().endswith(hint)
    alone = run_cli("file", "iam/demo-jets-deploy-2.json", "-q", cwd=tmp_path)
    assert alone.returncode == 1 and "high" in alone.stderr.decode()  # one document alone lacks the other's grants
    (tmp_path / "pyproject.toml").write_text(config + hint)
    proc = run_cli("file", "iam/demo-jets-deploy-2.json", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout.decode()
    (target,) = json.loads(proc.stdout)["targets"]
    assert target["name"] == "iam/demo-jets-deploy-1.json + iam/demo-jets-deploy-2.json"
    assert target["sources"] == ["iam/demo-jets-deploy-1.json", "iam/demo-jets-deploy-2.json"]
    both = json.loads(run_cli("file", "iam", "--format", "json", cwd=tmp_path).stdout)
    assert [t["name"] for t in both["targets"]] == [target["name"]]
    (tmp_path / "pyproject.toml").write_text(config + '[[tool.jets-iam-audit.policy-set]]\nname = 3\nfiles = ["x"]\n')
    bad = run_cli("file", "iam", cwd=tmp_path)
    assert bad.returncode == 2 and "policy-set #1: 'name' must be a string" in bad.stderr.decode()
