"""Container Insights for the cluster: the Amazon CloudWatch Observability EKS add-on.

The add-on's CloudWatch agent publishes node, pod and namespace metrics (the `ContainerInsights`
namespace the node and pod alarms read) and its Fluent Bit ships container logs. Their log
groups are created here first, encrypted with the logs key and expiring, so the agents never
create unencrypted, never-expiring ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

ADDON = "amazon-cloudwatch-observability"
NAMESPACE = "amazon-cloudwatch"
SERVICE_ACCOUNT = "cloudwatch-agent"
"""Service account of the agent; its IRSA role needs `CloudWatchAgentServerPolicy`."""
LOG_GROUPS = ("application", "dataplane", "host", "performance")
"""`/aws/containerinsights/<cluster>/<kind>`: what the add-on writes to."""


@dataclass(frozen=True)
class ContainerInsightsArgs:
    """Inputs of `ContainerInsights`."""

    cluster_name: pulumi.Input[str]
    kubernetes_version: str
    """Selects AWS's default add-on version for that Kubernetes version."""
    agent_role_arn: pulumi.Input[str]
    """IRSA role of `amazon-cloudwatch/cloudwatch-agent`."""
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)
    """The node groups: the add-on only becomes active once its pods can run."""


class ContainerInsights(pulumi.ComponentResource):
    """Encrypted log groups, then the add-on at AWS's default version for the cluster."""

    def __init__(
        self, name: str, args: ContainerInsightsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("crm-platform:operations:ContainerInsights", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        log_groups = [
            aws.cloudwatch.LogGroup(
                f"{name}-{kind}",
                name=pulumi.Output.concat("/aws/containerinsights/", args.cluster_name, f"/{kind}"),
                kms_key_id=args.logs_key_arn,
                retention_in_days=args.log_retention_days,
                opts=child,
            )
            for kind in LOG_GROUPS
        ]
        # No pin of ours: the version EKS marks default for this Kubernetes version, read from
        # the provider's data source, so a cluster upgrade moves the add-on with it.
        version = aws.eks.get_addon_version_output(
            addon_name=ADDON,
            kubernetes_version=args.kubernetes_version,
            most_recent=False,
            opts=pulumi.InvokeOutputOptions(parent=self),
        ).version
        self.addon = aws.eks.Addon(
            name,
            cluster_name=args.cluster_name,
            addon_name=ADDON,
            addon_version=version,
            service_account_role_arn=args.agent_role_arn,
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*log_groups, *args.depends_on]),
        )
        self.register_outputs({"addonVersion": version})
