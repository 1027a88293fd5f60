"""`residency-audit`: project resources outside the allow-list are found in any enabled
region, whatever their type; allowed or foreign resources are not reported."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber
from moto.core.authorization import enable_iam_authentication

from ops.aws import session
from ops.residency import backups_in_region, recovery_points, resource_kind
from stacks.stackfile import stack_names
from tests.conftest import shipped
from tests.ops.helpers import (
    ACCOUNT,
    assert_clean_failure,
    deploy_plan,
    flat,
    limited_credentials,
)
from tests.support import settings_of

PROJECT_TAGS = [{"Key": "project", "Value": "crm-platform"}]


def rds_instance(region: str) -> str:
    boto3.client("rds", region_name=region).create_db_instance(
        DBInstanceIdentifier="stray-db",
        DBInstanceClass="db.t4g.micro",
        Engine="postgres",
        MasterUsername="crm",
        MasterUserPassword="not-a-real-password",
        AllocatedStorage=20,
        Tags=PROJECT_TAGS,
    )
    return f"arn:aws:rds:{region}:{ACCOUNT}:db:stray-db"


def rds_snapshot_copy(region: str) -> str:
    """A snapshot copied out of the EU: the classic residency leak."""
    rds_instance("eu-central-1")
    source = boto3.client("rds", region_name="eu-central-1").create_db_snapshot(
        DBSnapshotIdentifier="eu-snap", DBInstanceIdentifier="stray-db"
    )["DBSnapshot"]["DBSnapshotArn"]
    boto3.client("rds", region_name=region).copy_db_snapshot(
        SourceDBSnapshotIdentifier=source, TargetDBSnapshotIdentifier="copied", Tags=PROJECT_TAGS
    )
    return f"arn:aws:rds:{region}:{ACCOUNT}:snapshot:copied"


def eks_cluster(region: str) -> str:
    return boto3.client("eks", region_name=region).create_cluster(
        name="stray",
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks",
        resourcesVpcConfig={"subnetIds": []},
        tags={"project": "crm-platform"},
    )["cluster"]["arn"]


def ec2_volume(region: str) -> str:
    volume = boto3.client("ec2", region_name=region).create_volume(
        AvailabilityZone=f"{region}a",
        Size=10,
        TagSpecifications=[{"ResourceType": "volume", "Tags": PROJECT_TAGS}],
    )
    return f"arn:aws:ec2:{region}:{ACCOUNT}:volume/{volume['VolumeId']}"


def ec2_vpc(region: str) -> str:
    vpc = boto3.client("ec2", region_name=region).create_vpc(
        CidrBlock="10.9.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": PROJECT_TAGS}]
    )["Vpc"]
    return f"arn:aws:ec2:{region}:{ACCOUNT}:vpc/{vpc['VpcId']}"


def s3_bucket(region: str) -> str:
    s3 = boto3.client("s3", region_name=region)
    s3.create_bucket(
        Bucket="stray-bucket", CreateBucketConfiguration={"LocationConstraint": region}
    )
    s3.put_bucket_tagging(Bucket="stray-bucket", Tagging={"TagSet": PROJECT_TAGS})
    return "arn:aws:s3:::stray-bucket"


def redis(region: str) -> str:
    boto3.client("elasticache", region_name=region).create_replication_group(
        ReplicationGroupId="stray-redis", ReplicationGroupDescription="x", Tags=PROJECT_TAGS
    )
    return f"arn:aws:elasticache:{region}:{ACCOUNT}:replicationgroup:stray-redis"


def kms(region: str) -> str:
    tags = [{"TagKey": "project", "TagValue": "crm-platform"}]
    return boto3.client("kms", region_name=region).create_key(Tags=tags)["KeyMetadata"]["Arn"]


def secret(region: str) -> str:
    return boto3.client("secretsmanager", region_name=region).create_secret(
        Name="stray", SecretString="x", Tags=PROJECT_TAGS
    )["ARN"]


def backup_vault(region: str) -> str:
    return boto3.client("backup", region_name=region).create_backup_vault(
        BackupVaultName="stray-vault", BackupVaultTags={"project": "crm-platform"}
    )["BackupVaultArn"]


def _outside_every_allow_list() -> str:
    """A region no stack file allows (untagged resources are judged by every stack's list)."""
    allowed = {r for stack in stack_names() for r in settings_of(stack).residency.allowed_regions}
    return next(r for r in ("us-west-2", "sa-east-1", "ap-southeast-2") if r not in allowed)


def test_every_resource_type_outside_allow_list_is_a_violation(aws, cli):
    makers = [
        rds_instance,
        rds_snapshot_copy,
        eks_cluster,
        ec2_volume,
        ec2_vpc,
        s3_bucket,
        redis,
        kms,
        secret,
        backup_vault,
    ]
    outside = _outside_every_allow_list()
    expected = {make.__name__: make(outside) for make in makers}

    result = cli("residency-audit")

    assert result.exit_code == 1, result.output
    reported = {
        line.rsplit(" ", 1)[-1]
        for line in result.output.splitlines()
        if f"VIOLATION {outside} " in line
    }
    missing = {name: arn for name, arn in expected.items() if arn not in reported}
    assert not missing, result.output
    assert reported == set(expected.values())
    assert f"{len(expected)} outside their stack's allow-list" in result.output


def test_deployment_inside_allow_list_passes(aws, cli):
    outputs = deploy_plan(shipped("prod"))
    kms("eu-west-1")
    primary = outputs["dbPrimaryIdentifier"]
    boto3.client("rds", "eu-central-1").add_tags_to_resource(
        ResourceName=f"arn:aws:rds:eu-central-1:{ACCOUNT}:db:{primary}",
        Tags=[*PROJECT_TAGS, {"Key": "environment", "Value": "prod"}],
    )
    result = cli("residency-audit")
    assert result.exit_code == 0, result.output
    assert "no residency violations" in result.output
    assert f":db:{primary}" in result.output


def test_untagged_or_other_projects_resources_are_not_reported(aws, cli):
    boto3.client("kms", region_name="us-east-1").create_key()
    boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="other", SecretString="x", Tags=[{"Key": "project", "Value": "billing"}]
    )
    result = cli("residency-audit")
    assert result.exit_code == 0, result.output
    assert "0 resources" in result.output


def test_one_stack_is_audited_against_its_own_allow_list(aws, cli):
    arn = boto3.client("secretsmanager", region_name="eu-north-1").create_secret(
        Name="dev-stray",
        SecretString="x",
        Tags=[*PROJECT_TAGS, {"Key": "environment", "Value": "dev"}],
    )["ARN"]
    dev = cli("residency-audit", "dev")
    assert dev.exit_code == 1 and arn in flat(dev.output).replace(" ", ""), dev.output
    prod = cli("residency-audit", "prod")
    assert prod.exit_code == 0 and "0 resources of 1 stack(s): prod" in flat(prod.output)
    other_tag = cli("residency-audit", "--tag", "project=billing")
    assert other_tag.exit_code == 0 and arn not in other_tag.output


def test_recovery_points_are_located_in_their_vaults_region(aws):
    """moto lists vaults but not recovery points: AWS Backup's answer comes from the Stubber."""
    backup = boto3.client("backup", region_name="us-west-2")
    point = f"arn:aws:rds:us-west-2:{ACCOUNT}:snapshot:awsbackup:job-1"
    stubber = Stubber(backup)
    stubber.add_response(
        "list_recovery_points_by_backup_vault",
        {"RecoveryPoints": [{"RecoveryPointArn": point}]},
        {"BackupVaultName": "crm"},
    )
    with stubber:
        (found,) = recovery_points(backup, "us-west-2", "crm")
    assert (found.region, found.kind, found.arn) == ("us-west-2", "backup:recovery-point", point)


def test_only_vaults_holding_recovery_points_are_listed_into(aws, monkeypatch):
    listed = []
    monkeypatch.setattr(
        "ops.residency.recovery_points", lambda backup, region, name: listed.append(name) or []
    )
    backup_vault("eu-central-1")
    found = backups_in_region(session(), "eu-central-1", {"project": "crm-platform"})
    assert [resource.kind for resource in found] == ["backup:backup-vault"]
    assert listed == []  # moto's vault holds no recovery point


@pytest.mark.parametrize(
    ("arn", "kind"),
    [
        ("arn:aws:rds:eu-west-1:1:snapshot:pre-1", "rds:snapshot"),
        ("arn:aws:ec2:eu-west-1:1:volume/vol-1", "ec2:volume"),
        ("arn:aws:elasticache:eu-west-1:1:replicationgroup:r", "elasticache:replicationgroup"),
        ("arn:aws:secretsmanager:eu-west-1:1:secret:db/x-AbC", "secretsmanager:secret"),
    ],
)
def test_resource_kind_from_arn(arn, kind):
    assert resource_kind(arn) == kind


def test_malformed_tag_is_a_usage_error(cli):
    result = cli("residency-audit", "--tag", "project")
    assert result.exit_code == 2
    assert "expected KEY=VALUE" in result.output


def test_audit_that_cannot_see_a_service_fails_instead_of_passing(aws, cli, monkeypatch):
    secret("us-east-1")
    limited_credentials(monkeypatch, "ec2:DescribeRegions", "eks:ListClusters")
    with enable_iam_authentication():
        result = cli("residency-audit")
    assert_clean_failure(result, 2, "Access denied calling GetResources")


def test_missing_credentials(cli):
    assert_clean_failure(cli("residency-audit"), 2, "No AWS credentials found")
