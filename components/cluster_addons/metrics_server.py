"""metrics-server: the resource metrics the CRM's horizontal pod autoscalers scale on.

EKS does not install it; without it an autoscaler reports `<unknown>` and never scales.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from ..cluster.nodes import SYSTEM_NODE_SELECTOR, SYSTEM_TOLERATION
from .helm import pinned_release

CHART = "metrics-server"
CHART_VERSION = "3.13.0"  # metrics-server v0.8.0
CHART_REPOSITORY = "https://kubernetes-sigs.github.io/metrics-server/"
NAMESPACE = "kube-system"
REPLICAS = 2


def chart_values() -> dict:
    """Two replicas on the system pool, never both drained at once."""
    return {
        "replicas": REPLICAS,
        "tolerations": [SYSTEM_TOLERATION],
        "nodeSelector": SYSTEM_NODE_SELECTOR,
        "podDisruptionBudget": {"enabled": True, "minAvailable": 1},
    }


def install(
    parent: pulumi.Resource,
    name: str,
) -> k8s.helm.v3.Release:
    """The pinned chart as a Helm release that waits until the metrics API is served."""
    return pinned_release(
        parent,
        name,
        chart=CHART,
        version=CHART_VERSION,
        repository=CHART_REPOSITORY,
        namespace=NAMESPACE,
        values=chart_values(),
    )
