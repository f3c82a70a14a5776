"""The AWS action data as the checks read it: a wildcard's expansion is every action of every matching
service that the pattern matches (brute force over the data), and every condition key matches itself."""

from __future__ import annotations

import pytest

from auditor import awsdata
from auditor.globs import name_matcher

WILDCARDS = ["s3:Get*", "S3:GET*", "s3:*", "s3:*Object", "s3:Get?bject", "s3:G*t*", "lambda:*", "logs:Describe*", "iam:*Role*",
             "*:GetObject", "s3*:Get*", "*", "*:*", "ec2:Describe*", "s3:NoSuch*", "nosuch:*", "s3:", "s3:Get**", "l*:get*"]


def _brute_force(pattern: str) -> tuple[str, ...]:
    """Every action of the data, service by service, whose service and name the pattern's parts match."""
    service, _, name = pattern.partition(":")
    if pattern.strip("*") == "":
        service, name = "*", "*"
    fits_service, fits_name = name_matcher(service), name_matcher(name)
    return tuple(f"{svc}:{a.name}" for svc in sorted(awsdata.service_names()) if fits_service(svc)
                 for key, a in awsdata.service_actions(svc).items() if fits_name(key))


@pytest.mark.parametrize("pattern", WILDCARDS + ["**", "s3:GetObject", "S3:getobject", "s3:NoSuchThing", "nosuch:Thing", "s3", ""])
def test_expansion_is_every_matching_action(pattern):
    expected = _brute_force(pattern) if ":" in pattern or pattern in ("*", "**") else ()
    assert awsdata.expand(pattern) == expected


def test_scan_size_counts_the_names_an_expansion_looks_at():
    assert awsdata.scan_size("s3:GetObject") == 1
    assert awsdata.scan_size("s3:Get*") == len(awsdata.service_actions("s3"))
    assert awsdata.scan_size("*:GetObject") == len(awsdata.service_names())
    assert awsdata.scan_size("*") == sum(len(awsdata.service_actions(s)) for s in awsdata.service_names())


def test_every_condition_key_of_the_data_matches_itself():
    keys = [k for service in sorted(awsdata.service_names()) for k in awsdata.service_condition_keys(service)]
    assert len(keys) > 1000
    assert all(awsdata.condition_key_matches(k, k) for k in keys)
    own = [k for service in awsdata.service_names() for k in awsdata.service_condition_keys(service)
           if k.startswith(service + ":")]  # (a service lists global aws: keys, and some another service's)
    assert len(own) > 1000
    assert all(awsdata.service_has_condition_key(k) and awsdata.service_has_condition_key(k.upper()) for k in own)


@pytest.mark.parametrize(("key", "known"), [("s3:prefix", True), ("S3:Prefix", True), ("s3:x-amz-acl", True), ("s3:nosuchkey", False),
                                            ("ec2:ResourceTag/Name", True), ("ec2:resourcetag/${TagKey}", True), ("ec2:ResourceTag/", False),
                                            ("iam:PassedToService", True), ("iam:nope", False), ("nosuch:key", False), ("s3", False)])
def test_a_service_key_is_one_the_data_writes_or_fits_its_placeholder(key, known):
    service_keys = awsdata.service_condition_keys(key.partition(":")[0])
    assert awsdata.service_has_condition_key(key) == known == any(awsdata.condition_key_matches(k, key) for k in service_keys)
