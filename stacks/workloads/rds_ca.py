"""The RDS certificate authorities the CRM verifies its database against.

Fetched from AWS's trust store each time the workloads layer is deployed (from the in-VPC
runner, which has a NAT gateway), so a CA AWS adds ahead of a rotation reaches the pods with
the next deploy: the bundle becomes a ConfigMap named after its content, and a new name rolls
the pods. The bundle is small and public; nothing about it is secret.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from functools import cache

import botocore.session

# AWS's published location of the bundle of every RDS CA of the commercial partition (RDS User
# Guide, "Using SSL/TLS to encrypt a connection to a DB instance or cluster").
BUNDLE_URLS = {"aws": "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"}
PEM_BEGIN = "-----BEGIN CERTIFICATE-----"
TIMEOUT_SECONDS = 20


class BundleError(Exception):
    """The bundle cannot be had; the message says why and what to do."""


@cache
def partition_of(region: str) -> str:
    """`aws`, `aws-cn`, `aws-us-gov`, ... as botocore's endpoint data says."""
    return botocore.session.get_session().get_partition_for_region(region)


def bundle_url(region: str) -> str:
    partition = partition_of(region)
    if partition not in BUNDLE_URLS:
        raise BundleError(
            f"no RDS CA bundle location is known for partition {partition} (region {region}); "
            "add its trust-store URL to stacks/workloads/rds_ca.py from the RDS User Guide of "
            "that partition"
        )
    return BUNDLE_URLS[partition]


def check_bundle(text: str, source: str) -> str:
    """Only PEM certificates: anything else (an error page, an empty body) is refused."""
    blocks = text.count(PEM_BEGIN)
    if blocks == 0 or blocks != text.count("-----END CERTIFICATE-----"):
        raise BundleError(f"{source} did not return PEM certificates")
    return text


def fetch_bundle(region: str) -> str:
    """The bundle over verified HTTPS (the system's CAs); a failure is one clear message."""
    url = bundle_url(region)
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            return check_bundle(response.read().decode("ascii"), url)
    except (urllib.error.URLError, TimeoutError, UnicodeDecodeError) as exc:
        raise BundleError(
            f"cannot download the RDS CA bundle from {url}: {exc}. The workloads layer "
            "deploys from inside the VPC through a NAT gateway; check its egress"
        ) from exc
