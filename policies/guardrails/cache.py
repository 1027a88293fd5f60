"""ElastiCache (Redis/Valkey): encryption, authentication, availability, backups, placement."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .core import (
    ADVISORY,
    HIGH,
    LOW,
    MEDIUM,
    Res,
    as_bool,
    as_number,
    boolean,
    entries,
    field,
    integer,
    resource_policy,
    setting,
    show_derived,
)

REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
CLUSTER = "aws:elasticache/cluster:Cluster"


def standalone(res: Res) -> bool:
    """A cache cluster that is not a member of a replication group (members inherit from it)."""
    return res.type == REPLICATION_GROUP or not res.present("replicationGroupId")


@resource_policy(
    "elasticache-encryption",
    types={REPLICATION_GROUP, CLUSTER},
    description="ElastiCache must encrypt data at rest (with a CMK) and in transit.",
    severity=HIGH,
    remediation=(
        "Set at_rest_encryption_enabled=True, kms_key_id, transit_encryption_enabled=True and "
        "leave transit_encryption_mode unset or 'required'; clients then use rediss://."
    ),
    config={"requireCustomerManagedKey": boolean(True, "Require kmsKeyId for at-rest encryption.")},
    tags=["elasticache", "encryption", "SH:ElastiCache.4", "SH:ElastiCache.5", "AwsSolutions-AEC3"],
)
def encryption(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if not standalone(res):
        return
    transit = res.get("transitEncryptionEnabled")
    if not as_bool(transit):
        yield f"{res.label} {setting('transitEncryptionEnabled', transit)}; it must be true."
    mode = res.get("transitEncryptionMode")
    if mode not in (None, "required"):
        yield (
            f'{res.label} {setting("transitEncryptionMode", mode)}; it must be "required" so '
            "plaintext connections are refused."
        )
    if res.type != REPLICATION_GROUP:
        return  # Stand-alone clusters have no at-rest encryption setting.
    at_rest = res.get("atRestEncryptionEnabled")
    if not as_bool(at_rest):
        yield f"{res.label} {setting('atRestEncryptionEnabled', at_rest)}; it must be true."
    elif config["requireCustomerManagedKey"] and not res.present("kmsKeyId"):
        yield f"{res.label} leaves kmsKeyId unset; encrypt at rest with a customer-managed key."


@resource_policy(
    "elasticache-auth",
    types={REPLICATION_GROUP},
    description="Redis replication groups must require authentication.",
    severity=HIGH,
    remediation="Set auth_token (a secret) or user_group_ids (RBAC) on the replication group.",
    tags=["elasticache", "identity", "SH:ElastiCache.6", "AwsSolutions-AEC6", "CKV_AWS_31"],
)
def auth(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if res.present("authToken") or res.present("authTokenWo") or res.present("userGroupIds"):
        return
    yield (
        f"{res.label} sets neither authToken nor userGroupIds; clients must authenticate "
        "(AUTH token or RBAC user groups)."
    )


def node_count(res: Res) -> int:
    """Nodes per shard: numCacheClusters, or 1 + replicasPerNodeGroup in cluster mode."""
    clusters = as_number(res.get("numCacheClusters"))
    if clusters is not None:
        return int(clusters)
    replicas = as_number(res.get("replicasPerNodeGroup"))
    if replicas is not None:
        return 1 + int(replicas)
    configured = [
        as_number(field(group, "replicaCount"))
        for group in entries(res.get("nodeGroupConfigurations")) or []
    ]
    counts = [1 + int(count) for count in configured if count is not None]
    return min(counts) if counts else 1


@resource_policy(
    "elasticache-high-availability",
    types={REPLICATION_GROUP},
    description="Redis replication groups must fail over automatically across AZs.",
    severity=MEDIUM,
    remediation=(
        "Set automatic_failover_enabled=True, multi_az_enabled=True and num_cache_clusters >= 2 "
        "(dev stacks may relax this policy to advisory)."
    ),
    config={"minNodes": integer(2, "Nodes per shard (primary + replicas) required.", 1, 6)},
    tags=["elasticache", "availability", "SH:ElastiCache.3", "AwsSolutions-AEC4"],
)
def high_availability(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    for prop in ("automaticFailoverEnabled", "multiAzEnabled"):
        value = res.get(prop)
        if not as_bool(value):
            yield f"{res.label} {setting(prop, value)}; it must be true."
    nodes, minimum = node_count(res), int(config["minNodes"])
    if nodes < minimum:
        sources = [res.get(prop) for prop in ("numCacheClusters", "replicasPerNodeGroup")]
        yield (
            f"{res.label} runs {show_derived(nodes, *sources)} node(s) per shard "
            f"(numCacheClusters / replicasPerNodeGroup); at least {minimum} are required."
        )


@resource_policy(
    "elasticache-backups",
    types={REPLICATION_GROUP, CLUSTER},
    description="ElastiCache must keep automatic snapshots.",
    severity=MEDIUM,
    remediation="Set snapshot_retention_limit to at least minRetentionDays.",
    config={"minRetentionDays": integer(1, "Shortest allowed snapshotRetentionLimit.", 1, 35)},
    tags=["elasticache", "backup", "SH:ElastiCache.1", "CKV_AWS_134"],
)
def backups(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if not standalone(res) or (res.type == CLUSTER and res.get("engine") == "memcached"):
        return
    days = res.get("snapshotRetentionLimit")
    minimum = int(config["minRetentionDays"])
    if (as_number(days) or 0) < minimum:
        yield (
            f"{res.label} {setting('snapshotRetentionLimit', days)}; at least {minimum} day(s) "
            "of snapshots are required."
        )


@resource_policy(
    "elasticache-subnet-group",
    types={REPLICATION_GROUP, CLUSTER},
    description="ElastiCache must run in a dedicated subnet group, not the default one.",
    severity=HIGH,
    remediation="Create an aws.elasticache.SubnetGroup of private subnets; set subnet_group_name.",
    tags=["elasticache", "network", "SH:ElastiCache.7", "AwsSolutions-AEC1", "CKV_AWS_323"],
)
def subnet_group(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if not standalone(res):
        return
    name = res.peek("subnetGroupName")
    if name is None or name in ("", "default"):
        yield (
            f"{res.label} {setting('subnetGroupName', name)}; it must name a dedicated subnet "
            "group of private subnets."
        )


@resource_policy(
    "elasticache-auto-minor-upgrade",
    types={REPLICATION_GROUP, CLUSTER},
    description="ElastiCache should apply minor engine upgrades automatically.",
    severity=LOW,
    enforcement=ADVISORY,
    remediation="Remove auto_minor_version_upgrade=False (it defaults to true).",
    tags=["elasticache", "patching", "SH:ElastiCache.2", "CKV_AWS_322"],
)
def auto_minor_upgrade(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    value = res.get("autoMinorVersionUpgrade")
    if as_bool(value) is False:
        yield f"{res.label} {setting('autoMinorVersionUpgrade', value)}; it should be true."
