"""One work budget per target bounds the search for the deploy's Region and account (auditor/deploy.py
MAX_DEPLOY_WORK): (Region, account) pairs x requirements x the Resource entries of the statements naming
them. 34 Regions x 8 accounts of pinned ARNs (306 pairs, 1,632 entries) took 20 s and more; past the
budget the pairs the policy names first are judged and an info finding of split-deploy says how many
were not, never a silent answer."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

import pytest

from auditor.deploy import MAX_DEPLOY_WORK, aws_regions
from tests.conftest import ROOT

ACCOUNTS = [f"{i}" * 12 for i in range(1, 9)]


def _pinned(regions, accounts) -> dict:
    resources = []
    for region in regions:
        for account in accounts:
            resources += [f"arn:aws:lambda:{region}:{account}:function:demo-dev-*",
                          f"arn:aws:cloudformation:{region}:{account}:stack/demo-dev*",
                          f"arn:aws:iam::{account}:role/demo-dev-*", f"arn:aws:logs:{region}:{account}:log-group:*",
                          f"arn:aws:events:{region}:{account}:rule/demo-dev-*", "arn:aws:s3:::demo-dev-*"]
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": resources, "Action": [
        "lambda:*", "cloudformation:*", "s3:*", "iam:*", "logs:*", "events:*", "apigateway:*"]}]}


def _limit_memory() -> None:
    limit = 1024 * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _audit(path, *args: str) -> tuple[dict, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "auditor", "file", str(path), "--prefix", "demo", "--format", "json", *args],
                          capture_output=True, cwd=ROOT, env=env, timeout=120, preexec_fn=_limit_memory)
    assert proc.returncode == 1, proc.stderr.decode()
    return json.loads(proc.stdout), time.monotonic() - start


def _searches(doc: dict) -> list[dict]:
    return [f for f in doc["findings"] if f["rule_id"] == "split-deploy" and f["severity"] == "info"]


@pytest.mark.slow
def test_34_regions_by_8_accounts_are_bounded_and_said(tmp_path):
    path = tmp_path / "pinned.json"
    path.write_text(json.dumps(_pinned(aws_regions(), ACCOUNTS)))
    doc, elapsed = _audit(path)
    assert len(aws_regions()) == 34  # botocore's endpoint data: the Regions a deploy can go to
    (finding,) = _searches(doc)
    total = 34 * 9  # each Region is its own group (each is named); 8 named accounts and one the policy does not name
    tried = int(finding["message"].split(" stopped after ")[1].split(" ")[0])
    assert 1 <= tried < total
    assert finding["message"] == (
        f"the search for the Region and account that grant the most stopped after {tried} of {total} (Region, account) "
        f"pairs: the per-target work budget of {MAX_DEPLOY_WORK:,} comparisons (README Limits); the other {total - tried} "
        "were not judged")
    assert finding["fix"] == "give --region and --account (the Region and account Jets deploys to) to judge that pair"
    assert doc["notes"][0].endswith(f"; {total - tried} more were not judged (the work budget, see split-deploy)")
    assert elapsed < 30  # was 20 s and more of matching alone


@pytest.mark.slow
def test_what_the_user_gives_is_judged_whatever_the_budget(tmp_path):
    path = tmp_path / "pinned.json"
    path.write_text(json.dumps(_pinned(aws_regions(), ACCOUNTS)))
    doc, _ = _audit(path, "--region", "eu-west-1", "--account", ACCOUNTS[3])
    assert _searches(doc) == [] and doc["notes"] == []
    granted = {r["action"] for r in doc["coverage"] if r["status"] == "granted"}
    assert "lambda:CreateFunction" in granted


@pytest.mark.slow
def test_a_policy_of_ordinary_size_has_every_pair_judged(tmp_path):
    path = tmp_path / "pinned.json"
    path.write_text(json.dumps(_pinned(["eu-west-1", "us-east-1", "ap-south-1"], ACCOUNTS[:2])))
    doc, _ = _audit(path)
    assert _searches(doc) == []
    (note,) = doc["notes"]
    assert "not judged" not in note
