"""The EKS cluster: private encrypted control plane, access entries, IRSA, hardened node pools in
every AZ, pinned add-ons, default encrypted storage, the Kubernetes provider and the load
balancer controller."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from components.cluster import Cluster, ClusterArgs, NodePool
from components.cluster.addons import ADDON_VERSIONS
from components.cluster_addons.load_balancer_controller import CHART_VERSION
from stacks.offline import Plan
from tests.support import synth_component

CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ADDON = "aws:eks/addon:Addon"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
ACCESS_POLICY = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
RELEASE = "kubernetes:helm.sh/v3:Release"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
K8S_PROVIDER = "pulumi:providers:kubernetes"
ADMIN = "arn:aws:iam::123456789012:role/platform-admin"
IRSA_SERVICE_ACCOUNTS = {
    "vpc-cni": "aws-node",
    "ebs-csi": "ebs-csi-controller-sa",
    "lb-controller": "aws-load-balancer-controller",
}


def _lb_controller(plan: Plan):
    """The AWS Load Balancer Controller release (other charts live in the stack too)."""
    return next(
        r for r in plan.of_type(RELEASE) if r.get("chart") == "aws-load-balancer-controller"
    )


def _cluster(plan: Plan):
    return plan.one(CLUSTER)


def _named(plan: Plan, type_token: str, suffix: str):
    (found,) = [r for r in plan.of_type(type_token) if r.name.endswith(suffix)]
    return found


def _attached_policies(plan: Plan, role_suffix: str) -> set[str]:
    role = _named(plan, ROLE, role_suffix)
    return {
        a.get("policyArn").rsplit("/", 1)[1]
        for a in plan.of_type(ATTACHMENT)
        if a.property_dependencies["role"] == [role.urn]
    }


def _inline_policy(plan: Plan, role_suffix: str) -> dict:
    role = _named(plan, ROLE, role_suffix)
    (policy,) = [
        p for p in plan.of_type(ROLE_POLICY) if p.property_dependencies["role"] == [role.urn]
    ]
    return json.loads(policy.get("policy"))


def _trust(plan: Plan, role_suffix: str) -> dict:
    return json.loads(_named(plan, ROLE, role_suffix).get("assumeRolePolicy"))["Statement"]


POOL = NodePool(instance_types=("t3.large",), min_size=1, desired_size=1, max_size=2)
ARGS = ClusterArgs(
    name="crm-test",
    kubernetes_version="1.35",
    vpc_id="vpc-123",
    private_subnet_ids=["subnet-a", "subnet-b"],
    workload_security_group_id="sg-workloads",
    secrets_key_arn="arn:aws:kms:eu-west-1:123456789012:key/secrets",
    volumes_key_arn="arn:aws:kms:eu-west-1:123456789012:key/volumes",
    logs_key_arn="arn:aws:kms:eu-west-1:123456789012:key/logs",
    system_pool=POOL,
    app_pool=POOL,
)


def _standalone(args: ClusterArgs = ARGS, workload_role: bool = False) -> Plan:
    def build(opts):
        cluster = Cluster("test", args, opts=opts)
        if workload_role:
            cluster.workload_role(
                "crm",
                "crm",
                "twenty",
                policy_json=json.dumps({"Version": "2012-10-17", "Statement": []}),
                managed_policies=["AmazonS3ReadOnlyAccess"],
            )

    return synth_component(build, region="eu-west-1")


# --- control plane -------------------------------------------------------------------------


def test_control_plane_is_private_pinned_and_on_standard_support(any_stack: Plan) -> None:
    cluster = _cluster(any_stack)
    assert cluster.get("name") == f"crm-platform-{any_stack.stack}"
    assert cluster.get("version") == "1.35"
    assert cluster.get("upgradePolicy.supportType") == "STANDARD"
    assert cluster.get("vpcConfig.endpointPrivateAccess") is True
    assert cluster.get("vpcConfig.endpointPublicAccess") is False
    assert cluster.get("vpcConfig.publicAccessCidrs") is None
    assert cluster.get("vpcConfig.subnetIds") == any_stack.outputs["privateSubnetIds"]
    assert cluster.get("bootstrapSelfManagedAddons") is False


def test_access_is_api_only_without_a_hidden_creator_admin(any_stack: Plan) -> None:
    cluster = _cluster(any_stack)
    assert cluster.get("accessConfig") == {
        "authenticationMode": "API",
        "bootstrapClusterCreatorAdminPermissions": False,
    }
    assert not [
        r
        for r in any_stack.resources
        if r.type == "kubernetes:core/v1:ConfigMap" and r.get("metadata.name") == "aws-auth"
    ]


def test_secrets_are_envelope_encrypted_with_the_cluster_key(any_stack: Plan) -> None:
    cluster = _cluster(any_stack)
    key = any_stack.named(f"{any_stack.stack}-keys-cluster")
    assert cluster.get("encryptionConfig.resources") == ["secrets"]
    assert (
        cluster.get("encryptionConfig.provider.keyArn")
        == any_stack.outputs["kmsKeyArns"]["cluster"]
    )
    assert cluster.property_dependencies["encryptionConfig"] == [key.urn]
    assert any_stack.outputs["clusterSecretsKeyArn"] == any_stack.outputs["kmsKeyArns"]["cluster"]


@pytest.mark.parametrize(("stack", "retention"), [("dev", 30), ("staging", 90), ("prod", 365)])
def test_control_plane_logs_go_to_an_encrypted_group_created_first(
    stack: str, retention: int, request
) -> None:
    plan: Plan = request.getfixturevalue(stack)
    cluster = _cluster(plan)
    group = plan.named(f"{stack}-cluster-control-plane-logs")
    assert set(cluster.get("enabledClusterLogTypes")) == {
        "api",
        "audit",
        "authenticator",
        "controllerManager",
        "scheduler",
    }
    assert group.get("name") == f"/aws/eks/crm-platform-{stack}/cluster"
    assert group.get("kmsKeyId") == plan.outputs["kmsKeyArns"]["logs"]
    assert group.get("retentionInDays") == retention
    assert group.urn in cluster.dependencies


@pytest.mark.parametrize(
    ("stack", "protected"), [("dev", False), ("staging", False), ("prod", True)]
)
def test_cluster_is_deletion_protected_in_prod(stack: str, protected: bool, request) -> None:
    cluster = _cluster(request.getfixturevalue(stack))
    assert cluster.protect is protected
    assert cluster.get("deletionProtection") is protected


# --- identity ------------------------------------------------------------------------------


def test_control_plane_role_has_the_cluster_policy_and_only_the_secrets_key(prod: Plan) -> None:
    assert _attached_policies(prod, "-control-plane") == {"AmazonEKSClusterPolicy"}
    (statement,) = _inline_policy(prod, "-control-plane")["Statement"]
    assert statement["Resource"] == prod.outputs["kmsKeyArns"]["cluster"]
    assert set(statement["Action"]) == {
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ListGrants",
        "kms:DescribeKey",
    }
    assert _trust(prod, "-control-plane")[0]["Principal"] == {"Service": "eks.amazonaws.com"}


def test_node_role_holds_no_cni_permissions(prod: Plan) -> None:
    assert _attached_policies(prod, "-nodes") == {
        "AmazonEKSWorkerNodePolicy",
        "AmazonEC2ContainerRegistryPullOnly",
    }
    assert _attached_policies(prod, "-vpc-cni") == {"AmazonEKS_CNI_Policy"}
    assert _trust(prod, "-nodes")[0]["Principal"] == {"Service": "ec2.amazonaws.com"}


def test_oidc_provider_trusts_the_cluster_issuer_for_sts(prod: Plan) -> None:
    provider = prod.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider.property_dependencies["url"] == [_cluster(prod).urn]
    region = prod.outputs["region"]
    assert provider.get("url").startswith(f"https://oidc.eks.{region}.amazonaws.com/id/")
    assert provider.get("clientIdLists") == ["sts.amazonaws.com"]
    host = provider.get("url").removeprefix("https://")
    assert prod.outputs["oidcProviderArn"] == f"arn:aws:iam::123456789012:oidc-provider/{host}"


@pytest.mark.parametrize(("role", "service_account"), IRSA_SERVICE_ACCOUNTS.items())
def test_irsa_roles_trust_exactly_one_service_account(
    prod: Plan, role: str, service_account: str
) -> None:
    (statement,) = _trust(prod, f"-{role}")
    issuer = prod.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider").get("url")
    host = issuer.removeprefix("https://")
    assert statement["Principal"] == {"Federated": prod.outputs["oidcProviderArn"]}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {
            f"{host}:sub": f"system:serviceaccount:kube-system:{service_account}",
            f"{host}:aud": "sts.amazonaws.com",
        }
    }


def test_workload_role_helper_binds_a_role_to_one_service_account() -> None:
    plan = _standalone(workload_role=True)
    role = _named(plan, ROLE, "test-crm")
    (statement,) = json.loads(role.get("assumeRolePolicy"))["Statement"]
    (condition,) = [
        v for k, v in statement["Condition"]["StringEquals"].items() if k.endswith(":sub")
    ]
    assert condition == "system:serviceaccount:crm:twenty"
    assert role.parent == plan.one("crm-platform:cluster:Cluster").urn
    assert _inline_policy(plan, "test-crm") == {"Version": "2012-10-17", "Statement": []}
    assert _attached_policies(plan, "test-crm") == {"AmazonS3ReadOnlyAccess"}


def test_ebs_csi_driver_may_use_only_the_volumes_key(prod: Plan) -> None:
    statements = _inline_policy(prod, "-ebs-csi")["Statement"]
    volumes_key = prod.outputs["kmsKeyArns"]["volumes"]
    assert {s["Resource"] for s in statements} == {volumes_key}
    (grants,) = [s for s in statements if "kms:CreateGrant" in s["Action"]]
    assert grants["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    assert _attached_policies(prod, "-ebs-csi") == {"AmazonEBSCSIDriverPolicy"}


# --- access entries ------------------------------------------------------------------------


def test_only_the_deploy_runner_gets_a_cluster_admin_entry(any_stack: Plan) -> None:
    """The platform's deployer reaches no Kubernetes API; the in-VPC runner deploys the
    workloads layer (CRDs, cluster roles), so it alone gets a visible entry."""
    (entry,) = any_stack.of_type(ACCESS_ENTRY)
    (association,) = any_stack.of_type(ACCESS_POLICY)
    runner_role = next(r for r in any_stack.of_type(ROLE) if r.name.endswith("-deploy-runner"))
    assert entry.name.endswith("-deploy-runner")
    assert runner_role.urn in entry.property_dependencies["principalArn"]
    assert association.property_dependencies["principalArn"] == [entry.urn]
    assert association.get("policyArn") == (
        "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    )
    assert association.get("accessScope") == {"type": "cluster"}


def test_admin_roles_get_cluster_admin_and_the_deployer_can_be_left_out() -> None:
    plan = _standalone(replace(ARGS, admin_role_arns=(ADMIN,), grant_deployer_admin=False))
    (entry,) = plan.of_type(ACCESS_ENTRY)
    (association,) = plan.of_type(ACCESS_POLICY)
    assert entry.name == "test-admin-platform-admin"
    assert entry.get("principalArn") == ADMIN and entry.get("type") == "STANDARD"
    assert association.get("principalArn") == ADMIN
    assert association.get("policyArn").endswith(
        ":cluster-access-policy/AmazonEKSClusterAdminPolicy"
    )


def test_public_endpoint_is_limited_to_the_allow_list() -> None:
    plan = _standalone(
        replace(ARGS, endpoint_public_access=True, public_access_cidrs=("203.0.113.0/24",))
    )
    cluster = _cluster(plan)
    assert cluster.get("vpcConfig.endpointPublicAccess") is True
    assert cluster.get("vpcConfig.publicAccessCidrs") == ["203.0.113.0/24"]
    assert cluster.get("vpcConfig.endpointPrivateAccess") is True


def test_private_access_cidrs_open_https_on_the_cluster_security_group() -> None:
    plan = _standalone(replace(ARGS, private_access_cidrs=("10.99.0.0/24",)))
    (rule,) = plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert (rule.get("ipProtocol"), rule.get("fromPort"), rule.get("toPort")) == ("tcp", 443, 443)
    assert rule.get("cidrIpv4") == "10.99.0.0/24"
    assert rule.property_dependencies["securityGroupId"] == [_cluster(plan).urn]


def test_component_refuses_a_version_without_add_on_pins() -> None:
    with pytest.raises(Exception, match=r"Kubernetes 1\.29 has no pinned add-ons"):
        _standalone(replace(ARGS, kubernetes_version="1.29"))


# --- nodes ---------------------------------------------------------------------------------


def test_node_groups_span_the_private_subnet_of_every_az(any_stack: Plan) -> None:
    groups = any_stack.of_type(NODE_GROUP)
    assert sorted(g.name.rsplit("-", 1)[1] for g in groups) == ["app", "system"]
    for group in groups:
        assert group.get("subnetIds") == any_stack.outputs["privateSubnetIds"]
    if any_stack.stack == "prod":
        assert len(any_stack.outputs["privateSubnetIds"]) == 3


@pytest.mark.parametrize(
    ("stack", "pool", "sizes", "types"),
    [
        ("dev", "system", (1, 1, 2), ["t3.medium"]),
        ("dev", "app", (1, 1, 3), ["t3.large"]),
        ("staging", "app", (2, 2, 6), ["m7i.large"]),
        ("prod", "system", (3, 3, 6), ["m7i.large"]),
        ("prod", "app", (3, 3, 9), ["m7i.xlarge"]),
    ],
)
def test_pool_sizes_per_environment(stack, pool, sizes, types, request) -> None:
    plan: Plan = request.getfixturevalue(stack)
    group = _named(plan, NODE_GROUP, f"{stack}-cluster-{pool}")
    scaling = group.get("scalingConfig")
    assert (scaling["minSize"], scaling["desiredSize"], scaling["maxSize"]) == sizes
    assert group.get("instanceTypes") == types


def test_desired_size_is_left_to_the_autoscaler(any_stack: Plan) -> None:
    assert [g.ignore_changes for g in any_stack.of_type(NODE_GROUP)] == [
        ["scalingConfig.desiredSize"]
    ] * 2


def test_node_groups_follow_the_cluster_and_roll_gently(any_stack: Plan) -> None:
    cluster = _cluster(any_stack)
    for group in any_stack.of_type(NODE_GROUP):
        template = _named(any_stack, LAUNCH_TEMPLATE, group.name)
        assert group.get("version") == cluster.get("version")
        assert group.property_dependencies["version"] == [cluster.urn]
        assert group.get("amiType") == "AL2023_x86_64_STANDARD"
        assert group.get("updateConfig") == {"maxUnavailablePercentage": 33}
        assert group.get("nodeRepairConfig") == {"enabled": True}
        assert group.get("nodeGroupName") is None, "a fixed name blocks create-before-delete"
        assert group.get("remoteAccess") is None
        assert group.property_dependencies["launchTemplate"] == [template.urn]
        assert group.get("launchTemplate.version") == "1"


def test_only_the_system_pool_is_tainted(any_stack: Plan) -> None:
    system = _named(any_stack, NODE_GROUP, f"{any_stack.stack}-cluster-system")
    app = _named(any_stack, NODE_GROUP, f"{any_stack.stack}-cluster-app")
    assert system.get("taints") == [
        {"key": "CriticalAddonsOnly", "value": "true", "effect": "NO_SCHEDULE"}
    ]
    assert system.get("labels") == {"crm-platform/pool": "system"}
    assert app.get("taints") == [] and app.get("labels") == {"crm-platform/pool": "app"}


def test_launch_templates_require_imdsv2_and_encrypt_root_volumes(any_stack: Plan) -> None:
    templates = any_stack.of_type(LAUNCH_TEMPLATE)
    assert len(templates) == 2
    for template in templates:
        assert template.get("metadataOptions") == {
            "httpEndpoint": "enabled",
            "httpTokens": "required",
            "httpPutResponseHopLimit": 1,
        }
        (device,) = template.get("blockDeviceMappings")
        assert device["ebs"]["encrypted"] == "true" and device["ebs"]["volumeType"] == "gp3"
        assert device["ebs"]["kmsKeyId"] == any_stack.outputs["kmsKeyArns"]["volumes"]
        assert template.get("keyName") is None and template.get("userData") is None


def test_nodes_carry_the_cluster_group_and_the_workload_group(any_stack: Plan) -> None:
    workloads = any_stack.named(f"{any_stack.stack}-net-workloads")
    cluster = _cluster(any_stack)
    for template in any_stack.of_type(LAUNCH_TEMPLATE):
        cluster_group, workload_group = template.get("vpcSecurityGroupIds")
        assert cluster_group.startswith("sg-")
        assert workload_group.startswith(f"{workloads.name}-")
        assert set(template.property_dependencies["vpcSecurityGroupIds"]) == {
            cluster.urn,
            workloads.urn,
        }


def test_graviton_pool_gets_the_arm_ami() -> None:
    arm = NodePool(("m7g.large",), 1, 1, 2, ami_type="AL2023_ARM_64_STANDARD")
    plan = _standalone(replace(ARGS, app_pool=arm))
    assert _named(plan, NODE_GROUP, "-app").get("amiType") == "AL2023_ARM_64_STANDARD"


# --- add-ons and storage -------------------------------------------------------------------


def _addons(plan: Plan) -> dict:
    """The cluster's own add-ons (Container Insights, an operations add-on, is not pinned)."""
    return {
        a.get("addonName"): a
        for a in plan.of_type(ADDON)
        if plan.top_component(a).type == "crm-platform:cluster:Cluster"
    }


def test_add_ons_are_pinned_for_the_cluster_version(any_stack: Plan) -> None:
    addons = _addons(any_stack)
    assert {name: a.get("addonVersion") for name, a in addons.items()} == ADDON_VERSIONS["1.35"]
    for addon in addons.values():
        assert addon.get("resolveConflictsOnUpdate") == "OVERWRITE"
        assert addon.property_dependencies["clusterName"] == [_cluster(any_stack).urn]


def test_version_1_36_uses_its_own_pins() -> None:
    plan = _standalone(replace(ARGS, kubernetes_version="1.36"))
    pins = {name: a.get("addonVersion") for name, a in _addons(plan).items()}
    assert pins == ADDON_VERSIONS["1.36"]
    assert _cluster(plan).get("version") == "1.36"


def test_add_on_configuration(prod: Plan) -> None:
    addons = _addons(prod)
    system = {"key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoSchedule"}
    assert json.loads(addons["vpc-cni"].get("configurationValues")) == {
        "enableNetworkPolicy": "true"
    }
    coredns = json.loads(addons["coredns"].get("configurationValues"))
    assert coredns["tolerations"] == [system]
    assert coredns["nodeSelector"] == {"crm-platform/pool": "system"}
    ebs = json.loads(addons["aws-ebs-csi-driver"].get("configurationValues"))
    assert ebs["controller"]["tolerations"] == [system]
    roles = {
        name: a.property_dependencies.get("serviceAccountRoleArn") for name, a in addons.items()
    }
    assert roles["vpc-cni"] == [_named(prod, ROLE, "-vpc-cni").urn]
    assert roles["aws-ebs-csi-driver"] == [_named(prod, ROLE, "-ebs-csi").urn]
    assert not roles["coredns"] and not roles["kube-proxy"]


def test_networking_add_ons_precede_nodes_and_the_rest_follow(prod: Plan) -> None:
    addons = _addons(prod)
    groups = prod.of_type(NODE_GROUP)
    for group in groups:
        for name in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):
            assert addons[name].urn in group.dependencies
    for name in ("coredns", "aws-ebs-csi-driver"):
        assert {g.urn for g in groups} <= set(addons[name].dependencies)


def test_default_storage_class_is_encrypted_gp3(any_stack: Plan) -> None:
    storage = any_stack.one(STORAGE_CLASS)
    assert storage.get("metadata.annotations") == {
        "storageclass.kubernetes.io/is-default-class": "true"
    }
    assert storage.get("provisioner") == "ebs.csi.aws.com"
    assert storage.get("parameters") == {
        "type": "gp3",
        "encrypted": "true",
        "kmsKeyId": any_stack.outputs["kmsKeyArns"]["volumes"],
    }
    assert storage.get("volumeBindingMode") == "WaitForFirstConsumer"
    assert storage.provider == any_stack.one(K8S_PROVIDER).urn


# --- Kubernetes provider and kubeconfig ----------------------------------------------------


def test_kubeconfig_holds_no_credential_and_signs_in_through_aws(any_stack: Plan) -> None:
    provider = any_stack.one(K8S_PROVIDER)
    config = json.loads(provider.get("kubeconfig"))
    (user,) = config["users"]
    assert set(user["user"]) == {"exec"}, "no static token, certificate or password"
    exec_ = user["user"]["exec"]
    name = f"crm-platform-{any_stack.stack}"
    assert exec_["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert exec_["command"] == "aws"
    assert exec_["args"][:4] == ["eks", "get-token", "--cluster-name", name]
    assert exec_["args"][4:6] == ["--region", any_stack.outputs["region"]]
    assert "token" not in json.dumps(config).replace("get-token", "")
    (cluster,) = config["clusters"]
    assert cluster["cluster"]["server"] == any_stack.outputs["clusterEndpoint"]
    assert (
        cluster["cluster"]["certificate-authority-data"]
        == (any_stack.outputs["clusterCertificateAuthority"])
    )
    assert provider.get("clusterIdentifier") == name


def test_stack_outputs(any_stack: Plan) -> None:
    outputs = any_stack.outputs
    assert outputs["clusterName"] == f"crm-platform-{any_stack.stack}"
    assert outputs["clusterEndpoint"].startswith("https://")
    assert outputs["oidcProviderArn"].startswith("arn:aws:iam::123456789012:oidc-provider/")


# --- load balancer controller --------------------------------------------------------------


def test_load_balancer_controller_release(any_stack: Plan) -> None:
    release = _lb_controller(any_stack)
    role = _named(any_stack, ROLE, "-lb-controller")
    assert release.get("chart") == "aws-load-balancer-controller"
    assert release.get("version") == CHART_VERSION == "3.5.0"
    assert release.get("repositoryOpts.repo") == "https://aws.github.io/eks-charts"
    assert release.get("namespace") == "kube-system"
    values = release.get("values")
    assert values["clusterName"] == f"crm-platform-{any_stack.stack}"
    assert values["region"] == any_stack.outputs["region"]
    assert values["vpcId"] == any_stack.outputs["vpcId"]
    assert values["replicaCount"] == 2
    assert values["serviceAccount"]["name"] == "aws-load-balancer-controller"
    assert values["tolerations"] == [
        {"key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoSchedule"}
    ]
    annotation = values["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert annotation == any_stack.outputs["loadBalancerControllerRoleArn"]
    assert annotation.startswith(
        f"arn:aws:iam::123456789012:role/{any_stack.stack}-cluster-lb-controller"
    )
    assert role in any_stack.layers["platform"].resources
    assert release.provider == any_stack.one(K8S_PROVIDER).urn


def test_controller_permissions_and_nodes_come_with_the_platform(prod: Plan) -> None:
    """The platform layer (nodes, CoreDNS, the controller's role and policy) is deployed
    before the workloads layer that installs the controller."""
    platform, workloads = prod.layers["platform"], prod.layers["workloads"]
    policy = next(p for p in prod.of_type(ROLE_POLICY) if p.name == "prod-cluster-lb-controller")
    needed = [*prod.of_type(NODE_GROUP), _addons(prod)["coredns"], policy]
    assert all(resource in platform.resources for resource in needed)
    assert _lb_controller(prod) in workloads.resources


def test_controller_policy_scopes_writes_to_its_own_tagged_resources(prod: Plan) -> None:
    statements = _inline_policy(prod, "-lb-controller")["Statement"]
    deletes = [s for s in statements if "elasticloadbalancing:DeleteLoadBalancer" in s["Action"]]
    assert deletes and all(
        s["Condition"] == {"Null": {"aws:ResourceTag/elbv2.k8s.aws/cluster": "false"}}
        for s in deletes
    )
    (create,) = [s for s in statements if "elasticloadbalancing:CreateLoadBalancer" in s["Action"]]
    assert create["Condition"] == {"Null": {"aws:RequestTag/elbv2.k8s.aws/cluster": "false"}}
    (delete_group,) = [s for s in statements if "ec2:DeleteSecurityGroup" in s["Action"]]
    assert "Condition" in delete_group


def test_metrics_server_serves_the_autoscalers(prod: Plan) -> None:
    from components.cluster_addons.metrics_server import CHART_VERSION

    release = next(r for r in prod.of_type(RELEASE) if r.get("chart") == "metrics-server")
    assert release.get("version") == CHART_VERSION == "3.13.0"
    assert release.get("repositoryOpts.repo") == "https://kubernetes-sigs.github.io/metrics-server/"
    values = release.get("values")
    assert values["replicas"] == 2 and values["podDisruptionBudget"]["enabled"] is True
    assert values["tolerations"] == [
        {"key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoSchedule"}
    ]
    namespace = prod.one("kubernetes:core/v1:Namespace")
    operator = next(r for r in prod.of_type(RELEASE) if r.get("chart") == "external-secrets")
    for add_on in (release, _lb_controller(prod), operator):
        assert add_on.urn in namespace.dependencies
