"""AWS's managed policies (the snapshot the package ships, some 1,500 policies, which the
`managed_policy_corpus` fixture writes as files) as the false-positive test: every one audits without
a crash, and unknown-action fires (at low or above) only on the documented list of actions that do
not exist in AWS's authorization reference today."""

from __future__ import annotations

import pytest

from auditor import catalogue, engine, managed_policies
from auditor.report import Settings, Target
from auditor.sources.file import read_policy

pytestmark = pytest.mark.slow  # every AWS managed policy

# Every unknown-action finding of low severity or above, by file: each entry grants nothing today.
REAL_MISTAKES = {
    # never existed: S3 has ListBucket / ListAllMyBuckets; ListObjects(V2) are API names, not actions
    "AmazonLaunchWizardFullaccess.json": {"s3:ListBuckets", "s3:ListObjects", "s3:ListObjectsV2"},
    # typo of ssm:RemoveTagsFromResource
    "AmazonApplicationWizardFullaccess.json": {"ssm:RemoveTagsToResource"},
    # actions no longer (or never publicly) in the service's reference
    "AWSCodeStarFullAccess.json": {"cloud9:ValidateEnvironmentName"},
    "RDSCloudHsmAuthorizationRole.json": {  # CloudHSM Classic, retired
        "cloudhsm:CreateLunaClient", "cloudhsm:DeleteLunaClient", "cloudhsm:DescribeHapg",
        "cloudhsm:DescribeLunaClient", "cloudhsm:GetConfig", "cloudhsm:ModifyHapg", "cloudhsm:ModifyLunaClient"},
    "MemoryDBServiceRolePolicy.json": {"memorydb:ReplicateMultiRegionClusterData"},
    "AWSIAMIdentityCenterAllowListForIdentityContext.json": {"qapps:ImportDocumentToQApp", "qapps:ImportDocumentToQAppSession"},
    "AmazonRoute53RecoveryControlConfigReadOnlyAccess.json": {"route53-recovery-control-config:DescribeRoutingControlByName"},
    "SageMakerStudioProjectUserRolePolicy.json": {
        "sagemaker-unified-studio-mcp:CallPrivilegedTool", "sagemaker-unified-studio-mcp:CallReadOnlyTool",
        "sagemaker-unified-studio-mcp:InvokeMcp"},
    "SageMakerStudioUserIAMDefaultExecutionPolicy.json": {
        "sagemaker-unified-studio-mcp:CallPrivilegedTool", "sagemaker-unified-studio-mcp:CallReadOnlyTool",
        "sagemaker-unified-studio-mcp:InvokeMcp"},
    "SecurityAgentWebAppAPIPolicy.json": {  # preview action names, renamed at launch
        "securityagent:BatchGetAgentInstances", "securityagent:BatchGetSecurityTestContentMetadata",
        "securityagent:BatchGetTasks", "securityagent:CreateDocumentReview", "securityagent:DeleteDocumentReview",
        "securityagent:GetCodeReviewTask", "securityagent:GetDocReviewTask", "securityagent:GetDocumentReview",
        "securityagent:GetDocumentReviewArtifact", "securityagent:ListAgentInstances", "securityagent:ListControls",
        "securityagent:ListDocumentReviewComments", "securityagent:ListDocumentReviews", "securityagent:ListTasks",
        "securityagent:StartPentestExecution", "securityagent:StopPentestExecution"},
    "ServiceCatalogAdminReadOnlyAccess.json": {
        "servicecatalog:AccountLevelDescribeRecord", "servicecatalog:AccountLevelListRecordHistory",
        "servicecatalog:AccountLevelScanProvisionedProducts", "servicecatalog:GetTagOptionMigrationStatus"},
}


@pytest.fixture(scope="module")
def corpus_results(managed_policy_corpus):
    files = sorted(managed_policy_corpus.glob("*.json"))
    cat = catalogue.load()
    settings = Settings("*", False, None, ("dev",), "5", ("core", "prewarm"))
    results = {}
    for path in files:
        policy = read_policy(str(path))
        results[path.name] = engine.run([Target("file", str(path), (policy,))], settings, cat)
    return results


def test_every_policy_audits(corpus_results):
    assert sorted(corpus_results) == sorted(f"{e.name}.json" for e in managed_policies.documents())
    assert len(corpus_results) == len(managed_policies.snapshot().entries)
    invalid = {name for name, r in corpus_results.items() if any(f.rule_id == "invalid-policy" for f in r.findings)}
    assert invalid == set()


def test_unknown_action_only_on_real_mistakes(corpus_results):
    found: dict[str, set[str]] = {}
    for name, report in corpus_results.items():
        for f in report.findings:
            if f.rule_id == "unknown-action" and f.severity != "info":
                found.setdefault(name, set()).add(f.subject)
    assert found == REAL_MISTAKES


def test_retired_services_are_info_only(corpus_results):
    retired = {f.subject.split(":")[0].lower() for r in corpus_results.values() for f in r.findings
               if f.rule_id == "unknown-action" and f.severity == "info"}
    assert {"codestar", "evidently", "elastic-inference", "deepcomposer"} <= retired
    assert retired <= catalogue.load().retired_services


def test_no_check_fails_on_any_aws_policy(corpus_results):
    failed = [(name, f.message) for name, r in corpus_results.items() for f in r.findings if f.rule_id == "internal-error"]
    assert failed == []


def test_typed_conditions_of_aws_policies_pass(corpus_results):
    # AWS writes NumericLessThan s3:TlsVersion "1.2" (a number as a string, which IAM accepts) and
    # Bool aws:SecureTransport "false" in Deny statements: neither is a wrong type
    typed = [(name, f.message) for name, r in corpus_results.items() for f in r.findings
             if f.rule_id == "invalid-condition" and "of the wrong type" in f.message]
    assert typed == []
