"""The attachments bucket: stable dot-free name, SSE-KMS with the storage key, versioning and
expiry, public access blocked, ACLs off, TLS-only policy, and the CRM's least-privilege policy."""

from __future__ import annotations

import json

import pulumi
import pytest

from components.storage import Storage, StorageArgs
from stacks.offline import Plan, PlannedResource, synthesize

BUCKET = "aws:s3/bucket:Bucket"


def _bucket(plan: Plan) -> PlannedResource:
    (bucket,) = [b for b in plan.of_type(BUCKET) if b.name == f"{plan.stack}-storage"]
    return bucket


def _config(plan: Plan, kind: str) -> PlannedResource:
    """The bucket's sub-resource of a type (`BucketVersioning`, ...), checked to target it."""
    bucket = _bucket(plan)
    token = f"aws:s3/{kind[0].lower()}{kind[1:]}:{kind}"
    (found,) = [r for r in plan.of_type(token) if r.name == bucket.name]
    assert found.property_dependencies["bucket"] == [bucket.urn]
    assert found.parent == bucket.parent
    return found


def test_bucket_name_is_deterministic_and_dot_free(any_stack: Plan) -> None:
    name = _bucket(any_stack).get("bucket")
    assert name == f"crm-platform-{any_stack.stack}-attachments-123456789012"
    assert "." not in name and len(name) <= 63
    assert any_stack.outputs["attachmentsBucketName"] == name


@pytest.mark.parametrize(
    ("stack", "protected"), [("dev", False), ("staging", False), ("prod", True)]
)
def test_bucket_is_protected_in_prod(stack, protected, request) -> None:
    bucket = _bucket(request.getfixturevalue(stack))
    assert bucket.protect is protected
    assert bucket.get("forceDestroy") in (None, False)


def test_default_encryption_is_sse_kms_with_the_storage_key(any_stack: Plan) -> None:
    (rule,) = _config(any_stack, "BucketServerSideEncryptionConfiguration").get("rules")
    default = rule["applyServerSideEncryptionByDefault"]
    assert default["sseAlgorithm"] == "aws:kms"
    assert default["kmsMasterKeyId"] == any_stack.outputs["storageKmsKeyArn"]
    assert any_stack.outputs["storageKmsKeyArn"] == any_stack.outputs["kmsKeyArns"]["storage"]
    assert rule["bucketKeyEnabled"] is True
    assert rule["blockedEncryptionTypes"] == ["SSE-C"]


@pytest.mark.parametrize(("stack", "days"), [("dev", 7), ("staging", 30), ("prod", 90)])
def test_versioning_keeps_old_versions_for_a_while(stack, days, request) -> None:
    plan: Plan = request.getfixturevalue(stack)
    versioning = _config(plan, "BucketVersioning")
    assert versioning.get("versioningConfiguration.status") == "Enabled"
    lifecycle = _config(plan, "BucketLifecycleConfiguration")
    (rule,) = lifecycle.get("rules")
    assert rule["status"] == "Enabled"
    assert rule["filter"] == {}  # the whole bucket
    assert rule["noncurrentVersionExpiration"]["noncurrentDays"] == days
    assert rule["expiration"] == {"expiredObjectDeleteMarker": True}
    assert rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"] > 0
    assert versioning.urn in lifecycle.dependencies


def test_public_access_is_blocked_and_acls_are_off(any_stack: Plan) -> None:
    block = _config(any_stack, "BucketPublicAccessBlock")
    for setting in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls"):
        assert block.get(setting) is True, setting
    assert block.get("restrictPublicBuckets") is True
    ownership = _config(any_stack, "BucketOwnershipControls")
    assert ownership.get("rule.objectOwnership") == "BucketOwnerEnforced"


def test_bucket_policy_refuses_requests_without_tls(any_stack: Plan) -> None:
    bucket = _bucket(any_stack)
    policy = _config(any_stack, "BucketPolicy")
    arn = f"arn:aws:s3:::{bucket.get('bucket')}"
    statements = json.loads(policy.get("policy"))["Statement"]
    assert all(s["Effect"] == "Deny" and s["Principal"] == "*" for s in statements)
    insecure = next(
        s for s in statements if "aws:SecureTransport" in s["Condition"].get("Bool", {})
    )
    assert insecure["Condition"]["Bool"]["aws:SecureTransport"] == "false"
    assert insecure["Action"] == "s3:*"
    assert insecure["Resource"] == [arn, f"{arn}/*"]
    assert _config(any_stack, "BucketPublicAccessBlock").urn in policy.dependencies


def test_component_outputs_exactly_the_access_the_crm_needs() -> None:
    key_arn = "arn:aws:kms:eu-west-1:123456789012:key/storage"

    def component_program() -> None:
        storage = Storage(
            "x",
            StorageArgs(
                bucket_name_prefix="crm-x-attachments",
                region="eu-west-1",
                kms_key_arn=key_arn,
                noncurrent_version_expiration_days=30,
                protect=False,
            ),
        )
        pulumi.export("policy", storage.access_policy_json)
        pulumi.export("name", storage.bucket_name)
        pulumi.export("arn", storage.bucket_arn)
        pulumi.export("region", storage.region)

    plan = synthesize(component_program, stack="test", config={"aws:region": "eu-west-1"})
    bucket_arn = "arn:aws:s3:::crm-x-attachments-123456789012"
    assert plan.outputs["name"] == "crm-x-attachments-123456789012"
    assert plan.outputs["arn"] == bucket_arn
    assert plan.outputs["region"] == "eu-west-1"
    document = json.loads(plan.outputs["policy"])
    grants = {(s["Effect"], json.dumps(s["Action"]), s["Resource"]) for s in document["Statement"]}
    assert grants == {
        ("Allow", '"s3:ListBucket"', bucket_arn),
        ("Allow", '["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]', f"{bucket_arn}/*"),
        ("Allow", '["kms:GenerateDataKey", "kms:Decrypt"]', key_arn),
    }
    assert len(document["Statement"]) == 3
    assert all("Condition" not in s and "NotAction" not in s for s in document["Statement"])
