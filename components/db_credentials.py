"""Database logins the stack generates and keeps in Secrets Manager (pulumi-random passwords,
Pulumi secrets in state, customer-managed-key encrypted secrets in AWS)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_random as random

PASSWORD_LENGTH = 40
"""Letters and digits only (about 238 bits): nothing RDS forbids in a master password (`/`,
`"`, `@`, space) and nothing that needs quoting in a connection URL."""


def generated_password(
    name: str, parent: pulumi.Resource, keepers: dict[str, str] | None = None
) -> random.RandomPassword:
    """A new password whenever `keepers` change (the CRM login's rotation)."""
    return random.RandomPassword(
        name,
        length=PASSWORD_LENGTH,
        special=False,
        keepers=keepers,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def stored_login(
    name: str,
    parent: pulumi.Resource,
    *,
    description: str,
    kms_key_arn: pulumi.Input[str],
    login: dict[str, pulumi.Input],
    protect: bool,
) -> tuple[aws.secretsmanager.Secret, aws.secretsmanager.SecretVersion]:
    """A secret encrypted with `kms_key_arn` holding `login` as JSON (username, password, host,
    port, dbname). The name is a prefix: a deleted secret's name stays taken during its
    recovery window, and a recreated stack must not collide with it."""
    secret = aws.secretsmanager.Secret(
        name,
        name_prefix=f"{name}-",
        description=description,
        kms_key_id=kms_key_arn,
        recovery_window_in_days=30 if protect else 7,
        opts=pulumi.ResourceOptions(parent=parent, protect=protect),
    )
    version = aws.secretsmanager.SecretVersion(
        name,
        secret_id=secret.id,
        secret_string=pulumi.Output.secret(pulumi.Output.json_dumps(login)),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return secret, version
