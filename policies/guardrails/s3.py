"""S3 lockdown: public access block, SSE-KMS with bucket keys, TLS-only policy, versioning,
BucketOwnerEnforced, access logging.

pulumi-aws v7 configures buckets through separate resources (`aws:s3/bucket...:...`) that point
at the bucket; stack policies pair them with `aws:s3/bucket:Bucket` through that reference. The
deprecated inline settings of `Bucket` are honoured too.

Log buckets: ALB access logs and S3 server access logs can only be delivered to buckets encrypted
with SSE-S3 (AES256), so a bucket tagged `<logBucketTagKey>=<one of logBucketTagValues>` may use
AES256 and needs no versioning or access logging of its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .core import (
    ADVISORY,
    CRITICAL,
    HIGH,
    MEDIUM,
    Res,
    Stack,
    as_bool,
    as_list,
    boolean,
    entries,
    field,
    policy_statements,
    resource_policy,
    setting,
    show_list,
    stack_policy,
    string,
    strings,
)

BUCKETS = frozenset({"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"})
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ACCOUNT_PUBLIC_ACCESS_BLOCK = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
ENCRYPTION = frozenset(
    {
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    }
)
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
VERSIONING = frozenset(
    {"aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"}
)
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
ACLS = frozenset({"aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2"})
LOGGING = frozenset(
    {"aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2"}
)

PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
PUBLIC_GROUPS = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")

LOG_BUCKET_CONFIG = {
    "logBucketTagKey": string("crm-platform:purpose", "Tag key marking a log delivery bucket."),
    "logBucketTagValues": strings(
        ["alb-access-logs", "s3-access-logs"],
        "Tag values marking log delivery buckets (these may use SSE-S3/AES256).",
    ),
}


def is_log_bucket(bucket: Res, config: Mapping[str, Any]) -> bool:
    tags = {**bucket.tags("tagsAll"), **bucket.tags()}
    return tags.get(config["logBucketTagKey"]) in config["logBucketTagValues"]


def companions(stack: Stack, bucket: Res, types: frozenset[str] | set[str]) -> list[Res]:
    """Resources of `types` whose `bucket` input refers to `bucket`."""
    return [res for res in stack.of_type(types) if bucket in stack.refs(res, "bucket", BUCKETS)]


@resource_policy(
    "s3-public-access-block",
    types={PUBLIC_ACCESS_BLOCK, ACCOUNT_PUBLIC_ACCESS_BLOCK},
    description="S3 public access blocks must enable all four protections.",
    severity=CRITICAL,
    remediation="Set block_public_acls, block_public_policy, ignore_public_acls and "
    "restrict_public_buckets to True.",
    tags=["s3", "public-exposure", "SH:S3.8", "SH:S3.1", "AwsSolutions-S2"],
)
def public_access_block(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    off = [flag for flag in PAB_FLAGS if not as_bool(res.get(flag))]
    if off:
        yield f"{res.label} leaves {show_list(off)} unset or false; all four must be true."


def _sse_rules(res: Res) -> list[Any]:
    if res.type in BUCKETS:
        return entries(res.get("serverSideEncryptionConfiguration.rule")) or []
    return entries(res.get("rules")) or []


def _sse_problems(res: Res, allow_aes256: bool) -> Iterator[str]:
    rules = _sse_rules(res)
    if not rules:
        yield f"{res.label} declares no server-side encryption rule."
    for index, rule in enumerate(rules):
        algorithm = field(rule, "applyServerSideEncryptionByDefault.sseAlgorithm")
        inline = res.type in BUCKETS
        where = "serverSideEncryptionConfiguration.rule" if inline else f"rules[{index}]"
        if algorithm == "AES256" and allow_aes256:
            continue
        if algorithm not in KMS_ALGORITHMS:
            allowed = (
                "aws:kms or AES256" if allow_aes256 else "aws:kms (AES256 only for log buckets)"
            )
            yield (
                f"{res.label} {where} {setting('sseAlgorithm', algorithm)}; it must be {allowed}."
            )
        elif not field(rule, "applyServerSideEncryptionByDefault.kmsMasterKeyId"):
            yield (
                f"{res.label} {where} leaves kmsMasterKeyId unset, so the AWS-managed aws/s3 key "
                "would be used; set a customer-managed key."
            )
        elif algorithm == "aws:kms" and not as_bool(field(rule, "bucketKeyEnabled")):
            enabled = setting("bucketKeyEnabled", field(rule, "bucketKeyEnabled"))
            yield f"{res.label} {where} {enabled}; it must be true to cut KMS requests."


@stack_policy(
    "s3-bucket-encryption",
    subjects=BUCKETS | ENCRYPTION,
    description="Every bucket must default to SSE-KMS with a customer key and a bucket key.",
    severity=HIGH,
    remediation=(
        "Add aws.s3.BucketServerSideEncryptionConfiguration with sse_algorithm='aws:kms', "
        "kms_master_key_id and bucket_key_enabled=True; ALB/S3 log buckets use AES256 and must be "
        "tagged as log buckets."
    ),
    config=LOG_BUCKET_CONFIG,
    tags=["s3", "encryption", "SH:S3.17", "S3DefaultEncryptionKMS", "CKV_AWS_145"],
)
def bucket_encryption(stack: Stack, res: Res, config: Mapping[str, Any]) -> Iterator[Any]:
    if res.type in ENCRYPTION:
        if not stack.refs(res, "bucket", BUCKETS):  # a bucket of another stack: no exemption
            yield from _sse_problems(res, False)
        return
    configs = companions(stack, res, ENCRYPTION)
    if res.present("serverSideEncryptionConfiguration"):
        configs.append(res)
    if not configs:
        yield (
            f"{res.label} has no server-side encryption configuration "
            "(aws:s3/bucketServerSideEncryptionConfiguration:... with bucket = this bucket); it "
            "must default to aws:kms with a customer-managed key."
        )
    log_bucket = is_log_bucket(res, config)
    for sse in configs:
        for message in _sse_problems(sse, log_bucket):
            yield sse, message


def denies_insecure_transport(document: Any) -> bool:
    """True if a Deny statement applies when aws:SecureTransport is false.

    Raises ValueError if the document cannot be read.
    """
    for statement in policy_statements(document):
        if statement.get("Effect") != "Deny":
            continue
        condition = statement.get("Condition")
        if not isinstance(condition, Mapping):
            continue
        for operator, block in condition.items():
            if not str(operator).startswith("Bool") or not isinstance(block, Mapping):
                continue
            for key, value in block.items():
                if str(key).lower() == "aws:securetransport" and any(
                    as_bool(v) is False for v in as_list(value)
                ):
                    return True
    return False


@resource_policy(
    "s3-tls-only-policy",
    types=BUCKETS | {BUCKET_POLICY},
    description="Bucket policies must deny requests that do not use TLS.",
    severity=HIGH,
    remediation=(
        'Add {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [bucket, '
        'bucket/*], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}.'
    ),
    tags=["s3", "encryption-in-transit", "SH:S3.5", "AwsSolutions-S10"],
)
def tls_only_policy(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    document = res.get("policy")
    if document is None:
        return  # Buckets without an inline policy are checked by s3-bucket-companions.
    try:
        compliant = denies_insecure_transport(document)
    except ValueError as error:
        yield f"{res.label} has a policy that cannot be checked because {error}; fix the JSON."
        return
    if not compliant:
        yield (
            f"{res.label} policy has no Deny statement conditioned on aws:SecureTransport = "
            '"false"; requests over plain HTTP must be refused.'
        )


@resource_policy(
    "s3-versioning-enabled",
    types=VERSIONING | BUCKETS,
    description="Bucket versioning must be enabled.",
    severity=MEDIUM,
    remediation="Add aws.s3.BucketVersioning with versioning_configuration.status='Enabled'.",
    tags=["s3", "protection", "SH:S3.14", "CKV_AWS_21"],
)
def versioning_enabled(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if res.type in BUCKETS:
        if res.present("versioning") and not as_bool(res.get("versioning.enabled")):
            yield f"{res.label} sets versioning.enabled to false; it must be true."
        return
    status = res.get("versioningConfiguration.status")
    if status != "Enabled":
        yield (
            f"{res.label} {setting('versioningConfiguration.status', status)}; it must be "
            '"Enabled".'
        )


def _public_grants(res: Res) -> list[str]:
    grants = entries(res.get("accessControlPolicy.grants")) or []
    return [uri for grant in grants if (uri := field(grant, "grantee.uri")) in PUBLIC_GROUPS]


@resource_policy(
    "s3-object-ownership-enforced",
    types=BUCKETS | ACLS | {OWNERSHIP},
    description="Buckets must disable ACLs (BucketOwnerEnforced) and grant nothing publicly.",
    severity=HIGH,
    remediation="Add aws.s3.BucketOwnershipControls with object_ownership='BucketOwnerEnforced' "
    "and remove public ACLs.",
    tags=["s3", "public-exposure", "SH:S3.12", "CP:s3-bucket-disallow-public-read"],
)
def object_ownership(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if res.type == OWNERSHIP:
        ownership = res.get("rule.objectOwnership")
        if ownership != "BucketOwnerEnforced":
            yield (
                f"{res.label} {setting('rule.objectOwnership', ownership)}; it must be "
                '"BucketOwnerEnforced" so ACLs are disabled.'
            )
        return
    acl = res.get("acl")
    if acl not in (None, "private"):
        yield f'{res.label} {setting("acl", acl)}; only "private" (or none) is allowed.'
    public = _public_grants(res) if res.type in ACLS else []
    if public:
        yield f"{res.label} grants access to {show_list(public)}; public grants are not allowed."


@stack_policy(
    "s3-bucket-companions",
    subjects=BUCKETS,
    description="Every bucket must have a public access block, a bucket policy, ownership "
    "controls and (except log buckets) versioning.",
    severity=HIGH,
    remediation=(
        "Create aws.s3.BucketPublicAccessBlock, aws.s3.BucketPolicy (TLS-only), "
        "aws.s3.BucketOwnershipControls and aws.s3.BucketVersioning for every bucket."
    ),
    config={
        **LOG_BUCKET_CONFIG,
        "versionLogBuckets": boolean(False, "Also require versioning on log buckets."),
    },
    tags=["s3", "public-exposure", "CKV2_AWS_6"],
)
def bucket_companions(stack: Stack, bucket: Res, config: Mapping[str, Any]) -> Iterator[str]:
    missing = []
    if not companions(stack, bucket, {PUBLIC_ACCESS_BLOCK}):
        missing.append(PUBLIC_ACCESS_BLOCK)
    if not bucket.present("policy") and not companions(stack, bucket, {BUCKET_POLICY}):
        missing.append(BUCKET_POLICY)
    if not companions(stack, bucket, {OWNERSHIP}):
        missing.append(OWNERSHIP)
    versioned = bucket.present("versioning") or companions(stack, bucket, VERSIONING)
    if not versioned and (config["versionLogBuckets"] or not is_log_bucket(bucket, config)):
        missing.append("aws:s3/bucketVersioning:BucketVersioning")
    if missing:
        yield (
            f"{bucket.label} has no {', '.join(missing)} referring to it through bucket; every "
            "bucket needs them."
        )


@stack_policy(
    "s3-access-logging",
    subjects=BUCKETS,
    description="Buckets (other than log buckets) should log server access.",
    severity=MEDIUM,
    enforcement=ADVISORY,
    remediation="Add aws.s3.BucketLogging with target_bucket=<a log bucket>.",
    config=LOG_BUCKET_CONFIG,
    tags=["s3", "logging", "SH:S3.9", "AwsSolutions-S1", "CKV_AWS_18"],
)
def access_logging(stack: Stack, bucket: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if is_log_bucket(bucket, config) or bucket.present("logging.targetBucket"):
        return
    if not companions(stack, bucket, LOGGING):
        yield (
            f"{bucket.label} has no aws:s3/bucketLogging:BucketLogging referring to it; server "
            "access should be logged to a log bucket."
        )
