"""engine._stamp builds a Finding field by field through its slots (a run makes one per hit): it must
give what Finding(...) gives, every field in its place, whatever Finding's fields become."""

from __future__ import annotations

from dataclasses import astuple, fields

from auditor import engine
from auditor.checks import missing_action
from auditor.config import RuleSetting
from auditor.model import Location
from auditor.report import Finding, Hit


def test_stamp_is_the_dataclass_constructor():
    loc = Location("policy.json", "/Statement/0", "Sid0", 3)
    hit = Hit('missing "s3:GetObject"', "s3:GetObject", loc, "medium", "arn:aws:s3:::b/*", "core", "allow it", ">= 3")
    got = engine._stamp(missing_action, RuleSetting(), hit, None, "t")
    want = Finding(missing_action.RULE_ID, missing_action.CATEGORY, "medium", hit.message, hit.subject, loc,
                   hit.resource, hit.feature, hit.fix, "t", hit.releases)
    assert got == want and hash(got) == hash(want)
    assert [getattr(got, f.name) for f in fields(Finding)] == [getattr(want, f.name) for f in fields(Finding)]
    assert got.target == "t" and got.also_reported_by == ()


def test_stamp_takes_the_rule_severity_and_the_given_location():
    loc = Location("policy.json", "/Statement/0")
    got = engine._stamp(missing_action, RuleSetting(severity="low"), Hit("m", "s", loc, "medium"), Location("other.json"))
    # the location the engine gave is elsewhere than the hit's place in the policy: that place is kept (in_policy)
    assert astuple(got) == astuple(Finding("missing-action", "missing-action", "low", "m", "s", Location("other.json"),
                                           in_policy=loc))


def test_stamped_findings_have_findings_slots_and_are_frozen():
    """_Stamped must set every field Finding has: a field added to Finding and not to _Stamped.__init__
    leaves a slot unset, and reading it raises (the first test reads every field)."""
    import dataclasses

    import pytest

    assert engine._Stamped.__slots__ == Finding.__slots__ == tuple(f.name for f in fields(Finding))
    got = engine._stamp(missing_action, RuleSetting(), Hit("m", "s", Location("p.json")))
    assert type(got) is Finding
    with pytest.raises(dataclasses.FrozenInstanceError):
        got.message = "changed"  # type: ignore[misc]
    assert dataclasses.replace(got, message="x").message == "x" and got.message == "m"
