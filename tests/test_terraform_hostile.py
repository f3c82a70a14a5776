"""A Terraform repository from a stranger's pull request: nothing outside the repository is read, so
nothing outside can be printed (in any format); a FIFO or a device where a module file is expected
never blocks; every construction that makes the evaluator produce without end stops at a budget named in
an `invalid` finding, in a process limited in time and memory."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from auditor.sources.confined import Confined
from auditor.sources.file import SourceError
from tests.conftest import ROOT, examples

FORMATS = ("json", "sarif", "github", "table", "markdown", "concise")
POLICY = 'jsonencode({{ Statement = [{{ Effect = "Allow", Action = "cloudformation:CreateStack", Resource = {} }}] }})'


def run(repo: Path, *args: str, env: dict | None = None, memory: int = 1024 * 1024 * 1024) -> subprocess.CompletedProcess:
    """The CLI on `repo`, as a subprocess limited to `memory` bytes of address space and 60 seconds."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    full = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    full.update({"NO_COLOR": "1", "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                 "PYTHONPATH": str(ROOT), **(env or {})})
    return subprocess.run([sys.executable, "-m", "auditor", "file", *args], capture_output=True, cwd=repo, env=full,
                          timeout=60, preexec_fn=limit)


def repo_with(tmp_path: Path, main: str, **files: str) -> Path:
    repo = tmp_path / "repo"
    (repo / "infra").mkdir(parents=True)
    (repo / ".git").mkdir()
    (repo / "infra" / "main.tf").write_text(main)
    for name, text in files.items():
        (repo / "infra" / name).write_text(text)
    return repo


# --- nothing outside the repository is read ---------------------------------------------------------

@pytest.mark.slow
def test_files_outside_the_repository_are_never_read_nor_printed(tmp_path):
    """file() on /proc/self/environ, on ~/.aws/credentials, on ../../../etc/passwd, and on a link in the
    repository that points out of it: none is read; the audit names each as not read, and no byte of them
    reaches any output format."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.json").write_text('{"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", '
                                         '"Resource": "arn:aws:s3:::link-secret-value"}]}')
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text("[default]\naws_secret_access_key = cred-secret-value\n")
    repo = repo_with(tmp_path, f'''
resource "aws_iam_group" "deploy" {{ name = "deploy" }}
resource "aws_iam_group_policy" "environ" {{
  group  = aws_iam_group.deploy.name
  policy = file("/proc/self/environ")
}}
resource "aws_iam_group_policy" "credentials" {{
  group  = aws_iam_group.deploy.name
  policy = {POLICY.format('file("~/.aws/credentials")')}
}}
resource "aws_iam_group_policy" "passwd" {{
  group  = aws_iam_group.deploy.name
  policy = {POLICY.format('file("../../../../../../../../etc/passwd")')}
}}
resource "aws_iam_group_policy" "link" {{
  group  = aws_iam_group.deploy.name
  policy = templatefile("${{path.module}}/policies/link.json", {{}})
}}
''')
    (repo / "infra" / "policies").mkdir()
    (repo / "infra" / "policies" / "link.json").symlink_to(outside / "secret.json")
    secrets = ("env-secret-value", "cred-secret-value", "root:x:0", "link-secret-value")
    for fmt in FORMATS:
        proc = run(repo, "infra/main.tf", "--format", fmt, env={"HOME": str(home), "JETS_TEST_SECRET": "env-secret-value"})
        out = proc.stdout.decode() + proc.stderr.decode()
        assert proc.returncode == 1 and "Traceback" not in out, out
        for secret in secrets:
            assert secret not in out, (fmt, secret)
    report = json.loads(run(repo, "infra/main.tf", "--format", "json", env={"HOME": str(home)}).stdout)
    reasons = sorted(f["message"].rpartition(": ")[0].rpartition("refers to ")[2] for f in report["findings"]
                     if f["rule_id"] == "unresolved-reference")
    del reasons
    (environ, link) = [f for f in report["findings"] if f["rule_id"] == "unresolved-reference" and f["subject"].startswith("${")
                       and ("environ" in f["subject"] or "link" in f["subject"])]
    messages = " ".join(f["message"] for f in report["findings"])
    for construct in ("refers to ${file('~/.aws/credentials')}: file('~/.aws/credentials'): outside the repository root, "
                      "not read",
                      "refers to ${file('../../../../../../../../etc/passwd')}: file('../../../../../../../../etc/passwd'): "
                      "outside the repository root, not read"):
        assert construct in messages, construct


def test_fifos_and_devices_as_module_files_never_block(tmp_path):
    """A FIFO as variables.tf, /dev/zero as terraform.tfvars and /dev/stdin as an *.auto.tfvars: each is named
    in a note and not read (a FIFO is opened without blocking and refused; the links point out of the
    repository); the audit finishes at once."""
    repo = repo_with(tmp_path, f'''
resource "aws_iam_group" "deploy" {{ name = "deploy" }}
resource "aws_iam_group_policy" "p" {{
  group  = aws_iam_group.deploy.name
  policy = {POLICY.format('"*"')}
}}
''')
    os.mkfifo(repo / "infra" / "variables.tf")
    (repo / "infra" / "terraform.tfvars").symlink_to("/dev/zero")
    (repo / "infra" / "x.auto.tfvars").symlink_to("/dev/stdin")
    started = time.monotonic()
    proc = run(repo, "infra/main.tf", "--format", "json")
    assert time.monotonic() - started < 30
    report = json.loads(proc.stdout)
    assert report["notes"] == ["infra/main.tf: not read for context (variables, locals, other policies): "
                               "infra/terraform.tfvars (outside the repository root, not read), "
                               "infra/variables.tf (not a regular file (a FIFO); only files are read), "
                               "infra/x.auto.tfvars (outside the repository root, not read)"]
    assert [t["name"] for t in report["targets"]] == ["deploy"]


def test_var_file_outside_the_repository_is_refused(tmp_path):
    repo = repo_with(tmp_path, 'resource "aws_iam_group" "g" { name = "g" }\n')
    proc = run(repo, "infra/main.tf", "--var-file", "/etc/passwd")
    assert proc.returncode == 2
    assert proc.stderr.decode() == "jets-iam-audit: error: --var-file /etc/passwd: outside the repository root, not read\n"
    os.mkfifo(repo / "vars.tfvars")
    proc = run(repo, "infra/main.tf", "--var-file", "vars.tfvars")
    assert proc.returncode == 2 and "not a regular file (a FIFO)" in proc.stderr.decode()


def test_confined_reads(tmp_path):
    """The confined reader: a regular file inside is read, a link inside that points inside is followed,
    a link out, a directory, a FIFO and a device are refused with one line; a path whose directory is
    swapped for a link after the check fails to open (O_NOFOLLOW on every component) rather than leave."""
    root = tmp_path / "root"
    (root / "d").mkdir(parents=True)
    (root / "d" / "a.txt").write_text("inside")
    (root / "in.txt").symlink_to(root / "d" / "a.txt")
    (tmp_path / "secret.txt").write_text("outside")
    (root / "out.txt").symlink_to(tmp_path / "secret.txt")
    os.mkfifo(root / "fifo")
    confined = Confined(str(root))
    assert confined.read(str(root / "d" / "a.txt"), 100) == b"inside"
    assert confined.read(str(root / "in.txt"), 100) == b"inside"
    for name, message in (("out.txt", "outside the repository root, not read"), ("d", "a directory, not a file"),
                          ("fifo", "not a regular file (a FIFO); only files are read"), ("missing", "no such file")):
        with pytest.raises(SourceError) as err:
            confined.read(str(root / name), 100, name)
        assert str(err.value) == f"{name}: {message}"
    with pytest.raises(SourceError, match="outside the repository root"):
        confined.read("/dev/zero", 100, "/dev/zero")
    # the check saw root/e/a.txt; by the time it is opened, e is a link to the outside
    (root / "e").symlink_to(tmp_path)
    real = os.path.realpath

    def racing(path, *args, **kwargs):
        return str(root / "e" / "secret.txt") if str(path).endswith("secret.txt") else real(path, *args, **kwargs)

    os.path.realpath = racing
    try:
        with pytest.raises(SourceError, match="no such file|cannot read"):  # ENOTDIR or ELOOP on the link
            confined.read(str(root / "e" / "secret.txt"), 100, "e/secret.txt")
    finally:
        os.path.realpath = real


# --- budgets ----------------------------------------------------------------------------------------

BUDGETS = {
    "locals sharing subtrees (concat)": (
        "locals {\n  l0 = [\"x\"]\n" + "".join(f"  l{i + 1} = concat(local.l{i}, local.l{i})\n" for i in range(30)) + "}\n",
        '[local.l30[0]]', "elements budget"),
    "replace(a, x, a)": (
        'locals {\n  a = join("", [for i in range(60000) : "x"])\n}\n', 'replace(local.a, "x", local.a)', "string budget"),
    "join": ('locals {\n  sep = format("%90000s", "")\n  list = [for i in range(1000) : "a"]\n}\n',
             'join(local.sep, local.list)', "string budget"),
    "format width": ("", 'format("%999999999999s", "x")', "string budget"),
    "formatlist": ("", 'formatlist("%s", range(500000))', "elements budget"),
    "range": ("", 'range(1000000000)', "elements budget"),
    "setproduct": ('locals {\n  l = range(100)\n}\n', 'setproduct(local.l, local.l, local.l, local.l, local.l)', "elements budget"),
    "template repetition": ('locals {\n  kb = format("%1000s", "")\n}\n',
                            '[for j in range(10) : "%{ for i in range(900) }${local.kb}%{ endfor }"]', "characters budget"),
    "doubling strings": ("locals {\n" + "".join(f'  d{i} = "${{local.d{i + 1}}}${{local.d{i + 1}}}"\n' for i in range(25))
                         + '  d25 = "demo"\n}\n', "local.d0", "string budget"),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BUDGETS))
def test_amplification_stops_at_a_named_budget(tmp_path, name):
    """Each construction would build gigabytes: the evaluator charges what it builds before building it,
    and the file becomes one `invalid` finding naming the budget, within seconds, in 1 GiB of address space."""
    prelude, expression, budget = BUDGETS[name]
    repo = repo_with(tmp_path, prelude + f'''
resource "aws_iam_policy" "p" {{
  policy = {POLICY.format(expression)}
}}
''')
    started = time.monotonic()
    proc = run(repo, "infra/main.tf", "--format", "json")
    assert time.monotonic() - started < 30
    assert proc.returncode == 1, proc.stderr.decode()
    (finding,) = json.loads(proc.stdout)["findings"]
    assert finding["rule_id"] == "invalid-policy" and finding["message"].startswith("over the evaluation budget: ")
    assert finding["message"].endswith(f"({budget})"), finding["message"]


@pytest.mark.slow
def test_a_heredoc_under_a_large_count_stops_at_the_steps_budget(tmp_path):
    """100,000 instances of a policy whose heredoc interpolates 20 times: the heredoc is parsed once (not
    per instance) and the evaluation stops at the steps budget."""
    interpolations = "${count.index}" * 20
    repo = repo_with(tmp_path, f'''
resource "aws_iam_policy" "p" {{
  count  = 100000
  policy = <<EOT
{{"Statement": [{{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "{interpolations}"}}]}}
EOT
}}
''')
    started = time.monotonic()
    proc = run(repo, "infra/main.tf", "--format", "json")
    assert time.monotonic() - started < 60
    (finding,) = json.loads(proc.stdout)["findings"]
    assert finding["message"] == "over the evaluation budget: more than 200,000 expressions evaluated (steps budget)"


def test_a_self_including_templatefile_is_refused(tmp_path):
    """Terraform rejects templatefile() called from a template (the recursion is an error); the reference is
    named, and nothing loops."""
    repo = repo_with(tmp_path, f'''
resource "aws_iam_policy" "p" {{
  policy = templatefile("${{path.module}}/self.tpl", {{}})
}}
''', **{"self.tpl": '{"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "${templatefile("self.tpl", {})}"}]}'})
    proc = run(repo, "infra/main.tf", "--format", "json")
    report = json.loads(proc.stdout)
    messages = [f["message"] for f in report["findings"] if f["rule_id"] == "unresolved-reference"]
    assert len(messages) == 1 and "templatefile() called from a template (Terraform rejects the recursion)" in messages[0]


def test_expressions_nested_too_deeply(tmp_path):
    """A chain of 100 locals is deeper than the evaluator follows (MAX_DEPTH): the depth budget, named."""
    chain = "".join(f'  c{i} = "${{local.c{i + 1}}}"\n' for i in range(100)) + '  c100 = "x"\n'
    repo = repo_with(tmp_path, f"locals {{\n{chain}}}\n" + f'''
resource "aws_iam_policy" "p" {{
  policy = {POLICY.format("local.c0")}
}}
''')
    (finding,) = json.loads(run(repo, "infra/main.tf", "--format", "json").stdout)["findings"]
    assert finding["message"] == "over the evaluation budget: expressions and references nested more than 200 deep (depth budget)"


def test_reference_cycles_are_named_not_followed_forever(tmp_path):
    """Cycles Terraform rejects ("Cycle: ..."): a count over its own resource, an attribute that is itself,
    a module input fed by the module's own output, a variable default that is not a literal. Each is named where
    it is used; nothing recurses past Python's stack."""
    repo = repo_with(tmp_path, f'''
variable "x" {{ default = var.x }}
resource "aws_iam_user" "u" {{
  count = length(aws_iam_user.u)
  name  = "u"
}}
resource "aws_iam_user" "v" {{
  name = aws_iam_user.v.name
}}
module "m" {{
  source = "./m"
  input  = module.m.out
}}
resource "aws_iam_policy" "p" {{
  policy = {POLICY.format('[var.x, module.m.out, aws_iam_user.v.name]')}
}}
''')
    (repo / "infra" / "m").mkdir()
    (repo / "infra" / "m" / "main.tf").write_text('variable "input" {}\noutput "out" { value = var.input }\n')
    proc = run(repo, "infra/main.tf", "--format", "json")
    report = json.loads(proc.stdout)
    reasons = sorted({f["message"].partition("refers to ")[2] for f in report["findings"] if f["rule_id"] == "unresolved-reference"})
    assert reasons == [
        "${aws_iam_user.v.name}: aws_iam_user.v.name refers to itself (a cycle Terraform rejects)",
        "${module.m.out}: module.m.out refers to itself (a cycle Terraform rejects)",
        "${var.x}: var.x: not available here (a template file sees only the variables given to it; a variable's default "
        "and a tfvars file hold literal values)"]
    assert {f["message"] for f in report["findings"] if f["rule_id"] == "not-evaluated"} == {
        "count on aws_iam_user.u is not evaluated: refers to itself (a cycle Terraform rejects): assumed created once"}


# --- random templates -------------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

TEMPLATE_PIECES = st.sampled_from([
    "${", "%{", "}", "~", "~}", "${~", "%{~", " for x in [1, 2] ", " for k, v in {a = 1} ", "endfor", " if true ",
    " if var.x ", "else", "endif", '"', "x", "\n", "$${", "%%{", "{", "[", "]", ":", "local.l", "count.index",
    '{"Statement": [', '{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}', "]}", " ", "\\", "templatefile(",
    "range(100000)", "file(", ")", "/etc/passwd", "${x}"])


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(TEMPLATE_PIECES, max_size=40))
def test_random_heredoc_templates_never_raise(tmp_path, pieces):
    """Any heredoc body, well formed or not, evaluates to a policy or a named problem: never an exception,
    never a read outside the repository."""
    from auditor.sources import terraform

    (tmp_path / ".git").mkdir(exist_ok=True)
    body = "".join(pieces).replace("EOT", "E0T")
    text = f'locals {{ l = ["a"] }}\nresource "aws_iam_policy" "p" {{\n  count = 2\n  policy = <<EOT\n{body}\nEOT\n}}\n'
    found = terraform.read(str(tmp_path / "main.tf"), text, memo={})
    for policy in (*found.loose, *found.problems):
        assert isinstance(policy.text, str)
        assert "root:x:0" not in policy.text
    assert found.reads == ()
