"""KMS keys: rotation, lockout safety, no public principals, a safe deletion window."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .core import (
    CRITICAL,
    MEDIUM,
    Res,
    as_bool,
    as_number,
    integer,
    public_statements,
    resource_policy,
    setting,
)

KEY = "aws:kms/key:Key"
EXTERNAL_KEY = "aws:kms/externalKey:ExternalKey"
REPLICA_KEY = "aws:kms/replicaKey:ReplicaKey"
REPLICA_EXTERNAL_KEY = "aws:kms/replicaExternalKey:ReplicaExternalKey"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
KEYS = frozenset({KEY, EXTERNAL_KEY, REPLICA_KEY, REPLICA_EXTERNAL_KEY})


@resource_policy(
    "kms-key-rotation",
    types={KEY},
    description="Symmetric customer-managed KMS keys must rotate at least yearly.",
    severity=MEDIUM,
    remediation="Set enable_key_rotation=True (and rotation_period_in_days <= the maximum).",
    config={"maxRotationDays": integer(365, "Longest allowed rotationPeriodInDays.", 90, 2560)},
    tags=["kms", "encryption", "SH:KMS.4", "AwsSolutions-KMS5", "CKV_AWS_7"],
)
def key_rotation(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    spec = res.get("customerMasterKeySpec") or "SYMMETRIC_DEFAULT"
    usage = res.get("keyUsage") or "ENCRYPT_DECRYPT"
    if spec != "SYMMETRIC_DEFAULT" or usage != "ENCRYPT_DECRYPT":
        return  # AWS rotates only symmetric encryption keys.
    enabled = res.get("enableKeyRotation")
    if not as_bool(enabled):
        yield f"{res.label} {setting('enableKeyRotation', enabled)}; it must be true."
    period = res.get("rotationPeriodInDays")
    if period is not None and (as_number(period) or 0) > int(config["maxRotationDays"]):
        yield (
            f"{res.label} {setting('rotationPeriodInDays', period)}; it must be at most "
            f"{int(config['maxRotationDays'])}."
        )


@resource_policy(
    "kms-no-lockout-bypass",
    types=KEYS | {KEY_POLICY},
    description="KMS key policies must not bypass the policy lockout safety check.",
    severity=CRITICAL,
    remediation="Remove bypass_policy_lockout_safety_check (it defaults to false).",
    tags=["kms", "CP:kms-key-disallow-bypass-policy-lockout-safety-check"],
)
def no_lockout_bypass(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    value = res.get("bypassPolicyLockoutSafetyCheck")
    if as_bool(value):
        yield (
            f"{res.label} {setting('bypassPolicyLockoutSafetyCheck', value)}; it must be false "
            "or unset so a policy cannot lock every administrator out of the key."
        )


@resource_policy(
    "kms-policy-no-public-principal",
    types=KEYS | {KEY_POLICY},
    description="KMS key policies must not allow a wildcard principal without an account "
    "condition.",
    severity=CRITICAL,
    remediation=(
        "Name account-root or role principals, or add a condition such as kms:CallerAccount / "
        "aws:PrincipalAccount / aws:SourceAccount to statements with Principal '*'."
    ),
    tags=["kms", "public-exposure", "SH:KMS.5", "CKV_AWS_33"],
)
def policy_no_public_principal(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    document = res.get("policy")
    if document is None:
        return  # AWS applies the default key policy: account root only.
    try:
        statements = public_statements(document)
    except ValueError as error:
        yield f"{res.label} has a policy that cannot be checked because {error}; fix the JSON."
        return
    for index in statements:
        yield (
            f'{res.label} policy Statement[{index}] allows Principal "*" without an '
            "account-scoping condition; any AWS account could use the key."
        )


@resource_policy(
    "kms-deletion-window",
    types=KEYS,
    description="KMS keys must keep a long deletion window.",
    severity=MEDIUM,
    remediation="Set deletion_window_in_days to at least the configured minimum (30).",
    config={"minDays": integer(30, "Shortest allowed deletionWindowInDays.", 7, 30)},
    tags=["kms", "protection", "SH:KMS.3"],
)
def deletion_window(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    days = res.get("deletionWindowInDays")
    minimum = int(config["minDays"])
    if days is not None and (as_number(days) or 0) < minimum:
        yield (
            f"{res.label} {setting('deletionWindowInDays', days)}; it must be at least "
            f"{minimum} (unset means AWS's 30 days)."
        )
