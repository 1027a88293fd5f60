"""Customer-managed KMS keys, one per data domain, with policies for the services that use them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

import pulumi
import pulumi_aws as aws

from .iam import regional_service_principal, service_principal


class KeyDomain(StrEnum):
    """Data domains that get their own key, so access to one never implies another."""

    DATABASE = "database"
    CACHE = "cache"
    CLUSTER = "cluster"
    LOGS = "logs"
    STORAGE = "storage"
    VOLUMES = "volumes"
    EMAIL = "email"
    BACKUP = "backup"
    ALERTS = "alerts"


# AWS services allowed to use each domain's key on behalf of principals of this account.
_VIA_SERVICES: dict[KeyDomain, tuple[str, ...]] = {
    KeyDomain.DATABASE: ("rds", "secretsmanager"),
    KeyDomain.CACHE: ("elasticache",),
    KeyDomain.CLUSTER: ("eks",),
    KeyDomain.LOGS: ("logs",),
    KeyDomain.STORAGE: ("s3",),
    KeyDomain.VOLUMES: ("ec2",),
    KeyDomain.EMAIL: ("secretsmanager",),
    KeyDomain.BACKUP: ("backup",),
    KeyDomain.ALERTS: ("sns",),
}
# Services (named as in `service_principal`) that publish to the encrypted alarm topic as
# themselves (not through SNS on behalf of a principal of this account): CloudWatch alarms
# and AWS Backup vault notifications.
ALERT_PUBLISHERS = ("cloudwatch", "backup")
_USE_ACTIONS = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
]


@dataclass(frozen=True)
class EncryptionArgs:
    """Inputs of `Encryption`."""

    region: str
    """Region the keys live in (used in service names and policy conditions)."""
    alias_prefix: str
    """Aliases become `alias/<alias_prefix>/<domain>`; include the stack to keep them unique."""
    domains: tuple[KeyDomain, ...] = tuple(KeyDomain)
    """Which domain keys to create."""
    deletion_window_days: int = 30
    """Days between scheduling a key's deletion and its destruction (7-30)."""
    protect: bool = True
    """Pulumi `protect`: refuse to delete the keys (data encrypted with them would be lost)."""


@dataclass(frozen=True)
class KeyPolicyNames:
    """How the stack's partition names what key policies refer to (provider data sources)."""

    partition: str
    region: str
    dns_suffix: str
    logs_principal: str
    """CloudWatch Logs' regional principal (`logs.<region>.<suffix>`)."""
    autoscaling_principal: str
    """Auto Scaling's principal, which names its service-linked role's path."""
    alert_publishers: tuple[str, ...]
    """The principals of `ALERT_PUBLISHERS`."""


def key_policy_names(
    region: str, parent: pulumi.Resource | None = None
) -> pulumi.Output[KeyPolicyNames]:
    """`KeyPolicyNames` from the provider's data sources (partition, service principals)."""
    partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=parent))
    return pulumi.Output.all(
        partition.partition,
        partition.dns_suffix,
        regional_service_principal("logs", parent),
        service_principal("autoscaling", parent),
        *(service_principal(service, parent) for service in ALERT_PUBLISHERS),
    ).apply(lambda v: KeyPolicyNames(v[0], region, v[1], v[2], v[3], tuple(v[4:])))


def key_policy(domain: KeyDomain, account_id: str, names: KeyPolicyNames) -> dict:
    """The key policy document for one domain.

    The account root keeps full control (so IAM policies apply and the key can never become
    unmanageable); each domain then names the services that may use it. CloudWatch Logs and
    the Auto Scaling service-linked role (which launches EKS nodes with encrypted volumes) act
    as themselves, so they need explicit statements.
    """
    partition, region = names.partition, names.region
    root = f"arn:{partition}:iam::{account_id}:root"
    services = [f"{name}.{region}.{names.dns_suffix}" for name in _VIA_SERVICES[domain]]
    statements: list[dict] = [
        {
            "Sid": "AccountAdministration",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "UseThroughDomainServices",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": [*_USE_ACTIONS, "kms:CreateGrant"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"kms:ViaService": services, "kms:CallerAccount": account_id}
            },
        },
    ]
    if domain is KeyDomain.LOGS:
        statements.append(
            {
                "Sid": "CloudWatchLogs",
                "Effect": "Allow",
                "Principal": {"Service": names.logs_principal},
                "Action": _USE_ACTIONS,
                "Resource": "*",
                "Condition": {
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:{partition}:logs:{region}:{account_id}:log-group:*"
                        )
                    }
                },
            }
        )
    if domain is KeyDomain.ALERTS:
        statements.append(
            {
                "Sid": "AlertPublishers",
                "Effect": "Allow",
                "Principal": {"Service": list(names.alert_publishers)},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
            }
        )
    if domain is KeyDomain.VOLUMES:
        # Conditioned on the role ARN rather than naming it as principal: the role only
        # exists once the account's first Auto Scaling group does, and a key policy naming
        # a missing principal is rejected.
        autoscaling_role = (
            f"arn:{partition}:iam::{account_id}:role/aws-service-role/"
            f"{names.autoscaling_principal}/AWSServiceRoleForAutoScaling"
        )
        on_behalf = {
            "StringEquals": {"kms:CallerAccount": account_id},
            "ArnEquals": {"aws:PrincipalArn": autoscaling_role},
        }
        statements += [
            {
                "Sid": "AutoScalingUseForNodeVolumes",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": _USE_ACTIONS,
                "Resource": "*",
                "Condition": on_behalf,
            },
            {
                "Sid": "AutoScalingGrantsForNodeVolumes",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "kms:CreateGrant",
                "Resource": "*",
                "Condition": on_behalf | {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
        ]
    return {"Version": "2012-10-17", "Statement": statements}


class Encryption(pulumi.ComponentResource):
    """A rotating customer-managed key and alias per data domain."""

    keys: dict[KeyDomain, aws.kms.Key]
    key_arns: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: EncryptionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("crm-platform:security:Encryption", name, None, opts)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account_id = aws.get_caller_identity_output(opts=invoke).account_id
        names = key_policy_names(args.region, self)
        self.keys = {}
        for domain in args.domains:
            policy = pulumi.Output.all(account_id, names).apply(
                lambda values, d=domain: json.dumps(key_policy(d, *values))
            )
            key = aws.kms.Key(
                f"{name}-{domain}",
                description=f"crm-platform {args.alias_prefix} {domain} data",
                enable_key_rotation=True,
                deletion_window_in_days=args.deletion_window_days,
                policy=policy,
                tags={"data-domain": str(domain)},
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
            )
            aws.kms.Alias(
                f"{name}-{domain}",
                name=f"alias/{args.alias_prefix}/{domain}",
                target_key_id=key.key_id,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.keys[domain] = key
        self.key_arns = {str(domain): key.arn for domain, key in self.keys.items()}
        self.register_outputs({"keyArns": self.key_arns})
