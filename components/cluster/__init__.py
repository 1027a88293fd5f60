"""The EKS cluster: `Cluster` and its args, plus the pool shape and labels workloads rely on."""

from .cluster import STORAGE_CLASS, Cluster, ClusterArgs
from .nodes import POOL_LABEL, NodePool

__all__ = ["POOL_LABEL", "STORAGE_CLASS", "Cluster", "ClusterArgs", "NodePool"]
