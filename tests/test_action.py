"""The GitHub Action (action.yml, composite) run locally: its `run:` steps are executed by bash as the
runner would (inputs and expressions substituted, GITHUB_ENV and GITHUB_OUTPUT honoured, `if:` and
failure semantics kept), `uses:` steps are recorded with their inputs. The install step builds a fresh
virtual environment and installs this repository into it from the package registry, as on GitHub (once
per module: later runs reuse that venv, as a job's later steps would); the same fresh install then runs
the adoption story of issue 19 end to end."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import DOCS, ROOT

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
INSTALL = "Install jets-iam-audit"
UPLOAD = "github/codeql-action/upload-sarif@dd903d2e4f5405488e5ef1422510ee31c8b32357"  # the commit of its tag v3.36.2 (v3)


class Runner:
    """Just enough of the GitHub Actions runner for a composite action of `run` and `uses` steps."""

    def __init__(self, workdir: Path, temp: Path, inputs: dict[str, str]):
        self.workdir, self.temp = workdir, temp
        self.inputs = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()} | inputs
        self.outputs: dict[str, dict[str, str]] = {}
        self.job_env: dict[str, str] = {}
        self.log: list[tuple[str, str, object]] = []  # (step name, "ran" | "skipped" | "uses", result)
        self.failed = False

    def _value(self, expr: str) -> object:
        def lookup(m: re.Match) -> str:
            kind, rest = m.group(1), m.group(2)
            if kind == "inputs":
                return repr(self.inputs[rest])
            if kind == "github":
                return repr({"action_path": str(ROOT), "workspace": str(self.workdir)}[rest])
            step, _, key = rest.partition(".outputs.")
            return repr(self.outputs.get(step, {}).get(key, ""))

        python = re.sub(r"\b(inputs|github|steps)\.([A-Za-z0-9_.-]+?)(?=\s|\)|$|'|=|!|&)", lookup, expr)
        python = python.replace("&&", " and ").replace("||", " or ").replace("always()", "True")
        return eval(python, {"__builtins__": {}}, {})  # noqa: S307 - our own action.yml's expressions

    def _subst(self, text: str) -> str:
        return _EXPR.sub(lambda m: str(self._value(m.group(1))), text)

    def run(self) -> Runner:
        venv = self.temp / "jets-iam-audit-venv" / "bin" / "jets-iam-audit"
        for step in ACTION["runs"]["steps"]:
            name, cond = step["name"], step.get("if", "")
            if name == INSTALL and venv.exists():  # installed by an earlier run of this module: what it left in GITHUB_ENV
                self.job_env["JETS_IAM_AUDIT"] = str(venv)
                self.log.append((name, "reused", None))
                continue
            cond = _EXPR.sub(lambda m: m.group(1), cond) if cond else ""
            wanted = bool(self._value(cond)) if cond else True
            if (self.failed and "always()" not in cond) or not wanted:
                self.log.append((name, "skipped", None))
                continue
            if "uses" in step:
                self.log.append((name, "uses", (step["uses"], {k: self._subst(str(v)) for k, v in step["with"].items()})))
                continue
            files = {k: self.temp / f"{k.lower()}-{len(self.log)}" for k in ("GITHUB_OUTPUT", "GITHUB_ENV")}
            for f in files.values():
                f.write_text("")
            env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VIRTUAL_ENV"))}
            env.update({"RUNNER_TEMP": str(self.temp), "NO_COLOR": "1", **self.job_env, **{k: str(v) for k, v in files.items()}})
            env.update({k: self._subst(str(v)) for k, v in step.get("env", {}).items()})
            proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", self._subst(step["run"])],
                                  cwd=self.workdir, env=env, capture_output=True, text=True, timeout=600)
            self.log.append((name, "ran", proc))
            if "id" in step:
                self.outputs[step["id"]] = dict(line.split("=", 1) for line in files["GITHUB_OUTPUT"].read_text().splitlines())
            self.job_env.update(dict(line.split("=", 1) for line in files["GITHUB_ENV"].read_text().splitlines()))
            self.failed = self.failed or proc.returncode != 0
        return self

    def step(self, name: str):
        return next((kind, result) for n, kind, result in self.log if n == name)


@pytest.fixture(scope="module")
def runner_temp(tmp_path_factory):
    return tmp_path_factory.mktemp("runner-temp")


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "iam").mkdir(parents=True)
    shutil.copy(DOCS / "least-privilege-2019-10.json", repo / "iam" / "deploy.json")
    (repo / "package.json").write_text('{"name": "app"}')
    (repo / "pyproject.toml").write_text('[tool.jets-iam-audit]\nprefix = "demo"\n')
    return repo


@pytest.mark.slow  # the install step: a fresh venv, this repository installed from the registry
def test_action_annotates_uploads_sarif_and_fails_on_findings(tmp_path, runner_temp):
    repo = _repo(tmp_path)
    run = Runner(repo, runner_temp, {}).run()
    kind, install = run.step(INSTALL)
    assert kind == "ran" and install.returncode == 0, install.stderr  # the first run of the module installs
    kind, audit = run.step("Audit")
    assert kind == "ran" and audit.returncode == 0, audit.stderr
    lines = audit.stdout.splitlines()
    assert any(line.startswith("::error file=iam/deploy.json,line=73,title=wildcard-action (high)::") for line in lines)
    assert any(line.startswith("::error file=iam/deploy.json,title=missing-action (high)::") for line in lines)
    assert not any("package.json" in line for line in lines)
    assert run.outputs["audit"] == {"exit-code": "1"}
    sarif = json.loads((repo / "jets-iam-audit.sarif").read_text())
    assert sarif["version"] == "2.1.0" and len(sarif["runs"][0]["results"]) == 20
    assert run.step("Upload SARIF to code scanning") == (
        "uses", (UPLOAD, {"sarif_file": "jets-iam-audit.sarif", "category": "jets-iam-audit"}))
    kind, fail = run.step("Fail on findings")
    assert kind == "ran" and fail.returncode == 1 and run.failed


@pytest.mark.slow  # the install step: a fresh venv, this repository installed from the registry
def test_action_with_a_baseline_passes_and_still_uploads(tmp_path, runner_temp):
    repo = _repo(tmp_path)
    first = Runner(repo, runner_temp, {"paths": "iam", "args": "--write-baseline .jets-iam-audit-baseline.json",
                                       "upload-sarif": "false"}).run()
    assert first.outputs["audit"] == {"exit-code": "0"} and first.step("Upload SARIF to code scanning")[0] == "skipped"
    run = Runner(repo, runner_temp, {"paths": "iam", "args": "--baseline .jets-iam-audit-baseline.json"}).run()
    assert run.outputs["audit"] == {"exit-code": "0"} and not run.failed
    assert run.step("Fail on findings")[0] == "skipped" and run.step("Upload SARIF to code scanning")[0] == "uses"
    assert json.loads((repo / "jets-iam-audit.sarif").read_text())["runs"][0]["results"] == []


@pytest.mark.slow  # the install step: a fresh venv, this repository installed from the registry
def test_action_bad_options_fail_the_audit_step(tmp_path, runner_temp):
    repo = _repo(tmp_path)
    run = Runner(repo, runner_temp, {"args": "--fail-on urgent"}).run()
    kind, audit = run.step("Audit")
    assert audit.returncode == 2 and "::error title=jets-iam-audit::the audit could not run (exit 2)" in audit.stdout
    assert run.step("Upload SARIF to code scanning")[0] == "skipped"  # no report to upload
    assert run.step("Fail on findings")[0] == "skipped" and run.failed


def _fresh(runner_temp: Path) -> str:
    tool = runner_temp / "jets-iam-audit-venv" / "bin" / "jets-iam-audit"
    if not tool.exists():
        Runner(runner_temp, runner_temp, {}).run()
    return str(tool)


@pytest.mark.slow  # the install step: a fresh venv, this repository installed from the registry
def test_adoption_in_a_fresh_venv(tmp_path, runner_temp):
    """In a fresh venv (the action's), a repository with a multi-env policy: generate --from --write,
    then every env keeps its grants; a baseline written today keeps tomorrow's run at exit 0 until
    a new finding appears."""
    tool = _fresh(runner_temp)
    repo = tmp_path / "app"
    (repo / "iam").mkdir(parents=True)
    policy = repo / "iam" / "deploy.json"
    shutil.copy(DOCS / "least-privilege-2021-05.json", policy)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, "NO_COLOR": "1"}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([tool, *args], cwd=repo, env=env, capture_output=True, text=True, timeout=120)

    def coverage(env_name: str) -> dict[tuple[str, str], str]:
        proc = cli("file", "iam/deploy.json", "--env", env_name, "--feature", "all", "--format", "json")
        return {(r["action"], r["resource"]): r["status"] for r in json.loads(proc.stdout)["coverage"]}

    envs = ("dev", "prod", "stag")
    before = {e: coverage(e) for e in envs}
    repaired = cli("generate", "--from", "iam/deploy.json", "--write")
    assert repaired.returncode == 0 and "inferred from the policy's ARNs" in repaired.stderr
    for e in envs:
        after = coverage(e)
        lost = [k for k, status in before[e].items() if status in ("granted", "conditional")
                and after[k] not in ("granted", "conditional")]
        assert not lost, (e, lost)

    today = cli("file", "iam/deploy.json", "--env", "dev", "--env", "prod", "--write-baseline", "baseline.json")
    assert today.returncode == 0
    doc = json.loads(policy.read_text())
    policy.write_text(json.dumps({"Statement": doc["Statement"][::-1], "Version": doc["Version"]}))  # tomorrow: reformatted
    assert cli("file", "iam/deploy.json", "--env", "dev", "--env", "prod", "--baseline", "baseline.json").returncode == 0
    doc["Statement"].append({"Effect": "Allow", "Action": "iam:*", "Resource": "*"})
    policy.write_text(json.dumps(doc, indent=2))
    new = cli("file", "iam/deploy.json", "--env", "dev", "--env", "prod", "--baseline", "baseline.json", "--format", "concise")
    assert new.returncode == 1 and 'wildcard-action "iam:*"' in new.stdout


def test_third_party_actions_are_pinned_by_commit_and_the_install_by_hash():
    uses = [step["uses"] for step in ACTION["runs"]["steps"] if "uses" in step]
    assert uses == [UPLOAD] and all(re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", u) for u in uses)
    install = next(step["run"] for step in ACTION["runs"]["steps"] if step["name"] == INSTALL)
    assert "--require-hashes" in install and "--no-index --no-deps" in install and "--no-build-isolation" in install
    pins = (ROOT / "requirements-action.txt").read_text()
    blocks = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\\n((?:    --hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)", pins, re.MULTILINE)
    names = {name.lower().replace("_", "-") for name, _, _ in blocks}
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = [re.match(r"[A-Za-z0-9_.-]+", d).group().lower() for d in project["project"]["dependencies"]]
    wanted += [re.match(r"[A-Za-z0-9_.-]+", d).group().lower() for d in project["build-system"]["requires"]]
    assert set(wanted) <= names, set(wanted) - names  # every runtime dependency and the build backend, pinned with hashes
    assert len(blocks) == pins.count("==")  # no line pins without hashes


def test_the_audit_is_one_run_and_no_input_is_expanded():
    audit = next(step["run"] for step in ACTION["runs"]["steps"] if step.get("id") == "audit")
    assert audit.count('"$JETS_IAM_AUDIT"') == 1 and "--also-write" in audit and '-- "${paths[@]}"' in audit
    assert "$INPUT_PATHS " not in audit and "$INPUT_ARGS " not in audit  # only ever read into arrays, never expanded bare


HOSTILE = ("--write-baseline=zz.tf", "--output=package.json", "*.json", "$(touch pwned).json", "`touch pwned2`.json",
           "a b.json", "-", "::error file=x::forged.json", "--config=evil.toml")


@pytest.mark.slow  # the install step: a fresh venv, this repository installed from the registry
def test_action_with_hostile_file_names_stays_a_gate(tmp_path, runner_temp):
    """Committed files named like options, patterns and command substitutions: the action's step audits
    them as files (or skips them as no policy), never runs or expands them, writes nothing but the SARIF,
    and the gate stays red (issue 28: a file named --write-baseline=zz.tf once turned it green)."""
    repo = _repo(tmp_path)
    for name in HOSTILE:
        (repo / "iam" / name).write_text('{"not": "a policy"}')
    (repo / "package.json").write_text('{"name": "app"}')
    before = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()}
    for paths in (".", "iam", "iam/* iam/--write-baseline=zz.tf\niam/deploy.json"):
        run = Runner(repo, runner_temp, {"paths": paths}).run()
        kind, audit = run.step("Audit")
        if paths.startswith("iam/*"):  # never expanded: the pattern names no file, and the audit says so
            assert audit.returncode == 2 and "iam/*: no such file" in audit.stderr, audit.stderr
            assert run.step("Upload SARIF to code scanning")[0] == "skipped"
            continue
        assert audit.returncode == 0 and run.outputs["audit"] == {"exit-code": "1"}, audit.stderr
        assert run.step("Fail on findings")[0] == "ran" and run.failed
        sarif = json.loads((repo / "jets-iam-audit.sarif").read_text())
        assert len(sarif["runs"][0]["results"]) == 20
        for line in audit.stdout.splitlines():  # our commands, or lines no runner reads as one
            assert line.startswith(("::error file=iam/deploy.json,", "::warning file=iam/deploy.json,",
                                    "::notice file=iam/deploy.json,", "::notice title=jets-iam-audit::")) or not line.lstrip().startswith("::"), line
            assert "##[" not in line
    after = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()}
    assert not (repo / "pwned").exists() and not (repo / "pwned2").exists() and not (repo / "zz.tf").exists()
    assert {p: b for p, b in after.items() if p.name != "jets-iam-audit.sarif"} == before  # nothing else written


@pytest.mark.slow  # the install step: a fresh venv, this repository installed from the registry
def test_a_committed_symlink_at_the_sarif_path_is_refused(tmp_path, runner_temp):
    repo = _repo(tmp_path)
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    (repo / "jets-iam-audit.sarif").symlink_to(outside)
    run = Runner(repo, runner_temp, {"paths": "iam"}).run()
    kind, audit = run.step("Audit")
    assert audit.returncode == 2 and "jets-iam-audit.sarif is a symbolic link" in audit.stderr
    assert outside.read_text() == "keep me" and run.failed and run.step("Upload SARIF to code scanning")[0] == "skipped"
