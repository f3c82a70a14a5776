"""Hostile input: whatever arrives, the result is findings or exit 2 as the contracts say, never a
traceback, never exit 0 on garbage, within seconds, and nothing written to disk."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor import catalogue, engine, reporters
from auditor.globs import MATCHES_ALL, MATCHES_NONE, extent
from auditor.model import parse_policy
from auditor.report import Settings, Target
from auditor.sources.file import MAX_BYTES, policies_from_bytes
from tests.conftest import DOCS, ROOT, examples, invoke, run_cli

CAT = catalogue.load()
SETTINGS = Settings("demo", False, None, ("dev",), "5", ("core", "prewarm"))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=25,
)
strings = st.one_of(
    st.sampled_from(["*", "s3:GetObject", "lambda:*", "iam:Pass?ole", "arn:aws:s3:::demo-*/*", "arn:aws:lambda:*",
                     "arn:aws:logs:*:*:log-group:/aws/lambda/demo-*:*:*", "${MY_PREFIX}", "${aws:username}", "",
                     "arn:aws:iam::123456789012:role/demo-dev-*", "[bold red]x", "\x1b[2J", "\u202e", "a:b:c",
                     "arn:aws:s3:::a\x1eb/*", "arn:aws:s3:::a\x1e*x\x1f/*", "\x1f"]),
    st.text(max_size=30),
)
element = st.one_of(strings, st.lists(strings, max_size=5), json_values)
statement = st.dictionaries(
    st.sampled_from(["Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition", "Principal", "X"]),
    st.one_of(element, st.sampled_from(["Allow", "Deny", "allow"]),
              st.dictionaries(st.sampled_from(["StringEquals", "Bool", "Nope", "DateGreaterThan"]),
                              st.dictionaries(st.sampled_from(["aws:username", "s3:prefix", "iam:PassedToService", "x"]),
                                              element, max_size=2), max_size=2)),
    max_size=7,
)
policy_docs = st.fixed_dictionaries(
    {"Statement": st.one_of(st.lists(statement, max_size=4), statement, json_values)},
    optional={"Version": st.one_of(st.sampled_from(["2012-10-17", "2008-10-17", "x"]), json_values), "Id": json_values},
)


def _audit(text: str) -> None:
    policy = parse_policy(text, "h.json")
    report = engine.run([Target("file", "h.json", (policy,))], SETTINGS, CAT)
    assert report.exit_code in (0, 1)
    assert not [f for f in report.findings if f.rule_id == "internal-error"]  # no check failed
    if not policy.statements and policy.problems:
        assert report.exit_code == 1  # garbage is never a pass
    for fmt in reporters.FORMATS:
        out = reporters.get(fmt)(report, color=False, width=100)
        assert isinstance(out, str)
        if fmt == "table":
            assert "\x1b" not in out


@pytest.mark.slow  # hypothesis
@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_any_json_value(value):
    _audit(json.dumps(value))


@pytest.mark.slow  # hypothesis
@settings(max_examples=examples(250), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy_docs)
def test_policy_shaped_documents(doc):
    _audit(json.dumps(doc, indent=2))


@pytest.mark.slow  # hypothesis
@settings(max_examples=examples(100), deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes(raw):
    policies = policies_from_bytes(raw, "b.json")
    assert all(p.statements or p.problems or raw.strip() in (b"",) for p in policies)
    report = engine.run([Target("file", "b.json", policies)], SETTINGS, CAT)
    assert report.exit_code in (0, 1)
    assert not [f for f in report.findings if f.rule_id == "internal-error"]  # no check failed


NAMED = {
    "empty": b"",
    "whitespace": b" \n\t \n",
    "null": b"null",
    "array": b"[]",
    "number": b"42",
    "invalid utf-8": b'{"Statement": "\xff\xfe\xfd"}',
    "binary": bytes(range(256)),
    "duplicate keys": b'{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}',
    "numbers for strings": b'{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": 7, "Resource": 3.5}]}',
    "deep nesting": b"[" * 100_000,
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(NAMED))
def test_named_bad_input_is_an_invalid_finding(name, tmp_path):
    path = tmp_path / "policy.json"
    path.write_bytes(NAMED[name])
    proc = invoke("file", str(path), "--format", "json")
    err = proc.stderr.decode()
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    doc = json.loads(proc.stdout)
    assert any(f["category"] == "invalid" for f in doc["findings"])


def test_bom_and_utf16_are_read(tmp_path):
    text = (DOCS / "least-privilege-2021-05.json").read_text()
    for name, raw in (("bom", b"\xef\xbb\xbf" + text.encode()), ("utf16", text.encode("utf-16"))):
        path = tmp_path / f"{name}.json"
        path.write_bytes(raw)
        doc = json.loads(invoke("file", str(path), "--format", "json").stdout)
        assert not [f for f in doc["findings"] if f["category"] == "invalid"], name
        assert doc["summary"]["by_category"]["missing-action"] == 3


def test_nul_characters_in_strings(tmp_path):
    path = tmp_path / "nul.json"
    path.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "a\u0000b", "Effect": "Allow", "NotAction": "s3:\u0000*", "Resource": "*"}]}))
    proc = invoke("file", str(path), "--prefix", "demo")
    out = proc.stdout.decode()
    assert proc.returncode == 1 and "a\\x00b" in out and "\x00" not in out


def test_name_part_marks_in_a_resource_are_characters():
    """The characters the catalogue marks a requirement's name parts with (\x1e, \x1f) are only characters
    in a policy: no check fails on them (duplicate-resource and resource-type-mismatch did)."""
    _audit(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "lambda:InvokeFunction"],
         "Resource": ["arn:aws:s3:::a\x1eb/*", "arn:aws:s3:::a\x1e*x\x1f/*", "arn:aws:lambda:*:*:function:x\x1ey"]},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::a\x1eb/*", "arn:aws:s3:::\x1f*"]}]}))


def test_huge_action_name_is_bounded(tmp_path):
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:" + "A" * 1_000_000, "Resource": "*"}]}))
    proc = invoke("file", str(path), "--format", "json")
    doc = json.loads(proc.stdout)
    (invalid,) = [f for f in doc["findings"] if f["category"] == "invalid"]
    assert invalid["message"].startswith("Action entry of 1,000,007 characters (IAM allows at most 2,048)")
    assert len(proc.stdout) < 200_000


def test_30_mb_policy_is_refused_without_reading_it_all(tmp_path):
    path = tmp_path / "huge.json"
    with open(path, "wb") as fh:
        fh.write(b'{"Statement": [' + b'{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},' * 500_000 + b"{}]}")
    assert path.stat().st_size > 30_000_000
    proc = invoke("file", str(path), "--format", "json")
    doc = json.loads(proc.stdout)
    assert proc.returncode == 1
    assert doc["findings"][0]["message"] == f"refused: larger than {MAX_BYTES // 2**20} MiB; IAM policies are at most a few KB"


def test_reads_stop_one_byte_past_the_limit_whatever_the_file_says_its_size_is(tmp_path):
    from auditor.sources.file import SourceError, read_bytes

    small = tmp_path / "small.json"
    small.write_bytes(b"x" * 10)
    assert read_bytes(str(small), limit=10) == b"x" * 10
    small.write_bytes(b"x" * 25)
    assert read_bytes(str(small), limit=10) == b"x" * 11
    status = Path("/proc/self/status")  # a regular file that reports size 0 but has more to read
    if status.exists():
        assert len(read_bytes(str(status), limit=100)) == 101
    # a device or a FIFO is refused before a byte is read (it could be endless, or wait for a writer forever)
    with pytest.raises(SourceError, match=r"^/dev/zero: not a regular file \(a device\); only files are read$"):
        read_bytes("/dev/zero", limit=100)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(SourceError, match=r"fifo: not a regular file \(a FIFO\); only files are read$"):
        read_bytes(str(fifo), limit=12)


def test_paths_that_cannot_be_read_exit_2(tmp_path):
    loop = tmp_path / "loop"
    os.symlink(loop, loop)
    not_dir = tmp_path / "file.json"
    not_dir.write_text("{}")
    cases = {str(loop): "cannot read", str(not_dir / "x.json"): "cannot read",
             str(tmp_path / "missing.json"): "no such file"}
    for path, expected in cases.items():
        proc = invoke("file", path)
        err = proc.stderr.decode()
        assert proc.returncode == 2 and expected in err and err.count("\n") == 1, (path, err)


@pytest.mark.slow
def test_unreadable_file_exits_2():
    """As root every file is readable, so the CLI then runs as nobody (setpriv) on a mode-000 file
    in a directory everyone may enter (pytest's tmp_path is private to root)."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        os.chmod(folder, 0o755)
        path = os.path.join(folder, "secret.json")
        readable = os.path.join(folder, "open.json")
        for name in (path, readable):
            with open(name, "w") as fh:
                fh.write("{}")
        os.chmod(path, 0)
        os.chmod(readable, 0o644)
        prefix: list[str] = []
        if os.geteuid() == 0:
            if not shutil.which("setpriv"):
                pytest.skip("running as root without setpriv: cannot make a file unreadable")
            prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        control = subprocess.run([*prefix, sys.executable, "-m", "auditor", "file", readable], capture_output=True,
                                 cwd=ROOT, timeout=120)
        if control.returncode != 1 or not control.stdout:  # e.g. the checkout lives where nobody may not enter
            # (python's "No module named auditor" exits 1 too, with nothing on stdout)
            pytest.skip(f"the CLI does not run as nobody here: {control.stderr.decode()[-200:]}")
        proc = subprocess.run([*prefix, sys.executable, "-m", "auditor", "file", path], capture_output=True,
                              cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.decode() == f"jets-iam-audit: error: {path}: permission denied\n"


@pytest.mark.slow
def test_empty_and_closed_stdin():
    proc = invoke("file", "-", "--format", "json", stdin=b"")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["findings"][0]["message"] == "file is empty"
    closed = subprocess.run([sys.executable, "-c", "import os, sys; os.close(0); sys.stdin = None; "
                             "sys.argv = ['jets-iam-audit', 'file', '-']; from auditor.cli import main; main()"],
                            capture_output=True, cwd=ROOT, timeout=60)
    assert closed.returncode == 2
    assert closed.stderr.decode() == "jets-iam-audit: error: standard input is closed; pass a file, or pipe the policy in\n"


def test_error_messages_are_inert(tmp_path):
    proc = run_cli("file", str(tmp_path / "\x1b[2Jevil.json"))
    assert proc.returncode == 2 and "\x1b" not in proc.stderr.decode() and "\\x1b[2Jevil.json" in proc.stderr.decode()


@pytest.mark.slow
def test_nothing_written_without_output(tmp_path):
    home, tmp, work = tmp_path / "home", tmp_path / "tmp", tmp_path / "work"
    for d in (home, tmp, work):
        d.mkdir()
    env = {"HOME": str(home), "TMPDIR": str(tmp), "XDG_CACHE_HOME": str(home / ".cache")}
    for args in (["file", str(DOCS / "least-privilege-2019-10.json")],
                 ["file", str(DOCS / "least-privilege-2019-10.json"), "--format", "sarif"],
                 ["file", "-", "--format", "json"],
                 ["file", str(DOCS / "least-privilege-2019-10.json"), "--parliament", "--include-community-auditors"],
                 ["generate", "--prefix", "shop", "--minimize"],
                 ["catalogue", "--feature", "all"]):
        run_cli(*args, stdin=b"{}", cwd=work, env_extra=env)
    assert [p for d in (home, tmp, work) for p in d.rglob("*")] == []
    assert not os.path.exists("/tmp/parliament.log") or os.path.getmtime("/tmp/parliament.log") < os.path.getmtime(tmp_path)


def test_a_policy_text_holding_those_characters_is_only_text():
    """A name part is a value of its own (auditor/name_parts.py), never marked inside a string: a Resource
    that holds \x1e or \x1f is compared as the characters it is, like any other."""
    policy = parse_policy(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::a\x1e*x\x1f/*", "arn:aws:s3:::a\x1eyx\x1f/k"]}]}),
        "h.json")
    report = engine.run([Target("file", "h.json", (policy,))], SETTINGS, CAT)
    assert [(f.rule_id, f.message) for f in report.findings if f.rule_id == "duplicate-resource"] == [
        ("duplicate-resource", '"arn:aws:s3:::a\x1eyx\x1f/k" in Statement[0] is already contained in "arn:aws:s3:::a\x1e*x\x1f/*"')]
    assert extent("arn:aws:s3:::a\x1e+b\x1f", "arn:aws:s3:::a\x1e+b\x1f") == MATCHES_ALL  # one string: itself
    assert extent("arn:aws:s3:::a\x1e+b\x1f", "arn:aws:s3:::ab") == MATCHES_NONE
