"""Residency audit: find the project's tagged resources in every enabled region and report
those outside the allow-list."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from ops.aws import client, error_code, session, tags_match


@dataclass(frozen=True)
class Resource:
    region: str
    kind: str
    arn: str


@dataclass
class AuditResult:
    allowed: list[str]
    regions: list[str]
    resources: list[Resource] = field(default_factory=list)

    @property
    def violations(self) -> list[Resource]:
        return [r for r in self.resources if r.region not in self.allowed]


def resource_kind(arn: str) -> str:
    """'rds:db', 'ec2:volume', 'kms:key', ... from an ARN."""
    _, _, service, _, _, resource = arn.split(":", 5)
    return f"{service}:{resource.split('/', 1)[0].split(':', 1)[0]}"


def enabled_regions(sess, home_region: str) -> list[str]:
    regions = client("ec2", home_region, sess).describe_regions(AllRegions=False)["Regions"]
    return sorted(r["RegionName"] for r in regions)


def tagged_in_region(sess, region: str, tags: dict[str, str]) -> list[Resource]:
    """Regional resources via the tagging API (RDS instances and snapshots, EC2 instances,
    volumes and VPCs, ElastiCache, KMS, Secrets Manager, ...) plus EKS clusters listed
    directly, so cluster coverage does not depend on the tagging API."""
    filters = [{"Key": key, "Values": [value]} for key, value in tags.items()]
    found: dict[str, Resource] = {}
    paginator = client("resourcegroupstaggingapi", region, sess).get_paginator("get_resources")
    for page in paginator.paginate(TagFilters=filters):
        for mapping in page["ResourceTagMappingList"]:
            arn = mapping["ResourceARN"]
            if arn.startswith("arn:aws:s3:::"):  # buckets are global; located by audit_buckets
                continue
            found[arn] = Resource(region, resource_kind(arn), arn)
    eks = client("eks", region, sess)
    for page in eks.get_paginator("list_clusters").paginate():
        for name in page["clusters"]:
            cluster = eks.describe_cluster(name=name)["cluster"]
            if tags_match(cluster.get("tags") or {}, tags):
                found[cluster["arn"]] = Resource(region, "eks:cluster", cluster["arn"])
    return list(found.values())


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
        if tags_match({t["Key"]: t["Value"] for t in tag_set}, tags):
            found.append(Resource(bucket_region(s3, name), "s3:bucket", f"arn:aws:s3:::{name}"))
    return found


def audit(
    *,
    allowed: Iterable[str],
    tags: dict[str, str],
    home_region: str,
    progress: Callable[[str], None],
) -> AuditResult:
    sess = session()
    regions = enabled_regions(sess, home_region)
    result = AuditResult(allowed=list(allowed), regions=regions)
    for region in regions:
        progress(region)
        result.resources += tagged_in_region(sess, region, tags)
    progress("s3 (global)")
    result.resources += audit_buckets(sess, home_region, tags)
    result.resources.sort(key=lambda r: (r.region, r.kind, r.arn))
    return result
