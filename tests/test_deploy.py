"""The Region and account a deploy is judged for (auditor/deploy.py)."""

from __future__ import annotations

import json

from auditor.deploy import FRESH_ACCOUNT, Deploy, aws_regions, candidates
from auditor.model import parse_policy


def statements(*stmts: dict):
    return parse_policy(json.dumps({"Version": "2012-10-17", "Statement": list(stmts)}), "p.json").statements


def test_a_policy_that_names_no_region_or_account_is_judged_for_any():
    assert candidates(statements({"Effect": "Allow", "Action": "*", "Resource": "*"}), None, None) == (Deploy(None, None),)


def test_what_the_user_gave_is_the_only_choice():
    stmts = statements({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:lambda:eu-west-1:111111111111:function:x"})
    assert candidates(stmts, "us-east-1", "222222222222") == (Deploy("us-east-1", "222222222222"),)


def test_regions_named_come_first_and_every_other_region_is_one_choice():
    stmts = statements({"Effect": "Allow", "Action": "*", "Resource": ["arn:aws:lambda:eu-west-1:*:function:x",
                                                                        "arn:aws:lambda:us-*:*:function:y"]},
                       {"Effect": "Deny", "Action": "*", "Resource": "*",
                        "Condition": {"StringNotEquals": {"aws:RequestedRegion": "eu-central-1"}}})
    found = candidates(stmts, None, None)
    regions = [d.region for d in found]
    assert regions[:2] == ["eu-central-1", "eu-west-1"] and all(d.named for d in found[:2])
    others = regions[2:]
    us = [r for r in others if r.startswith("us-")]
    assert len(us) == 1 and not any(d.named for d in found[2:])  # one us-* Region stands for all of them
    assert len(others) == 2  # and one for every Region no pattern names
    assert set(regions) <= set(aws_regions())


def test_accounts_named_and_one_the_policy_does_not_name():
    stmts = statements({"Effect": "Allow", "Action": "*", "Resource": ["arn:aws:iam::111111111111:role/x",
                                                                        "arn:aws:iam::111111111111:role/y",
                                                                        "arn:aws:iam::222222222222:role/z"]})
    assert [d.account for d in candidates(stmts, None, None)] == ["111111111111", "222222222222", FRESH_ACCOUNT]
    assert Deploy(None, FRESH_ACCOUNT).label() == "an account the policy does not name"
