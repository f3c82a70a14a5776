from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# Hypothesis profiles (docs/development.md, "Testing"): HYPOTHESIS_PROFILE=thorough for a deep run.
# "quick", the default and what CI runs: 50 examples for a property that names no number, a property's
# own number where it names one (examples(n)); no deadline (two shared cores make timings noise).
# "thorough": 1,000 examples where none is named, ten times a property's own number.
PROFILES = {"quick": (50, 1), "thorough": (1000, 10)}
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "quick")
if PROFILE not in PROFILES:
    raise pytest.UsageError(f"HYPOTHESIS_PROFILE={PROFILE!r}: use one of {', '.join(PROFILES)}")
for _name, (_count, _) in PROFILES.items():
    settings.register_profile(_name, max_examples=_count, deadline=None)
settings.load_profile(PROFILE)


def examples(n: int) -> int:
    """A property test's number of examples: n, tuned to find the bugs it is there for, under the default
    profile; ten times n under HYPOTHESIS_PROFILE=thorough."""
    return n * PROFILES[PROFILE][1]


ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
DOCS = FIXTURES / "docs"
SARIF_SCHEMA = ROOT / "tests" / "data" / "sarif-schema-2.1.0.json"  # OASIS's published schema (tests/data/README.md)
GOLDEN = ROOT / "tests" / "golden"


@pytest.fixture(scope="session", autouse=True)
def bytecode_cache(tmp_path_factory):
    """Where the environment says PYTHONDONTWRITEBYTECODE (nothing written beside the sources), the
    Pythons the tests start (the CLI as a subprocess, hundreds of times) keep their compiled modules in
    a directory of this session instead (PYTHONPYCACHEPREFIX): otherwise each start compiles the package
    from source again, about half a second. The sources stay as they are; the environment is restored."""
    if not os.environ.get("PYTHONDONTWRITEBYTECODE") or os.environ.get("PYTHONPYCACHEPREFIX"):
        yield None
        return
    saved = dict(os.environ)
    del os.environ["PYTHONDONTWRITEBYTECODE"]
    os.environ["PYTHONPYCACHEPREFIX"] = str(tmp_path_factory.mktemp("pycache"))
    try:
        yield os.environ["PYTHONPYCACHEPREFIX"]
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="session")
def managed_policy_corpus(tmp_path_factory) -> Path:
    """AWS's managed policies as a directory of policy files, NAME.json each: the snapshot the package
    ships (auditor/data/aws-managed-policies.json.gz, refreshed by scripts/refresh_managed_policies.py),
    so a plain clone audits the same corpus as any other checkout. Only the directory stays alive."""
    from auditor.managed_policies import documents

    out = tmp_path_factory.mktemp("aws-managed-policies")
    for entry in documents():
        path = out / f"{entry.name}.json"
        assert not path.exists(), f"two policies named {entry.name} in the snapshot"
        path.write_text(json.dumps(entry.document, indent=2) + "\n", encoding="utf-8")
    return out


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/golden/ from what the tool prints now (review the diff before committing)")


@pytest.fixture
def golden(request):
    """golden(name, text): compare text with tests/golden/NAME, or rewrite it with --update-golden."""
    update = request.config.getoption("--update-golden")

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        assert path.exists(), f"no golden output {path.relative_to(ROOT)}: run pytest --update-golden"
        assert text == path.read_text(encoding="utf-8"), f"output differs from {path.relative_to(ROOT)} (pytest --update-golden rewrites it)"

    return check


def run_cli(*args: str, stdin: bytes | None = None, cwd: Path | None = None,
            env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The CLI as a real subprocess (python -m auditor), as a user or CI runs it. AWS variables of the
    calling environment never leak in (tests must not reach real AWS); `env_extra` sets some."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["NO_COLOR"] = "1"
    env["AWS_CONFIG_FILE"] = os.devnull
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "auditor", *args], input=stdin, capture_output=True,
                          cwd=cwd or ROOT, env=env, timeout=120)


def invoke(*args: str, stdin: bytes | None = None, cwd: Path | None = None,
           env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The CLI in this process, through typer's CliRunner: what run_cli gives (exit code, stdout and
    stderr as bytes) without starting Python for every call. An exception that escapes the app fails
    the test (the console script would turn it into an "internal error" line). Tests of what only a
    real process shows (the entry point, stdin, files written, import time) use run_cli."""
    from typer.testing import CliRunner

    from auditor.cli import app

    with contextlib.chdir(cwd or ROOT):
        result = CliRunner().invoke(app, list(args), input=stdin, env={"NO_COLOR": "1", **(env_extra or {})})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(["jets-iam-audit", *args], result.exit_code, result.stdout_bytes,
                                       result.stderr_bytes)


def audit_json(*args: str, stdin: bytes | None = None) -> tuple[int, dict]:
    """`file ARGS --format json` in this process: the exit code and the parsed document."""
    proc = invoke("file", *args, "--format", "json", stdin=stdin)
    assert proc.returncode in (0, 1), proc.stderr.decode()
    return proc.returncode, json.loads(proc.stdout)


@pytest.fixture
def write_policy(tmp_path):
    def write(doc, name="policy.json") -> str:
        path = tmp_path / name
        path.write_text(doc if isinstance(doc, str) else json.dumps(doc, indent=2), encoding="utf-8")
        return str(path)

    return write


def in_range(span, release: str) -> bool:
    """Does a requirement's release range (auditor.releases.ReleaseRange) hold this release?"""
    from auditor.releases import key

    k = key(release)
    return span.low <= k and (span.high is None or k < span.high)
