"""Data residency: every regional AWS resource and every copy of its data stay in allowed regions.

Effective region of a resource = its own `region` input (pulumi-aws v7), else its provider's
`region` input, else the policy config `defaultRegion`. A region that cannot be determined, or
that is only known after deployment, is a violation (fail closed). Global services carry no data
location and are exempt; the exempt lists name only types that have no `region` input in
pulumi-aws (a test checks this against the installed SDK).

A copy source/destination given as an ARN is judged by the ARN's region. An ARN that is unknown
during preview comes from a resource of this stack, whose own region this pack checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from .core import (
    CRITICAL,
    UNKNOWN,
    Path,
    Res,
    Stack,
    all_strings,
    arn_region,
    as_bool,
    boolean,
    entries,
    field,
    identities,
    resource_policy,
    show,
    show_list,
    stack_policy,
)

AWS_PROVIDER = "pulumi:providers:aws"

# Services without a data location (the SCP region-deny examples exempt the same ones).
GLOBAL_MODULES = frozenset(
    {
        "account",
        "billing",
        "budgets",
        "cloudfront",
        "costexplorer",
        "costoptimizationhub",
        "cur",
        "globalaccelerator",
        "iam",
        "networkmanager",
        "organizations",
        "route53domains",
        "route53recoverycontrol",
        "route53recoveryreadiness",
        "savingsplans",
        "shield",
        "waf",
    }
)
# Global resources of otherwise regional services (Route 53 Resolver, for one, is regional).
GLOBAL_TYPES = frozenset(
    {
        "aws:backup/globalSettings:GlobalSettings",
        "aws:directconnect/gateway:Gateway",
        "aws:route53/cidrCollection:CidrCollection",
        "aws:route53/cidrLocation:CidrLocation",
        "aws:route53/delegationSet:DelegationSet",
        "aws:route53/healthCheck:HealthCheck",
        "aws:route53/hostedZoneDnsSec:HostedZoneDnsSec",
        "aws:route53/keySigningKey:KeySigningKey",
        "aws:route53/queryLog:QueryLog",
        "aws:route53/record:Record",
        "aws:route53/recordsExclusive:RecordsExclusive",
        "aws:route53/trafficPolicy:TrafficPolicy",
        "aws:route53/trafficPolicyInstance:TrafficPolicyInstance",
        "aws:route53/vpcAssociationAuthorization:VpcAssociationAuthorization",
        "aws:route53/zone:Zone",
        "aws:route53/zoneAssociation:ZoneAssociation",
        "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",
    }
)

# Every region of every partition (`eu-central-1`, `us-gov-west-1`, `us-isob-east-1`,
# `eusc-de-east-1`); tests check it against botocore's partitions table.
REGION_PATTERN = "^[a-z]{2,4}(-[a-z]+)+-[0-9]+$"
ALLOWED_REGIONS = {
    "type": "array",
    "items": {"type": "string", "pattern": REGION_PATTERN},
    "minItems": 1,
    "uniqueItems": True,
    "description": "Regions where resources and copies of data may live. Required.",
}
ALLOW_MULTI_REGION = boolean(
    False,
    "Allow multi-Region primitives (KMS multi-Region keys, Aurora global clusters, ElastiCache "
    "global datastores). Their replicas must then be declared in this stack.",
)

DEFAULT_REGION = {
    "type": "string",
    "pattern": REGION_PATTERN,
    "description": "Region assumed when neither a resource nor its provider sets one.",
}

RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
BUCKETS = frozenset({"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"})
REPLICATION_CONFIGS = frozenset({"aws:s3/bucketReplicationConfig:BucketReplicationConfig"})
BACKUP_REPLICATION = (
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
)
SNAPSHOT_COPIES = frozenset(
    {"aws:rds/snapshotCopy:SnapshotCopy", "aws:rds/clusterSnapshotCopy:ClusterSnapshotCopy"}
)
COPY_TYPES = frozenset(
    {
        RDS_INSTANCE,
        RDS_CLUSTER,
        BACKUP_REPLICATION,
        *SNAPSHOT_COPIES,
        *REPLICATION_CONFIGS,
        "aws:rds/globalCluster:GlobalCluster",
        "aws:kms/key:Key",
        "aws:kms/externalKey:ExternalKey",
        "aws:kms/replicaKey:ReplicaKey",
        "aws:kms/replicaExternalKey:ReplicaExternalKey",
        "aws:secretsmanager/secret:Secret",
        "aws:dynamodb/table:Table",
        "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter",
        "aws:cloudwatch/logDestination:LogDestination",
        "aws:backup/plan:Plan",
        "aws:ecr/replicationConfiguration:ReplicationConfiguration",
        "aws:ec2/vpcPeeringConnection:VpcPeeringConnection",
    }
)


# An ARN's region field, or a regional AWS endpoint host (sqs.eu-west-1.amazonaws.com, ...).
ARN_REGION = re.compile(r"\barn:[\w-]+:[\w-]+:([a-z]{2}(?:-[a-z]+)+-\d+):")
HOST_REGION = re.compile(r"\b[\w.-]+\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?\b")

# Reviewed inputs that name a place without moving data there: labels and free text.
NOT_DATA_PATHS = frozenset({"tags", "tagsAll", "description", "name", "namePrefix"})


def named_regions(text: str) -> set[str]:
    """Regions named by the ARNs and AWS endpoints inside `text` (JSON documents included)."""
    return {m.group(1) for pattern in (ARN_REGION, HOST_REGION) for m in pattern.finditer(text)}


def destination_problems(res: Res, allowed: list[str]) -> Iterator[str]:
    """Inputs of `res` that name an ARN or AWS endpoint outside `allowed` (labels excepted)."""
    for prop in sorted(set(res.props) - NOT_DATA_PATHS - {"region"}):
        regions = {r for text in all_strings(res.peek(prop)) for r in named_regions(text)}
        outside = sorted(regions - set(allowed))
        if outside:
            yield (
                f"{res.label} sends data through {prop}, which names region(s) "
                f"{show_list(outside)}; destinations must be in {show_list(allowed)}."
            )


def is_regional_aws(resource_type: str) -> bool:
    if resource_type == AWS_PROVIDER:
        return True
    if not resource_type.startswith("aws:"):
        return False
    module = resource_type.split(":")[1].split("/")[0]
    return module not in GLOBAL_MODULES and resource_type not in GLOBAL_TYPES


def effective_region(res: Res, default: str | None) -> tuple[Any, str]:
    """(region or UNKNOWN or None, where it came from)."""
    own = res.peek("region")
    if own is not None and own != "":
        return own, "its own region input"
    if res.type != AWS_PROVIDER and res.provider is not None:
        inherited = res.provider.peek("region")
        if inherited is not None and inherited != "":
            return inherited, f'the region of its provider "{res.provider.name}"'
    if default and res.type != AWS_PROVIDER:  # a provider without region reads the environment
        return default, "the policy config defaultRegion"
    return None, "nowhere"


def _allowed(config: Mapping[str, Any]) -> list[str]:
    return list(config.get("allowedRegions") or [])


def _region_problem(label: str, region: Any, source: str, allowed: list[str]) -> str | None:
    """The message for a region that is not verifiably allowed, or None."""
    if not allowed:
        return (
            f"{label} cannot be checked for data residency because no allowed regions are "
            "configured; set allowedRegions in the policy pack config."
        )
    if region is None:
        return (
            f"{label} names no region (no region input, none on its provider, no applicable "
            "defaultRegion), so its region cannot be determined and it is rejected (fail "
            f"closed); set region explicitly to one of {show_list(allowed)}."
        )
    if region is UNKNOWN:
        return (
            f"{label} takes its region from {source}, which is only known after deployment, so "
            f"residency cannot be verified and it is rejected (fail closed); use a literal "
            f"region from {show_list(allowed)}."
        )
    if region not in allowed:
        return (
            f"{label} would be created in region {show(region)} (from {source}); data may only "
            f"live in {show_list(allowed)}."
        )
    return None


@resource_policy(
    "residency-region-allowlist",
    types=is_regional_aws,
    description="Regional AWS resources, AWS providers and every ARN or AWS endpoint an input "
    "names must be in an allowed region.",
    severity=CRITICAL,
    remediation=(
        "Set the provider's region (or the resource's region input) to an allowed region, and "
        "point subscriptions, targets, queues, streams, destinations and peers at resources in "
        "an allowed region (only labels: tags, description, name are exempt). Allowed regions "
        "come from the policy config allowedRegions."
    ),
    config={
        "allowedRegions": ALLOWED_REGIONS,
        "defaultRegion": DEFAULT_REGION,
    },
    required=["allowedRegions"],
    tags=["residency", "replication", "SCP aws:RequestedRegion", "CT.MULTISERVICE.PV.1"],
)
def region_allowlist(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    region, source = effective_region(res, config.get("defaultRegion"))
    problem = _region_problem(res.label, region, source, _allowed(config))
    if problem:
        yield problem
    # One policy for both: a second one on every AWS resource would double the gate's work.
    yield from destination_problems(res, _allowed(config))


# --- copy destinations -----------------------------------------------------------------------


def _arn(res: Res, what: str, prop: str, value: Any, allowed: list[str]) -> Iterator[str]:
    """Check the region in an ARN-valued property (unknown ARNs are in-stack resources)."""
    region = arn_region(value)
    if region and region not in allowed:
        yield (
            f"{res.label} uses {what} in region {region} ({prop} = {show(value)}); "
            f"it must be in {show_list(allowed)}."
        )


def _region(res: Res, what: str, prop: str, value: Any, allowed: list[str]) -> Iterator[str]:
    """Check an explicit destination region; an unknown one fails closed."""
    if value is not None and (value is UNKNOWN or value not in allowed):
        yield (
            f"{res.label} sends {what} to region {show(value)} ({prop}); copies of data may "
            f"only go to {show_list(allowed)}."
        )


def _prop_arn(res: Res, what: str, prop: str, allowed: list[str]) -> Iterator[str]:
    return _arn(res, what, prop, res.peek(prop), allowed)


def _multi_region(res: Res, what: str, config: Mapping[str, Any]) -> Iterator[str]:
    if not config["allowMultiRegionReplication"]:
        yield (
            f"{res.label} {what}, which replicates data to Regions outside this stack's "
            "control; set allowMultiRegionReplication in the policy config only if every "
            "replica is declared in this stack."
        )


def _nested(res: Res, path: Path) -> Iterator[tuple[str, Any]]:
    """(property path, value) pairs for `path` = (list, ..., leaf) across nested lists."""
    *lists, leaf = path
    level: list[tuple[str, Any]] = [("", res.props)]
    for name in lists:
        expanded = []
        for prefix, node in level:
            items = entries(field(node, name))
            if items is None:
                yield f"{prefix}{name}", UNKNOWN
                continue
            expanded += [(f"{prefix}{name}[{i}].", item) for i, item in enumerate(items)]
        level = expanded
    for prefix, node in level:
        yield f"{prefix}{leaf}", field(node, leaf)


def _nested_regions(res: Res, path: Path, allowed: list[str], what: str) -> Iterator[str]:
    for prop, value in _nested(res, path):
        yield from _region(res, what, prop, value, allowed)


def _nested_arns(res: Res, path: Path, allowed: list[str], what: str) -> Iterator[str]:
    for prop, value in _nested(res, path):
        yield from _arn(res, what, prop, value, allowed)


@resource_policy(
    "residency-copy-destinations",
    types=COPY_TYPES,
    description="Replicas, backup copies and log/replication destinations must stay in allowed "
    "regions.",
    severity=CRITICAL,
    remediation=(
        "Point replicas, snapshot/backup copies, replica keys and log destinations at an allowed "
        "region, or remove the cross-region copy."
    ),
    config={"allowedRegions": ALLOWED_REGIONS, "allowMultiRegionReplication": ALLOW_MULTI_REGION},
    required=["allowedRegions"],
    tags=["residency", "replication", "backup", "SCP aws:RequestedRegion"],
)
def copy_destinations(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    allowed = _allowed(config)
    kind = res.type
    if kind == RDS_INSTANCE:
        yield from _prop_arn(res, "a replication source", "replicateSourceDb", allowed)
        yield from _prop_arn(res, "a KMS key", "kmsKeyId", allowed)
    elif kind == RDS_CLUSTER:
        yield from _prop_arn(res, "a replication source", "replicationSourceIdentifier", allowed)
        yield from _region(res, "replication", "sourceRegion", res.peek("sourceRegion"), allowed)
        yield from _prop_arn(res, "a KMS key", "kmsKeyId", allowed)
        if res.present("globalClusterIdentifier"):
            yield from _multi_region(res, "joins an Aurora global cluster", config)
    elif kind == "aws:rds/globalCluster:GlobalCluster":
        yield from _multi_region(res, "is an Aurora global cluster", config)
    elif kind == BACKUP_REPLICATION:
        yield from _prop_arn(res, "a source DB instance", "sourceDbInstanceArn", allowed)
        yield from _prop_arn(res, "a KMS key", "kmsKeyId", allowed)
    elif kind in SNAPSHOT_COPIES:
        region = res.peek("destinationRegion")
        yield from _region(res, "a snapshot copy", "destinationRegion", region, allowed)
        yield from _prop_arn(res, "a KMS key", "kmsKeyId", allowed)
    elif kind in ("aws:kms/key:Key", "aws:kms/externalKey:ExternalKey"):
        if res.peek("multiRegion") is UNKNOWN or as_bool(res.peek("multiRegion")):
            yield from _multi_region(res, "is a multi-Region key", config)
    elif kind in ("aws:kms/replicaKey:ReplicaKey", "aws:kms/replicaExternalKey:ReplicaExternalKey"):
        yield from _prop_arn(res, "a primary key", "primaryKeyArn", allowed)
    elif kind == "aws:secretsmanager/secret:Secret":
        yield from _nested_regions(res, ("replicas", "region"), allowed, "a secret replica")
        yield from _nested_arns(res, ("replicas", "kmsKeyId"), allowed, "a replica KMS key")
    elif kind == "aws:dynamodb/table:Table":
        yield from _nested_regions(res, ("replicas", "regionName"), allowed, "a table replica")
        yield from _nested_arns(res, ("replicas", "kmsKeyArn"), allowed, "a replica KMS key")
    elif kind == "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup":
        yield from _multi_region(res, "is an ElastiCache global datastore", config)
    elif kind == "aws:elasticache/replicationGroup:ReplicationGroup":
        if res.present("globalReplicationGroupId"):
            yield from _multi_region(res, "joins an ElastiCache global datastore", config)
    elif kind == "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter":
        yield from _prop_arn(res, "a log destination", "destinationArn", allowed)
    elif kind == "aws:cloudwatch/logDestination:LogDestination":
        yield from _prop_arn(res, "a log target", "targetArn", allowed)
    elif kind == "aws:backup/plan:Plan":
        path = ("rules", "copyActions", "destinationVaultArn")
        yield from _nested_arns(res, path, allowed, "a backup copy vault")
    elif kind == "aws:ecr/replicationConfiguration:ReplicationConfiguration":
        path = ("replicationConfiguration.rules", "destinations", "region")
        yield from _nested_regions(res, path, allowed, "image replication")
    elif kind == "aws:ec2/vpcPeeringConnection:VpcPeeringConnection":
        yield from _region(res, "peered traffic", "peerRegion", res.peek("peerRegion"), allowed)
    elif kind in REPLICATION_CONFIGS:
        path = ("rules", "destination.encryptionConfiguration.replicaKmsKeyId")
        yield from _nested_arns(res, path, allowed, "a replica KMS key")


# --- S3 replication (stack: destination ARNs carry no region) --------------------------------


@stack_policy(
    "residency-s3-replication",
    subjects=REPLICATION_CONFIGS | BUCKETS,
    description="S3 replication destinations must be buckets of this stack in allowed regions.",
    severity=CRITICAL,
    remediation=(
        "Declare the destination bucket in this stack, in an allowed region; an S3 bucket ARN "
        "has no region, so a destination outside the stack cannot be verified."
    ),
    config={"allowedRegions": ALLOWED_REGIONS, "defaultRegion": DEFAULT_REGION},
    required=["allowedRegions"],
    tags=["residency", "s3", "replication", "SCP aws:RequestedRegion"],
)
def s3_replication(stack: Stack, res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    prop = "rules" if res.type in REPLICATION_CONFIGS else "replicationConfiguration"
    if not res.present(prop):
        return
    allowed = _allowed(config)
    rules = "rules" if prop == "rules" else f"{prop}.rules"
    named = {value for _, value in _nested(res, (rules, "destination.bucket"))}
    declared = stack.refs(res, prop, BUCKETS)
    known = {value for value in named if isinstance(value, str)}
    matched = {value for value in known for bucket in declared if value in identities(bucket)}
    opaque = [bucket for bucket in declared if not identities(bucket)]
    if not declared or (known - matched and not opaque):
        missing = sorted(known - matched) or ["a destination that cannot be resolved"]
        yield (
            f"{res.label} replicates to {show_list(missing)} ({prop}), which is not a bucket of "
            "this stack; an S3 ARN carries no region, so residency cannot be verified (fail "
            "closed)."
        )
    for bucket in declared:
        region, source = effective_region(bucket, config.get("defaultRegion"))
        problem = _region_problem(bucket.label, region, source, allowed)
        if problem:
            yield f"{res.label} replicates objects to {bucket.label}: {problem}"
