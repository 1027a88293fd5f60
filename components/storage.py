"""The attachments bucket: private, SSE-KMS with the storage key, versioned, TLS-only."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .access_logs import S3_ACCESS_LOG_PREFIX
from .buckets import deny_insecure_transport, lock_down

# The S3 calls Twenty's storage driver makes: Get/Put/Head/Copy/Delete objects, ListObjectsV2
# and HeadBucket (Head and Copy are authorised by Get/Put, HeadBucket by ListBucket).
OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")
INCOMPLETE_UPLOAD_DAYS = 7


def access_policy(bucket_arn: str, key_arn: str) -> dict:
    """What the CRM needs on its bucket, and nothing more."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ListAttachments",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": bucket_arn,
            },
            {
                "Sid": "ReadWriteAttachments",
                "Effect": "Allow",
                "Action": list(OBJECT_ACTIONS),
                "Resource": f"{bucket_arn}/*",
            },
            {
                "Sid": "EncryptAttachments",
                "Effect": "Allow",
                "Action": list(KEY_ACTIONS),
                "Resource": key_arn,
            },
        ],
    }


def bucket_policy(bucket_arn: str) -> dict:
    """Refuse every request that is not TLS 1.2 or newer, whoever makes it."""
    return {"Version": "2012-10-17", "Statement": deny_insecure_transport(bucket_arn)}


@dataclass(frozen=True)
class StorageArgs:
    """Inputs of `Storage`."""

    bucket_name_prefix: str
    """The bucket is `<prefix>-<account id>`: deterministic, unique per account, no dots (the
    CRM's S3 driver uses path-style addressing). Never change it: it forces a new bucket."""
    region: str
    """Region of the bucket (the stack's)."""
    kms_key_arn: pulumi.Input[str]
    """Storage key: default SSE-KMS encryption of every object."""
    noncurrent_version_expiration_days: int = 90
    """Days an overwritten or deleted object version is kept."""
    protect: bool = True
    """Pulumi `protect` on the bucket."""
    access_log_bucket: pulumi.Input[str] | None = None
    """Bucket receiving S3 server access logs (who read or changed which attachment)."""


class Storage(pulumi.ComponentResource):
    """The bucket and its encryption, versioning, lifecycle, ownership, access block and policy."""

    def __init__(
        self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("crm-platform:data:Storage", name, None, opts)
        account_id = aws.get_caller_identity_output(
            opts=pulumi.InvokeOutputOptions(parent=self)
        ).account_id
        self.bucket = aws.s3.Bucket(
            name,
            bucket=account_id.apply(lambda account: f"{args.bucket_name_prefix}-{account}"),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        lock_down(
            name,
            self.bucket,
            self,
            encryption={
                "apply_server_side_encryption_by_default": {
                    "sse_algorithm": "aws:kms",
                    "kms_master_key_id": args.kms_key_arn,
                },
                # One data key per bucket instead of a KMS call per object.
                "bucket_key_enabled": True,
                "blocked_encryption_types": ["SSE-C"],
            },
            lifecycle_rules=[
                {
                    "id": "expire-old-versions",
                    "status": "Enabled",
                    "filter": {},  # the whole bucket
                    "noncurrent_version_expiration": {
                        "noncurrent_days": args.noncurrent_version_expiration_days
                    },
                    "expiration": {"expired_object_delete_marker": True},
                    "abort_incomplete_multipart_upload": {
                        "days_after_initiation": INCOMPLETE_UPLOAD_DAYS
                    },
                }
            ],
            policy=self.bucket.arn.apply(lambda arn: json.dumps(bucket_policy(arn))),
        )
        if args.access_log_bucket is not None:
            aws.s3.BucketLogging(
                name,
                bucket=self.bucket.id,
                target_bucket=args.access_log_bucket,
                target_prefix=f"{S3_ACCESS_LOG_PREFIX}/{args.bucket_name_prefix}/",
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.bucket_name = self.bucket.bucket
        self.bucket_arn = self.bucket.arn
        self.region = args.region
        self.kms_key_arn = args.kms_key_arn
        self.access_policy_json = pulumi.Output.all(self.bucket.arn, args.kms_key_arn).apply(
            lambda values: json.dumps(access_policy(values[0], values[1]))
        )
        self.register_outputs(
            {
                "bucketName": self.bucket_name,
                "bucketArn": self.bucket_arn,
                "region": self.region,
                "accessPolicy": self.access_policy_json,
            }
        )
