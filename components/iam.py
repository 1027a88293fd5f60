"""IAM documents shared by the components that create service roles."""

from __future__ import annotations

import pulumi


def service_trust(service: str, source_account: str | None = None) -> dict:
    """Trust policy letting one AWS service (e.g. `vpc-flow-logs.amazonaws.com`) assume the
    role; with `source_account`, only on behalf of that account (no confused deputy)."""
    statement: dict = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if source_account is not None:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
    return {"Version": "2012-10-17", "Statement": [statement]}


def secret_reader_policy(
    *grants: tuple[pulumi.Input[str], pulumi.Input[str]],
) -> pulumi.Output[str]:
    """Read these secrets and decrypt each with its key through Secrets Manager only (what
    External Secrets needs: a database login or the SMTP credentials inside the cluster).
    Each grant is (secret ARN, key ARN)."""
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
                        "StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}
                    },
                },
            ],
        }
    )
