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
    secret_arn: pulumi.Input[str], key_arn: pulumi.Input[str]
) -> pulumi.Output[str]:
    """Read one secret and decrypt it through Secrets Manager only (what External Secrets
    needs to build the database URL inside the cluster)."""
    return pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ReadDatabaseMasterSecret",
                    "Effect": "Allow",
                    "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                    "Resource": secret_arn,
                },
                {
                    "Sid": "DecryptThroughSecretsManager",
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": key_arn,
                    "Condition": {
                        "StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}
                    },
                },
            ],
        }
    )
