"""Network tier: the VPC and its subnets, endpoints and flow logs."""

from __future__ import annotations

import pulumi

from components.encryption import Encryption, KeyDomain
from components.network import Network, NetworkArgs

from ..settings import StackSettings


def build_network(
    settings: StackSettings, keys: Encryption, opts: pulumi.ResourceOptions
) -> Network:
    return Network(
        f"{settings.environment}-net",
        NetworkArgs(
            region=settings.region,
            cidr=settings.network.cidr,
            az_count=settings.network.az_count,
            nat_strategy=settings.network.nat_strategy,
            interface_endpoints=settings.network.interface_endpoints,
            flow_log_key_arn=keys.keys[KeyDomain.LOGS].arn,
            flow_log_retention_days=settings.logging.retention_days,
        ),
        opts=opts,
    )
