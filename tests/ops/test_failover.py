"""`failover`: a dry run explains and changes nothing; a confirmed run promotes the replica;
non-replicas, unknown names and replicas outside the allow-list are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest

from tests.ops.helpers import REGION, assert_clean_failure, deploy_stack, flat

REPLICA = "crm-prod-db-replica-1"


def backup_retention(identifier: str, region: str = REGION) -> int:
    """The promotion sets backup retention, so it tells a promoted replica from an untouched one."""
    db = boto3.client("rds", region_name=region).describe_db_instances(
        DBInstanceIdentifier=identifier
    )["DBInstances"][0]
    return db["BackupRetentionPeriod"]


@pytest.fixture
def prod_db(aws) -> dict:
    return deploy_stack("prod")


def test_dry_run_shows_the_plan_and_changes_nothing(prod_db, cli):
    result = cli("failover", "--replica", REPLICA, "--dry-run")

    assert result.exit_code == 0, result.output
    text = flat(result.output)
    assert "replicating from crm-prod-db" in text
    assert f"{REGION} / {REGION}b" in text
    assert "unknown (no ReplicaLag datapoints" in text
    assert "becomes a standalone, writable primary" in text
    assert "dry run: nothing changed" in text
    assert backup_retention(REPLICA) == 1


def test_confirmed_failover_promotes_the_replica(prod_db, cli):
    result = cli("failover", "--replica", REPLICA, "--yes", "--backup-retention-days", "14")
    assert result.exit_code == 0, result.output
    assert f"{REPLICA} promoted (status available)" in result.output
    assert backup_retention(REPLICA) == 14
    assert backup_retention("crm-prod-db-replica-2") == 1


def test_declining_the_prompt_changes_nothing(prod_db, cli):
    result = cli("failover", "--replica", REPLICA, input="n\n")
    assert_clean_failure(result, 2, "not confirmed; nothing changed")
    assert backup_retention(REPLICA) == 1


def test_primary_is_not_a_replica(prod_db, cli):
    result = cli("failover", "--replica", "crm-prod-db", "--yes")
    assert_clean_failure(result, 2, "'crm-prod-db' is not a read replica")


def test_unknown_identifier(prod_db, cli):
    result = cli("failover", "--replica", "crm-prod-db-replica-9", "--dry-run")
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
    result = cli("failover", "--replica", "us-replica", "--region", "us-east-1", "--yes")
    assert_clean_failure(result, 2, "'us-east-1' is outside the residency allow-list")
    assert backup_retention("us-replica", "us-east-1") == 1


def test_replica_option_is_required(cli):
    result = cli("failover", "--dry-run")
    assert result.exit_code == 2
    assert "--replica" in result.output


def test_missing_credentials(cli):
    assert_clean_failure(
        cli("failover", "--replica", REPLICA, "--dry-run"), 2, "No AWS credentials"
    )


def test_dry_run_reports_known_replica_lag(prod_db, cli):
    boto3.client("cloudwatch", region_name=REGION).put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": "ReplicaLag",
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": REPLICA}],
                "Value": 42.0,
                "Unit": "Seconds",
                "Timestamp": datetime.now(UTC) - timedelta(minutes=1),
            }
        ],
    )
    result = cli("failover", "--replica", REPLICA, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "replica lag 42s at" in flat(result.output)
