"""Network settings: one VPC CIDR, the AZ spread and how private subnets reach the internet."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from .base import Section, int_range
from .errors import FieldError

# RFC 1918 private ranges: a VPC on public address space would shadow real internet hosts.
_PRIVATE_RANGES = tuple(
    ipaddress.ip_network(block) for block in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
MIN_VPC_PREFIX, MAX_VPC_PREFIX = 16, 20


def _check_cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"must be an IPv4 network in CIDR notation ({exc})") from None
    return str(network)


def _check_vpc_cidr(value: str) -> str:
    network = ipaddress.IPv4Network(_check_cidr(value))
    if not MIN_VPC_PREFIX <= network.prefixlen <= MAX_VPC_PREFIX:
        raise ValueError(f"must have a prefix from /{MIN_VPC_PREFIX} to /{MAX_VPC_PREFIX}")
    if not any(network.subnet_of(block) for block in _PRIVATE_RANGES):
        raise ValueError("must lie inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
    return value


Cidr = Annotated[str, AfterValidator(_check_cidr)]
VpcCidr = Annotated[str, AfterValidator(_check_vpc_cidr)]
NatStrategy = Literal["none", "single", "onePerAz", "regional"]


class NetworkSettings(Section):
    """`crm-platform:network`."""

    cidr: VpcCidr = "10.0.0.0/16"
    """VPC block; every subnet tier is carved out of it."""
    az_count: Annotated[int, int_range(2, 6)] = 3
    """Availability zones to spread subnets (and so nodes and databases) over."""
    nat_strategy: NatStrategy = "onePerAz"
    """Egress for private subnets: none, one shared NAT gateway, one per AZ, or one regional."""
    interface_endpoints: bool = True
    """Private endpoints for ECR, STS, Logs, KMS and Secrets Manager (traffic stays in the VPC)."""
    reserved_cidrs: list[Cidr] = Field(default_factory=list)
    """Ranges in use elsewhere (peered VPCs, on-premises) that the VPC must not overlap."""

    @model_validator(mode="after")
    def _no_overlap_and_some_egress(self) -> NetworkSettings:
        vpc = ipaddress.IPv4Network(self.cidr)
        for index, reserved in enumerate(self.reserved_cidrs):
            if vpc.overlaps(ipaddress.IPv4Network(reserved)):
                raise FieldError(
                    f"reservedCidrs.{index}", reserved, f"must not overlap the VPC cidr {self.cidr}"
                )
        if self.nat_strategy == "none" and not self.interface_endpoints:
            raise FieldError(
                "natStrategy",
                "none",
                "requires interfaceEndpoints: true, or nodes could not pull images or get tokens",
            )
        return self
