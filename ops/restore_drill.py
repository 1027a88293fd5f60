"""Restore drill: prove the latest AWS Backup recovery point of the database restores.

Finds the newest completed recovery point of the RDS primary (AWS Backup), restores it into a
scratch instance in the primary's own region, subnet group and security groups (RDS), checks
what the restore produced, and deletes the scratch instance, whatever happened.

Connecting to the restored database (row counts of the CRM's core tables) needs a PostgreSQL
client inside the VPC; see ops/README.md for the command to run there while the drill waits.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ops.aws import client, error_code, require_allowed_region, same_kms_key
from ops.errors import OpsError, UserError
from ops.verify import Check

REQUIRED_OUTPUTS = ("region", "dbPrimaryIdentifier")
MAX_AGE = datetime.timedelta(hours=48)
"""A daily plan's newest recovery point is younger than this, or backups have stopped."""
DRILL_TAG = {"Key": "purpose", "Value": "restore-drill"}


@dataclass(frozen=True)
class Drill:
    """What to restore: the primary of a stack, in its region (one of the stack's allowed)."""

    primary: str
    region: str
    allowed_regions: list[str]

    @classmethod
    def from_outputs(cls, outputs: Mapping[str, Any], allowed_regions: list[str]) -> Drill:
        missing = [key for key in REQUIRED_OUTPUTS if outputs.get(key) in (None, "")]
        if missing:
            raise UserError(f"stack outputs lack {', '.join(missing)}; is the stack deployed?")
        drill = cls(
            primary=outputs["dbPrimaryIdentifier"],
            region=outputs["region"],
            allowed_regions=list(allowed_regions),
        )
        require_allowed_region(drill.region, drill.allowed_regions, "the database's region")
        return drill


def latest_recovery_point(backup, resource_arn: str) -> dict[str, Any]:
    """The newest COMPLETED recovery point AWS Backup holds for `resource_arn`."""
    pages = backup.get_paginator("list_recovery_points_by_resource").paginate(
        ResourceArn=resource_arn
    )
    points = [
        point
        for page in pages
        for point in page["RecoveryPoints"]
        if point.get("Status") == "COMPLETED"
    ]
    if not points:
        raise OpsError(
            f"AWS Backup holds no completed recovery point of {resource_arn}; has the backup "
            "plan run yet (daily at 05:00 UTC)?"
        )
    return max(points, key=lambda point: point["CreationDate"])


def scratch_identifier(primary: str, now: datetime.datetime) -> str:
    """`<primary>-drill-<UTC timestamp>`, within RDS's 63 characters."""
    suffix = f"-drill-{now:%Y%m%d%H%M}"
    return primary[: 63 - len(suffix)] + suffix


def _restore(rds, source: Mapping[str, Any], snapshot_arn: str, scratch: str) -> None:
    """Same subnet group and security groups as the primary; private, single-AZ, deletable."""
    placement = {}
    if source.get("DBSubnetGroup"):
        placement["DBSubnetGroupName"] = source["DBSubnetGroup"]["DBSubnetGroupName"]
    groups = [group["VpcSecurityGroupId"] for group in source.get("VpcSecurityGroups", [])]
    if groups:
        placement["VpcSecurityGroupIds"] = groups
    rds.restore_db_instance_from_db_snapshot(
        DBInstanceIdentifier=scratch,
        DBSnapshotIdentifier=snapshot_arn,
        DBInstanceClass=source["DBInstanceClass"],
        PubliclyAccessible=False,
        MultiAZ=False,
        DeletionProtection=False,
        Tags=[DRILL_TAG],
        **placement,
    )
    rds.get_waiter("db_instance_available").wait(
        DBInstanceIdentifier=scratch, WaiterConfig={"Delay": 30, "MaxAttempts": 120}
    )


def _checks(
    source: Mapping[str, Any],
    restored: Mapping[str, Any],
    point: Mapping[str, Any],
    drill: Drill,
    now: datetime.datetime,
) -> list[Check]:
    age = now - point["CreationDate"]
    hours = f"{age.total_seconds() / 3600:.1f} h old"
    key_ok = same_kms_key(restored.get("KmsKeyId"), source.get("KmsKeyId"), drill.region)
    engine = f"{restored.get('Engine')} {restored.get('EngineVersion')}"
    return [
        Check("recovery point is recent", age <= MAX_AGE, f"{point['RecoveryPointArn']}, {hours}"),
        Check("restore completed", restored.get("DBInstanceStatus") == "available",
              f"status {restored.get('DBInstanceStatus')}"),
        Check("encrypted with the primary's key", bool(restored.get("StorageEncrypted")) and key_ok,
              str(restored.get("KmsKeyId"))),
        Check("same engine as the primary",
              engine == f"{source.get('Engine')} {source.get('EngineVersion')}", engine),
        Check("not publicly accessible", not restored.get("PubliclyAccessible"),
              f"PubliclyAccessible={restored.get('PubliclyAccessible')}"),
        Check("restored inside the allow-list", drill.region in drill.allowed_regions,
              drill.region),
    ]  # fmt: skip


def _delete(rds, scratch: str, wait: bool) -> None:
    """Delete the scratch instance; one that was never created is not an error. Deletion
    protection the restore carried over is switched off first (it is a scratch copy)."""
    try:
        (instance,) = rds.describe_db_instances(DBInstanceIdentifier=scratch)["DBInstances"]
        if instance.get("DeletionProtection"):
            rds.modify_db_instance(
                DBInstanceIdentifier=scratch, DeletionProtection=False, ApplyImmediately=True
            )
        rds.delete_db_instance(
            DBInstanceIdentifier=scratch, SkipFinalSnapshot=True, DeleteAutomatedBackups=True
        )
    except ClientError as exc:
        if error_code(exc) == "DBInstanceNotFound":
            return
        raise
    if wait:
        rds.get_waiter("db_instance_deleted").wait(
            DBInstanceIdentifier=scratch, WaiterConfig={"Delay": 30, "MaxAttempts": 60}
        )


def run_drill(
    drill: Drill,
    *,
    progress: Callable[[str], None],
    now: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC),
    wait_for_deletion: bool = True,
) -> tuple[str, list[Check]]:
    """Restore, check, delete. Returns the scratch instance's name and the checks."""
    rds, backup = client("rds", drill.region), client("backup", drill.region)
    source = rds.describe_db_instances(DBInstanceIdentifier=drill.primary)["DBInstances"][0]
    progress(f"finding the latest recovery point of {drill.primary}")
    point = latest_recovery_point(backup, source["DBInstanceArn"])
    scratch = scratch_identifier(drill.primary, now())
    progress(f"restoring {point['RecoveryPointArn']} into {scratch}")
    try:
        _restore(rds, source, point["RecoveryPointArn"], scratch)
        restored = rds.describe_db_instances(DBInstanceIdentifier=scratch)["DBInstances"][0]
        return scratch, _checks(source, restored, point, drill, now())
    finally:
        progress(f"deleting {scratch}")
        _delete(rds, scratch, wait_for_deletion)
