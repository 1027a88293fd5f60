"""Data residency: where a resource's region comes from, copy destinations, exemptions."""

from __future__ import annotations

import pytest
from pulumi.output import Unknown

from policies.guardrails.offline import evaluate
from policies.guardrails.residency import GLOBAL_MODULES, GLOBAL_TYPES, is_regional_aws

from . import sdk
from .fixtures import (
    AWS_PROVIDER,
    DELETE,
    KEY_ARN,
    UNKNOWN,
    app_secret,
    bucket,
    change,
    db_primary,
    db_replica,
    kms_key,
    prod_config,
    resource,
)

ALLOWLIST = "residency-region-allowlist"
COPIES = "residency-copy-destinations"
S3_REPLICATION = "residency-s3-replication"


def residency(resources, **config):
    findings = evaluate(resources, prod_config(**config))
    return [f for f in findings if f.policy.startswith("residency-")]


def messages(resources, policy, **config):
    return [f.message for f in residency(resources, **config) if f.policy == policy]


def without_provider(res):
    return dict(res, provider=None)


def test_own_region_input_wins_over_the_provider() -> None:
    inside = change(AWS_PROVIDER, region="us-east-1")
    assert messages([dict(db_primary(region="eu-west-1"), provider=inside)], ALLOWLIST) == []
    [message] = messages([db_primary(region="ap-south-1")], ALLOWLIST)
    assert '"ap-south-1" (from its own region input)' in message


def test_provider_region_is_used_when_the_resource_has_none() -> None:
    provider = change(AWS_PROVIDER, name="us", region="us-east-1")
    [message] = messages([dict(db_primary(), provider=provider)], ALLOWLIST)
    assert '"us-east-1" (from the region of its provider "us")' in message


def test_default_region_applies_without_resource_or_provider_region() -> None:
    orphan = without_provider(db_primary())
    assert messages([orphan], ALLOWLIST) == []  # prod_config sets defaultRegion eu-central-1
    config = {ALLOWLIST: {"defaultRegion": "us-east-1"}}
    [message] = messages([orphan], ALLOWLIST, **config)
    assert "policy config defaultRegion" in message


def test_undeterminable_region_fails_closed() -> None:
    config = prod_config()
    del config[ALLOWLIST]["defaultRegion"]
    orphan = without_provider(db_primary())
    [finding] = [f for f in evaluate([orphan], config) if f.policy == ALLOWLIST]
    assert finding.enforcement == "mandatory"
    assert "cannot be determined" in finding.message and "fail closed" in finding.message


@pytest.mark.parametrize("unknown", [UNKNOWN, Unknown()], ids=["sentinel", "Unknown"])
def test_region_known_only_after_deployment_fails_closed(unknown) -> None:
    [message] = messages([db_primary(region=unknown)], ALLOWLIST)
    assert "only known after deployment" in message and "fail closed" in message


def test_aws_providers_are_checked_themselves() -> None:
    assert messages([AWS_PROVIDER], ALLOWLIST) == []
    [message] = messages([change(AWS_PROVIDER, region="sa-east-1")], ALLOWLIST)
    assert "pulumi:providers:aws" in message and "sa-east-1" in message
    # A provider without a region takes it from the environment: defaultRegion does not apply.
    [message] = messages([change(AWS_PROVIDER, region=DELETE)], ALLOWLIST)
    assert "cannot be determined" in message


def test_global_services_and_non_aws_resources_are_exempt() -> None:
    us_east = change(AWS_PROVIDER, region="us-east-1")
    role = resource("aws:iam/role:Role", "r", {"assumeRolePolicy": "{}"}, provider=us_east)
    zone = resource("aws:route53/zone:Zone", "z", {"name": "example.com"}, provider=us_east)
    resolver = resource(
        "aws:route53/resolverEndpoint:ResolverEndpoint", "resolver", {}, provider=us_east
    )
    found = residency([role, zone, resolver])
    assert [f.resource_name for f in found] == ["resolver"]  # Route 53 Resolver is regional


def test_exempt_types_have_no_region_input_in_the_sdk() -> None:
    """Never exempt a type that pulumi-aws v7 makes region-aware."""
    for module in GLOBAL_MODULES:
        tokens = sdk.aws_module_tokens(module)
        assert tokens, module
        assert not [token for token in tokens if sdk.is_region_aware(token)], module
    for token in GLOBAL_TYPES:
        assert sdk.resource_class(token), token
        assert not sdk.is_region_aware(token), token
        assert not is_regional_aws(token)
    assert is_regional_aws("aws:rds/instance:Instance") and sdk.is_region_aware(
        "aws:rds/instance:Instance"
    )


def test_cross_region_replica_source_arn_is_checked() -> None:
    primary = db_primary()
    replica = db_replica(primary, replicateSourceDb="arn:aws:rds:us-east-1:111122223333:db:x")
    [message] = messages([replica], COPIES)
    assert "us-east-1" in message and "replicateSourceDb" in message
    in_stack = db_replica(primary)  # unknown identifier of a primary of this stack
    assert messages([in_stack, primary], COPIES) == []


def test_replica_key_primary_and_multi_region_keys() -> None:
    replica_key = resource(
        "aws:kms/replicaKey:ReplicaKey",
        "replica-key",
        {"primaryKeyArn": KEY_ARN.replace("eu-central-1", "us-west-2"), "region": "eu-west-1"},
    )
    [message] = messages([replica_key], COPIES)
    assert "us-west-2" in message and "primaryKeyArn" in message
    multi_region = kms_key(multiRegion=True)
    [message] = messages([multi_region], COPIES)
    assert "multi-Region key" in message
    assert messages([multi_region], COPIES, **{COPIES: {"allowMultiRegionReplication": True}}) == []


def test_replica_key_in_forbidden_region_fails_the_allowlist() -> None:
    replica_key = resource(
        "aws:kms/replicaKey:ReplicaKey",
        "replica-key",
        {"primaryKeyArn": KEY_ARN, "region": "us-west-2"},
    )
    [message] = messages([replica_key], ALLOWLIST)
    assert "us-west-2" in message


def test_secret_replica_regions() -> None:
    allowed = app_secret(replicas=[{"region": "eu-west-1", "kmsKeyId": "alias/crm"}])
    assert messages([allowed], COPIES) == []
    forbidden = app_secret(replicas=[{"region": "eu-west-1"}, {"region": "us-east-2"}])
    [message] = messages([forbidden], COPIES)
    assert "replicas[1].region" in message and "us-east-2" in message
    unknown = app_secret(replicas=[{"region": UNKNOWN}])
    [message] = messages([unknown], COPIES)
    assert "replicas[0].region" in message


def test_automated_backup_replication_and_snapshot_copies() -> None:
    kind = "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
    source = "arn:aws:rds:us-east-1:111122223333:db:crm-db"
    backups = resource(kind, "backups", {"sourceDbInstanceArn": source, "kmsKeyId": KEY_ARN})
    [message] = messages([backups], COPIES)
    assert "sourceDbInstanceArn" in message
    # The replication is created in (and copies to) its own region.
    inbound = resource(
        kind, "inbound", {"sourceDbInstanceArn": source.replace("us-east-1", "eu-west-1")}
    )
    assert messages([change(inbound, region="us-west-1")], ALLOWLIST)
    assert messages([inbound], ALLOWLIST) == messages([inbound], COPIES) == []
    props = {
        "sourceDbSnapshotIdentifier": "crm-snapshot",
        "targetDbSnapshotIdentifier": "crm-snapshot-copy",
        "destinationRegion": "us-east-1",
    }
    [message] = messages([resource("aws:rds/snapshotCopy:SnapshotCopy", "copy", props)], COPIES)
    assert "destinationRegion" in message


def test_log_subscription_destination_region() -> None:
    kind = "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter"
    destination = "arn:aws:firehose:us-east-1:111122223333:deliverystream/siem"
    subscription = resource(
        kind, "siem", {"destinationArn": destination, "filterPattern": "", "logGroup": "/crm"}
    )
    [message] = messages([subscription], COPIES)
    assert "destinationArn" in message and "us-east-1" in message


def test_s3_replication_to_a_forbidden_region() -> None:
    source, target = bucket("source"), bucket("copy", region="us-east-1")
    kind = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
    rules = [{"status": "Enabled", "destination": {"bucket": UNKNOWN}}]
    replication = resource(
        kind,
        "replication",
        {"bucket": "crm-source", "role": "arn:aws:iam::111122223333:role/r", "rules": rules},
        deps={"bucket": [source], "rules": [target]},
    )
    [finding] = [f for f in residency([replication, source, target]) if f.policy == S3_REPLICATION]
    assert finding.urn == replication["urn"] and finding.enforcement == "mandatory"
    assert '"us-east-1"' in finding.message and 'aws:s3/bucket:Bucket "copy"' in finding.message


def test_s3_replication_destination_resolved_by_arn_once_deployed() -> None:
    """After an update the engine sends outputs: the ARN matches the bucket's name."""
    source, target = bucket("source"), bucket("copy", region="eu-west-1")
    kind = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
    rules = [{"status": "Enabled", "destination": {"bucket": "arn:aws:s3:::crm-copy"}}]
    props = {"bucket": "crm-source", "role": "arn:aws:iam::111122223333:role/r", "rules": rules}
    replication = resource(kind, "replication", props)
    assert messages([replication, source, target], S3_REPLICATION) == []
    far = change(target, region="us-east-1")
    assert messages([replication, source, far], S3_REPLICATION)
