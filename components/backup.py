"""AWS Backup of the CRM's data: a locked, CMK-encrypted vault, a plan with an optional copy to
a locked vault in another allowed region, the selection, and scheduled restore tests.

Recovery points live in a vault an account compromise cannot empty: with Vault Lock in
compliance mode nobody, the root user included, can delete them before their retention ends or
remove the lock once its grace period is over. Restore tests prove the database recovery points
restore; AWS Backup reports each test's restore job to the alarm topic (vault notifications).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

from .iam import service_trust_json

COMPLIANCE_GRACE_DAYS = 3
"""Days a compliance-mode lock can still be removed; AWS Backup's minimum (botocore:
PutBackupVaultLockConfiguration.ChangeableForDays "must be 3 or greater")."""
SERVICE_ROLE_POLICIES = (
    aws.iam.ManagedPolicy.AWS_BACKUP_SERVICE_ROLE_POLICY_FOR_BACKUP,
    aws.iam.ManagedPolicy.AWS_BACKUP_SERVICE_ROLE_POLICY_FOR_RESTORES,
    aws.iam.ManagedPolicy.AWS_BACKUP_SERVICE_ROLE_POLICY_FOR_S3_BACKUP,
    aws.iam.ManagedPolicy.AWS_BACKUP_SERVICE_ROLE_POLICY_FOR_S3_RESTORE,
)
"""AWS managed policies of the backup role (paths from the provider's enum of AWS policies)."""
NOTIFIED_EVENTS = (
    "BACKUP_JOB_COMPLETED",
    "COPY_JOB_FAILED",
    "RESTORE_JOB_COMPLETED",
    "S3_BACKUP_OBJECT_FAILED",
)
"""Vault events sent to the alarm topic. AWS Backup sends no notification for its deprecated
events (`BACKUP_JOB_FAILED`, `RESTORE_JOB_SUCCESSFUL`, `RESTORE_JOB_FAILED`, accepted by the
API all the same): a job's outcome comes with `*_JOB_COMPLETED`, whose `State` attribute says
COMPLETED, FAILED or EXPIRED (AWS Backup developer guide, "Notification options")."""
SCHEDULE_DAILY = "cron(0 5 * * ? *)"
"""05:00 UTC: after the RDS backup window and outside the weekly maintenance window."""
SCHEDULE_MONTHLY = "cron(0 5 1 * ? *)"
SCHEDULE_RESTORE_TEST = "cron(0 7 ? * SUN *)"
"""Sunday 07:00 UTC, after Sunday's daily backup and the maintenance window."""


@dataclass(frozen=True)
class CopyVault:
    """Where copies of the daily recovery points go: another allowed region's vault."""

    provider: aws.Provider
    """Provider of the copy region."""
    kms_key_arn: pulumi.Input[str]
    """Backup key of the copy region (KMS keys are regional)."""


@dataclass(frozen=True)
class BackupArgs:
    """Inputs of `Backup`."""

    vault_name: str
    """Name of the vault (and of the copy vault); 2-50 of `[A-Za-z0-9_-]`."""
    kms_key_arn: pulumi.Input[str]
    """Customer-managed key of the vault."""
    resource_arns: Sequence[pulumi.Input[str]]
    """What the plan backs up (the RDS primary, the attachments bucket)."""
    daily_retention_days: int
    monthly_retention_days: int = 0
    """0: no monthly recovery points."""
    lock: Literal["compliance", "governance"] = "compliance"
    copy: CopyVault | None = None
    restore_test_database_arn: pulumi.Input[str] | None = None
    """RDS instance whose latest recovery point is restored weekly (None: no restore tests)."""
    notification_topic_arn: pulumi.Input[str] | None = None
    """SNS topic told about failed jobs and every restore outcome."""
    protect: bool = True
    """Pulumi `protect` on the vaults."""


class Backup(pulumi.ComponentResource):
    """Service role, locked vault(s), plan, selection, restore testing and notifications."""

    def __init__(self, name: str, args: BackupArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("crm-platform:operations:Backup", name, None, opts)
        self._name, self._args = name, args
        self.role = self._role()
        self.vault = self._locked_vault(name, args.kms_key_arn, None)
        self.copy_vault = (
            self._locked_vault(f"{name}-copy", args.copy.kms_key_arn, args.copy.provider)
            if args.copy
            else None
        )
        self.plan = self._plan()
        aws.backup.Selection(
            name,
            name=f"{args.vault_name}-data",
            plan_id=self.plan.id,
            iam_role_arn=self.role.arn,
            resources=list(args.resource_arns),
            opts=self._child(),
        )
        if args.restore_test_database_arn is not None:
            self._restore_testing(args.restore_test_database_arn)
        if args.notification_topic_arn is not None:
            aws.backup.VaultNotifications(
                name,
                backup_vault_name=self.vault.name,
                sns_topic_arn=args.notification_topic_arn,
                backup_vault_events=list(NOTIFIED_EVENTS),
                opts=self._child(),
            )
        self.register_outputs({"vaultArn": self.vault.arn, "planId": self.plan.id})

    def _child(self, **options) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **options)

    def _role(self) -> aws.iam.Role:
        role = aws.iam.Role(
            f"{self._name}-service",
            assume_role_policy=service_trust_json("backup", self),
            opts=self._child(),
        )
        for policy in SERVICE_ROLE_POLICIES:
            path = policy.value.split(":policy/", 1)[1]
            aws.iam.RolePolicyAttachment(
                f"{self._name}-{path.rsplit('/', 1)[-1]}",
                role=role.name,
                policy_arn=pulumi.Output.concat(
                    "arn:", self._partition(), ":iam::aws:policy/", path
                ),
                opts=self._child(),
            )
        return role

    def _partition(self) -> pulumi.Output[str]:
        invoke = pulumi.InvokeOutputOptions(parent=self)
        return aws.get_partition_output(opts=invoke).partition

    def _retention_range(self) -> tuple[int, int]:
        args = self._args
        return args.daily_retention_days, max(
            args.daily_retention_days, args.monthly_retention_days
        )

    def _locked_vault(
        self, name: str, kms_key_arn: pulumi.Input[str], provider: aws.Provider | None
    ) -> aws.backup.Vault:
        """A vault and its lock: recovery points must be kept between the shortest and the
        longest retention of the plan; compliance mode also makes the lock permanent."""
        args = self._args
        vault = aws.backup.Vault(
            name,
            name=args.vault_name,
            kms_key_arn=kms_key_arn,
            opts=self._child(provider=provider, protect=args.protect),
        )
        shortest, longest = self._retention_range()
        compliance = args.lock == "compliance"
        aws.backup.VaultLockConfiguration(
            name,
            backup_vault_name=vault.name,
            min_retention_days=shortest,
            max_retention_days=longest,
            changeable_for_days=COMPLIANCE_GRACE_DAYS if compliance else None,
            opts=self._child(provider=provider, protect=args.protect and compliance),
        )
        return vault

    def _plan(self) -> aws.backup.Plan:
        args = self._args
        copies = (
            [
                aws.backup.PlanRuleCopyActionArgs(
                    destination_vault_arn=self.copy_vault.arn,
                    lifecycle=aws.backup.PlanRuleCopyActionLifecycleArgs(
                        delete_after=args.daily_retention_days
                    ),
                )
            ]
            if self.copy_vault
            else None
        )
        rules = [self._rule("daily", SCHEDULE_DAILY, args.daily_retention_days, copies)]
        if args.monthly_retention_days:
            rules.append(self._rule("monthly", SCHEDULE_MONTHLY, args.monthly_retention_days))
        return aws.backup.Plan(self._name, name=args.vault_name, rules=rules, opts=self._child())

    def _rule(
        self,
        label: str,
        schedule: str,
        retention_days: int,
        copies: list[aws.backup.PlanRuleCopyActionArgs] | None = None,
    ) -> aws.backup.PlanRuleArgs:
        return aws.backup.PlanRuleArgs(
            rule_name=label,
            target_vault_name=self.vault.name,
            schedule=schedule,
            start_window=60,
            completion_window=480,
            lifecycle=aws.backup.PlanRuleLifecycleArgs(delete_after=retention_days),
            copy_actions=copies,
        )

    def _restore_testing(self, database_arn: pulumi.Input[str]) -> None:
        """Every week, restore the latest database recovery point of the last week, keep it
        for the validation window, then let AWS Backup delete it. AWS Backup proves the
        restore job succeeds and how long it takes; it does not connect to the database (see
        the README's "Operating prod" and `restore-drill`)."""
        plan = aws.backup.RestoreTestingPlan(
            self._name,
            name=f"{self._args.vault_name.replace('-', '_')}_restore_test",
            schedule_expression=SCHEDULE_RESTORE_TEST,
            start_window_hours=24,
            recovery_point_selection=aws.backup.RestoreTestingPlanRecoveryPointSelectionArgs(
                algorithm="LATEST_WITHIN_WINDOW",
                include_vaults=[self.vault.arn],
                recovery_point_types=["SNAPSHOT"],
                selection_window_days=7,
            ),
            opts=self._child(),
        )
        aws.backup.RestoreTestingSelection(
            self._name,
            name="database",
            restore_testing_plan_name=plan.name,
            protected_resource_type="RDS",
            protected_resource_arns=[database_arn],
            iam_role_arn=self.role.arn,
            validation_window_hours=2,
            opts=self._child(),
        )
