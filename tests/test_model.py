from __future__ import annotations

import json

from auditor.model import decode_text, parse_policy
from auditor.source_map import SourceMap

DOC = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "One",
      "Effect": "Allow",
      "Action": "lambda:GetFunction",
      "Resource": ["arn:aws:lambda:*:*:function:demo-*", "*"]
    },
    {
      "Effect": "Deny",
      "NotAction": ["iam:*"],
      "NotResource": "*",
      "Condition": {"Bool": {"aws:MultiFactorAuthPresent": false}}
    }
  ]
}
"""


def test_parse_normalises_strings_and_lists():
    policy = parse_policy(DOC, "p.json")
    assert policy.problems == ()
    one, two = policy.statements
    assert one.sid == "One" and one.actions == ("lambda:GetFunction",) and one.not_actions is None
    assert one.resources == ("arn:aws:lambda:*:*:function:demo-*", "*")
    assert one.pointer == "/Statement/0"
    assert two.not_actions == ("iam:*",) and two.not_resources == ("*",)
    assert [str(c) for c in two.conditions] == ["Bool aws:MultiFactorAuthPresent=false"]
    assert two.label == "Statement[1]"


def test_single_statement_object():
    policy = parse_policy(json.dumps({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}), "p")
    assert policy.statements[0].pointer == "/Statement"


def test_lines_by_pointer():
    smap = SourceMap(DOC)
    assert smap.line("/Statement/0") == 4
    assert smap.line("/Statement/0/Resource") == 8
    assert smap.line("/Statement/0/Resource/1") == 8
    assert smap.line("/Statement/1/NotAction/0") == 12
    assert smap.line("/Statement/1/Condition/Bool") == 14
    assert smap.line("/Statement/9") == 3  # nearest ancestor


def test_pointer_escaping_in_lines():
    text = '{\n "a/b": {\n  "c~d": 1\n }\n}'
    assert SourceMap(text).line("/a~1b/c~0d") == 3


def test_not_json():
    policy = parse_policy("{nope", "bad.json")
    assert policy.statements == ()
    assert policy.problems[0].message.startswith("not JSON: Expecting property name")


def test_not_an_object():
    for text, kind in (("[]", "an array"), ("null", "null"), ('"x"', "a string"), ("3", "a number")):
        problem = parse_policy(text, "x").problems[0]
        assert problem.message == f"not an IAM policy: the document is {kind}, not an object"


def test_statement_problems():
    doc = {"Version": "2012-10-18", "Statement": [
        {"Effect": "allow", "Action": "s3:GetObject", "Resource": "*"},
        {"Effect": "Allow", "Resource": "*"},
        {"Effect": "Allow", "Action": ["s3:GetObject", 3], "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Principal": "*", "Bogus": 1},
        "not an object",
    ]}
    policy = parse_policy(json.dumps(doc), "p")
    assert [(p.pointer, p.message) for p in policy.problems] == [
        ("/Version", 'Version must be "2012-10-17", not "2012-10-18"'),
        ("/Statement/0/Effect", "Effect must be \"Allow\" or \"Deny\", not 'allow'"),
        ("/Statement/1", "statement has neither Action nor NotAction"),
        ("/Statement/2/Action", "Action must be a string or a list of strings"),
        ("/Statement/3/Principal", "Principal has no place in an identity policy: IAM rejects it (a principal belongs in "
                                   "a trust or resource policy)"),
        ("/Statement/3/Bogus", 'unknown statement element "Bogus" (a statement has only Sid, Effect, Action, NotAction, '
                               "Resource, NotResource, Condition)"),
        ("/Statement/4", "statement is not a JSON object"),
    ]
    assert [s.index for s in policy.statements] == [3]


def test_duplicate_keys_are_problems():
    policy = parse_policy('{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Action": "iam:*", "Resource": "*"}]}', "p")
    assert [p.message for p in policy.problems] == ['key "Action" appears twice; IAM rejects duplicate keys']


def test_duplicate_keys_at_every_level_without_an_in_band_marker():
    text = ('{"Version": "2012-10-17", "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", '
            '"Resource": "*", "Condition": {"StringEquals": {"aws:username": "a", "aws:username": "b"}, '
            '"StringEquals": {}}}]}')
    policy = parse_policy(text, "p")
    assert [(p.pointer, p.message) for p in policy.problems] == [
        ("/Version", 'key "Version" appears twice; IAM rejects duplicate keys'),
        ("/Statement/0/Condition/StringEquals", 'key "StringEquals" appears twice; IAM rejects duplicate keys'),
        ("/Statement/0/Condition/StringEquals/aws:username", 'key "aws:username" appears twice; IAM rejects duplicate keys'),
    ]
    assert policy.statements[0].conditions[0].values == ("a",)  # the first value is kept


def test_a_key_named_like_the_old_marker_is_just_an_unknown_element():
    for doc in ({"Version": "2012-10-17", "__duplicate_keys__": ["Statement"], "Statement": [
                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]},
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                                                          "Condition": {"__duplicate_keys__": 7}}]}):
        policy = parse_policy(json.dumps(doc), "p")
        assert len(policy.statements) == 1
        assert [p.subject for p in policy.problems] == ["__duplicate_keys__"]
        assert "appears twice" not in policy.problems[0].message


def test_non_finite_numbers_are_problems_where_they_are():
    text = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*", '
            '"Condition": {"NumericLessThan": {"s3:max-keys": [NaN, 1e999]}, "NumericEquals": {"s3:max-keys": -Infinity}}}], '
            '"Id": Infinity}')
    policy = parse_policy(text, "p")
    tail = " is not a JSON number IAM accepts (no NaN or Infinity, nothing beyond a double's range)"
    assert [(p.pointer, p.message) for p in policy.problems] == [
        ("/Statement/0/Condition/NumericLessThan/s3:max-keys/0", "NaN" + tail),
        ("/Statement/0/Condition/NumericLessThan/s3:max-keys/1", "1e999" + tail),
        ("/Statement/0/Condition/NumericEquals/s3:max-keys", "-Infinity" + tail),
        ("/Id", "Infinity" + tail),
    ]


def test_unknown_top_level_elements():
    policy = parse_policy('{"Version": "2012-10-17", "Id": "x", "Statement": [], "Statment": []}', "p")
    assert [(p.pointer, p.message) for p in policy.problems] == [
        ("/Statment", 'unknown policy element "Statment" (a policy has only Version, Id and Statement)')]


def test_wrapped_documents_say_what_they_are_and_how_to_unwrap():
    inner = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    role = parse_policy(json.dumps({"RoleName": "r", "PolicyName": "p", "PolicyDocument": inner}), "p")
    assert [(p.pointer, p.message) for p in role.problems] == [
        ("/PolicyDocument", "not an IAM policy document but the output of aws iam get-group-policy, get-user-policy or "
                            "get-role-policy: the policy is its PolicyDocument; save only that (jq '.PolicyDocument')")]
    version = parse_policy(json.dumps({"PolicyVersion": {"Document": inner, "VersionId": "v1"}}), "p")
    assert [(p.pointer, p.message) for p in version.problems] == [
        ("/PolicyVersion/Document", "not an IAM policy document but the output of aws iam get-policy-version: the policy is "
                                    "its PolicyVersion.Document; save only that (jq '.PolicyVersion.Document')")]


def test_decode_text():
    assert decode_text(b"\xef\xbb\xbf{}") == ("{}", None)
    assert decode_text("{}".encode("utf-16")) == ("{}", None)
    text, error = decode_text(b"\xff{}")
    assert text is None and error.startswith("not valid UTF-8")


def _pointers(value, at=""):
    yield at
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        yield from _pointers(child, f"{at}/{str(key).replace('~', '~0').replace('/', '~1')}")


def test_source_map_reads_only_the_path_and_agrees_with_the_token_scan():
    import json

    from auditor.source_map import SourceMap
    from tests.conftest import DOCS

    texts = [path.read_text() for path in sorted(DOCS.glob("*.json"))]
    texts += [json.dumps(json.loads(texts[0]), separators=(",", ":")),  # compact, and spaced oddly
              '{ "a\\"b\\u0041" :\t[ 1 ,{"c" :\n"d" } , "e",[ ]] ,"z":2, "x": {}}']
    for text in texts:
        smap = SourceMap(text)
        for ptr in [*_pointers(json.loads(text)), "/Statement/99", "/Nope/0"]:
            assert smap.offset(ptr) == smap.scanned_offset(ptr), (text[:40], ptr)
    broken = SourceMap('{"Statement": [{"Effect": "Allow",}\n, {"Sid": "x"}]')  # not JSON: the scan answers
    assert broken.line("/Statement/1/Sid") == 2


def test_lines_asked_in_any_order_match_a_plain_count():
    import random

    doc = {"Statement": [{"Action": [f"s3:Get{i}" for i in range(30)], "Resource": ["*", "arn:aws:s3:::x"]}
                         for _ in range(5)]}
    text = json.dumps(doc, indent=2)
    pointers = [f"/Statement/{s}/{key}" for s in range(5) for key in
                [*(f"Action/{a}" for a in range(30)), "Resource/1", "Resource", ""]]
    for seed in range(3):
        random.Random(seed).shuffle(pointers)
        smap = SourceMap(text)
        for ptr in pointers:
            assert smap.line(ptr) == text.count("\n", 0, SourceMap(text).offset(ptr)) + 1, ptr
