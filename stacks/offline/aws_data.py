"""AWS facts the offline runtime and checks answer with, from machine-readable sources:
botocore's partitions table, and the provider's service-principal suffixes
(`data/service_principal_suffixes.json`, recording the provider source and commit)."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore

BOTOCORE_DATA = Path(botocore.__file__).parent / "data"
SERVICE_PRINCIPALS_FILE = Path(__file__).parent / "data" / "service_principal_suffixes.json"


@dataclass(frozen=True)
class Partition:
    name: str
    """`aws`, `aws-cn`, `aws-us-gov`, `aws-eusc`…: the second field of every ARN."""
    dns_suffix: str
    """`amazonaws.com`, `amazonaws.com.cn`, `amazonaws.eu`…"""


@functools.cache
def _partitions() -> list[dict[str, Any]]:
    return json.loads((BOTOCORE_DATA / "partitions.json").read_text())["partitions"]


@functools.cache
def partition_of(region: str) -> Partition:
    """The partition of a region (botocore's partitions.json; ValueError if none claims it)."""
    for entry in _partitions():
        if region in entry["regions"] or re.match(entry["regionRegex"], region):
            return Partition(entry["id"], entry["outputs"]["dnsSuffix"])
    raise ValueError(f"no AWS partition has the region {region!r}")


def partitions() -> list[Partition]:
    return [Partition(entry["id"], entry["outputs"]["dnsSuffix"]) for entry in _partitions()]


@functools.cache
def _service_principals() -> dict[str, Any]:
    return json.loads(SERVICE_PRINCIPALS_FILE.read_text())


def service_principal_suffix(service: str, region: str) -> str:
    """The suffix of `service`'s principal in `region`, as aws.get_service_principal answers."""
    partition = partition_of(region)
    if service in _service_principals()["partitionSuffixServices"].get(partition.name, ()):
        return partition.dns_suffix
    return _service_principals()["otherwise"]
