"""Edge tier: access-log bucket, certificate, and the load balancer the CRM is served from."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.access_logs import LOG_PREFIX, AccessLogBucket, AccessLogBucketArgs
from components.certificate import CertificateArgs, DnsValidatedCertificate
from components.edge import Edge, EdgeArgs
from components.email import Email, EmailArgs
from components.encryption import Encryption, KeyDomain
from components.network import Network
from components.twenty import HEALTH_PATH, SERVER_PORT

from ..settings import StackSettings

ELB_SERVICE_ACCOUNTS = Path(__file__).resolve().parent.parent / "data/elb_service_accounts.json"


@cache
def regions_with_elb_account() -> frozenset[str]:
    """Regions where ALB logs come from a regional ELB account (the provider's table)."""
    return frozenset(json.loads(ELB_SERVICE_ACCOUNTS.read_text())["accounts"])


def build_access_logs(settings: StackSettings, opts: pulumi.ResourceOptions) -> AccessLogBucket:
    """The account that delivers logs is the provider's answer, never a number of ours."""
    region = settings.region
    elb_account_arn = None
    if region in regions_with_elb_account():
        invoke = pulumi.InvokeOutputOptions(provider=opts.providers["aws"])
        elb_account_arn = aws.elb.get_service_account_output(region=region, opts=invoke).arn
    return AccessLogBucket(
        f"{settings.environment}-alb-logs",
        AccessLogBucketArgs(
            elb_account_arn=elb_account_arn,
            retention_days=settings.logging.retention_days,
            protect=settings.protect_stateful_resources,
        ),
        opts=opts,
    )


def _certificate_arn(settings: StackSettings, opts: pulumi.ResourceOptions) -> pulumi.Input[str]:
    tls = settings.app.tls
    if not tls.hosted_zone_id:
        return tls.certificate_arn
    return DnsValidatedCertificate(
        f"{settings.environment}-certificate",
        CertificateArgs(domain=settings.app.domain, hosted_zone_id=tls.hosted_zone_id),
        opts=opts,
    ).certificate_arn


def build_edge(
    settings: StackSettings,
    network: Network,
    access_logs: AccessLogBucket,
    web_acl_arn: pulumi.Input[str] | None,
    opts: pulumi.ResourceOptions,
) -> Edge:
    app = settings.app
    return Edge(
        f"{settings.environment}-edge",
        EdgeArgs(
            vpc_id=network.vpc.id,
            public_subnet_ids=network.public_subnet_ids,
            target_security_group_id=network.workload_security_group.id,
            target_port=SERVER_PORT,
            health_check_path=HEALTH_PATH,
            certificate_arn=_certificate_arn(settings, opts),
            ssl_policy=app.tls.ssl_policy,
            access_log_bucket=access_logs.bucket_name,
            access_log_prefix=LOG_PREFIX,
            web_acl_arn=web_acl_arn,
            domain=app.domain,
            hosted_zone_id=app.tls.hosted_zone_id,
            admit_only_cidrs=None if app.setup.completed else tuple(app.setup.admin_cidrs),
            protect=settings.protect_stateful_resources,
        ),
        opts=opts,
    )


def build_email(settings: StackSettings, keys_: Encryption, opts: pulumi.ResourceOptions) -> Email:
    """SES in the stack's own region, for the CRM's domain (DKIM records in its zone)."""
    return Email(
        f"{settings.environment}-email",
        EmailArgs(
            domain=settings.app.domain,
            region=settings.region,
            kms_key_arn=keys_.keys[KeyDomain.EMAIL].arn,
            hosted_zone_id=settings.app.tls.hosted_zone_id,
        ),
        opts=opts,
    )
