"""Input-derived text (policy strings, file names) passes one neutraliser, auditor.text.safe, wherever it
is printed: controls (C0, DEL, C1), bidi controls, zero-width and tag characters, separators and lone
surrogates become visible escapes, in every format, every command, and on stderr; SARIF artifact URIs are
percent-encoded (RFC 3986); Markdown shows mentions, issue references and links as code."""

from __future__ import annotations

import json
import re
import unicodedata

import pytest

from auditor.reporters.sarif import uri
from auditor.text import safe, safe_lines
from tests.conftest import invoke, run_cli

NASTY = "\x1b[2J\x07\x85\x9b31m\u202e\u2066\u200e\u061c\u200b\u200d\u2060\ufeff\U000e0041\U000e007f\u2028\u00ad"
HIDDEN = {"Cc", "Cf", "Zl", "Zp", "Cs"}


def _hidden(text: str) -> list[str]:
    return [f"U+{ord(c):04X}" for c in text if c not in "\n\t" and unicodedata.category(c) in HIDDEN]


def test_safe_shows_every_hidden_character():
    assert safe("a" + NASTY + "b") == ("a\\x1b[2J\\x07\\x85\\x9b31m\\u202e\\u2066\\u200e\\u061c\\u200b\\u200d\\u2060\\ufeff"
                                      "\\U000e0041\\U000e007f\\u2028\\xadb")
    assert safe("line\none\ttab") == "line one tab"
    assert safe("caf\u00e9 \u4e2d \U0001f600") == "caf\u00e9 \u4e2d \U0001f600"  # visible text stays as it is
    assert safe(b"\xff".decode("utf-8", "surrogateescape")) == "\\udcff"
    assert safe_lines("-\ta\x1b\r\n+\tb\u202e\n") == "-\ta\\x1b\r\n+\tb\\u202e\n"


@pytest.mark.slow
def test_every_format_neutralises_policy_text(tmp_path):
    sid = "Dup" + NASTY
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": sid, "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::demo-dev-*/*" + NASTY},
        {"Sid": sid, "Effect": "Allow", "Action": "lambda:Get" + NASTY, "Resource": "*"}]}, ensure_ascii=False),
        encoding="utf-8")
    for fmt in ("table", "concise", "markdown", "github", "json", "sarif"):
        proc = invoke("file", str(path), "--prefix", "demo", "--format", fmt)
        out, err = proc.stdout.decode(), proc.stderr.decode()
        assert proc.returncode == 1
        assert not _hidden(out) and not _hidden(err), (fmt, _hidden(out))
        assert "duplicate-sid" in out
        if fmt not in ("json", "sarif"):
            assert "\\u202e" in out, fmt


@pytest.mark.slow
def test_file_names_are_neutralised_in_every_command(tmp_path):
    name = "p\n::error::pwned\u202e\x1b[31m.json"
    (tmp_path / name).write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObject"], "Resource": "arn:aws:s3:::demo-dev-*/*"}]},
        indent=2))
    runs = [("file", name, "--prefix", "demo", "--verbose"), ("file", name, "--prefix", "demo", "--format", "concise"),
            ("file", name, "--prefix", "demo", "--format", "github"), ("file", name, "--prefix", "demo", "--format", "markdown"),
            ("generate", "--from", name, "--prefix", "demo", "--env", "dev"),
            ("file", name + "-missing"), ("file", "--auth-details", name + "-missing", "--group", "x"),
            ("file", ".", "--write-baseline", "b\x1b.json", "-q")]
    for args in runs:
        proc = run_cli(*args, cwd=tmp_path)
        out, err = proc.stdout.decode(), proc.stderr.decode()
        assert proc.returncode in (0, 1, 2), (args, err)
        assert not _hidden(out) and not _hidden(err), (args, _hidden(out + err))
        for line in (out + err).splitlines():
            assert not line.startswith("::error::pwned"), (args, line)
    diff = run_cli("generate", "--from", name, "--prefix", "demo", "--env", "dev", cwd=tmp_path).stdout.decode()
    assert diff.startswith("--- a/p ::error::pwned\\u202e\\x1b[31m.json\n+++ b/p ::error::pwned\\u202e\\x1b[31m.json\n")


@pytest.mark.parametrize(("source", "expected"), [
    ("iam/deploy.json", "iam/deploy.json"),
    ("a b#?%[].json", "a%20b%23%3F%25%5B%5D.json"),
    ("arn:aws:iam::aws:policy/ReadOnlyAccess", "arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy/ReadOnlyAccess"),
    ("caf\u00e9/\x1b.json", "caf%C3%A9/%1B.json"),
])
def test_sarif_uris_are_percent_encoded(source, expected):
    assert uri(source) == expected
    assert re.fullmatch(r"(?:[A-Za-z0-9\-._~/]|%[0-9A-F]{2})*", uri(source))  # RFC 3986: unreserved, "/" and %XX only


def test_sarif_uri_of_an_odd_file_name(tmp_path):
    name = "my policy #1 (100%).json"
    (tmp_path / name).write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}')
    doc = json.loads(invoke("file", name, "--prefix", "demo", "--format", "sarif", cwd=tmp_path).stdout)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in doc["runs"][0]["results"]}
    assert uris == {"my%20policy%20%231%20%28100%25%29.json"}


def test_markdown_neither_mentions_nor_links(tmp_path):
    path = tmp_path / "p.json"
    sid = "@octocat @org/team https://evil.example/x www.evil.example #12 user@example.com"
    path.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": sid, "Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}))
    out = invoke("file", str(path), "--prefix", "demo", "--format", "markdown").stdout.decode()
    assert ("`@octocat` `@org/team` `https://evil.example/x` `www.evil.example` `#12` `user@example.com` uses Allow "
            "with NotAction") in out
    outside_code = re.sub(r"`[^`]*`", "", out)
    assert "@" not in outside_code and "://" not in outside_code and "www." not in outside_code

