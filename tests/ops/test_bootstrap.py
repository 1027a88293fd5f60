"""`bootstrap`: the state backend is created hardened, re-runs change nothing, drift is
repaired, and user errors (ownership, region, credentials, permissions) end cleanly."""

from __future__ import annotations

import json

import boto3
import pytest
from moto.core.authorization import enable_iam_authentication

from ops.bootstrap import DEFAULT_KEY_ALIAS, UNCHANGED, backend_tags, bootstrap
from ops.stack_settings import stack_settings
from stacks.settings import StackSettings
from tests.ops.helpers import ACCOUNT, REGION, assert_clean_failure, limited_credentials

BUCKET = f"crm-platform-pulumi-state-{ACCOUNT}-{REGION}"
DEV = stack_settings("dev")


def run_bootstrap(**overrides):
    kwargs = {
        "region": REGION,
        "allowed_regions": ["eu-central-1", "eu-west-1"],
        "bucket": None,
        "key_alias": DEFAULT_KEY_ALIAS,
        "tags": backend_tags(DEV.owner, DEV.data_classification),
        "report": lambda item, status: None,
    }
    return bootstrap(**{**kwargs, **overrides})


def test_creates_a_hardened_backend_and_prints_the_login_lines(aws, cli):
    result = cli("bootstrap", "dev")
    assert result.exit_code == 0, result.output

    s3 = boto3.client("s3", region_name=REGION)
    kms = boto3.client("kms", region_name=REGION)
    key = kms.describe_key(KeyId=DEFAULT_KEY_ALIAS)["KeyMetadata"]
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"]
    assert s3.get_bucket_location(Bucket=BUCKET)["LocationConstraint"] == REGION
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    (rule,) = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": key["Arn"],
    }
    assert rule["BucketKeyEnabled"] is True
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"),
        True,
    )
    ownership = s3.get_bucket_ownership_controls(Bucket=BUCKET)["OwnershipControls"]
    assert ownership["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    (statement,) = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert f"arn:aws:s3:::{BUCKET}/*" in statement["Resource"]
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=BUCKET)["TagSet"]}
    assert tags["project"] == "crm-platform"
    # the same tag defaults as the stacks: the settings model's
    assert tags["owner"] == StackSettings.model_fields["owner"].default == DEV.owner
    assert tags["data-classification"] == DEV.data_classification

    assert f"pulumi login 's3://{BUCKET}?region={REGION}'" in result.output
    assert f"--secrets-provider 'awskms://{DEFAULT_KEY_ALIAS}?region={REGION}'" in result.output


def test_rerun_changes_nothing_and_says_so(aws, cli):
    assert cli("bootstrap", "dev").exit_code == 0
    policy_before = boto3.client("s3").get_bucket_policy(Bucket=BUCKET)["Policy"]

    again = run_bootstrap()
    assert again.changes and all(status == UNCHANGED for _, status in again.changes)
    result = cli("bootstrap", "dev")
    assert result.exit_code == 0
    assert "nothing changed" in result.output
    assert boto3.client("s3").get_bucket_policy(Bucket=BUCKET)["Policy"] == policy_before
    assert len(boto3.client("kms").list_keys()["Keys"]) == 1


def test_repairs_drift_and_keeps_foreign_policy_statements(aws):
    run_bootstrap()
    s3 = boto3.client("s3")
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    s3.delete_public_access_block(Bucket=BUCKET)
    audit_read = {
        "Sid": "AuditRead",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/audit"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/*",
    }
    s3.put_bucket_policy(
        Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [audit_read]})
    )

    changes = dict(run_bootstrap().changes)

    assert changes["versioning"] == "updated"
    assert changes["public access block"] == "updated"
    assert changes["TLS-only bucket policy"] == "updated"
    assert changes["SSE-KMS with bucket key"] == UNCHANGED
    statements = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"]
    assert [s["Sid"] for s in statements] == ["AuditRead", "DenyInsecureTransport"]
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"


def test_bucket_owned_by_another_account_is_a_clear_error(aws, cli, monkeypatch):
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "111111111111")
    boto3.client("s3").create_bucket(
        Bucket="taken-state-bucket", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    monkeypatch.delenv("MOTO_ACCOUNT_ID")

    result = cli("bootstrap", "dev", "--bucket", "taken-state-bucket")

    assert_clean_failure(result, 2, "owned by another AWS account", "--bucket")


def test_own_bucket_in_another_region_is_refused(aws, cli):
    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket="state-elsewhere", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    result = cli("bootstrap", "dev", "--bucket", "state-elsewhere")
    assert_clean_failure(result, 2, "already exists in eu-west-1, not eu-central-1")


@pytest.mark.parametrize("region", ["us-east-1", "eu-north-1"])
def test_region_outside_allow_list_is_refused_before_any_change(aws, cli, region):
    result = cli("bootstrap", "dev", "--region", region)
    assert_clean_failure(result, 2, f"'{region}' is outside the residency allow-list")
    assert boto3.client("s3").list_buckets()["Buckets"] == []
    assert boto3.client("kms", region_name=region).list_keys()["Keys"] == []


def test_another_region_of_the_stacks_allow_list_is_accepted(aws, cli):
    result = cli("bootstrap", "dev", "--region", "eu-west-1")
    assert result.exit_code == 0, result.output
    assert "region=eu-west-1" in result.output


def test_unknown_stack_is_a_user_error(aws, cli):
    assert_clean_failure(cli("bootstrap", "qa"), 2, "no file Pulumi.qa.yaml")


def test_a_profile_that_does_not_exist_is_a_user_error(cli, monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "nosuch")
    assert_clean_failure(cli("bootstrap", "dev"), 2, "The config profile (nosuch) could not be")


def test_missing_credentials(cli):
    result = cli("bootstrap", "dev")
    assert_clean_failure(result, 2, "No AWS credentials found")


def test_access_denied_is_reported_with_the_denied_call(aws, cli, monkeypatch):
    limited_credentials(monkeypatch, "sts:GetCallerIdentity")
    with enable_iam_authentication():
        result = cli("bootstrap", "dev")
    assert_clean_failure(result, 2, "Access denied calling DescribeKey")
    assert boto3.client("s3").list_buckets()["Buckets"] == []
