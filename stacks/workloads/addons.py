"""Cluster add-ons the CRM needs: storage, target registration, metrics, secret sync."""

from __future__ import annotations

import pulumi

from components.cluster_addons import ClusterAddons, ClusterAddonsArgs

from ..contract import PlatformOutputs
from ..settings import StackSettings


def build_addons(
    settings: StackSettings, platform: PlatformOutputs, opts: pulumi.ResourceOptions
) -> ClusterAddons:
    return ClusterAddons(
        f"{settings.environment}-addons",
        ClusterAddonsArgs(
            cluster_name=platform.cluster_name,
            region=settings.region,
            vpc_id=platform.vpc_id,
            volumes_key_arn=platform.volumes_key_arn,
            load_balancer_controller_role_arn=platform.load_balancer_controller_role_arn,
            kubernetes_version=settings.cluster.kubernetes_version,
            cluster_autoscaler_role_arn=platform.cluster_autoscaler_role_arn,
        ),
        opts=opts,
    )
