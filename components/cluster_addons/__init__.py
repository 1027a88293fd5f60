"""`ClusterAddons`: what the CRM needs running in the cluster before it can be deployed.

Kubernetes objects only (the workloads layer): the default encrypted StorageClass, the AWS
Load Balancer Controller (target registration), metrics-server (the autoscalers' metrics),
External Secrets (database credentials synced from Secrets Manager inside the cluster) and the
Cluster Autoscaler (nodes for pending pods).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from . import cluster_autoscaler, load_balancer_controller, metrics_server

STORAGE_CLASS = "gp3-encrypted"
"""Name of the default StorageClass (encrypted gp3 volumes with the volumes key)."""
EXTERNAL_SECRETS_CHART = "1.0.0"  # external-secrets.io/v1 API
EXTERNAL_SECRETS_REPO = "https://charts.external-secrets.io"
EXTERNAL_SECRETS_NAMESPACE = "external-secrets"
EXTERNAL_SECRETS_REPLICAS = 2


def external_secrets_values() -> dict:
    """Two controllers of which one leads (chart 1.0.0 defaults to one replica and
    `leaderElect: false`, so two replicas would both reconcile), two webhook replicas (every
    ExternalSecret and SecretStore is admitted through it: `failurePolicy: Fail`), and a
    disruption budget for each. The cert controller stays single: it only renews the webhook's
    certificate, and a short gap in renewal harms nothing."""
    budget = {"enabled": True, "minAvailable": 1}
    return {
        "installCRDs": True,
        "replicaCount": EXTERNAL_SECRETS_REPLICAS,
        "leaderElect": True,
        "podDisruptionBudget": budget,
        "webhook": {"replicaCount": EXTERNAL_SECRETS_REPLICAS, "podDisruptionBudget": budget},
    }


@dataclass(frozen=True)
class ClusterAddonsArgs:
    """Inputs of `ClusterAddons` (platform outputs, read through the stack reference)."""

    cluster_name: pulumi.Input[str]
    region: str
    vpc_id: pulumi.Input[str]
    volumes_key_arn: pulumi.Input[str]
    """KMS key of persistent volumes."""
    load_balancer_controller_role_arn: pulumi.Input[str]
    """IRSA role the platform created for the controller's service account."""
    kubernetes_version: str
    """The cluster's minor version (the autoscaler's image must match it)."""
    cluster_autoscaler_role_arn: pulumi.Input[str]
    """IRSA role the platform created for the autoscaler's service account."""


class ClusterAddons(pulumi.ComponentResource):
    """StorageClass and the four controllers, each a pinned Helm release."""

    def __init__(
        self, name: str, args: ClusterAddonsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("crm-platform:workloads:ClusterAddons", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        k8s.storage.v1.StorageClass(
            f"{name}-{STORAGE_CLASS}",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=STORAGE_CLASS,
                annotations={"storageclass.kubernetes.io/is-default-class": "true"},
            ),
            provisioner="ebs.csi.aws.com",
            parameters={"type": "gp3", "encrypted": "true", "kmsKeyId": args.volumes_key_arn},
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            opts=child,
        )
        self.load_balancer_controller = load_balancer_controller.install(
            self,
            f"{name}-lb-controller",
            load_balancer_controller.chart_values(
                args.cluster_name, args.region, args.vpc_id, args.load_balancer_controller_role_arn
            ),
        )
        self.metrics_server = metrics_server.install(self, f"{name}-metrics-server")
        self.external_secrets = k8s.helm.v3.Release(
            f"{name}-external-secrets",
            name="external-secrets",
            chart="external-secrets",
            version=EXTERNAL_SECRETS_CHART,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=EXTERNAL_SECRETS_REPO),
            namespace=EXTERNAL_SECRETS_NAMESPACE,
            create_namespace=True,
            values=external_secrets_values(),
            atomic=True,
            max_history=5,
            opts=child,
        )
        self.cluster_autoscaler = cluster_autoscaler.install(
            self,
            f"{name}-cluster-autoscaler",
            cluster_autoscaler.chart_values(
                args.cluster_name,
                args.region,
                args.kubernetes_version,
                args.cluster_autoscaler_role_arn,
            ),
        )
        self.ready = [self.load_balancer_controller, self.metrics_server, self.external_secrets]
        """Depend on these before creating objects the controllers serve."""
        self.register_outputs({"storageClass": STORAGE_CLASS})
