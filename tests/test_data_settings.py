"""Data-tier settings (database, cache, storage): one precise message per bad input, profile
values per environment, the connection budget and the backup/maintenance window rules."""

from __future__ import annotations

import pytest

from stacks.offline import SynthesisError, synthesize
from stacks.platform import program
from stacks.settings import SettingsError, load_settings
from stacks.settings.database import (
    POSTGRES_INSTANCE_MEMORY_GIB,
    DatabaseSettings,
    max_connections,
    windows_overlap,
)
from stacks.stackfile import read_stack_config
from tests.support import MINIMAL_CONFIG, stack_config

DR = '"drSubnetGroupName": "crm-dr", "drSecurityGroupIds": ["sg-0123456789abcdef0"]'

BAD_INPUTS = [
    (
        {"crm-platform:database": '{"readReplicas": 7}'},
        "crm-platform:database.readReplicas: 7 is not allowed; it must be an integer from 0 to 6.",
    ),
    (
        {"crm-platform:database": '{"readReplicas": 3}'},
        "crm-platform:database.readReplicas: 3 is not allowed; it must be at most network.azCount "
        "(2): each replica gets its own availability zone.",
    ),
    (
        {"crm-platform:database": f'{{"drRegion": "us-east-1", {DR}}}'},
        "crm-platform:database.drRegion: 'us-east-1' is not allowed; it must be a region of "
        "residency.allowedRegions other than aws:region (eu-central-1): eu-west-1.",
    ),
    (
        {"crm-platform:database": f'{{"drRegion": "eu-central-1", {DR}}}'},
        "crm-platform:database.drRegion: 'eu-central-1' is not allowed; it must be a region of "
        "residency.allowedRegions other than aws:region (eu-central-1): eu-west-1.",
    ),
    (
        {"crm-platform:database": '{"drRegion": "eu-westt-1"}'},
        "crm-platform:database.drRegion: 'eu-westt-1' is not allowed; it must be a real AWS "
        "region, e.g. eu-central-1.",
    ),
    (
        {"crm-platform:database": '{"drRegion": "eu-west-1"}'},
        "crm-platform:database.drSubnetGroupName: null is not allowed; it must name the DB subnet "
        "group in eu-west-1 the DR replica lives in.",
    ),
    (
        {"crm-platform:database": '{"drRegion": "eu-west-1", "drSubnetGroupName": "crm-dr"}'},
        "crm-platform:database.drSecurityGroupIds: [] is not allowed; it must list at least one "
        "security group in eu-west-1 for the DR replica.",
    ),
    (
        {"crm-platform:database": '{"drSubnetGroupName": "crm-dr"}'},
        "crm-platform:database.drSubnetGroupName: 'crm-dr' is not allowed; it is only used with "
        "drRegion, which is not set.",
    ),
    (
        {
            "crm-platform:database": '{"drRegion": "eu-west-1", "drSubnetGroupName": "default", '
            '"drSecurityGroupIds": ["sg-0123456789abcdef0"]}'
        },
        "crm-platform:database.drSubnetGroupName: 'default' is not allowed; it must name an "
        "existing DB subnet group of the DR region (not 'default').",
    ),
    (
        {
            "crm-platform:database": '{"drRegion": "eu-west-1", "drSubnetGroupName": "crm-dr", '
            '"drSecurityGroupIds": ["sg-1"]}'
        },
        "crm-platform:database.drSecurityGroupIds.0: 'sg-1' is not allowed; it must be a security "
        "group id such as sg-0123456789abcdef0.",
    ),
    (
        {"crm-platform:database": '{"instanceClass": "db.t4g.4xlarge"}'},
        "crm-platform:database.instanceClass: 'db.t4g.4xlarge' is not allowed; it must be a size "
        "RDS for PostgreSQL offers in db.t4g: micro, small, medium, large, xlarge, 2xlarge.",
    ),
    (
        {"crm-platform:database": '{"instanceClass": "cache.r7g.large"}'},
        "crm-platform:database.instanceClass: 'cache.r7g.large' is not allowed; it must be an RDS "
        "for PostgreSQL instance class of a current family this stack sizes (db.t3, db.t4g, "
        "db.m6g, db.m7g, db.m6i, db.m7i, db.r6g, db.r7g, db.r6i, db.r7i), e.g. db.r7g.large.",
    ),
    (
        {"crm-platform:database": '{"engineVersion": "15.8"}'},
        "crm-platform:database.engineVersion: '15.8' is not allowed; it must be a PostgreSQL "
        "major (16: RDS applies minor upgrades) or an explicit minor such as 16.11 (with "
        "autoMinorVersionUpgrade: false).",
    ),
    (
        {"crm-platform:database": '{"engineVersion": "16.11"}'},
        "crm-platform:database.engineVersion: '16.11' is not allowed; it pins a minor version "
        "while autoMinorVersionUpgrade is true: after RDS upgrades the minor in a maintenance "
        "window, the next `pulumi up` would ask for a downgrade, which RDS refuses. Pin the "
        "major (16) with automatic minor upgrades, or set autoMinorVersionUpgrade: false.",
    ),
    (
        {"crm-platform:database": '{"autoMinorVersionUpgrade": false}'},
        "crm-platform:database.autoMinorVersionUpgrade: false is not allowed; it needs an "
        "explicit minor in engineVersion (e.g. 16.11): with only the major (16) and no automatic "
        "upgrades the instance would keep whatever minor RDS chose at creation and never get a "
        "fix.",
    ),
    (
        {"crm-platform:database": f'{{"drRegion": "eu-west-1", "blueGreenUpdates": true, {DR}}}'},
        "crm-platform:database.blueGreenUpdates: true is not allowed; it cannot be used with "
        "drRegion: RDS Blue/Green deployments do not support a source with a cross-Region read "
        "replica. Unset drRegion (the DR replica is deleted), upgrade, then set drRegion again "
        "(a new replica of the upgraded primary).",
    ),
    (
        {"crm-platform:database": '{"crmLoginRotation": -1}'},
        "crm-platform:database.crmLoginRotation: -1 is not allowed; it must be an integer from 0 "
        "to 1000000.",
    ),
    (
        {"crm-platform:database": '{"backupRetentionDays": 0}'},
        "crm-platform:database.backupRetentionDays: 0 is not allowed; it must be an integer from "
        "1 to 35.",
    ),
    (
        {"crm-platform:database": '{"backupRetentionDays": 36}'},
        "crm-platform:database.backupRetentionDays: 36 is not allowed; it must be an integer from "
        "1 to 35.",
    ),
    (
        {"crm-platform:database": '{"backupWindow": "03:30-04:30"}'},
        "crm-platform:database.maintenanceWindow: 'sun:03:00-sun:04:00' is not allowed; it must "
        "not overlap backupWindow 03:30-04:30 (backups run every day).",
    ),
    (
        {"crm-platform:database": '{"backupWindow": "01:00-01:15"}'},
        "crm-platform:database.backupWindow: '01:00-01:15' is not allowed; it must last at least "
        "30 minutes.",
    ),
    (
        {"crm-platform:database": '{"backupWindow": "1am"}'},
        "crm-platform:database.backupWindow: '1am' is not allowed; it must be a daily UTC window "
        "hh24:mi-hh24:mi, e.g. 01:00-02:00.",
    ),
    (
        {"crm-platform:database": '{"maintenanceWindow": "Sunday 3am"}'},
        "crm-platform:database.maintenanceWindow: 'Sunday 3am' is not allowed; it must be a "
        "weekly UTC window ddd:hh24:mi-ddd:hh24:mi, e.g. sun:03:00-sun:04:00.",
    ),
    (
        {"crm-platform:database": '{"allocatedStorageGib": 100, "maxAllocatedStorageGib": 105}'},
        "crm-platform:database.maxAllocatedStorageGib: 105 is not allowed; it must be at least "
        "10% above allocatedStorageGib (100), or storage autoscaling cannot start.",
    ),
    (
        {"crm-platform:database": '{"readReplica": 1}'},
        "crm-platform:database.readReplica: unknown setting (value 1); allowed keys here: "
        "allocatedStorageGib, autoMinorVersionUpgrade, backupRetentionDays, backupWindow, "
        "blueGreenUpdates, crmLoginRotation, deletionProtection, drRegion, drSecurityGroupIds, "
        "drSubnetGroupName, engineVersion, instanceClass, maintenanceWindow, "
        "maxAllocatedStorageGib, multiAz, readReplicas, replicaReads. Did you mean "
        "'readReplicas'?",
    ),
    (
        {"crm-platform:cache": '{"nodes": 0}'},
        "crm-platform:cache.nodes: 0 is not allowed; it must be an integer from 1 to 6.",
    ),
    (
        {"crm-platform:cache": '{"nodeType": "m7g.large"}'},
        "crm-platform:cache.nodeType: 'm7g.large' is not allowed; it must be an ElastiCache node "
        "type such as cache.t4g.micro.",
    ),
    (
        {"crm-platform:cache": '{"snapshotRetentionDays": 36}'},
        "crm-platform:cache.snapshotRetentionDays: 36 is not allowed; it must be an integer from "
        "0 to 35.",
    ),
    (
        {"crm-platform:storage": '{"noncurrentVersionExpirationDays": 0}'},
        "crm-platform:storage.noncurrentVersionExpirationDays: 0 is not allowed; it must be an "
        "integer from 1 to 3650.",
    ),
]


@pytest.mark.parametrize(("override", "message"), BAD_INPUTS, ids=[m[:50] for _, m in BAD_INPUTS])
def test_bad_input_fails_with_one_precise_message(override: dict, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings("dev", stack_config("dev") | override)
    assert caught.value.messages == [message]


def test_bad_data_setting_registers_no_resource() -> None:
    override, message = BAD_INPUTS[2]
    with pytest.raises(SynthesisError) as caught:
        synthesize(program, stack="dev", config=stack_config("dev") | override)
    assert message in str(caught.value)
    assert caught.value.plan.resources == []


@pytest.mark.parametrize(
    ("stack", "instance_class", "multi_az", "replicas", "retention", "protection", "nodes"),
    [
        ("dev", "db.t4g.small", False, 0, 1, False, 1),
        ("staging", "db.t4g.medium", True, 1, 7, False, 2),
        ("prod", "db.r7g.large", True, 2, 14, True, 2),
    ],
)
def test_profiles_shape_the_data_tier(
    stack, instance_class, multi_az, replicas, retention, protection, nodes
) -> None:
    settings = load_settings(stack, read_stack_config(stack))
    database = settings.database
    assert database.instance_class == instance_class
    assert database.multi_az is multi_az
    assert database.read_replicas == replicas <= settings.network.az_count
    assert database.backup_retention_days == retention
    assert database.deletion_protection is protection
    assert database.dr_region is None
    assert settings.cache.nodes == nodes
    assert database.max_connections == max_connections(instance_class)


def test_model_defaults_are_the_prod_ones() -> None:
    settings = load_settings("prod", MINIMAL_CONFIG)
    assert settings.database == DatabaseSettings()
    assert settings.database.multi_az and settings.database.deletion_protection
    assert settings.database.backup_retention_days >= 14
    assert settings.cache.nodes >= 2 and settings.cache.snapshot_retention_days > 0


def test_dr_replica_in_another_allowed_region_is_accepted() -> None:
    override = {"crm-platform:database": f'{{"drRegion": "eu-west-1", {DR}}}'}
    settings = load_settings("prod", stack_config("prod") | override)
    assert settings.database.dr_region == "eu-west-1"
    assert settings.database.dr_security_group_ids == ["sg-0123456789abcdef0"]


def test_maintenance_window_is_stored_in_lower_case() -> None:
    settings = DatabaseSettings(maintenance_window="Tue:04:00-Tue:05:00")
    assert settings.maintenance_window == "tue:04:00-tue:05:00"


@pytest.mark.parametrize(
    ("backup", "maintenance", "overlap"),
    [
        ("01:00-02:00", "sun:03:00-sun:04:00", False),
        ("01:00-02:00", "wed:01:59-wed:03:00", True),
        ("01:00-02:00", "wed:02:00-wed:03:00", False),  # windows may touch
        ("23:30-00:30", "mon:00:00-mon:00:30", True),  # backup wraps past midnight
        ("00:00-00:30", "sun:23:30-mon:00:30", True),  # maintenance wraps past Sunday
        ("00:30-01:30", "sun:23:45-mon:00:15", False),
        ("02:00-03:00", "sat:12:00-sun:12:00", True),  # a long window meets every backup
    ],
)
def test_backup_and_maintenance_windows_overlap(backup, maintenance, overlap) -> None:
    assert windows_overlap(backup, maintenance) is overlap


def test_connection_budget_is_a_lower_bound_of_the_rds_default() -> None:
    """RDS: LEAST(DBInstanceClassMemory / 9531392, 5000), DBInstanceClassMemory being a little
    less than the nominal memory. Our estimate stays under the nominal-memory formula, close
    to it on larger classes, and never shrinks as memory grows."""
    by_memory = sorted(POSTGRES_INSTANCE_MEMORY_GIB.items(), key=lambda item: item[1])
    previous = 0
    for instance_class, gib in by_memory:
        estimate = max_connections(instance_class)
        nominal = min(gib * 1024**3 // 9531392, 5000)
        assert estimate <= nominal, instance_class
        assert estimate >= previous, instance_class
        if gib >= 8 and nominal < 5000:
            assert estimate >= 0.89 * nominal, instance_class
        previous = estimate
    assert max_connections("db.r7i.48xlarge") == 5000
    assert 0 < max_connections("db.t4g.micro") < max_connections("db.t4g.small")
