"""Operating prod: locked backups that cover the data stores, copies that stay in allowed
regions, an encrypted alarm topic.

A backup vault is locked by an `aws:backup/vaultLockConfiguration` naming it; with
`changeableForDays` set the lock is in compliance mode (after that many days nobody, the root user
included, can delete recovery points early or remove the lock), without it in governance mode
(pulumi-aws docs of backup.VaultLockConfiguration; AWS Backup Vault Lock).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .core import (
    HIGH,
    MEDIUM,
    UNKNOWN,
    Res,
    Stack,
    arn_region,
    boolean,
    entries,
    field,
    resource_policy,
    show,
    show_list,
    stack_policy,
)
from .residency import ALLOWED_REGIONS, DEFAULT_REGION, effective_region
from .s3 import BUCKETS, LOG_BUCKET_CONFIG, is_log_bucket

VAULT = "aws:backup/vault:Vault"
VAULT_LOCK = "aws:backup/vaultLockConfiguration:VaultLockConfiguration"
PLAN = "aws:backup/plan:Plan"
SELECTION = "aws:backup/selection:Selection"
RDS_INSTANCE = "aws:rds/instance:Instance"
TOPIC = "aws:sns/topic:Topic"
# The AWS managed key of SNS: encrypts, but its key policy cannot be changed, so CloudWatch
# alarms cannot publish to the topic and nobody outside the account's defaults can be granted.
SNS_MANAGED_KEY = "alias/aws/sns"

COMPLIANCE = {
    "requireComplianceMode": boolean(
        True, "Require compliance-mode locks (changeableForDays set); else governance suffices."
    )
}


def _locks(stack: Stack, vault: Res) -> list[Res]:
    return [
        lock
        for lock in stack.of_type({VAULT_LOCK})
        if vault in stack.refs(lock, "backupVaultName", {VAULT})
    ]


def lock_problem(stack: Stack, vault: Res, config: Mapping[str, Any]) -> str | None:
    """Why the vault is not locked as required (None: it is)."""
    locks = _locks(stack, vault)
    if not locks:
        return f"{vault.label} has no aws:backup/vaultLockConfiguration"
    compliance = [lock for lock in locks if lock.present("changeableForDays")]
    if config["requireComplianceMode"] and not compliance:
        return (
            f"{vault.label} is locked in governance mode ({locks[0].label} leaves "
            "changeableForDays unset), which privileged users can remove"
        )
    return None


@stack_policy(
    "backup-vault-lock",
    subjects={VAULT},
    description="Backup vaults must be locked (compliance mode where required) so recovery "
    "points cannot be deleted early.",
    severity=HIGH,
    remediation=(
        "Add aws.backup.VaultLockConfiguration(backup_vault_name=<vault>.name, "
        "min_retention_days=..., changeable_for_days=3) (compliance mode; governance mode omits "
        "changeable_for_days)."
    ),
    config=COMPLIANCE,
    tags=["backup", "protection", "ransomware", "Source:AWS Backup Vault Lock"],
    reads={VAULT, VAULT_LOCK},
)
def vault_lock(stack: Stack, vault: Res, config: Mapping[str, Any]) -> Iterator[str]:
    problem = lock_problem(stack, vault, config)
    if problem:
        yield f"{problem}; an attacker with account access could delete every recovery point."


def _plan_vaults(stack: Stack, plan: Res) -> list[Res]:
    """Vaults the plan's rules name (targets and copy destinations)."""
    return stack.refs(plan, "rules", {VAULT})


def _protecting_plans(stack: Stack, target: Res) -> list[Res]:
    """Backup plans whose selections name `target` (by ARN or through a dependency)."""
    plans = []
    for selection in stack.of_type({SELECTION}):
        if target in stack.refs(selection, "resources", {target.type}):
            plans += stack.refs(selection, "planId", {PLAN})
    return plans


def _is_primary(res: Res) -> bool:
    return res.type != RDS_INSTANCE or not res.present("replicateSourceDb")


def _needs_backup(res: Res, config: Mapping[str, Any]) -> bool:
    if res.type in BUCKETS:
        return not is_log_bucket(res, config)
    return _is_primary(res)


@stack_policy(
    "backup-selection-coverage",
    subjects={RDS_INSTANCE, *BUCKETS},
    description="Primary databases and data buckets must be selected by an AWS Backup plan "
    "whose vault is locked.",
    severity=HIGH,
    remediation=(
        "Add an aws.backup.Selection with resources=[<db>.arn, <bucket>.arn] to a plan whose "
        "rules target a vault with a VaultLockConfiguration."
    ),
    config={**COMPLIANCE, **LOG_BUCKET_CONFIG},
    tags=["backup", "protection", "SH:RDS.26"],
    reads={RDS_INSTANCE, *BUCKETS, SELECTION, PLAN, VAULT, VAULT_LOCK},
)
def selection_coverage(stack: Stack, res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if not _needs_backup(res, config):
        return
    plans = _protecting_plans(stack, res)
    if not plans:
        yield (
            f"{res.label} is not in any aws:backup/selection of this stack; its only copies are "
            "ones an account compromise can delete."
        )
        return
    vaults = [vault for plan in plans for vault in _plan_vaults(stack, plan)]
    if not any(lock_problem(stack, vault, config) is None for vault in vaults):
        names = show_list(sorted(vault.name for vault in vaults)) if vaults else "no vault"
        yield (
            f"{res.label} is backed up by {show_list(sorted(p.name for p in plans))} into "
            f"{names}, none of them locked as required (aws:backup/vaultLockConfiguration"
            f"{' with changeableForDays' if config['requireComplianceMode'] else ''})."
        )


def _copy_destinations(plan: Res) -> Iterator[tuple[str, Any]]:
    for r, rule in enumerate(entries(plan.peek("rules")) or []):
        for c, action in enumerate(entries(field(rule, "copyActions")) or []):
            prop = f"rules[{r}].copyActions[{c}].destinationVaultArn"
            yield prop, field(action, "destinationVaultArn")


@stack_policy(
    "backup-copy-destinations",
    subjects={PLAN},
    description="Backup copy actions must target a vault in an allowed region that this stack "
    "can verify.",
    severity=HIGH,
    remediation=(
        "Copy to a vault of this stack created with a provider in an allowed region (or a "
        "literal vault ARN in an allowed region)."
    ),
    config={"allowedRegions": ALLOWED_REGIONS, "defaultRegion": DEFAULT_REGION},
    required=["allowedRegions"],
    tags=["backup", "residency", "SCP aws:RequestedRegion"],
    reads={PLAN, VAULT},
)
def copy_destinations(stack: Stack, plan: Res, config: Mapping[str, Any]) -> Iterator[str]:
    allowed = list(config["allowedRegions"])
    vaults = _plan_vaults(stack, plan)
    for prop, value in _copy_destinations(plan):
        if isinstance(value, str) and value.startswith("arn:"):
            region = arn_region(value)
            if region not in allowed:
                yield f"{plan.label} copies to region {show(region)} ({prop}); allowed: " + (
                    f"{show_list(allowed)}."
                )
            continue
        if len(vaults) < 2:  # the one vault the plan names is its own target
            yield (
                f"{plan.label} copies to {show(value)} ({prop}), which is not a vault of this "
                "stack; its region cannot be verified (fail closed)."
            )
    for vault in vaults:
        region, source = effective_region(vault, config.get("defaultRegion"))
        if region is UNKNOWN or region not in allowed:
            yield (
                f"{plan.label} stores or copies backups in {vault.label}, whose region is "
                f"{show(region)} (from {source}); allowed: {show_list(allowed)}."
            )


@resource_policy(
    "sns-topic-cmk",
    types={TOPIC},
    description="SNS topics (the alarm topic above all) must be encrypted with a customer-"
    "managed KMS key.",
    severity=MEDIUM,
    remediation=(
        "Set kms_master_key_id to a customer-managed key whose policy lets "
        "cloudwatch.amazonaws.com use it (GenerateDataKey*, Decrypt)."
    ),
    tags=["sns", "encryption", "SH:SNS.1", "AwsSolutions-SNS2", "CKV_AWS_26"],
)
def topic_cmk(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    key = res.peek("kmsMasterKeyId")
    if key is None or key == "":
        yield f"{res.label} leaves kmsMasterKeyId unset; alarm payloads are stored unencrypted."
    elif key == SNS_MANAGED_KEY:
        yield (
            f"{res.label} sets kmsMasterKeyId to {show(key)}, the AWS managed key, whose policy "
            "does not let CloudWatch alarms publish; use a customer-managed key."
        )
