"""The Cluster Autoscaler: nodes for pending pods, within each managed node group's min/max.

It resizes the node groups' Auto Scaling groups, which EKS tags for auto-discovery, and never
goes below a group's minimum or above its maximum; scale-down drains through the eviction API,
so every PodDisruptionBudget holds. Chosen over Karpenter and EKS Auto Mode: it keeps the
managed node groups (their hardened launch templates, min/max and rollouts) as the only source
of nodes, adds no node-management fee, and is one Deployment (README, "Operating prod").
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from ..cluster.nodes import SYSTEM_NODE_SELECTOR, SYSTEM_TOLERATION
from .helm import pinned_release

CHART = "cluster-autoscaler"
CHART_VERSION = "9.59.0"  # kubernetes/autoscaler tag cluster-autoscaler-chart-9.59.0
CHART_REPOSITORY = "https://kubernetes.github.io/autoscaler"
NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "cluster-autoscaler"
"""Service account the platform's IRSA role trusts."""
IMAGE_TAGS = {"1.35": "v1.35.2", "1.36": "v1.36.1"}
"""The autoscaler's minor must match the cluster's (kubernetes/autoscaler release tags
cluster-autoscaler-1.35.2 and -1.36.1; the chart defaults to v1.35.0)."""
REPLICAS = 2
"""One active (leader election), one standby on another system node."""


def chart_values(
    cluster_name: pulumi.Input[str],
    region: str,
    kubernetes_version: str,
    role_arn: pulumi.Input[str],
) -> dict:
    """Auto-discovery of this cluster's groups, the image for its version, the IRSA role, on
    the system pool; least-waste expansion; emptyDir scratch space does not pin a node."""
    return {
        "cloudProvider": "aws",
        "awsRegion": region,
        "autoDiscovery": {"clusterName": cluster_name},
        "image": {"tag": IMAGE_TAGS[kubernetes_version]},
        "replicaCount": REPLICAS,
        "rbac": {
            "serviceAccount": {
                "create": True,
                "name": SERVICE_ACCOUNT,
                "annotations": {"eks.amazonaws.com/role-arn": role_arn},
            }
        },
        "extraArgs": {
            "expander": "least-waste",
            "skip-nodes-with-local-storage": False,
            "scale-down-unneeded-time": "10m",
        },
        "tolerations": [SYSTEM_TOLERATION],
        "nodeSelector": SYSTEM_NODE_SELECTOR,
        "podDisruptionBudget": {"maxUnavailable": 1},
    }


def install(parent: pulumi.Resource, name: str, values: dict) -> k8s.helm.v3.Release:
    """The pinned chart as a Helm release that waits until the autoscaler runs."""
    return pinned_release(
        parent,
        name,
        chart=CHART,
        version=CHART_VERSION,
        repository=CHART_REPOSITORY,
        namespace=NAMESPACE,
        values=values,
    )
