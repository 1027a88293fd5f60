"""CloudWatch log groups and Secrets Manager secrets: customer keys, retention, rotation."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .core import (
    ADVISORY,
    MEDIUM,
    Res,
    Stack,
    as_number,
    boolean,
    entries,
    field,
    integer,
    resource_policy,
    setting,
    stack_policy,
)

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"


@resource_policy(
    "log-group-kms",
    types={LOG_GROUP},
    description="CloudWatch log groups must be encrypted with a customer-managed KMS key.",
    severity=MEDIUM,
    remediation="Set kms_key_id to a key whose policy allows logs.<region>.amazonaws.com.",
    tags=["logs", "encryption", "CloudWatchLogGroupEncrypted", "CKV_AWS_158"],
)
def log_group_kms(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if not res.present("kmsKeyId"):
        yield f"{res.label} leaves kmsKeyId unset; log data must be encrypted with a CMK."


@resource_policy(
    "log-group-retention",
    types={LOG_GROUP},
    description="CloudWatch log groups must keep logs long enough.",
    severity=MEDIUM,
    remediation=(
        "Set retention_in_days to at least minRetentionDays (dev stacks may relax this policy "
        "to advisory or lower the minimum)."
    ),
    config={
        "minRetentionDays": integer(365, "Shortest allowed retentionInDays.", 1, 3653),
        "allowNeverExpire": boolean(True, "Accept retentionInDays unset or 0 (logs never expire)."),
    },
    tags=["logs", "retention", "SH:CloudWatch.16", "CKV_AWS_338"],
)
def log_group_retention(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    days = res.get("retentionInDays")
    value = as_number(days) or 0
    minimum = int(config["minRetentionDays"])
    if value == 0:
        if not config["allowNeverExpire"]:
            yield (
                f"{res.label} {setting('retentionInDays', days)} (never expire); set a "
                f"retention of at least {minimum} days."
            )
    elif value < minimum:
        yield (
            f"{res.label} {setting('retentionInDays', days)}; logs must be kept at least "
            f"{minimum} days."
        )


@resource_policy(
    "secret-customer-managed-key",
    types={SECRET},
    description="Secrets Manager secrets (and their replicas) must use a customer-managed key.",
    severity=MEDIUM,
    remediation="Set kms_key_id (and replicas[].kms_key_id) to a customer-managed key.",
    tags=["secrets", "encryption", "SecretsManagerUsingKMSKey", "CKV_AWS_149"],
)
def secret_cmk(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if not res.present("kmsKeyId"):
        yield (
            f"{res.label} leaves kmsKeyId unset, so the AWS-managed aws/secretsmanager key would "
            "be used; set a customer-managed key."
        )
    for index, replica in enumerate(entries(res.get("replicas")) or []):
        if not field(replica, "kmsKeyId"):
            yield f"{res.label} leaves replicas[{index}].kmsKeyId unset; set a customer key."


@stack_policy(
    "secret-rotation",
    subjects={SECRET},
    description="Secrets should rotate automatically.",
    severity=MEDIUM,
    enforcement=ADVISORY,
    remediation=(
        "Add aws.secretsmanager.SecretRotation with rotation_rules.automatically_after_days <= "
        "maxDays (secrets an application cannot rotate, e.g. encryption keys, stay advisory)."
    ),
    config={"maxDays": integer(90, "Longest allowed rotation interval in days.", 1, 1000)},
    tags=["secrets", "SH:SecretsManager.1", "SH:SecretsManager.4", "AwsSolutions-SMG4"],
)
def secret_rotation(stack: Stack, secret: Res, config: Mapping[str, Any]) -> Iterator[str]:
    rotations = [
        rotation
        for rotation in stack.of_type({SECRET_ROTATION})
        if secret in stack.refs(rotation, "secretId", {SECRET})
    ]
    maximum = int(config["maxDays"])
    if not rotations:
        yield (
            f"{secret.label} has no aws:secretsmanager/secretRotation:SecretRotation referring "
            f"to it through secretId; rotate it at least every {maximum} days."
        )
    for rotation in rotations:
        days = rotation.get("rotationRules.automaticallyAfterDays")
        if days is not None and (as_number(days) or 0) > maximum:
            yield (
                rotation,
                (
                    f"{rotation.label} {setting('rotationRules.automaticallyAfterDays', days)}; it "
                    f"must be at most {maximum}."
                ),
            )
