"""A deferred policy file's first read (sources.targets.first_read) keeps what building its model would
give, without building it when the text cannot hold a project-name candidate: how many documents, with
and without --skip-non-policies, and their candidates (auditor.prefix.prefix_names), in order."""

from __future__ import annotations

import codecs
import glob
import json
import os
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.prefix import NAMED_ARN, prefix_names
from auditor.sources import targets
from auditor.sources.file import MAX_BYTES, looks_like_policy, policies_from_bytes
from auditor.sources.targets import first_read
from tests.conftest import examples

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _built(raw: bytes, skip: bool) -> tuple[int, tuple[str, ...]]:
    docs = [p for p in policies_from_bytes(raw, "p.json") if not skip or looks_like_policy(p)]
    return len(docs), tuple(prefix_names(docs))


def _same(raw: bytes) -> None:
    for skip in (False, True):
        assert first_read(raw, "p.json", skip) == _built(raw, skip), (raw[:200], skip)


ALLOW = {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "arn:aws:lambda:*:*:function:demo-dev-*"}
CASES = [
    json.dumps({"Version": "2012-10-17", "Statement": [ALLOW]}),
    json.dumps({"Statement": [{**ALLOW, "Effect": "Deny"}]}),  # a candidate's shape, but no Allow
    json.dumps({"Statement": [{**ALLOW, "Resource": "arn:aws:lambda:*:*:function:demo\u00e9-*"}]}),  # escaped
    json.dumps({"Statement": [{**ALLOW, "Resource": "arn:aws:s3:::demo\\u002dx*"}]}),
    '{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::demo\\u002dx*"}]}',
    json.dumps({"Statement": [{**ALLOW, "Resource": ["arn:aws:iam::1:role/app-*", "arn:aws:s3:::bucket-?"]}]}),
    json.dumps({"Statement": [{**ALLOW, "Resource": "arn:aws:iam::1:role/app-*", "Sid": 3}]}),  # a Sid problem only
    json.dumps({"Statement": [{**ALLOW, "Action": 3}, ALLOW]}),  # the first statement is not built
    json.dumps({"Statement": [{**ALLOW, "Resource": ["arn:aws:s3:::demo-*", 3]}]}),
    json.dumps({"Statement": [{**ALLOW, "Resource": ["arn:aws:s3:::demo-*"], "NotResource": "*"}]}),
    json.dumps({"Statement": [{"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::demo-*"}]}),
    json.dumps({"Statement": [{**ALLOW, "Principal": "*"}, {**ALLOW, "Unknown": 1}, {**ALLOW, "Condition": 3}]}),
    json.dumps({"Statement": [{**ALLOW, "Resource": ["*", "arn:aws:lambda:*:*:function:x-*"]}, "text", 3, []]}),
    json.dumps({"Statement": ALLOW}), json.dumps({"Statement": "arn:aws:s3:::demo-*"}),
    json.dumps({"Statement": [{**ALLOW, "Effect": ["Allow"]}]}),
    json.dumps({"Id": "arn:aws:s3:::demo-*", "Statement": []}), json.dumps({"name": "arn:aws:s3:::demo-*"}),
    json.dumps({"PolicyDocument": {"Statement": [ALLOW]}}),
    json.dumps({"Version": "2012-10-17", "Statement": [ALLOW, {**ALLOW, "Resource": "arn:aws:s3:::bucket_-?"}]}, indent=4),
    json.dumps([{"Statement": [ALLOW]}, {"Statement": [{**ALLOW, "Resource": "arn:aws:s3:::two-*"}]}]),
    json.dumps([{"Statement": []}, "not a document"]),
    json.dumps([{"Statement": []}, {"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}]),
    json.dumps([{"name": "package"}, {"Statement": []}, {"PolicyDocument": {"Statement": []}}]),
    json.dumps([{"name": "package"}]), json.dumps([]), "[1, 2]", "  [ {\"Statement\": []} ]", "\n\t{\"Statement\": {}}",
    json.dumps({"Version": "2012-10-17"}), json.dumps({"name": "package", "version": "1.0.0"}),
    json.dumps({"PolicyDocument": {"Statement": []}}), json.dumps({"PolicyVersion": {"Document": "has Statement"}}),
    json.dumps("Statement"), "null", "3", "", "   \n", '{"Statement": [}', 'not JSON, but "Statement"', "not JSON",
    '{"Statement": [], "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::a-*"}]}',
    '{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"N": {"k": NaN}}}]}',
    '{"Version": 1e999, "Statement": []}',
    "[" * 100_000, "{\"a\":" * 100_000,
]


@pytest.mark.parametrize("text", CASES)
def test_first_read_is_the_built_model(text):
    _same(text.encode())
    _same(codecs.BOM_UTF8 + text.encode())
    _same(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))


def test_bytes_that_are_no_text():
    for raw in (b"\x00\x01\x02", b"{\"Statement\": []}\x00", b"\xff\xfe\xfd{}", b"{\"Statement\": \"\xc3\"}",
                b" " * (MAX_BYTES + 1), b"{\"Statement\": [" + b" " * MAX_BYTES + b"]}"):
        _same(raw)


@pytest.mark.slow
def test_files_of_the_repository_and_the_corpus(managed_policy_corpus):
    paths = sorted(glob.glob(os.path.join(ROOT, "fixtures", "**", "*.json"), recursive=True))
    paths += sorted(glob.glob(os.path.join(ROOT, "tests", "**", "*.json"), recursive=True))
    corpus = sorted(glob.glob(os.path.join(managed_policy_corpus, "*.json")))
    assert paths and corpus
    paths += corpus
    for path in paths:
        with open(path, "rb") as fh:
            _same(fh.read())


def test_a_plain_policy_is_not_built(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the model was built")

    monkeypatch.setattr(targets, "policies_from_bytes", refuse)
    raw = json.dumps({"Statement": [{**ALLOW, "Resource": "arn:aws:s3:::bucket/key*"}]}, indent=2).encode()
    assert first_read(raw, "p.json", False) == (1, ())
    assert first_read(raw, "p.json", True) == (1, ())
    assert first_read(b"{}", "p.json", False) == (1, ())


_NAME_TAIL = st.one_of(st.sampled_from(["*", "?", "-*", "/*", ""]), st.text(alphabet="*?-_/:aZ09.", max_size=4))


@pytest.mark.slow
@settings(max_examples=examples(400), deadline=None)
@given(st.lists(st.tuples(st.from_regex(NAMED_ARN, fullmatch=True), _NAME_TAIL), min_size=1, max_size=3),
       st.sampled_from(["Allow", "Deny"]), st.booleans(), st.sampled_from([None, 1]))
def test_every_candidate_prefix_names_can_name_is_seen(arns, effect, as_list, indent):
    """Strings of NAMED_ARN's own shape (so a service added there is tried here too), with and
    without the wildcard that makes them a candidate, in a list or alone, as JSON writes them."""
    resources = [head + tail for head, tail in arns]
    stmt = {"Effect": effect, "Action": "*", "Resource": resources if as_list else resources[0]}
    _same(json.dumps({"Version": "2012-10-17", "Statement": [stmt]}, indent=indent).encode())
    _same(json.dumps({"Statement": stmt}, ensure_ascii=False).encode())


_MAY_NAME = re.compile(r"(?:function:|stack/|role/|rule/|s3:::)[A-Za-z0-9_-]+[*?]")


@pytest.mark.slow
@settings(max_examples=examples(500), deadline=None)
@given(st.lists(st.sampled_from(["function:", "stack/", "role/", "rule/", "s3:::", "s3::", ":", "/", "a", "Z9", "-",
                                 "_", "*", "?", " ", "\"", "ro", "le/"]), max_size=12))
def test_may_name_is_its_regular_expression(parts):
    text = "".join(parts)
    assert targets.may_name_project(text) == bool(_MAY_NAME.search(text))


def test_a_file_is_read_whole_when_each_read_stops_short(tmp_path, monkeypatch):
    """os.read may return fewer bytes than asked before the end (a network file system, a signal): the
    reader reads on, so the file comes whole, and a file past the cap still gives the cap + 1 bytes."""
    from auditor.sources import file

    real_read = os.read
    calls = []

    def short_read(fd: int, count: int) -> bytes:
        calls.append(count)
        return real_read(fd, min(count, 3))

    monkeypatch.setattr(file.os, "read", short_read)
    path = tmp_path / "p.json"
    path.write_bytes(b"abcdefg")
    assert file.read_bytes(str(path)) == b"abcdefg" and len(calls) > 3  # 3 + 3 + 1, then the end
    path.write_bytes(b"0123456789")
    assert file.read_bytes(str(path), limit=5) == b"012345"  # limit + 1: the caller says "too large"


def test_read_bytes_of_a_file_at_and_past_its_cap(tmp_path):
    from auditor.sources.file import read_bytes

    path = tmp_path / "p.json"
    for size in (0, 1, 4095, 4096, 4097):
        path.write_bytes(b"x" * size)
        assert read_bytes(str(path)) == b"x" * size
        assert read_bytes(str(path), limit=4096) == b"x" * min(size, 4097)


def test_read_bytes_names_a_directory(tmp_path, monkeypatch):
    from auditor.sources import file
    from auditor.sources.file import SourceError, read_bytes

    for path in (tmp_path, tmp_path / "link"):
        if path.name == "link":
            path.symlink_to(tmp_path, target_is_directory=True)
        with pytest.raises(SourceError, match="is a directory; pass the policy files in it"):
            read_bytes(str(path))

    def refuse(*args, **kwargs):  # where a directory cannot be opened (another system, no permission)
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(file.os, "open", refuse)
    with pytest.raises(SourceError, match="is a directory; pass the policy files in it"):
        read_bytes(str(tmp_path))
    with pytest.raises(SourceError, match="permission denied"):
        read_bytes(str(tmp_path / "p.json"))
