"""EKS: private API endpoint, secrets encryption, control-plane logs, versions, node groups."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .core import (
    CRITICAL,
    HIGH,
    MEDIUM,
    Res,
    as_bool,
    as_number,
    boolean,
    integer,
    known_items,
    resource_policy,
    setting,
    show,
    show_list,
    strings,
)

CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"

WORLD = frozenset({"0.0.0.0/0", "::/0"})
LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
# Kubernetes versions in EKS standard support in late 2026 (1.34 leaves it on 2026-12-02); keep
# in step with the EKS release calendar, or pass the stack's versions through the policy config.
SUPPORTED_VERSIONS = ["1.35", "1.36"]


@resource_policy(
    "eks-private-endpoint",
    types={CLUSTER},
    description="The EKS API endpoint must be private, or public only to an allow-list of CIDRs.",
    severity=CRITICAL,
    remediation=(
        "Set vpc_config endpoint_private_access=True and endpoint_public_access=False, or keep "
        "public access with public_access_cidrs that exclude 0.0.0.0/0 (if allowed by config)."
    ),
    config={
        "allowPublicAccessWithCidrs": boolean(
            True, "Accept a public endpoint restricted by vpcConfig.publicAccessCidrs."
        )
    },
    tags=["eks", "public-exposure", "SH:EKS.1", "AwsSolutions-EKS1", "CKV_AWS_39", "CKV_AWS_38"],
)
def private_endpoint(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    private = res.get("vpcConfig.endpointPrivateAccess")
    if not as_bool(private):
        yield f"{res.label} {setting('vpcConfig.endpointPrivateAccess', private)}; it must be true."
    public = res.get("vpcConfig.endpointPublicAccess")
    if as_bool(public) is False:
        return
    shown = "unset (AWS default true)" if public is None else show(public)
    if not config["allowPublicAccessWithCidrs"]:
        yield f"{res.label} sets vpcConfig.endpointPublicAccess to {shown}; it must be false."
        return
    cidrs = known_items(res.get("vpcConfig.publicAccessCidrs"), "vpcConfig.publicAccessCidrs")
    if not cidrs or WORLD & set(cidrs):
        yield (
            f"{res.label} sets vpcConfig.endpointPublicAccess to {shown} with publicAccessCidrs "
            f"{show_list(cidrs) if cidrs else 'unset (AWS default 0.0.0.0/0)'}; the public "
            "endpoint must be disabled or limited to specific CIDRs."
        )


@resource_policy(
    "eks-secrets-encryption",
    types={CLUSTER},
    description="EKS must envelope-encrypt Kubernetes secrets with a customer-managed KMS key.",
    severity=HIGH,
    remediation="Set encryption_config={'resources': ['secrets'], 'provider': {'key_arn': ...}}.",
    tags=["eks", "encryption", "SH:EKS.3", "CKV_AWS_58"],
)
def secrets_encryption(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    resources = res.items("encryptionConfig.resources")
    if "secrets" not in resources or not res.present("encryptionConfig.provider.keyArn"):
        yield (
            f"{res.label} sets encryptionConfig.resources to {show_list(resources)} with "
            "provider.keyArn "
            f"{'set' if res.present('encryptionConfig.provider.keyArn') else 'unset'}; it must "
            'encrypt "secrets" with a customer-managed key.'
        )


@resource_policy(
    "eks-control-plane-logging",
    types={CLUSTER},
    description="EKS must send all control-plane log types to CloudWatch Logs.",
    severity=MEDIUM,
    remediation="Set enabled_cluster_log_types to every type in requiredLogTypes.",
    config={"requiredLogTypes": strings(LOG_TYPES, "Control-plane log types required.")},
    tags=["eks", "logging", "SH:EKS.8", "AwsSolutions-EKS2", "CKV_AWS_37"],
)
def control_plane_logging(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    enabled = set(res.items("enabledClusterLogTypes"))
    missing = [log for log in config["requiredLogTypes"] if log not in enabled]
    if missing:
        yield (
            f"{res.label} enables log types {show_list(sorted(enabled))} "
            f"(enabledClusterLogTypes); {show_list(missing)} must be enabled too."
        )


@resource_policy(
    "eks-supported-version",
    types={CLUSTER, NODE_GROUP},
    description="EKS clusters and node groups must pin a Kubernetes version in standard support.",
    severity=HIGH,
    remediation="Set version to one of allowedVersions (and upgrade before support ends).",
    config={"allowedVersions": strings(SUPPORTED_VERSIONS, "Allowed Kubernetes versions.", 1)},
    tags=["eks", "patching", "SH:EKS.2", "CKV_AWS_339"],
)
def supported_version(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    version = res.get("version")
    allowed = list(config["allowedVersions"])
    if version is None and res.type == NODE_GROUP:
        return  # Node groups follow the cluster's version.
    if version not in allowed:
        yield (
            f"{res.label} {setting('version', version)}; it must be pinned to one of "
            f"{show_list(allowed)}."
        )


@resource_policy(
    "eks-nodegroup-no-ssh",
    types={NODE_GROUP},
    description="EKS node groups must not open SSH to the world.",
    severity=HIGH,
    remediation="Remove remote_access (use SSM Session Manager), or set source_security_group_ids.",
    tags=["eks", "public-exposure", "CKV_AWS_100"],
)
def nodegroup_no_ssh(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    if res.present("remoteAccess") and not res.present("remoteAccess.sourceSecurityGroupIds"):
        yield (
            f"{res.label} sets remoteAccess without sourceSecurityGroupIds, which opens SSH (22) "
            "to 0.0.0.0/0; remove remoteAccess or restrict it to security groups."
        )


@resource_policy(
    "eks-nodegroup-multi-az",
    types={NODE_GROUP},
    description="EKS node groups must spread over several subnets (AZs) with several nodes.",
    severity=MEDIUM,
    remediation=(
        "Give the node group one private subnet per AZ and scaling_config.min_size >= minNodes "
        "(dev stacks may relax this policy to advisory)."
    ),
    config={
        "minSubnets": integer(2, "Subnets (one per AZ) a node group must span.", 1, 6),
        "minNodes": integer(2, "Smallest allowed scalingConfig.minSize.", 1, 100),
    },
    tags=["eks", "availability", "WA:REL10-BP01"],
)
def nodegroup_multi_az(res: Res, config: Mapping[str, Any]) -> Iterator[str]:
    subnets = res.get("subnetIds")
    count = len(subnets) if subnets is not None else 0
    if count < int(config["minSubnets"]):
        yield (
            f"{res.label} lists {count} subnet(s) in subnetIds; it must span at least "
            f"{int(config['minSubnets'])} subnets in different AZs."
        )
    minimum = res.get("scalingConfig.minSize")
    if (as_number(minimum) or 0) < int(config["minNodes"]):
        yield (
            f"{res.label} {setting('scalingConfig.minSize', minimum)}; at least "
            f"{int(config['minNodes'])} nodes are required."
        )
