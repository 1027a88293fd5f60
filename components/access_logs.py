"""The locked-down bucket the load balancer writes its access logs to."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

# Regions opened before August 2022 deliver ALB logs from an AWS-owned account per region;
# newer regions use the log-delivery service principal.
# (docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html)
ELB_ACCOUNTS = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820949",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-west-3": "009996457667",
    "eu-north-1": "897822967062",
    "eu-south-1": "635631232127",
    "ap-northeast-1": "582318560864",
    "ap-northeast-2": "600734575887",
    "ap-northeast-3": "383597477331",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-south-1": "718504428378",
    "sa-east-1": "507241528517",
}
LOG_PREFIX = "crm"


@dataclass(frozen=True)
class AccessLogBucketArgs:
    """Inputs of `AccessLogBucket`."""

    region: str
    """Region of the load balancer (decides who delivers the logs)."""
    retention_days: int
    """Days before log objects expire."""
    protect: bool = True
    """Pulumi `protect` on the bucket (access logs are audit evidence)."""


def delivery_policy(bucket_arn: str, account_id: str, region: str) -> dict:
    """Only ELB log delivery may write, only under the prefix; nothing without TLS."""
    elb_account = ELB_ACCOUNTS.get(region)
    principal = (
        {"AWS": f"arn:aws:iam::{elb_account}:root"}
        if elb_account
        else {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    )
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "LoadBalancerLogDelivery",
                "Effect": "Allow",
                "Principal": principal,
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/{LOG_PREFIX}/AWSLogs/{account_id}/*",
            },
        ],
    }


class AccessLogBucket(pulumi.ComponentResource):
    """Private, versioned, SSE-S3 (the only encryption ALB log delivery supports) and
    expiring bucket for load-balancer access logs."""

    def __init__(
        self, name: str, args: AccessLogBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("crm-platform:edge:AccessLogBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account_id = aws.get_caller_identity_output(
            opts=pulumi.InvokeOutputOptions(parent=self)
        ).account_id
        self.bucket = aws.s3.Bucket(
            name,
            bucket_prefix=f"{name}-",
            force_destroy=False,
            tags={"crm-platform:purpose": "alb-access-logs"},
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        aws.s3.BucketPublicAccessBlock(
            name,
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            name,
            bucket=self.bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            name,
            bucket=self.bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            opts=child,
        )
        aws.s3.BucketVersioning(
            name,
            bucket=self.bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            name,
            bucket=self.bucket.id,
            rules=[
                {
                    "id": "expire-access-logs",
                    "status": "Enabled",
                    "filter": {},
                    "expiration": {"days": args.retention_days},
                    "noncurrent_version_expiration": {"noncurrent_days": 7},
                }
            ],
            opts=child,
        )
        aws.s3.BucketPolicy(
            name,
            bucket=self.bucket.id,
            policy=pulumi.Output.all(self.bucket.arn, account_id).apply(
                lambda values: json.dumps(delivery_policy(values[0], values[1], args.region))
            ),
            opts=child,
        )
        self.bucket_name = self.bucket.bucket
        self.register_outputs({"bucketName": self.bucket_name})
