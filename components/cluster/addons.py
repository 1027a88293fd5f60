"""EKS managed add-ons, pinned per Kubernetes version.

Pins come from the AWS add-on version tables (`aws eks describe-addon-versions
--kubernetes-version <v>`); bump them together with the cluster version, one minor at a time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import pulumi
import pulumi_aws as aws

VPC_CNI = "vpc-cni"
KUBE_PROXY = "kube-proxy"
POD_IDENTITY_AGENT = "eks-pod-identity-agent"
COREDNS = "coredns"
EBS_CSI_DRIVER = "aws-ebs-csi-driver"

ADDON_VERSIONS: dict[str, dict[str, str]] = {
    "1.35": {
        VPC_CNI: "v1.21.1-eksbuild.7",
        KUBE_PROXY: "v1.35.3-eksbuild.2",
        POD_IDENTITY_AGENT: "v1.3.10-eksbuild.2",
        COREDNS: "v1.13.2-eksbuild.4",
        EBS_CSI_DRIVER: "v1.60.0-eksbuild.1",
    },
    "1.36": {
        VPC_CNI: "v1.22.3-eksbuild.1",
        KUBE_PROXY: "v1.36.0-eksbuild.14",
        POD_IDENTITY_AGENT: "v1.3.10-eksbuild.3",
        COREDNS: "v1.14.3-eksbuild.3",
        EBS_CSI_DRIVER: "v1.63.1-eksbuild.1",
    },
}


def install(
    parent: pulumi.Resource,
    prefix: str,
    cluster: aws.eks.Cluster,
    versions: Mapping[str, str],
    configuration: Mapping[str, dict],
    service_account_roles: Mapping[str, pulumi.Input[str]],
    names: Sequence[str],
    depends_on: Sequence[pulumi.Resource] = (),
) -> dict[str, aws.eks.Addon]:
    """Managed add-ons `names`, each pinned, with its configuration and IRSA role if it has one.

    OVERWRITE on create and update: the add-on's own settings win over manual edits, so what
    runs is always what this code says.
    """
    return {
        addon: aws.eks.Addon(
            f"{prefix}-{addon}",
            cluster_name=cluster.name,
            addon_name=addon,
            addon_version=versions[addon],
            configuration_values=(
                json.dumps(configuration[addon]) if addon in configuration else None
            ),
            service_account_role_arn=service_account_roles.get(addon),
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
        )
        for addon in names
    }
