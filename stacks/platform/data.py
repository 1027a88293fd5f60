"""Data tier: PostgreSQL (with its optional cross-region DR copy), Valkey and attachments."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.cache import Cache, CacheArgs
from components.database import Database, DatabaseArgs, DisasterRecoveryArgs
from components.encryption import Encryption, KeyDomain
from components.network import Network
from components.storage import Storage, StorageArgs

from ..settings import StackSettings
from .providers import PROJECT, keys, provider


@dataclass(frozen=True)
class DataTier:
    database: Database
    cache: Cache
    storage: Storage


def _disaster_recovery(settings: StackSettings) -> DisasterRecoveryArgs | None:
    """The DR region gets its own provider (same tags) and its own database and logs keys:
    KMS keys are regional, and the copy must never depend on the lost region."""
    db = settings.database
    if not db.dr_region:
        return None
    env = settings.environment
    dr_provider = provider(f"aws-{env}-dr", db.dr_region, settings)
    dr_keys = keys(
        f"{env}-dr-keys",
        db.dr_region,
        settings,
        dr_provider,
        domains=(KeyDomain.DATABASE, KeyDomain.LOGS),
    )
    return DisasterRecoveryArgs(
        provider=dr_provider,
        kms_key_arn=dr_keys.keys[KeyDomain.DATABASE].arn,
        logs_key_arn=dr_keys.keys[KeyDomain.LOGS].arn,
        subnet_group_name=db.dr_subnet_group_name,
        security_group_ids=tuple(db.dr_security_group_ids),
    )


def _database(
    settings: StackSettings, network: Network, keys_: Encryption, opts: pulumi.ResourceOptions
) -> Database:
    db = settings.database
    return Database(
        f"{settings.environment}-db",
        DatabaseArgs(
            identifier=f"{PROJECT}-{settings.environment}",
            vpc_id=network.vpc.id,
            subnet_group_name=network.db_subnet_group.name,
            availability_zones=network.availability_zones,
            client_security_group_ids=[network.workload_security_group.id],
            kms_key_arn=keys_.keys[KeyDomain.DATABASE].arn,
            logs_key_arn=keys_.keys[KeyDomain.LOGS].arn,
            max_connections=db.max_connections,
            **db.model_dump(
                include={
                    "instance_class",
                    "engine_version",
                    "auto_minor_version_upgrade",
                    "blue_green_updates",
                    "crm_login_rotation",
                    "multi_az",
                    "read_replicas",
                    "allocated_storage_gib",
                    "max_allocated_storage_gib",
                    "backup_retention_days",
                    "backup_window",
                    "maintenance_window",
                    "deletion_protection",
                }
            ),
            log_retention_days=settings.logging.retention_days,
            dr=_disaster_recovery(settings),
            protect=settings.protect_stateful_resources,
        ),
        opts=opts,
    )


def build_data(
    settings: StackSettings,
    network: Network,
    keys_: Encryption,
    access_log_bucket: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> DataTier:
    """Data stores admit only the workload security group, from the isolated subnets."""
    env = settings.environment
    cache = Cache(
        f"{env}-cache",
        CacheArgs(
            replication_group_id=f"{PROJECT}-{env}",
            vpc_id=network.vpc.id,
            subnet_ids=network.isolated_subnet_ids,
            availability_zones=network.availability_zones,
            client_security_group_ids=[network.workload_security_group.id],
            kms_key_arn=keys_.keys[KeyDomain.CACHE].arn,
            logs_key_arn=keys_.keys[KeyDomain.LOGS].arn,
            node_type=settings.cache.node_type,
            nodes=settings.cache.nodes,
            snapshot_retention_days=settings.cache.snapshot_retention_days,
            log_retention_days=settings.logging.retention_days,
            protect=settings.protect_stateful_resources,
        ),
        opts=opts,
    )
    storage = Storage(
        f"{env}-storage",
        StorageArgs(
            bucket_name_prefix=f"{PROJECT}-{env}-attachments",
            region=settings.region,
            kms_key_arn=keys_.keys[KeyDomain.STORAGE].arn,
            noncurrent_version_expiration_days=settings.storage.noncurrent_version_expiration_days,
            protect=settings.protect_stateful_resources,
            access_log_bucket=access_log_bucket,
        ),
        opts=opts,
    )
    return DataTier(_database(settings, network, keys_, opts), cache, storage)
