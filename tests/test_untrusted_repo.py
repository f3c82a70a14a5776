"""The repository is untrusted (issue 28): config, baselines, outputs and CI logs, tried as an attacker who
controls the repository's files. Each hostile construction is bounded in time and memory (a subprocess
with a timeout and an address-space limit), reads, runs and writes nothing outside the repository."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import DOCS, ROOT, examples, invoke, run_cli

POLICY = (DOCS / "least-privilege-2019-10.json").read_text()


def _bounded():  # a hostile input must not need more than this to be refused
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def _run(*args: str, cwd: Path, limit=_bounded, timeout: int = 60) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {"NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-m", "auditor", *args], capture_output=True, cwd=cwd, env=env,
                          timeout=timeout, preexec_fn=limit)


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "iam").mkdir()
    (repo / "iam" / "deploy.json").write_text(POLICY)
    return repo


# --- 1. the trust boundary ---------------------------------------------------------------------------

@pytest.mark.slow
def test_a_found_config_cannot_make_the_tool_run_code(tmp_path):
    repo = _repo(tmp_path)
    marker = tmp_path / "ran"
    auditors = repo / ".auditors"
    auditors.mkdir()
    (auditors / "evil.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    (repo / ".jets-iam-audit.toml").write_text('prefix = "demo"\nparliament = true\nprivate-auditors = ".auditors"\n'
                                               'parliament-config = "p.yaml"\n')
    proc = _run("file", "iam/deploy.json", "--format", "json", cwd=repo)
    assert not marker.exists()
    doc = json.loads(proc.stdout)
    assert "parliament" not in doc  # parliament never ran
    found = [f for f in doc["findings"] if f["rule_id"] == "untrusted-setting"]
    assert [(f["subject"], f["location"]["line"], f["severity"]) for f in found] == [
        ("parliament", 2, "low"), ("private-auditors", 3, "low"), ("parliament-config", 4, "low")]
    assert found[1]["message"] == (".jets-iam-audit.toml sets private-auditors, which runs code: a config file found by "
                                   "searching cannot (name it with --config, or pass --private-auditors on the command line)")
    assert doc["settings"]["prefix"] == "demo"  # its other settings still count
    # named with --config, it is trusted: parliament runs (its private auditor too, which it imports)
    (repo / "p.yaml").write_text("{}\n")
    proc = _run("file", "iam/deploy.json", "--format", "json", "--config", ".jets-iam-audit.toml", cwd=repo)
    assert marker.exists() and "parliament" in json.loads(proc.stdout), proc.stderr.decode()


def test_the_finding_cannot_be_silenced_by_the_config_that_earns_it(tmp_path):
    repo = _repo(tmp_path)
    for extra in ('[rules.untrusted-setting]\nenabled = false\n',
                  '[[ignore]]\nrule = "untrusted-setting"\nreason = "x"\n'):
        (repo / ".jets-iam-audit.toml").write_text('parliament = true\n' + extra)
        proc = invoke("file", "iam/deploy.json", cwd=repo)
        assert proc.returncode == 2 and b"untrusted-setting" in proc.stderr


@pytest.mark.slow
def test_generate_from_a_file_does_not_load_parliament_from_a_found_config(tmp_path):
    repo = _repo(tmp_path)
    (repo / ".jets-iam-audit.toml").write_text('prefix = "demo"\nparliament = true\nprivate-auditors = "nowhere"\n')
    code = ("import sys\nfrom auditor.cli import app\ntry:\n    app(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write('\\nloaded ' + repr('parliament' in sys.modules))\n")
    proc = subprocess.run([sys.executable, "-c", code, "generate", "--from", "iam/deploy.json"], capture_output=True,
                          cwd=repo, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert proc.stderr.decode().endswith("loaded False"), proc.stderr.decode()


def test_a_found_config_that_is_a_symbolic_link_is_not_read(tmp_path):
    repo = _repo(tmp_path)
    secret = tmp_path / "outside.toml"
    secret.write_text('prefix = "outside"\n')
    (repo / ".jets-iam-audit.toml").symlink_to(secret)
    proc = invoke("file", "iam/deploy.json", cwd=repo)
    assert proc.returncode == 2 and b"a symbolic link (it may point out of the repository)" in proc.stderr


# --- 2. patterns and reads bounded ---------------------------------------------------------------------

@pytest.mark.slow
def test_forty_thousand_ignores_cost_one_pass(tmp_path):
    """Each glob is tried once per audited file, and each finding looks up its rule and pointers: the
    work does not grow with findings × ignores (it took 73 s)."""
    from auditor import config as config_mod
    from auditor.checks import ALWAYS_ON, RULE_IDS

    repo = _repo(tmp_path)
    entries = [f'{{file="x{i}*",reason="r"}}' for i in range(20_000)]  # inline tables: 40,000 fit in the 2 MiB cap
    entries += [f'{{file="iam/deploy.json",pointer="/S/{i}",reason="r"}}' for i in range(20_000)]
    entries.append('{file = "*.json", rule = "duplicate-action", reason = "the docs\' duplicate"}')
    (repo / ".jets-iam-audit.toml").write_text('prefix = "demo"\nignore = [\n' + ",\n".join(entries) + "\n]\n")
    cfg = config_mod.load(repo / ".jets-iam-audit.toml", RULE_IDS, ALWAYS_ON, trusted=False)
    assert len(cfg.ignores) == 40_001 and cfg.ignores[-1].line == 2
    from auditor import engine
    from auditor.report import Target
    from auditor.sources.file import read_documents

    started = time.perf_counter()
    policies = read_documents(str(repo / "iam" / "deploy.json"))
    target = Target("file", str(repo / "iam" / "deploy.json"), policies)
    report = engine.run([target], _settings(), _catalogue(), cfg)
    elapsed = time.perf_counter() - started
    assert [f for f, _ in report.ignored] and all(f.rule_id == "duplicate-action" for f, _ in report.ignored)
    assert cfg.index.glob_tests == 20_001  # each glob once for the one file audited, not once per finding
    unused = [f for f in report.findings if f.rule_id == "unused-ignore"]
    assert len(unused) == 20_000  # the pointer ones match the file and silence nothing; the x* ones match no file
    assert elapsed < 30  # a guard only: the bound is the count above (about 1 s here)


def _settings():
    from auditor.report import Settings

    return Settings(prefix="demo", prefix_inferred=False, prefix_note=None, envs=("dev",), jets_version="5",
                    features=("core", "prewarm"))


def _catalogue():
    from auditor import catalogue

    return catalogue.load()


@pytest.mark.slow
def test_ignore_globs_match_as_fnmatch_without_backtracking():
    import fnmatch

    from auditor.ignores import compile_glob, glob_match

    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st

    @hypothesis.given(st.text("ab/*?[]!-", max_size=8), st.text("ab/]![-", max_size=8))
    @hypothesis.settings(max_examples=examples(3000), deadline=None)
    def agree(glob, path):
        assert glob_match(compile_glob(glob), path) == fnmatch.fnmatchcase(path, glob)

    agree()
    started = time.perf_counter()  # the pattern that backtracks exponentially in a naive matcher
    assert not glob_match(compile_glob("*a" * 200 + "b"), "a" * 5000)
    assert time.perf_counter() - started < 5


@pytest.mark.slow
def test_a_yaml_alias_bomb_and_a_backtracking_pattern_in_parliaments_config_are_bounded(tmp_path):
    pytest.importorskip("parliament")
    repo = _repo(tmp_path)
    bomb = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
        f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n" for i in range(8))
    (repo / "bomb.yaml").write_text(bomb)
    assert len(bomb) < 700
    proc = _run("file", "iam/deploy.json", "--parliament", "--parliament-config", "bomb.yaml", cwd=repo)
    assert proc.returncode == 2
    assert proc.stderr.decode() == ("jets-iam-audit: error: --parliament-config bomb.yaml: more than 100,000 values with "
                                    "aliases expanded (an alias bomb?); refused\n")
    (repo / "slow.yaml").write_text("RESOURCE_STAR:\n  ignore_locations:\n  - filepath: '(a+)+$'\n"
                                    "  - filepath: '" + "a" * 30 + "(.*)*b'\n")
    deep = repo / ("a" * 60 + "x.json")
    deep.write_text(POLICY)
    started = time.perf_counter()
    proc = _run("file", deep.name, "--prefix", "demo", "--parliament", "--parliament-config", "slow.yaml", cwd=repo)
    assert proc.returncode == 1 and time.perf_counter() - started < 30
    (repo / "backref.yaml").write_text("RESOURCE_STAR:\n  ignore_locations:\n  - filepath: '(a)\\1'\n")
    proc = _run("file", "iam/deploy.json", "--parliament", "--parliament-config", "backref.yaml", cwd=repo)
    assert proc.returncode == 2 and "bad pattern '(a)\\\\1' (invalid escape sequence" in proc.stderr.decode()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["fifo", "zero", "large"])
def test_a_baseline_that_is_a_fifo_a_device_or_huge_is_refused(tmp_path, kind):
    repo = _repo(tmp_path)
    baseline = repo / "b.json"
    if kind == "fifo":
        os.mkfifo(baseline)
    elif kind == "zero":
        baseline.symlink_to("/dev/zero")
    else:
        with open(baseline, "wb") as fh:
            fh.truncate(65 * 1024 * 1024)  # sparse: no disk used
    proc = _run("file", "iam/deploy.json", "--baseline", "b.json", cwd=repo)
    assert proc.returncode == 2
    assert proc.stderr.decode() == {
        "fifo": "jets-iam-audit: error: b.json: not a regular file (a FIFO); only files are read\n",
        "zero": "jets-iam-audit: error: b.json: not a regular file (a device); only files are read\n",
        "large": "jets-iam-audit: error: b.json: larger than 64 MiB; refused (not a baseline this tool writes)\n"}[kind]


def test_a_config_that_is_huge_or_a_fifo_is_refused(tmp_path):
    repo = _repo(tmp_path)
    os.mkfifo(repo / ".jets-iam-audit.toml")
    proc = _run("file", "iam/deploy.json", cwd=repo)
    assert proc.returncode == 2 and "not a regular file (a FIFO)" in proc.stderr.decode()
    (repo / ".jets-iam-audit.toml").unlink()
    with open(repo / ".jets-iam-audit.toml", "wb") as fh:
        fh.truncate(3 * 1024 * 1024)
    proc = _run("file", "iam/deploy.json", cwd=repo)
    assert proc.returncode == 2 and proc.stderr.decode().endswith("larger than 2 MiB; refused\n")


# --- 3. writes ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("option", ["--write-baseline", "--output", "--also-write"])
def test_a_committed_symlink_at_a_written_path_is_refused(tmp_path, option):
    repo = _repo(tmp_path)
    outside = tmp_path / "victim"
    outside.write_text("keep")
    (repo / "out.json").symlink_to(outside)
    value = "sarif=out.json" if option == "--also-write" else "out.json"
    proc = invoke("file", "iam/deploy.json", option, value, cwd=repo)
    assert proc.returncode == 2 and b"out.json is a symbolic link" in proc.stderr, proc.stderr
    assert outside.read_text() == "keep" and (repo / "out.json").is_symlink()


def _small_files():
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


@pytest.mark.slow
def test_a_failed_baseline_write_leaves_the_old_baseline_whole(tmp_path):
    repo = _repo(tmp_path)
    old = json.dumps({"version": 1, "tool": "jets-iam-audit", "findings": []}) + "\n"
    (repo / "b.json").write_text(old)
    proc = _run("file", "iam/deploy.json", "--write-baseline", "b.json", cwd=repo, limit=_small_files)
    assert proc.returncode == 2
    assert proc.stderr.decode().endswith("jets-iam-audit: error: cannot write the baseline b.json: File too large "
                                         "(the file is unchanged)\n")
    assert (repo / "b.json").read_text() == old
    assert sorted(p.name for p in repo.iterdir()) == [".git", "b.json", "iam"]  # no temporary file left
    proc = _run("file", "iam/deploy.json", "--output", "report.txt", cwd=repo, limit=_small_files)
    assert proc.returncode == 2 and "cannot write report.txt: File too large (nothing was written)" in proc.stderr.decode()
    assert not (repo / "report.txt").exists()


def test_generate_output_dir_refuses_a_symbolic_link(tmp_path):
    repo = _repo(tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (repo / "iam-out").symlink_to(outside, target_is_directory=True)
    proc = invoke("generate", "--prefix", "demo", "--output-dir", "iam-out", cwd=repo)
    assert proc.returncode == 2 and b"iam-out is a symbolic link" in proc.stderr and list(outside.iterdir()) == []


# --- 4. walks ----------------------------------------------------------------------------------------------

def test_policy_set_globs_do_not_follow_links_into_loops_or_out_of_the_repository(tmp_path):
    repo = _repo(tmp_path)
    (repo / "iam" / "loop").symlink_to(repo, target_is_directory=True)
    outside = tmp_path / "outside.json"
    outside.write_text(POLICY.replace("Statement", "Statement", 1))
    (repo / "iam" / "out.json").symlink_to(outside)
    (repo / ".jets-iam-audit.toml").write_text('prefix = "demo"\n[[policy-set]]\nfiles = ["**/*.json"]\n')
    proc = _run("file", "iam/deploy.json", "--format", "json", cwd=repo, timeout=60)
    doc = json.loads(proc.stdout)
    assert [t["sources"] for t in doc["targets"]] == [["iam/deploy.json"]]
    (repo / ".jets-iam-audit.toml").write_text('[[policy-set]]\nfiles = ["../*.json"]\n')
    proc = invoke("file", "iam/deploy.json", cwd=repo)
    assert proc.returncode == 2 and b"reaches out of the config file's directory" in proc.stderr


def test_directory_walks_skip_links_out_of_the_directory(tmp_path):
    repo = _repo(tmp_path)
    outside = tmp_path / "secret.json"
    outside.write_text(POLICY)
    (repo / "iam" / "link.json").symlink_to(outside)
    proc = invoke("file", "iam", "-q", cwd=repo)
    assert proc.returncode == 1
    assert proc.stderr.decode().splitlines()[0] == "skipped iam/link.json: a symbolic link out of iam"


# --- 5. no output line starts with input -------------------------------------------------------------------

HOSTILE = "x" * 70 + " ::error file=a.json::forged ::add-mask::secret ##[error]old-style ::stop-commands::tok"


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["table", "concise", "markdown", "github", "json", "sarif"])
@pytest.mark.parametrize("width", ["60", "80", "200"])
def test_no_output_line_starts_with_a_workflow_command_from_input(tmp_path, fmt, width):
    repo = _repo(tmp_path)
    policy = json.loads(POLICY)
    policy["Statement"][0]["Sid"] = HOSTILE
    policy["Statement"][1]["Resource"] = ["arn:aws:s3:::" + HOSTILE.replace(" ", "")]
    name = repo / "::warning file=x::named.json"
    name.write_text(json.dumps(policy, indent=2))
    proc = run_cli("file", name.name, "--prefix", "demo", "--format", fmt, "--details", "all", cwd=repo,
                   env_extra={"COLUMNS": width})
    assert proc.returncode == 1, proc.stderr
    ours = ("::error file=", "::warning file=", "::notice file=", "::notice title=jets-iam-audit::")
    for stream in (proc.stdout, proc.stderr):
        for line in stream.decode().splitlines():
            assert not line.lstrip().startswith("::") or (fmt == "github" and line.startswith(ours)), line
            assert "##[" not in line, line
    if fmt in ("json", "sarif"):
        assert HOSTILE in json.dumps(json.loads(proc.stdout))  # the data itself is whole: ##\u005b is "##["


def test_github_annotations_are_capped_with_a_summary():
    from auditor.report import Finding, Head, Part, Settings, Tail, Tally, Target
    from auditor.model import Location
    from auditor.reporters.github import Writer
    import io

    out = io.StringIO()
    writer = Writer(out)
    findings = [Finding("r", "invalid", sev, f"m{i}", "s", Location("a.json", "", None, i + 1))
                for sev in ("high", "medium", "low") for i in range(15)]
    target = Target("file", "a.json", ())
    writer.part(Part(target, tuple(findings), (), ()))
    tally = Tally("low")
    tally.add(tuple(findings), ())
    writer.tail(Tail((), tally, None, None, ()))
    lines = out.getvalue().splitlines()
    kinds = [line.split(" ", 1)[0] for line in lines if line.startswith("::")]
    assert kinds.count("::error") == 10 and kinds.count("::warning") == 10 and kinds.count("::notice") == 10
    assert lines[-2] == ("::notice title=jets-iam-audit::16 more findings are not annotated (5 errors, 5 warnings, "
                         "6 notices): GitHub shows 10 annotations of each kind per step; every finding is listed in this "
                         "log and in the SARIF report")
    assert sum(1 for line in lines if line.startswith(("high r a.json", "medium r a.json", "low r a.json"))) == 16


# --- 7. honest exits ---------------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_path_that_yields_nothing_exits_2(tmp_path):
    repo = _repo(tmp_path)
    (repo / "empty").mkdir()
    (repo / "misc").mkdir()
    (repo / "misc" / "package.json").write_text('{"name": "x"}')
    (repo / "tf").mkdir()
    (repo / "tf" / "main.tf").write_text('variable "x" {}\n')
    for path in ("empty", "misc", "tf"):
        proc = invoke("file", path, cwd=repo)
        assert proc.returncode == 2 and f"nothing to audit in {path} (a directory with no IAM policy in it)".encode() in proc.stderr
        assert invoke("file", path, "--skip-non-policies", cwd=repo).returncode == 0  # the hook's mode
    proc = invoke("file", "iam", "empty", cwd=repo)  # one good path does not hide a mistyped one
    assert proc.returncode == 2 and b"nothing to audit in empty" in proc.stderr


@pytest.mark.slow
def test_a_full_disk_a_closed_stdout_a_broken_pipe_say_so(tmp_path):
    repo = _repo(tmp_path)
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "auditor", "file", "iam/deploy.json"], stdout=full,
                              stderr=subprocess.PIPE, cwd=repo, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 2
    assert proc.stderr.decode().endswith("jets-iam-audit: error: cannot write to standard output: the disk is full "
                                         "(No space left on device)\n")
    proc = subprocess.run(f"{sys.executable} -m auditor file iam/deploy.json >&-", shell=True, stderr=subprocess.PIPE,
                          cwd=repo, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert (proc.returncode, proc.stderr.decode()) == (2, "jets-iam-audit: error: cannot write to standard output: it is closed\n")
    for i in range(60):
        shutil.copy(repo / "iam" / "deploy.json", repo / "iam" / f"d{i}.json")
    proc = subprocess.run(f"{sys.executable} -m auditor file iam --format json --details all | head -c 1 >/dev/null; "
                          "exit ${PIPESTATUS[0]}", shell=True, executable="/bin/bash", stderr=subprocess.PIPE, cwd=repo,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 2 and proc.stderr.decode().endswith(
        "jets-iam-audit: error: standard output was closed before the report was written (broken pipe): the report is "
        "incomplete\n")


@pytest.mark.slow
def test_a_number_too_large_and_a_document_too_deep_say_so(tmp_path):
    repo = _repo(tmp_path)
    digits = "9" * 5000
    (repo / "big.json").write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", '
                                   f'"Resource": "*", "Condition": {{"NumericLessThan": {{"s3:max-keys": {digits}}}}}}}]}}')
    doc = json.loads(_run("file", "big.json", "--format", "json", cwd=repo).stdout)
    assert [f["message"] for f in doc["findings"]] == ["not a policy: a number with more than 4,300 digits"]
    proc = _run("generate", "--from", "big.json", cwd=repo)
    assert proc.returncode == 2 and "a number with more than 4,300 digits" in proc.stderr.decode()
    assert "internal error" not in proc.stderr.decode()
    (repo / "c.toml").write_text(f"prefix = 'demo'\nx = {digits}\n")
    proc = _run("file", "iam/deploy.json", "--config", "c.toml", cwd=repo)
    assert proc.returncode == 2 and proc.stderr.decode() == (
        "jets-iam-audit: error: c.toml: not valid TOML (a number with more than 4,300 digits)\n")
    (repo / "deep.json").write_text('{"version": 1, "findings": ' + "[" * 100_000 + "]" * 100_000 + "}")
    proc = _run("file", "iam/deploy.json", "--baseline", "deep.json", cwd=repo)
    assert proc.returncode == 2 and "nested too deeply" in proc.stderr.decode() and "internal error" not in proc.stderr.decode()


@pytest.mark.parametrize("option", ["--prefix", "--env"])
def test_names_are_validated_whole(option):
    proc = invoke("file", str(DOCS / "least-privilege-2019-10.json"), option, "demo\n")
    assert proc.returncode == 2 and b"is not a Jets" in proc.stderr
