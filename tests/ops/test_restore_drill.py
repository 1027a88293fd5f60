"""`restore-drill`: the latest recovery point is restored next to the primary, checked and
deleted, against moto's RDS. AWS Backup's recovery-point listing is not in moto: it is answered
by botocore's Stubber with what AWS Backup returns for an RDS recovery point (its snapshot)."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from ops import restore_drill
from ops.errors import OpsError
from ops.restore_drill import latest_recovery_point, scratch_identifier
from tests.conftest import shipped
from tests.ops.helpers import REGION, assert_clean_failure, deploy_plan, flat

NOW = datetime.datetime(2026, 12, 2, 6, 0, tzinfo=datetime.UTC)


def _snapshot(primary: str) -> str:
    """What an AWS Backup job leaves for an RDS instance: a snapshot of it."""
    return boto3.client("rds", REGION).create_db_snapshot(
        DBSnapshotIdentifier="awsbackup-job-1", DBInstanceIdentifier=primary
    )["DBSnapshot"]["DBSnapshotArn"]


def _point(arn: str, age_hours: float) -> dict:
    created = NOW - datetime.timedelta(hours=age_hours)
    return {"RecoveryPointArn": arn, "CreationDate": created, "Status": "COMPLETED"}


@pytest.fixture
def deployed(aws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A deployed stack's outputs file, and a way to say which recovery points AWS Backup has."""
    outputs = deploy_plan(shipped("prod"))
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    monkeypatch.setattr(restore_drill.datetime, "datetime", _FrozenClock)

    def recovery_points(*points: dict) -> None:
        monkeypatch.setattr(
            restore_drill,
            "latest_recovery_point",
            lambda backup, arn: latest_recovery_point(_stubbed(arn, list(points)), arn),
        )

    return outputs, path, recovery_points


class _FrozenClock(datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return NOW


def _stubbed(resource_arn: str, points: list[dict]):
    backup = boto3.client("backup", REGION)
    stubber = Stubber(backup)
    stubber.add_response(
        "list_recovery_points_by_resource",
        {"RecoveryPoints": points},
        {"ResourceArn": resource_arn},
    )
    stubber.activate()
    return backup


def test_the_latest_recovery_point_is_restored_checked_and_deleted(deployed, cli):
    outputs, path, recovery_points = deployed
    primary = outputs["dbPrimaryIdentifier"]
    newest = _snapshot(primary)
    recovery_points(_point("arn:aws:rds:eu-central-1:1:snapshot:older", 30), _point(newest, 5))

    result = cli("restore-drill", "prod", "--outputs-file", str(path))

    assert result.exit_code == 0, result.output
    text = flat(result.output)
    assert f"{newest}, 5.0 h old" in text
    scratch = scratch_identifier(primary, NOW)
    assert f"scratch instance {scratch} deleted" in text
    assert "all 6 checks passed" in text
    remaining = boto3.client("rds", REGION).describe_db_instances()["DBInstances"]
    assert scratch not in {db["DBInstanceIdentifier"] for db in remaining}


def test_a_stale_recovery_point_fails_the_drill(deployed, cli):
    outputs, path, recovery_points = deployed
    recovery_points(_point(_snapshot(outputs["dbPrimaryIdentifier"]), 72))
    result = cli("restore-drill", "prod", "--outputs-file", str(path))
    assert_clean_failure(result, 1, "recovery point is recent FAIL", "1 of 6 checks failed")


def test_no_recovery_point_is_a_failed_step(deployed, cli):
    _, path, recovery_points = deployed
    failed = {**_point("arn:aws:rds:eu-central-1:1:snapshot:x", 1), "Status": "PARTIAL"}
    recovery_points(failed)
    result = cli("restore-drill", "prod", "--outputs-file", str(path))
    assert_clean_failure(result, 1, "holds no completed recovery point")


def test_a_database_outside_the_allow_list_is_refused(deployed, cli, tmp_path):
    outputs, _, _ = deployed
    path = tmp_path / "abroad.json"
    path.write_text(json.dumps({**outputs, "region": "us-east-1"}))
    result = cli("restore-drill", "prod", "--outputs-file", str(path))
    assert_clean_failure(result, 2, "'us-east-1' is outside the residency allow-list")


def test_missing_outputs_are_a_usage_error(cli, tmp_path):
    path = tmp_path / "empty.json"
    path.write_text("{}")
    result = cli("restore-drill", "prod", "--outputs-file", str(path))
    assert_clean_failure(result, 2, "stack outputs lack region, dbPrimaryIdentifier")


def test_latest_completed_point_wins(aws):
    arn = "arn:aws:rds:eu-central-1:123456789012:db:crm"
    points = [
        _point("old", 40),
        {**_point("newer-but-running", 1), "Status": "CREATED"},
        _point("new", 20),
    ]
    assert latest_recovery_point(_stubbed(arn, points), arn)["RecoveryPointArn"] == "new"
    with pytest.raises(OpsError):
        latest_recovery_point(_stubbed(arn, []), arn)


def test_scratch_names_fit_rds_limits():
    name = scratch_identifier("x" * 70, NOW)
    assert len(name) == 63 and name.endswith("-drill-202612020600")
