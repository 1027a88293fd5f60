"""`verify` checks of database access: replica count, parameters in effect (the DR replica's
above all), server-side TLS, and the two login secrets.

Whether the CRM's login connects cannot be tried from here: the database lives in isolated
subnets. Inside the cluster the bootstrap Job logs in with it (and the deploy waits for it),
and so does every pod's readiness; these checks cover what the stack outputs can show.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from ops.aws import client, error_code, same_kms_key
from ops.checks import Check, describe_db

CERTIFICATE_MARGIN = timedelta(days=30)
LOGIN_OUTPUTS = ("dbMasterSecretArn", "dbCrmSecretArn", "dbCrmSecretVersionId")


def replica_count(primary: dict, expected: list[str]):
    """No in-region reader beyond those the stack declares (a missing one fails its own
    check): a leftover reader costs money and is missed by every other check."""
    readers = sorted(r for r in primary.get("ReadReplicaDBInstanceIdentifiers", []) if ":" not in r)
    extra = sorted(set(readers) - set(expected))
    detail = f"{len(readers)} replicating, {len(expected)} declared"
    if extra:
        detail += f"; undeclared: {', '.join(extra)}"
    return Check("rds undeclared readers", not extra, detail)


def parameters_in_effect(label: str, instance: dict):
    """A parameter group attached after creation stays `pending-reboot` until a reboot
    (terraform-provider-aws #40089): the instance then runs the defaults."""
    groups = instance.get("DBParameterGroups", [])
    pending = [
        f"{g.get('DBParameterGroupName')}={g.get('ParameterApplyStatus')}"
        for g in groups
        if g.get("ParameterApplyStatus") != "in-sync"
    ]
    detail = ", ".join(pending) or "in-sync"
    if pending:
        detail += f"; reboot it: aws rds reboot-db-instance --db-instance-identifier {label}"
    return Check(f"rds {label} parameters in effect", bool(groups) and not pending, detail)


def force_ssl(rds, instance: dict):
    """Server-side TLS: the instance's parameter group refuses unencrypted sessions."""
    group = (instance.get("DBParameterGroups") or [{}])[0].get("DBParameterGroupName", "")
    value = None
    if group:
        pages = rds.get_paginator("describe_db_parameters").paginate(DBParameterGroupName=group)
        for page in pages:
            for parameter in page["Parameters"]:
                if parameter["ParameterName"] == "rds.force_ssl":
                    value = parameter.get("ParameterValue")
    return Check("rds primary requires TLS", value == "1", f"rds.force_ssl={value} in {group}")


def server_certificate(instance: dict, now: datetime | None = None):
    """The server certificate the CRM verifies is valid beyond the next month."""
    details = instance.get("CertificateDetails") or {}
    valid_till = details.get("ValidTill")
    authority = details.get("CAIdentifier") or instance.get("CACertificateIdentifier")
    if valid_till is None:
        return Check("rds server certificate", True, f"CA {authority}, expiry not reported")
    now = now or datetime.now(UTC)
    return Check(
        "rds server certificate valid for 30 more days",
        valid_till - now > CERTIFICATE_MARGIN,
        f"CA {authority}, valid till {valid_till:%Y-%m-%d}",
    )


def login_secret(secrets, arn: str, key_arn: str, region: str, current: str | None = None):
    """CMK-encrypted; for the CRM's login, the current version is the stack's (no drift)."""
    name = arn.rsplit(":", 1)[-1]
    try:
        secret = secrets.describe_secret(SecretId=arn)
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return Check(f"secret {name}", False, f"not found in {region}")
        raise
    key = secret.get("KmsKeyId")
    stages = {version: labels for version, labels in secret.get("VersionIdsToStages", {}).items()}
    live = next((v for v, labels in stages.items() if "AWSCURRENT" in labels), None)
    ok = bool(key) and same_kms_key(key, key_arn, region)
    detail = f"key {key or 'aws/secretsmanager'}"
    if current is not None:
        ok = ok and live == current
        detail += f", current version {live} (stack's {current})"
    return Check(f"secret {name} encrypted with dbKmsKeyArn", ok, detail)


def check_database_access(outputs: Mapping[str, Any], region: str) -> list:
    missing = [key for key in LOGIN_OUTPUTS if not outputs.get(key)]
    if missing:
        return [Check("database access outputs", False, f"missing: {', '.join(missing)}")]
    rds = client("rds", region)
    checks = []
    primary = describe_db(rds, outputs["dbPrimaryIdentifier"])
    if primary is not None:
        checks += [
            replica_count(primary, list(outputs["dbReplicaIdentifiers"])),
            force_ssl(rds, primary),
            server_certificate(primary),
            parameters_in_effect(outputs["dbPrimaryIdentifier"], primary),
        ]
    for identifier in outputs["dbReplicaIdentifiers"]:
        replica = describe_db(rds, identifier)
        if replica is not None:
            checks.append(parameters_in_effect(identifier, replica))
    checks += _dr_replica(outputs)
    secrets = client("secretsmanager", region)
    key = outputs["dbKmsKeyArn"]
    checks.append(login_secret(secrets, outputs["dbMasterSecretArn"], key, region))
    checks.append(
        login_secret(
            secrets, outputs["dbCrmSecretArn"], key, region, outputs["dbCrmSecretVersionId"]
        )
    )
    return checks


def _dr_replica(outputs: Mapping[str, Any]) -> list:
    arn, dr_region = outputs.get("dbDrReplicaArn"), outputs.get("dbDrRegion")
    if not arn or not dr_region:
        return []
    identifier = arn.rsplit(":", 1)[-1]
    replica = describe_db(client("rds", dr_region), identifier)
    if replica is None:
        return [Check(f"rds DR replica {identifier}", False, f"not found in {dr_region}")]
    return [parameters_in_effect(identifier, replica)]
