"""Cluster settings: every bad value fails with one message naming key, value and rule, before
any resource is registered; profiles size the node pools per environment."""

from __future__ import annotations

import json

import pytest

from components.cluster.addons import ADDON_VERSIONS
from stacks.offline import SynthesisError, synthesize
from stacks.platform import program
from stacks.settings import SettingsError, load_settings
from stacks.settings.cluster import SUPPORTED_KUBERNETES_VERSIONS
from stacks.stackfile import read_stack_config
from tests.support import MINIMAL_CONFIG, stack_config

ADMIN = "arn:aws:iam::123456789012:role/platform-admin"


def _cluster(**values: object) -> dict[str, str]:
    return {"crm-platform:cluster": json.dumps(values)}


BAD_INPUTS = [
    (
        _cluster(kubernetesVersion="1.31"),
        "crm-platform:cluster.kubernetesVersion: '1.31' is not allowed; it must be one of "
        "1.35, 1.36 (the versions in EKS standard support; older ones bill extended support).",
    ),
    (
        _cluster(kubernetesVersion=1.35),
        "crm-platform:cluster.kubernetesVersion: 1.35 is not allowed; it must be written in "
        'quotes, e.g. "1.35": YAML reads an unquoted number as a number (and turns 1.30 into '
        "1.3).",
    ),
    (
        _cluster(adminRoleArns=["arn:aws:iam::123456789012:user/alice"]),
        "crm-platform:cluster.adminRoleArns.0: 'arn:aws:iam::123456789012:user/alice' is not "
        "allowed; it must be an IAM role ARN, e.g. "
        "arn:<partition>:iam::123456789012:role/platform-admin.",
    ),
    (
        _cluster(adminRoleArns=["arn:aws:iam::12345:role/admin"]),
        "crm-platform:cluster.adminRoleArns.0: 'arn:aws:iam::12345:role/admin' is not allowed; "
        "it must be an IAM role ARN, e.g. arn:<partition>:iam::123456789012:role/platform-admin.",
    ),
    (
        _cluster(adminRoleArns=[ADMIN, ADMIN]),
        f'crm-platform:cluster.adminRoleArns: ["{ADMIN}", "{ADMIN}"] is not allowed; it must '
        "not list a role twice.",
    ),
    (
        _cluster(endpointPublicAccess=True, publicAccessCidrs=["0.0.0.0/0"]),
        "crm-platform:cluster.publicAccessCidrs.0: '0.0.0.0/0' is not allowed; it opens the API "
        "server to the whole internet; set allowPublicAccessFromAnywhere: true to accept that.",
    ),
    (
        _cluster(endpointPublicAccess=True),
        "crm-platform:cluster.endpointPublicAccess: true is not allowed; it requires "
        "publicAccessCidrs (without them EKS opens the endpoint to 0.0.0.0/0).",
    ),
    (
        _cluster(publicAccessCidrs=["203.0.113.0/24"]),
        'crm-platform:cluster.publicAccessCidrs: ["203.0.113.0/24"] is not allowed; it requires '
        "endpointPublicAccess: true (the public endpoint is off).",
    ),
    (
        _cluster(privateAccessCidrs=["10.99.0.1/24"]),
        "crm-platform:cluster.privateAccessCidrs.0: '10.99.0.1/24' is not allowed; it must be an "
        "IPv4 network in CIDR notation (10.99.0.1/24 has host bits set).",
    ),
    (
        _cluster(systemNodes={"minSize": 3}),
        "crm-platform:cluster.systemNodes.minSize: 3 is not allowed; it must not exceed maxSize "
        "(2).",
    ),
    (
        _cluster(appNodes={"desiredSize": 5}),
        "crm-platform:cluster.appNodes.desiredSize: 5 is not allowed; it must be from minSize "
        "(1) to maxSize (3).",
    ),
    (
        _cluster(appNodes={"maxSize": 0}),
        "crm-platform:cluster.appNodes.maxSize: 0 is not allowed; it must be an integer from 1 "
        "to 100.",
    ),
    (
        _cluster(appNodes={"instanceTypes": ["m7i.large", "m7g.large"]}),
        'crm-platform:cluster.appNodes.instanceTypes: ["m7i.large", "m7g.large"] is not allowed; '
        "it must be all x86_64 or all arm64 (Graviton) types: a group has one AMI.",
    ),
    (
        _cluster(appNodes={"instanceTypes": ["large"]}),
        "crm-platform:cluster.appNodes.instanceTypes.0: 'large' is not allowed; it must be an "
        "EC2 instance type, e.g. m7i.large.",
    ),
    (
        _cluster(appNodes={"instanceTypes": []}),
        "crm-platform:cluster.appNodes.instanceTypes: [] is not allowed; it must name at least "
        "one instance type.",
    ),
    (
        _cluster(appNodes={"capacityType": "RESERVED"}),
        "crm-platform:cluster.appNodes.capacityType: 'RESERVED' is not allowed; it must be "
        "'ON_DEMAND' or 'SPOT'.",
    ),
    (
        _cluster(appNodes={"amiType": "AL2_x86_64"}),
        "crm-platform:cluster.appNodes.amiType: unknown setting (value 'AL2_x86_64'); allowed "
        "keys here: capacityType, desiredSize, diskSizeGib, instanceTypes, maxSize, minSize. Did "
        "you mean 'capacityType'?",
    ),
    (
        _cluster(maxUnavailablePercentage=0),
        "crm-platform:cluster.maxUnavailablePercentage: 0 is not allowed; it must be an integer "
        "from 1 to 100.",
    ),
    (
        _cluster(kubernetesVersions="1.35"),
        "crm-platform:cluster.kubernetesVersions: unknown setting (value '1.35'); allowed keys "
        "here: adminRoleArns, allowPublicAccessFromAnywhere, appNodes, endpointPublicAccess, "
        "grantDeployerAdmin, kubernetesVersion, maxUnavailablePercentage, privateAccessCidrs, "
        "publicAccessCidrs, systemNodes. Did you mean 'kubernetesVersion'?",
    ),
]


@pytest.mark.parametrize(("override", "message"), BAD_INPUTS, ids=[m[:60] for _, m in BAD_INPUTS])
def test_bad_cluster_input_fails_with_one_precise_message(override: dict, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings("dev", stack_config("dev") | override)
    assert caught.value.messages == [message]


def test_bad_cluster_input_registers_no_resource() -> None:
    override, message = BAD_INPUTS[0]
    with pytest.raises(SynthesisError) as caught:
        synthesize(program, stack="prod", config=stack_config("prod") | override)
    assert message in str(caught.value)
    assert caught.value.plan.resources == []


def test_whole_internet_needs_the_named_opt_in() -> None:
    config = stack_config("dev") | _cluster(
        endpointPublicAccess=True,
        publicAccessCidrs=["0.0.0.0/0"],
        allowPublicAccessFromAnywhere=True,
    )
    assert load_settings("dev", config).cluster.public_access_cidrs == ["0.0.0.0/0"]


@pytest.mark.parametrize(
    ("stack", "system", "app"),
    [
        ("dev", (["t3.medium"], 1, 1, 2), (["t3.large"], 1, 1, 3)),
        ("staging", (["t3.large"], 2, 2, 4), (["m7i.large"], 2, 2, 6)),
        ("prod", (["m7i.large"], 3, 3, 6), (["m7i.xlarge"], 3, 3, 9)),
    ],
)
def test_profiles_size_the_node_pools(stack: str, system: tuple, app: tuple) -> None:
    cluster = load_settings(stack, read_stack_config(stack)).cluster
    for pool, (types, low, desired, high) in (
        (cluster.system_nodes, system),
        (cluster.app_nodes, app),
    ):
        assert (pool.instance_types, pool.min_size, pool.desired_size, pool.max_size) == (
            types,
            low,
            desired,
            high,
        )
        assert pool.capacity_type == "ON_DEMAND"


def test_model_defaults_are_private_pinned_and_highly_available() -> None:
    cluster = load_settings("prod", MINIMAL_CONFIG).cluster
    assert cluster.kubernetes_version == "1.35"
    assert cluster.endpoint_public_access is False
    assert cluster.public_access_cidrs == []
    assert cluster.allow_public_access_from_anywhere is False
    assert cluster.admin_role_arns == []
    # The platform deploys nothing into the cluster: no access for whoever runs it.
    assert cluster.grant_deployer_admin is False
    assert cluster.system_nodes.min_size >= 3 and cluster.app_nodes.min_size >= 3


@pytest.mark.parametrize(
    ("instance_types", "ami_type"),
    [
        (["m7i.large", "m7i-flex.large"], "AL2023_x86_64_STANDARD"),
        (["m7g.large", "c7gn.xlarge", "x2gd.medium"], "AL2023_ARM_64_STANDARD"),
        (["g5.xlarge"], "AL2023_x86_64_STANDARD"),
    ],
)
def test_ami_type_follows_the_instance_architecture(instance_types: list, ami_type: str) -> None:
    config = stack_config("dev") | _cluster(appNodes={"instanceTypes": instance_types})
    assert load_settings("dev", config).cluster.app_nodes.ami_type == ami_type


def test_every_supported_version_has_pinned_add_ons() -> None:
    assert set(SUPPORTED_KUBERNETES_VERSIONS) == set(ADDON_VERSIONS)
    for version, pins in ADDON_VERSIONS.items():
        assert set(pins) == {
            "vpc-cni",
            "kube-proxy",
            "eks-pod-identity-agent",
            "coredns",
            "aws-ebs-csi-driver",
        }
        kube_proxy_minor = ".".join(pins["kube-proxy"].removeprefix("v").split(".")[:2])
        assert kube_proxy_minor == version, "kube-proxy must match the control plane minor"
