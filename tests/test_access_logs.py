"""The access-log bucket and the DNS-validated certificate at the edge of the stack."""

from __future__ import annotations

import json

import pytest
from pulumi.runtime.mocks import MockCallArgs

from components.access_logs import (
    LOG_DELIVERY_SERVICE,
    AccessLogBucket,
    AccessLogBucketArgs,
    delivery_policy,
)
from components.certificate import CertificateArgs, DnsValidatedCertificate
from stacks.offline import Plan
from stacks.offline.mocks import ELB_SERVICE_ACCOUNTS, OfflineMocks
from tests.support import service_principal, synth_component, synth_stack

ELB_ACCOUNT = "arn:aws:iam::111122223333:root"  # any account: the component passes it through


@pytest.fixture(scope="module")
def logs() -> Plan:
    return synth_component(
        lambda opts: AccessLogBucket(
            "logs",
            AccessLogBucketArgs(elb_account_arn=ELB_ACCOUNT, retention_days=90),
            opts=opts,
        )
    )


def test_bucket_is_private_versioned_and_expiring(logs: Plan) -> None:
    bucket = logs.one("aws:s3/bucket:Bucket")
    assert bucket.protect and bucket.get("tags.crm-platform:purpose") == "alb-access-logs"
    block = logs.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert all(
        block.get(key) is True
        for key in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    ownership = logs.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership.get("rule.objectOwnership") == "BucketOwnerEnforced"
    encryption = logs.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    assert encryption.get("rules.0.applyServerSideEncryptionByDefault.sseAlgorithm") == "AES256"
    (rule,) = logs.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").get(
        "rules"
    )
    assert rule["expiration"]["days"] == 90
    versioning = logs.one("aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.get("versioningConfiguration.status") == "Enabled"


def test_only_log_delivery_may_write_and_only_over_tls(logs: Plan) -> None:
    policy = json.loads(logs.one("aws:s3/bucketPolicy:BucketPolicy").get("policy"))
    by_sid = {statement["Sid"]: statement for statement in policy["Statement"]}
    assert by_sid["DenyInsecureTransport"]["Effect"] == "Deny"
    elb = by_sid["LoadBalancerLogDelivery"]
    assert elb["Principal"] == {"AWS": ELB_ACCOUNT}
    assert elb["Resource"].endswith("/crm/AWSLogs/123456789012/*")
    s3 = by_sid["S3ServerAccessLogDelivery"]
    assert s3["Principal"] == {"Service": service_principal("logging.s3", "eu-central-1")["name"]}
    assert s3["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    allowed = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert {s["Action"] for s in allowed} == {"s3:PutObject"}


def test_without_a_regional_account_the_service_principal_delivers() -> None:
    delivery = service_principal(LOG_DELIVERY_SERVICE, "eu-south-2")["name"]
    statements = delivery_policy("arn:aws:s3:::b", "111122223333", None, delivery, "s3")[
        "Statement"
    ]
    elb = next(s for s in statements if s["Sid"] == "LoadBalancerLogDelivery")
    assert elb["Principal"] == {"Service": delivery}


def _log_delivery_principal(plan: Plan) -> dict:
    log_bucket = next(
        b for b in plan.of_type("aws:s3/bucket:Bucket") if b.get("tags.crm-platform:purpose")
    )
    policy = next(
        p
        for p in plan.of_type("aws:s3/bucketPolicy:BucketPolicy")
        if log_bucket.urn in p.property_dependencies["bucket"]
    )
    statements = json.loads(policy.get("policy"))["Statement"]
    return next(s for s in statements if s["Sid"] == "LoadBalancerLogDelivery")["Principal"]


def test_stack_grants_the_account_the_provider_data_source_answers(prod: Plan) -> None:
    """The account is whatever `aws.elb.getServiceAccount` returns for the region (offline:
    the provider's own table, recorded with its source), never a number in our code."""
    answer = OfflineMocks("eu-central-1").call(
        MockCallArgs("aws:elb/getServiceAccount:getServiceAccount", {"region": "eu-central-1"}, "")
    )
    assert _log_delivery_principal(prod) == {"AWS": answer["arn"]}
    recorded = json.loads(ELB_SERVICE_ACCOUNTS.read_text())
    assert "terraform-provider-aws" in recorded["source"] and len(recorded["commit"]) == 40


def test_a_region_the_data_source_does_not_know_uses_the_service_principal() -> None:
    """eu-south-2 (Spain) opened after August 2022: the provider has no account for it."""
    plan = synth_stack(
        "dev",
        **{
            "aws:region": "eu-south-2",
            "residency": {"allowedRegions": ["eu-south-2", "eu-west-1"]},
        },
    )
    delivery = service_principal(LOG_DELIVERY_SERVICE, "eu-south-2")["name"]
    assert _log_delivery_principal(plan) == {"Service": delivery}


def test_certificate_is_validated_through_the_zone_before_use() -> None:
    plan = synth_component(
        lambda opts: DnsValidatedCertificate(
            "cert", CertificateArgs(domain="crm.example.com", hosted_zone_id="Z123"), opts=opts
        )
    )
    certificate = plan.one("aws:acm/certificate:Certificate")
    record = plan.one("aws:route53/record:Record")
    validation = plan.one("aws:acm/certificateValidation:CertificateValidation")
    assert (certificate.get("domainName"), certificate.get("validationMethod")) == (
        "crm.example.com",
        "DNS",
    )
    assert record.get("zoneId") == "Z123" and record.get("type") == "CNAME"
    assert record.urn in validation.property_dependencies["validationRecordFqdns"]
    assert certificate.urn in validation.property_dependencies["certificateArn"]


def test_attachment_access_is_logged_into_the_log_bucket(prod: Plan) -> None:
    logging = prod.one("aws:s3/bucketLogging:BucketLogging")
    log_bucket = next(
        b for b in prod.of_type("aws:s3/bucket:Bucket") if b.get("tags.crm-platform:purpose")
    )
    assert log_bucket.urn in logging.property_dependencies["targetBucket"]
    assert logging.get("bucket") == prod.outputs["attachmentsBucketName"]
    assert logging.get("targetPrefix").startswith("s3-access/")
