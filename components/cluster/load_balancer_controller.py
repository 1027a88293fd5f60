"""The AWS Load Balancer Controller: turns an Ingress into an internet-facing ALB.

It finds the public subnets of every AZ by their `kubernetes.io/role/elb` tag (set by the
network), so an ALB spans all zones without naming a subnet here.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_kubernetes as k8s

from .nodes import SYSTEM_NODE_SELECTOR, SYSTEM_TOLERATION

CHART = "aws-load-balancer-controller"
CHART_VERSION = (
    "3.5.0"  # controller v3.5.0; its IAM policy is iam_policies.load_balancer_controller
)
CHART_REPOSITORY = "https://aws.github.io/eks-charts"
NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "aws-load-balancer-controller"
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
    provider: k8s.Provider,
    values: dict,
    depends_on: Sequence[pulumi.Resource],
) -> k8s.helm.v3.Release:
    """The pinned chart as a Helm release that waits until the controller is ready."""
    return k8s.helm.v3.Release(
        name,
        name=CHART,
        chart=CHART,
        version=CHART_VERSION,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CHART_REPOSITORY),
        namespace=NAMESPACE,
        values=values,
        atomic=True,
        max_history=5,
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=list(depends_on)),
    )
