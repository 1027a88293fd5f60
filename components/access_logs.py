"""The locked-down bucket the load balancer writes its access logs to."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .buckets import deny_insecure_transport, lock_down
from .iam import service_principal

LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing"
"""Who delivers ALB logs in regions opened since August 2022 (AWS docs, "Enable access logs
for your Application Load Balancer"); older regions deliver from a regional ELB account. Its
principal's name comes from `aws.get_service_principal`."""
LOG_PREFIX = "crm"
S3_ACCESS_LOG_PREFIX = "s3-access"


@dataclass(frozen=True)
class AccessLogBucketArgs:
    """Inputs of `AccessLogBucket`."""

    elb_account_arn: pulumi.Input[str] | None
    """The regional ELB account that delivers the logs (`aws.elb.get_service_account`), or
    None where the log-delivery service principal does."""
    retention_days: int
    """Days before log objects expire."""
    protect: bool = True
    """Pulumi `protect` on the bucket (access logs are audit evidence)."""


def delivery_policy(
    bucket_arn: str,
    account_id: str,
    elb_account_arn: str | None,
    log_delivery: str,
    s3_logging: str,
) -> dict:
    """Only ELB and S3 log delivery may write, each under its own prefix and only for this
    account; nothing without TLS. `log_delivery`, `s3_logging`: the service principals of ELB
    log delivery and of S3 server access logging in the stack's partition."""
    principal = {"AWS": elb_account_arn} if elb_account_arn else {"Service": log_delivery}
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
                "Principal": {"Service": s3_logging},
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
        policy = lock_down(
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
            policy=pulumi.Output.all(
                self.bucket.arn,
                account_id,
                args.elb_account_arn,
                service_principal(LOG_DELIVERY_SERVICE, self),
                service_principal("logging.s3", self),
            ).apply(lambda values: json.dumps(delivery_policy(*values))),
        )
        # Handed out only once the bucket accepts deliveries: ELB checks that it may write
        # when access logging is turned on, and refuses otherwise.
        self.bucket_name = pulumi.Output.all(self.bucket.bucket, policy.id).apply(lambda v: v[0])
        self.register_outputs({"bucketName": self.bucket_name})
