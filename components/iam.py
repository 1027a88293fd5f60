"""IAM documents shared by the components that create service roles, and the names AWS gives
services in the stack's partition (from the provider's data sources, never literals)."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws


def service_principal(service: str, parent: pulumi.Resource | None) -> pulumi.Output[str]:
    """The principal of `service` (`eks` → `eks.amazonaws.com`) in the stack's partition."""
    opts = pulumi.InvokeOutputOptions(parent=parent)
    return aws.get_service_principal_output(service_name=service, opts=opts).name


def regional_service_principal(service: str, parent: pulumi.Resource | None) -> pulumi.Output[str]:
    """The regional form some key policies need (`logs.<region>.<suffix>`)."""
    opts = pulumi.InvokeOutputOptions(parent=parent)
    return aws.get_service_principal_output(service_name=service, opts=opts).id


def dns_suffix(parent: pulumi.Resource) -> pulumi.Output[str]:
    """`amazonaws.com`, `amazonaws.com.cn`, `amazonaws.eu`…: the partition's DNS suffix."""
    opts = pulumi.InvokeOutputOptions(parent=parent)
    return aws.get_partition_output(opts=opts).dns_suffix


def service_trust_json(
    service: str, parent: pulumi.Resource, source_account: pulumi.Input[str] | None = None
) -> pulumi.Output[str]:
    """`service_trust` for a service named as in `service_principal`, as JSON."""
    return pulumi.Output.all(service_principal(service, parent), source_account).apply(
        lambda values: json.dumps(service_trust(*values))
    )


def service_trust(service: str, source_account: str | None = None) -> dict:
    """Trust policy letting one AWS service principal (e.g. `vpc-flow-logs.amazonaws.com`)
    assume the role; with `source_account`, only on behalf of that account (no confused
    deputy)."""
    statement: dict = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if source_account is not None:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
    return {"Version": "2012-10-17", "Statement": [statement]}


def secret_reader_policy(
    suffix: pulumi.Input[str],
    *grants: tuple[pulumi.Input[str], pulumi.Input[str]],
) -> pulumi.Output[str]:
    """Read these secrets and decrypt each with its key through Secrets Manager only (what
    External Secrets needs: a database login or the SMTP credentials inside the cluster).
    Each grant is (secret ARN, key ARN); `suffix`: the partition's DNS suffix, which Secrets
    Manager's endpoints use."""
    return pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ReadTheCrmSecrets",
                    "Effect": "Allow",
                    "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                    "Resource": [secret for secret, _ in grants],
                },
                {
                    "Sid": "DecryptThroughSecretsManager",
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": [key for _, key in grants],
                    "Condition": {
                        "StringLike": {
                            "kms:ViaService": pulumi.Output.concat("secretsmanager.*.", suffix)
                        }
                    },
                },
            ],
        }
    )
