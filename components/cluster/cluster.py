"""A private EKS cluster with managed node groups, EKS add-ons and IRSA roles.

Only AWS resources: everything that runs inside the cluster is the workloads layer's, deployed
from inside the VPC (the API endpoint is private).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ..iam import service_principal
from . import addons, iam_policies
from .identity import GrantedRole, service_account_role, service_role
from .nodes import (
    POOL_LABEL,
    SYSTEM_NODE_SELECTOR,
    SYSTEM_TAINT,
    SYSTEM_TOLERATION,
    NodePool,
    Placement,
    node_group,
)

CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
_SYSTEM = "kube-system"
LOAD_BALANCER_CONTROLLER_NAMESPACE = _SYSTEM
LOAD_BALANCER_CONTROLLER_ACCOUNT = "aws-load-balancer-controller"


@dataclass(frozen=True)
class ClusterArgs:
    """Inputs of `Cluster`."""

    name: str
    """EKS cluster name; stable, because renaming a cluster replaces it."""
    kubernetes_version: str
    """Kubernetes minor version; must be a key of `addons.ADDON_VERSIONS`."""
    vpc_id: pulumi.Input[str]
    """VPC the load balancer controller manages load balancers in."""
    private_subnet_ids: Sequence[pulumi.Input[str]]
    """Private subnets, one per AZ, for the control-plane interfaces and every node."""
    workload_security_group_id: pulumi.Input[str]
    """Group every node carries; data stores admit this group only."""
    secrets_key_arn: pulumi.Input[str]
    """KMS key envelope-encrypting Kubernetes Secrets."""
    volumes_key_arn: pulumi.Input[str]
    """KMS key of node root volumes and of persistent volumes."""
    logs_key_arn: pulumi.Input[str]
    """KMS key of the control-plane log group."""
    system_pool: NodePool
    """Tainted pool for cluster add-ons."""
    app_pool: NodePool
    """Pool for the CRM workloads."""
    log_retention_days: int = 365
    """Retention of the control-plane logs."""
    admin_role_arns: Sequence[str] = ()
    """IAM roles given cluster-admin through access entries."""
    grant_deployer_admin: bool = False
    """Give the identity running Pulumi cluster-admin through its own, visible access entry
    (only needed when that identity also deploys into the cluster)."""
    endpoint_public_access: bool = False
    """Also expose the API server publicly (only to `public_access_cidrs`)."""
    public_access_cidrs: Sequence[str] = ()
    """Ranges allowed on the public endpoint."""
    private_access_cidrs: Sequence[str] = ()
    """Ranges allowed on the private endpoint besides the cluster's own nodes."""
    max_unavailable_percentage: int = 33
    """Share of a pool replaced at once during rollouts."""
    protect: bool = True
    """Pulumi `protect` plus EKS deletion protection on the cluster."""


class Cluster(pulumi.ComponentResource):
    """Private EKS control plane, identities, node pools and EKS add-ons."""

    def __init__(
        self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("crm-platform:cluster:Cluster", name, None, opts)
        if args.kubernetes_version not in addons.ADDON_VERSIONS:
            raise ValueError(
                f"Kubernetes {args.kubernetes_version} has no pinned add-ons; supported: "
                f"{', '.join(addons.ADDON_VERSIONS)}"
            )
        self.name = args.name
        self._prefix = name
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        self._partition = aws.get_partition_output(opts=invoke).partition

        self.cluster = self._control_plane(args)
        self.cluster_security_group_id = self.cluster.vpc_config.cluster_security_group_id
        self.node_security_group_ids = [
            self.cluster_security_group_id,
            pulumi.Output.from_input(args.workload_security_group_id),
        ]
        self.secrets_key_arn = pulumi.Output.from_input(args.secrets_key_arn)
        issuer = self.cluster.identities.apply(lambda found: found[0].oidcs[0].issuer)
        self._issuer_host = issuer.apply(lambda url: url.removeprefix("https://"))
        self.oidc_provider = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc",
            url=issuer,
            client_id_lists=[service_principal("sts", self)],
            opts=child,
        )
        self._admins(args)
        for cidr in args.private_access_cidrs:
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-api-from-{cidr.replace('.', '-').replace('/', '-')}",
                security_group_id=self.cluster_security_group_id,
                description=f"Kubernetes API (private endpoint) from {cidr}",
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                cidr_ipv4=cidr,
                opts=child,
            )

        self.node_groups, self.managed_addons = self._nodes_and_addons(args)
        self.load_balancer_controller_role = self._load_balancer_controller_role()
        self.register_outputs(
            {
                "clusterName": self.cluster.name,
                "endpoint": self.cluster.endpoint,
                "oidcProviderArn": self.oidc_provider.arn,
                "nodeSecurityGroupIds": self.node_security_group_ids,
            }
        )

    def workload_role(
        self,
        name: str,
        namespace: str,
        service_account: str,
        policy_json: pulumi.Input[str] | None = None,
        managed_policies: Sequence[str] = (),
    ) -> aws.iam.Role:
        """An IAM role (IRSA) that only pods running as `namespace/service_account` can assume.

        `policy_json` becomes its inline policy; `managed_policies` are AWS managed policy names
        (e.g. `AmazonS3ReadOnlyAccess`). Annotate the service account with
        `eks.amazonaws.com/role-arn: <role.arn>`.
        """
        return self._service_account_role(
            name, namespace, service_account, policy_json, managed_policies
        ).role

    def _service_account_role(
        self,
        name: str,
        namespace: str,
        service_account: str,
        policy_json: pulumi.Input[str] | None = None,
        managed_policies: Sequence[str] = (),
    ) -> GrantedRole:
        return service_account_role(
            self,
            f"{self._prefix}-{name}",
            oidc_provider_arn=self.oidc_provider.arn,
            issuer_host=self._issuer_host,
            namespace=namespace,
            service_account=service_account,
            partition=self._partition,
            policy_json=policy_json,
            managed_policies=managed_policies,
        )

    def _control_plane(self, args: ClusterArgs) -> aws.eks.Cluster:
        """The cluster, its role and its log group (created first, so EKS never makes its own
        unencrypted, never-expiring one)."""
        role = service_role(
            self,
            f"{self._prefix}-control-plane",
            "eks",
            ["AmazonEKSClusterPolicy"],
            self._partition,
        )
        secrets_grant = aws.iam.RolePolicy(
            f"{self._prefix}-control-plane-secrets",
            role=role.role.id,
            policy=pulumi.Output.from_input(args.secrets_key_arn).apply(
                lambda arn: json.dumps(iam_policies.envelope_encryption(arn))
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        log_group = aws.cloudwatch.LogGroup(
            f"{self._prefix}-control-plane-logs",
            name=f"/aws/eks/{args.name}/cluster",
            kms_key_id=args.logs_key_arn,
            retention_in_days=args.log_retention_days,
            opts=pulumi.ResourceOptions(parent=self),
        )
        public = args.endpoint_public_access
        return aws.eks.Cluster(
            self._prefix,
            name=args.name,
            version=args.kubernetes_version,
            role_arn=role.role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=list(args.private_subnet_ids),
                endpoint_private_access=True,
                endpoint_public_access=public,
                public_access_cidrs=list(args.public_access_cidrs) if public else None,
            ),
            # Only explicit access entries grant access: no aws-auth ConfigMap, and no hidden
            # creator-admin entry that could only be removed by replacing the cluster.
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API", bootstrap_cluster_creator_admin_permissions=False
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=args.secrets_key_arn),
                resources=["secrets"],
            ),
            enabled_cluster_log_types=list(CONTROL_PLANE_LOG_TYPES),
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
            # Every add-on is an EKS managed add-on pinned below; none is installed unmanaged.
            bootstrap_self_managed_addons=False,
            zonal_shift_config=aws.eks.ClusterZonalShiftConfigArgs(enabled=True),
            deletion_protection=args.protect,
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.protect,
                depends_on=[log_group, *role.ready, secrets_grant],
            ),
        )

    def _admins(self, args: ClusterArgs) -> list[pulumi.Resource]:
        """Cluster-admin access entries: the listed roles, and the deployer if asked for."""
        grants = [
            self._admin(f"admin-{arn.rsplit('/', 1)[-1]}", arn) for arn in args.admin_role_arns
        ]
        if args.grant_deployer_admin:
            invoke = pulumi.InvokeOutputOptions(parent=self)
            caller = aws.get_caller_identity_output(opts=invoke)
            # An assumed-role session resolves to its role: the entry outlives the session.
            deployer = aws.iam.get_session_context_output(arn=caller.arn, opts=invoke)
            grants.append(self._admin("deployer", deployer.issuer_arn))
        return grants

    def grant_admin(self, label: str, principal_arn: pulumi.Input[str]) -> pulumi.Resource:
        """A visible cluster-admin access entry for one IAM role (e.g. the deploy runner's)."""
        return self._admin(label, principal_arn)

    def _admin(self, label: str, principal_arn: pulumi.Input[str]) -> pulumi.Resource:
        child = pulumi.ResourceOptions(parent=self)
        entry = aws.eks.AccessEntry(
            f"{self._prefix}-{label}",
            cluster_name=self.cluster.name,
            principal_arn=principal_arn,
            type="STANDARD",
            opts=child,
        )
        return aws.eks.AccessPolicyAssociation(
            f"{self._prefix}-{label}",
            cluster_name=self.cluster.name,
            principal_arn=entry.principal_arn,
            policy_arn=pulumi.Output.concat(
                "arn:",
                self._partition,
                ":eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
            ),
            access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
            opts=child,
        )

    def _nodes_and_addons(
        self, args: ClusterArgs
    ) -> tuple[dict[str, aws.eks.NodeGroup], dict[str, aws.eks.Addon]]:
        """Networking add-ons first (nodes only become Ready with a CNI), then the node pools,
        then the add-ons whose pods need nodes to run on."""
        versions = addons.ADDON_VERSIONS[args.kubernetes_version]
        cni = self._service_account_role(
            "vpc-cni", _SYSTEM, "aws-node", managed_policies=["AmazonEKS_CNI_Policy"]
        )
        ebs = self._service_account_role(
            "ebs-csi",
            _SYSTEM,
            "ebs-csi-controller-sa",
            policy_json=pulumi.Output.from_input(args.volumes_key_arn).apply(
                lambda arn: json.dumps(iam_policies.encrypted_volumes(arn))
            ),
            managed_policies=["service-role/AmazonEBSCSIDriverPolicy"],
        )
        on_system_pool = {"tolerations": [SYSTEM_TOLERATION], "nodeSelector": SYSTEM_NODE_SELECTOR}
        configuration = {
            addons.VPC_CNI: {"enableNetworkPolicy": "true"},
            addons.COREDNS: on_system_pool,
            addons.EBS_CSI_DRIVER: {
                "controller": on_system_pool,
                "node": {"tolerateAllTaints": True},
            },
        }
        roles = {addons.VPC_CNI: cni.role.arn, addons.EBS_CSI_DRIVER: ebs.role.arn}
        install = functools.partial(
            addons.install,
            self,
            self._prefix,
            self.cluster,
            versions,
            configuration,
            roles,
        )
        networking = install(
            names=[addons.VPC_CNI, addons.KUBE_PROXY, addons.POD_IDENTITY_AGENT],
            depends_on=cni.ready,
        )
        node_role = service_role(
            self,
            f"{self._prefix}-nodes",
            "ec2",
            ["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly"],
            self._partition,
        )
        placement = Placement(
            cluster=self.cluster,
            node_role=node_role.role,
            subnet_ids=args.private_subnet_ids,
            security_group_ids=self.node_security_group_ids,
            volumes_key_arn=args.volumes_key_arn,
            max_unavailable_percentage=args.max_unavailable_percentage,
            depends_on=(*node_role.ready, *networking.values()),
        )
        groups = {
            "system": node_group(
                self,
                f"{self._prefix}-system",
                args.system_pool,
                placement,
                labels={POOL_LABEL: "system"},
                taints=[SYSTEM_TAINT],
            ),
            "app": node_group(
                self, f"{self._prefix}-app", args.app_pool, placement, labels={POOL_LABEL: "app"}
            ),
        }
        workloads = install(
            names=[addons.COREDNS, addons.EBS_CSI_DRIVER],
            depends_on=[*groups.values(), *ebs.ready],
        )
        return groups, networking | workloads

    def _load_balancer_controller_role(self) -> aws.iam.Role:
        """IRSA role of the AWS Load Balancer Controller (installed by the workloads layer)."""
        return self._service_account_role(
            "lb-controller",
            LOAD_BALANCER_CONTROLLER_NAMESPACE,
            LOAD_BALANCER_CONTROLLER_ACCOUNT,
            policy_json=self._partition.apply(
                lambda partition: json.dumps(
                    iam_policies.load_balancer_controller(partition), separators=(",", ":")
                )
            ),
        ).role
