"""AWS's 1,523 managed policies (../shared/iam-policy-corpus) as the false-positive test: every one
audits without a crash, and unknown-action fires (at low or above) only on the documented list of
actions that do not exist in AWS's authorization reference today."""

from __future__ import annotations

import pytest

from auditor import catalogue, engine
from auditor.report import Settings, Target
from auditor.sources.file import read_policy
from tests.conftest import CORPUS

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
PARLIAMENT_CRASHES = {"SageMakerStudioEMRContainersSystemNamespaceRolePolicy.json", "SageMakerStudioProjectUserRolePolicy.json"}


@pytest.fixture(scope="module")
def corpus_results():
    files = sorted(CORPUS.glob("*.json"))
    if not files:
        pytest.skip(f"the AWS managed policy corpus is not at {CORPUS}")
    cat = catalogue.load()
    settings = Settings("*", False, None, ("dev",), "5", ("core", "prewarm"))
    results = {}
    for path in files:
        policy = read_policy(str(path))
        results[path.name] = engine.run([Target("file", str(path), (policy,))], settings, cat)
    return results


def test_every_policy_audits(corpus_results):
    assert len(corpus_results) == 1523
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


def test_parliament_crashes_are_one_finding_each(corpus_results):
    crashed = {name for name, r in corpus_results.items() for f in r.findings if f.rule_id == "internal-error"}
    assert crashed == PARLIAMENT_CRASHES
    report = corpus_results["SageMakerStudioProjectUserRolePolicy.json"]
    errors = [f for f in report.findings if f.rule_id == "internal-error"]
    assert len(errors) == 1 and "ArrayOfARN" in errors[0].message
