"""EKS cluster settings: Kubernetes version, administrators, endpoint exposure, node pools."""

from __future__ import annotations

import functools
import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, computed_field, model_validator

from .base import Section, int_range
from .errors import FieldError
from .network import Cidr
from .regions import known_partitions
from .upgrade_calendar import END_OF_STANDARD_SUPPORT

# Versions in EKS standard support, each with its end date and source (upgrade_calendar.py).
# 1.34 is left out: its standard support ends on 2026-12-02. Anything older runs on extended
# support at six times the control-plane price (or is retired). Add a version there only
# together with its add-on pins (components/cluster/addons.py).
SUPPORTED_KUBERNETES_VERSIONS = tuple(END_OF_STANDARD_SUPPORT)

_INSTANCE_TYPE = re.compile(r"^([a-z]+)(\d+)([a-z0-9-]*)\.(\d*[a-z0-9]+)$")


def _check_version(value: str) -> str:
    if value not in SUPPORTED_KUBERNETES_VERSIONS:
        raise ValueError(
            f"must be one of {', '.join(SUPPORTED_KUBERNETES_VERSIONS)} (the versions in EKS "
            "standard support; older ones bill extended support)"
        )
    return value


@functools.cache
def _role_arn() -> re.Pattern[str]:
    """An IAM role ARN in any partition botocore knows."""
    partitions = "|".join(re.escape(name) for name in known_partitions())
    return re.compile(rf"^arn:({partitions}):iam::\d{{12}}:role/[\w+=,.@/-]{{1,512}}$")


def _check_role_arn(value: str) -> str:
    if not _role_arn().match(value):
        raise ValueError(
            "must be an IAM role ARN, e.g. arn:<partition>:iam::123456789012:role/platform-admin"
        )
    return value


def _check_instance_type(value: str) -> str:
    if not _INSTANCE_TYPE.match(value):
        raise ValueError("must be an EC2 instance type, e.g. m7i.large")
    return value


def is_graviton(instance_type: str) -> bool:
    """`m7g.large`, `c7gn.xlarge`, `x2gd.medium` run on arm64 (a `g` after the generation)."""
    match = _INSTANCE_TYPE.match(instance_type)
    return bool(match) and "g" in match.group(3)


def _check_not_empty(value: list[str]) -> list[str]:
    if not value:
        raise ValueError("must name at least one instance type")
    return value


KubernetesVersion = Annotated[str, AfterValidator(_check_version)]
RoleArn = Annotated[str, AfterValidator(_check_role_arn)]
InstanceType = Annotated[str, AfterValidator(_check_instance_type)]


class NodePoolSettings(Section):
    """One managed node group spread over the private subnets of every AZ."""

    instance_types: Annotated[list[InstanceType], AfterValidator(_check_not_empty)] = Field(
        default_factory=lambda: ["m7i.large"]
    )
    """EC2 instance types the group may launch (all x86_64 or all arm64)."""
    min_size: Annotated[int, int_range(0, 100)] = 3
    """Fewest nodes; at least one per AZ in prod so a zone outage leaves capacity elsewhere."""
    desired_size: Annotated[int, int_range(0, 100)] = 3
    """Nodes at creation; afterwards an autoscaler owns it (Pulumi ignores later drift)."""
    max_size: Annotated[int, int_range(1, 100)] = 6
    """Most nodes an autoscaler may scale the group to."""
    capacity_type: Literal["ON_DEMAND", "SPOT"] = "ON_DEMAND"
    """ON_DEMAND (never reclaimed) or SPOT (cheaper, may be interrupted with two minutes notice)."""
    disk_size_gib: Annotated[int, int_range(20, 1000)] = 50
    """Encrypted gp3 root volume per node (images and logs)."""

    @computed_field
    @property
    def ami_type(self) -> str:
        """The EKS-optimized Amazon Linux 2023 AMI matching the instance architecture."""
        if is_graviton(self.instance_types[0]):
            return "AL2023_ARM_64_STANDARD"
        return "AL2023_x86_64_STANDARD"

    @model_validator(mode="after")
    def _sizes_ordered_and_one_architecture(self) -> NodePoolSettings:
        if self.min_size > self.max_size:
            raise FieldError("minSize", self.min_size, f"must not exceed maxSize ({self.max_size})")
        if not self.min_size <= self.desired_size <= self.max_size:
            raise FieldError(
                "desiredSize",
                self.desired_size,
                f"must be from minSize ({self.min_size}) to maxSize ({self.max_size})",
            )
        if len({is_graviton(kind) for kind in self.instance_types}) > 1:
            raise FieldError(
                "instanceTypes",
                self.instance_types,
                "must be all x86_64 or all arm64 (Graviton) types: a group has one AMI",
            )
        return self


def _app_pool() -> NodePoolSettings:
    return NodePoolSettings(instance_types=["m7i.xlarge"], min_size=3, desired_size=3, max_size=9)


class ClusterSettings(Section):
    """`crm-platform:cluster`: the EKS control plane, its access and its node pools."""

    kubernetes_version: KubernetesVersion = "1.35"
    """Kubernetes minor version of the control plane and the nodes (EKS standard support only)."""
    admin_role_arns: list[RoleArn] = Field(default_factory=list)
    """IAM roles granted cluster-admin through EKS access entries (there is no aws-auth)."""
    grant_deployer_admin: bool = False
    """Grant the identity running the platform's `pulumi up` cluster-admin through a visible
    access entry. The platform creates nothing in the cluster (the workloads layer deploys from
    the in-VPC runner, which has its own entry), so this is only for operators who also use
    that identity with kubectl; do not also list that role in adminRoleArns."""
    endpoint_public_access: bool = False
    """Expose the API server on the internet as well (the private endpoint is always on)."""
    public_access_cidrs: list[Cidr] = Field(default_factory=list)
    """Source ranges allowed to reach the public endpoint; required when it is on."""
    allow_public_access_from_anywhere: bool = False
    """Explicit opt-in that lets publicAccessCidrs contain 0.0.0.0/0 (the whole internet)."""
    private_access_cidrs: list[Cidr] = Field(default_factory=list)
    """Ranges (VPN, CI runners, peered VPCs) that may reach the private endpoint on 443."""
    system_nodes: NodePoolSettings = Field(default_factory=NodePoolSettings)
    """Tainted pool for cluster add-ons (CoreDNS, EBS CSI controller, load balancer controller)."""
    app_nodes: NodePoolSettings = Field(default_factory=_app_pool)
    """Untainted pool the CRM workloads run on."""
    max_unavailable_percentage: Annotated[int, int_range(1, 100)] = 33
    """Share of a pool's nodes replaced at once during version and launch template rollouts."""

    @model_validator(mode="after")
    def _endpoint_exposure_is_explicit(self) -> ClusterSettings:
        if self.public_access_cidrs and not self.endpoint_public_access:
            raise FieldError(
                "publicAccessCidrs",
                self.public_access_cidrs,
                "requires endpointPublicAccess: true (the public endpoint is off)",
            )
        if self.endpoint_public_access and not self.public_access_cidrs:
            raise FieldError(
                "endpointPublicAccess",
                True,
                "requires publicAccessCidrs (without them EKS opens the endpoint to 0.0.0.0/0)",
            )
        for index, cidr in enumerate(self.public_access_cidrs):
            anywhere = ipaddress.ip_network(cidr).prefixlen == 0
            if anywhere and not self.allow_public_access_from_anywhere:
                raise FieldError(
                    f"publicAccessCidrs.{index}",
                    cidr,
                    "opens the API server to the whole internet; set "
                    "allowPublicAccessFromAnywhere: true to accept that",
                )
        if len(set(self.admin_role_arns)) != len(self.admin_role_arns):
            raise FieldError("adminRoleArns", self.admin_role_arns, "must not list a role twice")
        return self
