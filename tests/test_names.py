"""Names as Jets creates them (rules/names.toml): a requirement's name parts stand for the names Jets
can produce, not any string. Coverage and Deny overlap are decided over those names, exactly: the
property tests compare with brute force over small alphabets (as tests/test_globs_property.py does)."""

from __future__ import annotations

import itertools
import string

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from auditor import catalogue
from auditor.glob_text import widened
from auditor.globs import MATCHES_ALL, MATCHES_NONE, MATCHES_SOME, covers, extent, overlaps, union_extent
from auditor.name_parts import NamePart, join
from tests.conftest import audit_json, examples
from tests.test_globs_property import policy_regex

CAT = catalogue.load()
NAMING = catalogue.Naming("demo", "dev", "5")


def pattern(template: str) -> str:
    return NAMING.pattern(template, CAT.names)


BUCKET = pattern("arn:{partition}:s3:::{ns_lower}-s3bucket-{*random_lower}")
ROLE = pattern("arn:{partition}:iam::{account}:role/{ns}-{*generated}-{*random}")
STACK = pattern("arn:{partition}:cloudformation:{region}:{account}:stack/{ns}-{*logical_id}-{*random}/{*stackid}")
PARENT = pattern("arn:{partition}:cloudformation:{region}:{account}:stack/{ns}/{*stackid}")


@pytest.mark.parametrize(("requirement", "policy", "expected"), [
    (BUCKET, "arn:aws:s3:::demo-*/*", MATCHES_NONE),  # a bucket name never holds "/"
    (BUCKET, "arn:aws:s3:::*/*", MATCHES_NONE),
    (BUCKET, "arn:aws:s3:::demo-dev-*", MATCHES_ALL),
    (BUCKET, "arn:aws:s3:::demo-dev-A*", MATCHES_NONE),  # bucket names are lower-case
    (BUCKET, "arn:aws:s3:::demo-dev-logs*", MATCHES_NONE),  # CloudFormation names it STACK-s3bucket-RANDOM
    (BUCKET, "arn:aws:s3:::demo-dev-s3bucket-*", MATCHES_ALL),
    (BUCKET, "arn:aws:s3:::demo-dev-s3bucket-a*", MATCHES_SOME),  # the random id may start so
    (BUCKET, "arn:aws:s3:::demo-dev-S3Bucket-*", MATCHES_NONE),  # lower-cased
    (ROLE, "arn:aws:iam::*:role/*-admin", MATCHES_NONE),  # generated role names end in a random id of capitals
    (ROLE, "arn:aws:iam::*:role/*-Admin*", MATCHES_SOME),  # a logical id may hold it
    (ROLE, "arn:aws:iam::*:role/demo-dev-*", MATCHES_ALL),
    (ROLE, "arn:aws:iam::*:role/demo-dev-*-*", MATCHES_ALL),
    (STACK, "arn:aws:cloudformation:*:*:stack/demo-dev-*/*", MATCHES_ALL),
    (STACK, "arn:aws:cloudformation:*:*:stack/*-prod/*", MATCHES_NONE),
    (STACK, "arn:aws:cloudformation:*:*:stack/demo-dev-Jets*/*", MATCHES_SOME),  # the logical id is the app's class
    (STACK, "arn:aws:cloudformation:*:*:stack/demo-dev-*-*/*", MATCHES_ALL),
    # a stack that does not exist yet is authorized as stack/NAME/* (a literal *), one that does with its id
    (PARENT, "arn:aws:cloudformation:*:*:stack/demo-dev/*", MATCHES_ALL),
    (PARENT, "arn:aws:cloudformation:*:*:stack/demo-dev/*-*", MATCHES_SOME),
    (PARENT, "arn:aws:cloudformation:*:*:stack/demo-dev/${*}", MATCHES_SOME),  # only the literal *
])
def test_name_shapes(requirement, policy, expected):
    assert extent(requirement, policy) == expected


def test_the_shown_resource_is_the_widened_superset():
    assert NAMING.render("arn:{partition}:iam::{account}:role/{ns}-{*generated}-{*random}") == "arn:aws:iam::*:role/demo-dev-*"
    assert widened(ROLE) == "arn:aws:iam::*:role/demo-dev-?*-?*"
    assert covers(widened(ROLE), "arn:aws:iam::*:role/demo-dev-*") and covers(ROLE, "arn:aws:iam::*:role/demo-dev-*")


def test_notresource_on_objects_leaves_the_bucket_granted(write_policy):
    """The issue's example: an Allow with NotResource arn:aws:s3:::demo-*/* does not exclude the bucket."""
    path = write_policy({"Version": "2012-10-17", "Statement": [
        {"Sid": "Buckets", "Effect": "Allow", "Action": ["s3:CreateBucket", "s3:PutEncryptionConfiguration"],
         "NotResource": "arn:aws:s3:::demo-*/*"}]})
    _, report = audit_json(path, "--prefix", "demo")
    rows = {r["action"]: r["status"] for r in report["coverage"] if r["action"] in ("s3:CreateBucket", "s3:PutEncryptionConfiguration")}
    assert rows == {"s3:CreateBucket": "granted", "s3:PutEncryptionConfiguration": "granted"}


def test_deny_on_names_jets_never_creates_takes_nothing(write_policy):
    path = write_policy({"Version": "2012-10-17", "Statement": [
        {"Sid": "Roles", "Effect": "Allow", "Action": ["iam:CreateRole", "iam:GetRole"], "Resource": "arn:aws:iam::*:role/demo-*"},
        {"Sid": "NoAdmins", "Effect": "Deny", "Action": "iam:*", "Resource": ["arn:aws:iam::*:role/*-admin", "arn:aws:iam::*:role/admin-*"]},
    ]})
    _, report = audit_json(path, "--prefix", "demo")
    assert {r["status"] for r in report["coverage"] if r["action"] in ("iam:CreateRole", "iam:GetRole")} == {"granted"}


# --- against brute force ----------------------------------------------------------------------------

ALPHABET = "ab:x"  # x: a character no glob names
CLASSES = ["a", "b", "ab", "ax", "abx"]


def _marker(kind: str, chars: str) -> NamePart:
    return NamePart(frozenset(chars), 1 if kind == "+" else 0)


requirement_parts = st.lists(st.one_of(
    st.sampled_from(["a", "b", ":", "*"]),
    st.tuples(st.sampled_from(["*", "+"]), st.sampled_from(CLASSES)).map(lambda kc: _marker(*kc)),
), min_size=1, max_size=4).filter(lambda parts: "**" not in _text(parts) and parts != ["*"])  # "**": any string; "*": the resource "*"


def _text(parts: list[str | NamePart]) -> str:
    """The parts' text, a name part as a character no text holds."""
    return "".join(p if isinstance(p, str) else "|" for p in parts)


def _strings(parts: list[str | NamePart], limit: int) -> set[str]:
    out: set[str] = set()

    def fill(k: int, acc: str) -> None:
        if len(acc) > limit:
            return
        if k == len(parts):
            out.add(acc)
            return
        part = parts[k]
        if part == "*":
            choices: list[str] = [""] + ["".join(p) for n in range(1, limit - len(acc) + 1) for p in itertools.product("abx", repeat=n)]
        elif isinstance(part, NamePart):
            chars = "".join(sorted(part.chars))
            choices = ["".join(p) for n in range(part.least, limit - len(acc) + 1) for p in itertools.product(chars, repeat=n)]
        else:
            choices = [part]
        for choice in choices:
            fill(k + 1, acc + choice)

    fill(0, "")
    return out


def brute(parts: list[str | NamePart], policies: list[str]) -> set[tuple[bool, ...]]:
    # the non-star characters of both sides, plus one character for each name part that needs one
    # (its shortest string is that long), plus slack
    required = sum(1 for p in parts if isinstance(p, NamePart) and p.least)
    limit = (sum(len(p) - p.count("*") for p in policies) + sum(1 for p in parts if isinstance(p, str) and p != "*")
             + required + 3)
    assume(limit <= 7)
    regexes = [policy_regex(p) for p in policies]
    return {tuple(bool(r.fullmatch(s)) for r in regexes) for s in _strings(parts, limit)}


policy_globs = st.text(alphabet="ab:*?", min_size=1, max_size=4)


@pytest.mark.slow
@settings(max_examples=examples(300), deadline=None)
@given(requirement_parts, policy_globs)
def test_extent_with_name_parts_agrees_with_brute_force(parts, policy):
    requirement = join(parts)
    found = frozenset(v[0] for v in brute(parts, [policy]))
    assert extent(requirement, policy) == found, (parts, policy)
    assert covers(requirement, policy) == (found == MATCHES_ALL)
    assert overlaps(requirement, policy) == (True in found)


@pytest.mark.slow
@settings(max_examples=examples(200), deadline=None)
@given(requirement_parts, st.lists(policy_globs, min_size=2, max_size=3))
def test_union_with_name_parts_agrees_with_brute_force(parts, policies):
    requirement = join(parts)
    vectors = brute(parts, policies)
    union = frozenset(any(v) for v in vectors)
    assert union_extent(requirement, tuple(policies)) == union, (parts, policies)


# The union's quick refutation builds one string of the requirement (each name part as short as its
# class allows): it must stay a string of the requirement, or a covering union reads as "some".
@pytest.mark.parametrize(("parts", "policies", "union"), [
    (["role/demo-", _marker("+", "ab")], ["role/demo-a*", "role/demo-b*"], MATCHES_ALL),
    (["role/demo-", _marker("+", "ab")], ["*a*", "*b*"], MATCHES_ALL),
    (["role/demo-", _marker("+", "ab"), ":", _marker("*", "ab")], ["role/demo-a*", "role/demo-b*"], MATCHES_ALL),
    (["role/demo-", _marker("+", "abx")], ["*a*", "*b*"], MATCHES_SOME),  # demo-x
    (["role/demo-", _marker("*", "ab")], ["*a*", "*b*"], MATCHES_SOME),  # demo-
    (["role/", _marker("+", string.ascii_letters), "-", _marker("+", string.digits)], ["role/*Automation*", "role/*Instance*"],
     MATCHES_SOME),
])
def test_union_with_name_parts_refutes_only_with_a_string_of_the_requirement(parts, policies, union):
    requirement = join(parts)
    assert union_extent(requirement, tuple(policies)) == union


@pytest.mark.parametrize("policies", [["s/*"], ["s/a*"], ["s/${*}"], ["s/?"], ["s/*a"], ["s/a*", "s/${*}*"], ["s/*:*"]])
def test_a_name_part_that_holds_a_literal_star_agrees_with_brute_force(policies):
    """The stack id class holds the literal `*` AWS names a stack that does not exist yet with: the
    evaluator's answer over such a class equals brute force over its strings (a policy's `*` is a
    wildcard, `${*}` the character itself)."""
    import re

    def regex(glob: str) -> re.Pattern[str]:
        out, i = [], 0
        while i < len(glob):
            if glob.startswith("${*}", i):
                out.append(re.escape("*"))
                i += 4
                continue
            ch = glob[i]
            ends = i + 1 == len(glob) or glob[i + 1] == ":"
            out.append((".*" if ends else "[^:]*") if ch == "*" else "[^:]" if ch == "?" else re.escape(ch))
            i += 1
        return re.compile("".join(out), re.DOTALL)

    strings = ["s/" + "".join(p) for n in range(1, 6) for p in itertools.product("*a", repeat=n)]
    matchers = [regex(p) for p in policies]
    expected = frozenset(any(m.fullmatch(x) for m in matchers) for x in strings)
    assert union_extent(join(["s/", _marker("+", "*a")]), tuple(policies)) == expected, policies
