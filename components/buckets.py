"""The baseline every bucket of the project gets, shared by the components that own buckets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws


def deny_insecure_transport(bucket_arn: str) -> list[dict[str, Any]]:
    """Statements refusing every request that is not TLS 1.2 or newer, whoever makes it."""
    resources = [bucket_arn, f"{bucket_arn}/*"]
    return [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyOutdatedTls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
        },
    ]


def lock_down(
    name: str,
    bucket: aws.s3.Bucket,
    parent: pulumi.Resource,
    *,
    encryption: dict[str, Any],
    lifecycle_rules: Sequence[dict[str, Any]],
    policy: pulumi.Input[str],
) -> aws.s3.BucketPolicy:
    """ACLs off, every public-access block on, default encryption, versioning, lifecycle and
    the bucket policy (JSON), which is returned."""
    child = pulumi.ResourceOptions(parent=parent)
    aws.s3.BucketOwnershipControls(
        name, bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}, opts=child
    )
    access_block = aws.s3.BucketPublicAccessBlock(
        name,
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        name, bucket=bucket.id, rules=[encryption], opts=child
    )
    versioning = aws.s3.BucketVersioning(
        name, bucket=bucket.id, versioning_configuration={"status": "Enabled"}, opts=child
    )
    aws.s3.BucketLifecycleConfiguration(
        name,
        bucket=bucket.id,
        rules=list(lifecycle_rules),
        # Versioning first, then rules about noncurrent versions (as the provider documents).
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[versioning]),
    )
    return aws.s3.BucketPolicy(
        name,
        bucket=bucket.id,
        policy=policy,
        # Both write bucket-level access settings; S3 rejects concurrent changes.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[access_block]),
    )
