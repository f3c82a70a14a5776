"""generate --from --write never takes away a grant Jets needs: for every fixture and every env set, each
requirement the original policy grants (every feature, every env it or the options name, any env) is
still granted afterwards. The repair runs as a subprocess, as a user runs it."""

from __future__ import annotations

import json
import shutil

import pytest

from auditor import catalogue, engine
from auditor.arn import parse_arn
from auditor.model import parse_policy
from auditor.report import Settings
from tests.conftest import DOCS, run_cli

CAT = catalogue.load()
ENV_SETS = {"inferred": (), "dev": ("--env", "dev"), "prod": ("--env", "prod"), "dev+prod": ("--env", "dev", "--env", "prod"),
            "dev+region": ("--env", "dev", "--region", "us-east-1")}
AUDITED_ENVS = ("dev", "prod", "stag", "qa", "*")  # "*": every env of the project at once (function:demo-*-*)
OK = ("granted", "conditional")


def _granted(text: str) -> set[tuple[str, str]]:
    settings = Settings("demo", False, None, AUDITED_ENVS, "5", CAT.feature_ids)
    rows = engine.coverage([parse_policy(text, "policy.json")], settings, CAT)
    return {(r.action, _anywhere(r.resource)) for r in rows if r.status in OK}


def _anywhere(resource: str) -> str:
    """The row's resource with Region and account as "*": a policy pinned to one Region is judged
    for it, and its rows show it (auditor/deploy.py)."""
    arn = parse_arn(resource)
    return resource if arn is None else str(arn._replace(region="*" if arn.region else "", account="*" if arn.account else ""))


@pytest.mark.slow
@pytest.mark.parametrize("envs", ENV_SETS)
@pytest.mark.parametrize("fixture", sorted(p.name for p in DOCS.glob("*.json")))
def test_write_never_turns_a_granted_row_into_a_missing_one(tmp_path, fixture, envs):
    path = tmp_path / fixture
    shutil.copy(DOCS / fixture, path)
    before = path.read_text()
    proc = run_cli("generate", "--from", str(path), "--prefix", "demo", "--write", *ENV_SETS[envs])
    if fixture == "broad.json" and envs == "inferred":  # its ARNs name no env: refused, nothing written
        assert proc.returncode == 2 and "pass --env ENV" in proc.stderr.decode()
        assert path.read_text() == before
        return
    assert proc.returncode == 0, proc.stderr.decode()
    lost = _granted(before) - _granted(path.read_text())
    assert not lost, sorted(lost)


@pytest.mark.slow
def test_every_env_audited_through_the_cli_keeps_its_grants(tmp_path):
    """The done-when of the issue, end to end: a multi-env policy, repaired without --env, then audited
    for each env: no requirement granted before is missing after."""
    policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Deploy", "Effect": "Allow", "Action": ["cloudformation:*", "lambda:*", "iam:PassRole", "iam:GetRole"],
         "Resource": ["arn:aws:cloudformation:*:*:stack/demo-*", "arn:aws:lambda:*:*:function:demo-*",
                      "arn:aws:iam::*:role/demo-*"]},
        {"Sid": "Layers", "Effect": "Allow", "Action": "lambda:GetLayerVersion",
         "Resource": ["arn:aws:lambda:*:*:layer:dev-demo-gems", "arn:aws:lambda:*:*:layer:prod-demo-gems"]},
        {"Sid": "Describe", "Effect": "Allow", "Action": "cloudformation:DescribeStacks", "Resource": "*"},
    ]}
    path = tmp_path / "deploy.json"
    path.write_text(json.dumps(policy, indent=2) + "\n")

    def audit(env: str) -> dict[tuple[str, str], str]:
        proc = run_cli("file", str(path), "--env", env, "--feature", "all", "--format", "json")
        assert proc.returncode in (0, 1), proc.stderr.decode()
        return {(r["action"], r["resource"]): r["status"] for r in json.loads(proc.stdout)["coverage"]}

    envs = ("dev", "prod", "stag")
    before = {env: audit(env) for env in envs}
    proc = run_cli("generate", "--from", str(path), "--write")
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr.decode().startswith("envs dev, prod: inferred from the policy's ARNs "
                                           "(arn:aws:lambda:*:*:layer:dev-demo-gems, arn:aws:lambda:*:*:layer:prod-demo-gems)")
    for env in envs:
        after = audit(env)
        lost = [key for key, status in before[env].items() if status in OK and after[key] not in OK]
        assert not lost, (env, lost)
    # and the repair did its job for the envs it was for: nothing the default features need is missing
    for env in ("dev", "prod"):
        fixed = json.loads(run_cli("file", str(path), "--env", env, "--format", "json").stdout)
        assert [(r["action"], r["resource"]) for r in fixed["coverage"] if r["status"] == "missing"] == []
