"""Database settings: RDS for PostgreSQL 16 sizing, replicas, backups, windows and DR replica.

Also the connection budget: the `max_connections` RDS derives from the instance class, which the
application's pool sizing is checked against.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from .base import Section, int_range
from .errors import FieldError
from .residency import Region

# Nominal memory (GiB) of every RDS for PostgreSQL instance class this stack accepts; a class
# outside this table does not exist for PostgreSQL (or is a family we do not run the CRM on).
_BURSTABLE = {"micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32}
_GENERAL = {
    "large": 8, "xlarge": 16, "2xlarge": 32, "4xlarge": 64, "8xlarge": 128, "12xlarge": 192,
    "16xlarge": 256,
}  # fmt: skip
_MEMORY = {size: gib * 2 for size, gib in _GENERAL.items()}
_FAMILIES: dict[str, dict[str, int]] = {
    "db.t3": _BURSTABLE,
    "db.t4g": _BURSTABLE,
    "db.m6g": _GENERAL,
    "db.m7g": _GENERAL,
    "db.m6i": _GENERAL | {"24xlarge": 384, "32xlarge": 512},
    "db.m7i": _GENERAL | {"24xlarge": 384, "48xlarge": 768},
    "db.r6g": _MEMORY,
    "db.r7g": _MEMORY,
    "db.r6i": _MEMORY | {"24xlarge": 768, "32xlarge": 1024},
    "db.r7i": _MEMORY | {"24xlarge": 768, "48xlarge": 1536},
}
POSTGRES_INSTANCE_MEMORY_GIB: dict[str, int] = {
    f"{family}.{size}": gib for family, sizes in _FAMILIES.items() for size, gib in sizes.items()
}

# RDS's default: max_connections = LEAST({DBInstanceClassMemory/9531392}, 5000).
_BYTES_PER_CONNECTION = 9531392
_CONNECTION_CEILING = 5000
_MIB = 1024**2
# DBInstanceClassMemory is the class memory minus what the OS and the RDS agents keep, so it is
# a little below the nominal size (relatively more on small classes). We assume they keep 10%,
# at least 512 MiB: that is more than they do, so our estimate is a lower bound of the real limit.
_RESERVED_FRACTION = 0.10
_RESERVED_MIN_BYTES = 512 * _MIB


def max_connections(instance_class: str) -> int:
    """The `max_connections` RDS gives a PostgreSQL instance of this class (a lower bound)."""
    nominal = POSTGRES_INSTANCE_MEMORY_GIB[instance_class] * 1024 * _MIB
    usable = nominal - max(int(nominal * _RESERVED_FRACTION), _RESERVED_MIN_BYTES)
    return min(usable // _BYTES_PER_CONNECTION, _CONNECTION_CEILING)


def _check_instance_class(value: str) -> str:
    if value in POSTGRES_INSTANCE_MEMORY_GIB:
        return value
    family = value.rsplit(".", 1)[0]
    if family in _FAMILIES:
        sizes = ", ".join(_FAMILIES[family])
        raise ValueError(f"must be a size RDS for PostgreSQL offers in {family}: {sizes}")
    raise ValueError(
        "must be an RDS for PostgreSQL instance class of a current family this stack sizes "
        f"({', '.join(_FAMILIES)}), e.g. db.r7g.large"
    )


SUPPORTED_MAJORS = ("16",)
"""PostgreSQL majors the CRM is run on (Twenty's own images use 16). A new major is added here
after checking that Twenty supports it; the README's "Major-version upgrades" says how to move."""


def _check_engine_version(value: str) -> str:
    major, _, minor = value.partition(".")
    if major not in SUPPORTED_MAJORS or not re.fullmatch(r"|\d{1,2}", minor) or value.endswith("."):
        majors = ", ".join(SUPPORTED_MAJORS)
        raise ValueError(
            f"must be a PostgreSQL major ({majors}: RDS applies minor upgrades) or an explicit "
            "minor such as 16.11 (with autoMinorVersionUpgrade: false)"
        )
    return value


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = r"([01]\d|2[0-3]):([0-5]\d)"
_DAILY = re.compile(rf"{_TIME}-{_TIME}")
_WEEKLY = re.compile(rf"({'|'.join(_DAYS)}):{_TIME}-({'|'.join(_DAYS)}):{_TIME}")
_DAY_MINUTES, _WEEK_MINUTES = 24 * 60, 7 * 24 * 60
MIN_WINDOW_MINUTES = 30


def _daily_span(value: str) -> tuple[int, int]:
    """`01:00-02:00` → (start minute of the day, length in minutes); may wrap past midnight."""
    h1, m1, h2, m2 = map(int, _DAILY.fullmatch(value).groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    return start, (end - start) % _DAY_MINUTES


def _weekly_span(value: str) -> tuple[int, int]:
    """`sun:03:00-sun:04:00` → (start minute of the week, length); may wrap past Sunday."""
    d1, h1, m1, d2, h2, m2 = _WEEKLY.fullmatch(value).groups()
    start = _DAYS.index(d1) * _DAY_MINUTES + int(h1) * 60 + int(m1)
    end = _DAYS.index(d2) * _DAY_MINUTES + int(h2) * 60 + int(m2)
    return start, (end - start) % _WEEK_MINUTES


def _check_backup_window(value: str) -> str:
    if not _DAILY.fullmatch(value):
        raise ValueError("must be a daily UTC window hh24:mi-hh24:mi, e.g. 01:00-02:00")
    if _daily_span(value)[1] < MIN_WINDOW_MINUTES:
        raise ValueError(f"must last at least {MIN_WINDOW_MINUTES} minutes")
    return value


def _check_maintenance_window(value: str) -> str:
    value = value.lower()
    if not _WEEKLY.fullmatch(value):
        raise ValueError(
            "must be a weekly UTC window ddd:hh24:mi-ddd:hh24:mi, e.g. sun:03:00-sun:04:00"
        )
    if _weekly_span(value)[1] < MIN_WINDOW_MINUTES:
        raise ValueError(f"must last at least {MIN_WINDOW_MINUTES} minutes")
    return value


def windows_overlap(backup_window: str, maintenance_window: str) -> bool:
    """Whether the daily backup window meets the weekly maintenance window on any day."""
    backup_start, backup_length = _daily_span(backup_window)
    start, length = _weekly_span(maintenance_window)
    for day in range(7):
        daily_start = day * _DAY_MINUTES + backup_start
        if (start - daily_start) % _WEEK_MINUTES < backup_length:
            return True
        if (daily_start - start) % _WEEK_MINUTES < length:
            return True
    return False


def _check_subnet_group_name(value: str) -> str:
    if value.lower() == "default" or not re.fullmatch(r"[A-Za-z0-9 ._-]{1,255}", value):
        raise ValueError("must name an existing DB subnet group of the DR region (not 'default')")
    return value


def _check_security_group_id(value: str) -> str:
    if not re.fullmatch(r"sg-[0-9a-f]{8}([0-9a-f]{9})?", value):
        raise ValueError("must be a security group id such as sg-0123456789abcdef0")
    return value


InstanceClass = Annotated[str, AfterValidator(_check_instance_class)]
EngineVersion = Annotated[str, AfterValidator(_check_engine_version)]
BackupWindow = Annotated[str, AfterValidator(_check_backup_window)]
MaintenanceWindow = Annotated[str, AfterValidator(_check_maintenance_window)]
SubnetGroupName = Annotated[str, AfterValidator(_check_subnet_group_name)]
SecurityGroupId = Annotated[str, AfterValidator(_check_security_group_id)]


class DatabaseSettings(Section):
    """`crm-platform:database`: the CRM's PostgreSQL (RDS), its read replicas and DR copy."""

    instance_class: InstanceClass = "db.r7g.large"
    """RDS instance class of the primary and every replica (memory sets `max_connections`)."""
    engine_version: EngineVersion = "16"
    """PostgreSQL version. The major alone (`16`, the default) lets RDS apply minor versions in
    the maintenance window without the stack ever asking for a downgrade; an explicit minor
    (`16.11`) needs autoMinorVersionUpgrade: false."""
    auto_minor_version_upgrade: bool = True
    """RDS applies new minor versions in the maintenance window (security fixes). Turn it off
    only together with an explicit minor in engineVersion, and then upgrade by editing it."""
    blue_green_updates: bool = False
    """Apply engine-version, class and parameter changes through an RDS Blue/Green deployment
    (the way to upgrade the major with about a minute of downtime). Turns on logical
    replication, which RDS needs for a major upgrade that way. Not with drRegion."""
    crm_login_rotation: Annotated[int, int_range(0, 1_000_000)] = 0
    """How often the CRM's database login was rotated; `python -m stacks rotate-db-password`
    increments it. Each value alternates between two logins, so pods still on the previous one
    keep working until they are replaced."""
    replica_reads: bool = True
    """Send Twenty's read-only queries to the read replicas (PG_DATABASE_REPLICA_URL), when
    there are any."""
    multi_az: bool = True
    """Synchronous standby in a second AZ with automatic failover."""
    read_replicas: Annotated[int, int_range(0, 6)] = 2
    """Read replicas in this region, one per availability zone (at most network.azCount)."""
    allocated_storage_gib: Annotated[int, int_range(20, 65536)] = 100
    """Initial gp3 storage; storage autoscaling grows it, never shrinks it."""
    max_allocated_storage_gib: Annotated[int, int_range(22, 65536)] = 1000
    """Ceiling of storage autoscaling (at least 10% above allocatedStorageGib)."""
    backup_retention_days: Annotated[int, int_range(1, 35)] = 14
    """Days of automated backups (point-in-time recovery); replicas need at least 1."""
    backup_window: BackupWindow = "01:00-02:00"
    """Daily UTC window of automated backups (at least 30 minutes)."""
    maintenance_window: MaintenanceWindow = "sun:03:00-sun:04:00"
    """Weekly UTC window for patches and minor upgrades; must not overlap backupWindow."""
    deletion_protection: bool = True
    """RDS refuses to delete the primary while this is on."""
    dr_region: Region | None = None
    """Region of an optional cross-region read replica (disaster recovery); must be another
    region of residency.allowedRegions. Its network is not built here: see drSubnetGroupName."""
    dr_subnet_group_name: SubnetGroupName | None = None
    """Existing DB subnet group (private subnets of a VPC in drRegion) the DR replica lives in."""
    dr_security_group_ids: list[SecurityGroupId] = Field(default_factory=list)
    """Existing security groups of that VPC for the DR replica (who may connect after failover)."""

    @property
    def max_connections(self) -> int:
        """`max_connections` of each instance: what pods x pool size must stay below."""
        return max_connections(self.instance_class)

    @model_validator(mode="after")
    def _consistent(self) -> DatabaseSettings:
        if self.max_allocated_storage_gib * 10 < self.allocated_storage_gib * 11:
            raise FieldError(
                "maxAllocatedStorageGib",
                self.max_allocated_storage_gib,
                "must be at least 10% above allocatedStorageGib "
                f"({self.allocated_storage_gib}), or storage autoscaling cannot start",
            )
        self._check_version_pin()
        if windows_overlap(self.backup_window, self.maintenance_window):
            raise FieldError(
                "maintenanceWindow",
                self.maintenance_window,
                f"must not overlap backupWindow {self.backup_window} (backups run every day)",
            )
        if self.dr_region is None:
            self._check_dr_keys_unused()
        else:
            self._check_dr_replica()
        return self

    def _check_version_pin(self) -> None:
        """The trap: a pinned minor with automatic upgrades asks RDS for a downgrade after the
        first maintenance window; a bare major without them never gets a security fix."""
        explicit_minor = "." in self.engine_version
        if explicit_minor and self.auto_minor_version_upgrade:
            raise FieldError(
                "engineVersion",
                self.engine_version,
                "pins a minor version while autoMinorVersionUpgrade is true: after RDS upgrades "
                "the minor in a maintenance window, the next `pulumi up` would ask for a "
                f"downgrade, which RDS refuses. Pin the major ({self.engine_version.split('.')[0]})"
                " with automatic minor upgrades, or set autoMinorVersionUpgrade: false",
            )
        if not explicit_minor and not self.auto_minor_version_upgrade:
            raise FieldError(
                "autoMinorVersionUpgrade",
                False,
                f"needs an explicit minor in engineVersion (e.g. {self.engine_version}.11): with "
                f"only the major ({self.engine_version}) and no automatic upgrades the instance "
                "would keep whatever minor RDS chose at creation and never get a fix",
            )

    def _check_dr_keys_unused(self) -> None:
        for key, value in (
            ("drSubnetGroupName", self.dr_subnet_group_name),
            ("drSecurityGroupIds", self.dr_security_group_ids),
        ):
            if value:
                raise FieldError(key, value, "is only used with drRegion, which is not set")

    def _check_dr_replica(self) -> None:
        if self.blue_green_updates:
            raise FieldError(
                "blueGreenUpdates",
                True,
                "cannot be used with drRegion: RDS Blue/Green deployments do not support a "
                "source with a cross-Region read replica. Unset drRegion (the DR replica is "
                "deleted), upgrade, then set drRegion again (a new replica of the upgraded "
                "primary)",
            )
        if self.dr_subnet_group_name is None:
            raise FieldError(
                "drSubnetGroupName",
                None,
                f"must name the DB subnet group in {self.dr_region} the DR replica lives in",
            )
        if not self.dr_security_group_ids:
            raise FieldError(
                "drSecurityGroupIds",
                [],
                f"must list at least one security group in {self.dr_region} for the DR replica",
            )


def check_placement(
    database: DatabaseSettings, az_count: int, region: str, allowed_regions: Sequence[str]
) -> None:
    """Cross-section rules: replicas fit the AZs, and the DR copy stays resident elsewhere.

    Raises FieldError keyed below the stack settings (`database.<key>`).
    """
    if database.read_replicas > az_count:
        raise FieldError(
            "database.readReplicas",
            database.read_replicas,
            f"must be at most network.azCount ({az_count}): each replica gets its own "
            "availability zone",
        )
    if database.dr_region is not None and (
        database.dr_region == region or database.dr_region not in allowed_regions
    ):
        others = [other for other in allowed_regions if other != region]
        raise FieldError(
            "database.drRegion",
            database.dr_region,
            "must be a region of residency.allowedRegions other than aws:region "
            f"({region}): {', '.join(others) or 'none is allowed'}",
        )
