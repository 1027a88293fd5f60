"""`verify STACK`: a healthy deployment passes; each kind of drift fails exactly its check;
outputs come from a file or the Automation API; user errors end cleanly."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest

from ops.verify import run_checks
from tests.ops.helpers import REGION, assert_clean_failure, deploy_stack, kms_key, pulumi_args


def write_outputs(tmp_path: Path, outputs: dict) -> str:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return str(path)


def test_healthy_deployment_passes_every_check(aws, cli, tmp_path):
    outputs = deploy_stack("prod")
    result = cli("verify", "prod", "--outputs-file", write_outputs(tmp_path, outputs))
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output
    assert "all 11 checks passed" in result.output


def replicas_share_an_az(outputs: dict) -> None:
    rds = boto3.client("rds", region_name=REGION)
    rds.create_db_instance_read_replica(
        DBInstanceIdentifier="crm-prod-db-replica-3",
        SourceDBInstanceIdentifier=outputs["dbPrimaryIdentifier"],
        AvailabilityZone=f"{REGION}b",
    )
    outputs["dbReplicaIdentifiers"].append("crm-prod-db-replica-3")


def primary_not_multi_az(outputs: dict) -> None:
    boto3.client("rds", region_name=REGION).modify_db_instance(
        DBInstanceIdentifier=outputs["dbPrimaryIdentifier"], MultiAZ=False, ApplyImmediately=True
    )


def database_key_differs(outputs: dict) -> None:
    outputs["dbKmsKeyArn"] = kms_key()


def replica_not_replicating(outputs: dict) -> None:
    boto3.client("rds", region_name=REGION).create_db_instance(
        DBInstanceIdentifier="standalone",
        DBInstanceClass="db.r6g.large",
        Engine="postgres",
        MasterUsername="crm",
        MasterUserPassword="not-a-real-password",
        AllocatedStorage=100,
        AvailabilityZone=f"{REGION}a",
    )
    outputs["dbReplicaIdentifiers"][0] = "standalone"


def replica_missing(outputs: dict) -> None:
    outputs["dbReplicaIdentifiers"][1] = "gone-replica"


def cluster_secrets_key_differs(outputs: dict) -> None:
    outputs["clusterSecretsKeyArn"] = kms_key()


def bucket_uses_s3_managed_keys(outputs: dict) -> None:
    boto3.client("s3").put_bucket_encryption(
        Bucket=outputs["attachmentsBucketName"],
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )


def bucket_allows_public_policies(outputs: dict) -> None:
    boto3.client("s3").put_public_access_block(
        Bucket=outputs["attachmentsBucketName"],
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": True,
        },
    )


def region_outside_allow_list(outputs: dict) -> None:
    outputs["allowedRegions"] = ["eu-west-1"]


@pytest.mark.parametrize(
    ("breakage", "failing_check", "detail"),
    [
        (replicas_share_an_az, "rds replicas in distinct AZs", "replicas share eu-central-1b"),
        (primary_not_multi_az, "rds primary Multi-AZ", "MultiAZ=False"),
        (database_key_differs, "rds primary encrypted with dbKmsKeyArn", "StorageEncrypted=True"),
        (replica_not_replicating, "rds replica standalone replicating", "source none"),
        (replica_missing, "rds replica gone-replica", "not found"),
        (cluster_secrets_key_differs, "eks secrets encrypted with clusterSecretsKeyArn", "key"),
        (bucket_uses_s3_managed_keys, "s3 attachments encrypted with storageKmsKeyArn", "AES256"),
        (bucket_allows_public_policies, "s3 attachments public access", "BlockPublicPolicy"),
        (region_outside_allow_list, "region residency", "NOT in allowedRegions"),
    ],
)
def test_each_drift_fails_exactly_its_check(
    aws, cli, tmp_path, breakage: Callable[[dict], None], failing_check, detail
):
    outputs = deploy_stack("prod")
    breakage(outputs)

    failed = [c for c in run_checks(outputs) if not c.ok]
    assert [c.name for c in failed] == [
        c.name for c in failed if c.name.startswith(failing_check)
    ] and len(failed) == 1, failed
    assert detail in failed[0].detail

    result = cli("verify", "prod", "--outputs-file", write_outputs(tmp_path, outputs))
    assert result.exit_code == 1, result.output
    assert "FAIL" in result.output and "1 of" in result.output


def test_missing_stack_outputs_fail(aws, cli, tmp_path):
    outputs = deploy_stack("dev")
    del outputs["clusterSecretsKeyArn"], outputs["storageKmsKeyArn"]
    result = cli("verify", "dev", "--outputs-file", write_outputs(tmp_path, outputs))
    assert result.exit_code == 1
    assert "missing outputs: clusterSecretsKeyArn, storageKmsKeyArn" in result.output


def test_deleted_primary_fails_rather_than_crashes(aws, cli, tmp_path):
    outputs = deploy_stack("dev", replica_zones=())
    outputs["dbPrimaryIdentifier"] = "no-such-db"
    result = cli("verify", "dev", "--outputs-file", write_outputs(tmp_path, outputs))
    assert result.exit_code == 1
    assert "not found in eu-central-1" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "Cannot read outputs file"), ("{not json", "is not valid JSON"), ("[]", "object")],
)
def test_unusable_outputs_file_is_a_user_error(cli, tmp_path, content, message):
    path = tmp_path / "outputs.json"
    if content is not None:
        path.write_text(content)
    assert_clean_failure(cli("verify", "dev", "--outputs-file", str(path)), 2, message)


def test_reads_outputs_through_the_automation_api(aws, cli, fake_pulumi):
    fake_pulumi.add_stack("staging", deploy_stack("staging"))
    result = cli("verify", "staging", *pulumi_args(fake_pulumi))
    assert result.exit_code == 0, result.output
    assert "stack output staging" in fake_pulumi.verbs()


def test_unknown_stack_is_a_user_error(aws, cli, fake_pulumi):
    result = cli("verify", "qa", *pulumi_args(fake_pulumi))
    assert_clean_failure(result, 2, "Stack 'qa' not found")


def test_missing_pulumi_cli_is_a_user_error(cli, fake_pulumi, tmp_path):
    args = ["--work-dir", str(fake_pulumi.project), "--pulumi-root", str(tmp_path)]
    assert_clean_failure(cli("verify", "dev", *args), 2, "Pulumi CLI not found", "--outputs-file")


def test_missing_credentials(cli, tmp_path):
    outputs = {"region": REGION, "allowedRegions": [REGION], "dbPrimaryIdentifier": "db"}
    outputs |= dict.fromkeys(
        (
            "dbReplicaIdentifiers",
            "dbKmsKeyArn",
            "clusterName",
            "clusterSecretsKeyArn",
            "attachmentsBucketName",
            "storageKmsKeyArn",
        ),
        "x",
    )
    result = cli("verify", "dev", "--outputs-file", write_outputs(tmp_path, outputs))
    assert_clean_failure(result, 2, "No AWS credentials found")


def test_pulumi_backend_failure_is_a_clean_error(aws, cli, fake_pulumi):
    fake_pulumi.add_stack("dev", {})
    fake_pulumi.fail("stack output", stderr="failed to load checkpoint: blob (code=NotFound)")
    result = cli("verify", "dev", *pulumi_args(fake_pulumi))
    assert_clean_failure(result, 2, "Pulumi CLI failed", "failed to load checkpoint")
