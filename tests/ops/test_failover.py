"""`failover`: a dry run explains and changes nothing; a confirmed run promotes the replica;
non-replicas, unknown names and replicas outside the allow-list are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest

from ops.stack_settings import stack_settings
from tests.conftest import shipped
from tests.ops.helpers import REGION, assert_clean_failure, deploy_plan, flat


def describe(identifier: str, region: str = REGION) -> dict:
    return boto3.client("rds", region_name=region).describe_db_instances(
        DBInstanceIdentifier=identifier
    )["DBInstances"][0]


def backup_retention(identifier: str, region: str = REGION) -> int:
    return describe(identifier, region)["BackupRetentionPeriod"]


def is_replica(identifier: str, region: str = REGION) -> bool:
    return bool(describe(identifier, region).get("ReadReplicaSourceDBInstanceIdentifier"))


@pytest.fixture
def prod_db(aws) -> dict:
    """prod as deployed from its plan; its replicas without automated backups, as RDS creates
    PostgreSQL read replicas (moto copies the primary's retention instead)."""
    outputs = deploy_plan(shipped("prod"))
    for identifier in outputs["dbReplicaIdentifiers"]:
        boto3.client("rds", region_name=REGION).modify_db_instance(
            DBInstanceIdentifier=identifier, BackupRetentionPeriod=0, ApplyImmediately=True
        )
    return outputs


@pytest.fixture
def replica(prod_db) -> str:
    return prod_db["dbReplicaIdentifiers"][0]


def test_dry_run_shows_the_plan_and_changes_nothing(prod_db, replica, cli):
    result = cli("failover", "prod", "--replica", replica, "--dry-run")

    assert result.exit_code == 0, result.output
    text = flat(result.output)
    assert f"replicating from {prod_db['dbPrimaryIdentifier']}" in text
    assert f"{REGION} / {describe(replica)['AvailabilityZone']}" in text
    assert "unknown (no ReplicaLag datapoints" in text
    assert "becomes a standalone, writable primary" in text
    assert "dry run: nothing changed" in text
    assert is_replica(replica)


def test_confirmed_failover_promotes_with_the_stacks_backup_retention(prod_db, replica, cli):
    result = cli("failover", "prod", "--replica", replica, "--yes", "--no-wait")
    assert result.exit_code == 0, result.output
    assert f"{replica} promoted" in result.output
    wanted = stack_settings("prod").database.backup_retention_days
    assert backup_retention(replica) == wanted
    assert backup_retention(prod_db["dbReplicaIdentifiers"][1]) == 0


def test_declining_the_prompt_changes_nothing(replica, cli):
    result = cli("failover", "prod", "--replica", replica, input="n\n")
    assert_clean_failure(result, 2, "not confirmed; nothing changed")
    assert is_replica(replica)


def test_primary_is_not_a_replica(prod_db, cli):
    primary = prod_db["dbPrimaryIdentifier"]
    result = cli("failover", "prod", "--replica", primary, "--yes")
    assert_clean_failure(result, 2, f"'{primary}' is not a read replica")


def test_unknown_identifier(prod_db, cli):
    result = cli("failover", "prod", "--replica", "crm-prod-db-replica-9", "--dry-run")
    assert_clean_failure(result, 2, "No DB instance 'crm-prod-db-replica-9' in eu-central-1")


def test_replica_outside_allow_list_is_refused_untouched(aws, cli):
    rds = boto3.client("rds", region_name="us-east-1")
    rds.create_db_instance(
        DBInstanceIdentifier="us-primary",
        DBInstanceClass="db.t4g.micro",
        Engine="postgres",
        MasterUsername="crm",
        MasterUserPassword="not-a-real-password",
        AllocatedStorage=20,
        BackupRetentionPeriod=1,
    )
    rds.create_db_instance_read_replica(
        DBInstanceIdentifier="us-replica", SourceDBInstanceIdentifier="us-primary"
    )
    result = cli("failover", "prod", "--replica", "us-replica", "--region", "us-east-1", "--yes")
    assert_clean_failure(result, 2, "'us-east-1' is outside the residency allow-list")
    assert backup_retention("us-replica", "us-east-1") == 1


def test_replica_option_is_required(cli):
    result = cli("failover", "prod", "--dry-run")
    assert result.exit_code == 2
    assert "--replica" in result.output


def test_missing_credentials(cli):
    assert_clean_failure(
        cli("failover", "prod", "--replica", "any", "--dry-run"), 2, "No AWS credentials"
    )


def test_dry_run_reports_known_replica_lag(replica, cli):
    boto3.client("cloudwatch", region_name=REGION).put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": "ReplicaLag",
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": replica}],
                "Value": 42.0,
                "Unit": "Seconds",
                "Timestamp": datetime.now(UTC) - timedelta(minutes=1),
            }
        ],
    )
    result = cli("failover", "prod", "--replica", replica, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "replica lag 42s at" in flat(result.output)
