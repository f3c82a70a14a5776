"""`data "aws_iam_policy_document"` as the AWS provider renders it: each test names the rule it follows in
hashicorp/terraform-provider-aws internal/service/iam/policy_document_data_source.go and policy_model.go
(read with the fetch tool: the data source's Read function, IAMPolicyDoc.Merge, the principal and condition
sets' MarshalJSON, policyDecodeConfigStrings) or its acceptance test policy_document_data_source_test.go."""

from __future__ import annotations

from tests.test_terraform_semantics import assumed, doc, read


def test_principals_and_conditions_as_the_provider_writes_them(tmp_path):
    """policy_model.go: a lone principal of type "*" with identifier "*" is written "*" (not {"*": "*"});
    principal blocks of one type combine into one list; identifiers are a set (reverse-sorted); &{...}
    becomes ${...} in resources, identifiers and condition values but not in actions
    (policy_document_data_source.go: dataSourcePolicyDocumentReplaceVarsInList is applied to those only);
    condition values keep their order, empty strings included (the acceptance test's "home/", "", ...)."""
    found = read(tmp_path, '''
data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
  }
  statement {
    actions = ["s3:ListBucket&{x}"]
    resources = ["arn:aws:s3:::demo/&{aws:username}"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::111111111111:root", "arn:aws:iam::222222222222:root"]
    }
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::333333333333:root"]
    }
    not_principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["home/", "", "home/&{aws:username}/"]
    }
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["shared/"]
    }
    condition {
      test     = "NumericLessThan"
      variable = "aws:MultiFactorAuthAge"
      values   = [86400]
    }
  }
}
''')
    statements = doc(found.loose[0])["Statement"]
    assert statements[0]["Principal"] == "*"
    assert statements[1] == {
        "Effect": "Allow", "Action": "s3:ListBucket&{x}", "Resource": "arn:aws:s3:::demo/${aws:username}",
        "Principal": {"AWS": ["arn:aws:iam::222222222222:root", "arn:aws:iam::111111111111:root",
                              "arn:aws:iam::333333333333:root"]},
        "NotPrincipal": {"Service": "ec2.amazonaws.com"},
        "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "86400"},  # the schema's strings: 86400 becomes "86400"
                      "StringLike": {"s3:prefix": ["home/", "", "home/${aws:username}/", "shared/"]}}}


def test_source_and_override_documents_merge_by_sid(tmp_path):
    """policy_document_data_source.go: source_policy_documents are merged first, in order; the document's own
    statements then replace a source statement of the same Sid in place; override_policy_documents last
    (IAMPolicyDoc.Merge); the newer document's Id is adopted; a JSON document is read into the provider's
    model (a member it does not know is dropped, a Principal string becomes "*")."""
    found = read(tmp_path, '''
data "aws_iam_policy_document" "deploy" {
  policy_id = "own"
  source_policy_documents = [jsonencode({
    Id = "source"
    Statement = [
      { Sid = "A", Effect = "Allow", Action = "s3:GetObject", Resource = "*", Comment = "dropped" },
      { Sid = "B", Effect = "Allow", Action = "sqs:SendMessage", Resource = "*", Principal = "anyone" },
    ]
  })]
  override_policy_documents = [jsonencode({
    Statement = [{ Sid = "C", Effect = "Deny", Action = "iam:*", Resource = "*" }]
  })]
  statement {
    sid       = "B"
    actions   = ["sqs:ReceiveMessage"]
    resources = ["*"]
  }
  statement {
    sid       = "C"
    actions   = ["iam:PassRole"]
    resources = ["*"]
  }
}
''')
    assert doc(found.loose[0]) == {"Version": "2012-10-17", "Id": "own", "Statement": [
        {"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
        {"Sid": "B", "Effect": "Allow", "Action": "sqs:ReceiveMessage", "Resource": "*"},
        {"Sid": "C", "Effect": "Deny", "Action": "iam:*", "Resource": "*"}]}


def test_duplicate_sids_are_what_the_provider_rejects(tmp_path):
    """policy_document_data_source.go: "duplicate Sid (%s). Remove the Sid or ensure the Sid is unique." among a
    document's statements, and "duplicate Sid ... in source_policy_documents" across source documents: Terraform
    fails there, so the document is an invalid finding."""
    found = read(tmp_path, '''
data "aws_iam_policy_document" "d" {
  source_policy_documents = [
    jsonencode({ Statement = [{ Sid = "X", Effect = "Allow", Action = "s3:GetObject", Resource = "*" }] }),
    jsonencode({ Statement = [{ Sid = "X", Effect = "Allow", Action = "s3:PutObject", Resource = "*" }] }),
  ]
  statement {
    sid       = "Y"
    actions   = ["s3:ListBucket"]
    resources = ["*"]
  }
  statement {
    sid       = "Y"
    actions   = ["s3:ListBucket"]
    resources = ["*"]
  }
}
''')
    assert [(p.message, p.line) for p in found.loose[0].problems] == [
        ("the AWS provider rejects this document: duplicate Sid (X) in source_policy_documents (document 1)", 3),
        ("the AWS provider rejects this document: duplicate Sid (Y)", 12)]


def test_source_json_is_merged_as_provider_4_did_and_said(tmp_path):
    """source_json/override_json: provider 4 merged source_json first and override_json last; provider 5
    accepts them only empty (ValidateFunc: validation.StringIsEmpty, "Not used"), so using one is an
    assumption."""
    found = read(tmp_path, '''
data "aws_iam_policy_document" "d" {
  source_json   = jsonencode({ Statement = [{ Sid = "S", Effect = "Allow", Action = "s3:GetObject", Resource = "*" }] })
  override_json = jsonencode({ Statement = [{ Sid = "S", Effect = "Allow", Action = "s3:PutObject", Resource = "*" }] })
}
''')
    assert doc(found.loose[0])["Statement"] == [{"Sid": "S", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]
    assert [c for c, _, _ in assumed(found)] == ["source_json on data.aws_iam_policy_document.d",
                                                  "override_json on data.aws_iam_policy_document.d"]


def test_optional_object_attributes_and_null_arguments(tmp_path):
    """Terraform "Optional Object Type Attributes": an attribute the value lacks takes optional()'s default
    (null without one), so `effect = statement.value.effect` is "Allow" and `not_actions = ...` is null; a null
    argument is unset (the provider's schema default, an empty set: omitted), as terraform-aws-modules'
    iam-group module writes its statements."""
    found = read(tmp_path, '''
variable "permissions" {
  type = map(object({
    actions     = optional(list(string))
    not_actions = optional(list(string))
    effect      = optional(string, "Allow")
    resources   = optional(list(string), ["*"])
  }))
  default = {
    Deploy = { actions = ["cloudformation:UpdateStack"] }
  }
}
data "aws_iam_policy_document" "d" {
  dynamic "statement" {
    for_each = var.permissions
    content {
      sid         = statement.key
      actions     = statement.value.actions
      not_actions = statement.value.not_actions
      effect      = statement.value.effect
      resources   = statement.value.resources
    }
  }
}
''')
    assert doc(found.loose[0])["Statement"] == [{"Sid": "Deploy", "Effect": "Allow", "Action": "cloudformation:UpdateStack",
                                                 "Resource": "*"}]


def test_an_undecided_sid_neither_merges_nor_duplicates(tmp_path):
    """A Sid the configuration does not decide (here a regular-expression replace, not evaluated) matches no
    other statement: both statements are kept, no duplicate Sid is claimed on a guess."""
    found = read(tmp_path, '''
data "aws_iam_policy_document" "d" {
  dynamic "statement" {
    for_each = { "a-1" = "s3:GetObject", "b-2" = "s3:PutObject" }
    content {
      sid       = replace(statement.key, "/[^0-9A-Za-z]*/", "")
      actions   = [statement.value]
      resources = ["*"]
    }
  }
}
''')
    (policy,) = found.loose
    assert policy.problems == ()
    assert [s["Action"] for s in doc(policy)["Statement"]] == ["s3:GetObject", "s3:PutObject"]
