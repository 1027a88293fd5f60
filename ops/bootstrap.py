"""Bootstrap the self-managed Pulumi state backend: an S3 bucket and a KMS key in the
residency region. Every step compares before it writes, so a re-run changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from ops.aws import PROJECT, client, error_code, partition, require_allowed_region
from ops.errors import UserError
from stacks.settings.delivery import STATE_BUCKET_FORMAT, STATE_KEY_ALIAS

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
TLS_SID = "DenyInsecureTransport"
DEFAULT_KEY_ALIAS = STATE_KEY_ALIAS

Report = Callable[[str, str], None]


@dataclass
class BootstrapResult:
    bucket: str
    region: str
    key_arn: str
    key_alias: str
    changes: list[tuple[str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(status != UNCHANGED for _, status in self.changes)

    @property
    def login_url(self) -> str:
        return f"s3://{self.bucket}?region={self.region}"

    @property
    def secrets_provider(self) -> str:
        return f"awskms://{self.key_alias}?region={self.region}"


def backend_tags(owner: str, classification: str) -> dict[str, str]:
    return {
        "project": PROJECT,
        "environment": "shared",
        "owner": owner,
        "data-classification": classification,
    }


def bootstrap(
    *,
    region: str,
    allowed_regions: Iterable[str],
    bucket: str | None,
    key_alias: str,
    tags: dict[str, str],
    report: Report,
) -> BootstrapResult:
    require_allowed_region(region, allowed_regions)
    if not key_alias.startswith("alias/"):
        raise UserError(f"KMS alias must start with 'alias/': {key_alias!r}")
    account = client("sts", region).get_caller_identity()["Account"]
    bucket = bucket or STATE_BUCKET_FORMAT.format(account=account, region=region)

    kms = client("kms", region)
    s3 = client("s3", region)
    result = BootstrapResult(bucket=bucket, region=region, key_arn="", key_alias=key_alias)

    def record(item: str, status: str) -> None:
        result.changes.append((item, status))
        report(item, status)

    key_arn, status = ensure_kms_key(kms, key_alias, tags)
    result.key_arn = key_arn
    record(f"KMS key {key_alias}", status)
    record("KMS key rotation", ensure_key_rotation(kms, key_arn))
    record(f"S3 bucket {bucket}", ensure_bucket(s3, bucket, region))
    owner = {"ExpectedBucketOwner": account}
    record("versioning", ensure_versioning(s3, bucket, owner))
    record("SSE-KMS with bucket key", ensure_encryption(s3, bucket, key_arn, owner))
    record("public access block", ensure_public_access_block(s3, bucket, owner))
    record("object ownership BucketOwnerEnforced", ensure_ownership(s3, bucket, owner))
    record("TLS-only bucket policy", ensure_tls_policy(s3, bucket, partition(region), owner))
    record("tags", ensure_bucket_tags(s3, bucket, tags, owner))
    return result


def ensure_kms_key(kms, alias: str, tags: dict[str, str]) -> tuple[str, str]:
    try:
        return kms.describe_key(KeyId=alias)["KeyMetadata"]["Arn"], UNCHANGED
    except ClientError as exc:
        if error_code(exc) != "NotFoundException":
            raise
    key = kms.create_key(
        Description=f"{PROJECT} Pulumi secrets provider",
        KeyUsage="ENCRYPT_DECRYPT",
        KeySpec="SYMMETRIC_DEFAULT",
        Tags=[{"TagKey": k, "TagValue": v} for k, v in tags.items()],
    )["KeyMetadata"]
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    return key["Arn"], CREATED


def ensure_key_rotation(kms, key_arn: str) -> str:
    if kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"]:
        return UNCHANGED
    kms.enable_key_rotation(KeyId=key_arn)
    return UPDATED


def ensure_bucket(s3, bucket: str, region: str) -> str:
    """Create the bucket, or accept it if this account already owns it in the right region."""
    kwargs = {"Bucket": bucket, "ObjectOwnership": "BucketOwnerEnforced"}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**kwargs)
        return CREATED
    except ClientError as exc:
        code = error_code(exc)
        if code == "BucketAlreadyExists":
            raise UserError(
                f"S3 bucket name {bucket!r} is owned by another AWS account; "
                "choose another name with --bucket."
            ) from exc
        if code != "BucketAlreadyOwnedByYou":
            raise
    actual = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint") or "us-east-1"
    if actual != region:
        raise UserError(
            f"S3 bucket {bucket!r} already exists in {actual}, not {region}; "
            "use another bucket name for this region."
        )
    return UNCHANGED


def ensure_versioning(s3, bucket: str, owner: dict) -> str:
    if s3.get_bucket_versioning(Bucket=bucket, **owner).get("Status") == "Enabled":
        return UNCHANGED
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}, **owner)
    return UPDATED


def ensure_encryption(s3, bucket: str, key_arn: str, owner: dict) -> str:
    wanted = {
        "ApplyServerSideEncryptionByDefault": {
            "SSEAlgorithm": "aws:kms",
            "KMSMasterKeyID": key_arn,
        },
        "BucketKeyEnabled": True,
    }
    try:
        rules = s3.get_bucket_encryption(Bucket=bucket, **owner)[
            "ServerSideEncryptionConfiguration"
        ]["Rules"]
    except ClientError as exc:
        if error_code(exc) != "ServerSideEncryptionConfigurationNotFoundError":
            raise
        rules = []
    if rules == [wanted]:
        return UNCHANGED
    s3.put_bucket_encryption(
        Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [wanted]}, **owner
    )
    return UPDATED


PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def ensure_public_access_block(s3, bucket: str, owner: dict) -> str:
    try:
        current = s3.get_public_access_block(Bucket=bucket, **owner)[
            "PublicAccessBlockConfiguration"
        ]
    except ClientError as exc:
        if error_code(exc) != "NoSuchPublicAccessBlockConfiguration":
            raise
        current = {}
    if current == PUBLIC_ACCESS_BLOCK:
        return UNCHANGED
    s3.put_public_access_block(
        Bucket=bucket, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK, **owner
    )
    return UPDATED


def ensure_ownership(s3, bucket: str, owner: dict) -> str:
    wanted = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    try:
        current = s3.get_bucket_ownership_controls(Bucket=bucket, **owner)["OwnershipControls"]
    except ClientError as exc:
        if error_code(exc) != "OwnershipControlsNotFoundError":
            raise
        current = {}
    if current == wanted:
        return UNCHANGED
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=wanted, **owner)
    return UPDATED


def tls_statement(bucket: str, aws_partition: str) -> dict:
    arn = f"arn:{aws_partition}:s3:::{bucket}"
    return {
        "Sid": TLS_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def ensure_tls_policy(s3, bucket: str, aws_partition: str, owner: dict) -> str:
    """Add (or repair) the TLS-only statement and keep any other statements in the policy."""
    try:
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket, **owner)["Policy"])
    except ClientError as exc:
        if error_code(exc) != "NoSuchBucketPolicy":
            raise
        policy = {"Version": "2012-10-17", "Statement": []}
    wanted = tls_statement(bucket, aws_partition)
    statements = policy.get("Statement", [])
    if [s for s in statements if s.get("Sid") == TLS_SID] == [wanted]:
        return UNCHANGED
    others = [s for s in statements if s.get("Sid") != TLS_SID]
    policy["Statement"] = [*others, wanted]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy), **owner)
    return UPDATED


def ensure_bucket_tags(s3, bucket: str, tags: dict[str, str], owner: dict) -> str:
    try:
        tag_set = s3.get_bucket_tagging(Bucket=bucket, **owner)["TagSet"]
    except ClientError as exc:
        if error_code(exc) != "NoSuchTagSet":
            raise
        tag_set = []
    current = {t["Key"]: t["Value"] for t in tag_set}
    if all(current.get(k) == v for k, v in tags.items()):
        return UNCHANGED
    merged = {**current, **tags}
    s3.put_bucket_tagging(
        Bucket=bucket,
        Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in merged.items()]},
        **owner,
    )
    return UPDATED
