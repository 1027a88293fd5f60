"""Operating the stack: backups, the alarms that page, and the web application firewall."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from .base import Section, int_range
from .errors import FieldError
from .residency import Region

_EMAIL = re.compile(r"^[^@\s]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,63}$")


def _check_email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("must be an email address such as oncall@example.com")
    return value


Email = Annotated[str, AfterValidator(_check_email)]


class BackupSettings(Section):
    """`crm-platform:backup`: AWS Backup of the database primary and the attachments bucket."""

    daily_retention_days: Annotated[int, int_range(1, 35)] = 35
    """Days a daily recovery point (and its cross-region copy) is kept."""
    monthly_retention_days: Annotated[int, int_range(0, 3650)] = 365
    """Days a monthly recovery point is kept; 0 turns the monthly rule off."""
    vault_lock: Literal["compliance", "governance"] = "compliance"
    """Vault Lock mode. Compliance: after a 3-day grace period nobody (root included) can delete
    recovery points early or remove the lock. Governance: privileged users still can, so a
    disposable stack can be destroyed."""
    cross_region_copy: bool = True
    """Copy every daily recovery point to a vault in another allowed region."""
    copy_region: Region | None = None
    """Region of the copy; default: the first allowed region other than aws:region."""
    restore_testing: bool = True
    """Restore the latest database recovery point on a schedule (AWS Backup restore testing)."""

    @model_validator(mode="after")
    def _monthly_outlives_daily(self) -> BackupSettings:
        monthly, daily = self.monthly_retention_days, self.daily_retention_days
        if monthly and monthly < daily:
            raise FieldError(
                "monthlyRetentionDays",
                monthly,
                f"must be 0 (off) or at least dailyRetentionDays ({daily})",
            )
        return self

    def copy_destination(self, region: str, allowed: list[str]) -> str | None:
        """Where copies go (validated by `check_copy_region`), or None without copies."""
        if not self.cross_region_copy:
            return None
        return self.copy_region or next(other for other in allowed if other != region)


def check_copy_region(backup: BackupSettings, region: str, allowed: list[str]) -> None:
    """Copies stay inside the allow-list (so inside the jurisdiction) and leave aws:region."""
    if not backup.cross_region_copy:
        return
    others = [other for other in allowed if other != region]
    if backup.copy_region is None and not others:
        raise FieldError(
            "backup.crossRegionCopy",
            True,
            f"needs a second region in residency.allowedRegions ({', '.join(allowed)}) to copy "
            "backups to inside the jurisdiction; add one, or set backup.crossRegionCopy: false",
        )
    if backup.copy_region is not None and backup.copy_region not in others:
        raise FieldError(
            "backup.copyRegion",
            backup.copy_region,
            f"must be a region of residency.allowedRegions other than {region}: "
            f"{', '.join(others) or 'none is allowed'}",
        )


class AlarmThresholds(Section):
    """`alarms.thresholds`: when an alarm pages. Defaults are prod's; profiles relax them."""

    database_cpu_percent: Annotated[int, int_range(1, 100)] = 80
    """RDS CPUUtilization (average over 15 minutes) of the primary and of each replica."""
    database_free_storage_gib: Annotated[int, int_range(1, 1000)] = 10
    """RDS FreeStorageSpace below this: storage autoscaling has not kept up or hit its ceiling."""
    database_freeable_memory_mib: Annotated[int, int_range(64, 65536)] = 1024
    """RDS FreeableMemory below this (the instance is swapping or about to)."""
    replica_lag_seconds: Annotated[int, int_range(1, 86400)] = 60
    """RDS ReplicaLag of each read replica (readers serve stale data)."""
    cache_memory_percent: Annotated[int, int_range(1, 100)] = 80
    """Valkey DatabaseMemoryUsagePercentage: with noeviction, writes fail at 100%."""
    cache_connections: Annotated[int, int_range(1, 65000)] = 1000
    """Valkey CurrConnections per node (a connection leak long before maxclients)."""
    load_balancer_errors: Annotated[int, int_range(1, 1_000_000)] = 10
    """ALB HTTPCode_ELB_5XX_Count per 5 minutes (no healthy target, or the ALB itself)."""
    target_errors: Annotated[int, int_range(1, 1_000_000)] = 25
    """ALB HTTPCode_Target_5XX_Count per 5 minutes (the CRM answering errors)."""
    latency_p99_ms: Annotated[int, int_range(50, 120_000)] = 2000
    """ALB TargetResponseTime p99 over 5 minutes, in milliseconds."""
    node_cpu_percent: Annotated[int, int_range(1, 100)] = 80
    """Container Insights node_cpu_utilization (cluster average) over 15 minutes."""
    node_memory_percent: Annotated[int, int_range(1, 100)] = 85
    """Container Insights node_memory_utilization (cluster average) over 15 minutes."""


class AlarmSettings(Section):
    """`crm-platform:alarms`: the CMK-encrypted SNS topic every alarm publishes to."""

    emails: list[Email] = Field(default_factory=list)
    """Addresses subscribed to the alarm topic (each confirms once by email); paging tools
    subscribe through their email integration."""
    thresholds: AlarmThresholds = Field(default_factory=AlarmThresholds)

    @model_validator(mode="after")
    def _no_duplicates(self) -> AlarmSettings:
        if len(set(self.emails)) != len(self.emails):
            raise FieldError("emails", self.emails, "must not list an address twice")
        return self


class WafSettings(Section):
    """`crm-platform:waf`: the stack's own regional web ACL on the load balancer."""

    enabled: bool = True
    """Create a web ACL (AWS managed common, known-bad-inputs and IP-reputation rule groups
    plus a per-IP rate limit) and associate it with the load balancer."""
    count_only: bool = False
    """Count what the rules match without blocking (to tune a new ACL on real traffic)."""
    rate_per_ip_per_5_minutes: Annotated[int, int_range(10, 2_000_000_000)] = 2000
    """Requests one client IP may send in 5 minutes before it is blocked (or counted)."""
