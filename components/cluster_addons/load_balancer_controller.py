"""The AWS Load Balancer Controller: keeps the platform's target group in step with the CRM's
server pods (a `TargetGroupBinding` registers their IPs as targets as they come and go).
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from ..cluster.cluster import LOAD_BALANCER_CONTROLLER_ACCOUNT as SERVICE_ACCOUNT
from ..cluster.cluster import LOAD_BALANCER_CONTROLLER_NAMESPACE as NAMESPACE
from ..cluster.nodes import SYSTEM_NODE_SELECTOR, SYSTEM_TOLERATION
from .helm import pinned_release

CHART = "aws-load-balancer-controller"
CHART_VERSION = (
    "3.5.0"  # controller v3.5.0; its IAM policy is iam_policies.load_balancer_controller
)
CHART_REPOSITORY = "https://aws.github.io/eks-charts"
REPLICAS = 2


def chart_values(
    cluster_name: str,
    region: str,
    vpc_id: pulumi.Input[str],
    role_arn: pulumi.Input[str],
) -> dict:
    """Helm values: explicit cluster, region and VPC (no metadata-service lookups), the IRSA
    role on the service account, two replicas on the system pool that never drain together."""
    return {
        "clusterName": cluster_name,
        "region": region,
        "vpcId": vpc_id,
        "replicaCount": REPLICAS,
        "serviceAccount": {
            "create": True,
            "name": SERVICE_ACCOUNT,
            "annotations": {"eks.amazonaws.com/role-arn": role_arn},
        },
        "tolerations": [SYSTEM_TOLERATION],
        "nodeSelector": SYSTEM_NODE_SELECTOR,
        "podDisruptionBudget": {"maxUnavailable": 1},
    }


def install(
    parent: pulumi.Resource,
    name: str,
    values: dict,
) -> k8s.helm.v3.Release:
    """The pinned chart as a Helm release that waits until the controller is ready."""
    return pinned_release(
        parent,
        name,
        chart=CHART,
        version=CHART_VERSION,
        repository=CHART_REPOSITORY,
        namespace=NAMESPACE,
        values=values,
    )
