"""The engine stamps a check's hit as a finding (auditor/stamp.py): rule id, category and the severity
the config sets, else the hit's, else the check's; the hit's place in the policy is kept when the
finding points elsewhere; a location in a policy file gets its line and column."""

from __future__ import annotations

from auditor.checks import missing_action
from auditor.config import RuleSetting
from auditor.model import Location, Policy, parse_policy
from auditor.report import Finding, Hit
from auditor.stamp import line_stamper, stamp

TEXT = """{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow",
     "Action": ["s3:GetObject",
                "s3:PutObject"],
     "Resource": "*"}
  ]
}
"""


def test_severity_is_the_configs_else_the_hits_else_the_checks():
    loc = Location("policy.json", "/Statement/0")
    assert stamp(missing_action, RuleSetting(severity="low"), Hit("m", "s", loc, "medium")).severity == "low"
    assert stamp(missing_action, RuleSetting(), Hit("m", "s", loc, "medium")).severity == "medium"
    assert stamp(missing_action, RuleSetting(), Hit("m", "s", loc)).severity == missing_action.SEVERITY


def test_every_field_of_the_hit_is_in_the_finding():
    loc = Location("policy.json", "/Statement/0", "Sid0", 3)
    hit = Hit('missing "s3:GetObject"', "s3:GetObject", loc, "medium", "arn:aws:s3:::b/*", "core", "allow it", ">= 3")
    assert stamp(missing_action, RuleSetting(), hit, None, "t") == Finding(
        "missing-action", "missing-action", "medium", 'missing "s3:GetObject"', "s3:GetObject", loc,
        "arn:aws:s3:::b/*", "core", "allow it", "t", ">= 3")


def test_a_finding_that_points_elsewhere_keeps_the_hits_place_in_the_policy():
    loc = Location("policy.json", "/Statement/0")
    moved = stamp(missing_action, RuleSetting(), Hit("m", "s", loc), Location("main.tf", "/resource/x", None, 7))
    assert moved.location == Location("main.tf", "/resource/x", None, 7) and moved.in_policy == loc
    assert stamp(missing_action, RuleSetting(), Hit("m", "s", loc), loc).in_policy is None


def test_a_location_in_a_policy_file_gets_its_line_and_column():
    at = line_stamper([parse_policy(TEXT, "p.json")])
    second = at(Location("p.json", "/Statement/0/Action/1"))
    assert (second.line, second.column, second.file) == (6, 17, True)
    resource = at(Location("p.json", "/Statement/0/Resource"))
    assert (resource.line, resource.column) == (7, 18)
    whole = at(Location("p.json"))  # the whole document: no line is made up
    assert (whole.line, whole.column) == (None, None)
    assert at(Location("elsewhere.json", "/Statement/0")) == Location("elsewhere.json", "/Statement/0")


def test_a_policy_read_from_aws_is_no_file():
    arn = "arn:aws:iam::123456789012:policy/deploy"
    policy = Policy(arn, TEXT, parse_policy(TEXT, arn).statements, from_aws=True)
    assert line_stamper([policy])(Location(arn, "/Statement/0")).file is False
