"""Managed node groups launched from a hardened launch template."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

POOL_LABEL = "crm-platform/pool"
"""Node label naming the pool (`system` or `app`); workloads select their pool with it."""
SYSTEM_TAINT = {"key": "CriticalAddonsOnly", "value": "true", "effect": "NoSchedule"}
"""Taint of the system pool, in Kubernetes spelling; only pods tolerating it run there."""
SYSTEM_TOLERATION = {"key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoSchedule"}
SYSTEM_NODE_SELECTOR = {POOL_LABEL: "system"}
# IMDSv2 only, one hop: processes on the node (kubelet, the host-network CNI, EBS CSI node and
# Pod Identity agents) reach the metadata service, ordinary pods cannot borrow the node role.
# Pods that call AWS get their own role (IRSA); the load balancer controller is told its region
# and VPC, so it never needs the metadata service either.
IMDS_HOP_LIMIT = 1
ROOT_DEVICE = "/dev/xvda"  # root device of the EKS-optimized AL2023 AMIs


@dataclass(frozen=True)
class NodePool:
    """Size and shape of one managed node group."""

    instance_types: Sequence[str]
    """EC2 instance types the group may launch (one architecture)."""
    min_size: int
    """Fewest nodes; one per AZ at least in prod."""
    desired_size: int
    """Nodes at creation; later changes by an autoscaler are left alone."""
    max_size: int
    """Most nodes the group may scale to."""
    capacity_type: str = "ON_DEMAND"
    """ON_DEMAND or SPOT."""
    disk_size_gib: int = 50
    """Size of the encrypted gp3 root volume."""
    ami_type: str = "AL2023_x86_64_STANDARD"
    """EKS-optimized AMI family matching the instance architecture."""


@dataclass(frozen=True)
class Placement:
    """Where a pool's nodes run and what guards them, shared by every pool of a cluster."""

    cluster: aws.eks.Cluster
    node_role: aws.iam.Role
    subnet_ids: Sequence[pulumi.Input[str]]
    security_group_ids: Sequence[pulumi.Input[str]]
    volumes_key_arn: pulumi.Input[str]
    max_unavailable_percentage: int
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


def node_group(
    parent: pulumi.Resource,
    name: str,
    pool: NodePool,
    placement: Placement,
    labels: Mapping[str, str],
    taints: Sequence[Mapping[str, str]] = (),
) -> aws.eks.NodeGroup:
    """A managed node group over every private subnet, rolled through `update_config`.

    The group has no fixed name, so a change EKS cannot apply in place (instance types, capacity
    type) creates the new group before the old one is drained and deleted. Its version follows
    the cluster, and the desired size belongs to the autoscaler after creation.
    """
    child = pulumi.ResourceOptions(parent=parent)
    template = aws.ec2.LaunchTemplate(
        name,
        description=f"{name} nodes: IMDSv2 only, encrypted gp3 root volume, no SSH",
        update_default_version=True,
        metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
            http_endpoint="enabled",
            http_tokens="required",
            http_put_response_hop_limit=IMDS_HOP_LIMIT,
        ),
        block_device_mappings=[
            aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name=ROOT_DEVICE,
                ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    volume_size=pool.disk_size_gib,
                    volume_type="gp3",
                    encrypted="true",
                    kms_key_id=placement.volumes_key_arn,
                    delete_on_termination="true",
                ),
            )
        ],
        vpc_security_group_ids=list(placement.security_group_ids),
        tag_specifications=[
            aws.ec2.LaunchTemplateTagSpecificationArgs(
                resource_type=kind, tags={"Name": name, POOL_LABEL: labels[POOL_LABEL]}
            )
            for kind in ("instance", "volume")
        ],
        opts=child,
    )
    return aws.eks.NodeGroup(
        name,
        cluster_name=placement.cluster.name,
        version=placement.cluster.version,
        node_role_arn=placement.node_role.arn,
        subnet_ids=list(placement.subnet_ids),
        ami_type=pool.ami_type,
        capacity_type=pool.capacity_type,
        instance_types=list(pool.instance_types),
        launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
            id=template.id, version=template.latest_version.apply(str)
        ),
        scaling_config=aws.eks.NodeGroupScalingConfigArgs(
            min_size=pool.min_size, desired_size=pool.desired_size, max_size=pool.max_size
        ),
        update_config=aws.eks.NodeGroupUpdateConfigArgs(
            max_unavailable_percentage=placement.max_unavailable_percentage
        ),
        node_repair_config=aws.eks.NodeGroupNodeRepairConfigArgs(enabled=True),
        labels=dict(labels),
        taints=[
            aws.eks.NodeGroupTaintArgs(
                key=taint["key"], value=taint["value"], effect=_EKS_EFFECTS[taint["effect"]]
            )
            for taint in taints
        ],
        opts=pulumi.ResourceOptions(
            parent=parent,
            depends_on=list(placement.depends_on),
            ignore_changes=["scalingConfig.desiredSize"],
        ),
    )


_EKS_EFFECTS = {
    "NoSchedule": "NO_SCHEDULE",
    "NoExecute": "NO_EXECUTE",
    "PreferNoSchedule": "PREFER_NO_SCHEDULE",
}
