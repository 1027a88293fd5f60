"""Planned disaster recovery: promote a named RDS read replica to a standalone primary."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from botocore.exceptions import ClientError

from ops.aws import client, error_code, require_allowed_region
from ops.errors import UserError


@dataclass
class FailoverPlan:
    replica: str
    region: str
    source: str
    availability_zone: str
    status: str
    engine: str
    lag: str
    changes: list[str] = field(default_factory=list)


def replica_lag(region: str, replica: str) -> str:
    """Latest CloudWatch ReplicaLag, or why it is unknown."""
    now = datetime.now(UTC)
    try:
        points = client("cloudwatch", region).get_metric_statistics(
            Namespace="AWS/RDS",
            MetricName="ReplicaLag",
            Dimensions=[{"Name": "DBInstanceIdentifier", "Value": replica}],
            StartTime=now - timedelta(minutes=10),
            EndTime=now,
            Period=60,
            Statistics=["Maximum"],
        )["Datapoints"]
    except ClientError as exc:  # lag is informative only; the plan must not depend on it
        return f"unknown (CloudWatch: {error_code(exc)})"
    if not points:
        return "unknown (no ReplicaLag datapoints in the last 10 minutes)"
    latest = max(points, key=lambda p: p["Timestamp"])
    return f"{latest['Maximum']:.0f}s at {latest['Timestamp']:%H:%M %Z}"


def plan_failover(replica: str, region: str, allowed: Iterable[str]) -> FailoverPlan:
    require_allowed_region(region, allowed)
    try:
        db = client("rds", region).describe_db_instances(DBInstanceIdentifier=replica)[
            "DBInstances"
        ][0]
    except ClientError as exc:
        if error_code(exc) == "DBInstanceNotFound":
            raise UserError(f"No DB instance {replica!r} in {region}.") from exc
        raise
    source = db.get("ReadReplicaSourceDBInstanceIdentifier")
    if not source:
        raise UserError(
            f"{replica!r} is not a read replica (a primary, or already promoted); refusing."
        )
    plan = FailoverPlan(
        replica=replica,
        region=region,
        source=source,
        availability_zone=db.get("AvailabilityZone", "?"),
        status=db["DBInstanceStatus"],
        engine=f"{db.get('Engine', '?')} {db.get('EngineVersion', '')}".strip(),
        lag=replica_lag(region, replica),
    )
    plan.changes = [
        f"replication from {source} stops; {replica} becomes a standalone, writable primary",
        "writes not yet replicated (see lag) are not on the promoted instance",
        f"{source} is not modified or stopped; point the application at {replica}",
        "the instance reboots during promotion (brief outage on the replica endpoint)",
        "Pulumi still models it as a replica: update the stack config and run "
        "`pulumi refresh` before the next `pulumi up`",
    ]
    return plan


def promote(plan: FailoverPlan, backup_retention_days: int, wait: bool) -> str:
    """Promote the replica; returns the final DB instance status."""
    if plan.status != "available":
        raise UserError(f"{plan.replica} is {plan.status!r}, not 'available'; refusing to promote.")
    rds = client("rds", plan.region)
    db = rds.promote_read_replica(
        DBInstanceIdentifier=plan.replica, BackupRetentionPeriod=backup_retention_days
    )["DBInstance"]
    if not wait:
        return db["DBInstanceStatus"]
    rds.get_waiter("db_instance_available").wait(
        DBInstanceIdentifier=plan.replica, WaiterConfig={"Delay": 30, "MaxAttempts": 80}
    )
    return "available"
