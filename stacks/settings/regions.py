"""AWS regions and data-residency jurisdictions.

The list of real regions comes from botocore's bundled endpoint data (no network needed), so a
new AWS region is recognised by upgrading boto3, not by editing this file.
"""

from __future__ import annotations

from functools import cache

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
    "US": frozenset({"us-east-1", "us-east-2", "us-west-1", "us-west-2"}),
    "CA": frozenset({"ca-central-1", "ca-west-1"}),
    "AU": frozenset({"ap-southeast-2", "ap-southeast-4"}),
    "JP": frozenset({"ap-northeast-1", "ap-northeast-3"}),
    "IN": frozenset({"ap-south-1", "ap-south-2"}),
    "BR": frozenset({"sa-east-1"}),
}  # fmt: skip


@cache
def known_partitions() -> tuple[str, ...]:
    """`aws`, `aws-cn`, `aws-us-gov`, `aws-eusc`…: every partition botocore knows about."""
    return tuple(botocore.session.get_session().get_available_partitions())


def _regions_of(service: str) -> frozenset[str]:
    """Regions of every AWS partition where botocore knows an endpoint of `service`."""
    session = botocore.session.get_session()
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions(service, partition_name=partition)
    )


@cache
def known_regions() -> frozenset[str]:
    """Every region of every AWS partition botocore knows about."""
    return _regions_of("ec2")


def check_region(region: str) -> str:
    """Reject strings that are not AWS regions (typos like `eu-centrall-1`)."""
    if region not in known_regions():
        raise ValueError("must be a real AWS region, e.g. eu-central-1")
    return region


@cache
def email_regions() -> frozenset[str]:
    """Regions where Amazon SES sends mail (botocore's `email` endpoints, any partition)."""
    return _regions_of("ses")
