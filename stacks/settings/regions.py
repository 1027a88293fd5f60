"""AWS regions and data-residency jurisdictions.

The list of real regions comes from botocore's bundled endpoint data (no network needed), so a
new AWS region is recognised by upgrading boto3, not by editing this file.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import botocore.session

# Where each region physically is. Only regions located inside a jurisdiction belong to it:
# London (eu-west-2) is in the UK and Zurich (eu-central-2) in Switzerland, not the EU.
JURISDICTIONS: dict[str, frozenset[str]] = {
    "EU": frozenset(
        {"eu-central-1", "eu-west-1", "eu-west-3", "eu-south-1", "eu-south-2", "eu-north-1",
         "eusc-de-east-1"}
    ),
    "UK": frozenset({"eu-west-2"}),
    "CH": frozenset({"eu-central-2"}),
    "US": frozenset({"us-east-1", "us-east-2", "us-west-1", "us-west-2", "us-gov-east-1",
                     "us-gov-west-1"}),
    "CA": frozenset({"ca-central-1", "ca-west-1"}),
    "AU": frozenset({"ap-southeast-2", "ap-southeast-4"}),
    "JP": frozenset({"ap-northeast-1", "ap-northeast-3"}),
    "IN": frozenset({"ap-south-1", "ap-south-2"}),
    "BR": frozenset({"sa-east-1"}),
    "CN": frozenset({"cn-north-1", "cn-northwest-1"}),
}  # fmt: skip
# Endpoint prefixes (botocore endpoints.json) of the regional services every stack calls.
REQUIRED_SERVICES: dict[str, str] = {
    "ec2": "EC2 and VPC",
    "eks": "EKS",
    "rds": "RDS",
    "elasticache": "ElastiCache",
    "kms": "KMS",
    "s3": "S3",
    "logs": "CloudWatch Logs",
    "elasticloadbalancing": "Elastic Load Balancing",
    "acm": "Certificate Manager",
    "sts": "STS",
    "secretsmanager": "Secrets Manager",
    "api.ecr": "ECR",
}


@cache
def _endpoints() -> dict[str, Any]:
    return botocore.session.get_session().get_data("endpoints")


@cache
def known_partitions() -> tuple[str, ...]:
    """`aws`, `aws-cn`, `aws-us-gov`, `aws-eusc`…: every partition botocore knows about."""
    return tuple(partition["partition"] for partition in _endpoints()["partitions"])


def _regions_of(prefix: str) -> frozenset[str]:
    """Regions of every AWS partition where botocore's endpoints table lists `prefix`."""
    return frozenset(
        region
        for partition in _endpoints()["partitions"]
        for region in partition["services"].get(prefix, {}).get("endpoints", {})
        if region in partition["regions"]
    )


@cache
def known_regions() -> frozenset[str]:
    """Every region of every AWS partition botocore knows about."""
    return frozenset(
        region for partition in _endpoints()["partitions"] for region in partition["regions"]
    )


@cache
def sovereign_regions() -> frozenset[str]:
    """Regions botocore describes as part of a sovereign cloud (`eusc-de-east-1`)."""
    return frozenset(
        region
        for partition in _endpoints()["partitions"]
        for region, about in partition["regions"].items()
        if "Sovereign" in about.get("description", "")
    )


def missing_services(region: str, optional: dict[str, str] | None = None) -> list[str]:
    """Services the stack needs that botocore's endpoints table lists no endpoint for in
    `region` (regional services only: the table lists no global-service endpoints, such as
    IAM, in every partition)."""
    needed = {**REQUIRED_SERVICES, **(optional or {})}
    for partition in _endpoints()["partitions"]:
        if region in partition["regions"]:
            services = partition["services"]
            return [
                name
                for prefix, name in needed.items()
                if region not in services.get(prefix, {}).get("endpoints", {})
            ]
    return list(needed.values())


def check_region(region: str) -> str:
    """Reject strings that are not AWS regions (typos like `eu-centrall-1`)."""
    if region not in known_regions():
        raise ValueError("must be a real AWS region, e.g. eu-central-1")
    return region


@cache
def email_regions() -> frozenset[str]:
    """Regions where Amazon SES sends mail (botocore's `email` endpoints, any partition)."""
    return _regions_of("email")
