"""`verify STACK`: each stack's deployment, created in moto from its synthesized plan, passes
the checks its own settings ask for (dev without Multi-AZ or replicas, prod with both); each
kind of drift fails exactly its check; outputs come from a file or the Automation API; user
errors end cleanly."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest

from ops.stack_settings import stack_settings
from ops.verify import run_checks
from ops.verify_database import parameters_in_effect, server_certificate
from stacks.stackfile import stack_names
from tests.conftest import shipped
from tests.ops.helpers import REGION, assert_clean_failure, deploy_plan, kms_key, pulumi_args


def write_outputs(tmp_path: Path, outputs: dict) -> str:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return str(path)


def deploy_stack(stack: str) -> dict:
    return deploy_plan(shipped(stack))


@pytest.mark.parametrize("stack", stack_names())
def test_each_stack_as_deployed_from_its_plan_passes_every_check(aws, cli, tmp_path, stack):
    outputs = deploy_stack(stack)
    result = cli("verify", stack, "--outputs-file", write_outputs(tmp_path, outputs))
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output
    checks = run_checks(outputs, stack_settings(stack))
    assert f"all {len(checks)} checks passed" in result.output
    wanted = stack_settings(stack).database
    replica_checks = [c for c in checks if c.name.startswith("rds replica ")]
    assert len(replica_checks) == wanted.read_replicas
    multi_az = next(c for c in checks if c.name.startswith("rds primary Multi-AZ"))
    assert multi_az.detail.startswith(str(wanted.multi_az))


def test_dev_judged_by_prod_settings_fails_on_availability(aws):
    failed = {c.name for c in run_checks(deploy_stack("dev"), stack_settings("prod")) if not c.ok}
    assert {
        "rds primary Multi-AZ as configured",
        "rds read replicas as configured",
        "rds primary class as configured",
    } <= failed


def replicas_share_an_az(outputs: dict) -> None:
    replicas = outputs["dbReplicaIdentifiers"]
    first = boto3.client("rds", region_name=REGION).describe_db_instances(
        DBInstanceIdentifier=replicas[0]
    )["DBInstances"][0]
    boto3.client("rds", region_name=REGION).create_db_instance_read_replica(
        DBInstanceIdentifier="crm-prod-db-replica-3",
        SourceDBInstanceIdentifier=outputs["dbPrimaryIdentifier"],
        AvailabilityZone=first["AvailabilityZone"],
    )
    replicas[-1] = "crm-prod-db-replica-3"


def primary_not_multi_az(outputs: dict) -> None:
    boto3.client("rds", region_name=REGION).modify_db_instance(
        DBInstanceIdentifier=outputs["dbPrimaryIdentifier"], MultiAZ=False, ApplyImmediately=True
    )


def replica_dropped(outputs: dict) -> None:
    outputs["dbReplicaIdentifiers"].pop()


def backup_retention_shortened(outputs: dict) -> None:
    boto3.client("rds", region_name=REGION).modify_db_instance(
        DBInstanceIdentifier=outputs["dbPrimaryIdentifier"],
        BackupRetentionPeriod=3,
        ApplyImmediately=True,
    )


def database_key_differs(outputs: dict) -> None:
    outputs["dbKmsKeyArn"] = kms_key()


def replica_not_replicating(outputs: dict) -> None:
    boto3.client("rds", region_name=REGION).create_db_instance(
        DBInstanceIdentifier="standalone",
        DBInstanceClass="db.r7g.large",
        Engine="postgres",
        MasterUsername="crm",
        MasterUserPassword="not-a-real-password",
        AllocatedStorage=100,
        AvailabilityZone=f"{REGION}c",
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


@pytest.mark.parametrize(
    ("breakage", "failing_check", "detail"),
    [
        # the replica it stands in for still replicates, undeclared now
        (
            replicas_share_an_az,
            ("rds replicas in distinct AZs", "rds undeclared readers"),
            "replicas share eu-central-1",
        ),
        (primary_not_multi_az, "rds primary Multi-AZ as configured", "(stack setting multiAz"),
        (
            replica_dropped,
            ("rds read replicas as configured", "rds undeclared readers"),
            "1 (stack setting readReplicas: 2)",
        ),
        (backup_retention_shortened, "rds primary backup retention", "3 (stack setting"),
        (
            database_key_differs,
            ("rds primary encrypted with dbKmsKeyArn", "secret prod-db-"),
            "StorageEncrypted=True",
        ),
        # the stack's own replica, no longer declared, is also a reader beyond the stack's
        (
            replica_not_replicating,
            ("rds replica standalone replicating", "rds undeclared readers"),
            "source none",
        ),
        (replica_missing, ("rds replica gone-replica", "rds undeclared readers"), "not found"),
        (cluster_secrets_key_differs, "eks secrets encrypted with clusterSecretsKeyArn", "key"),
        (bucket_uses_s3_managed_keys, "s3 attachments encrypted with storageKmsKeyArn", "AES256"),
        (bucket_allows_public_policies, "s3 attachments public access", "BlockPublicPolicy"),
    ],
)
def test_each_drift_fails_exactly_its_check(
    aws, cli, tmp_path, breakage: Callable[[dict], None], failing_check, detail
):
    outputs = deploy_stack("prod")
    breakage(outputs)

    failed = [c for c in run_checks(outputs, stack_settings("prod")) if not c.ok]
    prefixes = failing_check if isinstance(failing_check, tuple) else (failing_check,)
    assert [c.name for c in failed] == [c.name for c in failed if c.name.startswith(prefixes)] and {
        p for p in prefixes for c in failed if c.name.startswith(p)
    } == set(prefixes), failed
    assert detail in failed[0].detail

    result = cli("verify", "prod", "--outputs-file", write_outputs(tmp_path, outputs))
    assert result.exit_code == 1, result.output
    assert "FAIL" in result.output and f"{len(failed)} of" in result.output


def undeclared_replica(outputs: dict) -> None:
    boto3.client("rds", region_name=REGION).create_db_instance_read_replica(
        DBInstanceIdentifier="leftover", SourceDBInstanceIdentifier=outputs["dbPrimaryIdentifier"]
    )


def crm_login_changed_outside_the_stack(outputs: dict) -> None:
    boto3.client("secretsmanager", region_name=REGION).put_secret_value(
        SecretId=outputs["dbCrmSecretArn"], SecretString='{"username": "someone-else"}'
    )


def master_secret_on_the_aws_managed_key(outputs: dict) -> None:
    secrets = boto3.client("secretsmanager", region_name=REGION)
    outputs["dbMasterSecretArn"] = secrets.create_secret(Name="plain", SecretString="{}")["ARN"]


@pytest.mark.parametrize(
    ("breakage", "failing_check", "detail"),
    [
        (undeclared_replica, "rds undeclared readers", "undeclared: leftover"),
        (crm_login_changed_outside_the_stack, "secret prod-db-crm", "current version"),
        (master_secret_on_the_aws_managed_key, "secret plain", "key aws/secretsmanager"),
    ],
)
def test_database_access_drift_fails_its_check(aws, breakage, failing_check, detail):
    outputs = deploy_stack("prod")
    breakage(outputs)
    (failed,) = [c for c in run_checks(outputs, stack_settings("prod")) if not c.ok]
    assert failed.name.startswith(failing_check) and detail in failed.detail, failed


def test_dev_made_multi_az_is_drift_too(aws):
    outputs = deploy_stack("dev")
    boto3.client("rds", region_name=REGION).modify_db_instance(
        DBInstanceIdentifier=outputs["dbPrimaryIdentifier"], MultiAZ=True, ApplyImmediately=True
    )
    failed = [c for c in run_checks(outputs, stack_settings("dev")) if not c.ok]
    assert [(c.name, c.detail) for c in failed] == [
        ("rds primary Multi-AZ as configured", "True (stack setting multiAz: False)")
    ]


def test_outputs_of_another_region_fail_residency(aws):
    outputs = deploy_stack("dev") | {"region": "eu-west-2"}
    failed = {c.name for c in run_checks(outputs, stack_settings("dev")) if not c.ok}
    assert "region residency" in failed


def test_missing_stack_outputs_fail(aws, cli, tmp_path):
    outputs = deploy_stack("dev")
    del outputs["clusterSecretsKeyArn"], outputs["storageKmsKeyArn"]
    result = cli("verify", "dev", "--outputs-file", write_outputs(tmp_path, outputs))
    assert result.exit_code == 1
    assert "missing outputs: clusterSecretsKeyArn, storageKmsKeyArn" in result.output


def test_deleted_primary_fails_rather_than_crashes(aws, cli, tmp_path):
    outputs = deploy_stack("dev")
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
    assert_clean_failure(result, 2, "no file Pulumi.qa.yaml")


def test_stack_missing_from_the_backend_is_a_user_error(aws, cli, fake_pulumi):
    result = cli("verify", "dev", *pulumi_args(fake_pulumi))
    assert_clean_failure(result, 2, "Stack 'dev' not found")


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


def test_parameters_pending_a_reboot_fail_with_the_remedy():
    """moto applies parameter groups at once; RDS leaves a group attached after creation
    pending a reboot (the DR replica's case), which the check must catch."""
    pending = {
        "DBParameterGroups": [
            {"DBParameterGroupName": "crm-dr", "ParameterApplyStatus": "pending-reboot"}
        ]
    }
    check = parameters_in_effect("crm-prod-dr", pending)
    assert not check.ok
    assert "crm-dr=pending-reboot" in check.detail
    assert "aws rds reboot-db-instance --db-instance-identifier crm-prod-dr" in check.detail
    assert not parameters_in_effect("x", {"DBParameterGroups": []}).ok
    in_sync = {
        "DBParameterGroups": [{"DBParameterGroupName": "g", "ParameterApplyStatus": "in-sync"}]
    }
    assert parameters_in_effect("x", in_sync).ok


def test_server_certificate_must_outlive_the_margin():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    soon = {
        "CertificateDetails": {
            "CAIdentifier": "rds-ca-rsa2048-g1",
            "ValidTill": now + timedelta(days=10),
        }
    }
    later = {
        "CertificateDetails": {
            "CAIdentifier": "rds-ca-rsa2048-g1",
            "ValidTill": now + timedelta(days=300),
        }
    }
    assert not server_certificate(soon, now).ok
    assert server_certificate(later, now).ok


def test_dr_replica_parameters_are_checked_in_its_region(aws):
    outputs = deploy_stack("prod")
    rds = boto3.client("rds", region_name="eu-west-1")
    (primary,) = boto3.client("rds", region_name=REGION).describe_db_instances(
        DBInstanceIdentifier=outputs["dbPrimaryIdentifier"]
    )["DBInstances"]
    rds.create_db_parameter_group(  # moto copies the source's group name into the DR region
        DBParameterGroupName=primary["DBParameterGroups"][0]["DBParameterGroupName"],
        DBParameterGroupFamily="postgres16",
        Description="dr",
    )
    primary_arn = primary["DBInstanceArn"]
    dr = rds.create_db_instance_read_replica(
        DBInstanceIdentifier="crm-prod-dr", SourceDBInstanceIdentifier=primary_arn
    )["DBInstance"]
    outputs |= {"dbDrRegion": "eu-west-1", "dbDrReplicaArn": dr["DBInstanceArn"]}
    names = {c.name: c for c in run_checks(outputs, stack_settings("prod"))}
    assert names["rds crm-prod-dr parameters in effect"].ok
    outputs["dbDrReplicaArn"] = dr["DBInstanceArn"].replace("crm-prod-dr", "gone")
    names = {c.name: c for c in run_checks(outputs, stack_settings("prod"))}
    assert not names["rds DR replica gone"].ok
