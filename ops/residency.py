"""Residency audit: find the project's tagged resources in every enabled region and report
those outside the allow-list."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from ops.aws import client, error_code, partition, session, tags_match


@dataclass(frozen=True)
class Resource:
    region: str
    kind: str
    arn: str
    environment: str = ""
    """The resource's `environment` tag: the stack it belongs to."""


@dataclass
class AuditResult:
    allowed: dict[str, list[str]]
    """Allowed regions by stack; a resource of no listed stack may be in any of them."""
    regions: list[str]
    resources: list[Resource] = field(default_factory=list)

    def allowed_for(self, resource: Resource) -> list[str]:
        if resource.environment in self.allowed:
            return self.allowed[resource.environment]
        return sorted({region for regions in self.allowed.values() for region in regions})

    @property
    def violations(self) -> list[Resource]:
        return [r for r in self.resources if r.region not in self.allowed_for(r)]


def resource_kind(arn: str) -> str:
    """'rds:db', 'ec2:volume', 'kms:key', ... from an ARN."""
    _, _, service, _, _, resource = arn.split(":", 5)
    return f"{service}:{resource.split('/', 1)[0].split(':', 1)[0]}"


def enabled_regions(sess, home_region: str) -> list[str]:
    regions = client("ec2", home_region, sess).describe_regions(AllRegions=False)["Regions"]
    return sorted(r["RegionName"] for r in regions)


def tagged_in_region(sess, region: str, tags: dict[str, str]) -> list[Resource]:
    """Regional resources via the tagging API (RDS instances and snapshots, EC2 instances,
    volumes and VPCs, ElastiCache, KMS, Secrets Manager, ...) plus EKS clusters and AWS Backup
    vaults and recovery points listed directly, so their coverage does not depend on the
    tagging API."""
    filters = [{"Key": key, "Values": [value]} for key, value in tags.items()]
    found: dict[str, Resource] = {}
    paginator = client("resourcegroupstaggingapi", region, sess).get_paginator("get_resources")
    for page in paginator.paginate(TagFilters=filters):
        for mapping in page["ResourceTagMappingList"]:
            arn = mapping["ResourceARN"]
            if arn.split(":")[2:4] == ["s3", ""]:  # buckets are global; located by audit_buckets
                continue
            tags_found = {tag["Key"]: tag["Value"] for tag in mapping.get("Tags", [])}
            environment = tags_found.get("environment", "")
            found[arn] = Resource(region, resource_kind(arn), arn, environment)
    eks = client("eks", region, sess)
    for page in eks.get_paginator("list_clusters").paginate():
        for name in page["clusters"]:
            cluster = eks.describe_cluster(name=name)["cluster"]
            cluster_tags = cluster.get("tags") or {}
            if tags_match(cluster_tags, tags):
                environment = cluster_tags.get("environment", "")
                found[cluster["arn"]] = Resource(region, "eks:cluster", cluster["arn"], environment)
    found |= {resource.arn: resource for resource in backups_in_region(sess, region, tags)}
    return list(found.values())


def backups_in_region(sess, region: str, tags: dict[str, str]) -> list[Resource]:
    """The project's AWS Backup vaults (listed directly) and every recovery point in them: a
    copy of the data is where its vault is."""
    backup = client("backup", region, sess)
    found = []
    for page in backup.get_paginator("list_backup_vaults").paginate():
        for vault in page["BackupVaultList"]:
            arn = vault["BackupVaultArn"]
            vault_tags = backup.list_tags(ResourceArn=arn).get("Tags") or {}
            if not tags_match(vault_tags, tags):
                continue
            environment = vault_tags.get("environment", "")
            found.append(Resource(region, "backup:backup-vault", arn, environment))
            if vault.get("NumberOfRecoveryPoints"):
                found += recovery_points(backup, region, vault["BackupVaultName"], environment)
    return found


def recovery_points(backup, region: str, vault_name: str, environment: str = "") -> list[Resource]:
    pages = backup.get_paginator("list_recovery_points_by_backup_vault").paginate(
        BackupVaultName=vault_name
    )
    return [
        Resource(region, "backup:recovery-point", point["RecoveryPointArn"], environment)
        for page in pages
        for point in page["RecoveryPoints"]
    ]


def bucket_region(s3, bucket: str) -> str:
    location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")
    return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)


def audit_buckets(sess, home_region: str, tags: dict[str, str]) -> list[Resource]:
    s3 = client("s3", home_region, sess)
    found = []
    names = [
        bucket["Name"]
        for page in s3.get_paginator("list_buckets").paginate()
        for bucket in page["Buckets"]
    ]
    for name in names:
        try:
            tag_set = s3.get_bucket_tagging(Bucket=name)["TagSet"]
        except ClientError as exc:
            if error_code(exc) == "NoSuchTagSet":
                continue
            raise
        bucket_tags = {t["Key"]: t["Value"] for t in tag_set}
        if tags_match(bucket_tags, tags):
            arn = f"arn:{partition(home_region)}:s3:::{name}"
            environment = bucket_tags.get("environment", "")
            found.append(Resource(bucket_region(s3, name), "s3:bucket", arn, environment))
    return found


def audit(
    *,
    allowed: dict[str, list[str]],
    tags: dict[str, str],
    home_region: str,
    progress: Callable[[str], None],
) -> AuditResult:
    """Sweep one account (the current AWS profile's) for resources tagged `tags`, judging each
    by the allow-list of the stack its `environment` tag names."""
    sess = session()
    regions = enabled_regions(sess, home_region)
    result = AuditResult(allowed=allowed, regions=regions)
    for region in regions:
        progress(region)
        result.resources += tagged_in_region(sess, region, tags)
    progress("s3 (global)")
    result.resources += audit_buckets(sess, home_region, tags)
    result.resources.sort(key=lambda r: (r.region, r.kind, r.arn))
    return result
