"""The locked-down bucket the load balancer writes its access logs to."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .buckets import deny_insecure_transport, lock_down

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
S3_ACCESS_LOG_PREFIX = "s3-access"


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
    """Only ELB and S3 log delivery may write, each under its own prefix and only for this
    account; nothing without TLS."""
    elb_account = ELB_ACCOUNTS.get(region)
    principal = (
        {"AWS": f"arn:aws:iam::{elb_account}:root"}
        if elb_account
        else {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    )
    return {
        "Version": "2012-10-17",
        "Statement": [
            *deny_insecure_transport(bucket_arn),
            {
                "Sid": "LoadBalancerLogDelivery",
                "Effect": "Allow",
                "Principal": principal,
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/{LOG_PREFIX}/AWSLogs/{account_id}/*",
            },
            {
                "Sid": "S3ServerAccessLogDelivery",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/{S3_ACCESS_LOG_PREFIX}/*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
        ],
    }


class AccessLogBucket(pulumi.ComponentResource):
    """Private, versioned, SSE-S3 and expiring bucket for load-balancer and S3 server access
    logs."""

    def __init__(
        self, name: str, args: AccessLogBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("crm-platform:edge:AccessLogBucket", name, None, opts)
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
        lock_down(
            name,
            self.bucket,
            self,
            # SSE-S3: the only default encryption ALB log delivery supports.
            encryption={"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}},
            lifecycle_rules=[
                {
                    "id": "expire-access-logs",
                    "status": "Enabled",
                    "filter": {},
                    "expiration": {"days": args.retention_days},
                    "noncurrent_version_expiration": {"noncurrent_days": 7},
                }
            ],
            policy=pulumi.Output.all(self.bucket.arn, account_id).apply(
                lambda values: json.dumps(delivery_policy(values[0], values[1], args.region))
            ),
        )
        self.bucket_name = self.bucket.bucket
        self.register_outputs({"bucketName": self.bucket_name})
