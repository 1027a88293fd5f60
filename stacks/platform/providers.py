"""Explicit AWS providers and the KMS keys every tier encrypts with."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.encryption import Encryption, EncryptionArgs, KeyDomain

from ..settings import StackSettings

PROJECT = "crm-platform"


def default_tags(settings: StackSettings) -> dict[str, str]:
    """Tags every AWS resource carries (through the provider), used for cost and audits."""
    return {
        "project": PROJECT,
        "environment": settings.environment,
        "owner": settings.owner,
        "data-classification": settings.data_classification,
        "managed-by": "pulumi",
    }


def provider(name: str, region: str, settings: StackSettings) -> aws.Provider:
    """An explicit provider: every resource names its region and carries the stack's tags;
    it uses the stack's `aws:` account settings (explicit providers ignore the stack config)."""
    access = settings.aws
    return aws.Provider(
        name,
        region=region,
        default_tags=aws.ProviderDefaultTagsArgs(tags=default_tags(settings)),
        profile=access.profile,
        assume_roles=[
            aws.ProviderAssumeRoleArgs(
                role_arn=role.role_arn, session_name=role.session_name, external_id=role.external_id
            )
            for role in access.assume_roles
        ]
        or None,
        allowed_account_ids=access.allowed_account_ids or None,
    )


def keys(
    name: str,
    region: str,
    settings: StackSettings,
    aws_provider: aws.Provider,
    domains: tuple[KeyDomain, ...] = tuple(KeyDomain),
) -> Encryption:
    return Encryption(
        name,
        EncryptionArgs(
            region=region,
            alias_prefix=f"{PROJECT}/{settings.environment}",
            domains=domains,
            deletion_window_days=settings.encryption.key_deletion_window_days,
            protect=settings.protect_stateful_resources,
        ),
        opts=pulumi.ResourceOptions(providers={"aws": aws_provider}),
    )
