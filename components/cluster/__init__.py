"""The EKS cluster: `Cluster` and its args, plus the pool shape and labels workloads rely on."""

from .cluster import (
    LOAD_BALANCER_CONTROLLER_ACCOUNT,
    LOAD_BALANCER_CONTROLLER_NAMESPACE,
    Cluster,
    ClusterArgs,
)
from .nodes import POOL_LABEL, NodePool

__all__ = [
    "LOAD_BALANCER_CONTROLLER_ACCOUNT",
    "LOAD_BALANCER_CONTROLLER_NAMESPACE",
    "POOL_LABEL",
    "Cluster",
    "ClusterArgs",
    "NodePool",
]
