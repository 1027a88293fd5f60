"""The access-log bucket and the DNS-validated certificate at the edge of the stack."""

from __future__ import annotations

import json

import pytest

from components.access_logs import AccessLogBucket, AccessLogBucketArgs, delivery_policy
from components.certificate import CertificateArgs, DnsValidatedCertificate
from stacks.offline import Plan
from tests.support import synth_component


@pytest.fixture(scope="module")
def logs() -> Plan:
    return synth_component(
        lambda opts: AccessLogBucket(
            "logs", AccessLogBucketArgs(region="eu-central-1", retention_days=90), opts=opts
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
    assert elb["Principal"] == {"AWS": "arn:aws:iam::054676820949:root"}
    assert elb["Resource"].endswith("/crm/AWSLogs/123456789012/*")
    s3 = by_sid["S3ServerAccessLogDelivery"]
    assert s3["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert s3["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    allowed = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert {s["Action"] for s in allowed} == {"s3:PutObject"}


def test_newer_regions_deliver_through_the_service_principal() -> None:
    statements = delivery_policy("arn:aws:s3:::b", "111122223333", "eu-south-2")["Statement"]
    elb = next(s for s in statements if s["Sid"] == "LoadBalancerLogDelivery")
    assert elb["Principal"] == {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}


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
