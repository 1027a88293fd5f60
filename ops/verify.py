"""Check a live deployment against its stack outputs and its own settings (encryption, the
availability the profile asks for, replication, exposure): dev is judged as dev, prod as prod."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from ops.aws import client, error_code, same_kms_key
from ops.bootstrap import PUBLIC_ACCESS_BLOCK
from ops.checks import Check, describe_db
from ops.verify_database import check_database_access
from stacks.settings import StackSettings
from stacks.settings.database import DatabaseSettings

REQUIRED_OUTPUTS = (
    "region",
    "allowedRegions",
    "dbPrimaryIdentifier",
    "dbReplicaIdentifiers",
    "dbKmsKeyArn",
    "clusterName",
    "clusterSecretsKeyArn",
    "attachmentsBucketName",
    "storageKmsKeyArn",
)


def _as_configured(name: str, actual: object, wanted: object, key: str) -> Check:
    """A live value compared with the stack setting `key` that decides it."""
    detail = f"{actual} (stack setting {key}: {wanted})"
    return Check(f"{name} as configured", actual == wanted, detail)


def run_checks(outputs: Mapping[str, Any], settings: StackSettings) -> list[Check]:
    """All checks for one stack; an AWS permission/credential error propagates (user error)."""
    missing = [key for key in REQUIRED_OUTPUTS if outputs.get(key) in (None, "")]
    if missing:
        return [Check("stack outputs", False, f"missing outputs: {', '.join(missing)}")]
    region = outputs["region"]
    allowed = settings.residency.allowed_regions
    checks = [
        Check(
            "region residency",
            region == settings.region and region in allowed,
            f"{region} {'in' if region in allowed else 'NOT in'} allowedRegions {allowed}"
            f" (stack region {settings.region})",
        )
    ]
    checks += check_database(outputs, region, settings.database)
    checks += check_database_access(outputs, region)
    checks += check_cluster(outputs, region, settings.cluster.kubernetes_version)
    checks += check_bucket(outputs, region)
    return checks


def check_database(
    outputs: Mapping[str, Any], region: str, wanted: DatabaseSettings
) -> list[Check]:
    rds = client("rds", region)
    primary_id = outputs["dbPrimaryIdentifier"]
    primary = describe_db(rds, primary_id)
    if primary is None:
        return [Check(f"rds primary {primary_id}", False, f"not found in {region}")]
    status = primary["DBInstanceStatus"]
    key = primary.get("KmsKeyId")
    encrypted = bool(primary.get("StorageEncrypted"))
    checks = [
        Check(f"rds primary {primary_id} available", status == "available", f"status {status}"),
        _as_configured(
            "rds primary Multi-AZ", bool(primary.get("MultiAZ")), wanted.multi_az, "multiAz"
        ),
        _as_configured(
            "rds primary class",
            primary.get("DBInstanceClass"),
            wanted.instance_class,
            "instanceClass",
        ),
        _as_configured(
            "rds primary deletion protection",
            bool(primary.get("DeletionProtection")),
            wanted.deletion_protection,
            "deletionProtection",
        ),
        _as_configured(
            "rds primary backup retention days",
            primary.get("BackupRetentionPeriod"),
            wanted.backup_retention_days,
            "backupRetentionDays",
        ),
        Check(
            "rds primary encrypted with dbKmsKeyArn",
            encrypted and same_kms_key(key, outputs["dbKmsKeyArn"], region),
            f"StorageEncrypted={encrypted}, key {key}",
        ),
    ]
    replica_ids = list(outputs["dbReplicaIdentifiers"])
    checks.append(
        _as_configured("rds read replicas", len(replica_ids), wanted.read_replicas, "readReplicas")
    )
    zones: dict[str, str] = {}
    for replica_id in replica_ids:
        replica = describe_db(rds, replica_id)
        if replica is None:
            checks.append(Check(f"rds replica {replica_id}", False, f"not found in {region}"))
            continue
        source = replica.get("ReadReplicaSourceDBInstanceIdentifier") or ""
        replicating = source == primary_id or source.endswith(f":db:{primary_id}")
        status = replica["DBInstanceStatus"]
        zones[replica_id] = replica.get("AvailabilityZone", "?")
        checks.append(
            Check(
                f"rds replica {replica_id} replicating",
                replicating and status == "available",
                f"source {source or 'none'}, status {status}, AZ {zones[replica_id]}",
            )
        )
    shared = sorted(az for az, count in Counter(zones.values()).items() if count > 1)
    detail = ", ".join(f"{r}={az}" for r, az in zones.items()) or "no replicas"
    if shared:
        detail = f"replicas share {', '.join(shared)}: {detail}"
    checks.append(Check("rds replicas in distinct AZs", not shared, detail))
    return checks


def check_cluster(outputs: Mapping[str, Any], region: str, version: str) -> list[Check]:
    name = outputs["clusterName"]
    try:
        cluster = client("eks", region).describe_cluster(name=name)["cluster"]
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return [Check(f"eks cluster {name}", False, f"not found in {region}")]
        raise
    keys = [
        cfg.get("provider", {}).get("keyArn")
        for cfg in cluster.get("encryptionConfig") or []
        if "secrets" in cfg.get("resources", [])
    ]
    expected = outputs["clusterSecretsKeyArn"]
    return [
        Check(f"eks cluster {name} ACTIVE", cluster["status"] == "ACTIVE", cluster["status"]),
        _as_configured(
            "eks Kubernetes version", cluster.get("version"), version, "kubernetesVersion"
        ),
        Check(
            "eks secrets encrypted with clusterSecretsKeyArn",
            any(same_kms_key(key, expected, region) for key in keys),
            f"secrets key {keys[0] if keys else 'none'}",
        ),
    ]


def check_bucket(outputs: Mapping[str, Any], region: str) -> list[Check]:
    s3 = client("s3", region)
    bucket = outputs["attachmentsBucketName"]
    try:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
            "Rules"
        ]
    except ClientError as exc:
        code = error_code(exc)
        if code == "NoSuchBucket":
            return [Check(f"s3 bucket {bucket}", False, "bucket does not exist")]
        if code != "ServerSideEncryptionConfigurationNotFoundError":
            raise
        rules = []
    defaults = [rule.get("ApplyServerSideEncryptionByDefault", {}) for rule in rules]
    kms_keys = [d.get("KMSMasterKeyID") for d in defaults if d.get("SSEAlgorithm") == "aws:kms"]
    try:
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    except ClientError as exc:
        if error_code(exc) != "NoSuchPublicAccessBlockConfiguration":
            raise
        block = {}
    open_settings = [name for name in PUBLIC_ACCESS_BLOCK if not block.get(name)]
    return [
        Check(
            "s3 attachments encrypted with storageKmsKeyArn (aws:kms)",
            any(same_kms_key(key, outputs["storageKmsKeyArn"], region) for key in kms_keys),
            f"algorithms {[d.get('SSEAlgorithm') for d in defaults] or 'none'}, "
            f"key {kms_keys[0] if kms_keys else 'none'}",
        ),
        Check(
            "s3 attachments public access fully blocked",
            not open_settings,
            "all four blocks on" if not open_settings else f"off: {', '.join(open_settings)}",
        ),
    ]
