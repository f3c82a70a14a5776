"""CloudFormation templates read as CloudFormation applies them (auditor/sources/cfn_resolve.py). Each
test names the rule it follows and its page in the AWS CloudFormation User Guide
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/PAGE)."""

from __future__ import annotations

import json

import pytest

from auditor.sources import cloudformation
from auditor.sources.cfn_parameters import ParameterError, from_file, parameters
from tests.conftest import run_cli

HEAD = "AWSTemplateFormatVersion: '2010-09-09'\n"


def _read(text: str, **kw):
    return cloudformation.read("t.yaml", HEAD + text, **kw)


def _statements(policy) -> list[dict]:
    return json.loads(policy.text)["Statement"]


def _actions(principal) -> list[str]:
    return [a for p in principal.policies for s in p.statements for a in (s.actions or ())]


def _assumed(found) -> list[tuple[str, int | None, str]]:
    return [(a.construct, a.location.line, a.assumed) for p in found.principals for a in p.assumptions] + \
        [(a.construct, a.location.line, a.assumed) for a in found.assumptions]


GROUP_WITH_CONDITIONS = '''Parameters:
  Env: {Type: String, Default: dev}
  Region2: {Type: String, Default: us-east-1}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
  ProdOrEast: !Or [!Condition IsProd, !Equals [!Ref Region2, us-east-1]]
  DevAndEast: !And [!Condition IsDev, !Condition ProdOrEast]
Resources:
  Deploy:
    Type: AWS::IAM::Group
    Properties:
      GroupName: jets-deploy
  ProdOnly:
    Type: AWS::IAM::Policy
    Condition: IsProd
    Properties:
      PolicyName: prod
      Groups: [!Ref Deploy]
      PolicyDocument: {Statement: [{Effect: Allow, Action: "s3:*", Resource: "*"}]}
  DevAndEastOnly:
    Type: AWS::IAM::Policy
    Condition: DevAndEast
    Properties:
      PolicyName: deveast
      Groups: [!Ref Deploy]
      PolicyDocument: {Statement: [{Effect: Allow, Action: "sqs:*", Resource: "*"}]}
'''


def test_a_resource_whose_condition_is_false_is_not_created():
    """conditions-section-structure.html: "a resource ... is created only if its associated condition
    evaluates to true"; Fn::Equals, Fn::Not, Fn::Or, Fn::And and Condition references
    (intrinsic-function-reference-conditions.html) decide it over the parameters' Defaults."""
    (group,) = _read(GROUP_WITH_CONDITIONS).principals
    assert _actions(group) == ["sqs:*"]  # IsProd false: ProdOnly is not created; DevAndEast true
    assert group.assumptions == ()


def test_parameter_values_override_defaults():
    """parameters-section-structure.html: a value given when the stack is created wins over Default;
    --parameter gives it (a later one wins), as `aws cloudformation deploy --parameter-overrides` does."""
    (group,) = _read(GROUP_WITH_CONDITIONS, parameters={"Env": "prod"}).principals
    assert _actions(group) == ["s3:*"]
    (group,) = _read(GROUP_WITH_CONDITIONS, parameters={"Region2": "eu-west-1"}).principals
    assert _actions(group) == []


def test_an_undecided_condition_is_assumed_true_and_said_at_its_line():
    """A parameter with no Default and no value decides nothing: the resource is audited as created, and
    a not-evaluated assumption names the condition, why, and how to get the exact answer."""
    found = _read(GROUP_WITH_CONDITIONS.replace("Env: {Type: String, Default: dev}", "Env: {Type: String}"))
    (group,) = found.principals
    # IsProd is undecided, so is IsDev (its negation) and DevAndEast (IsDev and true): both are assumed true
    assert _actions(group) == ["s3:*", "sqs:*"]
    assumption, second = group.assumptions
    assert (second.construct, second.location.line) == ("Condition DevAndEast on DevAndEastOnly", 24)
    assert (assumption.construct, assumption.location.line) == ("Condition IsProd on ProdOnly", 17)
    assert assumption.assumed == ("IsProd is assumed true, so ProdOnly is audited as created (parameter Env has no Default "
                                  "and no value (--parameter Env=VALUE))")
    assert "--template-stage Processed" in assumption.exact and "--parameter KEY=VALUE" in assumption.exact


def test_fn_if_with_no_value_removes_a_statement():
    """intrinsic-function-reference-conditions.html (Fn::If, "conditionally remove a property") and
    pseudo-parameter-reference.html (AWS::NoValue "removes the corresponding resource property when
    specified as a return option in the Fn::If intrinsic function"): a statement, a list element, a key."""
    found = _read('''Parameters:
  Env: {Type: String, Default: dev}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Deploy:
    Type: AWS::IAM::Group
    Properties:
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: [cloudformation:CreateStack, !If [IsProd, "s3:*", !Ref AWS::NoValue]]
                Resource: "*"
                Condition: !If [IsProd, {Bool: {aws:SecureTransport: "true"}}, !Ref AWS::NoValue]
              - !If [IsProd, {Effect: Allow, Action: "iam:*", Resource: "*"}, !Ref AWS::NoValue]
''')
    (group,) = found.principals
    assert _statements(group.policies[0]) == [{"Effect": "Allow", "Action": ["cloudformation:CreateStack"], "Resource": "*"}]
    found = _read(found_text := '''Parameters:
  Env: {Type: String, Default: prod}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Deploy:
    Type: AWS::IAM::Group
    Properties:
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - !If [IsProd, {Effect: Allow, Action: "iam:*", Resource: "*"}, !Ref AWS::NoValue]
''')
    assert found_text and _statements(found.principals[0].policies[0]) == [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]


def test_fn_if_with_no_value_removes_a_policies_entry_and_a_managed_policy_arn():
    """The same rule at property level: an entry of a group's Policies or ManagedPolicyArns list, and
    the whole property (AWS::IAM::Group's Policies and ManagedPolicyArns, aws-resource-iam-group.html)."""
    template = '''Parameters:
  Admin: {Type: String, Default: "false", AllowedValues: ["true", "false"]}
Conditions:
  WantsAdmin: !Equals [!Ref Admin, "true"]
Resources:
  Deploy:
    Type: AWS::IAM::Group
    Properties:
      ManagedPolicyArns:
        - !If [WantsAdmin, !Sub "arn:${AWS::Partition}:iam::aws:policy/AdministratorAccess", !Ref AWS::NoValue]
        - arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess
      Policies:
        - !If
          - WantsAdmin
          - PolicyName: admin
            PolicyDocument: {Statement: [{Effect: Allow, Action: "*", Resource: "*"}]}
          - !Ref AWS::NoValue
        - PolicyName: own
          PolicyDocument: {Statement: [{Effect: Allow, Action: "cloudformation:CreateStack", Resource: "*"}]}
  Other:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {}
      ManagedPolicyArns: !If [WantsAdmin, [arn:aws:iam::aws:policy/AdministratorAccess], !Ref AWS::NoValue]
'''
    deploy, other = _read(template).principals
    assert deploy.managed_arns == ("arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess",)
    assert [p.source for p in deploy.policies] == ["t.yaml#Deploy/Policies/own"]
    assert other.managed_arns == ()
    deploy, other = _read(template, parameters={"Admin": "true"}).principals
    assert deploy.managed_arns == ("arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess")
    assert [p.source for p in deploy.policies] == ["t.yaml#Deploy/Policies/admin", "t.yaml#Deploy/Policies/own"]
    assert other.managed_arns == ("arn:aws:iam::aws:policy/AdministratorAccess",)


def test_fn_if_on_an_undecided_condition_takes_its_first_value_and_says_so():
    found = _read('''Parameters:
  Stage: {Type: String}
Conditions:
  Beta: !Equals [!Ref Stage, beta]
Resources:
  Deploy:
    Type: AWS::IAM::Group
    Properties:
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - !If [Beta, {Effect: Allow, Action: "lambda:*", Resource: "*"}, !Ref AWS::NoValue]
''')
    (group,) = found.principals
    assert _actions(group) == ["lambda:*"]
    assert _assumed(found) == [("Fn::If on condition Beta in a policy document", 14,
                                "Beta is assumed true, so its first value is audited (parameter Stage has no Default and no "
                                "value (--parameter Stage=VALUE))")]


def test_pseudo_parameters_decide_conditions_only_when_given():
    """pseudo-parameter-reference.html: AWS::Region and AWS::AccountId are the stack's; --region and
    --account give them. In a policy an unknown one is `*` (whichever they are); in a condition it decides
    nothing. AWS::Partition follows the Region (aws-cn for cn-*)."""
    template = '''Conditions:
  East: !Equals [!Ref "AWS::Region", us-east-1]
  China: !Equals [!Ref "AWS::Partition", aws-cn]
Resources:
  Deploy:
    Type: AWS::IAM::Group
    Properties:
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: cloudformation:CreateStack
                Resource:
                  - !Sub "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/demo-*"
                  - !If [East, east, !Ref AWS::NoValue]
                  - !If [China, china, !Ref AWS::NoValue]
'''
    found = _read(template)
    assert _statements(found.principals[0].policies[0])[0]["Resource"] == ["arn:aws:cloudformation:*:*:stack/demo-*", "east", "china"]
    assert [c for c, _, _ in _assumed(found)] == ["Fn::If on condition East in a policy document",
                                                  "Fn::If on condition China in a policy document"]
    found = _read(template, region="cn-north-1", account="123456789012")
    assert _statements(found.principals[0].policies[0])[0]["Resource"] == [
        "arn:aws-cn:cloudformation:cn-north-1:123456789012:stack/demo-*", "china"]
    assert _assumed(found) == []


def test_stack_name_from_a_parameter_and_ssm_parameters_stay_open():
    """pseudo-parameter-reference.html: AWS::StackName is known once the stack exists (--parameter
    AWS::StackName=NAME gives it); parameters-section-structure.html: an AWS::SSM::Parameter::Value<String>
    parameter's value is read from Systems Manager when the stack is deployed (its Default names the
    SSM parameter, not the value)."""
    template = '''Parameters:
  Prefix: {Type: "AWS::SSM::Parameter::Value<String>", Default: /jets/prefix}
Resources:
  Deploy:
    Type: AWS::IAM::Group
    Properties:
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - {Effect: Allow, Action: "cloudformation:CreateStack", Resource: !Sub "arn:aws:cloudformation:*:*:stack/${AWS::StackName}-${Prefix}-*"}
'''
    policy = _read(template).principals[0].policies[0]
    assert _statements(policy)[0]["Resource"] == "arn:aws:cloudformation:*:*:stack/${AWS.StackName}-${Prefix}-*"
    assert dict(policy.unresolved)["${Prefix}"] == "parameter Prefix is read from SSM Parameter Store when the stack is deployed"
    policy = _read(template, parameters={"AWS::StackName": "jets-iam", "Prefix": "demo"}).principals[0].policies[0]
    assert _statements(policy)[0]["Resource"] == "arn:aws:cloudformation:*:*:stack/jets-iam-${Prefix}-*"


def test_find_in_map_select_split_join_and_sub_with_known_values():
    """intrinsic-function-reference-findinmap.html, -select.html, -split.html, -join.html, -sub.html:
    applied where their arguments are known; a List parameter is a list; Fn::Equals compares strings."""
    template = '''Parameters:
  Envs: {Type: CommaDelimitedList, Default: "dev, prod"}
  Count: {Type: Number, Default: 2}
Mappings:
  Regions: {us-east-1: {Short: use1}, eu-west-1: {Short: euw1}}
Conditions:
  Two: !Equals [!Ref Count, 2]
Resources:
  Deploy:
    Type: AWS::IAM::Group
    Properties:
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: cloudformation:CreateStack
                Resource:
                  - !Sub ["arn:aws:s3:::${Short}-${Env}-*", {Short: !FindInMap [Regions, !Ref "AWS::Region", Short], Env: !Select [1, !Ref Envs]}]
                  - !Join [":", !Split ["/", "a/b/c"]]
                  - !If [Two, two, !Ref AWS::NoValue]
'''
    policy = _read(template, region="eu-west-1").principals[0].policies[0]
    assert _statements(policy)[0]["Resource"] == ["arn:aws:s3:::euw1-prod-*", "a:b:c", "two"]


def test_macros_are_reported_as_not_run():
    """transform-section-structure.html: CloudFormation runs a template's macros before it creates
    anything; this reader does not (SAM's transform makes function roles, not the deploy principal, and
    is not reported). AWS::LanguageExtensions' Fn::ForEach makes resources that are not read."""
    found = _read('''Transform: [AWS::Serverless-2016-10-31, AWS::LanguageExtensions, MyMacro]
Resources:
  Deploy: {Type: AWS::IAM::Group}
  Fn::ForEach::Roles:
    - Name
    - [a, b]
    - Role${Name}: {Type: AWS::IAM::Role}
''')
    assert [(c, line) for c, line, _ in _assumed(found)] == [
        ("Transform AWS::LanguageExtensions", 2), ("Transform MyMacro", 2), ("Fn::ForEach::Roles", 5)]


def test_parameter_files_in_the_deploy_and_codepipeline_shapes(tmp_path):
    """aws cloudformation deploy --parameter-overrides file://FILE (aws-cli PR #5443): ["K=V"] and
    [{"ParameterKey", "ParameterValue"}]; CodePipeline's template configuration {"Parameters": {...}}."""
    (tmp_path / "a.json").write_text('["Env=prod", "Url=https://x/?a=b"]')
    (tmp_path / "b.json").write_text('[{"ParameterKey": "Env", "ParameterValue": "stag"}, {"ParameterKey": "Old", "UsePreviousValue": true}]')
    (tmp_path / "c.json").write_text('{"Parameters": {"Count": 3, "Env": "dev"}, "Tags": {"team": "x"}}')
    assert from_file(str(tmp_path / "a.json")) == {"Env": "prod", "Url": "https://x/?a=b"}
    assert from_file(str(tmp_path / "b.json")) == {"Env": "stag"}
    assert from_file(str(tmp_path / "c.json")) == {"Count": "3", "Env": "dev"}
    files = [str(tmp_path / n) for n in ("a.json", "c.json")]
    assert parameters(["Env=beta"], files) == {"Env": "beta", "Url": "https://x/?a=b", "Count": "3"}
    (tmp_path / "bad.json").write_text('{"Env": "prod"}')
    with pytest.raises(ParameterError, match="not a parameter file"):
        from_file(str(tmp_path / "bad.json"))
    with pytest.raises(ParameterError, match="'nokey' is not KEY=VALUE"):
        parameters(["nokey"], [])


@pytest.mark.slow
def test_parameter_options_through_the_cli(tmp_path):
    (tmp_path / "template.yaml").write_text(HEAD + GROUP_WITH_CONDITIONS.replace(
        "PolicyName: prod", "PolicyName: prod").replace('Action: "s3:*"', 'Action: ["s3:*", "cloudformation:CreateStack"]'))
    (tmp_path / "params.json").write_text('{"Parameters": {"Env": "prod"}}')
    for args in (["--parameter", "Env=prod"], ["--parameter-file", str(tmp_path / "params.json")]):
        proc = run_cli("file", str(tmp_path / "template.yaml"), "--prefix", "demo", "--format", "json", *args)
        assert proc.returncode == 1, proc.stderr.decode()
        doc = json.loads(proc.stdout)
        assert doc["targets"] == [{"kind": "group", "name": "jets-deploy", "sources": [f"{tmp_path}/template.yaml#ProdOnly"]}]
    proc = run_cli("file", str(tmp_path / "template.yaml"), "--parameter", "=x")
    assert proc.returncode == 2
    assert proc.stderr.decode() == "jets-iam-audit: error: --parameter: '=x' is not KEY=VALUE\n"
    proc = run_cli("file", str(tmp_path / "template.yaml"), "--parameter-file", str(tmp_path / "missing.json"))
    assert proc.returncode == 2 and proc.stderr.decode().startswith("jets-iam-audit: error: --parameter-file ")
