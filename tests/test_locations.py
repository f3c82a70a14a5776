"""Every location is a real file and line, in every format (issue 27, item 6): a finding about a principal
of Terraform or CloudFormation (an action none of its policies grants, a split deploy, a managed policy
attached by ARN) points at the file and line that define the principal; a finding about an element points
at the element; a location that is no file (a policy read from AWS, standard input) is never written as a
file (SARIF: a logical location only; GitHub: no file=; concise: no path:line:col)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from auditor.model import Location
from auditor.report import Finding
from tests.conftest import FIXTURES, ROOT, SARIF_SCHEMA, invoke

IAC = FIXTURES / "iac"
# each form of the Jets docs' 2019-10 policy, and the line that defines its deploy group
FORMS = {
    "terraform-document": (IAC / "terraform-document" / "main.tf", 'resource "aws_iam_group" "deploy" {'),
    "terraform-jsonencode": (IAC / "terraform-jsonencode" / "main.tf", 'resource "aws_iam_group" "deploy" {'),
    "plan": (IAC / "plan" / "plan.json", None),  # one line, as terraform show -json writes it
    "cloudformation": (IAC / "cloudformation" / "template.yaml", "DeployGroup:"),
    "cdk": (IAC / "cdk" / "JetsDeployStack.template.json", '"DeployGroup3A1B2C4D": {'),
}
FORMATS = ("json", "sarif", "github", "concise", "markdown", "table")
UNGRANTED = 'missing "lambda:UpdateFunctionCode"'  # no statement of the policy names it: a finding about the group


def _run(*args: str, cwd: Path = ROOT) -> str:
    proc = invoke("file", *args, cwd=cwd, env_extra={"COLUMNS": "400"})
    assert proc.returncode in (0, 1), proc.stderr.decode()
    return proc.stdout.decode()


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _places(fmt: str, out: str) -> list[tuple[str, int | None, str]]:
    """(file, line, text of the finding) for every finding of a report in format `fmt`."""
    if fmt == "json":
        return [(f["location"]["source"], f["location"]["line"], f["message"]) for f in json.loads(out)["findings"]]
    if fmt == "sarif":
        found = []
        for r in json.loads(out)["runs"][0]["results"]:
            (location,) = r["locations"]
            physical = location["physicalLocation"]
            found.append((physical["artifactLocation"]["uri"], physical.get("region", {}).get("startLine"), r["message"]["text"]))
        return found
    if fmt == "github":
        found = []
        for line in out.splitlines()[:-1]:  # the summary line last
            if line.startswith("::notice title=jets-iam-audit::") and "not annotated" in line:
                continue  # the count of findings past GitHub's 10 annotations of a kind
            m = (re.fullmatch(r"::(?:error|warning|notice) file=([^,]+),line=(\d+),title=[^:]+::(.*)", line)
                 or re.fullmatch(r"\w+ [a-z-]+ ([^:]+):(\d+): (.*)", line))  # a finding past them: a plain log line
            assert m, line
            found.append((m.group(1), int(m.group(2)), m.group(3)))
        return found
    if fmt == "concise":
        return [(m.group(1), int(m.group(2)), m.group(3)) for m in
                (re.fullmatch(r"([^:]+):(\d+):\d+: \w+ [a-z-]+ (.*)", line) for line in out.splitlines()) if m]
    if fmt == "markdown":
        return [(m.group(2), int(m.group(3)), m.group(1)) for m in re.finditer(r"^\| \w+ \| `[a-z-]+`[^|]*\| (.*?) \| `([^`:]+):(\d+)` `", out, re.M)]
    # the table: the location cell is "FILE L<line> /pointer"
    return [(m.group(2), int(m.group(3)), m.group(1)) for m in re.finditer(r"│ ([^│]*?)\s*│ (\S+) L(\d+)(?: \S+)?\s*│$", out, re.M)]


@pytest.mark.slow
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("form", sorted(FORMS))
def test_every_location_is_a_line_of_the_file_read(form, fmt):
    path, defines = FORMS[form]
    shown = str(path.relative_to(ROOT))
    out = _run(shown, "--format", fmt)
    places = _places(fmt, out)
    assert len(places) >= 15, out  # every finding of the report, parsed (19 or 20 of them)
    lines = _lines(path)
    for source, line, _ in places:
        assert source == shown, (source, fmt)
        assert line is not None and 1 <= line <= len(lines), (line, fmt)
    # the missing actions no statement names are about the group: they point at the line that defines it
    group_lines = {line for _, line, text in places if UNGRANTED in text}
    want = 1 if defines is None else lines.index(next(x for x in lines if x.strip() == defines)) + 1
    assert group_lines == {want}, (group_lines, want)


def test_findings_about_a_principal_point_at_its_own_file_not_a_policy_file(tmp_path):
    """A user defined in users.tf whose policy is written in policies.tf: what none of its policies
    grants is about the user (users.tf, its line); what a statement holds is in policies.tf."""
    (tmp_path / "users.tf").write_text('# the deploy user\n\nresource "aws_iam_user" "ci" {\n  name = "jets-ci"\n}\n')
    (tmp_path / "policies.tf").write_text('''resource "aws_iam_user_policy" "ci" {
  user   = aws_iam_user.ci.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["cloudformation:CreateStack", "cloudformation:UpdateStack", "s3:*"],
                   Resource = "*" }]
  })
}
''')
    for fmt in ("json", "sarif", "github"):
        places = _places(fmt, _run(".", "--prefix", "demo", "--format", fmt, cwd=tmp_path))
        assert {(source, line) for source, line, text in places if text.startswith("missing ")} == {("users.tf", 3)}
        assert {(source, line) for source, line, text in places if '"s3:*" grants' in text} == {("policies.tf", 5)}


def test_a_role_with_only_managed_policies_is_located_at_its_logical_id_in_the_template(tmp_path):
    """CDK's Lambda role (a logical id such as FunctionServiceRole675BB04A, AWS managed policies by ARN):
    was SARIF "uri": "FunctionServiceRole675BB04A" and GitHub file=FunctionServiceRole675BB04A."""
    template = {"Resources": {
        "FunctionServiceRole675BB04A": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}]},
            "ManagedPolicyArns": [{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"},
                                                     ":iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]]}]},
            "Metadata": {"aws:cdk:path": "AppStack/Function/ServiceRole/Resource"}}}}
    (tmp_path / "AppStack.template.json").write_text(json.dumps(template, indent=1))
    sarif = json.loads(_run("AppStack.template.json", "--prefix", "demo", "--format", "sarif", cwd=tmp_path))
    locations = [r["locations"] for r in sarif["runs"][0]["results"]]
    assert locations and all(loc == [{"physicalLocation": {"artifactLocation": {"uri": "AppStack.template.json"},
                                                           "region": {"startLine": 3}},
                                      "logicalLocations": [{"fullyQualifiedName": "/Resources/FunctionServiceRole675BB04A",
                                                            "kind": "element"}]}] for loc in locations)
    github = _run("AppStack.template.json", "--prefix", "demo", "--format", "github", cwd=tmp_path)
    assert "FunctionServiceRole675BB04A" not in github
    places = _places("github", github)  # annotations, and the log lines of findings past GitHub's 10 of a kind
    assert places and {(source, line) for source, line, _ in places} == {("AppStack.template.json", 3)}


def test_a_managed_policy_from_auth_details_is_reported_at_the_principal_that_attaches_it(tmp_path):
    (tmp_path / "iam.tf").write_text('''resource "aws_iam_group" "deploy" {
  name = "jets-deploy"
}

resource "aws_iam_group_policy_attachment" "admin" {
  group      = aws_iam_group.deploy.name
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}
''')
    details = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": [{
        "PolicyName": "AdministratorAccess", "Arn": "arn:aws:iam::aws:policy/AdministratorAccess",
        "PolicyVersionList": [{"IsDefaultVersion": True, "VersionId": "v1", "Document": {
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}]}]}
    (tmp_path / "details.json").write_text(json.dumps(details))
    doc = json.loads(_run("iam.tf", "--prefix", "demo", "--auth-details", "details.json", "--format", "json", cwd=tmp_path))
    (managed,) = [f for f in doc["findings"] if f["rule_id"] == "aws-managed-policy"]
    assert managed["location"] == {"source": "iam.tf", "pointer": "/resource/aws_iam_group/deploy", "sid": None, "line": 1}
    sarif = json.loads(_run("iam.tf", "--prefix", "demo", "--auth-details", "details.json", "--format", "sarif", cwd=tmp_path))
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]}
    assert uris == {"iam.tf"}


# --- locations that are no file ----------------------------------------------------------------------

def _details_principal(tmp_path: Path) -> Path:
    """An authorization-details file with a group whose inline policy misses most of what Jets needs."""
    details = {"UserDetailList": [], "RoleDetailList": [], "Policies": [], "GroupDetailList": [{
        "GroupName": "deploy", "Arn": "arn:aws:iam::123456789012:group/deploy", "AttachedManagedPolicies": [],
        "GroupPolicyList": [{"PolicyName": "JetsDeploy", "PolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["cloudformation:CreateStack", "s3:*"], "Resource": "*"}]}}]}]}
    path = tmp_path / "details.json"
    path.write_text(json.dumps(details))
    return path


def test_a_policy_read_from_aws_is_never_written_as_a_file(tmp_path):
    details = str(_details_principal(tmp_path))
    doc = json.loads(_run("--auth-details", details, "--group", "deploy", "--prefix", "demo", "--format", "json"))
    sources = {f["location"]["source"] for f in doc["findings"]}
    assert sources == {"group/deploy/inline/JetsDeploy"}  # the JSON keeps the AWS policy's name, as before
    sarif = json.loads(_run("--auth-details", details, "--group", "deploy", "--prefix", "demo", "--format", "sarif"))
    results = sarif["runs"][0]["results"]
    assert results and all("physicalLocation" not in loc for r in results for loc in r["locations"])
    jsonschema.validate(sarif, json.loads(SARIF_SCHEMA.read_text()))
    wildcard = next(r for r in results if r["ruleId"] == "wildcard-action")
    assert wildcard["locations"] == [{"logicalLocations": [{
        "name": "group/deploy/inline/JetsDeploy", "fullyQualifiedName": "group/deploy/inline/JetsDeploy#/Statement/0/Action/1",
        "kind": "resource"}]}]
    github = _run("--auth-details", details, "--group", "deploy", "--prefix", "demo", "--format", "github")
    annotations = github.splitlines()[:-1]
    assert annotations and not any("file=" in line or ",line=" in line for line in annotations)
    assert any(line.startswith(("::error title=wildcard-action (high)::group/deploy/inline/JetsDeploy /Statement/0/Action/1: ",
                                "high wildcard-action group/deploy/inline/JetsDeploy /Statement/0/Action/1: "))
               for line in annotations)
    concise = _run("--auth-details", details, "--group", "deploy", "--prefix", "demo", "--format", "concise")
    assert "group/deploy/inline/JetsDeploy#/Statement/0/Action/1: high wildcard-action " in concise
    assert not re.search(r"^group/deploy/inline/JetsDeploy:\d+:\d+:", concise, re.M)


def test_standard_input_is_no_file():
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    proc = invoke("file", "-", "--prefix", "demo", "--format", "github", stdin=policy.encode())
    assert "file=" not in proc.stdout.decode()
    # past GitHub's 10 error annotations of a step, a finding is a plain log line named the same way
    assert "high wildcard-action <stdin> /Statement/0/Action: " in proc.stdout.decode()
    proc = invoke("file", "-", "--prefix", "demo", "--format", "sarif", stdin=policy.encode())
    assert all("physicalLocation" not in r["locations"][0] for r in json.loads(proc.stdout)["runs"][0]["results"])


def test_the_sarif_writer_writes_a_logical_location_only():
    """A result that is no file (an AWS policy) has a logical location, its name and the pointer as a
    URI fragment, and no artifact."""
    from auditor.report import Report, Settings, Target
    from auditor.reporters import render

    f = Finding("wildcard-action", "over-broad", "high", "m", "s3:*", Location("group/g/inline/p", "/Statement/0/Action", None, 7, False),
                target="group g")
    report = Report("1.0", "test data", Settings("demo", False, None, ("dev",), "5", ("core",)),
                    (Target("group", "group g", ()),), (f,), ())
    (result,) = json.loads(render("sarif", report))["runs"][0]["results"]
    assert result["locations"] == [{"logicalLocations": [{"name": "group/g/inline/p",
                                                          "fullyQualifiedName": "group/g/inline/p#/Statement/0/Action",
                                                          "kind": "resource"}]}]
