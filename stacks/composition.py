"""Composes the components into one stack from validated settings."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.encryption import Encryption, EncryptionArgs, KeyDomain
from components.network import Network, NetworkArgs

from .settings import StackSettings

PROJECT = "crm-platform"


def default_tags(settings: StackSettings) -> dict[str, str]:
    """Tags every AWS resource carries (through the provider), used for cost and audits."""
    return {
        "project": PROJECT,
        "environment": settings.environment,
        "owner": settings.owner,
        "data-classification": settings.data_classification,
        "managed-by": "pulumi",
    }


def build(settings: StackSettings) -> dict[str, object]:
    """Create every resource of the stack and return the stack outputs."""
    env = settings.environment
    provider = aws.Provider(
        f"aws-{env}",
        region=settings.region,
        default_tags=aws.ProviderDefaultTagsArgs(tags=default_tags(settings)),
    )
    with_provider = pulumi.ResourceOptions(providers={"aws": provider})

    encryption = Encryption(
        f"{env}-keys",
        EncryptionArgs(
            region=settings.region,
            alias_prefix=f"{PROJECT}/{env}",
            deletion_window_days=settings.encryption.key_deletion_window_days,
            protect=settings.protect_stateful_resources,
        ),
        opts=with_provider,
    )
    network = Network(
        f"{env}-net",
        NetworkArgs(
            region=settings.region,
            cidr=settings.network.cidr,
            az_count=settings.network.az_count,
            nat_strategy=settings.network.nat_strategy,
            interface_endpoints=settings.network.interface_endpoints,
            flow_log_key_arn=encryption.keys[KeyDomain.LOGS].arn,
            flow_log_retention_days=settings.logging.retention_days,
        ),
        opts=with_provider,
    )
    outputs: dict[str, object] = {
        "region": settings.region,
        "allowedRegions": settings.residency.allowed_regions,
        "vpcId": network.vpc.id,
        "availabilityZones": network.availability_zones,
        "publicSubnetIds": network.public_subnet_ids,
        "privateSubnetIds": network.private_subnet_ids,
        "isolatedSubnetIds": network.isolated_subnet_ids,
        "kmsKeyArns": encryption.key_arns,
    }
    # Cluster: built here, after the network (its nodes carry network.workload_security_group).

    # Data tier: built here, after the cluster; data stores admit only the workload group.

    # CRM application: built here, on the cluster's Kubernetes provider, using the data tier.

    return outputs
